"""Reading is work for the workers: the input planned into row ranges that each worker reads.

When every input file is Parquet, the driver reads only file metadata (row counts per row
group) and cuts the input into :class:`ReadTask` row ranges of about ``target`` rows (the
recipe's ``shard_rows``, or :func:`shard_target` of the input when the recipe does not set it):
whole row groups merged, or a row group more than twice the target split into even pieces.
Each task runs in a worker, which reads its rows and feeds them straight into the first
segment's map stages, so no document is pickled from the driver. Ids stay
``<relative file>:<record index>``: a task knows its file and the file row of its first record.

``--limit N`` is planned from the same metadata (the first N records, bad ones included, as the
stream reader counts them). When ids come from an id column, the duplicate-id check runs on the
driver before any task, over the id column, and the text column of the tasks holding an id
that occurs twice (a row with null text is unreadable, its id unchecked): the first occurrence
in input order wins, and the later rows each task must move to the ledger travel with it.
Other formats are read by the driver as one stream (:mod:`curate.executor.source`).

>>> import tempfile, pathlib, pyarrow as pa, pyarrow.parquet as pq
>>> from curate.io.sources import Source
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> pq.write_table(pa.table({"text": [f"t{i}" for i in range(10)]}), d / "a.parquet",
...     row_group_size=4)
>>> tasks = plan_row_ranges([Source(str(d / "a.parquet"), "parquet", "a.parquet")],
...     target=4, limit=9)
>>> [(t.first_row, t.rows) for t in tasks]
[(0, 4), (4, 4), (8, 1)]
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.errors import DataError
from curate.io.formats import check_text_column
from curate.io.idset import IdSet
from curate.io.reader import BATCH_ROWS, InputReader
from curate.io.sources import Source
from curate.io.urls import random_access

#: Shards an input is cut into when the recipe does not set ``shard_rows``: several per worker.
SHARDS = 16
#: No smaller shards than this (each costs a task, a marker and an output file).
MIN_SHARD_ROWS = 5_000
#: Uncompressed bytes at most per shard of a sized input: what a worker holds is a batch, but
#: a shard's output file is written whole.
MAX_SHARD_BYTES = 64 << 20


@dataclass(frozen=True)
class ReadOptions:
    """How rows become canonical batches: the recipe's ``input`` block and the input schema."""

    text_column: str
    id_column: str | None
    columns: tuple[str, ...] | None
    on_error: str
    #: The canonical schema every task conforms to, and the file it was first seen in.
    schema: pa.Schema
    schema_from: str
    #: The reader's other limits (``max_chars``), passed on as they are.
    limits: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class ReadTask:
    """Rows ``first_row`` to ``first_row + rows - 1`` of one Parquet file."""

    source: Source
    first_row: int
    rows: int
    #: Row groups holding those rows, and how many rows of the first one come before them.
    row_groups: tuple[int, ...]
    skip: int
    options: ReadOptions | None = None
    #: File rows that repeat an earlier id (moved to the ledger as ``duplicate-id``).
    duplicates: tuple[int, ...] = field(default=())


