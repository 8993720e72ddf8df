"""What running a global stage needs besides its phases: shard sizes, output and stats, files.

:mod:`curate.executor.part_global` runs the phases; its apply tasks write each part's kept rows
as shard files of at most ``shard_rows`` rows with :class:`SplitWriter`, which the map stages of
the segment then read one shard per task, and its removed rows as the part's own ledger file.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

import pyarrow as pa

from curate.executor.plan import StageStats, Step
from curate.executor.split import split_removed
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


class Timed(Generic[T]):
    """Wrap an upstream iterator so a global stage's own time can be told from its input's.

    ``total`` adds up ``size`` of every item.
    """

    def __init__(self, it: Iterable[T], size: Callable[[T], int]) -> None:
        self.it = iter(it)
        self.size = size
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
