"""The visit walk (MODEL.md 8.10, shelfplan.judge.visits) and the visits objective
(shelfplan.model.visit_weights, fit --objective visits)."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SAMPLE_HALL, SAMPLE_LOANS
from shelfplan.api import fit
from shelfplan.cli import main
from shelfplan.errors import LayoutError, ParameterError
from shelfplan.ingest.loans import read_loans
from shelfplan.judge.evaluate import evaluate
from shelfplan.judge.visits import point_visit_walks, summarise, table_visit_walks
from shelfplan.model import visit_weights
from shelfplan.model.estimate import estimate
from shelfplan.model.visit_weights import Objective, unseen_weights, visit_estimates

STACKED = SAMPLE_HALL.parent / "stacked_hall.json"
HOLDINGS = SAMPLE_HALL.parent / "holdings.csv"


# --------------------------------------------------------------- an independent 8.10

def reference_walk(session, loc, D):
    """MODEL.md 8.10 read literally: the set of the visit's locations, from the entrance
    always the nearest unvisited one (ties: first in shelving order), back at the end."""
    left = sorted({int(loc[b]) for b in session})
    if not left:
        return 0.0
    here, length = None, 0.0
    while left:
        dist = [D[0 if here is None else here + 1, l + 1] for l in left]
        nxt = left[min(range(len(left)), key=lambda q: (dist[q], left[q]))]
        length += D[0 if here is None else here + 1, nxt + 1]
        here = nxt
        left.remove(nxt)
    return length + D[here + 1, 0]


def best_tour(session, loc, D):
    """The shortest route through the visit's locations (every order tried)."""
    locs = sorted({int(loc[b]) for b in session})
    best = math.inf
    for order in itertools.permutations(locs):
        rows = [0, *[l + 1 for l in order], 0]
        best = min(best, sum(D[a, b] for a, b in zip(rows[:-1], rows[1:])))
    return best


def csr(sessions):
    indptr = np.concatenate([[0], np.cumsum([len(s) for s in sessions])]).astype(np.int64)
    indices = np.array([b for s in sessions for b in s], dtype=np.int64)
    return indptr, indices


def test_a_visit_by_hand_and_its_tie_goes_first_in_shelving_order():
    # entrance e and locations 0, 1, 2 (table rows 1, 2, 3): 0 and 1 both 1 m from e.
    # Ties to location 0 (first in shelving order): e-0 1, 0-2 1, 2-1 3, 1-e 1 = 6 m.
    # Had location 1 been first: e-1 1, 1-0 2, 0-2 1, 2-e 5 = 9 m.
    D = np.array([[0, 1, 1, 5],
                  [1, 0, 2, 1],
                  [1, 2, 0, 3],
                  [5, 1, 3, 0]], dtype=float)
    loc = np.array([0, 1, 2])
    indptr, indices = csr([[2, 1, 0], [1, 0, 2]])
    assert table_visit_walks(loc, D, indptr, indices).tolist() == [6.0, 6.0]
    swap = np.array([1, 0, 2])       # the same books, the first two locations swapped
    P = np.array([0, 2, 1, 3])
    assert table_visit_walks(swap, D[np.ix_(P, P)], indptr, indices).tolist() == [9.0, 9.0]


def test_books_in_one_location_are_picked_together_and_empty_sessions_walk_zero():
    x = np.array([0.0, 2.0, 7.0])                 # entrance, locations 0 and 1 on a line
    D = np.abs(x[:, None] - x[None, :])
    loc = np.array([0, 0, 1, 0])                  # books 0, 1, 3 share location 0
    indptr, indices = csr([[0, 1, 3], [0, 1, 2, 2], []])
    out = table_visit_walks(loc, D, indptr, indices)
    assert out.tolist() == [4.0, 14.0, 0.0]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(1, 9), st.integers(0, 2**31 - 1))
