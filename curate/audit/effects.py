"""Comparing a group's rate with the rest's: ratios, odds ratio and difference with intervals
that behave at zero cells and when every document has the outcome, plus Holm's correction.

Intervals are built from Wilson score intervals of each rate (``stats.wilson``), so none of them
collapses at ``a = 0`` or ``a = n``:

* rate ratio ``p1 / p2``: MOVER-R (Donner and Zou 2012), from the two Wilson intervals;
* risk difference ``p1 - p2``: Newcombe's hybrid score interval (his method 10);
* odds ratio: the score interval, the odds ratios ``θ`` whose score statistic (the Pearson
  chi-square with the table's margins held at ``θ``) is at most ``z²``; it excludes 1 exactly
  when the Pearson test's p-value is below 0.05, which is the test the flags use.

Point estimates are the plain sample ratios (``inf`` when the reference rate is 0), always
inside their interval.

>>> r = compare_rates(20, 100, 10, 100)
>>> round(r["rate_ratio"], 3), [round(x, 3) for x in r["rate_ratio_ci95"]]
(2.0, [1.001, 3.998])
>>> round(r["risk_difference"], 3), [round(x, 3) for x in r["risk_difference_ci95"]]
(0.1, [0.0, 0.199])
>>> holm(np.array([0.01, 0.04, 0.03])).round(3).tolist()
[0.03, 0.06, 0.06]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import special

from curate.audit.stats import Z95, wilson

#: Family-wise error rate of the report's flags (Holm's step-down correction).
ALPHA = 0.05
INF = math.inf


def mover_ratio(
    p1: float, ci1: tuple[float, float], p2: float, ci2: tuple[float, float]
) -> tuple[float, float]:
    """MOVER-R interval of ``p1 / p2`` from intervals of ``p1`` and ``p2`` (both in [0, 1]).

    ``L = (p1 p2 - sqrt((p1 p2)² - l1 u2 (2 p1 - l1)(2 p2 - u2))) / (u2 (2 p2 - u2))`` and
    ``U = (p1 p2 + sqrt((p1 p2)² - u1 l2 (2 p1 - u1)(2 p2 - l2))) / (l2 (2 p2 - l2))``.
    """
    (l1, u1), (l2, u2) = ci1, ci2
    prod = p1 * p2
    den_lo = u2 * (2 * p2 - u2)
    den_hi = l2 * (2 * p2 - l2)
    lo = prod - math.sqrt(max(0.0, prod * prod - l1 * u2 * (2 * p1 - l1) * (2 * p2 - u2)))
    lo = max(0.0, lo / den_lo) if den_lo != 0 else 0.0
    if den_hi <= 0:
        return lo, INF
    hi = prod + math.sqrt(max(0.0, prod * prod - u1 * l2 * (2 * p1 - u1) * (2 * p2 - l2)))
    return lo, hi / den_hi


def rate_ratio(a: int, n1: int, c: int, n2: int) -> tuple[float | None, float, float]:
    """``(a/n1) / (c/n2)`` with its MOVER-Wilson 95% interval; the estimate is ``inf`` when only
    the reference rate is 0 and ``None`` when both are."""
    p1, p2 = a / n1, c / n2
    lo, hi = mover_ratio(p1, wilson(a, n1), p2, wilson(c, n2))
    if c == 0:
        return (INF if a > 0 else None), lo, INF
    return p1 / p2, lo, hi


def risk_difference(a: int, n1: int, c: int, n2: int) -> tuple[float, float, float]:
    """``a/n1 - c/n2`` with Newcombe's hybrid score 95% interval."""
    p1, p2 = a / n1, c / n2
    l1, u1 = wilson(a, n1)
    l2, u2 = wilson(c, n2)
    d = p1 - p2
    return d, d - math.hypot(p1 - l1, u2 - p2), d + math.hypot(u1 - p1, p2 - l2)


