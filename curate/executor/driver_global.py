"""Running a global stage (deduplication) in the driver over the whole previous output.

The stage's kept rows are written as shard files of ``shard_rows`` rows, which the map stages
of its segment then read one shard per task; its removed rows go to its own ledger files.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

from curate.executor.plan import StageStats, Step
from curate.executor.split import split_removed
from curate.executor.state import crash_point
from curate.io.writer import Compression, ShardWriter
from curate.stage import StageContext

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class ShardConfig:
    rows: int
    bytes: int
    compression: Compression
    #: True when the recipe does not set ``shard_rows``: input shards are sized from the input
    #: where its size is known (see :func:`curate.executor.read_tasks.shard_target`).
    sized: bool = False


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


class Timed(Generic[T]):
    """Wrap an upstream iterator so a global stage's own time can be told from its input's.

    ``total`` adds up ``size`` of every item; with ``keep``, ``items`` lists them.
    """

    def __init__(self, it: Iterable[T], size: Callable[[T], int], *, keep: bool = False) -> None:
        self.it = iter(it)
        self.size = size
        self.keep = keep
        self.items: list[T] = []
        self.total = 0
        self.seconds = 0.0
        self.cpu_seconds = 0.0

    def __iter__(self) -> Iterator[T]:
        while True:
            start, cpu = time.perf_counter(), time.process_time()
            try:
                item = next(self.it)
            except StopIteration:
                return
            finally:
                self.seconds += time.perf_counter() - start
                self.cpu_seconds += time.process_time() - cpu
            self.total += self.size(item)
            if self.keep:
                self.items.append(item)
            yield item


class SplitWriter:
    """Kept rows of a global stage's output to shard files, removed rows to ledger files."""

    def __init__(self, out_prefix: Path, ledger_prefix: Path, label: str, shards: ShardConfig):
        self.prefixes = (out_prefix, ledger_prefix)
        self.label = label
        self.shards = shards
        self.writers: list[ShardWriter | None] = [None, None]
        self.counts: Counter[str] = Counter()
        self.rows_out = 0

    def _write(self, which: int, batch: pa.RecordBatch, max_rows: int) -> None:
        writer = self.writers[which]
        if writer is None:
            writer = self.writers[which] = ShardWriter(
                self.prefixes[which],
                batch.schema,
                max_rows=max_rows,
                max_bytes=self.shards.bytes,
                compression=self.shards.compression,
            )
        writer.write(batch.cast(writer.schema))

    def write(self, out: pa.RecordBatch) -> None:
        kept, removed, counts = split_removed(out, self.label)
        self.counts.update(counts)
        self.rows_out += kept.num_rows
        if removed is not None:
            self._write(1, removed, self.shards.rows * 10)
        if kept.num_rows:
            self._write(0, kept, self.shards.rows)

    def close(self) -> tuple[list[Path], list[int], list[Path]]:
        """(kept files, their row counts, ledger files); no file for what had no rows."""
        kept, ledger = self.writers
        files = kept.close() if kept is not None else []
        rows = list(kept.rows) if kept is not None else []
        return files, rows, ledger.close() if ledger is not None else []


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
    res = GlobalOutput()
    timed = Timed(upstream, lambda batch: batch.num_rows)
    sink = SplitWriter(out_dir / "global", ledger_dir / ledger_prefix, step.label, shards)
    start, cpu = time.perf_counter(), time.process_time()
    for out in step.stage(timed):
        sink.write(out)
        crash_point("global-batch")
    res.stats.seconds = time.perf_counter() - start - timed.seconds
    # Includes the stage's own worker threads; its Ray tasks' CPU time is on other processes.
    res.stats.cpu_seconds = time.process_time() - cpu - timed.cpu_seconds
    res.files, res.rows, res.ledgers = sink.close()
    res.stats.rows_in, res.stats.rows_out = timed.total, sink.rows_out
    res.stats.removed_by_reason.update(sink.counts)
    shutil.rmtree(ctx.workdir, ignore_errors=True)
    return res
