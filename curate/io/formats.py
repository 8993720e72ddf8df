"""Raw readers: one source file to a stream of Arrow batches, with bad rows reported, not lost.

Each yielded batch carries :data:`ROW`, the record's index in its file, so ids can be generated
stably. Rows that cannot be read come back as :class:`BadRow` so the caller can fail with a
precise message or move them to the ledger.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.ipc as ipc
import pyarrow.json as pjson
import pyarrow.parquet as pq

from curate.errors import DataError
from curate.io.sources import Source
from curate.io.urls import byte_stream, random_access

ROW = "__curate_row"
CHUNK_BYTES = 8 << 20


@dataclass(frozen=True)
class BadRow:
    """A record that could not be read: where it is and why."""

    row: int
    line: int | None
    message: str
    raw: str | None = None


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


def _split_null_text(
    source: Source, batch: pa.RecordBatch, text_column: str, first_row: int
) -> Chunk:
    text = batch.column(text_column)
    if not text.null_count:
        rows = pa.array(range(first_row, first_row + batch.num_rows), pa.int64())
        return Chunk(_with_rows(batch, rows))
    valid = pc.is_valid(text)
    rows = pa.array(range(first_row, first_row + batch.num_rows), pa.int64())
    bad = [
        BadRow(row=r, line=None, message=f"{text_column!r} is null")
        for r, ok in zip(rows.to_pylist(), valid.to_pylist())
        if not ok
    ]
    kept = _with_rows(batch, rows).filter(valid)
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
        for batch in pf.iter_batches(batch_size=batch_rows):
            yield _split_null_text(source, batch, text_column, first)
            first += batch.num_rows


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
        for big in batches:
            for start in range(0, big.num_rows, batch_rows):
                batch = big.slice(start, batch_rows)
                yield _split_null_text(source, batch, text_column, first)
                first += batch.num_rows


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
            reader = pcsv.open_csv(
                stream,
                read_options=pcsv.ReadOptions(use_threads=False, block_size=CHUNK_BYTES),
                parse_options=pcsv.ParseOptions(
                    delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid
                ),
                convert_options=pcsv.ConvertOptions(
                    column_types={text_column: pa.string()}, strings_can_be_null=False
                ),
            )
        except pa.ArrowInvalid as exc:
            if "Empty CSV file" in str(exc):
                return
            raise DataError(f"{source.path}: not a readable CSV file ({exc})") from exc
        check_text_column(source, reader.schema, text_column)
        first = 0
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
                raise DataError(
                    f"{source.path}: {exc}", hint="fix the file, or convert it to JSONL or Parquet"
                ) from exc
            chunk = _split_null_text(source, batch, text_column, first)
            chunk.bad.extend(bad)
            bad.clear()
            first += batch.num_rows
            yield chunk
        if bad:
            yield Chunk(
                _with_rows(
                    pa.RecordBatch.from_pylist([], schema=reader.schema), pa.array([], pa.int64())
                ),
                list(bad),
            )


def _lines(source: Source) -> Iterator[bytes]:
    """Chunks of whole lines, each ending with a newline."""
    with byte_stream(source.path) as stream:
        rest = b""
        while True:
            block = stream.read(CHUNK_BYTES)
            if not block:
                break
            block = rest + block
            cut = block.rfind(b"\n") + 1
            rest = block[cut:]
            if cut:
                yield block[:cut]
        if rest:
            yield rest + b"\n"


class JsonlReader:
    """Fast path through pyarrow's JSON parser; a line-by-line path finds and reports bad lines."""

    def __init__(self, source: Source, *, text_column: str) -> None:
        self.source = source
        self.text_column = text_column
        self.schema: pa.Schema | None = None
        self.row = 0
        self.line = 0

    def _fast(self, data: bytes) -> pa.Table | None:
        if b"\n\n" in data or data.startswith(b"\n"):
            return None
        try:
            data.decode("utf-8")
            options = pjson.ParseOptions(
                explicit_schema=self.schema,
                unexpected_field_behavior="error" if self.schema is not None else "infer",
            )
            table = pjson.read_json(io.BytesIO(data), parse_options=options)
        except (UnicodeDecodeError, pa.ArrowInvalid):
            return None
        if table.num_rows != data.count(b"\n") or self.text_column not in table.column_names:
            return None
        text = table.column(self.text_column)
        if text.null_count or not pa.types.is_string(text.type):
            return None
        return table

    def _set_schema(self, table: pa.Table) -> None:
        fields = [f.with_type(pa.string()) if pa.types.is_null(f.type) else f for f in table.schema]
        self.schema = pa.schema(fields)
        check_text_column(self.source, self.schema, self.text_column)

    def _slow(self, data: bytes) -> Chunk:
        rows: list[dict[str, object]] = []
        indices: list[int] = []
        bad: list[BadRow] = []
        for raw in data.split(b"\n")[:-1]:
            self.line += 1
            if not raw.strip():
                continue
            row = self.row
            self.row += 1
            problem: str | None
            try:
                value = json.loads(raw.decode("utf-8"))
                problem = None if isinstance(value, dict) else "not a JSON object"
            except UnicodeDecodeError as exc:
                value, problem = None, f"invalid UTF-8 at byte {exc.start}"
            except json.JSONDecodeError as exc:
                value, problem = None, f"malformed JSON ({exc.msg} at column {exc.colno})"
            if problem is None and isinstance(value, dict):
                problem = _text_problem(value.get(self.text_column), self.text_column)
            if problem is not None or not isinstance(value, dict):
                text = raw.decode("utf-8", errors="replace")
                bad.append(BadRow(row=row, line=self.line, message=problem or "", raw=text))
                continue
            rows.append(value)
            indices.append(row)
        if self.schema is None and rows:
            self._set_schema(pa.Table.from_pylist(rows))
        if self.schema is None:
            return Chunk(pa.record_batch({ROW: pa.array([], pa.int64())}), bad)
        names = set(self.schema.names)
        for r, record in zip(indices, rows):
            extra = set(record) - names
            if extra:
                raise DataError(
                    f"{self.source.path}: record {r} has field {sorted(extra)[0]!r} that "
                    "earlier records lack (schemas disagree)",
                    hint="give every record the same fields, or list the fields to keep in "
                    "input.columns",
                )
        try:
            table = pa.Table.from_pylist(rows, schema=self.schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError) as exc:
            raise DataError(
                f"{self.source.path}: a field changes type within the file ({exc})",
                hint="make each field hold one type in every record",
            ) from exc
        return Chunk(_with_rows(table, pa.array(indices, pa.int64())), bad)

    def __iter__(self) -> Iterator[Chunk]:
        for data in _lines(self.source):
            table = self._fast(data)
            if table is None:
                yield self._slow(data)
                continue
            if self.schema is None:
                self._set_schema(table)
                table = table.cast(self.schema)
            n = table.num_rows
            self.line += n
            yield Chunk(_with_rows(table, pa.array(range(self.row, self.row + n), pa.int64())))
            self.row += n
