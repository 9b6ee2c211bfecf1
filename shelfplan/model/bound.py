"""The certified lower bound of MODEL.md section 6.

Balls of radius d/2 around the books are disjoint, so within distance r of
any point at most ``N(r) = floor(min(4/3 pi R^3, pi R^2 (h + d)) / (pi d^3 / 6))``
books fit (``R = r + d/2``). Inverting, the k-th closest book to any point is
at least ``r_k = min{r : N(r) >= k}`` away, which in closed form is
``max(0, max((3 k v / 4 pi)^(1/3), sqrt(k v / (pi (h + d)))) - d/2)`` with
``v = pi d^3 / 6``. Pairing the largest probabilities with the smallest of
these radii (rearrangement inequality) bounds S from below for every
feasible layout.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def shell_radii(k: np.ndarray, d_min: float, height: float) -> np.ndarray:
    """r_k = min{r : N(r) >= k} for an array of ranks k >= 1."""
    k = np.asarray(k, dtype=float)
    v = np.pi * d_min ** 3 / 6.0
    r_ball = np.cbrt(3.0 * k * v / (4.0 * np.pi))
    r_slab = np.sqrt(k * v / (np.pi * (height + d_min)))
    return np.maximum(np.maximum(r_ball, r_slab) - d_min / 2.0, 0.0)


def count_within(r: np.ndarray, d_min: float, height: float) -> np.ndarray:
    """N(r) exactly as MODEL.md writes it (used to check :func:`shell_radii`)."""
    R = np.asarray(r, dtype=float) + d_min / 2.0
    vol = np.minimum(4.0 / 3.0 * np.pi * R ** 3, np.pi * R ** 2 * (height + d_min))
    return np.floor(vol / (np.pi * d_min ** 3 / 6.0) + 1e-9).astype(np.int64)


def lower_bound(p: np.ndarray, pair: sp.spmatrix, d_min: float, height: float) -> dict:
    """LB on S for every feasible layout: ``{"total", "entrance_term", "pair_term"}``.

    ``p`` are the entrance weights p(i); ``pair`` the sparse matrix p(i,j).
    """
    n = len(p)
    ps = np.sort(np.asarray(p, dtype=float))[::-1]
    ent = float(ps @ shell_radii(np.arange(1, n + 1), d_min, height))

    P = sp.csr_matrix(pair, copy=True)   # eliminate_zeros must not touch the caller's
    P.eliminate_zeros()
    rows = np.repeat(np.arange(P.shape[0]), np.diff(P.indptr))
    order = np.lexsort((-P.data, rows))          # within each row, largest first
    rank = np.arange(len(order)) - P.indptr[rows[order]]   # 0-based rank in its row
    rho = np.maximum(d_min, shell_radii(rank + 2, d_min, height))
    pair_lb = float(P.data[order] @ rho)
    return {"total": ent + pair_lb, "entrance_term": ent, "pair_term": pair_lb}
