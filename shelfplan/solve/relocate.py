"""Relocations: move single books to free lattice sites while that lowers the objective.

A swap moves two books; with a tight ``--max-moves`` budget (one book, say) the
only useful step is moving one book to an empty site. For every book the
candidate sites are the ``k`` free sites nearest to where its attractions pull
it (the weighted mean of the entrance, weight ``p(i)``, and its partners,
weights ``p(i,j) + p(j,i)``), found with a KD-tree over the free sites; each
candidate is priced exactly (``p(i) ||f - e|| + sum_j W_ij ||f - v_j||`` plus the
move cost) over the sparse partner lists, all books at once. The best
relocation is applied, the free sites updated (the vacated spot becomes free),
and the step repeats until nothing gains, the move budget is spent or time is up.
Every step keeps the layout feasible: a free site is at least ``d_min`` from
every book.
"""

from __future__ import annotations

import time

import numpy as np
from scipy.spatial import cKDTree

from shelfplan.model.problem import Problem
from shelfplan.solve.options import Anchor
from shelfplan.solve.core import point_costs, pull_points


def free_sites(sites: np.ndarray, X: np.ndarray, d_min: float) -> np.ndarray:
    """Lattice sites at least ``d_min`` from every position in ``X``."""
    if len(X) == 0:
        return sites
    dist, _ = cKDTree(X).query(sites, k=1)
    return sites[dist >= d_min * (1 - 1e-6)]


def relocate(X: np.ndarray, problem: Problem, sites: np.ndarray, *,
             anchor: Anchor | None = None, deadline: float | None = None,
             k: int = 32, max_steps: int | None = None, tol: float = 1e-6,
             ) -> tuple[np.ndarray, int]:
    """Best-improvement relocations of single books to free ``sites``.

    ``anchor`` (:class:`~shelfplan.solve.options.Anchor`: today's positions, NaN rows
    for no current spot, the move cost and the budget): a book counts as moved when it
    ends more than ``tol`` from its anchor. Returns ``(positions, relocations made)``.
    """
    anchor = anchor or Anchor()
    max_moves = anchor.max_moves
    X = np.array(X, dtype=float)
    n = problem.n
    d = problem.hall.d_min
    e = problem.hall.entrance
    W = problem.symmetric_weights()
    books = np.arange(n)
    has = (np.zeros(n, dtype=bool) if anchor.positions is None
           else np.isfinite(anchor.positions).all(axis=1))
    A = np.where(has[:, None], anchor.positions if anchor.positions is not None else 0.0, 0.0)
    lam = float(anchor.move_cost)
    free = free_sites(sites, X, d)
    steps = 0
    max_steps = n if max_steps is None else int(max_steps)
    while steps < max_steps and len(free) and (deadline is None or time.monotonic() < deadline):
        moved = has & (np.linalg.norm(X - A, axis=1) > tol)
        budget_left = None if max_moves is None else max_moves - int(moved.sum())
        # where each book is pulled to: weighted mean of the entrance and its partners
        target = pull_points(X, problem.p, e, W, books, fallback=X)
        kk = min(k, len(free))
        _, cand = cKDTree(free).query(target, k=kk)
        cand = cand.reshape(n, kk)
        F = free[cand]                                              # (n, kk, 3)
        now = point_costs(X, books, X, problem.p, e, W)
        # one candidate column at a time: (nnz, 3) arrays
        new = np.column_stack([point_costs(F[:, j], books, X, problem.p, e, W)
                               for j in range(kk)])
        if lam > 0:
            now = now + lam * np.where(has, np.linalg.norm(X - A, axis=1), 0.0)
            new = new + lam * np.where(has[:, None], np.linalg.norm(F - A[:, None, :], axis=2),
                                       0.0)
        gain = now[:, None] - new
        if budget_left is not None:
            # a book not yet moved may only move while budget is left; moving a book
            # back onto its own anchor frees budget and is always allowed
            back = has[:, None] & (np.linalg.norm(F - A[:, None, :], axis=2) <= tol)
            if budget_left <= 0:
                gain = np.where(moved[:, None] | back, gain, -np.inf)
        i, j = np.unravel_index(int(np.argmax(gain)), gain.shape)
        if not gain[i, j] > 1e-12:
            break
        site = free[cand[i, j]]
        old = X[i].copy()
        X[i] = site
        # the chosen site and any site now too close to it leave the free set;
        # the vacated spot (and sites that were only blocked by it) may join it
        near_new = np.linalg.norm(free - site, axis=1) < d * (1 - 1e-6)
        free = free[~near_new]
        back_in = sites[np.linalg.norm(sites - old, axis=1) < d * (1 - 1e-6)]
        if len(back_in):
            free = np.unique(np.vstack([free, free_sites(back_in, X, d)]), axis=0)
        steps += 1
    return X, steps
