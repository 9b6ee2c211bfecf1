"""The walk of a visit (MODEL.md 8.10): how plans are judged on real visits.

A session's placed books ``B`` are walked from the entrance: each time to the
nearest pick point (of a location of ``B``) not yet visited, ties to the one
first in shelving order, then back to the entrance. Books in one location are
picked together. On a stacked hall distances are the walking distances g of
the hall's table (row 0 the entrance, row k+1 location k; locations are
numbered in shelving order); in a hall without stacks they are straight lines
between the books' positions and the entrance, ties to the book listed first
in the layout.

Both kernels are compiled (numba) and run over the sessions of a CSR
session-by-book matrix in one pass: O(k^2) per session of k books, no
Python loop over sessions. :func:`summarise` gives the figures a plan is
judged by: mean, median and 90th percentile.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["table_visit_walks", "point_visit_walks", "summarise", "PERCENTILES"]

#: Percentiles of the visit walk that are reported (the median and the 90th).
PERCENTILES = (50, 90)


@njit(cache=True)
def _table_kernel(D, rows, indptr, indices):
    n_s = len(indptr) - 1
    out = np.zeros(n_s)
    for s in range(n_s):
        a, b = indptr[s], indptr[s + 1]
        if b == a:
            continue
        # the session's distinct table rows (locations picked together)
        todo = np.empty(b - a, dtype=np.int64)
        k = 0
        for t in range(a, b):
            r = rows[indices[t]]
            seen = False
            for q in range(k):
                if todo[q] == r:
                    seen = True
                    break
            if not seen:
                todo[k] = r
                k += 1
        cur = 0
        length = 0.0
        for _ in range(k):
            best, bq = np.inf, -1
            for q in range(k):
                r = todo[q]
                if r < 0:
                    continue
                d = D[cur, r]
                # ties: the location first in shelving order (the lower table row)
                if d < best or (d == best and bq >= 0 and r < todo[bq]):
                    best, bq = d, q
            length += best
            cur = todo[bq]
            todo[bq] = -1
        out[s] = length + D[cur, 0]
    return out


@njit(cache=True)
def _point_kernel(P, e, rank, indptr, indices):
    n_s = len(indptr) - 1
    dim = P.shape[1]
    out = np.zeros(n_s)
    for s in range(n_s):
        a, b = indptr[s], indptr[s + 1]
        k = b - a
        if k == 0:
            continue
        todo = np.empty(k, dtype=np.int64)
        for q in range(k):
            todo[q] = indices[a + q]
        cx = np.empty(dim)
        for c in range(dim):
            cx[c] = e[c]
        length = 0.0
        for _ in range(k):
            best, bq = np.inf, -1
            for q in range(k):
                i = todo[q]
                if i < 0:
                    continue
                d2 = 0.0
                for c in range(dim):
                    diff = P[i, c] - cx[c]
                    d2 += diff * diff
                d = np.sqrt(d2)
                if d < best or (d == best and bq >= 0 and rank[i] < rank[todo[bq]]):
                    best, bq = d, q
            length += best
            i = todo[bq]
            for c in range(dim):
                cx[c] = P[i, c]
            todo[bq] = -1
        d2 = 0.0
        for c in range(dim):
            diff = cx[c] - e[c]
            d2 += diff * diff
        out[s] = length + np.sqrt(d2)
    return out


def _csr(indptr, indices) -> tuple[np.ndarray, np.ndarray]:
    return (np.ascontiguousarray(indptr, dtype=np.int64),
            np.ascontiguousarray(indices, dtype=np.int64))


def table_visit_walks(loc: np.ndarray, D: np.ndarray, indptr: np.ndarray,
                      indices: np.ndarray) -> np.ndarray:
    """Visit walk of every session on a stacked hall, in metres.

    ``loc[b]`` is book b's location (0-based, shelving order), ``D`` the walking
    table (row 0 the entrance, row k+1 location k); session s holds the books
    ``indices[indptr[s]:indptr[s+1]]`` (distinct or not: a book or location
    met twice is picked once). Sessions without books walk 0.
    """
    indptr, indices = _csr(indptr, indices)
    rows = np.asarray(loc, dtype=np.int64) + 1
    return _table_kernel(np.ascontiguousarray(D, dtype=np.float64), rows, indptr, indices)


def point_visit_walks(positions: np.ndarray, entrance: np.ndarray, indptr: np.ndarray,
                      indices: np.ndarray, rank: np.ndarray | None = None) -> np.ndarray:
    """Visit walk of every session in a hall without stacks: straight lines between
    the entrance and the books' ``positions`` (rows; (n, 2) or (n, 3), the entrance
    the same length), ties to the lower ``rank`` (default: the row)."""
    P = np.ascontiguousarray(positions, dtype=np.float64)
    e = np.ascontiguousarray(entrance, dtype=np.float64)
    rank = np.arange(len(P), dtype=np.int64) if rank is None else np.asarray(rank, np.int64)
    indptr, indices = _csr(indptr, indices)
    return _point_kernel(P, e, rank, indptr, indices)


def summarise(walks: np.ndarray) -> dict:
    """Sessions counted, mean and the percentiles (``p50`` the median) of the walks."""
    walks = np.asarray(walks, dtype=float)
    out = {"sessions": int(len(walks)), "mean": float(walks.mean()) if len(walks) else None}
    for q in PERCENTILES:
        out[f"p{q}"] = float(np.percentile(walks, q)) if len(walks) else None
    return out
