"""SNE as a layout method (MODEL.md section 7): the normaliser instead of the spacing.

Minimises over points ``v`` (one per node, the entrance a node too)

    L(v) = -sum_ij P_ij log q(j|i),   q(j|i) = exp(-||v_i - v_j||^2) / Z_i,
         = sum_ij P_ij ||v_i - v_j||^2 + sum_i r_i log Z_i,   r_i = sum_j P_ij,

with ``Z_i = sum_{k != i} exp(-||v_i - v_k||^2)``, by L-BFGS-B with the
analytic gradient. For up to :data:`EXACT_MAX` nodes ``Z_i`` is exact
(computed in blocks of rows, never an ``N x N`` array); above it, ``Z_i`` is
estimated: the row's partners exactly plus ``samples`` random nodes standing
for the rest (:func:`sampled_objective`), the samples fixed within one L-BFGS-B round (so the
objective is a deterministic function the optimiser can trust) and drawn anew
for each round.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize

__all__ = ["sne_objective", "sampled_objective", "sample_rows", "laplacian", "sne_embed",
           "EXACT_MAX"]

#: Nodes up to which the normaliser is exact.
EXACT_MAX = 2000
#: Rows per block of the exact normaliser (a block is ``BLOCK x N`` floats).
BLOCK = 512


def laplacian(a, b, w, N: int) -> sp.csr_matrix:
    """The Laplacian of ``S = W + W^T`` (``W``: the pairs ``(a, b, w)``):
    ``sum_k w_k ||v_a - v_b||^2 = tr(V^T L V)``, its gradient ``2 L V``."""
    W = sp.coo_matrix((w, (a, b)), shape=(N, N)).tocsr()
    S = W + W.T
    return (sp.diags(np.asarray(S.sum(axis=1)).ravel()) - S).tocsr()


def _attraction(V, a, b, w, L=None):
    """sum_k w_k ||v_a - v_b||^2 and its gradient (``L``: :func:`laplacian`, if known)."""
    L = laplacian(a, b, w, len(V)) if L is None else L
    LV = L @ V
    return float(np.einsum("nd,nd->", V, LV)), 2.0 * LV


def sne_objective(V, a, b, w, r, L=None):
    """L and dL/dV with the exact normaliser; ``(a, b, w)`` the pairs of P, ``r`` its
    row sums, ``L`` their :func:`laplacian` if known. ``V`` is ``(N, d)``."""
    f, g = _attraction(V, a, b, w, L)
    rows = np.nonzero(r > 0)[0]
    sq = np.einsum("nd,nd->n", V, V)
    for s in range(0, len(rows), BLOCK):
        i = rows[s:s + BLOCK]
        D2 = np.maximum(sq[i, None] + sq[None, :] - 2.0 * V[i] @ V.T, 0.0)
        D2[np.arange(len(i)), i] = np.inf
        lo = D2.min(axis=1)                           # log-sum-exp: Z never underflows
        E = np.exp(-(D2 - lo[:, None]))
        Z = E.sum(axis=1)
        f += float(r[i] @ (np.log(Z) - lo))
        RQ = E * (r[i] / Z)[:, None]                  # r_i q(k|i)
        g[i] += -2.0 * (RQ.sum(axis=1)[:, None] * V[i] - RQ @ V)
        g += 2.0 * (RQ.T @ V[i] - RQ.sum(axis=0)[:, None] * V)
    return f, g


def sample_rows(a, b, K, N: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The entries of the estimated normalisers as one sparse pattern: row ``i`` holds
    its samples ``K[i]`` then its partners (the ``b`` of the pairs ``a == i``).
    Returns (row, col, indptr, sample weight ``c`` of each entry; 1 for a partner)."""
    m = K.shape[1]
    deg = np.bincount(a, minlength=N)
    indptr = np.concatenate([[0], np.cumsum(m + deg)])
    col = np.empty(indptr[-1], dtype=np.int64)
    weight = np.ones(indptr[-1])
    at = indptr[:-1, None] + np.arange(m)
    col[at] = K
    weight[at] = (np.maximum(N - 1 - deg, 0) / m)[:, None]
    order = np.argsort(a, kind="stable")
    first = np.concatenate([[0], np.cumsum(deg)])[:-1]
    sa = a[order]
    col[indptr[sa] + m + np.arange(len(sa)) - first[sa]] = b[order]
    return np.repeat(np.arange(N), m + deg), col, indptr, weight


