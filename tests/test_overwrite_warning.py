"""``with: {overwrite: true}``, accepted by every stage, silences the warning that a stage writes
a column the input already has, in ``curate check`` and ``curate run`` (stderr as a user sees it).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from cli_process import run_cli

WARNING = "writes 'quality_word_count', which the input already has"


def _recipe(tmp_path: Path, quality_with: str) -> Path:
    corpus = tmp_path / "in.jsonl"
    corpus.write_text(
        "".join(
            json.dumps({"text": f"doc number {i}", "quality_word_count": 99}) + "\n"
            for i in range(4)
        )
    )
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        f"name: cols\ninput: {{path: {corpus}}}\nstages:\n"
        f"  - use: score.quality{quality_with}\n"
        '  - use: filter\n    with: {where: "quality_word_count > 0", overwrite: true}\n'
        f"output: {{path: {tmp_path / 'out'}}}\n"
    )
    return recipe


def test_the_warning_is_given_without_overwrite(tmp_path: Path) -> None:
    recipe = _recipe(tmp_path, "")
    check = run_cli("check", str(recipe))
    assert check.returncode == 0, check.stderr
    assert f"warning: stages[0] (score.quality) {WARNING}" in check.stderr
    assert "set `with: {overwrite: true}` on the stage" in check.stderr
    run = run_cli("run", str(recipe), "--quiet")
    assert run.returncode == 0, run.stderr
    assert run.stderr.count(WARNING) == 1


def test_overwrite_true_silences_it_in_check_and_run(tmp_path: Path) -> None:
    recipe = _recipe(tmp_path, "\n    with: {overwrite: true}")
    check = run_cli("check", str(recipe))
    assert check.returncode == 0, check.stderr
    assert WARNING not in check.stderr and "warning" not in check.stderr
    # The plan still says what is replaced: that is a fact, not a warning.
    assert "quality_word_count (replaces the input's)" in check.stdout
    run = run_cli("run", str(recipe), "--quiet")
    assert run.returncode == 0, run.stderr
    assert WARNING not in run.stderr
    out = tmp_path / "out"
    assert pq.read_table(out / "data").column("quality_word_count").to_pylist() == [3] * 4
    stages = json.loads((out / "curate" / "run.json").read_text())["recipe"]["stages"]
    assert [s["with"].get("overwrite") for s in stages] == [True, True]


@pytest.mark.parametrize("value", ['"yes"', "1", "[true]"])
def test_overwrite_must_be_a_boolean(tmp_path: Path, value: str) -> None:
    recipe = _recipe(tmp_path, f"\n    with: {{overwrite: {value}}}")
    check = run_cli("check", str(recipe))
    assert check.returncode == 2
    assert "stages[0].overwrite" in check.stderr and "boolean" in check.stderr


def test_other_parameters_still_reach_the_stage(tmp_path: Path) -> None:
    """``overwrite`` is taken out of ``with`` before the stage's own parameters are checked."""
    recipe = _recipe(tmp_path, "\n    with: {overwrite: false, no_such_parameter: 1}")
    check = run_cli("check", str(recipe))
    assert check.returncode == 2
    assert "stages[0].with.no_such_parameter: unknown field" in check.stderr
