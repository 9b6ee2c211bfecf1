"""Compiled primitives shared by the search families' kernels (numba).

The lattice-site kernel (:mod:`shelfplan.solve.ils_kernel`, distances from
coordinates) and the distance-table kernel (:mod:`shelfplan.solve.table_kernel`,
distances from a walking table) price moves over the same sparse pair weights
(CSR ``indptr, indices, data``, symmetric, sorted indices) and draw from numba's
own generator; these are the pieces they share.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["seed_rng", "csr_weight", "scatter_row", "clear_row"]


@njit(cache=True)
def seed_rng(seed):
    """Seed numba's own generator (one per thread, shared by every compiled function:
    annealing and kicks draw from it)."""
    np.random.seed(seed)


@njit(cache=True)
def csr_weight(i, j, indptr, indices, data):
    """W_ij by binary search in i's sorted row (0 when they are not partners)."""
    lo, hi = indptr[i], indptr[i + 1]
    while lo < hi:
        mid = (lo + hi) // 2
        if indices[mid] < j:
            lo = mid + 1
        else:
            hi = mid
    if lo < indptr[i + 1] and indices[lo] == j:
        return data[lo]
    return 0.0


@njit(cache=True, inline="always")
def scatter_row(i, indptr, indices, data, buf):
    """``buf[j] = W_ij`` for i's partners (a dense view of one row; :func:`clear_row`
    undoes it)."""
    for q in range(indptr[i], indptr[i + 1]):
        buf[indices[q]] = data[q]


@njit(cache=True, inline="always")
def clear_row(i, indptr, indices, buf):
    """Undo :func:`scatter_row`."""
    for q in range(indptr[i], indptr[i + 1]):
        buf[indices[q]] = 0.0
