"""``with: {output_prefix: P}``: a map stage's added columns written as ``P<name>``.

A stage that adds a column the input already has replaces the input's values (the input's gold
``lang`` and ``score.language``'s). With an output prefix the stage's columns are renamed
(``pred_lang``, ``pred_lang_score``) and the input's columns stay as they were, so both can be
compared. Every stage gets this without knowing of it: :class:`curate.stage.Stage` wraps the
three methods that name or write its added columns (``output_fields``, ``writes``,
``process``) on each subclass with the functions here. A wrapper renames only in the outermost
call, so a subclass that calls ``super()`` is not renamed twice.

Rewritten columns (``text`` for ``normalize`` and ``redact.pii``) are not added columns, so the
prefix leaves them alone.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pyarrow as pa

from curate.errors import RecipeError

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def _inner(stage: Any) -> Iterator[None]:
    stage._prefix_depth += 1
    try:
        yield
    finally:
        stage._prefix_depth -= 1


def _active(stage: Any) -> str:
    """The prefix to apply in this call: none inside another wrapped call."""
    return "" if stage._prefix_depth else str(stage._output_prefix)


def added_names(stage: Any) -> set[str]:
    """The names of the columns ``stage`` adds, before any prefix."""
    with _inner(stage):
        return {f.name for f in stage.output_fields()}


def output_fields(method: F) -> F:
    @functools.wraps(method)
    def wrapped(self: Any) -> list[pa.Field]:
        prefix = _active(self)
        with _inner(self):
            fields: list[pa.Field] = method(self)
        return [f.with_name(prefix + f.name) for f in fields] if prefix else fields

    return wrapped  # type: ignore[return-value]


def writes(method: F) -> F:
    @functools.wraps(method)
    def wrapped(self: Any) -> tuple[str, ...]:
        prefix = _active(self)
        with _inner(self):
            names: tuple[str, ...] = method(self)
        if not prefix:
            return names
        added = added_names(self)
        return tuple(prefix + n if n in added else n for n in names)

    return wrapped  # type: ignore[return-value]


def process(method: F) -> F:
    @functools.wraps(method)
    def wrapped(self: Any, batch: pa.RecordBatch) -> pa.RecordBatch:
        prefix = _active(self)
        with _inner(self):
            out: pa.RecordBatch = method(self, batch)
        if not prefix:
            return out
        added = added_names(self)
        stale = [n for n in out.schema.names if n in {prefix + a for a in added}]
        out = out.drop_columns(stale)  # an input column of a prefixed name is replaced
        out = out.rename_columns([prefix + n if n in added else n for n in out.schema.names])
        # The input's own columns of those names come back, where they were.
        for i, name in enumerate(batch.schema.names):
            if name in added:
                out = out.add_column(min(i, out.num_columns), name, batch.column(i))
        return out

    return wrapped  # type: ignore[return-value]


def check_prefix(where: str, use: str, stage: Any) -> None:
    """An output prefix renames the columns a map stage adds; on anything else it is a mistake."""
    if stage.kind != "map":
        raise RecipeError(
            f"{where}: {use} is a global stage; output_prefix applies to map stages",
            hint="remove output_prefix, or give the input's column another name",
        )
    if not added_names(stage):
        raise RecipeError(
            f"{where}: {use} adds no columns, so there is nothing to prefix",
            hint="remove output_prefix from this stage",
        )


WRAPPERS: dict[str, Callable[[Any], Any]] = {
    "output_fields": output_fields,
    "writes": writes,
    "process": process,
}
