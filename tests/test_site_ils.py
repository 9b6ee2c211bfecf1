"""The issue-13 peer in benchmarks/site_ils.py: exact deltas, feasible, within its limit."""

import os
import sys

import numpy as np
import pytest

from shelfplan.model.hall import default_hall, hall_from_dict
from shelfplan.model.objective import is_feasible, walking_cost
from shelfplan.model.problem import Problem

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "benchmarks"))
import site_ils  # noqa: E402


def _problem(n=40, seed=0):
    rng = np.random.default_rng(seed)
    I, J = np.triu_indices(n, 1)
    keep = rng.random(len(I)) < 0.15
    I, J = I[keep], J[keep]
    return Problem(hall=default_hall(n), items=np.array([f"b{i}" for i in range(n)]),
                   p=rng.random(n) / n, I=I, J=J, W=rng.random(len(I)) / len(I))


def test_every_move_delta_is_exact():
    problem = _problem()
    P = site_ils.pool_sites(problem)
    st = site_ils._State(problem, P, np.arange(problem.n))
    rng = np.random.default_rng(1)
    for _ in range(60):
        i = int(rng.integers(problem.n))
        cand = rng.choice(len(P), 6, replace=False)
        delta, t = st.best_move(i, cand)
        if t < 0:
            continue
        before = walking_cost(st.X, problem)["total"]
        st.apply(i, t, delta)
        after = walking_cost(st.X, problem)["total"]
        assert after - before == pytest.approx(delta, abs=1e-12)
        assert st.S == pytest.approx(after, rel=1e-12)
        assert (st.occ[st.site] == np.arange(problem.n)).all()
        assert (st.occ >= 0).sum() == problem.n


def test_pool_is_the_nearest_sites():
    # 1.3 n sites, nearest the entrance first
    problem = _problem(n=30)
    P = site_ils.pool_sites(problem)
    assert len(P) == 39
    d = np.linalg.norm(P - problem.hall.entrance, axis=1)
    assert (np.diff(d) >= -1e-12).all()
    rest = np.linalg.norm(problem.hall.sites() - problem.hall.entrance, axis=1)
    assert np.sort(rest)[38] == pytest.approx(d[-1])


def test_improves_the_start_feasibly_and_on_time():
    problem = _problem(n=60, seed=2)
    P = site_ils.pool_sites(problem)
    start = P[:problem.n]
    X, info = site_ils.site_ils(problem, start, time_limit=1.0, seed=0)
    assert is_feasible(X, problem.hall)
    assert info["S"] < walking_cost(start, problem)["total"]
    assert info["S"] == pytest.approx(walking_cost(X, problem)["total"])


def test_start_off_the_pool_is_refused():
    problem = _problem(n=10)
    start = site_ils.pool_sites(problem)[:10] + 0.01
    with pytest.raises(ValueError, match="pool site"):
        site_ils.site_ils(problem, start, time_limit=0.1)


def test_l_shaped_hall_builds_with_room():
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "benchmarks"))
    import bench_shapes
    for shape in bench_shapes.SHAPES:
        hall = bench_shapes.make_hall(shape, 100)
        assert len(hall.sites()) >= 200
        assert hall_from_dict(hall.to_dict()).floor.area == pytest.approx(hall.floor.area)