def _file_ranges(source: Source, sizes: Sequence[int], target: int) -> Iterator[ReadTask]:
    """Row ranges of one file: whole row groups up to ``target`` rows, big ones split."""
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(int).tolist()
    group: list[int] = []
    for i, n in enumerate(sizes):
        if n > 2 * target:
            if group:
                yield _range(source, starts, group)
                group = []
            pieces = -(-n // target)
            bounds = [n * k // pieces for k in range(pieces + 1)]
            for lo, hi in itertools.pairwise(bounds):
                yield ReadTask(source, starts[i] + lo, hi - lo, (i,), lo)
            continue
        if group and sum(sizes[g] for g in group) + n > target:
            yield _range(source, starts, group)
            group = []
        if n:
            group.append(i)
    if group:
        yield _range(source, starts, group)


def _range(source: Source, starts: list[int], group: list[int]) -> ReadTask:
    first, last = group[0], group[-1]
    return ReadTask(source, starts[first], starts[last + 1] - starts[first], tuple(group), 0)


def _footer(source: Source) -> list[tuple[int, int]]:
    """(rows, uncompressed bytes) per row group, from the file's footer."""
    with random_access(source.path) as where:
        try:
            meta = pq.ParquetFile(where, pre_buffer=False).metadata
        except (pa.ArrowInvalid, OSError) as exc:
            raise DataError(f"{source.path}: not a readable Parquet file ({exc})") from exc
        groups = [meta.row_group(i) for i in range(meta.num_row_groups)]
        return [(g.num_rows, g.total_byte_size) for g in groups]


def shard_target(rows: int, nbytes: int, *, max_rows: int) -> int:
    """Rows per input shard when the recipe does not set ``shard_rows``.

    About ``rows / SHARDS`` (several shards per worker on one machine), at least
    ``MIN_SHARD_ROWS``, at most ``max_rows`` and ``MAX_SHARD_BYTES`` of uncompressed data. It
    depends on the input alone, never on the number of workers, so every worker count cuts the
    same shards and writes the same files.

    >>> shard_target(50_000, 50 << 20, max_rows=100_000)
    5000
    >>> shard_target(1_000_000, 200 << 20, max_rows=100_000)
    62500
    >>> shard_target(1_000_000, 4 << 30, max_rows=100_000)
    15625
    """
    per_row = nbytes / rows if rows else 1.0
    by_bytes = int(MAX_SHARD_BYTES // max(per_row, 1.0))
    return max(1, min(max_rows, by_bytes, max(MIN_SHARD_ROWS, -(-rows // SHARDS))))


def plan_row_ranges(
    sources: Sequence[Source], *, target: int | None, limit: int | None = None, max_rows: int = 0
) -> list[ReadTask]:
    """Every Parquet source cut into row ranges in input order, the first ``limit`` rows only.

    With ``target`` None, the shard size comes from the input (:func:`shard_target`, at most
    ``max_rows``).
    """
    footers = [_footer(s) for s in sources]
    if target is None:
        groups = [g for f in footers for g in f]
        rows = sum(n for n, _ in groups)
        planned = rows if limit is None else min(rows, limit)
        nbytes = sum(b for _, b in groups)
        target = shard_target(planned, nbytes * planned // max(rows, 1), max_rows=max_rows)
    tasks: list[ReadTask] = []
    room = limit
    for source, footer in zip(sources, footers):
        for task in _file_ranges(source, [n for n, _ in footer], target):
            if room is not None:
                if room <= 0:
                    return tasks
                if task.rows > room:
                    task = replace(task, rows=room)
                room -= task.rows
            tasks.append(task)
    return tasks


def _schema_names(source: Source) -> list[str]:
    with random_access(source.path) as where:
        return list(pq.ParquetFile(where, pre_buffer=False).schema_arrow.names)


def raw_batches(
    task: ReadTask, columns: list[str] | None = None, *, text_column: str | None = None
) -> Iterator[pa.RecordBatch]:
    """The task's rows as raw batches (``columns`` only, when given).

    With ``text_column``, first check that the file has it as a string column.
    """
    with random_access(task.source.path) as where:
        pf = pq.ParquetFile(where, pre_buffer=False)
        if text_column is not None:
            check_text_column(task.source, pf.schema_arrow, text_column)
        to_skip, left = task.skip, task.rows
        batches = pf.iter_batches(
            batch_size=BATCH_ROWS, row_groups=list(task.row_groups), columns=columns
        )
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            except (pa.ArrowException, OSError) as exc:
                end = task.first_row + task.rows - 1
                raise DataError(
                    f"{task.source.path}: damaged in rows {task.first_row}-{end} ({exc})",
                    hint="the file is truncated or corrupt: fetch or export it again",
                ) from exc
            if to_skip >= batch.num_rows:
                to_skip -= batch.num_rows
                continue
            batch = batch.slice(to_skip, left)
            to_skip = 0
            left -= batch.num_rows
            yield batch
            if left <= 0:
                return


def _id_column(task: ReadTask, reader: InputReader) -> str | None:
    """The task's id column, None when ids are generated; a missing column is an error."""
    names = _schema_names(task.source)
    id_col = reader._id_source(names)
    if id_col is not None and id_col not in names:
        raise DataError(
            f"{task.source.path}: no id column {id_col!r}",
            hint="fix input.id_column or remove it to generate ids",
        )
    return id_col


def _repeated(tasks: list[ReadTask], id_cols: list[str | None]) -> IdSet:
    """Ids that occur more than once in the input, readable rows or not: the id column alone.

    An id seen once cannot repeat whatever its row holds, so only rows of these ids need
    their text read to know whether they count.
    """
    seen, repeated = IdSet(), IdSet()
    for task, id_col in zip(tasks, id_cols):
        if id_col is None:
            continue
        for batch in raw_batches(task, [id_col]):
            ids = pc.drop_null(pc.cast(batch.column(id_col), pa.string()))
            again = seen.add(ids)
            if again.any():
                repeated.add(ids.filter(pa.array(again)))
    return repeated


def find_duplicates(tasks: list[ReadTask], reader: InputReader) -> list[ReadTask]:
    """The duplicate-id check over every task's ids, in input order; tasks that carry it.

    Only readable rows count (a row with null text is unreadable, its id is not checked), as in
    the stream reader. With ``on_error: error`` the first repeated id raises. The driver reads
    the id column of every task, and the text only of tasks holding an id that occurs twice:
    reading every text to learn which rows are readable cost the driver about the input's
    size in memory that the allocator kept afterwards.
    """
    id_cols = [_id_column(task, reader) for task in tasks]
    repeated = _repeated(tasks, id_cols)
    if not len(repeated):
        return tasks
    seen = IdSet()
    out = []
    max_chars: int | None = getattr(reader, "max_chars", None)
    for task, id_col in zip(tasks, id_cols):
        if id_col is None or not _holds_any(task, id_col, repeated):
            out.append(task)
            continue
        cols = [id_col] if id_col == reader.text_column else [id_col, reader.text_column]
        dups: list[int] = []
        row = task.first_row
        for batch in raw_batches(task, cols):
            ids = pc.cast(batch.column(id_col), pa.string())
            text = batch.column(reader.text_column)
            valid = pc.and_(pc.is_valid(text), pc.is_valid(ids))
            if max_chars is not None:
                # Too-long documents go to the ledger before their ids are checked.
                short = pc.less_equal(pc.utf8_length(pc.cast(text, pa.string())), max_chars)
                valid = pc.and_(valid, pc.fill_null(short, False))
            where = np.flatnonzero(valid.to_numpy(zero_copy_only=False))
            if len(where):
                # Rows of ids seen once never repeat: only the others go through the check.
                where = where[repeated.contains(ids.take(pa.array(where)))]
            hit = where[seen.add(ids.take(pa.array(where)))] if len(where) else where
            if len(hit) and reader.on_error == "error":
                first = int(hit[0])
                raise DataError(
                    f"{task.source.path}: duplicate id {ids[first].as_py()!r} (row {row + first})",
                    hint="ids must be unique: fix input.id_column, drop it to generate ids, or "
                    "set `input: {on_error: skip}` to move later copies to the ledger",
                )
            dups.extend((hit + row).tolist())
            row += batch.num_rows
        out.append(replace(task, duplicates=tuple(dups)))
    return out


def _holds_any(task: ReadTask, id_col: str, ids: IdSet) -> bool:
    """Whether one of the task's ids is in ``ids`` (its id column alone read)."""
    for batch in raw_batches(task, [id_col]):
        column = pc.drop_null(pc.cast(batch.column(id_col), pa.string()))
        if ids.contains(column).any():
            return True
    return False


def task_options(reader: InputReader) -> ReadOptions | None:
    """The options every task reads with; None before the input's schema is known."""
    if reader.schema is None:
        return None
    return ReadOptions(
        text_column=reader.text_column,
        id_column=reader.id_column,
        columns=tuple(reader.columns) if reader.columns is not None else None,
        on_error=reader.on_error,
        schema=reader.schema,
        schema_from=reader._schema_from,
        limits=(("max_chars", reader.max_chars), ("carry_split", reader.carry_split)),
    )


def plan_reads(reader: InputReader, *, target: int | None, max_rows: int) -> list[ReadTask] | None:
    """Read tasks for the reader's input, or None when the driver must read it as a stream.

    ``target`` is the recipe's ``shard_rows``; None sizes shards from the input.
    """
    opts = task_options(reader)
    if opts is None or any(s.format != "parquet" for s in reader.sources):
        return None
    tasks = plan_row_ranges(reader.sources, target=target, limit=reader.limit, max_rows=max_rows)
    tasks = [replace(t, options=opts) for t in tasks]
    return find_duplicates(tasks, reader)
