"""The cost of a layout (MODEL.md section 3) and every objective term's gradient."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SMALL_HALL, brute_force_cost, random_problem
from shelfplan.model.estimate import Estimates
from shelfplan.model.hall import hall_from_dict, load_hall
from shelfplan.model.objective import (entrance_term, hall_penalty, is_feasible, min_spacing,
                                 near_pairs, pair_term, spacing_penalty, walking_cost)
from shelfplan.model.problem import Problem
from shelfplan.solve.items import _Objective

RTOL = 1e-5


def numeric_grad(f, X: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences of a scalar function of an (n, 3) array."""
    g = np.zeros_like(X)
    for idx in np.ndindex(X.shape):
        Xp, Xm = X.copy(), X.copy()
        Xp[idx] += h
        Xm[idx] -= h
        g[idx] = (f(Xp) - f(Xm)) / (2 * h)
    return g


def assert_grad(term, X, h=1e-6, rtol=RTOL):
    """The analytic gradient of ``term(X) -> (value, grad)`` against central differences."""
    _, g = term(X)
    assert g.shape == X.shape
    num = numeric_grad(lambda Y: term(Y)[0], X, h)
    err = np.linalg.norm(g - num) / max(np.linalg.norm(num), 1e-12)
    assert np.linalg.norm(num) > 0, "test case has a zero gradient: pick another"
    assert err < rtol, (err, g, num)


# --- the cost against a brute-force double loop ----------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_walking_cost_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 12))
    problem, pair, _ = random_problem(n, seed, density=rng.uniform(0.1, 0.8))
    X = rng.uniform(-1, 3, (n, 3))
    cost = walking_cost(X, problem)
    expected = brute_force_cost(X, problem.p, pair, problem.hall.entrance)
    assert cost["total"] == pytest.approx(expected, rel=1e-12)
    assert cost["total"] == pytest.approx(cost["entrance_term"] + cost["pair_term"], rel=1e-14)
    ent = sum(problem.p[i] * np.linalg.norm(X[i] - problem.hall.entrance) for i in range(n))
    assert cost["entrance_term"] == pytest.approx(ent, rel=1e-12)


def test_walking_cost_by_hand():
    # two items 1 m apart on a line from the entrance; p = (0.75, 0.25), always together
    est = Estimates(items=np.array(["a", "b"], dtype=object), categories=None,
                    counts=np.array([3, 1]), p=np.array([0.75, 0.25]),
                    cooc=sp.csr_matrix(np.array([[0, 1], [1, 0]])),
                    pair=sp.csr_matrix(np.array([[0, 0.75], [0.25, 0]])))
    hall = load_hall(SMALL_HALL)
    e = hall.entrance
    X = np.array([e + [0, 1, 0], e + [0, 2, 0]])
    cost = walking_cost(X, Problem.from_estimates(est, hall))
    assert cost["entrance_term"] == pytest.approx(0.75 * 1 + 0.25 * 2)
    assert cost["pair_term"] == pytest.approx(0.75 * 1 + 0.25 * 1)
    assert cost["total"] == pytest.approx(2.25)


def test_walking_cost_on_estimated_problem():
    from conftest import TINY_LOANS
    from shelfplan.model.estimate import estimate
    from shelfplan.ingest.loans import read_loans

    est = estimate(read_loans(TINY_LOANS))
    problem = Problem.from_estimates(est, load_hall(SMALL_HALL))
    X = np.random.default_rng(3).uniform(0, 3, (est.n, 3))
    expected = brute_force_cost(X, est.p, est.pair.toarray(), problem.hall.entrance)
    assert walking_cost(X, problem)["total"] == pytest.approx(expected, rel=1e-12)


def test_no_pairs_means_entrance_term_only():
    problem, _, _ = random_problem(5, 0, density=0.0)
    assert len(problem.W) == 0
    X = np.random.default_rng(0).uniform(0, 2, (5, 3))
    cost = walking_cost(X, problem)
    assert cost["pair_term"] == 0.0 and cost["total"] == cost["entrance_term"] > 0
    val, g = pair_term(X, problem.I, problem.J, problem.W)
    assert val == 0.0 and not g.any()


def test_zero_distance_has_zero_gradient_when_exact():
    X = np.zeros((2, 3))
    val, g = pair_term(X, np.array([0]), np.array([1]), np.array([1.0]))
    assert val == 0.0 and not g.any() and np.isfinite(g).all()
    val, g = entrance_term(X, np.array([0.5, 0.5]), np.zeros(3))
    assert val == 0.0 and not g.any()


def test_smoothing_only_adds_a_little():
    problem, _, _ = random_problem(8, 2)
    X = np.random.default_rng(2).uniform(0, 3, (8, 3))
    exact, _ = pair_term(X, problem.I, problem.J, problem.W)
    smooth, _ = pair_term(X, problem.I, problem.J, problem.W, eps=1e-3)
    assert exact <= smooth <= exact + 1e-3 * problem.W.sum()


