"""Choosing LSH bands x rows for a Jaccard threshold, and the S-curve they give.

Two documents with Jaccard similarity ``s`` share at least one of ``b`` bands of ``r`` rows with
probability ``1 - (1 - s**r)**b``. :func:`optimal_params` picks ``(b, r)`` with ``b * r <=
num_perm`` minimising the weighted area of false positives (the curve below the threshold) and
false negatives (one minus the curve above it), the criterion datasketch's ``MinHashLSH`` uses.

>>> optimal_params(0.8, 128)
(9, 13)
>>> s_curve(14, 8)["0.8"]
0.924
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

#: Similarities at which ``curate check`` shows the probability of becoming a candidate.
CURVE_POINTS = (0.5, 0.6, 0.7, 0.8, 0.9)

_SIMPSON_INTERVALS = 2000


def candidate_probability(s: npt.ArrayLike, bands: int, rows: int) -> npt.NDArray[np.float64]:
    """Probability that two documents of Jaccard similarity ``s`` share a band."""
    s = np.asarray(s, dtype=np.float64)
    return np.asarray(1.0 - (1.0 - s**rows) ** bands, dtype=np.float64)


def _integrate(lo: float, hi: float, bands: int, rows: int, *, miss: bool) -> float:
    x = np.linspace(lo, hi, _SIMPSON_INTERVALS + 1)
    y = candidate_probability(x, bands, rows)
    if miss:
        y = 1.0 - y
    w = np.ones_like(x)
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0
    return float((hi - lo) / (3 * _SIMPSON_INTERVALS) * (w * y).sum())


def optimal_params(
    threshold: float,
    num_perm: int,
    *,
    false_positive_weight: float = 0.5,
) -> tuple[int, int]:
    """Bands and rows minimising the weighted false positive and false negative areas."""
    fn_weight = 1.0 - false_positive_weight
    best, best_err = (1, 1), float("inf")
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            fp = _integrate(0.0, threshold, bands, rows, miss=False)
            fn = _integrate(threshold, 1.0, bands, rows, miss=True)
            err = fp * false_positive_weight + fn * fn_weight
            if err < best_err:
                best, best_err = (bands, rows), err
    return best


def s_curve(bands: int, rows: int, points: tuple[float, ...] = CURVE_POINTS) -> dict[str, float]:
    """Candidate probability at each similarity in ``points``, rounded to 3 decimals."""
    probs = candidate_probability(np.array(points), bands, rows)
    return {f"{p:.1f}": round(float(v), 3) for p, v in zip(points, probs)}


def curve_threshold(bands: int, rows: int) -> float:
    """The similarity at which the S-curve is steepest, about ``(1 / b) ** (1 / r)``."""
    return float((1.0 / bands) ** (1.0 / rows))
