"""Category blocks on the search core: block swaps and single-block relocations.

The places are the blocks' own centres (:class:`shelfplan.solve.core.Places`
with book ``i`` on place ``i``): a swap exchanges two centres and is priced by
the core's :func:`~shelfplan.solve.core.swap_gains`. Unlike lattice sites,
not every swap is feasible (discs differ in size), so moves are applied
best first, each re-priced and checked (:func:`~shelfplan.solve.core.best_first`).
A relocation moves one block to a free candidate centre near its pull point
(:func:`~shelfplan.solve.core.pull_points`), priced by
:func:`~shelfplan.solve.core.point_costs`.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from shelfplan.model.discs import TOL, signed_clearance
from shelfplan.solve.core import Places, best_first, pull_points, spot_costs
from shelfplan.solve.core import swap_gains as core_swap_gains

#: candidate spots times partners priced per relocation (see block_place.SCORE_BUDGET)
SCORE_BUDGET = 64_000


def swap_gains(geo, X: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact decrease of S when blocks ``a`` and ``b`` exchange centres."""
    places = Places(X, geo.hall.entrance)
    return core_swap_gains(places, np.arange(geo.n), geo.problem.p, geo.W, a, b)


def fits(geo, X: np.ndarray, i: int, at: np.ndarray, skip: int, tree) -> bool:
    """Would block ``i`` centred at ``at`` clear every block but ``i`` and ``skip``
    and the walls?"""
    near = tree.query_ball_point(at, geo.rho[i] + float(geo.rho.max()))
    for k in near:
        if k in (i, skip):
            continue
        if np.linalg.norm(at - X[k]) < (geo.rho[i] + geo.rho[k]) * (1 - TOL / 2):
            return False
    sd, _ = signed_clearance(at[None, :2], geo.hall)
    return bool(sd[0] >= geo.margin[i] - TOL * geo.hall.d_min / 2)


def move_gain(X, a, b, anchor, lam):
    """Change of ``lam * ||v - anchor||`` when blocks a and b exchange centres."""
    if anchor is None or lam == 0:
        return 0.0
    has_a = np.isfinite(anchor[a]).all(axis=1)
    has_b = np.isfinite(anchor[b]).all(axis=1)
    A = np.nan_to_num(anchor)
    da = np.linalg.norm(X[a] - A[a], axis=1) - np.linalg.norm(X[b] - A[a], axis=1)
    db = np.linalg.norm(X[b] - A[b], axis=1) - np.linalg.norm(X[a] - A[b], axis=1)
    return lam * (np.where(has_a, da, 0.0) + np.where(has_b, db, 0.0))


def swaps(geo, X: np.ndarray, deadline: float, neighbours: int = 8, *,
          anchor: np.ndarray | None = None, move_cost: float = 0.0,
          max_moves: int | None = None) -> tuple:
    """Exchange the centres of two blocks while that lowers S (plus ``move_cost``
    per metre from ``anchor``) and stays feasible, with at most ``max_moves``
    blocks off their anchor.

    Candidates: each block with its ``neighbours`` nearest blocks and with its
    co-borrowing partners; gains are exact and re-checked before each swap.
    Returns (positions, swaps made)."""
    X = np.array(X, dtype=float)
    lam = float(move_cost)
    n = geo.n
    if n < 2:
        return X, 0
    coo = sp.triu(geo.W, k=1).tocoo()
    made = 0
    while time.monotonic() < deadline:
        k = min(neighbours, n - 1)
        _, nn = cKDTree(X).query(X, k=k + 1)
        a = np.concatenate([np.repeat(np.arange(n), k), coo.row])
        b = np.concatenate([nn[:, 1:].ravel(), coo.col])
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        pairs = np.unique(np.stack([lo, hi], axis=1), axis=0)
        pairs = pairs[pairs[:, 0] != pairs[:, 1]]
        gain = (swap_gains(geo, X, pairs[:, 0], pairs[:, 1])
                + move_gain(X, pairs[:, 0], pairs[:, 1], anchor, lam))
        step = _SwapStep(geo, X, pairs, anchor, lam, max_moves)
        done = best_first(gain, step.regain, step.allowed, step.apply, deadline)
        made += done
        if done == 0:
            break
    return X, made


