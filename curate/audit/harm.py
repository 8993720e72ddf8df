"""The harm section: the toxicity distribution and, per group, how much more often it is toxic.

``toxic_rate = P(toxic | group)``; ``disparity_ratio = P(toxic | group) / P(toxic | not group)``.
Each group row also carries the ratio of non-toxic rates, the ratio to the overall rate, the
odds ratio and the risk difference, each with a 95% interval (see :mod:`curate.audit.effects`).
A row is a flag candidate when the ratio of toxic rates, or the ratio of non-toxic rates (the
one that can still move when most documents are toxic), lies outside [0.8, 1.25] and the group
has at least ``min_events`` documents of that outcome; it is flagged when, in addition, its
Holm-adjusted p-value over the whole report is below 0.05.

>>> from curate.audit.tally import ColumnTally, GroupCounts
>>> t = ColumnTally(threshold=0.5, documents=200, scored=200, toxic=30)
>>> t.groups = {"religion/muslim": GroupCounts(docs=100, scored=100, toxic=20)}
>>> row = harm_section(t, min_documents=30, source="labels")["groups"]["religion/muslim"]
>>> row["toxic_rate"], row["disparity_ratio"], row["candidate"], round(row["p_value"], 4)
(0.2, 2.0, True, 0.0477)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from curate.audit.effects import compare_rates, outside
from curate.audit.tally import TOX_BINS, ColumnTally

#: The four-fifths rule's band: ratios inside it are not flagged.
BAND = (0.8, 1.25)

METHOD = (
    "A document is toxic when its score is at least the threshold ({threshold:g}); scores come "
    "from {source}. toxic_rate = P(toxic | group mentioned), with a Wilson 95% interval; "
    "disparity_ratio = P(toxic | group) / P(toxic | group not mentioned) and the ratio of "
    "non-toxic rates, with MOVER-Wilson 95% intervals; the ratio to the overall rate; the odds "
    "ratio with its score interval; the risk difference with Newcombe's score interval. "
    "Intervals stay valid when a count is 0 or equals its total. A group is flagged when the "
    f"ratio of toxic or of non-toxic rates lies outside [{BAND[0]}, {BAND[1]}], the group has "
    "at least {min_events} documents of that outcome, and the Pearson chi-square p-value, "
    "Holm-adjusted over every test of the report, is below 0.05. Groups (or their complements) "
    "with fewer than {min_documents} scored documents get no rate or ratio. Quantiles are read "
    "from a histogram with bins of width 0.01."
)


def _distribution(tally: ColumnTally) -> dict[str, Any]:
    hist = tally.toxicity_hist
    cum = np.cumsum(hist)
    quantiles: dict[str, float | None] = {}
    for q in (0.5, 0.9, 0.99):
        if tally.scored:
            bin_index = int(np.searchsorted(cum, max(1, np.ceil(q * tally.scored))))
            quantiles[f"p{round(q * 100)}"] = (bin_index + 1) / TOX_BINS
        else:
            quantiles[f"p{round(q * 100)}"] = None
    coarse = hist.reshape(20, TOX_BINS // 20).sum(axis=1)
    return {
        "scored": tally.scored,
        "unscored": tally.documents - tally.scored,
        "toxic": tally.toxic,
        "toxic_share": tally.toxic / tally.scored if tally.scored else None,
        "mean": tally.toxicity_sum / tally.scored if tally.scored else None,
        "quantiles_upper_bound": quantiles,
        "histogram": [
            {"min": i / 20, "max": (i + 1) / 20, "documents": int(n)} for i, n in enumerate(coarse)
        ],
    }


def harm_row(
    scored: int, toxic: int, tally: ColumnTally, *, min_documents: int, min_events: int
) -> dict[str, Any]:
    """Rates, ratios and the flag candidate of ``toxic`` in ``scored`` documents against the
    rest of ``tally``'s scored documents."""
    rest_scored, rest_toxic = tally.scored - scored, tally.toxic - toxic
    row: dict[str, Any] = {
        "scored": scored,
        "toxic": toxic,
        "toxic_rate": None,
        "toxic_rate_ci95": None,
        "rest_toxic_rate": None,
        "disparity_ratio": None,
        "disparity_ci95": None,
        "flagged": False,
        "insufficient": scored < min_documents or rest_scored < min_documents,
    }
    if not row["insufficient"]:
        cmp = compare_rates(toxic, scored, rest_toxic, rest_scored)
        events_ok = toxic >= min_events, scored - toxic >= min_events
        row.update(
            toxic_rate=cmp.pop("rate"),
            toxic_rate_ci95=cmp.pop("rate_ci95"),
            rest_toxic_rate=cmp.pop("rest_rate"),
            disparity_ratio=cmp["rate_ratio"],
            disparity_ci95=cmp["rate_ratio_ci95"],
            **cmp,
            candidate=bool(
                (events_ok[0] and outside(cmp["rate_ratio"], BAND))
                or (events_ok[1] and outside(cmp["complement_ratio"], BAND))
            ),
        )
    return row


def harm_rows(
    tally: ColumnTally,
    *,
    min_documents: int,
    min_events: int,
    known: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Rates, ratios and flag candidates per group of ``tally.groups``."""
    groups: dict[str, Any] = {}
    for name in sorted(set(tally.groups) | set(known)):
        counts = tally.groups.get(name)
        groups[name] = harm_row(
            counts.scored if counts else 0,
            counts.toxic if counts else 0,
            tally,
            min_documents=min_documents,
            min_events=min_events,
        )
    return groups


def harm_section(
    tally: ColumnTally,
    *,
    min_documents: int,
    source: str,
    known: tuple[str, ...] = (),
    min_events: int = 10,
) -> dict[str, Any]:
    """The harm section of ``audit.json``: distribution, and rates and ratios per group."""
    return {
        "method": METHOD.format(
            threshold=tally.threshold,
            source=source,
            min_documents=min_documents,
            min_events=min_events,
        ),
        "threshold": tally.threshold,
        "source": source,
        "distribution": _distribution(tally),
        "groups": harm_rows(tally, min_documents=min_documents, min_events=min_events, known=known),
    }
