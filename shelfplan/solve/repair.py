"""Repair: make a continuous layout of single books feasible, moving them little."""

from __future__ import annotations

import time

import numpy as np
from scipy.spatial import cKDTree

from shelfplan.errors import LayoutError
from shelfplan.model.objective import near_pairs
from shelfplan.model.problem import Problem


def repair(X: np.ndarray, problem: Problem, max_rounds: int = 2000,
           sites: np.ndarray | None = None, deadline: float | None = None) -> np.ndarray:
    """Make a layout feasible while moving books as little as practical.

    Push pairs closer than d_min apart (vectorised, all pairs at once, slightly
    over-relaxed and aiming a little beyond d_min), project back into the
    hall, repeat; any book still too close is re-seated
    at the nearest lattice site (or free spot) that keeps every spacing.
    Past ``deadline`` (``time.monotonic``) the pushing stops and the re-seating
    finishes the job.
    """
    hall = problem.hall
    d = hall.d_min
    target = d * (1 + 1e-3)
    X = hall.project(X, margin=1e-6 * d)
    for _ in range(max_rounds):
        if deadline is not None and time.monotonic() > deadline:
            break
        pairs = near_pairs(X, d * (1 - 1e-4))
        if len(pairs) == 0:
            break
        I, J = pairs[:, 0], pairs[:, 1]
        diff = X[I] - X[J]
        r = np.linalg.norm(diff, axis=1)
        rng = np.random.default_rng(len(pairs))
        tiny = r < 1e-9 * d
        if tiny.any():
            diff[tiny] = rng.standard_normal((int(tiny.sum()), 3))
            r[tiny] = np.linalg.norm(diff[tiny], axis=1)
        push = 0.75 * (target - r)          # half the deficit each, over-relaxed by 1.5
        step = diff * (push / r)[:, None]
        delta = np.zeros_like(X)
        for k in range(3):
            delta[:, k] = np.bincount(I, step[:, k], len(X)) - np.bincount(J, step[:, k], len(X))
        X = hall.project(X + delta, margin=1e-6 * d)
    return _reseat(X, problem, sites)


def _reseat(X: np.ndarray, problem: Problem, sites: np.ndarray | None) -> np.ndarray:
    hall = problem.hall
    d = hall.d_min
    need = d * (1 - 1e-4)
    pairs = near_pairs(X, need)
    if len(pairs) == 0:
        return X
    # drop the less popular book of each close pair until no close pair is left
    bad = set()
    for i, j in pairs[np.argsort(np.minimum(problem.p[pairs[:, 0]], problem.p[pairs[:, 1]]))]:
        if i in bad or j in bad:
            continue
        bad.add(int(j) if problem.p[j] <= problem.p[i] else int(i))
    bad = np.array(sorted(bad, key=lambda k: -problem.p[k]))
    keep = np.setdiff1d(np.arange(len(X)), bad)
    if sites is None:
        sites = hall.sites()
    clear = d * (1 - 1e-6)   # lattice neighbours are d (1 + 1e-9) apart: free
    site_tree = cKDTree(sites)
    # a site is free when no kept book is within d_min of it
    free = np.ones(len(sites), dtype=bool)
    if len(keep):
        dist, _ = cKDTree(X[keep]).query(sites, k=1)
        free = dist >= clear
    for i in bad:
        k = min(len(sites), 64)
        while True:
            _, cand = site_tree.query(X[i], k=k)
            cand = np.atleast_1d(cand)
            cand = cand[free[cand]]
            if len(cand):
                X[i] = sites[cand[0]]
                free[site_tree.query_ball_point(X[i], clear)] = False
                break
            if k >= len(sites):
                raise LayoutError(
                    f"could not make the layout feasible: no free spot for item "
                    f"{problem.items[i]}; the hall {hall.name!r} is too full — enlarge it or "
                    f"lower d_min")
            k = min(len(sites), k * 4)
    return X
