"""The composition section: documents, words, lengths, languages and duplicates.

>>> import numpy as np
>>> t = LengthTally()
>>> t.update(np.array([1, 2, 2, 10]))
>>> t.words, t.quantile(0.5), t.quantile(1.0)
(15, 2, 10)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from curate.audit.stats import effective_number, entropy, quantile_from_counts
from curate.audit.tally import UNKNOWN_LANG, ColumnTally

#: Lengths up to this many words are counted exactly; longer ones share the last bin.
MAX_EXACT_LENGTH = 1 << 16
QUANTILES = (0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99)

METHOD = (
    "Words are runs of non-whitespace characters. Length quantiles are exact (documents longer "
    f"than {MAX_EXACT_LENGTH:,} words are counted as that length). Language shares come from the "
    "`lang` column (`und` when missing); entropy is in bits and the effective number of "
    "languages is 2^entropy. Duplicates come from the `dup_count` (exact) and `dup_cluster_size` "
    "(near-duplicate) columns when present (exact copies removed come from the run report "
    "when there is one, as in the dataset card); clusters are estimated as the sum of "
    "1/cluster_size, exact when every member is kept."
)


@dataclass
class LengthTally:
    """Document lengths in words, as exact counts per length."""

    counts: NDArray[np.int64] = field(
        default_factory=lambda: np.zeros(MAX_EXACT_LENGTH + 1, np.int64)
    )
    words: int = 0

    def update(self, lengths: NDArray[np.int64]) -> None:
        self.words += int(lengths.sum())
        clipped = np.minimum(lengths, MAX_EXACT_LENGTH)
        self.counts += np.bincount(clipped, minlength=MAX_EXACT_LENGTH + 1)

    def quantile(self, q: float) -> int:
        return quantile_from_counts(self.counts, q)

    def histogram(self) -> list[tuple[int, int, int]]:
        """Counts in power-of-two bins ``[lo, hi)`` from 0 up to the longest document."""
        nonzero = np.flatnonzero(self.counts)
        if nonzero.size == 0:
            return []
        top = int(nonzero[-1])
        edges = [0, 1] + [1 << k for k in range(1, max(1, top).bit_length() + 1)]
        cum = np.concatenate([[0], np.cumsum(self.counts)])
        return [
            (lo, hi, int(cum[min(hi, cum.size - 1)] - cum[lo]))
            for lo, hi in itertools.pairwise(edges)
        ]


def languages_section(tally: ColumnTally) -> dict[str, Any]:
    """Shares per language (largest first), entropy and effective number of languages."""
    total = sum(tally.languages.values())
    ordered = sorted(tally.languages.items(), key=lambda kv: (-kv[1], kv[0]))
    counts = [c for _, c in ordered]
    return {
        "counts": dict(ordered),
        "shares": {lang: c / total for lang, c in ordered} if total else {},
        "entropy_bits": entropy(counts),
        "effective_languages": effective_number(counts) if total else 0.0,
        "identified": total - tally.languages.get(UNKNOWN_LANG, 0),
    }


def composition_section(tally: ColumnTally, lengths: LengthTally | None) -> dict[str, Any]:
    """The composition section of ``audit.json``."""
    out: dict[str, Any] = {"method": METHOD, "documents": tally.documents}
    if lengths is not None:
        out["words"] = lengths.words
        out["words_per_document"] = {
            "mean": lengths.words / tally.documents if tally.documents else 0.0,
            **{f"p{round(q * 100):02d}": lengths.quantile(q) for q in QUANTILES},
            "max": int(np.flatnonzero(lengths.counts)[-1]) if lengths.words else 0,
        }
        out["length_histogram"] = [
            {"min_words": lo, "max_words": hi - 1, "documents": n}
            for lo, hi, n in lengths.histogram()
        ]
    out["languages"] = languages_section(tally)
    dup = tally.duplicates
    if dup.exact_column or dup.near_column:
        out["duplicates"] = {
            "exact": {
                "documents_with_copies": dup.docs_with_copies,
                "copies_removed": dup.copies_removed,
            }
            if dup.exact_column
            else None,
            "near": {
                "documents_in_clusters": dup.docs_in_clusters,
                "clusters": round(dup.clusters, 2),
            }
            if dup.near_column
            else None,
        }
    return out


def exact_copies_from_run(comp: dict[str, Any], run_report: dict[str, Any] | None) -> None:
    """Take the exact copies removed from the run report's ``dedup.exact`` stages, the source
    the dataset card uses too. ``dup_count`` on kept rows undercounts them: a document whose
    copies were dropped and that a later stage removed takes its ``dup_count`` to the ledger."""
    stages = [
        s
        for s in (run_report or {}).get("stages") or []
        if isinstance(s, dict) and s.get("use") == "dedup.exact" and "removed" in s
    ]
    if not stages:
        return
    dup = comp.setdefault("duplicates", {"exact": None, "near": None})
    exact = dup.get("exact") or {}
    if exact:
        exact["copies_of_kept_documents"] = exact.pop("copies_removed")
    exact["copies_removed"] = sum(int(s["removed"]) for s in stages)
    exact["source"] = "the run report (curate/run.json)"
    dup["exact"] = exact


def decontamination_from_run(comp: dict[str, Any], run_report: dict[str, Any] | None) -> None:
    """Record what the run's ``decontaminate`` stages removed: how many documents, against which
    evaluation sets, at which n-gram size (from the run report, as the card does)."""
    from curate.stages.decontaminate import Decontaminate

    found = []
    for s in (run_report or {}).get("stages") or []:
        if not (isinstance(s, dict) and s.get("use") == "decontaminate"):
            continue
        params = s.get("params") if isinstance(s.get("params"), dict) else {}
        try:
            sets = [str(e.name) for e in Decontaminate.model_validate(params).sets()]
        except ValueError:
            sets = []
        found.append(
            {
                "stage": s.get("label") or "decontaminate",
                "sets": sets,
                "n": (params or {}).get("n"),
                "removed": int(s.get("removed") or 0),
            }
        )
    if found:
        comp["decontamination"] = found
