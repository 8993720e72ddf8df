"""``curate run`` never deletes or overwrites a file it did not write (issue 12, data loss)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.cli import main
from curate.errors import CurateError, DataError
from curate.executor import run_recipe
from curate.recipe import parse_recipe


def invoke(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def _jsonl(path: Path, n: int = 20) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps({"text": f"document {i} " * 3}) + "\n" for i in range(n)))
    return path


def _recipe(folder: Path, inp: Path | str, out: Path | str) -> Path:
    path = folder / "recipe.yaml"
    path.write_text(
        f"name: safety\ninput: {{path: {inp}}}\n"
        'stages:\n  - use: filter\n    with: {where: "length(text) > 35"}\n'
        f"output: {{path: {out}, shard_rows: 8}}\n"
    )
    return path


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_output_equal_to_the_input_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Case A -> A: the input A/data/part-0.jsonl used to be deleted."""
    a = tmp_path / "A"
    _jsonl(a / "data" / "part-0.jsonl")
    before = _tree(a)
    code, _, err = invoke(["run", str(_recipe(tmp_path, a, a))], capsys)
    assert code == 2
    assert f"error: output folder {a} is the input {a}" in err
    assert "hint: choose an output folder outside every input" in err
    assert _tree(a) == before


def test_output_containing_an_input_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Case B/data/raw.jsonl -> B, given as the file, and given through a symlinked folder."""
    b = tmp_path / "B"
    raw = _jsonl(b / "data" / "raw.jsonl")
    before = _tree(b)
    code, _, err = invoke(["run", str(_recipe(tmp_path, raw, b))], capsys)
    assert code == 2 and f"error: output folder {b} contains the input {raw}" in err
    link = tmp_path / "link"
    link.symlink_to(b)
    code, _, err = invoke(["run", str(_recipe(tmp_path, raw, link))], capsys)
    assert code == 2 and f"output folder {link} contains the input {raw}" in err
    assert _tree(b) == before


def test_output_inside_an_input_folder_is_refused(tmp_path: Path) -> None:
    a = tmp_path / "A"
    _jsonl(a / "x.jsonl")
    with pytest.raises(DataError, match="lies inside the input"):
        run_recipe(parse_recipe_file(_recipe(tmp_path, a, a / "curated")))
    assert not (a / "curated").exists()


def parse_recipe_file(path: Path) -> object:
    from curate.recipe import load_recipe

    return load_recipe(path)


def test_non_curate_folder_is_refused_and_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Case -o C with C/data/thesis.tex and C/README.md: refused, both untouched."""
    c = tmp_path / "C"
    (c / "data").mkdir(parents=True)
    (c / "data" / "thesis.tex").write_text("\\chapter{One}")
    (c / "README.md").write_text("my notes")
    before = _tree(c)
    recipe = _recipe(tmp_path, _jsonl(tmp_path / "in.jsonl"), tmp_path / "unused")
    code, _, err = invoke(["run", str(recipe), "-o", str(c)], capsys)
    assert code == 2
    assert f"error: output folder {c}: not empty and not a curate output" in err
    assert "it holds README.md, data" in err and "--overwrite" in err
    assert _tree(c) == before

    code, _, err = invoke(["run", str(recipe), "-o", str(c), "--overwrite"], capsys)
    assert code == 0, err
    assert (c / "data" / "thesis.tex").read_text() == "\\chapter{One}"
    assert (c / "curate" / "run.json").is_file()
    assert sorted(p.name for p in (c / "data").iterdir()) == [
        "thesis.tex",
        "train-00000-of-00002.parquet",
        "train-00001-of-00002.parquet",
    ]


