"""Parts, tasks and spill files: what a global stage's phases are handed.

A global stage's input reaches it as numbered Parquet :class:`Part` files, each holding rows
``start`` to ``start + rows - 1`` of the stage's input (its global indices). Every phase task
also gets a :class:`Task`: a scratch folder shared by the stage's tasks (on a cluster, storage
every node sees) and the bytes of memory the task may use. :class:`InputSpill` cuts a stream of
batches into parts when a stage runs over a plain stream (``stage(batches)``), or over another
dataset it compares against.

>>> import tempfile, pyarrow as pa
>>> with tempfile.TemporaryDirectory() as tmp:
...     spill = InputSpill(Path(tmp), part_rows=2)
...     done = spill.add(pa.record_batch({"id": ["a", "b", "c"], "text": ["x", "y", "z"]}))
...     done += spill.close()
...     [(p.start, p.rows) for p in done], [b.num_rows for b in done[1].batches()]
([(0, 2), (2, 1)], [1])
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from curate.errors import DataError

#: Rows per batch when spilled input is streamed back.
ROW_GROUP = 4096
#: Rows per row group of spilled input: what a worker decodes at once.
SPILL_ROW_GROUP = 1024


@dataclass(frozen=True)
class Part:
    """One Parquet file of a global stage's input: its rows ``start`` to ``start + rows - 1``."""

    index: int
    path: Path
    start: int
    rows: int

    def batches(
        self, columns: Sequence[str] | None = None, *, rows: int = ROW_GROUP
    ) -> Iterator[pa.RecordBatch]:
        """The part's rows in order, ``rows`` at a time (only ``columns`` when given)."""
        # Without pre_buffer=False, pyarrow keeps every column chunk it has read until close.
        source = pq.ParquetFile(self.path, pre_buffer=False)
        yield from source.iter_batches(
            batch_size=rows, columns=list(columns) if columns is not None else None
        )


@dataclass(frozen=True)
class Task:
    """What the executor hands every task of a global stage: where to write, how much memory.

    ``scratch`` is the stage's own folder, shared by all its tasks and emptied after the stage;
    ``memory`` is the bytes this one task may hold (the executor divides the stage's
    :meth:`~curate.core.GlobalStage.memory_bytes` among the tasks that run at once).
    """

    scratch: Path
    memory: int


def write_atomic(table: pa.Table, path: Path, *, row_group_size: int = ROW_GROUP) -> None:
    """Write ``table`` to ``path`` through a temporary name, so a crash leaves no half file."""
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp, row_group_size=row_group_size, compression="lz4")
    os.replace(tmp, path)


def write_groups(tables: Sequence[pa.Table], path: Path) -> None:
    """Write each table as its own row group(s), atomically: readers then skip whole groups."""
    tmp = path.with_name(path.name + ".tmp")
    with pq.ParquetWriter(tmp, tables[0].schema, compression="lz4") as writer:
        for table in tables:
            writer.write_table(table, row_group_size=max(1, table.num_rows))
    os.replace(tmp, path)


class InputSpill:
    """Writes incoming batches to Parquet parts of about ``part_rows`` rows; replays them."""

    def __init__(
        self,
        directory: Path,
        *,
        start: int = 0,
        part_rows: int = 4096,
        part_bytes: int = 16 << 20,
        prefix: str = "part",
    ) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self.start = start
        self.part_rows = part_rows
        self.part_bytes = part_bytes
        self.prefix = prefix
        self.parts: list[Part] = []
        self.schema: pa.Schema | None = None
        self._pending: list[pa.RecordBatch] = []
        self._pending_rows = 0
        self._pending_bytes = 0
        self.rows = 0

    def add(self, batch: pa.RecordBatch) -> list[Part]:
        """Take one batch; return the parts it completed (usually none or one)."""
        if self.schema is None:
            self.schema = batch.schema
        elif batch.schema != self.schema:
            try:
                batch = batch.cast(self.schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as exc:
                raise DataError(
                    f"batch at row {self.rows}: schema {batch.schema} differs from the first "
                    f"batch's {self.schema}: {exc}",
                    hint="give every input file the same columns and types",
                ) from exc
        done: list[Part] = []
        offset = 0
        while offset < batch.num_rows:
            take = min(batch.num_rows - offset, self.part_rows - self._pending_rows)
            piece = batch.slice(offset, take)
            self._pending.append(piece)
            self._pending_rows += take
            self._pending_bytes += piece.nbytes
            offset += take
            if self._pending_rows >= self.part_rows or self._pending_bytes >= self.part_bytes:
                done.append(self._flush())
        return done

    def stream(self, batches: Iterable[pa.RecordBatch]) -> Iterator[Part]:
        """Spill every batch; yield each part as soon as it is written."""
        for batch in batches:
            yield from self.add(batch)
        yield from self.close()

    def close(self) -> list[Part]:
        """Write what is still pending; return that last part, if any."""
        return [self._flush()] if self._pending_rows else []

    def _flush(self) -> Part:
        assert self.schema is not None
        table = pa.Table.from_batches(self._pending, schema=self.schema)
        index = len(self.parts)
        path = self.directory / f"{self.prefix}-{index:06d}.parquet"
        write_atomic(table, path, row_group_size=SPILL_ROW_GROUP)
        part = Part(index=index, path=path, start=self.start + self.rows, rows=table.num_rows)
        self.parts.append(part)
        self.rows += table.num_rows
        self._pending, self._pending_rows, self._pending_bytes = [], 0, 0
        return part

    def empty_batch(self) -> pa.RecordBatch | None:
        """A batch of no rows with the input's schema (None if no batch ever arrived)."""
        if self.schema is None:
            return None
        return pa.RecordBatch.from_arrays(
            [pa.array([], f.type) for f in self.schema], schema=self.schema
        )


def key_ranges(rows: int, row_bytes: int, memory_limit: int) -> list[tuple[int, int]]:
    """Split the uint64 key space into ranges whose rows fit ``memory_limit`` bytes each.

    >>> key_ranges(10, 10, 1_000)
    [(0, 18446744073709551616)]
    >>> len(key_ranges(1_000, 10, 1_000))
    10
    """
    count = max(1, -(-rows * row_bytes // max(1, memory_limit)))
    edges = [(i << 64) // count for i in range(count + 1)]
    return list(itertools.pairwise(edges))