def sampled_objective(V, a, b, w, r, K, rows=None, L=None):
    """L and dL/dV with the normaliser of row ``i`` estimated: its partners (the pairs
    ``a == i``) exactly, the other nodes from the samples ``K[i]`` (``(N, m)``, none
    equal to ``i``), ``Z_i ~ sum_partners e + (N - 1 - deg_i) / m sum_s e``. Keeping
    the partners in ``Z_i`` keeps ``q(j|i) <= 1``, so L stays bounded below.
    ``rows`` (:func:`sample_rows`) and ``L`` (:func:`laplacian`) fixed within a round;
    the cost is O((N m + pairs) d), all in sparse products."""
    N = len(V)
    f, g = _attraction(V, a, b, w, L)
    row, col, indptr, c = sample_rows(a, b, K, N) if rows is None else rows
    diff = V[row] - V[col]
    D2 = np.einsum("kd,kd->k", diff, diff)
    lo = np.minimum.reduceat(D2, indptr[:-1])          # log-sum-exp: no underflow
    E = c * np.exp(-(D2 - lo[row]))
    Z = np.add.reduceat(E, indptr[:-1])
    on = r > 0
    f += float(r[on] @ (np.log(Z[on]) - lo[on]))
    scale = np.where(on, r / np.where(on, Z, 1.0), 0.0)
    M = sp.csr_matrix((E * scale[row], col, indptr), shape=(N, N))   # r_i q(k|i)
    out = np.asarray(M.sum(axis=1))
    into = np.asarray(M.sum(axis=0)).T
    g += 2.0 * ((M @ V - out * V) + (M.T @ V - into * V))
    return f, g


def draw_samples(N: int, m: int, rng) -> np.ndarray:
    """``m`` random other nodes per node (``(N, m)``, never the node itself)."""
    K = rng.integers(0, N - 1, size=(N, m))
    return K + (K >= np.arange(N)[:, None])


def sne_embed(graph: tuple, *, dim: int = 3, seed=0, deadline: float | None = None,
              samples: int = 64, maxiter: int = 300, rounds: int = 6,
              exact: bool | None = None, init=None) -> tuple[np.ndarray, dict]:
    """Points ``(N, dim)`` minimising L, and a record (objective, iterations, normaliser);
    ``graph``: ``(a, b, w, N)``, the affinities ``P[a, b] = w`` over N nodes; ``init``:
    the starting points (default: standard normal)."""
    a, b, w, N = graph
    rng = np.random.default_rng(seed)
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    w = np.asarray(w, dtype=float)
    r = np.bincount(a, w, minlength=N)
    exact = N <= EXACT_MAX if exact is None else exact
    V = rng.standard_normal((N, dim))
    if init is not None:
        V = np.asarray(init, dtype=float).reshape(N, dim)
    L = laplacian(a, b, w, N)
    deadline = np.inf if deadline is None else deadline
    iters = 0

    def stop(_res=None):
        if time.monotonic() > deadline:
            raise StopIteration

    for rnd in range(1 if exact else rounds):
        if exact:
            fun = lambda x: sne_objective(x.reshape(N, dim), a, b, w, r, L)  # noqa: E731
        else:
            K = draw_samples(N, min(samples, N - 1), rng)
            rows = sample_rows(a, b, K, N)
            fun = lambda x, K=K, rows=rows: sampled_objective(  # noqa: E731
                x.reshape(N, dim), a, b, w, r, K, rows, L)

        def fg(x, fun=fun):
            f, g = fun(x)
            return f, g.ravel()

        res = minimize(fg, V.ravel(), jac=True, method="L-BFGS-B", callback=stop,
                       options={"maxiter": maxiter if exact else max(20, maxiter // rounds)})
        V = res.x.reshape(N, dim)
        iters += int(res.nit)
        if time.monotonic() > deadline:
            break
    final = sne_objective(V, a, b, w, r)[0] if N <= EXACT_MAX else float(res.fun)
    return V, {"normaliser": "exact" if exact else f"sampled ({min(samples, N - 1)} per row)",
               "objective": final, "iterations": iters,
               "rounds": 1 if exact else rnd + 1}
