"""``filter``: keep rows where a Polars SQL boolean expression is true; the rest go to the ledger.

Rows where the expression is null (a missing score, say) are removed too, with the same reason:
a filter keeps only what it can affirm.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, field_validator

from curate.errors import RecipeError
from curate.stage import MapStage, mark_removed


class Filter(MapStage):
    """Keep rows where ``where`` holds.

    >>> import pyarrow as pa
    >>> b = pa.record_batch({"id": ["a", "b"], "text": ["x", "y"], "lang": ["en", "de"]})
    >>> out = next(iter(Filter(where="lang = 'en'")([b])))
    >>> out.column("__curate_reason").to_pylist()
    [None, 'filtered']
    """

    name: ClassVar[str] = "filter"
    summary: ClassVar[str] = "Keep rows where a Polars SQL boolean expression over columns is true."
    removes_rows: ClassVar[bool] = True
    reasons: ClassVar[tuple[str, ...]] = ("filtered",)

    where: str = Field(
        description="Polars SQL boolean expression, e.g. \"lang IN ('en', 'fr') AND "
        'lang_score >= 0.65".'
    )
    reason: str = Field("filtered", description="Reason written to the ledger for removed rows.")

    @field_validator("where")
    @classmethod
    def _parses(cls, value: str) -> str:
        try:
            pl.sql_expr(value)
        except pl.exceptions.PolarsError as exc:
            raise ValueError(
                f"cannot parse {value!r} as a SQL boolean expression ({exc}); write e.g. "
                "\"lang = 'en' AND lang_score > 0.5\""
            ) from exc
        return value

    def _expr(self) -> pl.Expr:
        try:
            return pl.sql_expr(self.where)
        except pl.exceptions.PolarsError as exc:
            raise RecipeError(
                f"where: cannot parse {self.where!r}: {exc}",
                hint="write a SQL boolean expression such as \"lang = 'en' AND lang_score > 0.5\"",
            ) from exc

    def reads(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self._expr().meta.root_names()))

    def plan(self, columns: Mapping[str, pa.DataType]) -> dict[str, pa.DataType]:
        out = super().plan(columns)
        empty = pl.from_arrow(pa.table({k: pa.array([], type=v) for k, v in columns.items()}))
        assert isinstance(empty, pl.DataFrame)
        try:
            result = empty.select(self._expr())
        except pl.exceptions.PolarsError as exc:
            raise RecipeError(f"where: {self.where!r} is invalid here: {exc}") from exc
        dtype = result.dtypes[0]
        if dtype != pl.Boolean:
            raise RecipeError(
                f"where: {self.where!r} gives {dtype}, not a boolean",
                hint='compare the column with a value, e.g. "lang_score >= 0.65"',
            )
        return out

    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        frame = pl.from_arrow(pa.Table.from_batches([batch]))
        assert isinstance(frame, pl.DataFrame)
        keep = frame.select(self._expr().fill_null(False)).to_series().to_arrow()
        reasons = pc.if_else(keep, pa.scalar(None, pa.string()), pa.scalar(self.reason))
        return mark_removed(batch, reasons)