def test_the_kernel_equals_an_independent_recomputation(m, n_books, seed):
    rng = np.random.default_rng(seed)
    # a metric: shortest paths of a random graph on the entrance and m locations, with
    # rounded lengths so that ties happen
    W = rng.integers(1, 4, size=(m + 1, m + 1)).astype(float)
    D = np.minimum(W, W.T)
    np.fill_diagonal(D, 0)
    for k in range(m + 1):
        D = np.minimum(D, D[:, [k]] + D[[k], :])
    loc = rng.integers(0, m, size=n_books)
    sessions = [list(rng.integers(0, n_books, size=rng.integers(0, 6))) for _ in range(12)]
    out = table_visit_walks(loc, D, *csr(sessions))
    want = [reference_walk(s, loc, D) for s in sessions]
    np.testing.assert_allclose(out, want, rtol=0, atol=1e-12)
    for s, w in zip(sessions, out):
        if s:
            best = best_tour(s, loc, D)
            assert w >= best - 1e-12                    # greedy, never shorter than the best
            if len({int(loc[b]) for b in s}) <= 2:
                assert w == pytest.approx(best)        # one or two stops: the best route


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 8), st.integers(0, 2**31 - 1))
def test_straight_line_walks_equal_a_recomputation(n, seed):
    rng = np.random.default_rng(seed)
    P = rng.integers(0, 4, size=(n, 2)).astype(float)       # on a grid: ties
    e = np.array([0.0, 0.0])
    rank = rng.permutation(n)
    sessions = [list(rng.choice(n, size=rng.integers(0, n + 1), replace=False))
                for _ in range(8)]
    out = point_visit_walks(P, e, *csr(sessions), rank=rank)
    for s, w in zip(sessions, out):
        here, left, length = e, list(s), 0.0
        while left:
            nxt = min(left, key=lambda b: (float(np.hypot(*(P[b] - here))), rank[b]))
            length += float(np.hypot(*(P[nxt] - here)))
            here = P[nxt]
            left.remove(nxt)
        length += float(np.hypot(*(here - e))) if s else 0.0
        assert w == pytest.approx(length, abs=1e-12)


def test_summarise_gives_mean_median_and_90th_percentile():
    out = summarise(np.arange(1.0, 11.0))
    assert out == {"sessions": 10, "mean": 5.5, "p50": 5.5, "p90": pytest.approx(9.1)}


def test_evaluate_leaves_out_sessions_without_a_placed_book(tmp_path):
    from shelfplan.api import baseline
    from shelfplan.layout import write_layout

    plan = tmp_path / "plan.json"
    lay = baseline("popularity", SAMPLE_LOANS, STACKED, holdings=HOLDINGS)
    write_layout(lay, plan)
    loans = pd.read_csv(SAMPLE_LOANS)
    extra = pd.DataFrame({"patron_id": ["nobody"], "item_id": ["not-a-book"],
                          "timestamp": [loans["timestamp"].iloc[0]]})
    path = tmp_path / "loans.csv"
    pd.concat([loans, extra]).to_csv(path, index=False)
    ev = evaluate(plan, path)
    ev0 = evaluate(plan, SAMPLE_LOANS)
    assert ev.walk == ev0.walk
    assert ev.coverage["sessions_dropped"] == 1
    # the figures are the independent recomputation's
    est_rows = ev0.index
    loc = lay.shelf["loc"][est_rows]
    from shelfplan.model.incidence import incidence
    X, _, _, _ = incidence(read_loans(SAMPLE_LOANS), units=True)
    D = lay.hall.stacks.distances()
    want = [reference_walk(X.indices[a:b], loc, D) for a, b in zip(X.indptr[:-1], X.indptr[1:])]
    np.testing.assert_allclose(ev0.walks, want, atol=1e-9)


# --------------------------------------------------------------- the visits objective

def _loans(tmp_path, visits):
    rows = [(f"v{k}", b, "2025-01-01") for k, v in enumerate(visits) for b in v]
    path = tmp_path / "loans.csv"
    pd.DataFrame(rows, columns=["patron_id", "item_id", "timestamp"]).to_csv(path, index=False)
    return read_loans(path)


def test_visit_weights_by_hand(tmp_path, monkeypatch):
    monkeypatch.setattr(visit_weights, "PSEUDO_VISITS", 0.0)
    loans = _loans(tmp_path, [["a"], ["a", "b"], ["b", "c", "d"]])
    est = estimate(loans)
    w = visit_estimates(est, loans)
    a = dict(zip(est.items, w.p))
    # a_i = (2/N) sum over i's visits of 1/|V|, N = 3
    assert a["a"] == pytest.approx(2 / 3 * (1 + 1 / 2))
    assert a["b"] == pytest.approx(2 / 3 * (1 / 2 + 1 / 3))
    assert a["c"] == pytest.approx(2 / 3 * (1 / 3))
    assert w.p.sum() == pytest.approx(2.0)                    # two entrance legs a visit
    assert w.pair.sum() == pytest.approx(1.0)                 # K - 1 = 2 - 1 legs between
    # b_ba = (1/N) sum over b's visits of (k-1)/k, spread by p(j|b) = 1/3 each
    B = w.pair.toarray()
    i = {x: k for k, x in enumerate(est.items)}
    assert B[i["b"], i["a"]] == pytest.approx(1 / 3 * (1 / 2 + 2 / 3) / 3)
    assert w.summary["objective"]["mean_visit_size"] == pytest.approx(2.0)


