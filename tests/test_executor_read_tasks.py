"""Workers read their own input: Parquet row ranges planned on the driver, read in the workers.

The driver's stream reader (:mod:`curate.io.reader`) is the reference: reading by tasks must
keep and remove exactly the same rows, with the same ids, reasons and details.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_resume_kill import WORDS

from curate import schema
from curate.errors import DataError
from curate.executor import engine, read_tasks, run_recipe
from curate.executor.local import own_rows
from curate.executor.read_tasks import find_duplicates, plan_row_ranges
from curate.executor.worker import ShardTask
from curate.io.reader import InputReader
from curate.io.sources import Source
from curate.recipe import parse_recipe


def _texts(n: int, seed: int = 0) -> list[str | None]:
    out: list[str | None] = []
    for i in range(n):
        k = (i * 7 + seed) % len(WORDS)
        out.append(None if i % 17 == 3 else " ".join(WORDS[k : k + 1 + i % 9] * (1 + i % 5)))
    return out


def _inputs(folder: Path) -> Path:
    """Two Parquet files: small row groups with null texts and repeated keys; one big group."""
    folder.mkdir()
    n = 1200
    pq.write_table(
        pa.table(
            {
                "text": _texts(n),
                "key": [f"k{i % 1100}" for i in range(n)],
                "src": [i % 3 for i in range(n)],
            }
        ),
        folder / "a.parquet",
        row_group_size=70,
    )
    pq.write_table(
        pa.table({"text": _texts(900, 5), "key": [f"b{i}" for i in range(900)], "src": [1] * 900}),
        folder / "b.parquet",
        row_group_size=900,
    )
    return folder


def _recipe(inp: Path, out: Path, **input_kw: Any) -> Any:
    return parse_recipe(
        {
            "name": "tasks",
            "input": {"path": str(inp), **input_kw},
            "stages": [
                {"use": "normalize"},
                {"use": "filter", "with": {"where": "length(text) > 40"}},
            ],
            "output": {"path": str(out), "shard_rows": 100},
        }
    )


def _rows(out: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    kept = pl.concat([pl.read_parquet(p) for p in sorted((out / "data").glob("*.parquet"))])
    removed = pl.concat(
        [pl.read_parquet(p) for p in sorted((out / "curate" / "removed").glob("*.parquet"))],
        how="diagonal",
    )
    return kept.sort("id").to_dicts(), removed.sort("id").to_dicts()


def _files(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted([*(out / "data").glob("*"), *(out / "curate" / "removed").glob("*")])
    }


@pytest.mark.parametrize(
    "input_kw",
    [
        {"on_error": "skip"},
        {"on_error": "skip", "id_column": "key"},
        {"on_error": "skip", "columns": ["src"]},
    ],
    ids=["generated-ids", "id-column", "columns"],
)
def test_tasks_keep_and_remove_what_the_stream_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, input_kw: dict[str, Any]
) -> None:
    inp = _inputs(tmp_path / "in")
    tasks = run_recipe(_recipe(inp, tmp_path / "tasks", **input_kw))
    with monkeypatch.context() as m:
        m.setattr(engine, "plan_reads", lambda *_a, **_k: None)
        stream = run_recipe(_recipe(inp, tmp_path / "stream", **input_kw))
    assert _rows(tmp_path / "tasks") == _rows(tmp_path / "stream")
    for key in ("rows_in", "rows_out"):
        assert tasks[key] == stream[key]
    assert tasks["input"]["unreadable"] == stream["input"]["unreadable"] > 0
    reasons = {r[schema.LEDGER_REASON] for r in _rows(tmp_path / "tasks")[1]}
    assert "unreadable" in reasons
    if "id_column" in input_kw:
        assert "duplicate-id" in reasons
    # Several shards, cut from the input's row groups.
    assert len(list((tmp_path / "tasks" / "curate" / "removed").glob("*"))) > 5


def test_one_and_two_workers_write_identical_files(tmp_path: Path) -> None:
    inp = _inputs(tmp_path / "in")
    one = run_recipe(_recipe(inp, tmp_path / "one", on_error="skip", id_column="key"))
    two = run_recipe(_recipe(inp, tmp_path / "two", on_error="skip", id_column="key"), workers=2)
    assert _files(tmp_path / "one") == _files(tmp_path / "two")
    assert one["rows_out"] == two["rows_out"] > 0


def test_progress_counts_each_readable_row_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inp = _inputs(tmp_path / "in")
    counts = []
    for name, plan in (("tasks", engine.plan_reads), ("stream", lambda *_a, **_k: None)):
        monkeypatch.setattr(engine, "plan_reads", plan)
        seen: list[int] = []
        report = run_recipe(
            _recipe(inp, tmp_path / name, on_error="skip"),
            progress=lambda label, rows, seen=seen: seen.append(rows) if label == "read" else None,
        )
        assert sum(seen) == report["rows_in"] - report["input"]["unreadable"]
        counts.append(sum(seen))
    assert counts[0] == counts[1]


def test_limit_keeps_the_first_n_documents(tmp_path: Path) -> None:
    inp = _inputs(tmp_path / "in")
    report = run_recipe(_recipe(inp, tmp_path / "out", on_error="skip"), limit=1250)
    assert report["rows_in"] == 1250
    kept, removed = _rows(tmp_path / "out")
    ids = {r["id"] for r in kept} | {r["id"] for r in removed}
    # 1200 rows of a.parquet, then the first 50 of b.parquet; nothing after.
    assert ids == {f"a.parquet:{i}" for i in range(1200)} | {f"b.parquet:{i}" for i in range(50)}


def test_duplicate_id_error_names_file_and_row(tmp_path: Path) -> None:
    """Row 11,000 repeats row 0's id, past the first batch the driver reads for the schema."""
    folder = tmp_path / "in"
    folder.mkdir()
    texts = ["some words here"] * 12_000
    pq.write_table(
        pa.table({"text": texts, "id": [f"k{i % 11_000}" for i in range(12_000)]}),
        folder / "a.parquet",
        row_group_size=700,
    )
    with pytest.raises(DataError, match=r"a\.parquet: duplicate id 'k0' \(row 11000\)"):
        run_recipe(_recipe(folder, tmp_path / "out", id_column="id"))


