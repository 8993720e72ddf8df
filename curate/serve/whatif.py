"""What-if: what a threshold on a score column would remove, and from which identity groups.

The numbers come from one lazy Polars query over the run's kept rows (``data/``), the rows a
``filter`` stage appended to the recipe would see. Retention is read like the audit reads
groups: a document belongs to every ``axis/group`` in its ``identities`` list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import polars as pl
import yaml
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from curate import schema
from curate.serve import charts
from curate.serve.app import ServeState
from curate.serve.browse import SNIPPET
from curate.serve.data import run_of

Direction = Literal["below", "at_or_above"]
Nulls = Literal["keep", "remove"]
SAMPLE = 20
#: Below this many documents a group's rate is shown but marked, as the audit's min_documents.
MIN_DOCUMENTS = 30
IDENTITIES = "identities"


@dataclass(frozen=True)
class Threshold:
    """A rule on one numeric column: remove values below ``value``, or at or above it.

    >>> t = Threshold(column="toxicity", value=0.5, direction="at_or_above", nulls="keep")
    >>> t.where
    'toxicity IS NULL OR toxicity < 0.5'
    >>> Threshold(column="lang_score", value=0.65, direction="below", nulls="remove").where
    'lang_score >= 0.65'
    """

    column: str
    value: float
    direction: Direction
    nulls: Nulls

    @property
    def where(self) -> str:
        """The ``filter`` condition keeping what this rule keeps, in curate's SQL."""
        name = self.column
        if not name.isidentifier():
            name = '"' + name.replace('"', '""') + '"'
        value = repr(int(self.value)) if self.value.is_integer() else repr(self.value)
        keep = f"{name} >= {value}" if self.direction == "below" else f"{name} < {value}"
        return f"{name} IS NULL OR {keep}" if self.nulls == "keep" else keep

    def kept(self) -> pl.Expr:
        """True for rows the rule keeps (the same rows the ``where`` keeps)."""
        column = pl.col(self.column)
        keep = column >= self.value if self.direction == "below" else column < self.value
        return (keep | column.is_null()) if self.nulls == "keep" else keep.fill_null(False)

    def stage_yaml(self) -> str:
        """The ``filter`` stage to paste into a recipe's ``stages:``."""
        side = "below" if self.direction == "below" else "above"
        stage = {
            "use": "filter",
            "id": f"{self.column}-{side}-{self.value:g}".replace("_", "-"),
            "with": {"where": self.where, "reason": f"{self.column}-{side}-threshold"},
        }
        return yaml.safe_dump([stage], sort_keys=False, allow_unicode=True, width=1000)


def parse(params: QueryParams, numeric: list[str]) -> Threshold | None:
    """The threshold the form asks for; None before one is chosen; 400 naming a bad field."""
    column = params.get("column")
    if not column:
        return None
    if column not in numeric:
        raise HTTPException(400, f"column: {column!r} is not a numeric column of the kept rows")
    raw = params.get("threshold", "").strip()
    try:
        value = float(raw)
    except ValueError:
        raise HTTPException(400, f"threshold: {raw!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise HTTPException(400, "threshold: must be a finite number")
    direction = params.get("direction") or "below"
    nulls = params.get("nulls") or "keep"
    if direction not in ("below", "at_or_above"):
        raise HTTPException(400, "direction: must be 'below' or 'at_or_above'")
    if nulls not in ("keep", "remove"):
        raise HTTPException(400, "nulls: must be 'keep' or 'remove'")
    return Threshold(column=column, value=value, direction=direction, nulls=nulls)  # type: ignore[arg-type]


def evaluate(rows: pl.LazyFrame, rule: Threshold, *, has_groups: bool) -> dict[str, Any]:
    """Counts, a sample of removed documents and per-group retention for ``rule``."""
    keep = rule.kept()
    totals = rows.select(
        documents=pl.len(),
        removed=(~keep).sum(),
        nulls=pl.col(rule.column).is_null().sum(),
    ).collect(engine="streaming")
    documents, removed, nulls = (int(v) for v in totals.row(0))
    retention = (documents - removed) / documents if documents else None
    sample = (
        rows.filter(~keep)
        .select(schema.ID, rule.column, pl.col(schema.TEXT).str.slice(0, SNIPPET).alias("snippet"))
        .head(SAMPLE)
        .collect(engine="streaming")
        .to_dicts()
    )
    groups: list[dict[str, Any]] = []
    if has_groups:
        per_group = (
            rows.select(pl.col(IDENTITIES), (~keep).alias("removed"))
            .explode(IDENTITIES)
            .drop_nulls(IDENTITIES)
            .group_by(IDENTITIES)
            .agg(documents=pl.len(), removed=pl.col("removed").sum())
            .sort(IDENTITIES)
            .collect(engine="streaming")
        )
        for group, n, gone in per_group.iter_rows():
            kept_share = (n - gone) / n if n else None
            groups.append(
                {
                    "group": group,
                    "documents": n,
                    "removed": gone,
                    "retention": kept_share,
                    "ratio": kept_share / retention
                    if kept_share is not None and retention
                    else None,
                    "insufficient": n < MIN_DOCUMENTS,
                }
            )
    chart = charts.bars(
        [(g["group"], g["retention"]) for g in groups if g["retention"] is not None],
        title="retention per identity group (dashed: overall)",
        unit="share",
        reference=retention,
    )
    return {
        "documents": documents,
        "removed": removed,
        "kept": documents - removed,
        "nulls": nulls,
        "retention": retention,
        "sample": sample,
        "groups": groups,
        "chart": chart,
    }


async def whatif_page(request: Request) -> Response:
    state, run = run_of(request)
    rows = run.rows("kept")
    columns = rows.collect_schema()
    numeric = sorted(n for n, t in columns.items() if t.is_numeric())
    rule = parse(request.query_params, numeric)
    result = evaluate(rows, rule, has_groups=IDENTITIES in columns) if rule else None
    context = {
        "run": run,
        "tab": "whatif",
        "numeric": numeric,
        "rule": rule,
        "result": result,
        "has_groups": IDENTITIES in columns,
        "min_documents": MIN_DOCUMENTS,
    }
    return state.templates.TemplateResponse(request, "whatif.html", context)


def routes(state: ServeState) -> list[BaseRoute]:
    """Routes of the what-if page."""
    del state
    return [Route("/run/{key:path}/whatif", whatif_page, name="whatif", methods=["GET", "HEAD"])]
