"""The columns of a mixture: the union of its components' columns, one type each.

Components of a mixture seldom have the same columns: one was scored for language, another
for toxicity, a third not at all. Keeping only the shared columns would silently drop what the
trainer may want to filter on, so the mixture keeps every column any component has, null in the
rows of the components without it. A column's types are reconciled as Arrow's permissive
promotion does (int32 and int64 to int64, integers and floats to float64, null to anything);
types that cannot be reconciled (a string in one component, a number in another) are an error
naming the column and the two components, since guessing a cast would change values.

>>> import pyarrow as pa
>>> s = union_schema([("a", pa.schema([("id", pa.string()), ("x", pa.int32())])),
...                   ("b", pa.schema([("id", pa.string()), ("x", pa.float64()),
...                                    ("lang", pa.string())]))], mixture="m")
>>> [f"{f.name}:{f.type}" for f in s]
['id:string', 'x:double', 'lang:string']
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from curate import schema
from curate.errors import DataError

#: Columns the mixture writes itself. A component's own (a mixture of mixtures) are replaced:
#: its ``source_id`` then holds the inner ``<component>:<epoch>:<id>``, so nothing is untraceable.
OWN = ("mix_component", "mix_epoch", "source_id")
CAST_ERRORS = (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError)


def union_schema(components: list[tuple[str, pa.Schema]], *, mixture: str) -> pa.Schema:
    """Every column of the ``(label, schema)`` components, in first-seen order, one type each."""
    fields: dict[str, pa.Field] = {}
    first: dict[str, str] = {}
    for label, own in components:
        for f in own:
            if f.name in OWN or f.name in schema.INTERNAL:
                continue
            if f.name not in fields:
                fields[f.name], first[f.name] = f.with_nullable(True), label
                continue
            try:
                merged = pa.unify_schemas(
                    [pa.schema([fields[f.name]]), pa.schema([f.with_nullable(True)])],
                    promote_options="permissive",
                )
            except (pa.ArrowTypeError, pa.ArrowInvalid):
                raise DataError(
                    f"mixture {mixture}: column {f.name!r} is {fields[f.name].type} in "
                    f"component {first[f.name]!r} but {f.type} in component {label!r}, and "
                    "the two cannot be reconciled",
                    hint=f"give {f.name!r} one type in both (re-run one component with the "
                    "column cast, or renamed), or mix datasets that do not have it",
                ) from None
            fields[f.name] = merged.field(0)
    return pa.schema(list(fields.values()))


def polars_types(target: pa.Schema) -> dict[str, pl.DataType]:
    """The Polars type of each column of ``target``."""
    frame = pl.from_arrow(target.empty_table())
    assert isinstance(frame, pl.DataFrame)
    return dict(frame.schema)


def conform(
    frame: pl.DataFrame, types: dict[str, pl.DataType], *, mixture: str, component: str
) -> pl.DataFrame:
    """``frame`` with exactly the columns of ``types``, in order: missing ones null, the others
    cast to their reconciled type."""
    columns: list[pl.Expr] = []
    for name, dtype in types.items():
        if name not in frame.columns:
            columns.append(pl.lit(None, dtype=dtype).alias(name))
        elif frame.schema[name] != dtype:
            columns.append(pl.col(name).cast(dtype, strict=True))
        else:
            columns.append(pl.col(name))
    try:
        return frame.select(columns)
    except CAST_ERRORS as exc:
        name = _failing(frame, types)
        raise DataError(
            f"mixture {mixture}: component {component!r}: column {name!r} "
            f"({frame.schema[name]}) cannot be cast to {types[name]}, the type the other "
            f"components give it ({exc})",
            hint=f"give {name!r} one type in every component",
        ) from None


def _failing(frame: pl.DataFrame, types: dict[str, pl.DataType]) -> str:
    """The first column whose cast fails on its own (else the first one cast)."""
    cast = [n for n, t in types.items() if n in frame.columns and frame.schema[n] != t]
    for name in cast:
        try:
            frame.select(pl.col(name).cast(types[name], strict=True))
        except CAST_ERRORS:
            return name
    return cast[0]
