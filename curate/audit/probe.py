"""The scorer probe section: how the toxicity scorer errs on sentences naming each identity term.

The templates file is in the Jigsaw sentence-template format (columns ``template``,
``toxicity`` = ``toxic`` / ``nontoxic``, ``phrase``). Each phrase is scored; per identity term
found in phrases (whole words, longest term first):

* false-positive rate on non-toxic phrases, false-negative rate on toxic ones (at the threshold);
* the Jigsaw bias AUCs (Borkan et al. 2019): subgroup AUC (toxic vs non-toxic phrases with the
  term), BPSN (toxic phrases without the term vs non-toxic phrases with it) and BNSP (toxic
  phrases with the term vs non-toxic phrases without it), and their power mean (p = -5).

>>> import numpy as np
>>> m = term_metrics(np.array([0.9, 0.2, 0.6, 0.1]), np.array([1.0, 0.0, 1.0, 0.0]),
...                  np.array([True, True, False, False]), threshold=0.5)
>>> m["fpr"], m["fnr"], m["subgroup_auc"], m["bpsn_auc"], m["bnsp_auc"]
(0.0, 0.0, 1.0, 1.0, 1.0)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from curate.audit.columns import as_scores
from curate.audit.stats import auc
from curate.errors import DataError
from curate.identity.matcher import normalise

Scorer = Callable[[list[str]], NDArray[np.float64]]
_RATES = ("fpr", "fnr", "subgroup_auc", "bpsn_auc", "bnsp_auc", "mean_score")
#: Exponent of the generalised mean that summarises bias AUCs (the Jigsaw competition's choice).
POWER = -5.0
#: Phrases without any known term listed in the report (all are counted).
UNMATCHED_EXAMPLES = 20

METHOD = (
    "Each template phrase is scored by the toxicity scorer; a phrase is predicted toxic when its "
    "score is at least {threshold:g}. Per identity term (whole-word match, longest first, "
    "case, hyphens and spaces folded, so middle-aged matches 'middle aged'): "
    "FPR = predicted toxic among non-toxic phrases with the term; FNR = predicted non-toxic "
    "among toxic phrases with the term. Subgroup AUC: toxic vs non-toxic phrases with the term; "
    "BPSN AUC: toxic phrases without the term vs non-toxic phrases with it; BNSP AUC: toxic "
    "phrases with the term vs non-toxic phrases without it. AUCs by ranks, ties counting half. "
    "Power mean with p = -5 summarises each AUC over the terms that have it (listed as "
    "power_mean_terms); lower means more bias. Terms with fewer than {min_phrases} toxic or "
    "non-toxic phrases get counts only. Phrases that contain no lexicon term are not probed: "
    "their number and examples are listed, so a missing term shows."
)


def read_templates(path: Path) -> pl.DataFrame:
    """Phrases and their labels (1.0 toxic, 0.0 not, null when unlabelled)."""
    try:
        frame = pl.read_csv(path, infer_schema_length=0)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise DataError(
            f"{path}: cannot read probe templates ({exc})",
            hint="pass a CSV with columns template, toxicity, phrase",
        ) from exc
    if "phrase" not in frame.columns:
        raise DataError(
            f"{path}: no 'phrase' column (has {', '.join(frame.columns)})",
            hint="pass a CSV in the Jigsaw sentence-template format: template, toxicity, phrase",
        )
    label = pl.Series("label", [None] * frame.height, dtype=pl.Float64)
    if "toxicity" in frame.columns:
        label = pl.Series(
            "label", as_scores(frame.get_column("toxicity").to_arrow(), f"{path}: toxicity")
        )
    return pl.DataFrame({"phrase": frame.get_column("phrase").fill_null(""), "label": label})


def _fold(phrases: pl.Series) -> pl.Series:
    """Lower case, curly apostrophes straight, and any run of spaces or hyphens one space."""
    return (
        phrases.str.to_lowercase()
        .str.replace_all("\u2019", "'", literal=True)
        .str.replace_all(r"[\s\-]+", " ")
        .str.strip_chars()
    )


def match_terms(phrases: pl.Series, terms: list[str]) -> pl.Series:
    """Per phrase, the identity terms it contains: whole words, longest first, compared after
    folding case, hyphens and spaces (``middle-aged`` matches "middle aged"); each term is
    reported in its folded form (see :func:`curate.identity.matcher.normalise`)."""
    ordered = sorted({normalise(t) for t in terms if t.strip()}, key=lambda t: (-len(t), t))
    if not ordered:
        return pl.Series("terms", [[] for _ in range(phrases.len())], dtype=pl.List(pl.String))
    pattern = r"(?:^|\b)(" + "|".join(re.escape(t) for t in ordered) + r")(?:\b|$)"
    return _fold(phrases).str.extract_all(pattern).list.unique().alias("terms")


def _rate(hits: NDArray[np.bool_]) -> float | None:
    return float(hits.mean()) if hits.size else None


def term_metrics(
    scores: NDArray[np.float64],
    labels: NDArray[np.float64],
    has_term: NDArray[np.bool_],
    *,
    threshold: float,
) -> dict[str, Any]:
    """Error rates and bias AUCs of one term; ``labels`` is 1.0 / 0.0 (NaN when unknown)."""
    toxic, clean = labels == 1.0, labels == 0.0
    predicted = scores >= threshold
    return {
        "phrases": int(has_term.sum()),
        "toxic": int((toxic & has_term).sum()),
        "nontoxic": int((clean & has_term).sum()),
        "mean_score": float(scores[has_term].mean()) if has_term.any() else None,
        "fpr": _rate(predicted[clean & has_term]),
        "fnr": _rate(~predicted[toxic & has_term]),
        "subgroup_auc": auc(scores[toxic & has_term], scores[clean & has_term]),
        "bpsn_auc": auc(scores[toxic & ~has_term], scores[clean & has_term]),
        "bnsp_auc": auc(scores[toxic & has_term], scores[clean & ~has_term]),
    }


def power_mean(values: list[float], p: float = POWER) -> float | None:
    """Generalised mean ``(mean(v^p))^(1/p)``; ``None`` for no values."""
    arr = np.asarray([v for v in values if v is not None], dtype=np.float64)
    if arr.size == 0:
        return None
    if p < 0 and (arr <= 0).any():
        # A zero term makes the mean of negative powers infinite: the mean is 0.
        return 0.0
    return float(np.mean(arr**p) ** (1.0 / p))


def probe_section(
    path: Path,
    *,
    scorer: Scorer,
    terms: Mapping[str, str | None],
    threshold: float,
    scorer_name: str,
    min_phrases: int = 10,
) -> dict[str, Any]:
    """Score the templates and report per-term errors and bias AUCs."""
    frame = read_templates(path)
    if frame.height == 0:
        raise DataError(f"{path}: no phrases", hint="pass a non-empty templates CSV")
    scores = np.asarray(scorer(frame.get_column("phrase").to_list()), dtype=np.float64)
    labels = frame.get_column("label").fill_null(np.nan).to_numpy()
    found = match_terms(frame.get_column("phrase"), list(terms))
    folded = {normalise(t): g for t, g in terms.items()}
    labelled = bool(np.isfinite(labels).any())
    exploded = found.to_frame().with_row_index("row").explode("terms").drop_nulls("terms")
    rows: dict[str, Any] = {}
    for (term,), part in exploded.group_by("terms", maintain_order=True):
        has_term = np.zeros(frame.height, dtype=bool)
        has_term[part.get_column("row").to_numpy()] = True
        row = term_metrics(scores, labels, has_term, threshold=threshold)
        # Too few phrases on either side: counts only, no rates or AUCs.
        insufficient = (
            min(row["toxic"], row["nontoxic"]) < min_phrases
            if labelled
            else (row["phrases"] < min_phrases)
        )
        if insufficient:
            row.update(dict.fromkeys(_RATES))
        rows[str(term)] = {"group": folded.get(str(term)), **row, "insufficient": insufficient}
    rows = dict(sorted(rows.items()))
    matched = found.list.len().to_numpy() > 0
    unmatched = frame.get_column("phrase").filter(pl.Series(~matched)).unique(maintain_order=True)
    everything = np.ones(frame.height, dtype=bool)
    overall = term_metrics(scores, labels, everything, threshold=threshold)
    summary = {
        name: power_mean([r[name] for r in rows.values() if r[name] is not None])
        for name in ("subgroup_auc", "bpsn_auc", "bnsp_auc")
    }
    return {
        "method": METHOD.format(threshold=threshold, min_phrases=min_phrases),
        "file": str(path),
        "scorer": scorer_name,
        "phrases": frame.height,
        "labelled": labelled,
        "phrases_without_term": int(frame.height - exploded.get_column("row").n_unique()),
        "overall": {
            "auc": auc(scores[labels == 1.0], scores[labels == 0.0]),
            "fpr": overall["fpr"],
            "fnr": overall["fnr"],
        },
        "power_mean": summary,
        "power_mean_terms": {
            name: [t for t, r in rows.items() if r[name] is not None]
            for name in ("subgroup_auc", "bpsn_auc", "bnsp_auc")
        },
        "unmatched_examples": unmatched.head(UNMATCHED_EXAMPLES).to_list(),
        "terms": rows,
    }
