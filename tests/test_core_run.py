"""``curate run``/``check``/``stages`` end to end: output layout, ledger, accounting, errors."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from curate.cli import main
from curate.ledger import read_ledger

DOCS = [f"Document number {i}: " + "some words " * (i % 7) for i in range(300)]


def invoke(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    lines = [json.dumps({"text": t, "source": "test"}) for t in DOCS]
    lines.insert(10, "{not json")
    path.write_text("\n".join(lines) + "\n")
    return path


def _recipe(tmp_path: Path, corpus: Path, *, stages: str, extra: str = "") -> Path:
    path = tmp_path / "r.yaml"
    path.write_text(
        f"name: test-run\ninput: {{path: {corpus}, on_error: skip}}\n"
        f"stages:\n{stages}\noutput: {{path: {tmp_path / 'out'}, shard_rows: 64}}\n{extra}"
    )
    return path


STAGES = """  - use: normalize
  - use: filter
    with: {where: "length(text) > 40"}
"""


def test_run_writes_the_contract_layout_and_accounts_for_every_row(
    tmp_path: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = invoke(["run", str(_recipe(tmp_path, corpus, stages=STAGES))], capsys)
    assert code == 0, err
    assert "301 documents in" in out
    run = tmp_path / "out"
    report = json.loads((run / "curate" / "run.json").read_text())
    assert report["rows_in"] == 301
    for st in report["stages"]:
        assert st["rows_in"] == st["rows_out"] + st["removed"]
        assert set(st) >= {
            "use",
            "params",
            "rows_in",
            "rows_out",
            "removed",
            "removed_by_reason",
            "seconds",
        }
    assert report["recipe"]["stages"][1]["with"]["where"] == "length(text) > 40"
    assert {"curate", "python", "pyarrow", "polars"} <= set(report["versions"])
    assert report["input"]["fingerprint"]
    kept = pl.read_parquet(run / "data" / "*.parquet")
    ledger = read_ledger(run)
    ids = kept["id"].to_list() + ledger["id"].to_list()
    assert len(ids) == len(set(ids)) == 301
    assert ledger.filter(pl.col("stage") == "read")["reason"].to_list() == ["unreadable"]
    assert set(ledger.filter(pl.col("stage") == "filter")["reason"]) == {"filtered"}
    assert kept["source"].unique().to_list() == ["test"]
    assert (run / "README.md").exists()
    assert not (run / ".curate-work").exists()
    assert not list(run.rglob("*.tmp-*"))
    names = sorted(p.name for p in (run / "data").iterdir())
    assert names[0].startswith("train-00000-of-") and names[-1].endswith(".parquet")


def test_output_loads_with_datasets(
    tmp_path: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import datasets

    assert invoke(["run", str(_recipe(tmp_path, corpus, stages=STAGES))], capsys)[0] == 0
    loaded = datasets.load_dataset(str(tmp_path / "out"), split="train")
    report = json.loads((tmp_path / "out" / "curate" / "run.json").read_text())
    assert loaded.num_rows == report["rows_out"]
    assert set(loaded.column_names) == {"id", "text", "source"}


@pytest.mark.slow
def test_same_output_for_one_and_two_workers(
    tmp_path: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _recipe(tmp_path, corpus, stages=STAGES)
    results = []
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}"
        code, _, err = invoke(["run", str(recipe), "-o", str(out), "--workers", workers], capsys)
        assert code == 0, err
        kept = pl.read_parquet(out / "data" / "*.parquet")
        ledger = read_ledger(out).sort("id")
        results.append((kept, ledger))
    assert results[0][0].equals(results[1][0])
    assert results[0][1].equals(results[1][1])


def test_limit_and_overrides(
    tmp_path: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.jsonl"
    other.write_text("".join(json.dumps({"text": f"other text {i}"}) + "\n" for i in range(50)))
    recipe = _recipe(tmp_path, corpus, stages="  - use: normalize\n")
    out = tmp_path / "elsewhere"
    code, _, err = invoke(
        ["run", str(recipe), "-i", str(other), "-o", str(out), "--limit", "20"], capsys
    )
    assert code == 0, err
    report = json.loads((out / "curate" / "run.json").read_text())
    assert report["rows_in"] == report["rows_out"] == 20
    assert report["input"]["paths"] == [str(other)]


def test_empty_input_gives_an_empty_typed_dataset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    code, _, err = invoke(["run", str(_recipe(tmp_path, empty, stages=STAGES))], capsys)
    assert code == 0, err
    files = list((tmp_path / "out" / "data").glob("*.parquet"))
    assert len(files) == 1
    table = pq.read_table(files[0])
    assert table.num_rows == 0 and table.schema.field("text").type == "string"


def test_rerun_replaces_the_previous_output(
    tmp_path: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _recipe(tmp_path, corpus, stages=STAGES)
    assert invoke(["run", str(recipe)], capsys)[0] == 0
    assert invoke(["run", str(recipe), "--limit", "5"], capsys)[0] == 0
    assert pl.read_parquet(tmp_path / "out" / "data" / "*.parquet").height <= 5


def test_bad_input_is_exit_2_with_a_message_and_no_traceback(
    tmp_path: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"name: t\ninput: {{path: {corpus}}}\noutput: {{path: {tmp_path}/o}}\n")
    code, _, err = invoke(["run", str(recipe)], capsys)
    assert code == 2
    assert f"error: {corpus}:line 11: malformed JSON" in err
    assert "on_error: skip" in err and "Traceback" not in err


def test_unknown_stage_is_exit_2(
    tmp_path: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = _recipe(tmp_path, corpus, stages="  - use: dedupe.exact\n")
    code, _, err = invoke(["check", str(recipe)], capsys)
    assert code == 2 and "stages[0].use: unknown stage 'dedupe.exact'" in err
    assert "hint: did you mean" in err


def test_check_prints_the_plan_and_catches_missing_columns(
    tmp_path: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = invoke(["check", str(_recipe(tmp_path, corpus, stages=STAGES))], capsys)
    assert code == 0
    assert "1. filter [map, removes rows]" in out and "reads:  text" in out
    bad = _recipe(tmp_path, corpus, stages="  - use: filter\n    with: {where: \"lang = 'en'\"}\n")
    code, _, err = invoke(["check", str(bad)], capsys)
    assert code == 2
    assert "stages[0] (filter): stage 'filter' reads column 'lang', which nothing produces" in err
    code, out, _ = invoke(
        ["check", "--json", str(_recipe(tmp_path, corpus, stages=STAGES))], capsys
    )
    assert json.loads(out)["stages"][0]["writes"] == ["text"]


def test_check_uses_input_columns(
    tmp_path: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ok = _recipe(tmp_path, corpus, stages="  - use: filter\n    with: {where: \"source = 'x'\"}\n")
    assert invoke(["check", str(ok)], capsys)[0] == 0


def test_stages_lists_and_describes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = invoke(["stages"], capsys)
    assert code == 0 and "normalize" in out and "filter" in out
    code, out, _ = invoke(["stages", "filter"], capsys)
    assert code == 0 and "where (str, required)" in out
    code, _, err = invoke(["stages", "filtre"], capsys)
    assert code == 2 and "did you mean 'filter'" in err