def test_on_visits_of_one_or_two_books_the_objective_is_the_mean_visit_walk(tmp_path,
                                                                            monkeypatch):
    monkeypatch.setattr(visit_weights, "PSEUDO_VISITS", 0.0)
    rng = np.random.default_rng(3)
    books = [f"B{k:05d}" for k in range(1, 60)]
    visits = [list(rng.choice(books, size=rng.integers(1, 3), replace=False))
              for _ in range(300)]
    rows = [(f"v{k}", b, "2025-01-01") for k, v in enumerate(visits) for b in v]
    path = tmp_path / "loans.csv"
    pd.DataFrame(rows, columns=["patron_id", "item_id", "timestamp"]).to_csv(path, index=False)
    lay = fit(path, STACKED, time_limit=1, objective="visits")
    assert lay.objective["objective"].startswith("visits")
    ev = evaluate(lay, path)
    assert lay.objective["total"] == pytest.approx(ev.walk["mean"], rel=1e-9)


def test_unborrowed_books_take_their_class_mean():
    a = np.array([1.0, 5.0, 0.0, 6.0, 0.0, 0.0])
    unseen = a == 0
    cls = np.array(["x", "x", "x", "y", "z", None], dtype=object)
    out = unseen_weights(a, unseen, cls)
    # x: (1 + 5 + 0) / 3; z has no borrowed book: 0; no class: the mean over all, 12 / 6
    assert out.tolist() == [0, 0, 2.0, 0, 0.0, 2.0]
    assert unseen_weights(a, unseen, None).tolist() == [0, 0, 2.0, 0, 2.0, 2.0]


def test_objective_options_are_checked():
    assert Objective.coerce(None) == Objective("walk")
    assert Objective.coerce("visits").name == "visits"
    with pytest.raises(ParameterError, match="`objective` must be one of walk, visits"):
        Objective.coerce("short")
    with pytest.raises(ParameterError, match="`visit_pairs` must be 0 or more"):
        Objective("visits", -1.0)
    with pytest.raises(ParameterError, match="go with `objective` visits"):
        Objective("walk", 2.0)


def test_fit_visits_says_which_objective_its_total_is(tmp_path):
    out = tmp_path / "plan.json"
    r = CliRunner().invoke(main, ["fit", str(SAMPLE_LOANS), "--hall", str(STACKED),
                                  "--holdings", str(HOLDINGS), "--objective", "visits",
                                  "--time-limit", "2", "-o", str(out), "-q"])
    assert r.exit_code == 0, r.output
    obj = json.loads(out.read_text(encoding="utf-8"))["objective"]
    assert obj["objective"].startswith("visits (mean visit walk")
    walk = fit(SAMPLE_LOANS, STACKED, holdings=HOLDINGS, time_limit=1)
    assert "objective" not in walk.objective                 # S_walk, as MODEL.md 8.4


def test_visits_on_a_hall_without_stacks_is_one_clear_line(tmp_path):
    out = tmp_path / "lay.json"
    r = CliRunner().invoke(main, ["fit", str(SAMPLE_LOANS), "--objective", "visits",
                                  "-o", str(out), "-q"])
    assert r.exit_code != 0
    assert "--objective visits is for shelving plans" in r.output
    assert "Traceback" not in r.output and not out.exists()
    with pytest.raises(LayoutError, match="needs a hall with stacks"):
        fit(SAMPLE_LOANS, SAMPLE_HALL, objective="visits")


def test_tune_by_the_visit_walk_tries_the_objectives_knobs_and_picks_by_the_walk():
    from shelfplan.api import baseline
    from shelfplan.judge.heldout import tune
    from shelfplan.model.hall import load_hall

    loans = read_loans(SAMPLE_LOANS)
    hall = load_hall(STACKED)
    pop = baseline("popularity", loans, hall, holdings=HOLDINGS)
    rnd = baseline("callnumber", loans, hall, holdings=HOLDINGS)

    def quick(part, options, hall_, seed):    # popularity slotting only for visit_unseen 1
        return pop if options.get("visit_unseen") == 1.0 else rnd

    chosen, tried = tune(loans, hall, quick, folds=2, by="walk", visit_pairs=True)
    knobs = [next(iter(r["options"]), None) for r in tried]
    assert {"visit_pairs", "visit_unseen"} <= set(knobs)
    assert chosen == {"visit_unseen": 1.0}
    best = next(r for r in tried if r["options"] == chosen)
    assert best["held_out_walk"] < tried[0]["held_out_walk"]
    assert all(len(r["per_split_walk"]) == 2 for r in tried)
    with pytest.raises(ParameterError, match="`by` must be S or walk"):
        tune(loans, hall, quick, by="steps")
