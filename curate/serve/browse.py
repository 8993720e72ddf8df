"""The ledger and data browser, and the document view with a near-duplicate side by side.

Filters become one Polars expression over a lazy scan of the run's Parquet files; a page
collects only its slice, projected to the columns it shows, so memory is bounded by the page,
and its count comes from the same scan (curate/serve/matches.py).
"""

from __future__ import annotations

import functools
import math
import operator
import re
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

import polars as pl
from markupsafe import Markup
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from curate import schema
from curate.serve.app import ServeState
from curate.serve.data import SOURCES, Run, Source, run_of, scan
from curate.serve.matches import files_key, page_and_total
from curate.serve.security import diff_words

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
#: Characters of a document shown in a result row.
SNIPPET = 300
#: Words of each document compared in the side-by-side view (difflib is quadratic at worst).
DIFF_WORDS = 5000


@dataclass(frozen=True)
class Query:
    """A browser query, parsed and checked from the URL's parameters.

    >>> q = Query.parse(QueryParams("source=kept&q=Cat&min:lang_score=0.5&page=2"))
    >>> q.source, q.text, q.ranges, q.page
    ('kept', 'Cat', (('lang_score', 0.5, None),), 2)
    """

    source: Source
    stage: str | None
    reason: str | None
    lang: str | None
    group: str | None
    text: str | None
    ranges: tuple[tuple[str, float | None, float | None], ...]
    page: int
    size: int

    @classmethod
    def parse(cls, params: QueryParams) -> Query:
        source = params.get("source") or "removed"
        if source not in SOURCES:
            raise HTTPException(400, f"source: must be one of {', '.join(SOURCES)}, not {source!r}")
        bounds: dict[str, list[float | None]] = {}
        for name, value in params.multi_items():
            side, _, column = name.partition(":")
            if side in ("min", "max") and column and value.strip():
                bounds.setdefault(column, [None, None])[int(side == "max")] = _number(name, value)
        chosen = params.get("col")
        if chosen:
            for index, field in ((0, "lo"), (1, "hi")):
                bound = params.get(field, "").strip()
                if bound:
                    bounds.setdefault(chosen, [None, None])[index] = _number(field, bound)
        return cls(
            source=source,
            stage=params.get("stage") or None,
            reason=params.get("reason") or None,
            lang=params.get("lang") or None,
            group=params.get("group") or None,
            text=params.get("q") or None,
            ranges=tuple((c, lo, hi) for c, (lo, hi) in bounds.items()),
            page=max(_integer("page", params.get("page") or "1"), 1),
            size=min(max(_integer("size", params.get("size") or str(PAGE_SIZE)), 1), MAX_PAGE_SIZE),
        )


