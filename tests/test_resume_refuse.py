"""Resuming checks that the run is the same run: recipe, curate version, limit and input."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from curate.errors import RecipeError
from curate.executor import run_recipe
from curate.executor.state import RunState, describe_changes, run_key
from curate.io.sources import resolve
from curate.recipe import load_recipe


def _corpus(folder: Path) -> Path:
    path = folder / "in.jsonl"
    path.write_text("".join(json.dumps({"text": f"document number {i}"}) + "\n" for i in range(50)))
    return path


def _recipe(folder: Path, corpus: Path, where: str = "length(text) > 17") -> Path:
    path = folder / "recipe.yaml"
    path.write_text(
        f"""name: refuse-test
input: {{path: {corpus}}}
stages:
  - use: filter
    with: {{where: "{where}"}}
output: {{path: {folder / "out"}, shard_rows: 10}}
"""
    )
    return path


def _interrupted(folder: Path, recipe: Path) -> Path:
    """An output folder as a run killed after its first shard leaves it."""
    out = folder / "out"
    parsed = load_recipe(recipe)
    key = run_key(parsed.resolved(), resolve(parsed.input.path).sources, None)
    state = RunState.open(out / ".curate-work", key, resume=False, force=False)
    state.mark("shard-seg0-00000", {"files": []})
    return out


def test_changed_recipe_refuses_with_what_changed(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path)
    out = _interrupted(tmp_path, _recipe(tmp_path, corpus))
    changed = load_recipe(_recipe(tmp_path, corpus, where="length(text) > 5"))
    with pytest.raises(RecipeError) as err:
        run_recipe(changed, output=out, resume=True)
    assert "recipe.stages[0].with.where: 'length(text) > 17' -> 'length(text) > 5'" in str(
        err.value
    )
    assert "--force" in (err.value.hint or "")
    report = run_recipe(changed, output=out, resume=True, force=True)
    assert report["rows_out"] == 50
    assert not (out / ".curate-work").exists()


def test_changed_input_refuses_naming_the_file(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path)
    recipe = _recipe(tmp_path, corpus)
    out = _interrupted(tmp_path, recipe)
    # Same size and content, new modification time: treated as a different input.
    stat = corpus.stat()
    os.utime(corpus, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    with pytest.raises(RecipeError, match="modified since the interrupted run"):
        run_recipe(load_recipe(recipe), output=out, resume=True)
    with corpus.open("a") as f:
        f.write(json.dumps({"text": "one more"}) + "\n")
    with pytest.raises(RecipeError, match=f"input file {corpus}: size"):
        run_recipe(load_recipe(recipe), output=out, resume=True)


def test_limit_is_part_of_the_run(tmp_path: Path) -> None:
    recipe = _recipe(tmp_path, _corpus(tmp_path))
    out = _interrupted(tmp_path, recipe)
    with pytest.raises(RecipeError, match="limit: None -> 20"):
        run_recipe(load_recipe(recipe), output=out, resume=True, limit=20)


def test_without_resume_an_interrupted_run_is_discarded(tmp_path: Path) -> None:
    recipe = _recipe(tmp_path, _corpus(tmp_path))
    out = _interrupted(tmp_path, recipe)
    report = run_recipe(load_recipe(recipe), output=out)
    assert report["rows_in"] == 50 and report["rows_out"] == 50 - 10


def test_resume_with_nothing_to_resume_runs(tmp_path: Path) -> None:
    recipe = _recipe(tmp_path, _corpus(tmp_path))
    first = run_recipe(load_recipe(recipe), output=tmp_path / "out", resume=True)
    again = run_recipe(load_recipe(recipe), output=tmp_path / "out", resume=True)
    assert first["rows_out"] == again["rows_out"] == 40
    assert first["created"] <= again["created"]


def test_describe_changes_lists_files() -> None:
    old = {"recipe": {}, "input": [{"path": "a", "bytes": 1}, {"path": "b", "bytes": 2}]}
    new = {"recipe": {}, "input": [{"path": "b", "bytes": 2}, {"path": "c", "bytes": 3}]}
    assert describe_changes(old, new) == [
        "input file a: no longer part of the input",
        "input file c: new",
    ]
    swapped = {"recipe": {}, "input": list(reversed(old["input"]))}
    assert describe_changes(old, swapped) == ["input files: same files in another order"]


def test_crash_point_kills_only_on_the_named_hit(monkeypatch: pytest.MonkeyPatch) -> None:
    from curate.executor import state

    killed: list[int] = []
    monkeypatch.setattr(state.os, "kill", lambda pid, sig: killed.append(sig))
    monkeypatch.setenv(state.KILL_ENV, "test-point:2")
    state.crash_point("other")
    state.crash_point("test-point")
    assert killed == []
    state.crash_point("test-point")
    assert killed == [signal.SIGKILL]
