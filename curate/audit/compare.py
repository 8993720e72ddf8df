"""The compare section: the headline numbers of two audits side by side, with differences.

Differences are ``this - other`` (for ratios as well), where ``this`` is the audited dataset and
``other`` the one given with ``--compare``. Differences of proportions (shares, toxic rates) carry
Newcombe's hybrid score 95% interval (``difference_ci95``), computed from the counts behind them.

>>> a = {"documents": 10, "languages": {"en": 1.0}, "toxic_share": 0.1, "groups": {}}
>>> b = {"documents": 20, "languages": {"en": 0.5, "fr": 0.5}, "toxic_share": 0.2, "groups": {}}
>>> c = compare_section(a, b, other_name="raw.jsonl")
>>> c["documents"]
{'this': 10, 'other': 20, 'difference': -10}
>>> fr = c["languages"]["fr"]
>>> fr["difference"], [round(x, 3) for x in fr["difference_ci95"]]
(-0.5, [-0.701, -0.158])
"""

from __future__ import annotations

from typing import Any

from curate.audit.effects import risk_difference

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
        "scored": dist.get("scored"),
        "toxic": dist.get("toxic"),
        "harm_counts": {
            g: (r["toxic"], r["scored"]) for g, r in (harm.get("groups") or {}).items()
        },
    }


def _newcombe(pair: dict[str, Any], this: tuple[int, int], other: tuple[int, int]) -> None:
    """Add the interval of a difference of two proportions given as ``(events, total)``."""
    if pair["difference"] is not None and this[1] > 0 and other[1] > 0:
        pair["difference_ci95"] = list(risk_difference(this[0], this[1], other[0], other[1])[1:])
    else:
        pair["difference_ci95"] = None


def compare_section(
    this: dict[str, Any], other: dict[str, Any], *, other_name: str
) -> dict[str, Any]:
    """Side-by-side numbers of two :func:`headline` dicts."""
    langs = sorted(set(this["languages"]) | set(other["languages"]))
    groups = sorted(set(this["groups"]) | set(other["groups"]))
    # A group absent from one report is mentioned by none of its documents.
    empty: dict[str, Any] = {"documents": 0, "share": 0.0}
    groups_out = {
        g: {
            f: _pair(this["groups"].get(g, empty).get(f), other["groups"].get(g, empty).get(f))
            for f in GROUP_FIELDS
        }
        for g in groups
    }
    for g, row in groups_out.items():
        docs = [d["groups"].get(g, empty)["documents"] for d in (this, other)]
        _newcombe(row["share"], (docs[0], this["documents"]), (docs[1], other["documents"]))
        harm = [d.get("harm_counts", {}).get(g, (0, 0)) for d in (this, other)]
        _newcombe(row["toxic_rate"], tuple(harm[0]), tuple(harm[1]))
    languages = {
        lang: _pair(this["languages"].get(lang, 0.0), other["languages"].get(lang, 0.0))
        for lang in langs
    }
    for lang, row in languages.items():
        # Shares are exact fractions of the document counts, so the counts come back exactly.
        sides = [
            (round(d["languages"].get(lang, 0.0) * d["documents"]), d["documents"])
            for d in (this, other)
        ]
        _newcombe(row, sides[0], sides[1])
    toxic_share = _pair(this.get("toxic_share"), other.get("toxic_share"))
    _newcombe(
        toxic_share,
        (this.get("toxic") or 0, this.get("scored") or 0),
        (other.get("toxic") or 0, other.get("scored") or 0),
    )
    return {
        "method": "Each dataset is audited the same way; difference = this - other, with "
        "Newcombe's hybrid score 95% interval for differences of proportions.",
        "other": other_name,
        "documents": _pair(this["documents"], other["documents"]),
        "toxic_share": toxic_share,
        "words_per_document": _pair(
            this.get("words_per_document"), other.get("words_per_document")
        ),
        "languages": languages,
        "groups": groups_out,
    }