def test_rerun_removes_only_what_the_previous_run_wrote(tmp_path: Path) -> None:
    corpus = _jsonl(tmp_path / "in.jsonl", n=40)
    out = tmp_path / "out"
    recipe = parse_recipe_file(_recipe(tmp_path, corpus, out))
    first = run_recipe(recipe)  # type: ignore[arg-type]
    assert len(first["output"]["data"]) == 4
    (out / "data" / "notes.md").write_text("mine")
    (out / "curate" / "removed" / "keep.txt").write_text("mine too")
    _jsonl(corpus, n=12)
    second = run_recipe(recipe)  # type: ignore[arg-type]
    assert sorted(p.name for p in (out / "data").iterdir()) == sorted(
        [*second["output"]["data"], "notes.md"]
    )
    assert (out / "curate" / "removed" / "keep.txt").read_text() == "mine too"
    assert (
        sum(pq.read_metadata(out / "data" / n).num_rows for n in second["output"]["data"])
        == (second["rows_out"])
    )


def test_a_parquet_file_curate_did_not_write_is_never_mixed_in(tmp_path: Path) -> None:
    corpus = _jsonl(tmp_path / "in.jsonl")
    out = tmp_path / "out"
    recipe = parse_recipe_file(_recipe(tmp_path, corpus, out))
    run_recipe(recipe)  # type: ignore[arg-type]
    pq.write_table(pa.table({"id": ["x"], "text": ["foreign"]}), out / "data" / "extra.parquet")
    with pytest.raises(DataError, match=r"data/extra\.parquet was not written by curate"):
        run_recipe(recipe, overwrite=True)  # type: ignore[arg-type]
    assert (out / "data" / "extra.parquet").exists()


def test_interrupted_run_folder_counts_as_a_curate_output(tmp_path: Path) -> None:
    corpus = _jsonl(tmp_path / "in.jsonl")
    out = tmp_path / "out"
    (out / ".curate-work").mkdir(parents=True)
    (out / ".curate-work" / "state.json").write_text("{}")
    report = run_recipe(parse_recipe_file(_recipe(tmp_path, corpus, out)))  # type: ignore[arg-type]
    assert report["rows_in"] == 20


def test_failed_run_removes_a_work_folder_resume_could_not_use(tmp_path: Path) -> None:
    """A stage failing before any unit finished leaves nothing behind, and says so."""
    corpus = _jsonl(tmp_path / "in.jsonl")
    out = tmp_path / "out"
    recipe = parse_recipe(
        {
            "name": "fails",
            "input": {"path": str(corpus)},
            "stages": [{"use": "score.identity", "with": {"lexicons": ["xx-nonexistent"]}}],
            "output": {"path": str(out)},
        }
    )
    with pytest.raises(CurateError) as err:
        run_recipe(recipe)
    assert "unknown lexicon" in err.value.message
    assert f"nothing was finished, so {out / '.curate-work'} was removed" in (err.value.hint or "")
    assert not out.exists()


def test_failed_run_keeps_finished_work_for_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from curate.executor import finalize

    corpus = _jsonl(tmp_path / "in.jsonl")
    out = tmp_path / "out"
    recipe = parse_recipe_file(_recipe(tmp_path, corpus, out))

    def broken(*args: object, **kw: object) -> None:
        raise DataError("simulated failure in the final move")

    monkeypatch.setattr("curate.executor.run.finalize", broken)
    with pytest.raises(DataError) as err:
        run_recipe(recipe)  # type: ignore[arg-type]
    assert f"the finished work is kept in {out / '.curate-work'}" in (err.value.hint or "")
    assert "--resume" in (err.value.hint or "")
    assert any((out / ".curate-work" / "progress").glob("shard-*.json"))
    monkeypatch.setattr("curate.executor.run.finalize", finalize.finalize)
    report = run_recipe(recipe, resume=True)  # type: ignore[arg-type]
    assert report["rows_in"] == 20 and not (out / ".curate-work").exists()


def test_limit_run_is_marked_partial(tmp_path: Path) -> None:
    corpus = _jsonl(tmp_path / "in.jsonl")
    recipe = parse_recipe_file(_recipe(tmp_path, corpus, tmp_path / "out"))
    report = run_recipe(recipe, limit=5)  # type: ignore[arg-type]
    saved = json.loads((tmp_path / "out" / "curate" / "run.json").read_text())
    assert saved["partial"] is True and saved["limit"] == 5 and saved["rows_in"] == 5
    assert report["partial"] is True
    assert run_recipe(recipe)["partial"] is False  # type: ignore[arg-type]


