"""Estimates of MODEL.md section 2 against values computed by hand.

tests/fixtures/tiny_loans.csv has four sessions (patron + calendar date):

    s1 = P1 on 1 Jan: A, B, C, A   -> {A, B, C}   (A twice: counts once)
    s2 = P1 on 2 Jan: A, B         -> {A, B}
    s3 = P2 on 1 Jan: B, D         -> {B, D}
    s4 = P3 on 1 Jan: C            -> {C}

n = (A 2, B 3, C 2, D 1), sum 8, so p = (1/4, 3/8, 1/4, 1/8).
c_AB = 2, c_AC = 1, c_BC = 1, c_BD = 1; row sums A 3, B 4, C 2, D 1.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from conftest import TINY_LOANS, random_loans_csv, read_text_loans
from shelfplan.model.estimate import estimate, session_size_histogram
from shelfplan.ingest.loans import read_loans

ITEMS = ["A", "B", "C", "D"]


@pytest.fixture(scope="module")
def est():
    return estimate(read_loans(TINY_LOANS))


def test_items_sorted_and_counts(est):
    assert list(est.items) == ITEMS
    np.testing.assert_array_equal(est.counts, [2, 3, 2, 1])   # A counted once in s1


def test_p(est):
    np.testing.assert_allclose(est.p, [1 / 4, 3 / 8, 1 / 4, 1 / 8])


def test_cooccurrence(est):
    C = est.cooc.toarray()
    expected = np.array([[0, 2, 1, 0],
                         [2, 0, 1, 1],
                         [1, 1, 0, 0],
                         [0, 1, 0, 0]])
    np.testing.assert_array_equal(C, expected)


def test_conditional(est):
    expected = np.array([[0, 2 / 3, 1 / 3, 0],
                         [1 / 2, 0, 1 / 4, 1 / 4],
                         [1 / 2, 1 / 2, 0, 0],
                         [0, 1, 0, 0]])
    np.testing.assert_allclose(est.conditional().toarray(), expected)


def test_pair_probabilities(est):
    expected = np.array([[0, 1 / 6, 1 / 12, 0],
                         [3 / 16, 0, 3 / 32, 3 / 32],
                         [1 / 8, 1 / 8, 0, 0],
                         [0, 1 / 8, 0, 0]])
    np.testing.assert_allclose(est.pair.toarray(), expected)
    # every item here has a partner, so p(i,j) sums to 1
    assert est.pair.sum() == pytest.approx(1.0)


def test_symmetric_pairs(est):
    I, J, W = est.symmetric_pairs()
    got = {(ITEMS[i], ITEMS[j]): w for i, j, w in zip(I, J, W)}
    assert got == pytest.approx({("A", "B"): 1 / 6 + 3 / 16, ("A", "C"): 1 / 12 + 1 / 8,
                                 ("B", "C"): 3 / 32 + 1 / 8, ("B", "D"): 3 / 32 + 1 / 8})
    assert (I < J).all()


def test_summary_counts_duplicate_once(est):
    s = est.summary
    assert s["loans"] == 9 and s["duplicate_loans"] == 1
    assert s["sessions"] == 4 and s["items"] == 4 and s["patrons"] == 3
    assert s["co_borrowed_pairs"] == 4 and s["multi_item_sessions"] == 3


def test_categories_per_item(est):
    assert list(est.categories) == ["100", "100", "200", "300"]


def test_top_pairs(est):
    top = est.top_pairs(4)
    pairs = list(zip(top["item_a"], top["item_b"]))
    # A-B has c = 2; the rest have c = 1, ties broken by the larger weight
    # (B-C and B-D 3/32 + 1/8 ahead of A-C 1/12 + 1/8)
    assert pairs[0] == ("A", "B") and set(pairs[1:3]) == {("B", "C"), ("B", "D")}
    assert pairs[3] == ("A", "C")
    assert list(top["sessions"]) == [2, 1, 1, 1]
    assert top["p_pair"].iloc[0] == pytest.approx(1 / 6 + 3 / 16)


def test_session_size_histogram():
    h = session_size_histogram(read_loans(TINY_LOANS))
    assert h.to_dict() == {1: 1, 2: 2, 3: 1}


def test_duplicate_loan_in_a_session_counts_once():
    once = estimate(read_text_loans("patron_id,item_id\nP1,A\nP1,B\n"))
    twice = estimate(read_text_loans("patron_id,item_id\nP1,A\nP1,A\nP1,B\nP1,A\n"))
    np.testing.assert_array_equal(once.counts, twice.counts)
    np.testing.assert_allclose(once.pair.toarray(), twice.pair.toarray())
    assert twice.summary["duplicate_loans"] == 2


def test_no_timestamp_rule_estimates():
    # sessions per patron: P1 {A, B, C}, P2 {B, D}, P3 {C}
    text = "patron_id,item_id\nP1,A\nP1,B\nP1,C\nP1,A\nP1,A\nP1,B\nP2,B\nP2,D\nP3,C\n"
    e = estimate(read_text_loans(text))
    np.testing.assert_array_equal(e.counts, [1, 2, 2, 1])
    np.testing.assert_allclose(e.p, [1 / 6, 2 / 6, 2 / 6, 1 / 6])
    # c: AB 1, AC 1, BC 1, BD 1; p(B|A) = 1/2, p(D|B) = 1/3, p(A|C) = 1/2
    assert e.pair[0, 1] == pytest.approx(1 / 6 * 1 / 2)
    assert e.pair[1, 3] == pytest.approx(2 / 6 * 1 / 3)
    assert e.pair[2, 0] == pytest.approx(2 / 6 * 1 / 2)


def test_lone_items_have_zero_conditional_row():
    e = estimate(read_text_loans("patron_id,item_id\nP1,A\nP1,B\nP2,C\n"))
    np.testing.assert_allclose(e.conditional().toarray()[2], 0.0)
    np.testing.assert_allclose(e.pair.toarray()[2], 0.0)
    np.testing.assert_allclose(e.pair.toarray()[0], [0, 1 / 3, 0])


def test_no_co_borrowing():
    e = estimate(read_text_loans("patron_id,item_id\nP1,A\nP2,B\nP3,C\nP3,C\n"))
    assert e.cooc.nnz == 0 and e.pair.nnz == 0
    I, J, W = e.symmetric_pairs()
    assert len(I) == len(J) == len(W) == 0
    assert e.top_pairs(5).empty


def test_matches_dense_definition_on_random_loans():
    """X^T X without the diagonal equals counting pairs session by session."""
    loans = read_text_loans(random_loans_csv(25, 60, seed=4))
    e = estimate(loans)
    idx = {k: i for i, k in enumerate(e.items)}
    n = e.n
    counts = np.zeros(n)
    C = np.zeros((n, n))
    for _, items in loans.table.groupby("session")["item"]:
        b = sorted({idx[k] for k in items})
        counts[b] += 1
        for i in b:
            for j in b:
                if i != j:
                    C[i, j] += 1
    np.testing.assert_array_equal(e.counts, counts)
    np.testing.assert_array_equal(e.cooc.toarray(), C)
    p = counts / counts.sum()
    rows = C.sum(axis=1)
    pair = np.array([[p[i] * C[i, j] / rows[i] if rows[i] else 0.0 for j in range(n)]
                     for i in range(n)])
    np.testing.assert_allclose(e.pair.toarray(), pair, rtol=1e-12, atol=0)
    assert sp.issparse(e.pair) and sp.issparse(e.cooc)
