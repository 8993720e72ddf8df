"""Intersections: documents mentioning two groups of different axes at once.

Each pair with at least ``min_documents`` documents mentioning both (the ``max_pairs`` most
frequent of them) gets the representation share with its Wilson interval and, when documents are
scored, the same harm statistics as a single group: its toxic rate against every other scored
document, with the ratios, odds ratio and difference and their intervals. Its test joins the
report's Holm correction.

>>> from curate.audit.tally import ColumnTally, GroupCounts
>>> t = ColumnTally(threshold=0.5, documents=200, scored=200, toxic=30)
>>> t.pairs = {("gender/female", "religion/muslim"): GroupCounts(docs=100, scored=100, toxic=20)}
>>> s = intersections_section(t, min_documents=30, min_events=10, scored=True)
>>> row = s["pairs"]["gender/female × religion/muslim"]
>>> row["documents"], row["share"], row["harm"]["disparity_ratio"]
(100, 0.5, 2.0)
"""

from __future__ import annotations

from typing import Any

from curate.audit.harm import harm_row
from curate.audit.stats import wilson
from curate.audit.tally import ColumnTally

#: At most this many pairs are reported (the most frequent), to keep the report and the number
#: of tests bounded.
MAX_PAIRS = 50
SEP = " × "

METHOD = (
    "Pairs of groups from different axes, counted over documents mentioning both. Pairs with at "
    "least {min_documents} such documents are kept, at most the {max_pairs} most frequent "
    "({eligible} qualified, {shown} shown). Share = documents mentioning both / all documents, "
    "with a 95% Wilson interval. Harm statistics are those of single groups: the pair's toxic "
    "rate against every other scored document (including documents mentioning only one of the "
    "two), flagged by the same rule and Holm-adjusted with every other test of the report."
)


def intersections_section(
    tally: ColumnTally,
    *,
    min_documents: int,
    min_events: int,
    scored: bool,
    max_pairs: int = MAX_PAIRS,
) -> dict[str, Any]:
    """The ``intersections`` section of ``audit.json``."""
    eligible = [(pair, c) for pair, c in tally.pairs.items() if c.docs >= min_documents]
    eligible.sort(key=lambda kv: (-kv[1].docs, kv[0]))
    shown = eligible[:max_pairs]
    pairs: dict[str, Any] = {}
    for (a, b), counts in shown:
        lo, hi = wilson(counts.docs, tally.documents)
        row: dict[str, Any] = {
            "groups": [a, b],
            "documents": counts.docs,
            "share": counts.docs / tally.documents,
            "ci95": [lo, hi],
        }
        if scored:
            row["harm"] = harm_row(
                counts.scored,
                counts.toxic,
                tally,
                min_documents=min_documents,
                min_events=min_events,
            )
        pairs[f"{a}{SEP}{b}"] = row
    return {
        "method": METHOD.format(
            min_documents=min_documents,
            max_pairs=max_pairs,
            eligible=len(eligible),
            shown=len(shown),
        ),
        "pairs_counted": len(tally.pairs),
        "min_documents": min_documents,
        "eligible": len(eligible),
        "max_pairs": max_pairs,
        "pairs": pairs,
    }
