"""The local executor: segments run in order, map stages over shards in worker processes.

Output order is input order whatever the number of workers: shards are numbered as they are
cut from the stream and their results are collected in that order.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from curate.executor.plan import Segment, StageStats, Step
from curate.executor.split import split_removed
from curate.executor.worker import ShardResult, ShardTask, init_worker, run_shard
from curate.io.writer import Compression, ShardWriter
from curate.stage import StageContext

log = logging.getLogger(__name__)
Progress = Callable[[str, int], None]


@dataclass
class ExecResult:
    files: list[Path] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    ledgers: list[Path] = field(default_factory=list)
    stats: dict[str, StageStats] = field(default_factory=dict)


@dataclass
class ShardConfig:
    rows: int
    bytes: int
    compression: Compression


def rechunk(batches: Iterable[pa.RecordBatch], rows: int) -> Iterator[pa.Table]:
    """Group a stream of batches into tables of about ``rows`` rows."""
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


def read_files(files: Iterable[Path]) -> Iterator[pa.RecordBatch]:
    for path in files:
        yield from pq.ParquetFile(path).iter_batches(batch_size=10_000)


class _Timed:
    """Wrap an upstream iterator so a global stage's own time can be told from its input's."""

    def __init__(self, it: Iterable[pa.RecordBatch]) -> None:
        self.it = iter(it)
        self.seconds = 0.0
        self.rows = 0

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        while True:
            start = time.perf_counter()
            try:
                batch = next(self.it)
            except StopIteration:
                self.seconds += time.perf_counter() - start
                return
            self.seconds += time.perf_counter() - start
            self.rows += batch.num_rows
            yield batch


class LocalExecutor:
    """Run segments with ``workers`` processes (1 = everything in this process)."""

    def __init__(self, *, workers: int = 1, progress: Progress | None = None) -> None:
        self.workers = max(1, workers)
        self.progress = progress or (lambda _label, _rows: None)

    def execute(
        self,
        segments: list[Segment],
        source: Iterable[pa.RecordBatch],
        workdir: Path,
        shards: ShardConfig,
    ) -> ExecResult:
        result = ExecResult()
        steps_by_segment = {s.index: s.map_steps for s in segments}
        level = logging.getLogger().level
        pool: ProcessPoolExecutor | None = None
        if self.workers > 1:
            pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=init_worker,
                initargs=(steps_by_segment, str(workdir), level),
            )
        else:
            init_worker(steps_by_segment, str(workdir), level)
        try:
            upstream: Iterable[pa.RecordBatch] = source
            files: list[Path] = []
            for seg in segments:
                if seg.index > 0:
                    upstream = read_files(files)
                stream = upstream
                if seg.global_step is not None:
                    stream = self._global(seg.global_step, upstream, workdir, shards, result)
                files, rows = self._map(seg, stream, workdir, shards, result, pool)
            result.files, result.rows = files, rows
        finally:
            if pool is not None:
                pool.shutdown(cancel_futures=True)
        return result

    def _global(
        self,
        step: Step,
        upstream: Iterable[pa.RecordBatch],
        workdir: Path,
        shards: ShardConfig,
        result: ExecResult,
    ) -> Iterator[pa.RecordBatch]:
        ctx = StageContext(workdir=workdir / f"stage-{step.index:02d}", workers=self.workers)
        ctx.workdir.mkdir(parents=True, exist_ok=True)
        step.stage.setup(ctx)
        timed = _Timed(upstream)
        stats = result.stats.setdefault(step.label, StageStats())
        ledger: ShardWriter | None = None
        start = time.perf_counter()
        for out in step.stage(timed):
            kept, removed, counts = split_removed(out, step.label)
            stats.rows_out += kept.num_rows
            stats.removed_by_reason.update(counts)
            if removed is not None:
                if ledger is None:
                    ledger = ShardWriter(
                        workdir / "ledger" / f"{step.index:02d}-{step.label}",
                        removed.schema,
                        max_rows=shards.rows * 10,
                        max_bytes=shards.bytes,
                        compression=shards.compression,
                    )
                ledger.write(removed.cast(ledger.schema))
            self.progress(step.label, out.num_rows)
            yield kept
        stats.rows_in += timed.rows
        stats.seconds += time.perf_counter() - start - timed.seconds
        if ledger is not None:
            result.ledgers.extend(ledger.close())

    def _map(
        self,
        seg: Segment,
        stream: Iterable[pa.RecordBatch],
        workdir: Path,
        shards: ShardConfig,
        result: ExecResult,
        pool: ProcessPoolExecutor | None,
    ) -> tuple[list[Path], list[int]]:
        files: list[Path] = []
        rows: list[int] = []
        for step in seg.map_steps:
            result.stats.setdefault(step.label, StageStats())
        pending: list[Future[ShardResult]] = []

        def collect(res: ShardResult) -> None:
            files.extend(Path(f) for f in res.files)
            rows.extend(res.rows)
            if res.ledger:
                result.ledgers.append(Path(res.ledger))
            for label, st in res.stats.items():
                result.stats[label].add(StageStats.from_json(st))
            self.progress(f"segment {seg.index}", res.rows_in)

        for i, table in enumerate(rechunk(stream, shards.rows)):
            task = ShardTask(
                seg.index,
                i,
                table,
                out_prefix=str(workdir / f"seg{seg.index}" / f"shard-{i:05d}"),
                ledger_path=str(workdir / "ledger" / f"seg{seg.index}-shard-{i:05d}.parquet"),
                max_rows=shards.rows,
                max_bytes=shards.bytes,
                compression=shards.compression,
            )
            if pool is None:
                collect(run_shard(task))
                continue
            pending.append(pool.submit(run_shard, task))
            while len(pending) > 2 * self.workers:
                collect(pending.pop(0).result())
        for fut in pending:
            collect(fut.result())
        return files, rows
