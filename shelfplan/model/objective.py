"""Pure objective terms: each returns ``(value, gradient)`` with gradient shaped like X.

``X`` is an ``(n, 3)`` array of positions. Norms are smoothed as
``sqrt(||x||^2 + eps^2)`` when ``eps > 0`` (``eps = 0`` gives the exact
MODEL.md cost, whose gradient is taken as 0 where a distance is 0).
No term builds an ``n x n`` array: pairs are index arrays.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from shelfplan.model.hall import Hall
from shelfplan.model.problem import Problem


def _scatter(idx: np.ndarray, vals: np.ndarray, n: int) -> np.ndarray:
    """Sum rows of ``vals`` (k, 3) into an (n, 3) array at ``idx`` (vectorised)."""
    out = np.empty((n, vals.shape[1]))
    for d in range(vals.shape[1]):
        out[:, d] = np.bincount(idx, weights=vals[:, d], minlength=n)
    return out


def _norm(diff: np.ndarray, eps: float) -> np.ndarray:
    return np.sqrt(np.einsum("ij,ij->i", diff, diff) + eps * eps)


def entrance_term(X: np.ndarray, p: np.ndarray, e: np.ndarray, eps: float = 0.0):
    """sum_i p_i ||v_i - e||."""
    diff = X - e
    r = _norm(diff, eps)
    val = float(p @ r)
    inv = np.divide(p, r, out=np.zeros_like(r), where=r > 0)
    return val, diff * inv[:, None]


def pair_term(X: np.ndarray, I: np.ndarray, J: np.ndarray, W: np.ndarray, eps: float = 0.0):
    """sum_k W_k ||v_{I_k} - v_{J_k}||."""
    n = len(X)
    if len(W) == 0:
        return 0.0, np.zeros_like(X)
    diff = X[I] - X[J]
    r = _norm(diff, eps)
    val = float(W @ r)
    g = diff * np.divide(W, r, out=np.zeros_like(r), where=r > 0)[:, None]
    return val, _scatter(I, g, n) - _scatter(J, g, n)


def move_term(X: np.ndarray, anchor: np.ndarray, lam: float, eps: float = 0.0):
    """lam * sum_i ||v_i - c_i|| over books with a current position c_i (NaN rows skipped)."""
    has = np.isfinite(anchor).all(axis=1)
    grad = np.zeros_like(X)
    if not has.any() or lam == 0:
        return 0.0, grad
    diff = X[has] - anchor[has]
    r = _norm(diff, eps)
    grad[has] = lam * diff * np.divide(1.0, r, out=np.zeros_like(r), where=r > 0)[:, None]
    return float(lam * r.sum()), grad


def near_pairs(X: np.ndarray, radius: float) -> np.ndarray:
    """All pairs closer than ``radius`` as a (k, 2) array (KD-tree, never all n^2)."""
    if len(X) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    return cKDTree(X).query_pairs(radius, output_type="ndarray")


def spacing_penalty(X: np.ndarray, d_min: float, pairs: np.ndarray | None = None):
    """sum over pairs closer than d_min of (d_min - ||v_i - v_j||)^2."""
    if pairs is None:
        pairs = near_pairs(X, d_min)
    if len(pairs) == 0:
        return 0.0, np.zeros_like(X)
    I, J = pairs[:, 0], pairs[:, 1]
    diff = X[I] - X[J]
    r = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    short = np.maximum(d_min - r, 0.0)
    val = float(short @ short)
    coef = np.divide(-2.0 * short, r, out=np.zeros_like(r), where=r > 0)
    g = diff * coef[:, None]
    return val, _scatter(I, g, len(X)) - _scatter(J, g, len(X))


def hall_penalty(X: np.ndarray, hall: Hall):
    """sum over positions off the free floor of (distance to the nearest wall)^2.

    Heights are kept in range by the optimiser's bounds, not here.
    """
    out, q = hall.outside_xy(X[:, :2])
    grad = np.zeros_like(X)
    if not out.any():
        return 0.0, grad
    diff = X[out, :2] - q
    grad[out, :2] = 2.0 * diff
    return float(np.einsum("ij,ij->", diff, diff)), grad


def walking_cost(X: np.ndarray, problem: Problem) -> dict:
    """The exact MODEL.md cost S with its two terms (no smoothing)."""
    ent, _ = entrance_term(X, problem.p, problem.hall.entrance)
    pair, _ = pair_term(X, problem.I, problem.J, problem.W)
    return {"total": ent + pair, "entrance_term": ent, "pair_term": pair}


def min_spacing(X: np.ndarray) -> float:
    """Smallest distance between two positions (KD-tree; inf for fewer than 2)."""
    if len(X) < 2:
        return float("inf")
    d, _ = cKDTree(X).query(X, k=2)
    return float(d[:, 1].min())


def is_feasible(X: np.ndarray, hall: Hall) -> bool:
    """MODEL.md section 4: spacing at least d_min (1 - 1e-3) and every position in the hall."""
    X = np.asarray(X, dtype=float)
    return bool(min_spacing(X) >= hall.d_min * (1 - 1e-3) and hall.contains(X).all())
