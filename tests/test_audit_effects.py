"""Group-vs-rest comparisons: hand-computed values (arithmetic shown), zero cells, a = n,
Holm's correction, and the flag rules at a high base rate."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import optimize
from scipy.stats import binomtest, chi2_contingency

from curate.audit import effects
from curate.audit.harm import harm_rows
from curate.audit.tally import ColumnTally, GroupCounts

Z2 = 1.959963984540054**2


def wilson(k: int, n: int) -> tuple[float, float]:
    ci = binomtest(k, n).proportion_ci(method="wilson")
    return float(ci.low), float(ci.high)


def test_rate_ratio_with_a_zero_cell() -> None:
    # 0/50 against 10/100: estimate 0, lower limit 0; the MOVER upper limit reduces to
    # u1 / sqrt(l2 (2 p2 - l2)) with u1 = z^2 / (50 + z^2) = 0.071347 and l2 = 0.055229:
    # 0.071347 / sqrt(0.055229 * 0.144771) = 0.79791.
    ratio, lo, hi = effects.rate_ratio(0, 50, 10, 100)
    assert ratio == 0.0 and lo == 0.0
    u1, (l2, _) = wilson(0, 50)[1], wilson(10, 100)
    assert hi == pytest.approx(u1 / math.sqrt(l2 * (0.2 - l2)), rel=1e-9)
    assert hi == pytest.approx(0.79791, abs=1e-5)


def test_rate_ratio_when_every_document_has_the_outcome() -> None:
    # 50/50 against 10/100: 10x; the non-toxic side is 0/50 against 90/100, estimate 0 and
    # upper limit u1 / sqrt(l2 (1.8 - l2)) = 0.071347 / sqrt(0.825648 * 0.974352) = 0.079547.
    row = effects.compare_rates(50, 50, 10, 100)
    assert row["rate_ratio"] == pytest.approx(10.0)
    lo, hi = row["rate_ratio_ci95"]
    assert lo < 10.0 < hi and hi < math.inf
    assert row["complement_ratio"] == 0.0
    assert row["complement_ratio_ci95"] == pytest.approx([0.0, 0.079547], abs=1e-6)
    # The odds ratio is infinite, its interval [L, inf) with L far above 1.
    assert row["odds_ratio"] == math.inf and row["odds_ratio_ci95"][1] == math.inf
    assert row["odds_ratio_ci95"][0] > 50


def test_zero_reference_rate_gives_an_infinite_estimate_inside_its_interval() -> None:
    ratio, lo, hi = effects.rate_ratio(10, 100, 0, 100)
    assert ratio == math.inf and hi == math.inf and 1.0 < lo < 10.0
    # Nothing on either side: no estimate, the whole half-line as interval.
    assert effects.rate_ratio(0, 10, 0, 10) == (None, 0.0, math.inf)


def test_risk_difference_newcombe_hand_values() -> None:
    # 0/50 against 10/100: d = -0.1; L = d - (u2 - p2) = -0.1 - 0.074366 = -0.174366;
    # U = d + sqrt(u1^2 + (p2 - l2)^2) = -0.1 + sqrt(0.071347^2 + 0.044771^2) = -0.015769.
    d, lo, hi = effects.risk_difference(0, 50, 10, 100)
    assert d == pytest.approx(-0.1)
    assert lo == pytest.approx(-0.174366, abs=1e-6)
    assert hi == pytest.approx(-0.015769, abs=1e-6)


def _cornfield_limit(a: int, n1: int, c: int, n2: int, side: int) -> float:
    """Cornfield's score limit, computed on the expected first cell A (margins fixed)."""
    m1 = a + c

    def stat(big_a: float) -> float:
        cells = (big_a, n1 - big_a, m1 - big_a, n2 - m1 + big_a)
        return (a - big_a) ** 2 * sum(1 / x for x in cells) - Z2

    low, high = max(0.0, m1 - n2), min(float(n1), float(m1))
    root = (
        optimize.brentq(stat, a, high - 1e-12)
        if side > 0
        else optimize.brentq(stat, low + 1e-12, a)
    )
    return root * (n2 - m1 + root) / ((n1 - root) * (m1 - root))


@pytest.mark.parametrize("table", [(20, 100, 10, 100), (5, 40, 30, 60), (3, 7, 150, 900)])
def test_odds_ratio_score_interval_matches_cornfield(table: tuple[int, int, int, int]) -> None:
    a, n1, c, n2 = table
    est, lo, hi = effects.odds_ratio(a, n1, c, n2)
    assert est == pytest.approx(a * (n2 - c) / ((n1 - a) * c))
    assert lo == pytest.approx(_cornfield_limit(a, n1, c, n2, -1), rel=1e-6)
    assert hi == pytest.approx(_cornfield_limit(a, n1, c, n2, 1), rel=1e-6)


def test_odds_ratio_at_zero_cells() -> None:
    est, lo, hi = effects.odds_ratio(0, 50, 10, 100)
    assert est == 0.0 and lo == 0.0
    assert hi == pytest.approx(_cornfield_limit_zero(), rel=1e-6)
    est, lo, hi = effects.odds_ratio(50, 50, 10, 100)
    assert est == math.inf and hi == math.inf and lo > 1


