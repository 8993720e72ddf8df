"""Global stages: three phases that an executor schedules, so a stage never sees a pool.

A :class:`GlobalStage` needs the whole input before it can decide (deduplication,
decontamination against a corpus). It says what to do in three phases; the executor decides
where each task runs (inline, threads, Ray tasks) and how many run at once:

1. :meth:`~GlobalStage.map_part`, once per :class:`~curate.core.parts.Part` of the input, in any
   process: write what the decision needs (hashes, signatures, band keys) under
   ``task.scratch`` and return a small summary (a row count, say).
2. :meth:`~GlobalStage.reduce`, once, where the run is scheduled: a generator that yields lists
   of calls for the executor to run as tasks (each a picklable call of no argument, such as
   ``functools.partial`` of a module-level function), receives their results in order, and
   returns the decisions. Work that grows with the corpus is cut into key ranges that fit
   ``task.memory`` (:func:`~curate.core.parts.key_ranges`), one task each.
3. :meth:`~GlobalStage.apply`, once per part, in any process: the part's rows with the stage's
   columns set and removed rows marked (:func:`curate.stage.mark_removed`). The task is sent
   :meth:`~GlobalStage.narrow` of the decisions: what that part needs.

The executor writes kept rows and ledger rows; the stage only marks them. Output never depends
on the number of workers or the backend, because every task is a pure function of its arguments.
Called on a stream (``stage(batches)``), a global stage cuts the stream into parts itself and
runs the same three phases on :attr:`StageContext.workers <curate.stage.StageContext>` threads.
"""

from __future__ import annotations

import shutil
import tempfile
from abc import abstractmethod
from collections.abc import Generator, Iterable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from curate.core.parts import InputSpill, Part, Task
from curate.core.pool import Call, ThreadPool
from curate.stage import Stage, mark_removed, set_column

#: What :meth:`GlobalStage.reduce` is: yields lists of calls, is sent their results, returns
#: the decisions.
Reduce = Generator[list[Call], list[Any], Any]


class GlobalStage(Stage):
    """A stage that decides over its whole input: map per part, reduce, apply per part."""

    kind: ClassVar[Literal["map", "global"]] = "global"

    def memory_bytes(self) -> int:
        """Bytes the stage's tasks may hold together; each gets its share as ``task.memory``."""
        return 256 << 20

    def map_part(self, part: Part, task: Task) -> Any:
        """Per-part work before the decision: write files under ``task.scratch``; a summary."""
        return part.rows

    @abstractmethod
    def reduce(self, parts: Sequence[Part], mapped: list[Any], task: Task) -> Reduce:
        """Decide from what :meth:`map_part` wrote and returned (``mapped``, in part order)."""

    def narrow(self, decisions: Any, part: Part) -> Any:
        """What the task applying ``decisions`` to ``part`` needs (all of them by default)."""
        return decisions

    @abstractmethod
    def apply(self, part: Part, decisions: Any, task: Task) -> Iterator[pa.RecordBatch]:
        """The rows of ``part`` in order, with the stage's columns and removals marked."""

    def empty(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """The output of no rows for an input of no rows (``batch``): its columns, typed."""
        for f in self.output_fields():
            batch = set_column(batch, f.name, pa.array([], f.type))
        none = pa.array([], pa.string())
        return mark_removed(batch, none, none)

    def __call__(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from curate.core.run import decide

        own = self._ctx is None
        root = Path(tempfile.mkdtemp(prefix="curate-stage-")) if own else self.ctx.workdir
        work = root / "parts"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        try:
            spill = InputSpill(work / "input", prefix="input")
            workers = 1 if self._ctx is None else self._ctx.workers
            with ThreadPool(workers) as pool:
                parts, decisions, task = decide(self, spill.stream(batches), pool, work)
            for part in parts:
                yield from self.apply(part, decisions, task)
            empty = spill.empty_batch()
            if spill.rows == 0 and empty is not None:
                yield self.empty(empty)
        finally:
            shutil.rmtree(root if own else work, ignore_errors=True)


def _take(path: Path, column: str, rows: npt.NDArray[np.int64]) -> pa.Array:
    values = pq.read_table(path, columns=[column]).column(column)
    return values.take(pa.array(rows)).combine_chunks()


def column_values(
    parts: Sequence[Part], column: str, indices: npt.NDArray[np.int64]
) -> Generator[list[Call], list[Any], pa.Array]:
    """Values of ``column`` at the sorted global ``indices``: a task per part read.

    Use it inside :meth:`GlobalStage.reduce` as ``values = yield from column_values(...)``.
    """
    calls: list[Call] = []
    for part in parts:
        lo, hi = np.searchsorted(indices, [part.start, part.start + part.rows])
        if hi > lo:
            calls.append(partial(_take, part.path, column, indices[lo:hi] - part.start))
    pieces = (yield calls) if calls else []
    if not pieces:
        return pa.array([], type=pa.string())
    return pa.concat_arrays(pieces)