# --- gradient checks ------------------------------------------------------------------


@pytest.mark.parametrize("eps", [0.0, 0.01])
def test_entrance_term_gradient(eps):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 3, (7, 3))
    p = rng.dirichlet(np.ones(7))
    e = np.array([1.0, 0.0, 1.2])
    assert_grad(lambda Y: entrance_term(Y, p, e, eps), X)


@pytest.mark.parametrize("seed", range(3))
def test_pair_term_gradient(seed):
    problem, _, _ = random_problem(9, seed, density=0.5)
    X = np.random.default_rng(seed).uniform(0, 2, (9, 3))
    X[1] = X[0] + 1e-4     # a nearly coincident pair: the smoothing keeps it differentiable
    assert_grad(lambda Y: pair_term(Y, problem.I, problem.J, problem.W, eps=0.003), X, h=1e-7)


def test_spacing_penalty_gradient():
    rng = np.random.default_rng(5)
    d = 0.3
    X = rng.uniform(0, 0.8, (12, 3))    # crowded: many pairs closer than d
    assert len(near_pairs(X, d)) > 5
    assert_grad(lambda Y: spacing_penalty(Y, d), X, h=1e-7)


def test_spacing_penalty_value_by_hand():
    X = np.array([[0, 0, 0], [0.1, 0, 0], [1, 0, 0]], dtype=float)
    val, g = spacing_penalty(X, 0.3)
    assert val == pytest.approx(0.2 ** 2)
    np.testing.assert_allclose(g[0], [0.4, 0, 0])    # d/dx0 (0.3 - (x1 - x0))^2 = 2 * 0.2
    np.testing.assert_allclose(g[1], [-0.4, 0, 0])   # descent pushes the pair apart
    np.testing.assert_allclose(g[2], 0)


def test_hall_penalty_gradient_outside_and_in_obstacles():
    hall = load_hall(SMALL_HALL)    # 4 x 3 m room, pillar [1.6, 2.2] x [1.2, 1.8]
    X = np.array([
        [4.5, 1.0, 0.5],     # beyond the east wall
        [-0.3, -0.4, 0.7],   # beyond the south-west corner
        [2.0, 3.2, 1.0],     # beyond the north wall
        [1.65, 1.5, 0.6],    # in the pillar, near its west side
        [1.9, 1.25, 0.8],    # in the pillar, near its south side
        [1.0, 1.0, 0.5],     # on the free floor: no penalty
    ])
    val, g = hall_penalty(X, hall)
    expected = 0.5 ** 2 + (0.3 ** 2 + 0.4 ** 2) + 0.2 ** 2 + 0.05 ** 2 + 0.05 ** 2
    assert val == pytest.approx(expected)
    assert not g[5].any() and not g[:, 2].any()
    assert_grad(lambda Y: hall_penalty(Y, hall), X)


def test_hall_penalty_zero_inside():
    hall = load_hall(SMALL_HALL)
    val, g = hall_penalty(hall.sites(), hall)
    assert val == 0.0 and not g.any()


@pytest.mark.parametrize("mu", [0.3, 300.0])
def test_solver_objective_gradient(mu):
    """The penalised, scaled objective the solver hands to L-BFGS-B."""
    hall = load_hall(SMALL_HALL)
    problem, _, _ = random_problem(15, 1, hall=hall, density=0.4)
    rng = np.random.default_rng(1)
    X = np.column_stack([rng.uniform(-0.5, 4.5, 15), rng.uniform(-0.5, 3.5, 15),
                         rng.uniform(0.3, 1.2, 15)])
    X[:4] = X[4] + rng.normal(scale=0.05, size=(4, 3))   # some overlaps
    obj = _Objective(problem, eps=0.01 * hall.d_min)
    obj.mu = mu
    f, g = obj(X.ravel())
    assert g.shape == (45,)
    assert hall_penalty(X, hall)[0] > 0 and spacing_penalty(X, hall.d_min)[0] > 0
    assert_grad(lambda Y: (obj(Y.ravel())[0], obj(Y.ravel())[1].reshape(-1, 3)), X, h=1e-7)
    # and with scipy's own checker on a few coordinates at once
    from scipy.optimize import check_grad

    err = check_grad(lambda x: obj(x)[0], lambda x: obj(x)[1], X.ravel(), epsilon=1e-7)
    assert err / np.linalg.norm(g) < RTOL


