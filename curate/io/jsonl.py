"""JSON Lines: pyarrow's parser for clean blocks, a line-by-line path that finds bad records.

A block goes to pyarrow only when no line in it nests deeper than
:data:`~curate.io.guards.MAX_DEPTH` (deep nesting costs that parser gigabytes). The line-by-line
path reports, as :class:`~curate.io.formats.BadRow`, lines that are malformed JSON, invalid
UTF-8, nested too deep, not an object, hold a lone surrogate, lack a string text, or change a
field's type; a text column that no record of the file's first block has is a file error (a typo
in ``input.text_column``), not a ledger full of rows.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.json as pjson

from curate.errors import DataError
from curate.io import guards
from curate.io.arrays import int64_range
from curate.io.formats import ROW, BadRow, Chunk, _damaged, _with_rows, check_text_column
from curate.io.sources import Source
from curate.io.urls import byte_stream

CHUNK_BYTES = 8 << 20
#: Records of one block whose field types conflict before the file is refused as a whole.
MAX_TYPE_CONFLICTS = 100
_CONVERT_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError)


def _lines(source: Source) -> Iterator[bytes]:
    """Chunks of whole lines, each ending with a newline."""
    with byte_stream(source.path) as stream:
        # A line longer than a block is gathered in pieces, not by growing one bytes object.
        pending: list[bytes] = []
        while True:
            block = stream.read(CHUNK_BYTES)
            if not block:
                break
            cut = block.rfind(b"\n") + 1
            if not cut:
                pending.append(block)
                continue
            yield b"".join([*pending, block[:cut]])
            pending = [block[cut:]]
        rest = b"".join(pending)
        if rest:
            yield rest + b"\n"


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


class JsonlReader:
    """Fast path through pyarrow's JSON parser; a line-by-line path finds and reports bad lines."""

    def __init__(self, source: Source, *, text_column: str) -> None:
        self.source = source
        self.text_column = text_column
        self.schema: pa.Schema | None = None
        self.row = 0
        self.line = 0
        #: Whether a record of this file had the text field (so a missing one is a row problem).
        self.seen_text = False

    def _fast(self, data: bytes) -> pa.Table | None:
        if b"\n\n" in data or data.startswith(b"\n") or guards.too_deep(data):
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

    def _parse(self, raw: bytes) -> tuple[dict[str, object] | None, str | None]:
        """The record of one line, or why it is bad."""
        if raw.count(b"[") + raw.count(b"{") > guards.MAX_DEPTH:
            depth = guards.line_depths(raw + b"\n")[0]
            if depth > guards.MAX_DEPTH:
                return None, f"nested {depth} deep, more than the {guards.MAX_DEPTH} accepted"
        try:
            value = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            return None, f"invalid UTF-8 at byte {exc.start}"
        except json.JSONDecodeError as exc:
            return None, f"malformed JSON ({exc.msg} at column {exc.colno})"
        except RecursionError:
            return None, f"nested more than {guards.MAX_DEPTH} deep"
        if not isinstance(value, dict):
            return None, "not a JSON object"
        if b"\\u" in raw and guards.has_lone_surrogate(value):
            return None, "a string holds a lone surrogate (e.g. \\ud800), which is not Unicode"
        if self.text_column not in value:
            return value, f"{self.text_column!r} is missing"
        self.seen_text = True
        text = value[self.text_column]
        if text is None:
            return None, f"{self.text_column!r} is null"
        if not isinstance(text, str):
            return None, f"{self.text_column!r} is {type(text).__name__}, expected a string"
        return value, None

    def _convert(self, rows: list[dict[str, object]]) -> pa.Table:
        return (
            pa.Table.from_pylist(rows)
            if self.schema is None
            else pa.Table.from_pylist(rows, schema=self.schema)
        )

    def _converts(self, rows: list[dict[str, object]]) -> bool:
        try:
            self._convert(rows)
        except _CONVERT_ERRORS:
            return False
        return True

    def _slow(self, data: bytes) -> Chunk:
        rows: list[dict[str, object]] = []
        where: list[tuple[int, int, bytes]] = []
        bad: list[BadRow] = []
        lacking: dict[str, object] | None = None
        for raw in data.split(b"\n")[:-1]:
            self.line += 1
            if not raw.strip():
                continue
            row = self.row
            self.row += 1
            value, problem = self._parse(raw)
            if problem is not None:
                if value is not None and lacking is None:
                    lacking = value
                text = raw.decode("utf-8", errors="replace")
                bad.append(BadRow(row=row, line=self.line, message=problem, raw=text))
                continue
            assert value is not None
            rows.append(value)
            where.append((row, self.line, raw))
        if lacking is not None and not self.seen_text:
            have = ", ".join(repr(k) for k in list(lacking)[:8]) or "none"
            raise DataError(
                f"{self.source.path}: no record of the first {self.line} lines has a field "
                f"{self.text_column!r} (fields: {have})",
                hint="set input.text_column in the recipe to the field that holds the text",
            )
        table = self._table(rows, where, bad)
        if table is None:
            return Chunk(pa.record_batch({ROW: pa.array([], pa.int64())}), bad)
        return Chunk(_with_rows(table, pa.array([r for r, _, _ in where], pa.int64())), bad)

    def _table(
        self,
        rows: list[dict[str, object]],
        where: list[tuple[int, int, bytes]],
        bad: list[BadRow],
    ) -> pa.Table | None:
        """Convert the records, moving each one whose field types conflict to ``bad``."""
        for _ in range(MAX_TYPE_CONFLICTS + 1):
            if not rows:
                return None
            try:
                table = self._convert(rows)
            except _CONVERT_ERRORS:
                n = guards.first_failing(len(rows), lambda k: self._converts(rows[:k]))
                try:
                    self._convert(rows[:n])
                    reason = "its fields' types differ from earlier records"
                except _CONVERT_ERRORS as exc:
                    reason = _first_line(exc)
                row, line, raw = where.pop(n - 1)
                rows.pop(n - 1)
                message = f"a field changes type ({reason})"
                bad.append(BadRow(row, line, message, raw.decode("utf-8", errors="replace")))
                continue
            # Conversion keeps the fields of the schema (or of the first record) only.
            self._check_fields(rows, where, set(table.column_names))
            if self.schema is None:
                self._set_schema(table)
                table = table.cast(self.schema)
            return table
        raise DataError(
            f"{self.source.path}: field types change in more than {MAX_TYPE_CONFLICTS} records "
            f"before line {self.line}",
            hint="make each field hold one type in every record",
        )

    def _check_fields(
        self, rows: list[dict[str, object]], where: list[tuple[int, int, bytes]], names: set[str]
    ) -> None:
        for (_, line, _), record in zip(where, rows):
            extra = set(record) - names
            if extra:
                raise DataError(
                    f"{self.source.path}:line {line}: field {sorted(extra)[0]!r}, which earlier "
                    "records lack (schemas disagree)",
                    hint="give every record the same fields, or list the fields to keep in "
                    "input.columns",
                )

    def __iter__(self) -> Iterator[Chunk]:
        blocks = _lines(self.source)
        while True:
            try:
                data = next(blocks)
            except StopIteration:
                return
            except (pa.ArrowException, OSError) as exc:
                raise _damaged(
                    self.source, f"after line {self.line}" if self.line else "", exc
                ) from exc
            table = self._fast(data)
            if table is None:
                yield self._slow(data)
                continue
            self.seen_text = True
            if self.schema is None:
                self._set_schema(table)
                table = table.cast(self.schema)
            n = table.num_rows
            self.line += n
            yield Chunk(_with_rows(table, int64_range(start=self.row, stop=self.row + n)))
            self.row += n