def _cornfield_limit_zero() -> float:
    # a = 0: only the upper limit exists; solve on A in (0, 10).
    def stat(big_a: float) -> float:
        cells = (big_a, 50 - big_a, 10 - big_a, 90 + big_a)
        return big_a**2 * sum(1 / x for x in cells) - Z2

    root = optimize.brentq(stat, 1e-9, 10 - 1e-9)
    return root * (90 + root) / ((50 - root) * (10 - root))


def test_pearson_p_and_ratio_to_overall() -> None:
    # chi^2 = N (ad - bc)^2 / (n1 n2 m1 m2) = 200 * 1000^2 / (100 * 100 * 30 * 170) = 3.92157.
    assert effects.pearson_p(20, 100, 10, 100) == pytest.approx(0.047670, abs=1e-6)
    table = np.array([[20, 80], [10, 90]])
    expected = chi2_contingency(table, correction=False)[1]
    assert effects.pearson_p(20, 100, 10, 100) == pytest.approx(expected, rel=1e-9)
    # 0.2 against an overall 0.15: 2 / (0.5 * 2 + 0.5) = 1.3333.
    row = effects.compare_rates(20, 100, 10, 100)
    assert row["ratio_to_overall"] == pytest.approx(0.2 / 0.15)
    lo, hi = row["ratio_to_overall_ci95"]
    assert lo < 0.2 / 0.15 < hi
    assert effects.ratio_to_overall(math.inf, 0.25) == 4.0


def test_holm_hand_values() -> None:
    # Sorted 0.01, 0.03, 0.04: 3 * 0.01 = 0.03, 2 * 0.03 = 0.06, max(0.06, 1 * 0.04) = 0.06.
    assert effects.holm(np.array([0.01, 0.04, 0.03])).tolist() == pytest.approx([0.03, 0.06, 0.06])
    assert effects.holm(np.array([0.5, 0.9])).tolist() == pytest.approx([1.0, 1.0])
    assert effects.holm(np.array([])).size == 0


@given(
    n1=st.integers(1, 60),
    n2=st.integers(1, 60),
    data=st.data(),
)
def test_estimates_lie_inside_their_intervals(n1: int, n2: int, data: st.DataObject) -> None:
    a = data.draw(st.integers(0, n1))
    c = data.draw(st.integers(0, n2))
    row = effects.compare_rates(a, n1, c, n2)
    for key in ("rate_ratio", "complement_ratio", "odds_ratio", "risk_difference"):
        est, (lo, hi) = row[key], row[f"{key}_ci95"]
        assert lo <= hi
        if est is not None:
            assert lo - 1e-9 <= est <= hi + 1e-9 or (est == math.inf and hi == math.inf)


def _tally(groups: dict[str, tuple[int, int]], scored: int, toxic: int) -> ColumnTally:
    t = ColumnTally(threshold=0.5, documents=scored, scored=scored, toxic=toxic)
    t.groups = {g: GroupCounts(docs=n, scored=n, toxic=k) for g, (n, k) in groups.items()}
    return t


def test_harm_flags_fire_when_most_documents_are_toxic() -> None:
    # 82% of 25,000 toxic; 602/616 = 97.7% of a group: the toxic-rate ratio is ~1.19, inside
    # [0.8, 1.25], but the non-toxic rates are 14/616 = 2.3% against 4,486/24,384 = 18.4%.
    tally = _tally({"g/x": (616, 602)}, 25_000, 20_500)
    row = harm_rows(tally, min_documents=30, min_events=10)["g/x"]
    assert 0.8 < row["disparity_ratio"] < 1.25
    assert row["complement_ratio"] == pytest.approx((14 / 616) / (4486 / 24384))
    assert row["candidate"] is True


def test_harm_flags_need_events() -> None:
    # 7 toxic of 40 against 5% of the rest: 3.5x, but 7 events are fewer than 10; the
    # non-toxic ratio 33/40 / 0.95 = 0.87 is inside the band.
    tally = _tally({"g/x": (40, 7)}, 1040, 57)
    row = harm_rows(tally, min_documents=30, min_events=10)["g/x"]
    assert row["disparity_ratio"] == pytest.approx(3.5)
    assert row["candidate"] is False
    assert harm_rows(tally, min_documents=30, min_events=5)["g/x"]["candidate"] is True


def test_adjust_applies_holm_over_the_whole_report() -> None:
    rows = [{"p_value": p, "candidate": True} for p in (0.01, 0.02, 0.03)]
    report = {"sections": {"harm": {"groups": {"a": rows[0], "b": rows[1]}}}}
    report["sections"]["filter_impact"] = {"groups": {"stage": {"a": rows[2]}}}
    summary = effects.adjust(report)
    assert summary == {"method": "holm", "alpha": 0.05, "tests": 3}
    # 3 * 0.01 = 0.03, 2 * 0.02 = 0.04, 0.03: all below 0.05.
    assert [r["p_adjusted"] for r in rows] == pytest.approx([0.03, 0.04, 0.04])
    assert all(r["flagged"] for r in rows)
    rows = [{"p_value": p, "candidate": True} for p in (0.02, 0.04)]
    effects.adjust({"sections": {"harm": {"groups": dict(zip("ab", rows))}}})
    # 2 * 0.02 = 0.04 flagged; max(0.04, 0.04) = 0.04 flagged too; a lone 0.04 of 3 would not.
    assert [r["flagged"] for r in rows] == [True, True]
