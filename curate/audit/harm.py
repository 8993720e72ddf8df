"""Section 4, harm: the toxicity distribution and, per group, how much more often it is toxic.

``toxic_rate = P(toxic | group)``; ``disparity_ratio = P(toxic | group) / P(toxic | not group)``
with a Katz log-scale 95% interval. A ratio is flagged when it lies outside [0.8, 1.25] and its
interval excludes 1.

>>> from curate.audit.tally import ColumnTally, GroupCounts
>>> t = ColumnTally(threshold=0.5, documents=200, scored=200, toxic=30)
>>> t.groups = {"religion/muslim": GroupCounts(docs=100, scored=100, toxic=20)}
>>> row = harm_section(t, min_documents=30, source="labels")["groups"]["religion/muslim"]
>>> row["toxic_rate"], row["disparity_ratio"], row["flagged"]
(0.2, 2.0, False)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from curate.audit.stats import risk_ratio, wilson
from curate.audit.tally import TOX_BINS, ColumnTally

#: The four-fifths rule's band: ratios inside it are not flagged.
BAND = (0.8, 1.25)

METHOD = (
    "A document is toxic when its score is at least the threshold ({threshold:g}); scores come "
    "from {source}. toxic_rate = P(toxic | group mentioned), with a Wilson 95% interval; "
    "disparity_ratio = P(toxic | group) / P(toxic | group not mentioned), with a Katz log-scale "
    "95% interval (0.5 added to each cell when one is empty). A ratio is flagged when it is "
    f"outside [{BAND[0]}, {BAND[1]}] and its interval excludes 1. Groups (or their complements) "
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


def harm_section(
    tally: ColumnTally, *, min_documents: int, source: str, known: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The harm section of ``audit.json``: distribution, and rates and ratios per group."""
    groups: dict[str, Any] = {}
    for name in sorted(set(tally.groups) | set(known)):
        counts = tally.groups.get(name)
        scored = counts.scored if counts else 0
        toxic = counts.toxic if counts else 0
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
            ratio, lo, hi = risk_ratio(toxic, scored, rest_toxic, rest_scored)
            row.update(
                toxic_rate=toxic / scored,
                toxic_rate_ci95=list(wilson(toxic, scored)),
                rest_toxic_rate=rest_toxic / rest_scored,
                disparity_ratio=ratio,
                disparity_ci95=[lo, hi] if lo is not None else None,
                flagged=bool(
                    ratio is not None
                    and lo is not None
                    and hi is not None
                    and (ratio < BAND[0] or ratio > BAND[1])
                    and (lo > 1.0 or hi < 1.0)
                ),
            )
        groups[name] = row
    return {
        "method": METHOD.format(
            threshold=tally.threshold, source=source, min_documents=min_documents
        ),
        "threshold": tally.threshold,
        "source": source,
        "distribution": _distribution(tally),
        "groups": groups,
    }
