"""The audit page: audit.json turned into blocks (fields, tables, folds) and SVG charts.

audit.json nests lists of records (a histogram), maps of records (per group, per stage) and
long lists of names. Printed as they are, they become one long line of text each, and the
per-group maps list every lexicon group, most of them with no document. Here each becomes what
the audit's own HTML shows: a table, a chart, and one folded line naming the groups with too
few documents and counting those with none.

>>> rows = {"g/a": {"documents": 40, "insufficient": False}, "g/b": {"documents": 2,
...         "insufficient": True}, "g/c": {"documents": 0, "insufficient": True}}
>>> [b.kind for b in blocks(rows)], blocks(rows)[1].summary, blocks(rows)[2].summary
(['table', 'fold', 'fold'], '1 groups with too few documents', '1 groups not mentioned at all')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from markupsafe import Markup

from curate.serve import charts
from curate.serve.data import read_json

#: Sections of audit.json in the order the page shows them, with their headings.
AUDIT_SECTIONS = {
    "composition": "Composition",
    "representation": "Representation",
    "harm": "Harm",
    "intersections": "Intersections",
    "association": "Association",
    "filter_impact": "Filter impact",
}

#: The field counting a group's documents, by the section writing it (first one present wins).
COUNT_FIELDS = ("documents", "scored", "entering", "labelled", "input_documents")
#: Lists longer than this fold in a table cell or a field (e.g. the 92 nationality names).
FOLD_ITEMS = 8
#: Cell text longer than this wraps between words; shorter cells stay on one line.
LONG_CELL = 40
#: Flat maps with more keys than this are tables with a row per key, not a column per key.
WIDE_KEYS = 12
#: Nesting below this depth is not shown (audit.json has at most four levels that matter).
MAX_DEPTH = 4

Kind = Literal["fields", "table", "fold", "sub"]


@dataclass(frozen=True)
class Cell:
    """One table cell or field value: its text, and a fold when it is a long list."""

    text: str
    fold: str | None = None
    wrap: bool = False
    number: bool = False


@dataclass(frozen=True)
class Block:
    """One piece of a section: ``fields`` (name/value pairs), a ``table`` (folded when it has a
    ``summary``), a ``fold`` (one line, open to read) or a ``sub`` heading over more blocks."""

    kind: Kind
    summary: str = ""
    fields: list[tuple[str, Cell]] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[tuple[str, list[Cell]]] = field(default_factory=list)
    text: str = ""
    children: list[Block] = field(default_factory=list)


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _is_record_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(x, dict) for x in value)


def cell(value: Any) -> Cell:
    """A value as one cell: lists of names fold past :data:`FOLD_ITEMS`, intervals in brackets.

    >>> cell([0.1, 0.25]).text, cell(list(range(9))).text, cell(3).number
    ('[0.1, 0.25]', '9 items', True)
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Cell(_scalar(value), number=True)
    if isinstance(value, list):
        if _is_record_list(value):
            parts = [", ".join(f"{k}: {_scalar(x)}" for k, x in r.items()) for r in value]
            text = "; ".join(parts)
        else:
            text = ", ".join(_scalar(x) for x in value)
        if len(value) > FOLD_ITEMS:
            return Cell(f"{len(value):,} items", fold=text, wrap=True)
        if len(value) == 2 and all(isinstance(x, (int, float)) for x in value):
            return Cell(f"[{text}]", number=True)
        return Cell(text, wrap=len(text) > LONG_CELL)
    if isinstance(value, dict):
        text = "; ".join(f"{k}: {cell(x).fold or cell(x).text}" for k, x in value.items())
        return Cell(text, wrap=len(text) > LONG_CELL)
    text = _scalar(value)
    return Cell(text, wrap=len(text) > LONG_CELL)


def _table(records: Sequence[tuple[str, Mapping[str, Any]]]) -> Block:
    header: list[str] = []
    for _, record in records:
        header += [k for k, v in record.items() if k not in header and not isinstance(v, dict)]
    rows = [(name, [cell(r.get(k)) for k in header]) for name, r in records]
    return Block("table", header=header, rows=rows)


def _count_field(rows: Mapping[str, Any]) -> str | None:
    """The count field when ``rows`` are per-group records (``axis/group`` keys)."""
    first = next(iter(rows.values()))
    if not all("/" in str(k) for k in rows):
        return None
    return next((f for f in COUNT_FIELDS if f in first), None)


def group_blocks(rows: Mapping[str, Mapping[str, Any]], count: str) -> list[Block]:
    """Groups with enough documents as a table (most documents first); the others folded."""
    ordered = sorted(rows.items(), key=lambda kv: -float(kv[1].get(count) or 0))
    shown = [(g, r) for g, r in ordered if r.get(count) and not r.get("insufficient")]
    thin = [(g, r) for g, r in ordered if r.get(count) and r.get("insufficient")]
    never = [g for g, r in ordered if not r.get(count)]
    out: list[Block] = []
    if shown:
        out.append(_table(shown))
    elif thin:
        out.append(Block("fold", summary="No group has enough documents for rates or ratios"))
    if thin:
        named = ", ".join(f"{g} ({_scalar(r.get(count))})" for g, r in thin)
        out.append(Block("fold", summary=f"{len(thin)} groups with too few documents", text=named))
    if never:
        summary = f"{len(never)} groups not mentioned at all"
        out.append(Block("fold", summary=summary, text=", ".join(never)))
    return out


