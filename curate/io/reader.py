"""Read a recipe's input as uniform batches: ``id`` and ``text`` first, other columns carried.

Bad rows (malformed JSON, invalid UTF-8, null text, duplicate ids) raise :class:`DataError` by
default; with ``on_error="skip"`` they come back as ledger rows with reason ``unreadable`` (or
``duplicate-id``), so nothing is dropped without a record. Documents longer than ``max_chars``
characters always go to the ledger, with reason ``too-long``.

``limit`` keeps the first ``limit`` records of the input, bad ones included (they are records
of the file and count as read): the ids kept plus the ledger's are a prefix of the input.

With ``carry_split``, every row (ledger rows too) gets its source's split in the reserved column
``curate.io.splits.COLUMN``, last.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from curate import schema
from curate.errors import DataError
from curate.io import features, formats, guards, splits
from curate.io.arrays import int64_values, string_scalar
from curate.io.formats import ROW, BadRow, Chunk
from curate.io.idset import IdSet
from curate.io.jsonl import JsonlReader
from curate.io.sources import Source

BATCH_ROWS = 10_000


@dataclass
class ReadBatch:
    """Readable rows, and the rows that could not be read (ledger rows), from one chunk."""

    kept: pa.RecordBatch
    unreadable: pa.RecordBatch | None = None


def id_hashes(ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """64-bit hashes of ids, used for duplicate detection and the accounting check."""
    series = pl.Series("id", ids)
    return series.hash(seed=0).to_numpy()


def _raw_chunks(source: Source, text_column: str) -> Iterator[Chunk]:
    if source.format == "parquet":
        yield from formats.read_parquet(source, text_column=text_column, batch_rows=BATCH_ROWS)
    elif source.format in ("arrow", "arrow-stream"):
        yield from formats.read_arrow(source, text_column=text_column, batch_rows=BATCH_ROWS)
    elif source.format == "csv":
        yield from formats.read_csv(source, text_column=text_column, batch_rows=BATCH_ROWS)
    elif source.format == "jsonl":
        yield from JsonlReader(source, text_column=text_column)
    else:
        from curate.io.hub import read_hub

        yield from read_hub(source, text_column=text_column, batch_rows=BATCH_ROWS)


class InputReader:
    """Iterate sources in order, producing batches with the canonical id/text layout."""

    def __init__(
        self,
        sources: Sequence[Source],
        *,
        text_column: str = schema.TEXT,
        id_column: str | None = None,
        columns: Sequence[str] | None = None,
        on_error: Literal["error", "skip"] = "error",
        limit: int | None = None,
        max_chars: int | None = guards.DEFAULT_MAX_CHARS,
        carry_split: bool = False,
    ) -> None:
        self.sources = list(sources)
        self.text_column = text_column
        self.id_column = id_column
        self.columns = list(columns) if columns is not None else None
        self.on_error = on_error
        self.limit = limit
        self.max_chars = max_chars
        self.carry_split = carry_split
        self.rows_read = 0
        self.unreadable = 0
        self.schema: pa.Schema | None = None
        #: The Hugging Face features of the first file read, when ``datasets`` wrote it.
        self.features: dict[str, Any] | None = None
        self._schema_from: str = ""
        self._seen_ids = IdSet()

    def _id_source(self, names: Sequence[str]) -> str | None:
        if self.id_column is not None:
            return self.id_column
        return schema.ID if schema.ID in names and self.text_column != schema.ID else None

    def _extra_columns(self, source: Source, names: Sequence[str], id_col: str | None) -> list[str]:
        skip = {self.text_column, ROW, id_col, schema.ID}
        extra = [n for n in names if n not in skip]
        if self.columns is None:
            return extra
        missing = [c for c in self.columns if c not in names]
        if missing:
            raise DataError(
                f"{source.path}: input.columns names {missing[0]!r}, which the file lacks",
                hint="remove it from input.columns or fix the file",
            )
        return [c for c in self.columns if c not in skip]

    def _canonical(self, source: Source, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, pa.Array]:
        names = batch.schema.names
        if self.schema is None:
            self.features = features.input_features(batch.schema)
        id_col = self._id_source(names)
        rows = batch.column(ROW)
        generated = pc.binary_join_element_wise(
            string_scalar(source.name), pc.cast(rows, pa.string()), string_scalar(":")
        )
        if id_col is None:
            ids = generated
        else:
            if id_col not in names:
                raise DataError(
                    f"{source.path}: no id column {id_col!r}",
                    hint="fix input.id_column or remove it to generate ids",
                )
            ids = pc.cast(batch.column(id_col), pa.string())
        extra = self._extra_columns(source, names, id_col)
        arrays = [ids, pc.cast(batch.column(self.text_column), pa.string())]
        arrays += [batch.column(c) for c in extra]
        out = pa.RecordBatch.from_arrays(arrays, names=[schema.ID, schema.TEXT, *extra])
        return self._conform(source, self.with_split(source, out)), generated

    def with_split(self, source: Source, batch: pa.RecordBatch) -> pa.RecordBatch:
        """``batch`` with its source's split as the last column, when the reader carries it."""
        if not self.carry_split or splits.COLUMN in batch.schema.names:
            return batch
        value = pa.array([source.split or "train"] * batch.num_rows, pa.string())
        return batch.append_column(splits.COLUMN, value)

    def _conform(self, source: Source, batch: pa.RecordBatch) -> pa.RecordBatch:
        if self.schema is None:
            fields = [
                f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in batch.schema
            ]
            self.schema = pa.schema(fields)
            self._schema_from = source.path
        if batch.schema.names != self.schema.names:
            theirs, ours = set(batch.schema.names), set(self.schema.names)
            diff = sorted(theirs ^ ours)
            raise DataError(
                f"{source.path}: columns differ from {self._schema_from} ({', '.join(diff)}); "
                "the input files' schemas disagree",
                hint="give every file the same columns, or list the columns to keep in "
                "input.columns",
            )
        try:
            return batch.cast(self.schema)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise DataError(
                f"{source.path}: column types differ from {self._schema_from} ({exc})",
                hint="make each column hold one type in every file",
            ) from exc

    def _ledger(self, source: Source, bad: list[BadRow]) -> pa.RecordBatch:
        where = [f"line {b.line}" if b.line is not None else f"row {b.row}" for b in bad]
        return pa.record_batch(
            {
                schema.LEDGER_STAGE: pa.array(["read"] * len(bad), pa.string()),
                schema.LEDGER_REASON: pa.array([b.reason for b in bad], pa.string()),
                schema.LEDGER_DETAIL: pa.array(
                    [f"{source.name} {w}: {b.message}" for w, b in zip(where, bad)], pa.string()
                ),
                schema.ID: pa.array(
                    [
                        f"{source.name}:{b.row}" if b.row >= 0 else f"{source.name}:line{b.line}"
                        for b in bad
                    ],
                    pa.string(),
                ),
                schema.TEXT: pa.array([b.raw for b in bad], pa.string()),
                schema.LEDGER_FILE: pa.array([source.path] * len(bad), pa.string()),
                schema.LEDGER_ROW: pa.array(
                    [b.line if b.line is not None else b.row for b in bad], pa.int64()
                ),
            }
        )

    def _fail(self, source: Source, bad: BadRow) -> DataError:
        where = f"line {bad.line}" if bad.line is not None else f"row {bad.row}"
        return DataError(
            f"{source.path}:{where}: {bad.message}",
            hint="fix the row, or set `input: {on_error: skip}` to move bad rows to the ledger "
            "with reason 'unreadable'",
        )

    def _duplicates(
        self, source: Source, batch: pa.RecordBatch, generated: pa.Array
    ) -> tuple[pa.RecordBatch, pa.RecordBatch | None]:
        dup = self._seen_ids.add(batch.column(schema.ID))
        if not dup.any():
            return batch, None
        first = int(np.flatnonzero(dup)[0])
        dup_id = batch.column(schema.ID)[first].as_py()
        if self.on_error == "error":
            raise DataError(
                f"{source.path}: duplicate id {dup_id!r} (row {batch.column(ROW)[first]})"
                if ROW in batch.schema.names
                else f"{source.path}: duplicate id {dup_id!r}",
                hint="ids must be unique: fix input.id_column, drop it to generate ids, or set "
                "`input: {on_error: skip}` to move later copies to the ledger",
            )
        mask = pa.array(dup)
        removed = batch.filter(mask)
        gen = generated.filter(mask)
        ledger = pa.record_batch(
            {
                schema.LEDGER_STAGE: pa.array(["read"] * removed.num_rows, pa.string()),
                schema.LEDGER_REASON: pa.array(["duplicate-id"] * removed.num_rows, pa.string()),
                schema.LEDGER_DETAIL: pc.binary_join_element_wise(
                    "id ", removed.column(schema.ID), " seen before; row ", gen, ""
                ),
                schema.ID: gen,
                schema.TEXT: removed.column(schema.TEXT),
            }
        )
        return batch.filter(pc.invert(mask)), ledger

    def __iter__(self) -> Iterator[ReadBatch]:
        for source in self.sources:
            for chunk in _raw_chunks(source, self.text_column):
                out = self._chunk(source, chunk)
                if out is not None:
                    yield out
                if self.limit is not None and self.rows_read >= self.limit:
                    return

    def _prefix(
        self, batch: pa.RecordBatch, bad: list[BadRow]
    ) -> tuple[pa.RecordBatch, list[BadRow]]:
        """The chunk's records up to the limit, in file order (bad records count)."""
        room = self.limit - self.rows_read if self.limit is not None else None
        if room is None or batch.num_rows + len(bad) <= room:
            return batch, bad
        if room <= 0:
            return batch.slice(0, 0), []
        rows = int64_values(batch.column(ROW)) if ROW in batch.schema.names else np.array([])
        # Bad rows without a record index (CSV lines of the wrong width) come last.
        positions = np.sort(np.concatenate([rows, [b.row for b in bad if b.row >= 0]]))
        cut = positions[room - 1] if room <= len(positions) else np.inf
        kept = batch.slice(0, int(np.searchsorted(rows, cut, side="right")))
        first_bad = [b for b in bad if 0 <= b.row <= cut]
        rest = [b for b in bad if b.row < 0][: room - kept.num_rows - len(first_bad)]
        return kept, first_bad + rest

    def _too_long(self, batch: pa.RecordBatch) -> tuple[pa.RecordBatch, list[BadRow]]:
        if ROW not in batch.schema.names or self.text_column not in batch.schema.names:
            return batch, []
        text = batch.column(self.text_column)
        long = guards.long_rows(text, self.max_chars)
        if not long:
            return batch, []
        rows = batch.column(ROW)
        out = [
            BadRow(
                row=rows[i].as_py(),
                line=None,
                message=f"{len(text[i].as_py()):,} characters, more than input.max_chars "
                f"({self.max_chars:,})",
                raw=text[i].as_py(),
                reason="too-long",
            )
            for i in long
        ]
        mask = np.ones(batch.num_rows, bool)
        mask[long] = False
        return batch.filter(pa.array(mask)), out

    def _chunk(self, source: Source, chunk: Chunk) -> ReadBatch | None:
        batch, bad = chunk.batch, sorted(chunk.bad, key=lambda b: b.row)
        batch, bad = self._prefix(batch, bad)
        if bad and self.on_error == "error":
            raise self._fail(source, next(b for b in bad if b.reason == "unreadable"))
        batch, long = self._too_long(batch)
        self.rows_read += batch.num_rows + len(bad) + len(long)
        self.unreadable += len(bad)
        bad = sorted(bad + long, key=lambda b: b.row)
        if batch.num_rows == 0 and not bad:
            return None
        ledgers = [self.with_split(source, self._ledger(source, bad))] if bad else []
        kept: pa.RecordBatch | None = None
        if ROW in batch.schema.names and batch.num_rows:
            kept, generated = self._canonical(source, batch)
            if self._id_source(batch.schema.names) is not None:
                if kept.column(schema.ID).null_count:
                    raise DataError(
                        f"{source.path}: null values in the id column",
                        hint="fill the ids or drop input.id_column to generate them",
                    )
                kept, dup_ledger = self._duplicates(source, kept, generated)
                if dup_ledger is not None:
                    ledgers.append(self.with_split(source, dup_ledger))
        if kept is None:
            kept = self.empty()
        unreadable = (
            pa.Table.from_batches(ledgers[:1]).to_batches()[0]
            if len(ledgers) == 1
            else (
                pa.concat_tables(
                    [pa.Table.from_batches([b]) for b in ledgers], promote_options="default"
                )
                .combine_chunks()
                .to_batches()[0]
                if ledgers
                else None
            )
        )
        return ReadBatch(kept, unreadable)

    def empty(self) -> pa.RecordBatch:
        """An empty batch with the input's schema (id/text only until a file was read)."""
        sch = self.schema or pa.schema(
            [schema.field(schema.ID), schema.field(schema.TEXT)]
            + ([pa.field(splits.COLUMN, pa.string())] if self.carry_split else [])
        )
        return pa.RecordBatch.from_pylist([], schema=sch)