def test_outputs_are_created_with_the_process_umask(tmp_path: Path) -> None:
    """Not 0600 as tempfile.mkstemp makes them: every file of the output folder (run.json,
    data shards, ledger files, the card and croissant.json)."""
    corpus = _jsonl(tmp_path / "in.jsonl")
    out = tmp_path / "out"
    old = os.umask(0o022)
    try:
        run_recipe(parse_recipe_file(_recipe(tmp_path, corpus, out)))  # type: ignore[arg-type]
    finally:
        os.umask(old)
    files = [p for p in out.rglob("*") if p.is_file()]
    names = {p.relative_to(out).as_posix() for p in files}
    assert {"curate/run.json", "README.md", "croissant.json"} <= names
    assert len([n for n in names if n.startswith(("data/", "curate/removed/"))]) == 4
    assert {p.relative_to(out).as_posix(): oct(p.stat().st_mode & 0o777) for p in files} == {
        n: "0o644" for n in names
    }


def test_scale_doc_snippet_with_workers_runs_as_a_script(tmp_path: Path) -> None:
    """docs/scale.md's ``run_recipe(..., workers=2)`` example, run as a file (spawned workers
    import it again, so it needs its ``__main__`` guard)."""
    import re
    import subprocess
    import sys

    doc = (Path(__file__).resolve().parent.parent / "docs" / "scale.md").read_text()
    snippet = next(b for b in re.findall(r"```python\n(.*?)```", doc, re.S) if "workers=2" in b)
    recipe = _recipe(tmp_path, _jsonl(tmp_path / "in.jsonl"), tmp_path / "unused")
    script = tmp_path / "run_it.py"
    script.write_text(snippet.replace('"recipes/quickstart.yaml"', repr(str(recipe))))
    proc = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "out" / "quickstart" / "curate" / "run.json").read_text())
    assert report["rows_in"] == 20


def test_cli_says_a_limit_run_is_partial(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _recipe(tmp_path, _jsonl(tmp_path / "in.jsonl"), tmp_path / "out")
    code, out, err = invoke(["run", str(recipe), "--limit", "5", "--quiet"], capsys)
    assert code == 0, err
    assert "note: a partial run (the first 5 documents, --limit)" in out
    code, out, _ = invoke(["run", str(recipe), "--quiet"], capsys)
    assert code == 0 and "partial" not in out


def test_a_stage_writing_over_an_input_column_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """The input's own ``quality_word_count`` would be replaced by score.quality's."""
    corpus = tmp_path / "in.jsonl"
    corpus.write_text(
        "".join(json.dumps({"text": f"doc {i}", "quality_word_count": 99}) + "\n" for i in range(5))
    )
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        f"name: cols\ninput: {{path: {corpus}}}\nstages:\n  - use: normalize\n"
        f"  - use: score.quality\noutput: {{path: {tmp_path / 'out'}}}\n"
    )
    warning = (
        "warning: stages[1] (score.quality) writes 'quality_word_count', which the input "
        "already has: the input's values are replaced"
    )
    code, out, _ = invoke(["check", str(recipe)], capsys)
    assert code == 0
    assert "quality_word_count (replaces the input's)" in out
    assert warning in caplog.text
    caplog.clear()
    code, out, _ = invoke(["check", str(recipe), "--json"], capsys)
    plan = json.loads(out)["stages"]
    assert [st.get("overwrites") for st in plan] == [None, ["quality_word_count"]]
    caplog.clear()
    assert invoke(["run", str(recipe), "--quiet"], capsys)[0] == 0
    assert caplog.text.count(warning) == 1
    kept = pq.read_table(tmp_path / "out" / "data").column("quality_word_count").to_pylist()
    assert kept == [2] * 5
