"""Global stages in three phases an executor can spread over processes or a cluster.

The ``dedup.*`` stages decide from compact per-part results, then change each part on its own:

1. **per part**: hash, shingle or sign each Parquet part of the input (a pure function of the
   part, written next to it), submitted to a pool as each part arrives;
2. **decide**: group those results one key range at a time (again pool tasks: a shuffle read by
   key) and keep only the rows that something happens to, in the caller;
3. **apply**: a picklable :class:`PartApply` marks the removed rows of one part at a time.

The executors run phase 3 as pool tasks that write kept rows and ledger files per part, so no
document passes through the process that decides (see ``docs/scale.md``). Run as a plain
:class:`~curate.stage.GlobalStage` over a stream, the stage spills the stream into parts
itself and applies them in order.

A pool is anything with :class:`curate.dedup.pool.PartPool`'s methods; the Ray executor offers
one whose tasks run anywhere on the cluster.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from curate.dedup.pool import PartPool
from curate.dedup.spill import InputSpill, Part
from curate.stage import GlobalStage


class Pool(Protocol):
    """Where per-part and per-range tasks run; results come back in submission order."""

    workers: int

    def submit(self, fn: Callable[..., Any], *args: Any) -> None: ...

    def results(self) -> list[Any]: ...

    def share(self, value: Any) -> Any:
        """``value`` in a form every task can take as an argument without a copy per task."""


class PartApply(Protocol):
    """What a global stage decided, applied to one part at a time (in any process)."""

    def __call__(self, part: Part) -> Iterator[pa.RecordBatch]:
        """The part's rows, with the stage's columns and removals marked."""

    def empty(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """A batch of no rows with the stage's output columns."""

    def narrow(self, part: Part) -> PartApply:
        """Only what ``part`` needs: what a task applying that part is sent."""


class PartwiseStage(GlobalStage):
    """A global stage that runs as per-part work, a decision, and a per-part application."""

    def prepare(self, parts: Iterable[Part], pool: Pool, work: Path) -> PartApply:
        """Consume ``parts`` (submitting per-part work as each arrives) and decide."""
        raise NotImplementedError

    def __call__(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        work = self.ctx.workdir / "parts"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        try:
            spill = InputSpill(work / "input", prefix="input")
            with self.ctx.extra.get("part_pool", PartPool)(self.ctx.workers) as pool:
                apply = self.prepare(spill.stream(batches), pool, work)
            for part in spill.parts:
                yield from apply(part)
            empty = spill.empty_batch()
            if spill.rows == 0 and empty is not None:
                yield apply.empty(empty)
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _take(path: Path, column: str, rows: npt.NDArray[np.int64]) -> pa.Array:
    values = pq.read_table(path, columns=[column]).column(column)
    return values.take(pa.array(rows)).combine_chunks()


def gather(
    parts: Sequence[Part], column: str, indices: npt.NDArray[np.int64], pool: Pool
) -> pa.Array:
    """Values of ``column`` at the sorted global ``indices``: one pool task per part read."""
    for part in parts:
        lo, hi = np.searchsorted(indices, [part.start, part.start + part.rows])
        if hi > lo:
            pool.submit(_take, part.path, column, indices[lo:hi] - part.start)
    pieces = pool.results()
    if not pieces:
        return pa.array([], type=pa.string())
    return pa.concat_arrays(pieces)