def _flat(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and bool(value)
        and not any(isinstance(x, dict) for x in value.values())
    )


def _flat_table(maps: Sequence[tuple[str, dict[str, Any]]]) -> Block:
    """Flat maps sharing their keys as one table: a column per key, or a row per key when
    there are more than :data:`WIDE_KEYS` (e.g. counts and shares of a hundred languages)."""
    keys = list(maps[0][1])
    if len(keys) <= WIDE_KEYS:
        return _table(maps)
    columns = [name for name, _ in maps]
    rows = [(k, [cell(m.get(k)) for _, m in maps]) for k in keys]
    return Block("table", header=columns, rows=rows)


def blocks(value: Any, *, depth: int = 0) -> list[Block]:
    """The blocks showing one audit.json value (a section, or a field of one)."""
    if _is_record_list(value):
        table = _table([(str(i + 1), r) for i, r in enumerate(value)])
        if len(value) > FOLD_ITEMS:
            # Long record lists are the histograms the section's charts draw: numbers on demand.
            return [replace(table, summary=f"the {len(value)} rows as a table")]
        return [table]
    if not isinstance(value, dict) or not value:
        return [Block("fields", fields=[("", cell(value))])] if value not in ({}, None) else []
    if all(isinstance(v, dict) for v in value.values()):
        count = _count_field(value)
        if count is not None:
            return group_blocks(value, count)
        if all(not isinstance(x, dict) for v in value.values() for x in v.values()):
            return [_table(list(value.items()))]
    fields = [
        (str(k), cell(v))
        for k, v in value.items()
        if k != "method" and not isinstance(v, dict) and not _is_record_list(v)
    ]
    out = [Block("fields", fields=fields)] if fields else []
    flat = [(str(k), v) for k, v in value.items() if _flat(v) and _count_field(v) is None]
    if len(flat) > 1 and all(list(v) == list(flat[0][1]) for _, v in flat):
        out.append(_flat_table(flat))
    elif len(flat) == 1 and len(flat[0][1]) <= WIDE_KEYS:
        name, only = flat[0]
        out.append(Block("sub", summary=name.replace("_", " "), children=[_table([("", only)])]))
    else:
        flat = []
    folded = {k for k, _ in flat}
    for k, v in value.items():
        if str(k) in folded:
            continue
        if (isinstance(v, dict) and v) or _is_record_list(v):
            children = blocks(v, depth=depth + 1) if depth < MAX_DEPTH else []
            out.append(Block("sub", summary=str(k).replace("_", " "), children=children))
    return out


def audit_charts(audit: dict[str, Any]) -> dict[str, list[Markup]]:
    """Inline SVG charts for the audit's sections, from the numbers in audit.json."""
    sections = audit.get("sections") or {}
    composition = sections.get("composition") or {}
    languages = (composition.get("languages") or {}).get("counts") or {}
    lengths = composition.get("length_histogram") or []
    groups = audit.get("groups") or {}
    mentioned = sorted(
        ((g, float(v.get("share") or 0.0)) for g, v in groups.items() if v.get("documents")),
        key=lambda gv: -gv[1],
    )
    rates = {g: v.get("toxic_rate") for g, v in groups.items()}
    toxic = [(g, float(r)) for g, r in rates.items() if r is not None]
    harm = sections.get("harm") or {}
    distribution = (harm.get("distribution") or {}).get("histogram") or []
    impact = (sections.get("filter_impact") or {}).get("stages") or {}
    return {
        "composition": [
            charts.bars(
                [(k, float(v)) for k, v in languages.items()], title="documents per language"
            ),
            charts.bars(
                [
                    (f"{h['min_words']}-{h['max_words']} words", float(h["documents"]))
                    for h in lengths
                ],
                title="documents by length",
            ),
        ],
        "representation": [
            charts.bars(
                mentioned[:40], title="share of documents mentioning each group", unit="share"
            )
        ],
        "harm": [
            charts.bars(
                [(f"{h['min']:.2f}-{h['max']:.2f}", float(h["documents"])) for h in distribution],
                title="documents by toxicity score",
            ),
            charts.bars(toxic, title="toxic rate per group", unit="share"),
        ],
        "filter_impact": [
            charts.bars(
                [(s, float(v.get("removal_rate") or 0.0)) for s, v in impact.items()],
                title="removal rate per stage",
                unit="share",
            )
        ],
    }


def audit_context(folder: Path | None) -> dict[str, Any]:
    """What audit.html needs: the sections as blocks, or the audit's own HTML to embed."""
    if folder is None:
        return {"audit": None, "embed": False}
    if not (folder / "audit.json").is_file():
        # Only the rendered audit: the page frames it rather than saying there is no audit.
        return {"audit": None, "embed": True, "audit_folder": folder}
    audit = read_json(folder / "audit.json")
    sections = audit.get("sections") or {}
    shown = [(k, AUDIT_SECTIONS.get(k, k.replace("_", " ").capitalize())) for k in sections]
    return {
        "audit": audit,
        "embed": False,
        "audit_folder": folder,
        "sections": shown,
        "charts": audit_charts(audit),
        "methods": {k: s.get("method") for k, s in sections.items() if isinstance(s, dict)},
        "blocks": {k: blocks(s) for k, s in sections.items()},
        "group_blocks": blocks(audit.get("groups") or {}),
        "summary": [(k, cell(v)) for k, v in audit.items() if not isinstance(v, (dict, list))],
    }