class _SwapStep:
    """Re-price, check and apply one block swap of a round (for :func:`best_first`)."""

    def __init__(self, geo, X, pairs, anchor, lam, max_moves):
        self.geo, self.X, self.pairs = geo, X, pairs
        self.anchor, self.lam, self.max_moves = anchor, lam, max_moves
        self.tree = cKDTree(X)

    def regain(self, c) -> float:
        ai, aj = self.pairs[c, :1], self.pairs[c, 1:]
        return (swap_gains(self.geo, self.X, ai, aj)
                + move_gain(self.X, ai, aj, self.anchor, self.lam))[0]

    def allowed(self, c) -> bool:
        i, j = int(self.pairs[c, 0]), int(self.pairs[c, 1])
        X, geo = self.X, self.geo
        if not (fits(geo, X, i, X[j], j, self.tree) and fits(geo, X, j, X[i], i, self.tree)):
            return False
        if self.max_moves is not None:
            Y = X.copy()
            Y[[i, j]] = Y[[j, i]]
            return int(geo.moved(Y, self.anchor).sum()) <= self.max_moves
        return True

    def apply(self, c) -> None:
        i, j = int(self.pairs[c, 0]), int(self.pairs[c, 1])
        self.X[[i, j]] = self.X[[j, i]]
        self.tree = cKDTree(self.X)


def relocations(geo, X: np.ndarray, anchor: np.ndarray, lam: float,
                max_moves: int | None, deadline: float) -> tuple:
    """Move single blocks to the free spot that lowers S plus the move cost most,
    best move first, within the move budget. Returns (positions, moves made)."""
    has = np.isfinite(anchor).all(axis=1)
    A = np.nan_to_num(anchor)
    X = np.array(X, dtype=float)
    made = 0
    while time.monotonic() < deadline:
        moved = geo.moved(X, anchor)
        room = max_moves is None or int(moved.sum()) < max_moves
        best = (0.0, -1, None)
        tree = cKDTree(X[:, :2])
        for i in range(geo.n):
            if time.monotonic() > deadline:
                break
            if not room and not moved[i]:
                continue
            gain, P = _best_spot(geo, X, i, A if has[i] else None, lam, tree)
            if gain > best[0]:
                best = (gain, i, P)
        if best[1] < 0:
            break
        X[best[1]] = best[2]
        made += 1
    return X, made


def _best_spot(geo, X: np.ndarray, i: int, anchor_i, lam: float, tree) -> tuple:
    """(gain, centre) of block ``i``'s best free candidate centre (gain 0: none)."""
    pr, e, W = geo.problem, geo.hall.entrance, geo.W
    deg = W.indptr[i + 1] - W.indptr[i]
    lam_i = lam if anchor_i is not None else 0.0
    # candidate spots: nearest the pull point, plus the block's own anchor
    pull = pull_points(X[:, :2], pr.p, e[:2], W, np.array([i]),
                       lam=np.array([lam_i]),
                       anchor=(anchor_i[i:i + 1, :2] if lam_i else np.zeros((1, 2))))[0]
    ok = np.flatnonzero(geo.wall >= geo.margin[i])
    limit = max(256, min(SCORE_BUDGET // max(deg, 1), 4096))
    if len(ok) > limit:
        d2 = ((geo.cand[ok] - pull) ** 2).sum(axis=1)
        ok = ok[np.argpartition(d2, limit)[:limit]]
    C = geo.cand[ok]
    if anchor_i is not None:
        C = np.vstack([C, anchor_i[i, :2]])
    # not the block's own spot (a sub-micrometre "move" is none)
    C = _free(geo, X, i, C[np.linalg.norm(C - X[i, :2], axis=1) > 1e-6], tree)
    if len(C) == 0:
        return 0.0, None
    P = np.column_stack([C, np.full(len(C), geo.z)])
    # the pair distances in the floor plane (every block stands at the same height)
    new = spot_costs(P, i, X, pr.p, e, W, plane=True)
    now = spot_costs(X[i:i + 1], i, X, pr.p, e, W, plane=True)[0]
    if lam_i:
        new = new + lam_i * np.linalg.norm(P - anchor_i[i], axis=1)
        now = now + lam_i * np.linalg.norm(X[i] - anchor_i[i])
    k = int(np.argmin(new))
    gain = now - new[k]
    return (gain, P[k]) if gain > 1e-9 * (1.0 + now) else (0.0, None)


def _free(geo, X: np.ndarray, i: int, C: np.ndarray, tree) -> np.ndarray:
    """The candidate centres ``C`` where block ``i`` clears every other block
    (KD-tree neighbours, checked exactly)."""
    near = tree.query_ball_point(C, geo.rho[i] + float(geo.rho.max()))
    lens = np.fromiter((len(x) for x in near), dtype=np.int64, count=len(C))
    if not lens.sum():
        return C
    c_idx = np.repeat(np.arange(len(C)), lens)
    j = np.concatenate([np.asarray(x, dtype=np.int64) for x in near if len(x)])
    bad = (j != i) & (np.linalg.norm(C[c_idx] - X[j, :2], axis=1)
                      < (geo.rho[i] + geo.rho[j]) * (1 - TOL / 2))
    blocked = np.zeros(len(C), dtype=bool)
    blocked[c_idx[bad]] = True
    return C[~blocked]
