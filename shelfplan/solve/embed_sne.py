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
from scipy.optimize import minimize

__all__ = ["sne_objective", "sampled_objective", "sne_embed", "EXACT_MAX"]

#: Nodes up to which the normaliser is exact.
EXACT_MAX = 2000
#: Rows per block of the exact normaliser (a block is ``BLOCK x N`` floats).
BLOCK = 512


def _attraction(V, a, b, w):
    """sum_k w_k ||v_a - v_b||^2 and its gradient."""
    diff = V[a] - V[b]
    f = float(w @ np.einsum("kd,kd->k", diff, diff))
    g = np.zeros_like(V)
    gw = 2.0 * w[:, None] * diff
    for d in range(V.shape[1]):
        g[:, d] += np.bincount(a, gw[:, d], minlength=len(V))
        g[:, d] -= np.bincount(b, gw[:, d], minlength=len(V))
    return f, g


def sne_objective(V, a, b, w, r):
    """L and dL/dV with the exact normaliser; ``(a, b, w)`` the pairs of P, ``r`` its
    row sums. ``V`` is ``(N, d)``."""
    f, g = _attraction(V, a, b, w)
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


def sampled_objective(V, a, b, w, r, K):
    """L and dL/dV with the normaliser of row ``i`` estimated: its partners (the pairs
    ``a == i``) exactly, the other nodes from the samples ``K[i]`` (``(N, m)``, none
    equal to ``i``), ``Z_i ~ sum_partners e + (N - 1 - deg_i) / m sum_s e``. Keeping
    the partners in ``Z_i`` keeps ``q(j|i) <= 1``, so L stays bounded below."""
    f, g = _attraction(V, a, b, w)
    N, m = K.shape
    deg = np.bincount(a, minlength=N)
    c = np.maximum(N - 1 - deg, 0) / m
    diff = V[:, None, :] - V[K]                      # (N, m, d)
    D2 = np.einsum("nmd,nmd->nm", diff, diff)
    de = V[a] - V[b]
    D2e = np.einsum("kd,kd->k", de, de)
    lo = D2.min(axis=1)                               # log-sum-exp: no underflow
    np.minimum.at(lo, a, D2e)
    E = c[:, None] * np.exp(-(D2 - lo[:, None]))
    Ee = np.exp(-(D2e - lo[a]))
    Z = E.sum(axis=1) + np.bincount(a, Ee, minlength=N)
    on = r > 0
    f += float(r[on] @ (np.log(Z[on]) - lo[on]))
    scale = np.where(on, r / np.where(on, Z, 1.0), 0.0)
    push = 2.0 * (E * scale[:, None])[:, :, None] * diff     # d/dv_k of r_i log Z_i
    pe = 2.0 * (Ee * scale[a])[:, None] * de
    g -= push.sum(axis=1)
    flat = K.ravel()
    for d in range(V.shape[1]):
        g[:, d] += np.bincount(flat, push[:, :, d].ravel(), minlength=N)
        g[:, d] += np.bincount(b, pe[:, d], minlength=N) - np.bincount(a, pe[:, d], minlength=N)
    return f, g


def draw_samples(N: int, m: int, rng) -> np.ndarray:
    """``m`` random other nodes per node (``(N, m)``, never the node itself)."""
    K = rng.integers(0, N - 1, size=(N, m))
    return K + (K >= np.arange(N)[:, None])


def sne_embed(a, b, w, N: int, *, dim: int = 3, seed=0, deadline: float | None = None,
              samples: int = 64, maxiter: int = 300, rounds: int = 6,
              exact: bool | None = None) -> tuple[np.ndarray, dict]:
    """Points ``(N, dim)`` minimising L, and a record (objective, iterations, normaliser)."""
    rng = np.random.default_rng(seed)
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    w = np.asarray(w, dtype=float)
    r = np.bincount(a, w, minlength=N)
    exact = N <= EXACT_MAX if exact is None else exact
    V = rng.standard_normal((N, dim))
    deadline = np.inf if deadline is None else deadline
    iters = 0

    def stop(_res=None):
        if time.monotonic() > deadline:
            raise StopIteration

    for rnd in range(1 if exact else rounds):
        if exact:
            fun = lambda x: sne_objective(x.reshape(N, dim), a, b, w, r)  # noqa: E731
        else:
            K = draw_samples(N, min(samples, N - 1), rng)
            fun = lambda x, K=K: sampled_objective(x.reshape(N, dim), a, b, w, r, K)  # noqa: E731

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
