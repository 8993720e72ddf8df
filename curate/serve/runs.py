"""Run pages: the list of runs, a run's report as a funnel, its card and its audit."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from curate.serve import charts
from curate.serve.app import ServeState, find_runs, state_of
from curate.serve.audit_view import audit_context
from curate.serve.data import AUDIT_FILES, Run, find_audit, run_of
from curate.serve.security import render_markdown, resolve_key, run_key


def find_audits(roots: tuple[Path, ...], runs: list[Path]) -> list[Path]:
    """Folders holding an audit (``audit.json`` or ``audit.html``), not a run's ``curate/audit``."""
    inside = {run / "curate" / "audit" for run in runs}
    found: set[Path] = set()
    for root in roots:
        for name in AUDIT_FILES:
            found.update(path.parent.resolve() for path in root.glob(f"*/{name}"))
            if (root / name).is_file():
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


_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


async def card_page(request: Request) -> Response:
    state, run = run_of(request)
    path = run.folder / "README.md"
    front, body = split_card(path.read_text(encoding="utf-8")) if path.is_file() else ("", "")
    # Markdown viewers hide HTML comments (the card's author markers); shown as escaped text
    # they would read as noise around every section an author still has to write.
    body = _COMMENT.sub("", body)
    return state.templates.TemplateResponse(
        request,
        "run_card.html",
        {"run": run, "tab": "card", "front": front, "body": render_markdown(body)},
    )


#: Headers of the audit's own HTML, shown in a sandboxed frame of the audit page: no script
#: runs, nothing but its inline styles and data: images loads, and only this server frames it.
AUDIT_HTML_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    "sandbox; base-uri 'none'; form-action 'none'; frame-ancestors 'self'",
    "X-Frame-Options": "SAMEORIGIN",
}


def _audit_html(folder: Path | None) -> Response:
    if folder is None or not (folder / "audit.html").is_file():
        raise HTTPException(404, "no audit.html in this folder: write one with curate audit")
    return FileResponse(folder / "audit.html", media_type="text/html", headers=AUDIT_HTML_HEADERS)


async def run_audit_html(request: Request) -> Response:
    _state, run = run_of(request)
    return _audit_html(run.audit)


async def standalone_audit_html(request: Request) -> Response:
    state = state_of(request)
    return _audit_html(find_audit(resolve_key(state.roots, request.path_params["key"])))


async def audit_page(request: Request) -> Response:
    state, run = run_of(request)
    context = {"run": run, "tab": "audit", **audit_context(run.audit)}
    return state.templates.TemplateResponse(request, "audit.html", context)


async def standalone_audit(request: Request) -> Response:
    state = state_of(request)
    key = request.path_params["key"]
    folder = find_audit(resolve_key(state.roots, key))
    context = {"run": None, "key": key, **audit_context(folder)}
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
        Route("/run/{key:path}/audit.html", run_audit_html, name="run_audit_html", methods=get),
        Route("/audit-html/{key:path}", standalone_audit_html, name="audit_html", methods=get),
        Route("/audit/{key:path}", standalone_audit, name="audit", methods=get),
    ]
