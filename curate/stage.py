"""The stage abstraction: a frozen, validated set of parameters that transforms record batches.

A stage reads some columns, may write others, and either keeps every row (``score.*``,
``normalize``) or marks the rows it removes with a reason (``filter``, ``dedup.*``). Removal is
never silent: a stage sets :data:`curate.schema.REASON` (and optionally
:data:`curate.schema.DETAIL`) on the rows it drops, and the executor moves them to the ledger.

Two flavours exist:

* :class:`MapStage` transforms each batch on its own; executors run it in parallel over shards.
* :class:`curate.core.GlobalStage` must see the whole input (deduplication): three phases (map
  per part, reduce, apply per part) that the executor schedules; see :mod:`curate.core`.

Examples
--------
>>> import pyarrow as pa
>>> from curate.stage import MapStage
>>> class Upper(MapStage):
...     name = "example.upper"
...     summary = "Upper-cases text."
...     def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
...         import pyarrow.compute as pc
...         return batch.set_column(1, "text", pc.utf8_upper(batch.column(1)))
>>> b = pa.record_batch({"id": ["a"], "text": ["hi"]})
>>> [x.to_pydict() for x in Upper()([b])]
[{'id': ['a'], 'text': ['HI']}]
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, PrivateAttr

from curate import output_prefix, schema
from curate.errors import PluginError, RecipeError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StageContext:
    """What an executor tells a stage about where it runs.

    ``workdir`` is scratch space private to this stage (spill files); ``workers`` is how many
    threads the stage may use for its own work (a global stage called on a stream runs its
    tasks on that many).
    """

    workdir: Path
    workers: int = 1


class Stage(BaseModel):
    """Base class of every stage. Subclasses declare pydantic fields as their parameters."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: ClassVar[str]
    summary: ClassVar[str]
    kind: ClassVar[Literal["map", "global"]] = "map"
    #: True for stages that may drop rows (they must say why, per row).
    removes_rows: ClassVar[bool] = False
    #: Reasons this stage may write into the ledger, for docs and reports.
    reasons: ClassVar[tuple[str, ...]] = ()

    _ctx: StageContext | None = PrivateAttr(default=None)
    #: ``with: {output_prefix: P}`` (set by the recipe): added columns are written as P<name>.
    _output_prefix: str = PrivateAttr(default="")
    _prefix_depth: int = PrivateAttr(default=0)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        # Here rather than in each stage, so plugin stages get output_prefix without knowing it.
        for attr, wrap in output_prefix.WRAPPERS.items():
            method = cls.__dict__.get(attr)
            if method is not None:
                setattr(cls, attr, wrap(method))

    def set_output_prefix(self, prefix: str) -> None:
        """Write the columns this stage adds as ``prefix`` + name (:mod:`curate.output_prefix`)."""
        self._output_prefix = prefix

    def reads(self) -> tuple[str, ...]:
        """Columns this stage needs."""
        return (schema.TEXT,)

    def writes(self) -> tuple[str, ...]:
        """Columns this stage adds or rewrites."""
        return tuple(f.name for f in self.output_fields())

    def output_fields(self) -> list[pa.Field]:
        """Arrow fields of the columns this stage adds (rewritten columns keep their type)."""
        return []

    def plan(self, columns: Mapping[str, pa.DataType]) -> dict[str, pa.DataType]:
        """Check this stage against the columns available before it; return those after it.

        Raises :class:`RecipeError` naming the missing column. Override to validate more
        (the ``filter`` stage compiles its expression here).
        """
        missing = [c for c in self.reads() if c not in columns]
        if missing:
            have = ", ".join(sorted(columns))
            raise RecipeError(
                f"stage {self.name!r} reads column {missing[0]!r}, which nothing produces "
                f"(available: {have})",
                hint="add a stage that writes it earlier in the recipe, or fix the column name",
            )
        out = dict(columns)
        for f in self.output_fields():
            out[f.name] = f.type
        return out

    def setup(self, ctx: StageContext) -> None:
        """Called once per worker before the first batch; load models here, lazily."""
        self._ctx = ctx

    @property
    def ctx(self) -> StageContext:
        if self._ctx is None:
            raise RuntimeError(f"stage {self.name} used before setup()")
        return self._ctx

    def model_versions(self) -> dict[str, str]:
        """Models this stage used, as ``{asset name: sha256}``, for the run report."""
        return {}

    def params(self) -> dict[str, Any]:
        """Resolved parameters, defaults filled, as plain JSON-able data."""
        return self.model_dump(mode="json")

    def describe(self) -> dict[str, Any]:
        """A JSON-able description for ``curate check`` and reports."""
        return {"use": self.name, "params": self.params()}

    @abstractmethod
    def __call__(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """Transform a stream of batches."""


class MapStage(Stage):
    """A stage that handles each batch independently (parallel over shards)."""

    kind: ClassVar[Literal["map", "global"]] = "map"

    @abstractmethod
    def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Transform one batch; must return as many rows as it got (mark removals instead)."""

    def __call__(self, batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        if self._ctx is None:
            self.setup(StageContext(workdir=Path(".")))
        for batch in batches:
            out = self.process(batch)
            if out.num_rows != batch.num_rows:
                raise RuntimeError(
                    f"stage {self.name} returned {out.num_rows} rows for {batch.num_rows}; "
                    "stages mark removed rows, they never drop them"
                )
            yield conform_output(self, out)


def mark_removed(
    batch: pa.RecordBatch, reasons: pa.Array, details: pa.Array | None = None
) -> pa.RecordBatch:
    """Attach per-row removal reasons (null = keep) and optional details to ``batch``."""
    names = list(batch.schema.names)
    cols = list(batch.columns)
    for name, arr in ((schema.REASON, reasons), (schema.DETAIL, details)):
        if arr is None:
            continue
        arr = arr.cast(pa.string())
        if name in names:
            cols[names.index(name)] = arr
        else:
            names.append(name)
            cols.append(arr)
    return pa.RecordBatch.from_arrays(cols, names=names)


def set_column(batch: pa.RecordBatch, name: str, values: pa.Array) -> pa.RecordBatch:
    """Replace column ``name`` or append it, keeping internal columns last."""
    names = list(batch.schema.names)
    if name in names:
        return batch.set_column(names.index(name), name, values)
    pos = len(names)
    for internal in schema.INTERNAL:
        if internal in names:
            pos = min(pos, names.index(internal))
    return batch.add_column(pos, name, values)


def conform_output(stage: Stage, batch: pa.RecordBatch) -> pa.RecordBatch:
    """``batch`` with each column ``stage`` declares in :meth:`Stage.output_fields` of its type.

    A column of another type is cast when Arrow can do so safely (no overflow, no truncation);
    otherwise, and for a declared column the stage did not write, :class:`PluginError` names the
    stage, the column and both types. Executors call this on every batch a stage returns.

    >>> class Count(MapStage):
    ...     name = "example.count"
    ...     summary = "Counts."
    ...     def output_fields(self) -> list[pa.Field]:
    ...         return [pa.field("n", pa.int64())]
    ...     def process(self, batch: pa.RecordBatch) -> pa.RecordBatch:
    ...         return batch
    >>> small = pa.record_batch({"n": pa.array([1], pa.int8())})
    >>> conform_output(Count(), small).schema.field("n").type
    DataType(int64)
    >>> try:
    ...     conform_output(Count(), pa.record_batch({"n": ["one"]}))
    ... except PluginError as err:
    ...     print(err.message.split(", and")[0])
    stage 'example.count' wrote column 'n' as string, but declares int64
    """
    names = batch.schema.names
    for declared in stage.output_fields():
        if declared.name not in names:
            raise PluginError(
                f"stage {stage.name!r} declares the output column {declared.name!r} "
                f"({declared.type}) but did not write it",
                hint="write the column in every batch, or leave it out of output_fields()",
            )
        i = names.index(declared.name)
        actual = batch.schema.field(i).type
        if actual == declared.type:
            continue
        try:
            values = batch.column(i).cast(declared.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            raise PluginError(
                f"stage {stage.name!r} wrote column {declared.name!r} as {actual}, but declares "
                f"{declared.type}, and its values do not convert: {exc}",
                hint="return the declared type from the stage, or declare the type it writes "
                "in output_fields()",
            ) from exc
        batch = batch.set_column(i, declared.name, values)
    return batch
