"""The certified lower bound of MODEL.md section 6."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from conftest import SMALL_HALL, random_problem
from shelfplan.solve.baselines import BASELINES, baseline_layout
from shelfplan.model.bound import count_within, lower_bound, shell_radii
from shelfplan.model.hall import load_hall
from shelfplan.model.objective import is_feasible, walking_cost
from shelfplan.solve.items import repair


@pytest.mark.parametrize("d_min,height", [(0.3, 1.5), (0.3, 0.0), (0.1, 3.0), (1.0, 0.2),
                                          (0.05, 10.0)])
def test_shell_radii_inverts_count_within(d_min, height):
    k = np.arange(1, 5001)
    r = shell_radii(k, d_min, height)
    assert (np.diff(r) >= 0).all() and r[0] == 0.0
    assert (count_within(r, d_min, height) >= k).all()
    tiny = 1e-7 * d_min
    below = count_within(np.maximum(r - tiny, 0) - tiny * (r == 0), d_min, height)
    assert (below < k).all()


def test_shell_radii_by_hand():
    d, h = 0.3, 1.5
    v = math.pi * d ** 3 / 6
    # k = 1: the book may sit on the point itself
    assert shell_radii(np.array([1]), d, h)[0] == 0.0
    # small k: the ball term binds, R = (3 k v / 4 pi)^(1/3) = (k)^(1/3) d / 2
    assert shell_radii(np.array([8]), d, h)[0] == pytest.approx(2 * d / 2 - d / 2)
    # large k: the slab term binds, R = sqrt(k v / (pi (h + d)))
    k = 10 ** 6
    assert shell_radii(np.array([k]), d, h)[0] == pytest.approx(
        math.sqrt(k * v / (math.pi * (h + d))) - d / 2)


def test_count_within_by_hand():
    d, h = 0.3, 1.5
    # R = d/2 holds exactly one ball; R = d (ball volume 8 v) holds 8
    assert count_within(np.array([0.0, d / 2]), d, h).tolist() == [1, 8]
    assert count_within(np.array([-1e-9]), d, h)[0] == 0


def test_lower_bound_by_hand_n2():
    """Two books borrowed together, p = (0.6, 0.4), d = 0.3, h = 1.5.

    Entrance: the more popular book may stand at the entrance (r_1 = 0), the other is at
    least r_2 = max(2^(1/3) d/2, sqrt(2 v / (pi (h + d)))) - d/2 away. Pairs: p(1,2) = 0.6,
    p(2,1) = 0.4, each at least max(d, r_2) = d apart.
    """
    d, h = 0.3, 1.5
    v = math.pi * d ** 3 / 6
    r2 = max(2 ** (1 / 3) * d / 2, math.sqrt(2 * v / (math.pi * (h + d)))) - d / 2
    assert r2 == pytest.approx(0.0389881, abs=1e-7)
    lb = lower_bound(np.array([0.6, 0.4]), sp.csr_matrix([[0, 0.6], [0.4, 0]]), d, h)
    assert lb["entrance_term"] == pytest.approx(0.4 * r2)
    assert lb["pair_term"] == pytest.approx(d)
    assert lb["total"] == pytest.approx(0.4 * r2 + d)


def test_lower_bound_pairs_sorted_within_each_row():
    # one row with partners 0.5 > 0.3 > 0.2: distances rho_1 <= rho_2 <= rho_3, largest first
    d, h = 0.3, 0.0
    pair = sp.csr_matrix(np.array([[0, 0.2, 0.5, 0.3], [0, 0, 0, 0], [0, 0, 0, 0],
                                   [0, 0, 0, 0]]))
    lb = lower_bound(np.full(4, 0.25), pair, d, h)
    rho = np.maximum(d, shell_radii(np.array([2, 3, 4]), d, h))
    assert lb["pair_term"] == pytest.approx(0.5 * rho[0] + 0.3 * rho[1] + 0.2 * rho[2])


def test_lower_bound_leaves_its_input_alone():
    pair = sp.csr_matrix((np.array([0.0, 0.3, 0.2]), np.array([1, 2, 0]),
                          np.array([0, 2, 3, 3])), shape=(3, 3))
    before = (pair.data.copy(), pair.indices.copy(), pair.indptr.copy())
    lower_bound(np.array([0.5, 0.3, 0.2]), pair, 0.3, 1.5)
    for a, b in zip(before, (pair.data, pair.indices, pair.indptr)):
        np.testing.assert_array_equal(a, b)


def test_no_pairs_bound_is_the_entrance_term():
    lb = lower_bound(np.array([0.5, 0.5]), sp.csr_matrix((2, 2)), 0.3, 1.5)
    assert lb["pair_term"] == 0.0 and lb["total"] == lb["entrance_term"] > 0


@pytest.mark.parametrize("seed", range(4))
def test_lower_bound_below_baselines_and_random_feasible_layouts(seed):
    hall = load_hall(SMALL_HALL)
    problem, pair, est = random_problem(30, seed, hall=hall, density=0.3)
    lb = lower_bound(est.p, est.pair, hall.d_min, hall.height)
    assert 0 < lb["total"]
    rng = np.random.default_rng(seed)
    layouts = [baseline_layout(name, problem, seed=seed) for name in BASELINES]
    sites = hall.sites()
    layouts += [sites[rng.permutation(len(sites))[:30]] for _ in range(3)]
    # the tightest feasible layout we can think of: every book right at the entrance, repaired
    layouts.append(repair(np.tile(hall.entrance, (30, 1)), problem))
    for X in layouts:
        assert is_feasible(X, hall)
        S = walking_cost(X, problem)
        assert lb["entrance_term"] <= S["entrance_term"] + 1e-12
        assert lb["pair_term"] <= S["pair_term"] + 1e-12
        assert lb["total"] <= S["total"]


def test_lower_bound_below_fit_on_the_sample(sample_fit):
    lay = sample_fit
    assert lay.lower_bound["total"] <= lay.objective["total"]
    assert lay.lower_bound["entrance_term"] <= lay.objective["entrance_term"]
    assert lay.lower_bound["pair_term"] <= lay.objective["pair_term"]
    assert 1.0 < lay.objective["total"] / lay.lower_bound["total"] < 10
