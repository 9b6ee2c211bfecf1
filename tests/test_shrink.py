"""shelfplan.model.shrink: the generalising estimates of ``fit`` against values by hand.

tests/fixtures/tiny_loans.csv (see tests/test_estimate.py): sessions {A, B, C},
{A, B}, {B, D}, {C}; n = (A 2, B 3, C 2, D 1); c_AB = 2, c_AC = c_BC = c_BD = 1;
categories A 100, B 100, C 200, D 300.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings, strategies as st

from conftest import SAMPLE_LOANS, TINY_LOANS
from shelfplan.errors import ParameterError
from shelfplan.ingest.loans import read_loans
from shelfplan.model.estimate import estimate
from shelfplan.model.shrink import Generalise, parse_duration


@pytest.fixture(scope="module")
def tiny():
    return read_loans(TINY_LOANS)


def dense(M):
    return np.asarray(sp.csr_matrix(M).todense())


def test_no_options_is_model_md_exactly(tiny):
    for opts in (None, {}, Generalise()):
        a, b = estimate(tiny), estimate(tiny, opts)
        assert np.array_equal(a.p, b.p) and (a.pair != b.pair).nnz == 0
        assert "generalise" not in b.summary


def test_popularity_towards_the_class_rate(tiny):
    est = estimate(tiny, {"popularity": 1.0})
    # class means: 100 -> (2 + 3) / 2, 200 -> 2, 300 -> 1; n' = (4.5, 5.5, 4, 2), sum 16
    np.testing.assert_allclose(est.p, np.array([4.5, 5.5, 4, 2]) / 16)
    # p(j|i) is MODEL.md's, times the new p(i)
    cond = dense(est.pair) / est.p[:, None]
    np.testing.assert_allclose(cond[0], [0, 2 / 3, 1 / 3, 0])
    assert est.summary["generalise"]["popularity"] == 1.0


def test_category_prior_by_hand(tiny):
    est = estimate(tiny, {"category": 1.0})
    # class co-borrowing: 100 -> (100 4, 200 2, 300 1) / 7; spread over 100 as A 2/5, B 3/5;
    # Q(.|A) without A: B 12/35, C 10/35, D 5/35, renormalised to (12, 10, 5) / 27
    q = np.array([0, 12, 10, 5]) / 27
    want = (np.array([0, 2, 1, 0]) + q) / (3 + 1)
    np.testing.assert_allclose(dense(est.pair)[0] / est.p[0], want)
    np.testing.assert_allclose(est.p, [1 / 4, 3 / 8, 1 / 4, 1 / 8])    # p untouched
    np.testing.assert_allclose(np.asarray(est.pair.sum(axis=1)).ravel(), est.p)


def test_neighbour_prior_by_hand(tiny):
    est = estimate(tiny, Generalise(neighbours=2.0, window=1))
    # shelf order A, B (100), C (200), D (300); B's neighbours A and C, 1/2 each
    want_b = (np.array([2, 0, 1, 1]) + 2.0 * np.array([0.5, 0, 0.5, 0])) / (4 + 2)
    np.testing.assert_allclose(dense(est.pair)[1] / est.p[1], want_b)
    want_d = (np.array([0, 1, 0, 0]) + 2.0 * np.array([0, 0, 1, 0])) / (1 + 2)
    np.testing.assert_allclose(dense(est.pair)[3] / est.p[3], want_d)


def test_half_life_weights_sessions_by_age(tiny):
    est = estimate(tiny, {"half_life": "1d"})
    last = pd.Timestamp("2024-01-02T09:01:00")
    age = lambda t: (last - pd.Timestamp(t)) / pd.Timedelta(1, "D")  # noqa: E731
    w1, w2, w3, w4 = (0.5 ** age(t) for t in ("2024-01-01T10:00", "2024-01-02T09:00",
                                               "2024-01-01T11:00", "2024-01-01T12:00"))
    n = np.array([w1 + w2, w1 + w2 + w3, w1 + w4, w3])
    np.testing.assert_allclose(est.p, n / n.sum())
    # row A: c_AB = w1 + w2, c_AC = w1
    np.testing.assert_allclose(dense(est.pair)[0] / est.p[0],
                               np.array([0, w1 + w2, w1, 0]) / (2 * w1 + w2))
    assert est.summary["generalise"]["half_life"] == 1.0
    huge = estimate(tiny, {"half_life": 1e12})
    np.testing.assert_allclose(huge.p, estimate(tiny).p)


@pytest.mark.parametrize("text, days", [("90d", 90), ("12w", 84), ("1y", 365.25),
                                        ("36h", 1.5), ("30", 30), (" 2 W ", 14)])
def test_durations(text, days):
    assert parse_duration(text) == pytest.approx(days)


@pytest.mark.parametrize("bad", ["soon", "-3d", "0d", "3 days", "", "1e3d"])
def test_bad_durations_name_the_parameter(bad):
    with pytest.raises(ParameterError, match="`half_life` must be a"):
        Generalise(half_life=bad)


def test_negative_strength_is_refused():
    with pytest.raises(ParameterError, match="`shrink_category` must be 0 or more"):
        Generalise(category=-1)


def test_classes_need_a_category_column():
    import io
    loans = read_loans(io.StringIO("patron_id,item_id,timestamp\nP1,A,2024-01-01\n"
                                   "P1,B,2024-01-01\n"))
    with pytest.raises(ParameterError, match="need categories"):
        estimate(loans, {"category": 1})
    assert estimate(loans, {"half_life": "9d"}).p.sum() == pytest.approx(1)


def test_sparse_and_bounded_rows_on_the_sample():
    loans = read_loans(SAMPLE_LOANS)
    opts = Generalise(category=1.0, neighbours=1.0, partners=3, spread=10, window=2)
    base, est = estimate(loans), estimate(loans, opts)
    extra = np.diff(est.pair.tocsr().indptr) - np.diff(base.pair.tocsr().indptr)
    assert extra.max() <= 3 * 10 + 2 * 2
    assert sp.issparse(est.pair) and est.pair.nnz < est.n ** 2 / 4


@settings(max_examples=25, deadline=None)
@given(a=st.floats(0, 5), b=st.floats(0, 5), c=st.floats(0, 5),
       h=st.one_of(st.none(), st.floats(0.5, 1000)))
def test_invariants(tiny, a, b, c, h):
    """p sums to 1, p(i,j) >= 0 with no diagonal, rows of p(j|i) sum to 1 or 0."""
    est = estimate(tiny, Generalise(category=a, neighbours=b, popularity=c, half_life=h))
    assert est.p.sum() == pytest.approx(1) and (est.p > 0).all()
    P = dense(est.pair)
    assert (P >= 0).all() and np.allclose(np.diag(P), 0)
    rows = P.sum(axis=1) / est.p
    assert np.all(np.isclose(rows, 1) | np.isclose(rows, 0))
