"""Compiled pieces of the gapped block search (numba): S_walk of runs at given starts,
and the table of each run's cost at every amount of slack before it.

Runs follow each other along the (zone-free) shelving order: run ``q`` is block
``order[q]``, needs ``need[b]`` slots (its books plus its growth space, MODEL.md
8.7) and starts ``x[0] + ... + x[q]`` free slots after the needs of the runs
before it. Book i of block b stands in slot ``start[b] + rank[i]``.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def starts_of(order, need, x):
    """First slot of each block: ``x[q]`` extra free slots before run q."""
    start = np.empty(len(need), dtype=np.int64)
    s = 0
    for q in range(len(order)):
        s += x[q]
        b = order[q]
        start[b] = s
        s += need[b]
    return start


@njit(cache=True)
def cost_at_starts(start, books, block, rank, slot_loc, D, p, indptr, indices, data, fixed_loc):
    """Exact S_walk (each pair once) with block b's books from slot ``start[b]`` on; books
    outside every block (``block`` -1) stand at ``fixed_loc``."""
    loc = fixed_loc.copy()
    for t in range(len(books)):
        i = books[t]
        if block[i] >= 0:
            loc[i] = slot_loc[start[block[i]] + rank[i]]
    s = 0.0
    for t in range(len(books)):
        i = books[t]
        li = loc[i] + 1
        s += p[i] * D[0, li]
        for u in range(indptr[i], indptr[i + 1]):
            j = indices[u]
            if j > i:
                s += data[u] * D[li, loc[j] + 1]
    return s


@njit(cache=True)
def run_cost_table(order, need, grid, start, ptr, members, block, rank, slot_loc, D, p,
                   indptr, indices, data, fixed_loc):
    """``C[q, g]``: run q's part of S_walk when ``grid[g]`` free slots come before it
    (so it starts at the needs of the runs before it plus ``grid[g]``): its entrance
    term, its pairs inside the run, half of each pair with another run (the other
    run where ``start`` puts it) and each pair with a fixed book. Summed over the
    runs at one choice it is S_walk when the other runs stand where ``start`` says."""
    K, G = len(order), len(grid)
    loc = fixed_loc.copy()
    for b in range(len(need)):
        for t in range(ptr[b], ptr[b + 1]):
            i = members[t]
            loc[i] = slot_loc[start[b] + rank[i]]
    C = np.zeros((K, G))
    base = 0
    for q in range(K):
        b = order[q]
        for g in range(G):
            st = base + grid[g]
            s = 0.0
            for t in range(ptr[b], ptr[b + 1]):
                i = members[t]
                li = slot_loc[st + rank[i]] + 1
                s += p[i] * D[0, li]
                for u in range(indptr[i], indptr[i + 1]):
                    j = indices[u]
                    bj = block[j]
                    if bj == b:
                        s += 0.5 * data[u] * D[li, slot_loc[st + rank[j]] + 1]
                    elif bj >= 0:
                        s += 0.5 * data[u] * D[li, loc[j] + 1]
                    else:
                        s += data[u] * D[li, loc[j] + 1]
            C[q, g] = s
        base += need[b]
    return C


@njit(cache=True)
def place_slack(C, grid):
    """The nondecreasing choice of slack before each run (indices into ``grid``) of least
    total ``C`` (dynamic programming with prefix minima): ``(total, g of each run)``."""
    K, G = C.shape
    F = np.empty((K, G))
    arg = np.zeros((K, G), dtype=np.int64)      # best g' <= g for the run before
    for g in range(G):
        F[0, g] = C[0, g]
    for q in range(1, K):
        best, bg = np.inf, 0
        for g in range(G):
            if F[q - 1, g] < best:
                best, bg = F[q - 1, g], g
            F[q, g] = C[q, g] + best
            arg[q, g] = bg
    pick = np.empty(K, dtype=np.int64)
    g = 0
    for h in range(G):
        if F[K - 1, h] < F[K - 1, g]:
            g = h
    total = F[K - 1, g]
    for q in range(K - 1, -1, -1):
        pick[q] = g
        g = arg[q, g]
    return total, pick