def _score_statistic(theta: float, a: int, n1: int, c: int, n2: int) -> float:
    """Pearson chi-square of the table with its margins fixed and odds ratio ``theta``."""
    m1 = a + c
    if theta == 1.0:
        p2 = m1 / (n1 + n2)
    else:
        qa = n2 * (theta - 1.0)
        qb = n1 * theta + n2 - m1 * (theta - 1.0)
        disc = math.sqrt(max(0.0, qb * qb + 4.0 * qa * m1))
        # The root in [0, 1], written to avoid cancellation.
        p2 = 2.0 * m1 / (qb + disc) if qb >= 0 else (disc - qb) / (2.0 * qa)
    p1 = theta * p2 / (1.0 + p2 * (theta - 1.0))
    v1, v2 = n1 * p1 * (1.0 - p1), n2 * p2 * (1.0 - p2)
    if v1 <= 0 or v2 <= 0:
        return INF
    return (a - n1 * p1) ** 2 * (1.0 / v1 + 1.0 / v2)


def odds_ratio(
    a: int, n1: int, c: int, n2: int, *, z: float = Z95
) -> tuple[float | None, float, float]:
    """Sample odds ratio of ``a`` of ``n1`` against ``c`` of ``n2`` with its score 95% interval."""
    b, d = n1 - a, n2 - c
    if (a + c) == 0 or (b + d) == 0:
        return None, 0.0, INF
    est = (a * d) / (b * c) if b * c > 0 else (INF if a * d > 0 else None)
    lo = 0.0 if a == 0 or d == 0 else _score_limit(a, n1, c, n2, z, -1)
    hi = INF if b == 0 or c == 0 else _score_limit(a, n1, c, n2, z, 1)
    return est, lo, hi


def _score_limit(a: int, n1: int, c: int, n2: int, z: float, side: int) -> float:
    """One end of the odds ratio's score interval.

    With the margins fixed, a table is set by its first cell ``A``; its odds ratio
    ``θ = A D / (B C)`` (``B = n1 - A``, ``C = a + c - A``, ``D = n2 - C``) increases with ``A``
    and its Pearson statistic is ``(a - A)² S(A)`` with ``S = 1/A + 1/B + 1/C + 1/D``. The limit
    is the ``A`` on the ``side`` of ``a`` where the statistic reaches ``z²``: Newton steps on
    ``log((a - A)² S) - log z²`` (mild at both ends of the bracket, where the statistic is 0 or
    infinite), bisecting when a step leaves the bracket, to full float precision.
    """
    m1 = a + c
    # A's open range keeps all four cells positive; the statistic is infinite at that end.
    edge = float(max(0, m1 - n2) if side < 0 else min(n1, m1))
    inner, outer = float(a), edge
    x = a + side * min(abs(edge - a) / 2.0, z * math.sqrt(a * (n1 - a) / n1 + 0.25))
    target = 2.0 * math.log(z)
    for _ in range(100):
        cells = (x, n1 - x, m1 - x, n2 - m1 + x)
        s = 1.0 / cells[0] + 1.0 / cells[1] + 1.0 / cells[2] + 1.0 / cells[3]
        ds = -1.0 / cells[0] ** 2 + 1.0 / cells[1] ** 2 + 1.0 / cells[2] ** 2 - 1.0 / cells[3] ** 2
        excess = 2.0 * math.log(abs(x - a)) + math.log(s) - target
        if excess > 0:
            outer = x
        else:
            inner = x
        step = x - excess / (2.0 / (x - a) + ds / s)
        if abs(step - x) <= 4e-16 * abs(x):
            x = step
            break
        if not min(inner, outer) < step < max(inner, outer):
            step = (inner + outer) / 2.0
            if step in (inner, outer):  # the bracket is down to adjacent floats
                break
        x = step
    return x * (n2 - m1 + x) / ((n1 - x) * (m1 - x))


