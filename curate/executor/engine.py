"""Running a plan's segments over shards, recording progress so an interrupted run can resume.

Executors differ only in where a shard's map stages and a global stage's tasks run (a
:class:`ShardBackend` and the task pool it opens); the order of work, the file layout and the
progress markers are the same for all of them, so their outputs are identical and either can
finish a run the other started. A global stage runs one way, whatever the backend and wherever
it is in the recipe: its phases as tasks on the backend's pool (:mod:`.part_global`).

Units of work and their markers (see :mod:`curate.executor.state`):

* ``read``: the input was read to its end (id tally, unreadable rows' ledger, and for
  backends that need files, the input shards ``seg0/input-*.parquet``); when the workers read
  the input themselves (:mod:`curate.executor.read_tasks`), the sum of their shards' tallies;
* ``global-segK``: segment K's global stage wrote its kept rows ``segK/global-*.parquet``;
* ``shard-segK-NNNNN``: shard N of segment K went through the segment's map stages;
* ``segment-segK``: every shard of segment K is done; its files feed segment K+1.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from curate.core import Part
from curate.core.pool import TaskPool
from curate.executor.driver_global import GlobalOutput, ShardConfig
from curate.executor.part_global import file_parts, run_global, write_parts
from curate.executor.plan import Segment, StageStats, Step
from curate.executor.read_tasks import plan_reads
from curate.executor.source import InputStream
from curate.executor.state import RunState
from curate.executor.worker import ShardResult, ShardTask
from curate.io.writer import write_table_atomic

log = logging.getLogger(__name__)
Progress = Callable[[str, int], None]


class ShardBackend(Protocol):
    """Where the map stages of a shard run."""

    #: True when every shard must be a Parquet file (workers may be on other machines).
    materialize: bool

    def run(self, tasks: Iterable[ShardTask]) -> Iterator[ShardResult]:
        """Run each task once; results may come in any order."""

    def task_pool(self) -> TaskPool:
        """A new pool for a global stage's tasks."""


@dataclass
class ExecResult:
    files: list[Path] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    ledgers: list[Path] = field(default_factory=list)
    stats: dict[str, StageStats] = field(default_factory=dict)


