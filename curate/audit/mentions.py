"""Which terms make each group, and the slurs section.

A group's count can rest on one word: every document of ``race_ethnicity/indigenous`` in a
sports corpus may match "redskins", a football team. Each group therefore lists its top terms
with the documents matching each (a document matching two terms of a group counts for both),
and a group whose documents mostly match one term gets a finding that says so.

Slurs name a group without being a neutral mention of it; by default they are counted in a
section of their own (prevalence, toxic rate, filter impact) rather than as mentions.

>>> from collections import Counter
>>> docs = Counter({"g/a\\x1fx\\x1fambiguous": 55, "g/a\\x1fy\\x1fidentity": 2})
>>> top_terms(docs)["g/a"][0]
{'term': 'x', 'kind': 'ambiguous', 'documents': 55}
>>> print(dominant_term_findings({"g/a": {"documents": 55, "insufficient": False,
...     "top_terms": top_terms(docs)["g/a"]}})[0])  # doctest: +NORMALIZE_WHITESPACE
All 55 documents mentioning g/a match 'x' (an ambiguous term, whose usual sense is often not
an identity).
"""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

from curate.audit.harm import harm_rows
from curate.audit.impact import LedgerTally, impact_section
from curate.audit.kinds import SEP
from curate.audit.representation import group_rows
from curate.audit.tally import ColumnTally

#: Terms listed per group.
TOP_TERMS = 5
#: A finding when one term makes more than this share of a group's documents.
DOMINANT = 0.5
_KIND_NOTE = {
    "ambiguous": " (an ambiguous term, whose usual sense is often not an identity)",
    "slur": " (a slur)",
    "identity": "",
}

METHOD = (
    "Slurs are the lexicon entries flagged `slur`. They are counted apart from mentions: a "
    "group's row here counts the documents with at least one slur for it. Prevalence, toxic "
    "rates and filter impact use the same statistics as the sections above (and take part in "
    "the same Holm correction). Pass `slurs: include` (`--include-slurs`) to count them as "
    "mentions instead."
)


def top_terms(
    term_docs: Counter[str], *, slurs: bool = True, others: bool = True, top: int = TOP_TERMS
) -> dict[str, list[dict[str, Any]]]:
    """Per group, its ``top`` terms by documents (ties alphabetical): slurs, other terms or
    both."""
    by_group: dict[str, list[dict[str, Any]]] = {}
    for key, n in term_docs.items():
        group, term, kind = key.split(SEP)
        if not (slurs if kind == "slur" else others):
            continue
        by_group.setdefault(group, []).append({"term": term, "kind": kind, "documents": n})
    return {
        g: sorted(rows, key=lambda r: (-r["documents"], r["term"]))[:top]
        for g, rows in sorted(by_group.items())
    }


def dominant_term_findings(groups: dict[str, dict[str, Any]]) -> list[str]:
    """A sentence for each sufficient group whose documents mostly match one term."""
    out: list[tuple[bool, float, str]] = []
    for group, row in groups.items():
        terms = row.get("top_terms") or []
        docs = row["documents"]
        if row["insufficient"] or not terms or not docs:
            continue
        first = terms[0]
        share = first["documents"] / docs
        if share <= DOMINANT:
            continue
        many = (
            f"All {docs:,}"
            if first["documents"] == docs
            else (f"{first['documents']:,} of {docs:,} ({100 * share:.0f}%)")
        )
        note = _KIND_NOTE.get(first["kind"], "")
        text = f"{many} documents mentioning {group} match '{first['term']}'{note}."
        out.append((first["kind"] == "identity", -share, text))
    # Ambiguous terms and slurs first: those are the counts most likely to mislead.
    out.sort()
    return [text for _, _, text in out]


def slur_section(
    tally: ColumnTally,
    *,
    ledger: LedgerTally | None,
    order: list[str],
    min_documents: int,
    min_events: int,
    scored: bool,
) -> dict[str, Any]:
    """Prevalence, toxic rates and filter impact of slurs, per group they name."""
    view = copy.copy(tally)
    view.groups = tally.slur_groups
    out: dict[str, Any] = {
        "method": METHOD,
        "prevalence": group_rows(view, min_documents=min_documents),
    }
    terms = top_terms(tally.term_docs, others=False)
    for group, row in out["prevalence"].items():
        row["top_terms"] = terms.get(group, [])
    if scored:
        out["harm"] = harm_rows(view, min_documents=min_documents, min_events=min_events)
    if ledger is not None and order:
        removed = copy.copy(ledger)
        removed.by_group = ledger.by_slur_group
        names = sorted(set(view.groups).union(*ledger.by_slur_group.values()))
        out["filter_impact"] = impact_section(
            view,
            removed,
            order=order,
            min_documents=min_documents,
            groups=names,
            min_events=min_events,
        )["groups"]
    return out
