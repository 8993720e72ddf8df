"""Planning a run: the schema after each stage, and the split into segments.

A segment is an optional global stage followed by map stages. Map stages of a segment run
together on each shard (in parallel); a global stage sees the whole output of the previous
segment.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from curate import schema
from curate.errors import RecipeError
from curate.stage import Stage

log = logging.getLogger(__name__)


@dataclass
class Step:
    """A stage with its label (recipe id) and position."""

    index: int
    label: str
    stage: Stage
    #: ``with: {overwrite: true}``: replacing input columns is intended, so no warning.
    overwrite: bool = False


@dataclass
class Segment:
    index: int
    global_step: Step | None
    map_steps: list[Step] = field(default_factory=list)


def segments(steps: Sequence[Step]) -> list[Segment]:
    """Split steps into segments at each global stage; there is always at least one."""
    out = [Segment(0, None)]
    for step in steps:
        if step.stage.kind == "global":
            out.append(Segment(len(out), step))
        else:
            out[-1].map_steps.append(step)
    if out[0].global_step is None and not out[0].map_steps and len(out) > 1:
        out = out[1:]
        for i, seg in enumerate(out):
            seg.index = i
    return out


def replaced_input_columns(step: Step, columns: Mapping[str, pa.DataType]) -> list[str]:
    """The input ``columns`` that ``step`` writes over (``text`` aside: rewriting it is what
    ``normalize`` and ``redact.pii`` are for).

    >>> from curate.stages.score_quality import ScoreQuality
    >>> step = Step(0, "score.quality", ScoreQuality())
    >>> replaced_input_columns(step, {"id": pa.string(), "quality_word_count": pa.int64()})
    ['quality_word_count']
    """
    return [c for c in step.stage.writes() if c in columns and c not in (schema.TEXT, schema.ID)]


def plan_columns(steps: Sequence[Step], columns: dict[str, pa.DataType]) -> list[dict[str, Any]]:
    """Check each stage against the columns before it; a description per stage.

    A stage that writes a column the input already has is listed as ``overwrites`` in its
    description, and logged as a warning unless the recipe says ``with: {overwrite: true}``.
    """
    plan = []
    cols = dict(columns)
    for step in steps:
        try:
            after = step.stage.plan(cols)
        except RecipeError as exc:
            raise RecipeError(
                f"stages[{step.index}] ({step.label}): {exc.message}", hint=exc.hint
            ) from exc
        desc = step.stage.describe()
        desc.update(
            label=step.label,
            kind=step.stage.kind,
            reads=list(step.stage.reads()),
            writes=list(step.stage.writes()),
            removes_rows=step.stage.removes_rows,
        )
        replaced = replaced_input_columns(step, columns)
        if replaced:
            desc["overwrites"] = replaced
        if replaced and not step.overwrite:
            log.warning(
                "warning: stages[%d] (%s) writes %s, which the input already has: the input's "
                "values are replaced (give the input column another name to keep them, or set "
                "`with: {overwrite: true}` on the stage to replace them without this warning)",
                step.index,
                step.label,
                ", ".join(repr(c) for c in replaced),
            )
        plan.append(desc)
        cols = after
    for i, step in enumerate(steps):
        # A stage may have something to say about the stages after it (see score.toxicity).
        notes: list[str] = getattr(step.stage, "downstream_warnings", lambda later: [])(
            [s.stage for s in steps[i + 1 :]]
        )
        if notes:
            plan[i]["warnings"] = notes
            for note in notes:
                logging.getLogger(__name__).warning("warning: stages[%d]: %s", step.index, note)
    return plan


def output_schema(steps: Sequence[Step], input_schema: pa.Schema) -> pa.Schema:
    """The schema of kept rows after every stage, for empty outputs."""
    cols: dict[str, pa.DataType] = {f.name: f.type for f in input_schema}
    for step in steps:
        cols = step.stage.plan(cols)
    return pa.schema([pa.field(k, v) for k, v in cols.items() if k not in schema.INTERNAL])


@dataclass
class StageStats:
    """Counts for one stage, summed over shards."""

    rows_in: int = 0
    rows_out: int = 0
    removed_by_reason: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    #: CPU time of the process running the stage (all its threads): unlike ``seconds``, it
    #: does not grow when other programs compete for the cores.
    cpu_seconds: float = 0.0

    @property
    def removed(self) -> int:
        return sum(self.removed_by_reason.values())

    def add(self, other: StageStats) -> None:
        self.rows_in += other.rows_in
        self.rows_out += other.rows_out
        self.removed_by_reason.update(other.removed_by_reason)
        self.seconds += other.seconds
        self.cpu_seconds += other.cpu_seconds

    def to_json(self) -> dict[str, Any]:
        return {
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "removed": self.removed,
            "removed_by_reason": dict(sorted(self.removed_by_reason.items())),
            "seconds": round(self.seconds, 3),
            "cpu_seconds": round(self.cpu_seconds, 3),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StageStats:
        return cls(
            data["rows_in"],
            data["rows_out"],
            Counter(data["removed_by_reason"]),
            data["seconds"],
            data.get("cpu_seconds", 0.0),
        )
