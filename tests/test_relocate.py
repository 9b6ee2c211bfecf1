"""Relocations of single books to free sites (shelfplan.solve.relocate): the best move
against brute force, budgets, feasibility, and --max-moves 1 on the sample."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SAMPLE_HALL, SAMPLE_LOANS, assert_feasible, random_problem
from shelfplan.cli import main
from shelfplan.model.hall import hall_from_dict
from shelfplan.layout import read_layout
from shelfplan.model.objective import walking_cost
from shelfplan.solve.options import Anchor
from shelfplan.solve.relocate import free_sites, relocate

HALL = {"name": "strip", "footprint": [[0, 0], [3.0, 0], [3.0, 0.6], [0, 0.6]],
        "z_range": [1.0, 1.0], "entrance": [0.0, 0.3, 1.0], "d_min": 0.5}


def test_one_relocation_by_hand():
    """Two books always borrowed together; B sits far away. One move brings it next to A."""
    from shelfplan.model.estimate import Estimates
    from shelfplan.model.problem import Problem
    import scipy.sparse as sp

    hall = hall_from_dict(HALL)
    sites = hall.sites()
    assert len(sites) >= 5
    est = Estimates(items=np.array(["A", "B"], dtype=object), categories=None,
                    counts=np.array([1, 1]), p=np.array([0.5, 0.5]),
                    cooc=sp.csr_matrix([[0, 1], [1, 0]]),
                    pair=sp.csr_matrix([[0, 0.5], [0.5, 0]]))
    pr = Problem.from_estimates(est, hall)
    X = np.array([sites[0], sites[-1]])
    Y, m = relocate(X, pr, sites)
    assert m == 1
    # B ends on the free site next to A: S = 0.5*|a-e| + 0.5*|s1-e| + 1.0*|s1-a|
    np.testing.assert_allclose(Y[1], sites[1])
    a, s1, e = sites[0], sites[1], hall.entrance
    expect = 0.5 * np.linalg.norm(a - e) + 0.5 * np.linalg.norm(s1 - e) + np.linalg.norm(s1 - a)
    assert walking_cost(Y, pr)["total"] == pytest.approx(expect)


def brute_best_gain(X, pr, free, anchor=None, lam=0.0):
    W = np.zeros((pr.n, pr.n))
    W[pr.I, pr.J] = pr.W
    W = W + W.T
    e = pr.hall.entrance
    best = 0.0
    for i in range(pr.n):
        def c(x):
            out = pr.p[i] * np.linalg.norm(x - e, axis=-1)
            out = out + (np.linalg.norm(x[..., None, :] - X[None, :, :], axis=-1) * W[i]).sum(-1)
            if anchor is not None:
                out = out + lam * np.linalg.norm(x - anchor[i], axis=-1)
            return out
        best = max(best, float((c(X[i][None, :])[0] - c(free)).max()))
    return best


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(3, 25), seed=st.integers(0, 1000), lam=st.sampled_from([0.0, 0.01]))
def test_first_step_is_the_best_single_move(n, seed, lam):
    pr, _, _ = random_problem(n, seed)
    sites = pr.hall.sites()
    rng = np.random.default_rng(seed)
    X = sites[rng.choice(len(sites), n, replace=False)]
    anchor = X.copy() if lam else None
    free = free_sites(sites, X, pr.hall.d_min)
    best = brute_best_gain(X, pr, free, anchor, lam)
    before = walking_cost(X, pr)["total"] + (0.0 if anchor is None else 0.0)
    Y, m = relocate(X, pr, sites, anchor=Anchor(anchor, lam), k=len(free), max_steps=1)
    assert_feasible(Y, pr.hall.to_dict())
    moved_cost = 0.0 if anchor is None else lam * np.linalg.norm(Y - anchor, axis=1).sum()
    after = walking_cost(Y, pr)["total"] + moved_cost
    if best > 1e-9:
        assert m == 1
        assert before - after == pytest.approx(best, rel=1e-9, abs=1e-12)
    else:
        assert m == 0 and np.array_equal(X, Y)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(3, 30), seed=st.integers(0, 1000), budget=st.integers(0, 4))
def test_relocations_keep_feasibility_budget_and_never_raise_the_cost(n, seed, budget):
    pr, _, _ = random_problem(n, seed)
    sites = pr.hall.sites()
    rng = np.random.default_rng(seed)
    X = sites[rng.choice(len(sites), n, replace=False)]
    Y, m = relocate(X, pr, sites, anchor=Anchor(X.copy(), max_moves=budget))
    assert_feasible(Y, pr.hall.to_dict())
    assert int((np.linalg.norm(Y - X, axis=1) > 1e-6).sum()) <= budget
    assert walking_cost(Y, pr)["total"] <= walking_cost(X, pr)["total"] + 1e-12


def test_max_moves_one_moves_one_book_on_the_sample(tmp_path):
    runner = CliRunner()
    cur, out = tmp_path / "cur.json", tmp_path / "one.json"
    r = runner.invoke(main, ["baseline", "callnumber", str(SAMPLE_LOANS), "--hall",
                             str(SAMPLE_HALL), "-o", str(cur), "-q"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, ["fit", str(SAMPLE_LOANS), "--current", str(cur), "--max-moves", "1",
                             "--kicks", "20", "-o", str(out), "-q"])
    assert r.exit_code == 0, r.output
    before, after = read_layout(cur), read_layout(out)
    assert after.solver["moved"] == 1
    assert after.objective["total"] < before.objective["total"]
    assert_feasible(after.positions, SAMPLE_HALL)