def rechunk(batches: Iterable[pa.RecordBatch], rows: int) -> Iterator[pa.Table]:
    """Group a stream of batches into tables of ``rows`` rows (the last may be shorter)."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        if batch.num_rows == 0:
            continue
        pending.append(batch)
        count += batch.num_rows
        while count >= rows:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, rows)
            rest = table.slice(rows)
            pending = rest.to_batches()
            count = rest.num_rows
    if count:
        yield pa.Table.from_batches(pending)


class Engine:
    """Run segments in order with one backend, skipping work that progress markers record."""

    def __init__(self, backend: ShardBackend, state: RunState, progress: Progress) -> None:
        self.backend = backend
        self.state = state
        self.progress = progress

    def execute(
        self, segments: list[Segment], source: InputStream, shards: ShardConfig
    ) -> ExecResult:
        result = ExecResult()
        for seg in segments:
            for step in ([seg.global_step] if seg.global_step else []) + seg.map_steps:
                result.stats[step.label] = StageStats()
        files: list[Path] = []
        rows: list[int] = []
        for seg in segments:
            name = f"segment-seg{seg.index}"
            done = self.state.done(name)
            if done is None:
                done = self._segment(seg, source, files, rows, shards)
                self.state.mark(name, done)
            files = [self.state.abs(f) for f in done["files"]]
            rows = done["rows"]
            result.ledgers.extend(self.state.abs(f) for f in done["ledgers"])
            for label, st in done["stats"].items():
                result.stats[label].add(StageStats.from_json(st))
        if self.state.done("read") is None and not source.exhausted:
            for _ in source:
                pass
        self._mark_read(source, shards)
        read = self.state.done("read")
        if not source.exhausted:
            source.restore(read)
        if read["ledger"]:
            result.ledgers.insert(0, self.state.abs(read["ledger"]))
        result.files, result.rows = files, rows
        return result

    def _mark_read(
        self, source: InputStream, shards: ShardConfig, inputs: list[str | None] | None = None
    ) -> None:
        if self.state.done("read") is not None or not source.exhausted:
            return
        path = source.write_ledger(self.state.work / "ledger" / "read.parquet", shards.compression)
        summary = source.summary()
        summary.update(ledger=self.state.rel(path) if path else None, inputs=inputs)
        self.state.mark("read", summary)

    def _segment(
        self,
        seg: Segment,
        source: InputStream,
        prev: list[Path],
        prev_rows: list[int],
        shards: ShardConfig,
    ) -> dict[str, Any]:
        k = seg.index
        out: dict[str, Any] = {"files": [], "rows": [], "ledgers": [], "stats": {}}
        if seg.global_step is not None:
            step = seg.global_step
            done = self.state.done(f"global-seg{k}")
            if done is None:
                g = self._global(step, k, source, prev, prev_rows, shards)
                self._mark_read(source, shards)
                done = {
                    "files": [self.state.rel(f) for f in g.files],
                    "rows": g.rows,
                    "ledgers": [self.state.rel(f) for f in g.ledgers],
                    "stats": g.stats.to_json(),
                }
                self.state.mark(f"global-seg{k}", done)
            for path in [*prev, *self.state.work.glob(f"seg{k}/input-*.parquet")]:
                path.unlink(missing_ok=True)
            out["ledgers"].extend(done["ledgers"])
            out["stats"][step.label] = done["stats"]
            if not seg.map_steps:
                out.update(files=done["files"], rows=done["rows"])
                return out
            inputs: list[str | None] = [f for f, n in zip(done["files"], done["rows"]) if n]
            results = self._run_files(seg, inputs, shards)
        elif (reads := self._read_tasks(seg, source, shards)) is not None:
            results = self._run(seg, reads[0], count=reads[1])
            self._mark_task_reads(source, results)
        elif self.backend.materialize:
            results = self._run_files(seg, self._materialize(source, shards), shards)
        else:
            results = self._run(seg, self._table_tasks(seg, source, shards))
            self._mark_read(source, shards)
        for path in self.state.work.glob(f"seg{k}/input-*.parquet"):
            path.unlink()
        if seg.global_step is not None:
            for path in self.state.work.glob(f"seg{k}/global-*.parquet"):
                path.unlink()
        for step in seg.map_steps:
            out["stats"][step.label] = StageStats().to_json()
        for res in results:
            out["files"].extend(res["files"])
            out["rows"].extend(res["rows"])
            if res["ledger"]:
                out["ledgers"].append(res["ledger"])
            for label, st in res["stats"].items():
                total = StageStats.from_json(out["stats"][label])
                total.add(StageStats.from_json(st))
                out["stats"][label] = total.to_json()
        return out

    def _global(
        self,
        step: Step,
        k: int,
        source: InputStream,
        prev: list[Path],
        prev_rows: list[int],
        shards: ShardConfig,
    ) -> GlobalOutput:
        """Run a segment's global stage over the input (first segment) or the previous files."""
        work = self.state.work
        parts: Iterable[Part] = (
            write_parts(source, work / "seg0", shards) if k == 0 else file_parts(prev, prev_rows)
        )
        with self.backend.task_pool() as pool:
            return run_global(step, parts, work=work, segment=k, shards=shards, pool=pool)

    def _task(self, seg: Segment, i: int, shards: ShardConfig, **data: Any) -> ShardTask:
        work = self.state.work
        return ShardTask(
            seg.index,
            i,
            out_prefix=str(work / f"seg{seg.index}" / f"shard-{i:05d}"),
            ledger_path=str(work / "ledger" / f"seg{seg.index}-shard-{i:05d}.parquet"),
            max_rows=shards.rows,
            max_bytes=shards.bytes,
            compression=shards.compression,
            **data,
        )

    def _marker(self, seg: Segment, i: int) -> str:
        return f"shard-seg{seg.index}-{i:05d}"

    def _table_tasks(
        self, seg: Segment, source: InputStream, shards: ShardConfig
    ) -> Iterator[ShardTask]:
        for i, table in enumerate(rechunk(source, shards.rows)):
            if self.state.done(self._marker(seg, i)) is None:
                yield self._task(seg, i, shards, table=table, input_path=None)
            else:
                self.progress(f"segment {seg.index}", table.num_rows)

    def _read_tasks(
        self, seg: Segment, source: InputStream, shards: ShardConfig
    ) -> tuple[list[ShardTask], int] | None:
        """The shards of the first segment as tasks that read their own input rows, and their
        number; None when the driver reads the input as one stream."""
        if seg.index != 0 or source.exhausted:
            return None
        target = None if shards.sized else shards.rows
        planned = plan_reads(source.reader, target=target, max_rows=shards.rows)
        if planned is None:
            return None
        tasks = [
            self._task(seg, i, shards, table=None, input_path=None, read=read)
            for i, read in enumerate(planned)
            if self.state.done(self._marker(seg, i)) is None
        ]
        return tasks, len(planned)

    def _mark_task_reads(self, source: InputStream, records: list[dict[str, Any]]) -> None:
        """The input's tally from the shards that read it: what the ``read`` marker records."""
        total = {"count": 0, "sum1": 0, "sum2": 0, "unreadable": 0}
        for rec in records:
            for key, value in rec["read"].items():
                total[key] += value
        total["sum1"] %= 1 << 64
        total["sum2"] %= 1 << 64
        if self.state.done("read") is None:
            self.state.mark("read", {**total, "ledger": None, "inputs": None})
        source.restore(total)

    def _materialize(self, source: InputStream, shards: ShardConfig) -> list[str | None]:
        """Cut the input into shard files (once: the read marker lists them)."""
        read = self.state.done("read")
        if read is not None and read.get("inputs") is not None:
            inputs: list[str | None] = read["inputs"]
            return inputs
        inputs = []
        for i, table in enumerate(rechunk(source, shards.rows)):
            if self.state.done(f"shard-seg0-{i:05d}") is not None:
                inputs.append(None)
                continue
            path = self.state.work / "seg0" / f"input-{i:05d}.parquet"
            write_table_atomic(table, path, compression=shards.compression)
            inputs.append(self.state.rel(path))
        self._mark_read(source, shards, inputs)
        return inputs

    def _run_files(
        self, seg: Segment, inputs: list[str | None], shards: ShardConfig
    ) -> list[dict[str, Any]]:
        tasks = []
        for i, rel in enumerate(inputs):
            if rel is not None and self.state.done(self._marker(seg, i)) is None:
                path = str(self.state.abs(rel))
                tasks.append(self._task(seg, i, shards, table=None, input_path=path))
        return self._run(seg, tasks, count=len(inputs))

    def _run(
        self, seg: Segment, tasks: Iterable[ShardTask], count: int | None = None
    ) -> list[dict[str, Any]]:
        """Run the tasks, mark each finished shard; every shard's record in shard order."""
        for res in self.backend.run(tasks):
            rec = asdict(res)
            rec.update(
                files=[self.state.rel(f) for f in res.files],
                ledger=self.state.rel(res.ledger) if res.ledger else None,
            )
            self.state.mark(self._marker(seg, res.shard), rec)
            if res.read is not None:
                # The shard read its own input: the rows count as read once it is done.
                self.progress("read", res.rows_in)
            self.progress(f"segment {seg.index}", res.rows_in)
        found = sorted(
            (self.state.work / "progress").glob(f"shard-seg{seg.index}-*.json"),
            key=lambda p: int(p.stem.rsplit("-", 1)[1]),
        )
        records = [self.state.done(p.stem) for p in found]
        if count is not None and len(records) > count:
            raise RuntimeError(f"segment {seg.index}: {len(records)} shard records, {count} shards")
        return records
