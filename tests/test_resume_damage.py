"""Resuming from damaged progress, a full disk, duplicate ids: clear errors, nothing lost."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curate.cli import main
from curate.errors import CheckFailed, DataError
from curate.executor import run_recipe
from curate.executor.finalize import check_accounting
from curate.executor.report import IdTally
from curate.io.writer import ShardWriter
from curate.recipe import Recipe, load_recipe


def invoke(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def _setup(folder: Path) -> tuple[Path, Recipe, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    corpus = folder / "in.jsonl"
    corpus.write_text(
        "".join(
            json.dumps({"text": f"document number {i} " * (1 + i % 3)}) + "\n" for i in range(60)
        )
    )
    recipe = folder / "recipe.yaml"
    recipe.write_text(
        f"name: damage\ninput: {{path: {corpus}}}\n"
        'stages:\n  - use: normalize\n  - use: filter\n    with: {where: "length(text) > 40"}\n'
        f"output: {{path: {folder / 'out'}, shard_rows: 10}}\n"
    )
    return recipe, load_recipe(recipe), folder / "out"


def _snapshot(out: Path) -> dict[str, object]:
    return {
        p.relative_to(out).as_posix(): pq.read_table(p).to_pylist()
        for p in sorted([*(out / "data").glob("*"), *(out / "curate" / "removed").glob("*")])
    }


def _interrupted(folder: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Recipe, Path]:
    """A run stopped before its final move: every shard done and recorded."""
    recipe_path, recipe, out = _setup(folder)

    def stop(*args: object, **kw: object) -> None:
        raise DataError("stopped before the final move")

    with monkeypatch.context() as m:
        m.setattr("curate.executor.run.finalize", stop)
        with pytest.raises(DataError):
            run_recipe(recipe)
    assert len(list((out / ".curate-work" / "progress").glob("shard-*.json"))) == 6
    return recipe_path, recipe, out


def _reference(folder: Path) -> dict[str, object]:
    _, recipe, out = _setup(folder)
    run_recipe(recipe)
    return _snapshot(out)


def _shard_file(out: Path) -> Path:
    record = json.loads((out / ".curate-work/progress/shard-seg0-00002.json").read_text())
    return out / ".curate-work" / record["data"]["files"][0]


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("state-garbage", "state.json is damaged (Expecting"),
        ("state-shape", "state.json is damaged (not a run state curate wrote)"),
        ("marker-garbage", "shard-seg0-00001.json is damaged (Expecting"),
        ("marker-shape", "shard-seg0-00001.json is damaged (unexpected fields)"),
        ("shard-deleted", "is missing (progress record segment-seg0 needs it)"),
        ("shard-corrupted", "changed since progress record segment-seg0 was written"),
    ],
)
def test_damaged_progress_is_named_and_force_starts_over(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    damage: str,
    expected: str,
) -> None:
    recipe_path, _, out = _interrupted(tmp_path / "run", monkeypatch)
    work = out / ".curate-work"
    marker = work / "progress" / "shard-seg0-00001.json"
    if damage == "state-garbage":
        (work / "state.json").write_text('{"key": {"recipe"')
    elif damage == "state-shape":
        (work / "state.json").write_text('{"key": 3}')
    elif damage == "marker-garbage":
        marker.write_bytes(b"\x00\x01")
    elif damage == "marker-shape":
        marker.write_text(json.dumps({"data": {"files": 7, "rows": "x"}, "files": {}}))
    elif damage == "shard-deleted":
        _shard_file(out).unlink()
    else:
        shard = _shard_file(out)
        raw = bytearray(shard.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        shard.write_bytes(bytes(raw))
    code, _, err = invoke(["run", str(recipe_path), "--resume"], capsys)
    assert code == 2, err
    assert f"error: cannot resume {out}: " in err and expected in err
    assert "hint: pass --resume --force to start the run over" in err
    assert "Traceback" not in err
    assert work.exists()
    code, _, err = invoke(["run", str(recipe_path), "--resume", "--force"], capsys)
    assert code == 0, err
    assert _snapshot(out) == _reference(tmp_path / "ref")


def test_undamaged_progress_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, recipe, out = _interrupted(tmp_path / "run", monkeypatch)
    report = run_recipe(recipe, resume=True)
    assert report["rows_in"] == 60
    assert _snapshot(out) == _reference(tmp_path / "ref")


def test_disk_full_names_the_folder_and_the_run_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, recipe, out = _setup(tmp_path)
    real_write = pq.ParquetWriter.write_batch
    calls = {"n": 0}

    def fill_up(self: pq.ParquetWriter, batch: pa.RecordBatch, *a: object, **kw: object) -> None:
        calls["n"] += 1
        if calls["n"] == 4:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(self, batch, *a, **kw)

    with monkeypatch.context() as m:
        m.setattr(pq.ParquetWriter, "write_batch", fill_up)
        with pytest.raises(DataError) as err:
            run_recipe(recipe)
    assert (
        err.value.message == f"no space left on the device holding {out / '.curate-work' / 'seg0'}"
    )
    assert "free some space" in (err.value.hint or "")
    assert f"the finished work is kept in {out / '.curate-work'}" in (err.value.hint or "")
    assert not list((out / ".curate-work").rglob(".*.tmp-*"))
    report = run_recipe(recipe, resume=True)
    assert report["rows_in"] == 60
    assert _snapshot(out) == _reference(tmp_path / "ref")


def test_disk_full_reported_by_arrow_without_errno(tmp_path: Path) -> None:
    """Arrow words ENOSPC in its message; the writer turns it into an errno and a path."""
    writer = ShardWriter(tmp_path / "s", pa.schema([("id", pa.string())]), max_rows=5, max_bytes=99)

    class Full:
        def write_batch(self, batch: object) -> None:
            raise OSError("IOError: No space left on device. Detail: [errno 28]")

        def close(self) -> None:
            pass

    writer._open()
    writer._writer = Full()  # type: ignore[assignment]
    with pytest.raises(OSError) as err:
        writer.write(pa.record_batch([pa.array(["a"])], names=["id"]))
    assert err.value.errno == errno.ENOSPC
    assert err.value.filename == str(tmp_path / "s-000.parquet")
    assert not list(tmp_path.glob(".*"))


def _ids_file(path: Path, ids: list[str]) -> Path:
    pq.write_table(pa.table({"id": ids, "text": ids}), path)
    return path


def test_accounting_counts_distinct_ids(tmp_path: Path) -> None:
    """60 kept rows with 30 distinct ids (the same file read twice) fail loudly."""
    ids = [f"in.jsonl:{i}" for i in range(30)]
    tally = IdTally()
    tally.add(pa.array(ids + ids))
    data = [_ids_file(tmp_path / "a.parquet", ids), _ids_file(tmp_path / "b.parquet", ids)]
    with pytest.raises(CheckFailed) as err:
        check_accounting(tally, data, [])
    assert err.value.message == (
        "accounting check failed: 60 rows kept or in the ledger, but 30 ids appear more than "
        "once (first: 'in.jsonl:0')"
    )
    assert "a file listed twice" in (err.value.hint or "")
    one = IdTally()
    one.add(pa.array(ids))
    check_accounting(one, data[:1], [])


def test_the_final_move_never_deletes_new_files_when_resumed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rerun stopped after its final move, with only some of its records left (as while its
    working folder is being deleted), then resumed: the previous run's files that share a name
    with new ones are replaced, never removed, so the output stays whole."""
    _, recipe, out = _setup(tmp_path)
    run_recipe(recipe)
    first = _snapshot(out)

    def stop_at(name: str) -> None:
        if name == "after-card":
            raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr("curate.executor.run.crash_point", stop_at)
        with pytest.raises(KeyboardInterrupt):
            run_recipe(recipe)
    progress = out / ".curate-work" / "progress"
    assert json.loads((progress / "finalize.json").read_text())["data"]["stale"] == []
    for record in progress.glob("*.json"):
        if record.name != "finalize.json":
            record.unlink()
    run_recipe(recipe, resume=True)
    assert _snapshot(out) == first


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ids=st.lists(st.text(alphabet="ab:0123", min_size=1, max_size=4), min_size=1, max_size=60),
    cut=st.integers(min_value=0, max_value=60),
)
def test_accounting_fails_exactly_when_an_id_repeats(
    tmp_path: Path, ids: list[str], cut: int
) -> None:
    """Independent count: a Python set of the ids, over ids split across data and ledger."""
    tally = IdTally()
    tally.add(pa.array(ids))
    cut = min(cut, len(ids))
    data = [_ids_file(tmp_path / "data.parquet", ids[:cut])]
    removed = [_ids_file(tmp_path / "ledger.parquet", ids[cut:])]
    if len(set(ids)) == len(ids):
        check_accounting(tally, data, removed)
        return
    with pytest.raises(CheckFailed) as err:
        check_accounting(tally, data, removed)
    repeated = {i for i in ids if ids.count(i) > 1}
    first = next(i for i in ids if i in repeated)
    assert f"but {len(repeated)} ids appear more than once (first: {first!r})" in err.value.message


def test_disk_full_is_exit_2_with_two_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe_path, _, out = _setup(tmp_path)

    def full(self: pq.ParquetWriter, batch: pa.RecordBatch, *a: object, **kw: object) -> None:
        raise OSError("IOError: Disk quota exceeded")

    monkeypatch.setattr(pq.ParquetWriter, "write_batch", full)
    code, _, err = invoke(["run", str(recipe_path), "--quiet"], capsys)
    assert code == 2
    assert err.splitlines() == [
        f"error: disk quota exceeded on the device holding {out / '.curate-work' / 'seg0'}",
        f"  hint: free some space; nothing was finished, so {out / '.curate-work'} was removed",
    ]
    assert not out.exists()
