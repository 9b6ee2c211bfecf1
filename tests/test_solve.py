"""The solver (MODEL.md section 5): feasibility, quality against baselines, determinism."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import cKDTree

from conftest import (SAMPLE_HALL, SAMPLE_LOANS, SMALL_HALL, TINY_LOANS, assert_feasible,
                      random_loans_csv, random_problem, read_text_loans)
from shelfplan.api import baseline, fit, load_problem
from shelfplan.solve.baselines import BASELINES, baseline_layout, shelving_order
from shelfplan.errors import LayoutError
from shelfplan.model.hall import default_hall, hall_from_dict, load_hall
from shelfplan.model.objective import is_feasible, walking_cost
from shelfplan.solve.options import FitOptions
from shelfplan.solve.solver import solve
from shelfplan.solve.repair import repair
from shelfplan.solve.starts import (nearest_sites, popularity_start, snap_to_sites,
                                    spectral_coordinates, spectral_start)
from shelfplan.solve.core import Places, swap_gains
from shelfplan.solve.search import improve

SMALL_STAGES = dict(stages=(0.3, 30.0, 3000.0), maxiter=60)


@pytest.fixture(scope="module")
def small_problem():
    """About 20 items with co-borrowing, in the small test room."""
    loans = read_text_loans(random_loans_csv(20, 40, seed=1))
    return load_problem(loans, str(SMALL_HALL))


# --- the sample data -----------------------------------------------------------------


def test_fit_on_sample_is_feasible(sample_fit):
    lay = sample_fit
    assert lay.n == 297 and lay.positions.shape == (297, 3)
    assert_feasible(lay.positions, SAMPLE_HALL)
    dist, _ = cKDTree(lay.positions).query(lay.positions, k=2)
    assert lay.min_spacing == pytest.approx(dist[:, 1].min())
    assert lay.min_spacing >= 0.3 * (1 - 1e-3)


def test_fit_on_sample_reports_its_own_cost(sample_fit, sample_problem):
    est, problem = sample_problem
    assert list(sample_fit.items) == list(problem.items)
    cost = walking_cost(sample_fit.positions, problem)
    assert sample_fit.objective == pytest.approx(cost)


def test_fit_on_sample_beats_the_baselines(sample_fit, sample_problem):
    _, problem = sample_problem
    S = sample_fit.objective["total"]
    for name in ("popularity", "callnumber", "random"):
        X = baseline_layout(name, problem)
        assert_feasible(X, SAMPLE_HALL)
        assert S < walking_cost(X, problem)["total"], name


def test_baselines_via_api_are_feasible_and_ranked():
    loans = read_text_loans(random_loans_csv(60, 150, seed=2))
    costs = {}
    for name in BASELINES:
        lay = baseline(name, loans, hall=str(SMALL_HALL))
        assert_feasible(lay.positions, SMALL_HALL)
        assert lay.solver["method"] == f"baseline:{name}"
        costs[name] = lay.objective["total"]
    # popularity-first has the smallest entrance term of the three by construction
    assert costs["popularity"] < costs["random"]


def test_callnumber_baseline_follows_categories(small_problem):
    _, problem = small_problem
    X = baseline_layout("callnumber", problem)
    sites = nearest_sites(problem)
    order = shelving_order(problem, sites)
    rank = {tuple(sites[k]): r for r, k in enumerate(order)}
    by_rank = sorted(range(problem.n), key=lambda i: rank[tuple(X[i])])
    cats = [problem.categories[i] for i in by_rank]
    assert cats == sorted(cats)


# --- determinism and edge cases ---------------------------------------------------------


def test_same_seed_same_layout_without_the_timed_search(small_problem):
    # starts + continuation + snap/repair only; the stages end long before the time limit
    _, problem = small_problem
    a = solve(problem, FitOptions(seed=5), polish=False, **SMALL_STAGES)
    b = solve(problem, FitOptions(seed=5), polish=False, **SMALL_STAGES)
    np.testing.assert_array_equal(a.positions, b.positions)
    assert a.info["iterations"] == b.info["iterations"]
    assert is_feasible(a.positions, problem.hall)


def test_fit_same_seed_same_layout(sample_fit):
    again = fit(str(SAMPLE_LOANS), hall=str(SAMPLE_HALL), seed=0, time_limit=120, kicks=20, converge=True)
    np.testing.assert_array_equal(again.positions, sample_fit.positions)


def test_fit_same_seed_same_layout_tiny():
    # four books: every run reaches the same optimum, so the seed plumbing is checked
    a = fit(str(TINY_LOANS), hall=str(SMALL_HALL), seed=1, time_limit=60, kicks=20, converge=True)
    b = fit(str(TINY_LOANS), hall=str(SMALL_HALL), seed=1, time_limit=60, kicks=20, converge=True)
    np.testing.assert_array_equal(a.positions, b.positions)
    assert a.objective == b.objective


def test_no_co_borrowing_only_the_entrance_matters():
    loans = read_text_loans("patron_id,item_id\n" + "".join(
        f"P{k},I{k % 12}\n" for k in range(40)))
    lay = fit(loans, hall=str(SMALL_HALL), seed=0, time_limit=1)
    assert lay.n == 12 and lay.estimation["co_borrowed_pairs"] == 0
    assert_feasible(lay.positions, SMALL_HALL)
    assert lay.objective["pair_term"] == 0.0
    assert lay.objective["total"] == lay.objective["entrance_term"]
    assert lay.lower_bound["pair_term"] == 0.0
    _, problem = load_problem(loans, str(SMALL_HALL))
    pop = walking_cost(baseline_layout("popularity", problem), problem)["total"]
    assert lay.objective["total"] <= pop + 1e-12


def test_single_item():
    loans = read_text_loans("patron_id,item_id\nP1,ONLY\nP2,ONLY\n")
    lay = fit(loans, hall=str(SMALL_HALL), seed=0, time_limit=1)
    assert list(lay.items) == ["ONLY"] and lay.p.tolist() == [1.0]
    assert_feasible(lay.positions, SMALL_HALL)
    assert lay.lower_bound["total"] == 0.0
    assert lay.min_spacing == float("inf")   # no pair to measure


def test_single_item_stands_at_the_entrance():
    loans = read_text_loans("patron_id,item_id\nP1,ONLY\nP2,ONLY\n")
    lay = fit(loans, hall=str(SMALL_HALL), seed=0, time_limit=1)
    # the entrance is on the wall at a shelf height: the book can stand right there
    assert lay.objective["total"] < 1e-3


def test_single_item_default_hall():
    lay = fit(read_text_loans("patron_id,item_id\nP1,ONLY\n"), seed=0, time_limit=1)
    assert lay.n == 1 and is_feasible(lay.positions, lay.hall)


@pytest.mark.parametrize("init", ["popularity", "spectral"])
def test_each_start_alone(small_problem, init):
    _, problem = small_problem
    res = solve(problem, FitOptions(seed=0, init=init), polish=False, **SMALL_STAGES)
    assert is_feasible(res.positions, problem.hall)
    assert res.info["init"] == init
    assert not any("swap" in h["candidate"] for h in res.info["history"])
    start = popularity_start(problem, nearest_sites(problem)) if init == "popularity" else None
    if start is not None:
        assert res.cost["total"] <= walking_cost(start, problem)["total"]


def test_unknown_init(small_problem):
    with pytest.raises(ValueError, match="`init` must be one of auto, popularity, spectral"):
        solve(small_problem[1], FitOptions(init="magic"))


def test_ctrl_c_keeps_the_best_feasible_layout(small_problem, monkeypatch):
    import shelfplan.solve.items as solve_mod

    def interrupted(*args, **kw):   # Ctrl-C during the first L-BFGS-B run
        raise KeyboardInterrupt

    monkeypatch.setattr(solve_mod, "minimize", interrupted)
    _, problem = small_problem
    res = solve(problem, FitOptions(seed=0), **SMALL_STAGES)
    assert res.interrupted and res.info["interrupted"]
    assert is_feasible(res.positions, problem.hall)


def test_lattice_too_small_is_a_clear_error():
    hall = hall_from_dict({"footprint": [[0, 0], [1, 0], [1, 1], [0, 1]], "z_range": [1, 1],
                           "entrance": [0.5, 0, 1], "d_min": 0.3})
    problem, _, _ = random_problem(20, 0, hall=hall)
    with pytest.raises(LayoutError, match=r"room for \d+ books .* fewer than the 20 items"):
        solve(problem, FitOptions(time_limit=1))


# --- building blocks ------------------------------------------------------------------


def test_popularity_start(small_problem):
    _, problem = small_problem
    sites = nearest_sites(problem)
    d = np.linalg.norm(sites - problem.hall.entrance, axis=1)
    assert (np.diff(d) >= -1e-12).all()     # nearest first
    X = popularity_start(problem, sites)
    order = np.argsort(-problem.p, kind="stable")
    np.testing.assert_array_equal(X[order], sites)


def test_spectral_coordinates_separate_two_groups():
    rows = ["patron_id,item_id"]
    for s in range(30):   # two groups of books that are never borrowed together
        group = "AB"[s % 2]
        rows += [f"P{s},{group}{(s // 2 + k) % 6}" for k in range(3)]
    est, problem = load_problem(read_text_loans("\n".join(rows) + "\n"), str(SMALL_HALL))
    groups = np.array([str(k)[0] for k in est.items])
    for seed in range(12):
        first = spectral_coordinates(problem, 2, seed=seed)[:, 0]
        a, b = first[groups == "A"], first[groups == "B"]
        assert a.max() < 0 < b.min() or b.max() < 0 < a.min(), seed


def test_swap_gain_equals_the_change_in_cost(small_problem):
    _, problem = small_problem
    n = problem.n
    X = popularity_start(problem, nearest_sites(problem))
    W = problem.symmetric_weights()
    a, b = np.triu_indices(n, 1)
    gain = swap_gains(Places(X, problem.hall.entrance), np.arange(n), problem.p, W, a, b)
    S0 = walking_cost(X, problem)["total"]
    for k in range(0, len(a), 7):
        Y = X.copy()
        Y[[a[k], b[k]]] = Y[[b[k], a[k]]]
        assert gain[k] == pytest.approx(S0 - walking_cost(Y, problem)["total"], abs=1e-12)


def test_swap_gains_in_chunks_equal_one_pass(small_problem, monkeypatch):
    import shelfplan.solve.core as swap_mod

    _, problem = small_problem
    n = problem.n
    X = popularity_start(problem, nearest_sites(problem))
    W = problem.symmetric_weights()
    a, b = np.triu_indices(n, 1)
    whole = swap_gains(Places(X, problem.hall.entrance), np.arange(n), problem.p, W, a, b)
    monkeypatch.setattr(swap_mod, "GAIN_CHUNK", 7)     # many small chunks, some single pairs
    chunked = swap_gains(Places(X, problem.hall.entrance), np.arange(n), problem.p, W, a, b)
    assert chunked.shape == whole.shape
    np.testing.assert_allclose(chunked, whole, rtol=0, atol=1e-14)


def test_swap_search_only_permutes_and_never_worsens(small_problem):
    _, problem = small_problem
    X = baseline_layout("random", problem, seed=3)
    Y, swaps = improve(X, problem)
    assert swaps > 0
    assert sorted(map(tuple, Y)) == sorted(map(tuple, X))
    assert walking_cost(Y, problem)["total"] < walking_cost(X, problem)["total"]


@st.composite
def crowds(draw):
    n = draw(st.integers(1, 40))
    seed = draw(st.integers(0, 2 ** 31))
    kind = draw(st.sampled_from(["spread", "cluster", "same point", "outside"]))
    return n, seed, kind


@settings(max_examples=40, deadline=None, database=None)
@given(crowds())
def test_repair_always_returns_a_feasible_layout(case):
    n, seed, kind = case
    hall = default_hall(max(n, 10), headroom=3.0)
    problem, _, _ = random_problem(n, seed, hall=hall)
    rng = np.random.default_rng(seed)
    lo, hi = hall.footprint.min(axis=0), hall.footprint.max(axis=0)
    if kind == "spread":
        X = np.column_stack([rng.uniform(lo[0], hi[0], n), rng.uniform(lo[1], hi[1], n),
                             rng.uniform(*hall.z_range, n)])
    elif kind == "cluster":
        X = hall.entrance + rng.normal(scale=0.05, size=(n, 3))
    elif kind == "same point":
        X = np.tile((lo.tolist() + [hall.z_range[0]]), (n, 1)).astype(float) + [1, 1, 0]
    else:
        X = np.column_stack([rng.uniform(lo[0] - 3, hi[0] + 3, n),
                             rng.uniform(lo[1] - 3, hi[1] + 3, n), rng.uniform(-2, 4, n)])
    Y = repair(X.copy(), problem)
    assert Y.shape == X.shape
    assert_feasible(Y, hall.to_dict())
    assert is_feasible(Y, hall)


def test_snap_to_sites_gives_distinct_sites(small_problem):
    _, problem = small_problem
    sites = nearest_sites(problem)
    rng = np.random.default_rng(0)
    X = problem.hall.entrance + rng.normal(scale=0.3, size=(problem.n, 3))
    Y = snap_to_sites(X, problem, sites)
    assert len({tuple(v) for v in Y}) == problem.n
    assert {tuple(v) for v in Y} <= {tuple(v) for v in sites}
    assert_feasible(Y, problem.hall.to_dict())


def test_repair_leaves_a_feasible_layout_alone(small_problem):
    _, problem = small_problem
    X = baseline_layout("popularity", problem)
    np.testing.assert_allclose(repair(X.copy(), problem), X, atol=1e-6)


def test_layout_written_by_fit_has_the_hall(sample_fit):
    assert sample_fit.hall.to_dict() == load_hall(SAMPLE_HALL).to_dict()
    raw = json.loads(SAMPLE_HALL.read_text())
    assert sample_fit.hall.name == raw["name"]


def test_estimation_summary_is_recorded(sample_fit):
    s = sample_fit.estimation
    assert s["rows_read"] == 3618 and s["loans"] == 3618 and s["duplicate_loans"] > 0
    assert s["items"] == 297 and s["session_rule"] == "patron + calendar date"


def test_fit_reads_a_stream():
    text = random_loans_csv(8, 10, seed=9)
    lay = fit(io.StringIO(text), hall=str(SMALL_HALL), time_limit=1)
    assert_feasible(lay.positions, SMALL_HALL)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 60), st.integers(0, 40), st.integers(0, 10_000))
def test_nearest_free_matches_a_brute_force_greedy(n, spare, seed):
    # the candidate-list greedy (k = 4 nearest, re-queried when they are full) must give
    # exactly what the plain greedy gives: each target, in order, takes the free site nearest it
    from shelfplan.solve.starts import nearest_free
    rng = np.random.default_rng(seed)
    sites = rng.random((n + spare, 3))
    T = rng.random((n, 3)) * 1.5 - 0.25
    order = rng.permutation(n)
    free = np.ones(len(sites), dtype=bool)
    want = np.empty_like(T)
    for i in order:
        d = np.linalg.norm(sites - T[i], axis=1)
        d[~free] = np.inf
        want[i] = sites[np.argmin(d)]
        free[np.argmin(d)] = False
    got = sites[nearest_free(T, order, sites, np.ones(len(sites), dtype=np.int64), k=4)]
    assert np.array_equal(got, want)


def test_fit_clock_can_start_before_the_call():
    # the CLI starts the clock before importing the solver: what was spent before
    # the call comes out of the solver's share of the limit
    import time as _time
    lay = fit(SAMPLE_LOANS, SAMPLE_HALL, seed=0, time_limit=50.0,
              started=_time.monotonic() - 48.5)
    assert lay.solver["time_limit"] == 50.0 and lay.solver["stopped_by"] == "time limit"
    assert is_feasible(lay.positions, lay.hall)