def pearson_p(a: int, n1: int, c: int, n2: int) -> float:
    """Two-sided p-value of the Pearson chi-square test (no continuity correction)."""
    stat = _score_statistic(1.0, a, n1, c, n2)
    return 1.0 if not math.isfinite(stat) else float(special.chdtrc(1.0, stat))


def ratio_to_overall(ratio: float | None, share: float) -> float | None:
    """``p1 / p_all`` from ``p1 / p2`` when the group holds ``share`` of the documents:
    ``p_all = share p1 + (1 - share) p2``, so the ratio is ``R / (share R + 1 - share)``."""
    if ratio is None:
        return None
    if ratio == INF:
        return 1.0 / share
    return ratio / (share * ratio + 1.0 - share)


def compare_rates(a: int, n1: int, c: int, n2: int) -> dict[str, Any]:
    """Every comparison of ``a`` events in ``n1`` documents against ``c`` in ``n2`` (both > 0)."""
    ratio, lo, hi = rate_ratio(a, n1, c, n2)
    inv, inv_lo, inv_hi = rate_ratio(n1 - a, n1, n2 - c, n2)
    share = n1 / (n1 + n2)
    odds, o_lo, o_hi = odds_ratio(a, n1, c, n2)
    diff, d_lo, d_hi = risk_difference(a, n1, c, n2)
    return {
        "rate": a / n1,
        "rate_ci95": list(wilson(a, n1)),
        "rest_rate": c / n2,
        "rate_ratio": ratio,
        "rate_ratio_ci95": [lo, hi],
        "complement_ratio": inv,
        "complement_ratio_ci95": [inv_lo, inv_hi],
        "ratio_to_overall": ratio_to_overall(ratio, share),
        "ratio_to_overall_ci95": [ratio_to_overall(lo, share), ratio_to_overall(hi, share)],
        "odds_ratio": odds,
        "odds_ratio_ci95": [o_lo, o_hi],
        "risk_difference": diff,
        "risk_difference_ci95": [d_lo, d_hi],
        "p_value": pearson_p(a, n1, c, n2),
    }


def outside(ratio: float | None, band: tuple[float, float]) -> bool:
    return ratio is not None and (ratio < band[0] or ratio > band[1])


def holm(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """Holm's step-down adjusted p-values: ``max_{j<=i} min(1, (m - j + 1) p_(j))``."""
    p = np.asarray(p, dtype=np.float64)
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    stepped = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out = np.empty(m)
    out[order] = stepped
    return out


def tested_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every row of the report that carries a test (``p_value``) and a flag candidate."""
    sections = report["sections"]
    rows: list[dict[str, Any]] = []
    harm = sections.get("harm") or {}
    rows += [r for r in (harm.get("groups") or {}).values() if r.get("p_value") is not None]
    for stage in ((sections.get("filter_impact") or {}).get("groups") or {}).values():
        rows += [r for r in stage.values() if r.get("p_value") is not None]
    pairs = (sections.get("intersections") or {}).get("pairs") or {}
    rows += [r["harm"] for r in pairs.values() if (r.get("harm") or {}).get("p_value") is not None]
    slurs = sections.get("slurs") or {}
    rows += [r for r in (slurs.get("harm") or {}).values() if r.get("p_value") is not None]
    for stage in (slurs.get("filter_impact") or {}).values():
        rows += [r for r in stage.values() if r.get("p_value") is not None]
    return rows


def adjust(report: dict[str, Any], *, alpha: float = ALPHA) -> dict[str, Any]:
    """Holm-adjust every test of the report at once and settle the flags: a row is flagged when
    its rule holds (``candidate``) and its adjusted p-value is below ``alpha``."""
    rows = tested_rows(report)
    adjusted = holm(np.array([r["p_value"] for r in rows]))
    for row, q in zip(rows, adjusted.tolist()):
        row["p_adjusted"] = q
        row["flagged"] = bool(row.pop("candidate", False) and q < alpha)
    return {"method": "holm", "alpha": alpha, "tests": len(rows)}