@given(
    rows=st.lists(
        st.tuples(
            st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d", "e", "f"])),
            st.one_of(st.none(), st.sampled_from(["x", "xyz", "xyzxyz"])),
        ),
        min_size=1,
        max_size=60,
    ),
    target=st.integers(1, 25),
    max_chars=st.one_of(st.none(), st.integers(1, 6)),
)
def test_duplicate_ids_are_those_a_row_by_row_reading_finds(
    rows: list[tuple[str | None, str | None]],
    target: int,
    max_chars: int | None,
    tmp_path_factory: Any,
) -> None:
    """Against a plain loop: the first readable row of an id wins; null texts, null ids and
    too-long texts are never checked, even when they come first."""
    path = tmp_path_factory.mktemp("dups") / "a.parquet"
    ids, texts = zip(*rows)
    table = pa.table({"id": pa.array(ids, pa.string()), "text": pa.array(texts, pa.string())})
    pq.write_table(table, path, row_group_size=7)
    source = Source(str(path), "parquet", "a.parquet")
    reader = InputReader([source], id_column="id", on_error="skip", max_chars=max_chars)
    tasks = find_duplicates(plan_row_ranges([source], target=target), reader)
    seen: set[str] = set()
    want = []
    for row, (key, text) in enumerate(rows):
        if key is None or text is None or (max_chars is not None and len(text) > max_chars):
            continue
        if key in seen:
            want.append(row)
        seen.add(key)
    assert [d for t in tasks for d in t.duplicates] == want


