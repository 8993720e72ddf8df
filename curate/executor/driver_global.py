"""Running a global stage (deduplication) in the driver over the whole previous output.

The stage's kept rows are written as shard files of ``shard_rows`` rows, which the map stages
of its segment then read one shard per task; its removed rows go to its own ledger files.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from curate.executor.plan import StageStats, Step
from curate.executor.split import split_removed
from curate.executor.state import crash_point
from curate.io.writer import Compression, ShardWriter
from curate.stage import StageContext

log = logging.getLogger(__name__)


@dataclass
class ShardConfig:
    rows: int
    bytes: int
    compression: Compression


@dataclass
class GlobalOutput:
    files: list[Path] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    ledgers: list[Path] = field(default_factory=list)
    stats: StageStats = field(default_factory=StageStats)


def read_files(files: Iterable[Path]) -> Iterator[pa.RecordBatch]:
    for path in files:
        # Without pre_buffer=False, pyarrow keeps every column chunk it has read in memory
        # until the file is closed: a whole file's worth, however it is iterated.
        yield from pq.ParquetFile(path, pre_buffer=False).iter_batches(batch_size=10_000)


class _Timed:
    """Wrap an upstream iterator so a global stage's own time can be told from its input's."""

    def __init__(self, it: Iterable[pa.RecordBatch]) -> None:
        self.it = iter(it)
        self.seconds = 0.0
        self.cpu_seconds = 0.0
        self.rows = 0

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        while True:
            start, cpu = time.perf_counter(), time.process_time()
            try:
                batch = next(self.it)
            except StopIteration:
                self._add(start, cpu)
                return
            self._add(start, cpu)
            self.rows += batch.num_rows
            yield batch

    def _add(self, start: float, cpu: float) -> None:
        self.seconds += time.perf_counter() - start
        self.cpu_seconds += time.process_time() - cpu


def _clear(folder: Path, prefix: str) -> None:
    """Remove what an interrupted attempt at this stage left behind."""
    for path in folder.glob(f"{prefix}*"):
        path.unlink()
    for path in folder.glob(f".{prefix}*"):
        path.unlink()


def clear_stage_files(step: Step, work: Path, segment: int, ctx: StageContext) -> tuple[Path, Path]:
    """Empty the stage's workdir and what an interrupted attempt wrote; (output, ledger) dirs."""
    shutil.rmtree(ctx.workdir, ignore_errors=True)
    ctx.workdir.mkdir(parents=True)
    out_dir, ledger_dir = work / f"seg{segment}", work / "ledger"
    for folder, prefix in ((out_dir, "global"), (ledger_dir, f"{step.index:02d}-{step.label}")):
        folder.mkdir(parents=True, exist_ok=True)
        _clear(folder, prefix)
    return out_dir, ledger_dir


def run_global(
    step: Step,
    upstream: Iterable[pa.RecordBatch],
    *,
    work: Path,
    segment: int,
    shards: ShardConfig,
    workers: int,
    extra: Mapping[str, Any],
) -> GlobalOutput:
    """Run ``step`` over ``upstream``; write kept rows as shards and removed rows as a ledger."""
    ctx = StageContext(workdir=work / f"stage-{step.index:02d}", workers=workers, extra=extra)
    out_dir, ledger_dir = clear_stage_files(step, work, segment, ctx)
    ledger_prefix = f"{step.index:02d}-{step.label}"
    step.stage.setup(ctx)
    timed = _Timed(upstream)
    res = GlobalOutput()
    writer: ShardWriter | None = None
    ledger: ShardWriter | None = None
    start, cpu = time.perf_counter(), time.process_time()
    for out in step.stage(timed):
        kept, removed, counts = split_removed(out, step.label)
        res.stats.rows_out += kept.num_rows
        res.stats.removed_by_reason.update(counts)
        if removed is not None:
            if ledger is None:
                ledger = ShardWriter(
                    ledger_dir / ledger_prefix,
                    removed.schema,
                    max_rows=shards.rows * 10,
                    max_bytes=shards.bytes,
                    compression=shards.compression,
                )
            ledger.write(removed.cast(ledger.schema))
        if kept.num_rows:
            if writer is None:
                writer = ShardWriter(
                    out_dir / "global",
                    kept.schema,
                    max_rows=shards.rows,
                    max_bytes=shards.bytes,
                    compression=shards.compression,
                )
            writer.write(kept.cast(writer.schema))
        crash_point("global-batch")
    res.stats.rows_in = timed.rows
    res.stats.seconds = time.perf_counter() - start - timed.seconds
    # Includes the stage's own worker threads; its Ray tasks' CPU time is on other processes.
    res.stats.cpu_seconds = time.process_time() - cpu - timed.cpu_seconds
    if writer is not None:
        res.files = writer.close()
        res.rows = list(writer.rows)
    if ledger is not None:
        res.ledgers = ledger.close()
    shutil.rmtree(ctx.workdir, ignore_errors=True)
    return res