def _number(name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise HTTPException(400, f"{name}: {value!r} is not a number") from None
    if math.isnan(number):
        raise HTTPException(400, f"{name}: NaN is not a bound")
    return number


def _integer(name: str, value: str) -> int:
    if not value.isdigit():
        raise HTTPException(400, f"{name}: {value!r} is not a whole number")
    return int(value)


def _need(columns: pl.Schema, name: str, param: str) -> None:
    if name not in columns:
        raise HTTPException(400, f"{param}: these rows have no {name!r} column")


def predicate(query: Query, columns: pl.Schema) -> pl.Expr:
    """The filter ``query`` asks for, over rows with ``columns``; 400 naming a missing column.

    >>> cols = pl.Schema({"text": pl.String, "lang": pl.String})
    >>> q = Query.parse(QueryParams("source=kept&lang=en&q=a.b"))
    >>> pl.DataFrame({"text": ["A.B", "axb"], "lang": ["en", "en"]}).filter(
    ...     predicate(q, cols)).height
    1
    """
    terms: list[pl.Expr] = []
    for value, column in ((query.stage, schema.LEDGER_STAGE), (query.reason, schema.LEDGER_REASON)):
        if value is not None:
            _need(columns, column, column)
            terms.append(pl.col(column) == value)
    if query.lang is not None:
        _need(columns, "lang", "lang")
        terms.append(pl.col("lang") == query.lang)
    if query.group is not None:
        _need(columns, "identities", "group")
        terms.append(pl.col("identities").list.contains(query.group))
    if query.text is not None:
        # Case-insensitive literal search: the escaped text as a regex with the (?i) flag.
        terms.append(pl.col(schema.TEXT).str.contains("(?i)" + re.escape(query.text)))
    for column, lo, hi in query.ranges:
        _need(columns, column, f"min:{column}")
        if not columns[column].is_numeric():
            raise HTTPException(400, f"min:{column}: {column!r} is not a numeric column")
        if lo is not None:
            terms.append(pl.col(column) >= lo)
        if hi is not None:
            terms.append(pl.col(column) <= hi)
    # A chain of `&` rather than all_horizontal: the streaming engine runs it in bounded
    # memory (all_horizontal with fill_null made it hold the whole text column). A filter drops
    # rows where the chain is null, so a missing value never matches a bound.
    return functools.reduce(operator.and_, terms) if terms else pl.lit(True)


def shown_columns(query: Query, columns: pl.Schema) -> list[str]:
    """The columns a result row shows: id, why it was removed, language, the ranged scores."""
    wanted = [schema.ID]
    if query.source == "removed":
        wanted += [schema.LEDGER_STAGE, schema.LEDGER_REASON, schema.LEDGER_DETAIL]
    wanted += ["lang", *(c for c, _, _ in query.ranges)]
    return [c for c in dict.fromkeys(wanted) if c in columns]


def search(run: Run, query: Query) -> dict[str, Any]:
    """The page of rows ``query`` selects, the number of matches and the page count."""
    files = run.files(query.source)
    rows = scan(files)
    columns = rows.collect_schema()
    where = predicate(query, columns)
    shown = shown_columns(query, columns)
    # The count belongs to the files and the filter, not to the page being shown.
    key = (files_key(files), replace(query, page=1, size=PAGE_SIZE))
    page, total, _ = page_and_total(
        rows.filter(where),
        [
            *shown,
            pl.col(schema.TEXT).str.slice(0, SNIPPET).alias("snippet"),
            (pl.col(schema.TEXT).str.len_chars() > SNIPPET).alias("cut"),
        ],
        key=key,
        offset=(query.page - 1) * query.size,
        size=query.size,
        filtered=not where.meta.eq(pl.lit(True)),
    )
    return {
        "total": total,
        "pages": max(math.ceil(total / query.size), 1),
        "columns": shown,
        "rows": page.to_dicts(),
        "numeric": sorted(n for n, t in columns.items() if t.is_numeric()),
        "has_lang": "lang" in columns,
        "has_groups": "identities" in columns,
    }


def _facets(run: Run) -> dict[str, list[str]]:
    """Choices for the stage and reason menus, from the run report (no scan of the ledger)."""
    stages = [s for s in run.report.get("stages", []) if isinstance(s, dict) and s.get("removed")]
    return {
        "stages": [str(s.get("label") or s.get("use")) for s in stages],
        "reasons": sorted({str(r) for s in stages for r in (s.get("removed_by_reason") or {})}),
        "groups": run.identity_groups(),
    }


def _link(request: Request, **changes: str | None) -> str:
    """This page's URL with ``changes`` to its parameters (None drops one)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    params += [(k, v) for k, v in changes.items() if v is not None]
    return f"{request.url.path}?{urlencode(params)}"


async def browse_page(request: Request) -> Response:
    state, run = run_of(request)
    query = Query.parse(request.query_params)
    result = search(run, query)
    pages = {
        "prev": _link(request, page=str(query.page - 1)) if query.page > 1 else None,
        "next": _link(request, page=str(query.page + 1)) if query.page < result["pages"] else None,
    }
    unset: dict[str, str | None] = {"col": None, "lo": None, "hi": None}
    drop = {
        c: _link(request, **unset, **{f"min:{c}": None, f"max:{c}": None}, page=None)
        for c, _, _ in query.ranges
    }
    context = {
        "run": run,
        "tab": query.source,
        "query": query,
        "result": result,
        "pages": pages,
        "drop": drop,
        "facets": _facets(run),
        "ledger_text": (run.report.get("output") or {}).get("ledger_text"),
    }
    return state.templates.TemplateResponse(request, "browse.html", context)


def kept_reference(detail: str | None) -> tuple[str | None, str | None]:
    """The kept document's id named by a duplicate's ledger detail, and another dataset's name.

    >>> kept_reference("kept=doc 7 similarity=0.91")
    ('doc 7', None)
    >>> kept_reference("dataset=wiki id=w:3 similarity=0.8"), kept_reference(None)
    (('w:3', 'wiki'), (None, None))
    """
    if not detail:
        return None, None
    if detail.startswith("kept="):
        return detail[5:].rsplit(" similarity=", 1)[0], None
    found = re.fullmatch(r"dataset=(.*?) id=(.*?)(?: similarity=\S+)?", detail)
    if found:
        return found.group(2), found.group(1)
    return None, None


def _find(run: Run, doc_id: str) -> tuple[Source, dict[str, Any]] | None:
    for source in SOURCES:
        rows = run.rows(source).filter(pl.col(schema.ID) == doc_id).head(1).collect()
        if rows.height:
            return source, rows.row(0, named=True)
    return None


def _words(text: str | None) -> str:
    return " ".join((text or "").split(" ")[:DIFF_WORDS])


async def document_page(request: Request) -> Response:
    state, run = run_of(request)
    doc_id = request.query_params.get("id")
    if not doc_id:
        raise HTTPException(400, "id: give the id of a document (?id=...)")
    found = _find(run, doc_id)
    if found is None:
        raise HTTPException(404, f"no document with id {doc_id!r} in this run")
    source, row = found
    kept_id, other = (None, None)
    if source == "removed":
        kept_id, other = kept_reference(row.get(schema.LEDGER_DETAIL))
    kept = _find(run, kept_id) if kept_id is not None and other is None else None
    diff: tuple[Markup, Markup] | None = None
    if kept is not None:
        diff = diff_words(_words(row.get(schema.TEXT)), _words(kept[1].get(schema.TEXT)))
    context = {
        "run": run,
        "tab": source,
        "source": source,
        "row": row,
        "kept_id": kept_id,
        "other_dataset": other,
        "kept": kept,
        "diff": diff,
        "diff_words": DIFF_WORDS,
    }
    return state.templates.TemplateResponse(request, "document.html", context)


def routes(state: ServeState) -> list[BaseRoute]:
    """Routes of the browser and the document view."""
    del state
    get = ["GET", "HEAD"]
    return [
        Route("/run/{key:path}/browse", browse_page, name="browse", methods=get),
        Route("/run/{key:path}/doc", document_page, name="document", methods=get),
    ]