def test_solver_objective_is_the_weighted_sum():
    hall = load_hall(SMALL_HALL)
    problem, _, _ = random_problem(10, 4, hall=hall)
    X = np.random.default_rng(4).uniform(0, 3, (10, 3))
    eps = 0.003
    obj = _Objective(problem, eps=eps)
    obj.mu = 30.0
    f, _ = obj(X.ravel())
    d = hall.d_min
    expected = (problem.n / d * (entrance_term(X, problem.p, hall.entrance, eps)[0]
                                 + pair_term(X, problem.I, problem.J, problem.W, eps)[0])
                + 30.0 / d ** 2 * (spacing_penalty(X, d)[0] + hall_penalty(X, hall)[0]))
    assert f == pytest.approx(expected, rel=1e-12)


# --- helpers ----------------------------------------------------------------------------


def test_near_pairs_matches_brute_force():
    X = np.random.default_rng(8).uniform(0, 1, (40, 3))
    got = {tuple(p) for p in near_pairs(X, 0.2)}
    want = {(i, j) for i in range(40) for j in range(i + 1, 40)
            if np.linalg.norm(X[i] - X[j]) <= 0.2}
    assert got == want
    assert len(near_pairs(X[:1], 0.2)) == 0


def test_min_spacing_and_is_feasible():
    hall = load_hall(SMALL_HALL)
    X = np.array([[1, 1, 0.5], [1.3, 1, 0.5], [3, 2, 1.0]], dtype=float)
    assert min_spacing(X) == pytest.approx(0.3)
    assert is_feasible(X, hall)
    X[1, 0] = 1.29            # 0.29 < 0.3 * (1 - 1e-3)
    assert not is_feasible(X, hall)
    X[1, 0] = 1.2999          # within the 1e-3 tolerance of MODEL.md section 4
    assert is_feasible(X, hall)
    assert not is_feasible(np.array([[1.9, 1.5, 0.5]]), hall)    # in the pillar
    assert not is_feasible(np.array([[1.0, 1.0, 1.3]]), hall)    # above z_hi
    assert min_spacing(X[:1]) == float("inf")


# --- properties (hypothesis) ------------------------------------------------------------


@settings(max_examples=40, deadline=None, database=None)
@given(n=st.integers(1, 12), seed=st.integers(0, 2 ** 31), data=st.data())
def test_permuting_items_leaves_the_cost_unchanged(n, seed, data):
    problem, pair, est = random_problem(n, seed)
    perm = np.array(data.draw(st.permutations(range(n))), dtype=int)
    X = np.random.default_rng(seed).uniform(-1, 4, (n, 3))
    permuted = Estimates(items=est.items[perm], categories=None, counts=est.counts[perm],
                         p=est.p[perm], cooc=sp.csr_matrix(est.cooc.toarray()[perm][:, perm]),
                         pair=sp.csr_matrix(pair[perm][:, perm]))
    other = Problem.from_estimates(permuted, problem.hall)
    a = walking_cost(X, problem)
    b = walking_cost(X[perm], other)
    for key in ("total", "entrance_term", "pair_term"):
        assert b[key] == pytest.approx(a[key], rel=1e-12, abs=1e-15)
    # Problem.subset with a permutation is the same relabelling
    c = walking_cost(X[perm], problem.subset(perm))
    assert c["total"] == pytest.approx(a["total"], rel=1e-12, abs=1e-15)


@st.composite
def halls(draw):
    """Rectangular rooms, sometimes with a rectangular pillar, random d_min and heights."""
    w = draw(st.floats(1.5, 6.0))
    h = draw(st.floats(1.5, 6.0))
    d = draw(st.floats(0.15, 0.5))
    z_lo = draw(st.floats(0.0, 0.5))
    z_hi = z_lo + draw(st.floats(0.0, 2.0))
    data = {"footprint": [[0, 0], [w, 0], [w, h], [0, h]], "z_range": [z_lo, z_hi],
            "entrance": [w / 2, 0, (z_lo + z_hi) / 2], "d_min": d, "obstacles": []}
    if draw(st.booleans()):
        x0, y0 = draw(st.floats(0.2, w / 2)), draw(st.floats(0.2, h / 2))
        data["obstacles"] = [[[x0, y0], [x0 + w / 4, y0], [x0 + w / 4, y0 + h / 4],
                              [x0, y0 + h / 4]]]
    return hall_from_dict(data, source="hypothesis")


@settings(max_examples=40, deadline=None, database=None)
@given(hall=halls(), frac=st.floats(0.05, 1.0), seed=st.integers(0, 2 ** 31))
def test_lattice_layouts_have_zero_penalties(hall, frac, seed):
    sites = hall.sites()
    assert len(sites) > 0
    rng = np.random.default_rng(seed)
    X = sites[rng.permutation(len(sites))[: max(1, int(frac * len(sites)))]]
    assert spacing_penalty(X, hall.d_min) == (0.0, pytest.approx(np.zeros_like(X)))
    val, g = hall_penalty(X, hall)
    assert val == 0.0 and not g.any()
    assert is_feasible(X, hall)
