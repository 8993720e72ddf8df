"""Raw readers: one source file to a stream of Arrow batches, with bad rows reported, not lost.

Each yielded batch carries :data:`ROW`, the record's index in its file, so ids can be generated
stably. Rows that cannot be read come back as :class:`BadRow` so the caller can fail with a
precise message or move them to the ledger.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from curate.errors import DataError
from curate.io.arrays import int64_range
from curate.io.sources import Source
from curate.io.urls import byte_stream, random_access

ROW = "__curate_row"
log = logging.getLogger(__name__)
CHUNK_BYTES = 8 << 20


@dataclass(frozen=True)
class BadRow:
    """A record that could not be read: where it is and why."""

    row: int
    line: int | None
    message: str
    raw: str | None = None
    #: Ledger reason: ``unreadable`` (an error unless ``on_error: skip``) or a policy such as
    #: ``too-long``, which always goes to the ledger.
    reason: str = "unreadable"


@dataclass
class Chunk:
    batch: pa.RecordBatch
    bad: list[BadRow] = field(default_factory=list)


def _with_rows(table: pa.Table | pa.RecordBatch, rows: pa.Array) -> pa.RecordBatch:
    if isinstance(table, pa.Table):
        table = table.combine_chunks()
        batch = (
            table.to_batches()[0]
            if table.num_rows
            else pa.RecordBatch.from_pylist([], schema=table.schema)
        )
    else:
        batch = table
    return batch.append_column(ROW, rows)


def _text_problem(value: object, text_column: str) -> str | None:
    if value is None:
        return f"{text_column!r} is null"
    if not isinstance(value, str):
        return f"{text_column!r} is {type(value).__name__}, expected a string"
    return None


def check_text_column(source: Source, schema: pa.Schema, text_column: str) -> None:
    """Fail when the text column is absent or not a string column."""
    if text_column not in schema.names:
        have = ", ".join(n for n in schema.names if n != ROW) or "none"
        raise DataError(
            f"{source.path}: no column {text_column!r} (columns: {have})",
            hint="set input.text_column in the recipe to the column that holds the text",
        )
    kind = schema.field(text_column).type
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_null(kind)):
        raise DataError(
            f"{source.path}: column {text_column!r} is {kind}, not text",
            hint="point input.text_column at a string column",
        )


_BINARY = {pa.string(): pa.binary(), pa.large_string(): pa.large_binary()}


def _invalid_utf8(text: pa.Array) -> set[int]:
    """Positions of values that are not valid UTF-8 (Parquet and Arrow do not check on read)."""
    try:
        text.validate(full=True)
        return set()
    except pa.ArrowInvalid:
        values = pc.cast(text, _BINARY[text.type]).to_pylist()
    bad = set()
    for i, value in enumerate(values):
        try:
            if value is not None:
                value.decode("utf-8")
        except UnicodeDecodeError:
            bad.add(i)
    return bad


def _split_null_text(
    source: Source, batch: pa.RecordBatch, text_column: str, first_row: int
) -> Chunk:
    """Rows with a null or undecodable text become bad rows; the others carry :data:`ROW`."""
    text = batch.column(text_column)
    rows = int64_range(start=first_row, stop=first_row + batch.num_rows)
    undecodable = _invalid_utf8(text) if text.type in _BINARY else set()
    if not text.null_count and not undecodable:
        return Chunk(_with_rows(batch, rows))
    valid = pc.is_valid(text).to_pylist()
    bad = []
    for i, ok in enumerate(valid):
        if not ok:
            bad.append(BadRow(row=first_row + i, line=None, message=f"{text_column!r} is null"))
        elif i in undecodable:
            raw = pc.cast(text, _BINARY[text.type])[i].as_py().decode("utf-8", "replace")
            message = f"invalid UTF-8 in {text_column!r}"
            bad.append(BadRow(row=first_row + i, line=None, message=message, raw=raw))
            valid[i] = False
    kept = _with_rows(batch, rows).filter(pa.array(valid))
    return Chunk(kept, bad)


def read_parquet(source: Source, *, text_column: str, batch_rows: int) -> Iterator[Chunk]:
    with random_access(source.path) as where:
        try:
            # pre_buffer would keep every column chunk read so far in memory (~1 GB at 1M docs).
            pf = pq.ParquetFile(where, pre_buffer=False)
        except (pa.ArrowInvalid, OSError) as exc:
            raise DataError(f"{source.path}: not a readable Parquet file ({exc})") from exc
        check_text_column(source, pf.schema_arrow, text_column)
        first = 0
        batches = pf.iter_batches(batch_size=batch_rows)
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                break
            except (pa.ArrowException, OSError) as exc:
                raise _damaged(source, f"after row {first}", exc) from exc
            yield _split_null_text(source, batch, text_column, first)
            first += batch.num_rows


def _damaged(source: Source, where: str, exc: BaseException) -> DataError:
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return DataError(
        f"{source.path}: damaged{' ' + where if where else ''} ({first})",
        hint="the file is truncated or corrupt (or its name's compression suffix is wrong): "
        "fetch or export it again",
    )


def _ipc_input(where: str | IO[bytes]) -> pa.NativeFile | IO[bytes]:
    """The file from its start, for each way of opening it that is tried."""
    if isinstance(where, str):
        return pa.memory_map(where)
    where.seek(0)
    return where


def read_arrow(source: Source, *, text_column: str, batch_rows: int) -> Iterator[Chunk]:
    with random_access(source.path) as where:
        reader: ipc.RecordBatchFileReader | ipc.RecordBatchStreamReader
        try:
            reader = ipc.open_file(_ipc_input(where))
            batches: Iterator[pa.RecordBatch] = (
                reader.get_batch(i) for i in range(reader.num_record_batches)
            )
        except pa.ArrowInvalid:
            try:
                reader = ipc.open_stream(_ipc_input(where))
            except pa.ArrowInvalid as exc:
                raise DataError(f"{source.path}: not an Arrow IPC file or stream ({exc})") from exc
            batches = iter(reader)
        check_text_column(source, reader.schema, text_column)
        first = 0
        while True:
            try:
                big = next(batches)
            except StopIteration:
                break
            except (pa.ArrowException, OSError) as exc:
                raise _damaged(source, f"after row {first}", exc) from exc
            for start in range(0, big.num_rows, batch_rows):
                batch = big.slice(start, batch_rows)
                yield _split_null_text(source, batch, text_column, first)
                first += batch.num_rows


def _index_name(source: Source, names: list[str]) -> list[str]:
    """A CSV's unnamed column (header ``""``, a pandas index) is named ``index``."""
    if "" not in names:
        return names
    name = next(n for n in ("index", *(f"index_{i}" for i in range(2, 99))) if n not in names)
    log.info("%s: the column with an empty header is read as %r", source.path, name)
    return [name if n == "" else n for n in names]


