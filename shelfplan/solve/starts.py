"""Feasible starts of the item solver on the hall's lattice of sites.

``nearest_sites`` are the ``n`` sites nearest the entrance; the popularity
start puts the most borrowed book nearest the entrance; the spectral start
lays a spectral embedding of the co-borrow graph out in popularity shells;
``snap_to_sites`` carries a continuous layout onto the lattice.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh
from scipy.spatial import cKDTree

from shelfplan.errors import LayoutError
from shelfplan.model.problem import Problem
from shelfplan.solve.record import as_rng

log = logging.getLogger(__name__)


def nearest_sites(problem: Problem, n: int | None = None) -> np.ndarray:
    """The ``n`` lattice sites closest to the entrance, nearest first."""
    hall = problem.hall
    n = problem.n if n is None else n
    sites = hall.sites()
    if len(sites) < n:
        raise LayoutError(
            f"hall {hall.name!r} has room for {len(sites)} books on a close-packed lattice at "
            f"d_min={hall.d_min:g} m, fewer than the {n} items; enlarge the footprint, widen "
            f"z_range or lower d_min")
    d = np.linalg.norm(sites - hall.entrance, axis=1)
    order = np.lexsort((sites[:, 2], sites[:, 1], sites[:, 0], d))[:n]
    return sites[order]


def popularity_start(problem: Problem, sites: np.ndarray) -> np.ndarray:
    """Most borrowed item on the site nearest the entrance, and so on."""
    X = np.empty((problem.n, 3))
    order = np.lexsort((np.arange(problem.n), -problem.p))
    X[order] = sites[: problem.n]
    return X


def spectral_coordinates(problem: Problem, dim: int = 2, seed=0) -> np.ndarray:
    """Leading non-trivial eigenvectors of the normalised co-borrow graph."""
    n = problem.n
    W = problem.symmetric_weights()
    if n <= dim + 2 or W.nnz == 0:
        return np.zeros((n, dim))
    deg = np.asarray(W.sum(axis=1)).ravel()
    # A weak link between every two items (tau/n each, never stored: the matrix
    # is applied as W x + tau/n 1 1^T x) makes the graph connected, so separate
    # groups of items get separate coordinates instead of a repeated eigenvalue.
    tau = deg.mean() * 1e-2 + 1e-12
    inv = 1.0 / np.sqrt(deg + tau)

    def matvec(x):
        x = np.asarray(x).reshape(n, -1) * inv[:, None]
        return ((W @ x) + (tau / n) * x.sum(axis=0, keepdims=True)) * inv[:, None]

    A = LinearOperator((n, n), matvec=matvec, matmat=matvec, dtype=float)
    v0 = as_rng(seed).standard_normal(n)
    try:
        vals, vecs = eigsh(A, k=dim + 1, which="LA", v0=v0, maxiter=5000, tol=1e-6)
    except Exception as exc:  # ARPACK non-convergence: fall back to no structure
        log.debug("spectral embedding failed: %s", exc)
        return np.zeros((n, dim))
    order = np.argsort(vals)[::-1]
    vecs = vecs[:, order] * inv[:, None]
    U = vecs[:, 1:dim + 1]
    # make signs deterministic
    U *= np.sign(U[np.argmax(np.abs(U), axis=0), np.arange(dim)])
    return U


def spectral_start(problem: Problem, sites: np.ndarray, seed=0) -> np.ndarray:
    """Popularity decides how far from the entrance; the co-borrow graph decides where.

    Items are split into shells by popularity rank, matching the sites'
    distance ranks; within a shell, items sorted by the angle of their 2D
    spectral coordinates go to sites sorted by azimuth around the entrance.
    """
    n = problem.n
    hall = problem.hall
    U = spectral_coordinates(problem, 2, seed)
    theta = np.arctan2(U[:, 1], U[:, 0])
    u, nrm = hall.entrance_wall()
    rel = sites[:, :2] - hall.entrance[:2]
    phi = np.arctan2(rel @ nrm, rel @ u)
    order = np.lexsort((np.arange(n), -problem.p))     # items, most popular first
    shell = max(8, int(np.ceil(n / max(1, round(np.cbrt(n))))))
    X = np.empty((n, 3))
    for s in range(0, n, shell):
        items = order[s:s + shell]
        idx = np.arange(s, min(s + shell, n))           # sites are sorted by distance
        X[items[np.argsort(theta[items], kind="stable")]] = \
            sites[idx[np.argsort(phi[idx], kind="stable")]]
    return X


def snap_to_sites(X: np.ndarray, problem: Problem, sites: np.ndarray) -> np.ndarray:
    """Carry a continuous layout onto lattice sites, keeping its shape.

    Each book keeps its direction from the entrance and takes the distance of
    the site with its distance rank; then, most popular first, each book
    takes the free site nearest that target.
    """
    n = problem.n
    e = problem.hall.entrance
    r = np.linalg.norm(X - e, axis=1)
    rank = np.empty(n, dtype=np.int64)
    rank[np.lexsort((np.arange(n), r))] = np.arange(n)
    rs = np.sort(np.linalg.norm(sites - e, axis=1))
    T = e + (X - e) * (rs[rank] / np.maximum(r, 1e-12))[:, None]
    return _nearest_free(T, sites, np.lexsort((np.arange(n), -problem.p)))


def _nearest_free(T: np.ndarray, sites: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Each target of ``T`` in ``order`` takes the free site nearest it. The KD-tree
    holds the free sites and some taken ones: it is rebuilt over the free sites
    once half of those it holds are taken, so a query of a few neighbours nearly
    always finds a free one (a tree over all sites slows to a crawl as they fill)."""
    free = np.ones(len(sites), dtype=bool)
    out = np.empty((len(T), sites.shape[1]))
    ids = np.arange(len(sites))
    tree, stale = cKDTree(sites), 0
    for i in order:
        if stale > len(ids) // 2:
            ids = np.flatnonzero(free)
            tree, stale = cKDTree(sites[ids]), 0
        k = 8
        while True:
            _, c = tree.query(T[i], k=min(k, len(ids)))
            c = ids[np.atleast_1d(c)]
            c = c[free[c]]
            if len(c):
                out[i] = sites[c[0]]
                free[c[0]] = False
                stale += 1
                break
            k *= 4
    return out


def single(problem: Problem) -> np.ndarray:
    """One book: the point of the hall nearest the entrance (the exact optimum)."""
    return problem.hall.project(problem.hall.entrance[None, :].copy(), margin=1e-9)
