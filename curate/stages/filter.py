"""``filter``: keep rows where a SQL boolean expression over the columns is true; the rest go to
the ledger.

The expression is parsed and allow-listed by :mod:`curate.sqlexpr` (no table functions, no
subqueries, nothing that reads files or the network) and compiled to a Polars expression. Rows
where it is null (a missing score, say) are removed too, with the same reason: a filter keeps only
what it can affirm. A constant expression (``true``, ``1 = 1``) applies to every row.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import ClassVar

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, field_validator

from curate import schema
from curate.errors import DataError, RecipeError
from curate.sqlexpr import Where, WhereError, parse_where
from curate.stage import MapStage, mark_removed

_KEEP = "__curate_keep"


@lru_cache(maxsize=64)
def _parsed(text: str) -> Where:
    return parse_where(text)


@lru_cache(maxsize=64)
def _compiled(text: str, types: tuple[tuple[str, pl.DataType], ...]) -> pl.Expr:
    return _parsed(text).compile(dict(types))


def _short(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."


class Filter(MapStage):
    """Keep rows where ``where`` holds.

    >>> import pyarrow as pa
    >>> b = pa.record_batch({"id": ["a", "b"], "text": ["x", "y"], "lang": ["en", "de"]})
    >>> out = next(iter(Filter(where="lang = 'en'")([b])))
    >>> out.column("__curate_reason").to_pylist()
    [None, 'filtered']
    """

    name: ClassVar[str] = "filter"
    summary: ClassVar[str] = "Keep rows where a SQL boolean expression over columns is true."
    removes_rows: ClassVar[bool] = True
    reasons: ClassVar[tuple[str, ...]] = ("filtered",)

    where: str = Field(
        description="SQL boolean expression over the columns (see docs/recipes.md for what is "
        "accepted), e.g. \"lang IN ('en', 'fr') AND lang_score >= 0.65\"."
    )
    reason: str = Field("filtered", description="Reason written to the ledger for removed rows.")

    @field_validator("where")
    @classmethod
    def _parses(cls, value: str) -> str:
        try:
            _parsed(value)
        except WhereError as exc:
            raise ValueError(
                f"{_short(value)!r}: {exc}; e.g. \"lang = 'en' AND lang_score > 0.5\""
            ) from None
        return value

    def reads(self) -> tuple[str, ...]:
        return _parsed(self.where).columns

    def _expr(self, types: Mapping[str, pl.DataType]) -> pl.Expr:
        try:
            return _compiled(self.where, tuple(types.items()))
        except WhereError as exc:
            raise RecipeError(f"where: {_short(self.where)!r}: {exc}") from None

    def plan(self, columns: Mapping[str, pa.DataType]) -> dict[str, pa.DataType]:
        out = super().plan(columns)
        # pa.nulls and a record batch: building a table or an array from Python values makes
        # pyarrow import pandas (to check for a DataFrame), a quarter of `curate check`'s time.
        empty = pl.from_arrow(
            pa.RecordBatch.from_arrays([pa.nulls(0, t) for t in columns.values()], list(columns))
        )
        assert isinstance(empty, pl.DataFrame)
        expr = self._expr(empty.schema)
        try:
            dtype = empty.select(expr).dtypes[0]
        except pl.exceptions.PolarsError as exc:
            first = str(exc).splitlines()[0]
            raise RecipeError(
                f"where: {_short(self.where)!r} is invalid for these columns: {first}",
                hint="check the expression against the input's columns and their types "
                "(`curate check` lists them); compare a column with values of its type",
            ) from None
        if dtype != pl.Boolean:
            raise RecipeError(
                f"where: {_short(self.where)!r} gives {dtype}, not a boolean",
                hint='compare the column with a value, e.g. "lang_score >= 0.65"',
            )
        return out

    def _keep(self, frame: pl.DataFrame) -> pl.Series:
        keep = self._expr(frame.schema).fill_null(False).alias(_KEEP)
        return frame.with_columns(keep).get_column(_KEEP)

    def _failure(self, frame: pl.DataFrame, exc: Exception) -> DataError:
        """The error naming the first row the expression fails on (found by halving)."""
        lo, hi = 0, frame.height
        while hi - lo > 1:
            mid = (lo + hi) // 2
            try:
                self._keep(frame.slice(lo, mid - lo))
                lo = mid
            except pl.exceptions.PolarsError:
                hi = mid
        row = frame.row(lo, named=True) if frame.height else {}
        first = str(exc).splitlines()[0]
        return DataError(
            f"stage filter: where {_short(self.where)!r} fails on the row with id "
            f"{row.get(schema.ID)!r}: {first}",
            hint="use TRY_CAST for values that may not convert, or fix the data",
        )

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        frame = pl.from_arrow(pa.Table.from_batches([batch]))
        assert isinstance(frame, pl.DataFrame)
        try:
            keep = self._keep(frame).to_arrow()
        except pl.exceptions.PolarsError as exc:
            raise self._failure(frame, exc) from None
        reasons = pc.if_else(keep, pa.scalar(None, pa.string()), pa.scalar(self.reason))
        return mark_removed(batch, reasons)