def _csv_chunk(source: Source, batch: pa.RecordBatch, text_column: str, first: int) -> Chunk:
    """Cast the text column (read as bytes) to strings; rows of invalid UTF-8 become bad rows."""
    column = batch.schema.get_field_index(text_column)
    raw = batch.column(column)
    bad: list[BadRow] = []
    try:
        text = pc.cast(raw, pa.string())
    except pa.ArrowInvalid:
        values: list[str | None] = []
        for i, value in enumerate(raw.to_pylist()):
            try:
                values.append(None if value is None else value.decode("utf-8"))
            except UnicodeDecodeError as exc:
                message = f"invalid UTF-8 in {text_column!r} at byte {exc.start}"
                bad.append(BadRow(first + i, None, message, value.decode("utf-8", "replace")))
                values.append(None)
        text = pa.array(values, pa.string())
    batch = batch.set_column(column, text_column, text)
    chunk = _split_null_text(source, batch, text_column, first) if not bad else None
    if chunk is not None:
        return chunk
    rows = int64_range(start=first, stop=first + batch.num_rows)
    kept = _with_rows(batch, rows).filter(pc.is_valid(text))
    return Chunk(kept, bad)


def read_csv(source: Source, *, text_column: str, batch_rows: int) -> Iterator[Chunk]:
    bad: list[BadRow] = []

    def on_invalid(row: pcsv.InvalidRow) -> str:
        bad.append(
            BadRow(
                row=-1,
                line=row.number,
                raw=row.text,
                message=f"expected {row.expected_columns} fields, found {row.actual_columns}",
            )
        )
        return "skip"

    delimiter = "\t" if ".tsv" in source.path.lower() else ","
    with byte_stream(source.path) as stream:
        try:
            # The text is read as bytes so one invalid UTF-8 row fails alone, not its block.
            reader = pcsv.open_csv(
                stream,
                read_options=pcsv.ReadOptions(use_threads=False, block_size=CHUNK_BYTES),
                parse_options=pcsv.ParseOptions(
                    delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid
                ),
                convert_options=pcsv.ConvertOptions(
                    column_types={text_column: pa.binary()}, strings_can_be_null=False
                ),
            )
        except (pa.ArrowInvalid, OSError) as exc:
            if "Empty CSV file" in str(exc):
                return
            raise DataError(
                f"{source.path}: not a readable CSV file ({str(exc).splitlines()[0]})",
                hint="check the file (and that its compression suffix matches its content)",
            ) from exc
        names = _index_name(source, reader.schema.names)
        if text_column not in names:
            check_text_column(source, reader.schema, text_column)
        first = 0
        while True:
            try:
                batch = reader.read_next_batch().rename_columns(names)
            except StopIteration:
                break
            except (pa.ArrowInvalid, UnicodeDecodeError, OSError) as exc:
                raise _damaged(source, f"after row {first}", exc) from exc
            chunk = _csv_chunk(source, batch, text_column, first)
            chunk.bad.extend(bad)
            bad.clear()
            first += batch.num_rows
            yield chunk
        if bad:
            empty = pa.RecordBatch.from_pylist([], schema=reader.schema).rename_columns(names)
            yield Chunk(_with_rows(empty, pa.array([], pa.int64())), list(bad))
