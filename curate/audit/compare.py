"""Section 7, compare: the headline numbers of two audits side by side, with differences.

Differences are ``this - other`` (for ratios as well), where ``this`` is the audited dataset and
``other`` the one given with ``--compare``.

>>> a = {"documents": 10, "languages": {"en": 1.0}, "toxic_share": 0.1, "groups": {}}
>>> b = {"documents": 20, "languages": {"en": 0.5, "fr": 0.5}, "toxic_share": 0.2, "groups": {}}
>>> c = compare_section(a, b, other_name="raw.jsonl")
>>> c["documents"], c["languages"]["fr"]
({'this': 10, 'other': 20, 'difference': -10}, {'this': 0.0, 'other': 0.5, 'difference': -0.5})
"""

from __future__ import annotations

from typing import Any

GROUP_FIELDS = ("documents", "share", "toxic_rate", "disparity_ratio")


def _pair(this: Any, other: Any) -> dict[str, Any]:
    diff = (
        this - other if isinstance(this, (int, float)) and isinstance(other, (int, float)) else None
    )
    return {"this": this, "other": other, "difference": diff}


def headline(report: dict[str, Any]) -> dict[str, Any]:
    """The numbers a comparison shows, from a full report."""
    harm = report["sections"].get("harm") or {}
    dist = harm.get("distribution") or {}
    comp = report["sections"].get("composition") or {}
    return {
        "documents": report["documents"],
        "languages": report["languages"],
        "toxic_share": dist.get("toxic_share"),
        "words_per_document": (comp.get("words_per_document") or {}).get("mean"),
        "groups": report["groups"],
    }


def compare_section(
    this: dict[str, Any], other: dict[str, Any], *, other_name: str
) -> dict[str, Any]:
    """Side-by-side numbers of two :func:`headline` dicts."""
    langs = sorted(set(this["languages"]) | set(other["languages"]))
    groups = sorted(set(this["groups"]) | set(other["groups"]))
    # A group absent from one report is mentioned by none of its documents.
    empty: dict[str, Any] = {"documents": 0, "share": 0.0}
    return {
        "method": "Each dataset is audited the same way; difference = this - other.",
        "other": other_name,
        "documents": _pair(this["documents"], other["documents"]),
        "toxic_share": _pair(this.get("toxic_share"), other.get("toxic_share")),
        "words_per_document": _pair(
            this.get("words_per_document"), other.get("words_per_document")
        ),
        "languages": {
            lang: _pair(this["languages"].get(lang, 0.0), other["languages"].get(lang, 0.0))
            for lang in langs
        },
        "groups": {
            g: {
                f: _pair(this["groups"].get(g, empty).get(f), other["groups"].get(g, empty).get(f))
                for f in GROUP_FIELDS
            }
            for g in groups
        },
    }
