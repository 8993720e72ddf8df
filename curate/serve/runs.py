"""Run pages: the list of runs, a run's report as a funnel, its card and its audit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from curate.serve import charts
from curate.serve.app import ServeState, find_runs, state_of
from curate.serve.data import Run, find_audit, read_json, run_of
from curate.serve.security import render_markdown, resolve_key, run_key

#: Sections of audit.json in the order the page shows them, with their headings.
AUDIT_SECTIONS = {
    "composition": "Composition",
    "representation": "Representation",
    "harm": "Harm",
    "intersections": "Intersections",
    "association": "Association",
    "filter_impact": "Filter impact",
}


def find_audits(roots: tuple[Path, ...], runs: list[Path]) -> list[Path]:
    """Folders holding an ``audit.json`` that are not a run's own ``curate/audit``."""
    inside = {run / "curate" / "audit" for run in runs}
    found: set[Path] = set()
    for root in roots:
        for path in root.glob("*/audit.json"):
            found.add(path.parent.resolve())
        if (root / "audit.json").is_file():
            found.add(root)
    return sorted(found - inside)


async def index(request: Request) -> Response:
    state = state_of(request)
    folders = find_runs(state.roots)
    runs = [Run(folder=f, key=run_key(state.roots, f)) for f in folders]
    audits = [(run_key(state.roots, a), a) for a in find_audits(state.roots, folders)]
    return state.templates.TemplateResponse(
        request,
        "index.html",
        {"runs": runs, "audits": audits, "roots": state.roots, "registry": state.registry},
    )


@dataclass(frozen=True)
class StageRow:
    """One stage of the run report as the funnel shows it."""

    label: str
    use: str
    rows_in: int
    rows_out: int
    removed: int
    reasons: dict[str, int]
    seconds: float


def funnel(report: dict[str, Any]) -> dict[str, Any]:
    """What the report page shows: documents in, each stage's removals and time, kept."""
    stages = [s for s in report.get("stages", []) if isinstance(s, dict)]
    rows = [
        StageRow(
            label=str(s.get("label") or s.get("use")),
            use=str(s.get("use")),
            rows_in=int(s.get("rows_in") or 0),
            rows_out=int(s.get("rows_out") or 0),
            removed=int(s.get("removed") or 0),
            reasons={str(k): int(v) for k, v in (s.get("removed_by_reason") or {}).items()},
            seconds=float(s.get("seconds") or 0.0),
        )
        for s in stages
    ]
    rows_in = int(report.get("rows_in") or 0)
    rows_out = int(report.get("rows_out") or 0)
    remaining = [("documents in", float(rows_in))] + [
        (r.label, float(r.rows_out)) for r in rows if r.removed
    ]
    return {
        "rows_in": rows_in,
        "rows_out": rows_out,
        "removed": rows_in - rows_out,
        "seconds": float(report.get("seconds") or 0.0),
        "stages": rows,
        "remaining_chart": charts.bars(remaining, title="documents left after each stage"),
        "removed_chart": charts.bars(
            [(f"{r.label}: {reason}", float(n)) for r in rows for reason, n in r.reasons.items()],
            title="documents removed per stage and reason",
        ),
        "time_chart": charts.bars(
            [(r.label, r.seconds) for r in rows], title="seconds per stage", unit="seconds"
        ),
    }


async def report_page(request: Request) -> Response:
    state, run = run_of(request)
    report = run.report
    return state.templates.TemplateResponse(
        request,
        "run_report.html",
        {"run": run, "tab": "report", "report": report, "funnel": funnel(report)},
    )


def split_card(text: str) -> tuple[str, str]:
    """A card's YAML front matter and its Markdown body.

    >>> split_card("---\\na: 1\\n---\\n# T\\n")
    ('a: 1', '# T\\n')
    """
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end >= 0:
            return text[4:end], text[end + 5 :]
    return "", text


async def card_page(request: Request) -> Response:
    state, run = run_of(request)
    path = run.folder / "README.md"
    front, body = split_card(path.read_text(encoding="utf-8")) if path.is_file() else ("", "")
    return state.templates.TemplateResponse(
        request,
        "run_card.html",
        {"run": run, "tab": "card", "front": front, "body": render_markdown(body)},
    )


def audit_charts(audit: dict[str, Any]) -> dict[str, Any]:
    """Inline SVG charts for the audit's sections, from the numbers in audit.json."""
    sections = audit.get("sections") or {}
    out: dict[str, Any] = {}
    composition = sections.get("composition") or {}
    languages = (composition.get("languages") or {}).get("counts") or {}
    lengths = composition.get("length_histogram") or []
    out["composition"] = [
        charts.bars([(k, float(v)) for k, v in languages.items()], title="documents per language"),
        charts.bars(
            [(f"{h['min_words']}-{h['max_words']} words", float(h["documents"])) for h in lengths],
            title="documents by length",
        ),
    ]
    groups = audit.get("groups") or {}
    mentioned = sorted(
        ((g, float(v.get("share") or 0.0)) for g, v in groups.items() if v.get("documents")),
        key=lambda gv: -gv[1],
    )
    out["representation"] = [
        charts.bars(mentioned[:40], title="share of documents mentioning each group", unit="share")
    ]
    harm = sections.get("harm") or {}
    rates = {g: v.get("toxic_rate") for g, v in groups.items()}
    toxic = [(g, float(r)) for g, r in rates.items() if r is not None]
    distribution = (harm.get("distribution") or {}).get("histogram") or []
    out["harm"] = [
        charts.bars(
            [(f"{h['min']:.2f}-{h['max']:.2f}", float(h["documents"])) for h in distribution],
            title="documents by toxicity score",
        ),
        charts.bars(toxic, title="toxic rate per group", unit="share"),
    ]
    impact = (sections.get("filter_impact") or {}).get("stages") or {}
    out["filter_impact"] = [
        charts.bars(
            [(s, float(v.get("removal_rate") or 0.0)) for s, v in impact.items()],
            title="removal rate per stage",
            unit="share",
        )
    ]
    return out


def _audit_context(folder: Path | None) -> dict[str, Any]:
    if folder is None:
        return {"audit": None}
    audit = read_json(folder / "audit.json")
    sections = audit.get("sections") or {}
    shown = [(k, AUDIT_SECTIONS.get(k, k.replace("_", " ").capitalize())) for k in sections]
    return {
        "audit": audit,
        "audit_folder": folder,
        "sections": shown,
        "charts": audit_charts(audit),
        "summary": {k: v for k, v in audit.items() if not isinstance(v, (dict, list))},
    }


async def audit_page(request: Request) -> Response:
    state, run = run_of(request)
    context = {"run": run, "tab": "audit", **_audit_context(run.audit)}
    return state.templates.TemplateResponse(request, "audit.html", context)


async def standalone_audit(request: Request) -> Response:
    state = state_of(request)
    key = request.path_params["key"]
    folder = find_audit(resolve_key(state.roots, key))
    context = {"run": None, "key": key, **_audit_context(folder)}
    return state.templates.TemplateResponse(
        request, "audit.html", context, status_code=200 if folder else 404
    )


def routes(state: ServeState) -> list[BaseRoute]:
    """Routes of the run pages."""
    del state
    get = ["GET", "HEAD"]
    return [
        Route("/", index, name="index", methods=get),
        Route("/run/{key:path}/report", report_page, name="run_report", methods=get),
        Route("/run/{key:path}/card", card_page, name="run_card", methods=get),
        Route("/run/{key:path}/audit", audit_page, name="run_audit", methods=get),
        Route("/audit/{key:path}", standalone_audit, name="audit", methods=get),
    ]
