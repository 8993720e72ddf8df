"""The audit's statistics against values computed by hand (arithmetic shown), and invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.audit import stats


def test_wilson_hand_values() -> None:
    # p = 0.5, z^2 = 3.8415: centre 0.5 + 3.8415/20 = 0.69207, margin 1.96 * sqrt(0.025 +
    # 3.8415/400) = 0.36460, denominator 1.38415.
    lo, hi = stats.wilson(5, 10)
    assert lo == pytest.approx(0.23659, abs=1e-5)
    assert hi == pytest.approx(0.76341, abs=1e-5)
    # p = 0: centre = margin = z^2/40 = 0.096037; hi = 0.192073 / 1.192073.
    lo, hi = stats.wilson(0, 20)
    assert lo == 0.0
    assert hi == pytest.approx(0.16113, abs=1e-5)
    assert stats.wilson(0, 0) == (0.0, 1.0)


def test_npmi_hand_values() -> None:
    # p(w,g) = 3/8, p(w) = p(g) = 1/2: log(1.5) / -log(0.375) = 0.405465 / 0.980829.
    out = stats.npmi(np.array([3.0, 2.0, 0.0, 4.0]), np.array([4.0, 4.0, 4.0, 4.0]), 4, 8)
    assert out[0] == pytest.approx(0.413390, abs=1e-6)
    assert out[1] == pytest.approx(0.0, abs=1e-12)  # independent
    assert out[2] == -1.0  # never together
    assert out[3] == pytest.approx(1.0)  # always together


def test_log_odds_hand_values() -> None:
    # omega_i = (10 + 2) / (100 + 10 - 10 - 2) = 12/98; omega_j = 7/203;
    # delta = log(12/98) - log(7/203) = 1.267235; sd = sqrt(1/12 + 1/7) = 0.475594.
    delta, z = stats.log_odds_z(
        np.array([10.0]), 100.0, np.array([5.0]), 200.0, np.array([2.0]), 10.0
    )
    assert delta[0] == pytest.approx(1.267235, abs=1e-6)
    assert z[0] == pytest.approx(2.664526, abs=1e-6)


def test_g_test_hand_value() -> None:
    # [[10, 20], [30, 40]]: expected 12, 18, 28, 42;
    # G = 2 (10 log 10/12 + 20 log 20/18 + 30 log 30/28 + 40 log 40/42) = 0.804349.
    p = stats.g_test_p(np.array([10.0]), np.array([20.0]), np.array([30.0]), np.array([40.0]))
    assert p[0] == pytest.approx(0.369796, abs=1e-6)


def test_benjamini_hochberg_hand_values() -> None:
    # Sorted 0.01, 0.03, 0.04 -> 0.03, 0.045, 0.04 -> running minimum from the top.
    q = stats.benjamini_hochberg(np.array([0.01, 0.04, 0.03]))
    assert q.tolist() == pytest.approx([0.03, 0.04, 0.04])
    assert stats.benjamini_hochberg(np.array([])).size == 0


def test_auc_hand_values() -> None:
    # Pairs: 0.9>0.1, 0.9>0.8, 0.8>0.1, 0.8=0.8 (half) -> 3.5 / 4.
    assert stats.auc(np.array([0.9, 0.8]), np.array([0.1, 0.8])) == 0.875
    assert stats.auc(np.array([0.1]), np.array([0.9])) == 0.0
    assert stats.auc(np.array([]), np.array([0.9])) is None


def test_entropy_and_effective_number() -> None:
    # 40/70 and 30/70: -(4/7 log2 4/7 + 3/7 log2 3/7) = 0.985228.
    assert stats.entropy([40, 30]) == pytest.approx(0.985228, abs=1e-6)
    assert stats.entropy([5]) == 0.0
    assert stats.effective_number([1, 1, 1]) == pytest.approx(3.0)


def test_quantile_from_counts() -> None:
    counts = np.bincount([1, 2, 2, 3, 10])
    assert stats.quantile_from_counts(counts, 0.5) == 2
    assert stats.quantile_from_counts(counts, 0.8) == 3
    assert stats.quantile_from_counts(counts, 1.0) == 10


@given(st.integers(0, 500), st.integers(1, 500))
def test_wilson_contains_the_proportion(k: int, n: int) -> None:
    k = min(k, n)
    lo, hi = stats.wilson(k, n)
    assert 0.0 <= lo <= k / n + 1e-12
    assert k / n - 1e-12 <= hi <= 1.0


@settings(max_examples=50)
@given(
    st.lists(st.floats(0, 1), min_size=1, max_size=30),
    st.lists(st.floats(0, 1), min_size=1, max_size=30),
)
def test_auc_is_antisymmetric(pos: list[float], neg: list[float]) -> None:
    a = stats.auc(np.array(pos), np.array(neg))
    b = stats.auc(np.array(neg), np.array(pos))
    assert a is not None and b is not None
    assert a + b == pytest.approx(1.0)


@given(st.lists(st.floats(0, 1), min_size=1, max_size=50))
def test_bh_q_values_bound_p_values(p: list[float]) -> None:
    arr = np.array(p)
    q = stats.benjamini_hochberg(arr)
    assert (q >= arr - 1e-12).all() and (q <= 1.0).all()
    order = np.argsort(arr)
    assert (np.diff(q[order]) >= -1e-12).all()