def test_unique_ids_are_checked_without_reading_the_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The driver reads texts only where an id repeats: here one task of three."""
    path = tmp_path / "a.parquet"
    keys = [f"k{i}" for i in range(300)]
    keys[250] = "k210"
    pq.write_table(pa.table({"text": ["words"] * 300, "id": keys}), path, row_group_size=100)
    source = Source(str(path), "parquet", "a.parquet")
    read: list[tuple[int, tuple[str, ...]]] = []
    raw = read_tasks.raw_batches

    def spy(task: Any, columns: list[str] | None = None, **kw: Any) -> Any:
        read.append((task.first_row, tuple(columns or ())))
        return raw(task, columns, **kw)

    monkeypatch.setattr(read_tasks, "raw_batches", spy)
    reader = InputReader([source], id_column="id", on_error="skip")
    tasks = find_duplicates(plan_row_ranges([source], target=100), reader)
    assert [t.duplicates for t in tasks] == [(), (), (250,)]
    assert {first for first, cols in read if "text" in cols} == {200}


@given(
    sizes=st.lists(st.lists(st.integers(0, 400), min_size=1, max_size=6), min_size=1, max_size=3),
    target=st.integers(1, 150),
    limit=st.one_of(st.none(), st.integers(0, 3000)),
)
def test_row_ranges_cover_the_input_in_order(
    sizes: list[list[int]], target: int, limit: int | None, tmp_path_factory: Any
) -> None:
    folder = tmp_path_factory.mktemp("ranges")
    sources = []
    for k, groups in enumerate(sizes):
        path = folder / f"f{k}.parquet"
        with pq.ParquetWriter(path, pa.schema([("text", pa.string())])) as writer:
            for n in groups:
                writer.write_table(
                    pa.table({"text": pa.array(["x"] * n, pa.string())}),
                    row_group_size=max(n, 1),
                )
        sources.append(Source(str(path), "parquet", path.name))
    tasks = plan_row_ranges(sources, target=target, limit=limit)
    total = sum(sum(g) for g in sizes)
    want = total if limit is None else min(limit, total)
    assert sum(t.rows for t in tasks) == want
    for source in sources:
        mine = [t for t in tasks if t.source == source]
        pos = 0
        for t in mine:
            assert t.first_row == pos and t.rows > 0
            pos += t.rows
            assert t.rows <= 2 * target or len(t.row_groups) == 1


def test_shards_sized_from_the_input_use_every_worker(tmp_path: Path) -> None:
    """Without ``shard_rows``, 12,000 rows in one row group become 3 shards (5,000-row floor),
    whatever the number of workers."""
    folder = tmp_path / "in"
    folder.mkdir()
    pq.write_table(
        pa.table({"text": [f"document number {i}" for i in range(12_000)]}), folder / "a.parquet"
    )
    outs = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        recipe = parse_recipe(
            {
                "name": "sized",
                "input": {"path": str(folder)},
                "stages": [{"use": "filter", "with": {"where": "length(text) > 17"}}],
                "output": {"path": str(out)},
            }
        )
        run_recipe(recipe, workers=workers)
        outs.append(_files(out))
    assert outs[0] == outs[1]
    data = [k for k in outs[0] if k.startswith("data/")]
    assert len(data) == 3
    rows = [pq.read_metadata(tmp_path / "w1" / k).num_rows for k in data]
    assert sum(rows) == 12_000 - 10 and max(rows) <= 4_000


def test_a_shard_task_pickles_without_rows(tmp_path: Path) -> None:
    """What goes to a worker describes rows; it never carries them (nor a parent buffer)."""
    path = tmp_path / "big.parquet"
    pq.write_table(pa.table({"text": ["word " * 200] * 20_000}), path, row_group_size=5000)
    (task,) = plan_row_ranges([Source(str(path), "parquet", "big.parquet")], target=20_000)
    shard = ShardTask(0, 0, None, None, "out", "ledger", 10, 10, "zstd", read=task)
    assert len(pickle.dumps(shard)) < 2_000 < path.stat().st_size


def test_streamed_shards_pickle_only_their_own_rows() -> None:
    """A shard cut from a stream is a slice of the batches it came from: what a worker is sent
    holds its own rows only."""
    batch = pa.record_batch({"id": [str(i) for i in range(10_000)], "text": ["x" * 100] * 10_000})
    shards = list(engine.rechunk([batch] * 3, 7_000))
    assert len(pickle.dumps(shards[1])) > 2 * shards[1].nbytes  # a slice carries its parent
    for shard in shards:
        sent = own_rows(shard)
        assert sent.equals(shard)
        assert [b.num_rows for b in sent.to_batches()] == [b.num_rows for b in shard.to_batches()]
        assert len(pickle.dumps(sent)) < 1.1 * shard.nbytes + 2_000


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
def test_workers_exit_when_the_driver_is_killed(tmp_path: Path) -> None:
    path = tmp_path / "in.parquet"
    pq.write_table(
        pa.table({"text": [" ".join(WORDS * 20) + f" {i}" for i in range(300_000)]}),
        path,
        row_group_size=5000,
    )
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        f"name: orphan\ninput: {{path: {path}}}\nstages:\n  - use: normalize\n"
        f"output: {{path: {tmp_path / 'out'}, shard_rows: 2000}}\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "curate", "run", str(recipe), "--quiet", "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        workers: list[int] = []
        deadline = time.monotonic() + 120
        while len(workers) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
            # The spawned pool also starts a resource tracker; workers are the python children.
            workers = [c for c in _children(proc.pid) if "resource_tracker" not in _cmd(c)]
        assert len(workers) >= 2, "the run did not start its workers"
        # Killed once the workers are at work (a finished shard), not while they import.
        progress = tmp_path / "out" / ".curate-work" / "progress"
        while not list(progress.glob("shard-*")) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert proc.poll() is None, "the run ended before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 5
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_alive(w) for w in workers), "a worker outlived its driver by 5 s"
    finally:
        if proc.poll() is None:
            proc.kill()


def _cmd(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""
