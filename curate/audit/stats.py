"""The statistics the audit reports, as small pure functions with their formulas stated.

Every function here is checked against hand-computed values in ``tests/test_audit_stats.py``.

>>> lo, hi = wilson(5, 10)
>>> round(lo, 4), round(hi, 4)
(0.2366, 0.7634)
>>> round(entropy([1, 1, 1, 1]), 6), round(effective_number([1, 1, 1, 1]), 6)
(2.0, 4.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy import special

#: Two-sided 95% normal quantile.
Z95 = 1.959963984540054


def wilson(successes: int, n: int, *, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``successes / n``; ``(0, 1)`` when ``n == 0``.

    ``(p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)``.
    """
    if n <= 0:
        return (0.0, 1.0)
    p = successes / n
    z2 = z * z
    centre = p + z2 / (2 * n)
    margin = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    denom = 1 + z2 / n
    return (max(0.0, (centre - margin) / denom), min(1.0, (centre + margin) / denom))


def entropy(counts: Sequence[float] | NDArray[np.float64]) -> float:
    """Shannon entropy in bits of the distribution proportional to ``counts`` (zeros ignored)."""
    arr = np.asarray(counts, dtype=np.float64)
    arr = arr[arr > 0]
    if arr.size == 0:
        return 0.0
    p = arr / arr.sum()
    return max(0.0, float(-(p * np.log2(p)).sum()))


def effective_number(counts: Sequence[float] | NDArray[np.float64]) -> float:
    """Effective number of categories, ``2 ** entropy`` (Hill number of order 1)."""
    return float(2.0 ** entropy(counts))


def npmi(
    joint: NDArray[np.float64] | float, x: NDArray[np.float64] | float, y: float, total: float
) -> NDArray[np.float64]:
    """Normalised pointwise mutual information of events from counts (element-wise).

    ``log(p(x,y) / (p(x) p(y))) / -log p(x,y)``, in [-1, 1]; -1 where they never co-occur and 1
    where ``p(x,y) = 1``.

    >>> npmi(np.array([2.0, 4.0, 0.0]), np.array([4.0, 4.0, 4.0]), 4, 8).round(6).tolist()
    [0.0, 1.0, -1.0]
    """
    joint_arr = np.asarray(joint, dtype=np.float64)
    x_arr = np.asarray(x, dtype=np.float64)
    pxy = joint_arr / total
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log(pxy / ((x_arr / total) * (y / total)))
        out = pmi / -np.log(pxy)
    out = np.where(joint_arr <= 0, -1.0, out)
    return np.asarray(np.where(pxy >= 1.0, 1.0, out), dtype=np.float64)


def log_odds_z(
    y_i: NDArray[np.float64],
    n_i: float,
    y_j: NDArray[np.float64],
    n_j: float,
    prior: NDArray[np.float64],
    prior_total: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Log-odds ratio with an informative Dirichlet prior, and its z-score, per word.

    Counts ``y_i`` (of ``n_i`` tokens) against ``y_j`` (of ``n_j``), prior pseudo-counts ``prior``
    summing to ``prior_total``::

        delta = log((y_i + a) / (n_i + a0 - y_i - a)) - log((y_j + a) / (n_j + a0 - y_j - a))
        z = delta / sqrt(1 / (y_i + a) + 1 / (y_j + a))

    Positive ``z`` means the word is more typical of ``i``.
    """
    a, a0 = prior, prior_total
    delta = np.log((y_i + a) / (n_i + a0 - y_i - a)) - np.log((y_j + a) / (n_j + a0 - y_j - a))
    z = delta / np.sqrt(1.0 / (y_i + a) + 1.0 / (y_j + a))
    return delta, z


def two_sided_p(z: NDArray[np.float64]) -> NDArray[np.float64]:
    """Two-sided normal p-values of z-scores: ``erfc(|z| / sqrt 2)``."""
    return np.asarray(special.erfc(np.abs(z) / math.sqrt(2.0)), dtype=np.float64)


def g_test_p(
    a: NDArray[np.float64], b: NDArray[np.float64], c: NDArray[np.float64], d: NDArray[np.float64]
) -> NDArray[np.float64]:
    """p-values of the log-likelihood ratio (G) test of independence on 2x2 tables [[a, b], [c, d]].

    ``G = 2 Σ O log(O / E)`` with one degree of freedom (Dunning 1993).
    """
    n = a + b + c + d
    cells = ((a, a + b, a + c), (b, a + b, b + d), (c, c + d, a + c), (d, c + d, b + d))
    g = np.zeros_like(n, dtype=np.float64)
    for obs, row, col in cells:
        expected = row * col / n
        with np.errstate(divide="ignore", invalid="ignore"):
            term = np.where(obs > 0, obs * np.log(obs / expected), 0.0)
        g += term
    g = np.maximum(2.0 * g, 0.0)
    return np.asarray(special.chdtrc(1.0, g), dtype=np.float64)


def benjamini_hochberg(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """Benjamini-Hochberg adjusted p-values (q-values): reject where ``q <= alpha``.

    >>> benjamini_hochberg(np.array([0.01, 0.04, 0.03])).round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    p = np.asarray(p, dtype=np.float64)
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    q_sorted = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(q_sorted, 1.0)
    return q


def auc(positive: NDArray[np.float64], negative: NDArray[np.float64]) -> float | None:
    """Area under the ROC curve: P(score of a positive > score of a negative), ties count half.

    Computed from ranks (Mann-Whitney U). ``None`` when either side is empty.

    >>> auc(np.array([0.9, 0.8]), np.array([0.1, 0.8]))
    0.875
    """
    pos = np.asarray(positive, dtype=np.float64)
    neg = np.asarray(negative, dtype=np.float64)
    if pos.size == 0 or neg.size == 0:
        return None
    scores = np.concatenate([pos, neg])
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(scores.size)
    sorted_scores = scores[order]
    # Average ranks over runs of tied scores.
    bounds = np.flatnonzero(np.diff(sorted_scores)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [scores.size]])
    avg = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(avg, ends - starts)
    u = ranks[: pos.size].sum() - pos.size * (pos.size + 1) / 2.0
    return float(u / (pos.size * neg.size))


def quantile_from_counts(counts: NDArray[np.int64], q: float) -> int:
    """The ``q`` quantile (lower) of integer values given ``counts[v]`` = occurrences of ``v``."""
    total = int(counts.sum())
    if total == 0:
        return 0
    target = max(1, math.ceil(q * total))
    return int(np.searchsorted(np.cumsum(counts), target))
