"""The search core on a distance table: books in places with capacities.

This is the family "books in shelf locations" (MODEL.md section 8) of the
core (:mod:`shelfplan.solve.core`): :class:`TablePlaces` implements the places
interface with a walking-distance table ``D`` (row/column 0 the entrance,
``k + 1`` place ``k``), and :class:`TableSearch` lowers

    S = sum_i p_i D[0, l_i + 1] + sum_{i<j} W_ij D[l_i + 1, l_j + 1]

over assignments ``l`` of books to places holding at most ``capacity`` books
each, by moves into places with a free slot and swaps of two books in
different places, both priced exactly over the sparse partner lists
(the same deltas as :func:`core.swap_gains`, which the tests check the kernel
against). Candidates for a book are the ``k`` places nearest (by ``D``) its
pull place, the cheapest place among those next to its own, to the entrance
and to its partners' places (a discrete weighted median), and the ``k/2``
nearest its own place, ``k`` doubling from 16 to 256 whenever a sweep
stalls; once converged, kicks (a random book and its partners scattered over
nearby places, then re-optimised locally) are kept only when they lower S.
The best assignment so far is kept, so Ctrl-C and the deadline return it.
The inner loop is compiled (:mod:`shelfplan.solve.table_kernel`).

A quadratic assignment problem (QAPLIB) is the special case ``p = 0``,
capacity 1 and as many places as books.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from shelfplan.solve import table_kernel as kernel
from shelfplan.solve.core import MIN_GAIN
from shelfplan.solve.record import as_rng

__all__ = ["TablePlaces", "TableSearch", "table_cost", "fill_by_entrance", "greedy_fill"]

K_START, K_MAX = 16, 256


class TablePlaces:
    """Places priced by a distance table (the core's places interface)."""

    def __init__(self, D: np.ndarray, xy: np.ndarray):
        self.D = D
        self.xyz = np.asarray(xy, dtype=float)
        self.tree = cKDTree(self.xyz)

    def __len__(self) -> int:
        return len(self.xyz)

    def to_entrance(self, s):
        return self.D[0, np.asarray(s) + 1]

    def between(self, s, t):
        return self.D[np.asarray(s) + 1, np.asarray(t) + 1]

    def nearest(self, points, k: int):
        k = min(k, len(self))
        return self.tree.query(points, k=k)[1].reshape(len(points), k)


def table_cost(loc: np.ndarray, D: np.ndarray, p: np.ndarray, W: sp.csr_matrix) -> float:
    """S of an assignment (``W`` symmetric: each pair counted once)."""
    A = sp.triu(W, k=1).tocoo()
    k = loc + 1
    return float(p @ D[0, k]) + float(A.data @ D[k[A.row], k[A.col]])


def fill_by_entrance(order: np.ndarray, D: np.ndarray, capacity: np.ndarray,
                     n: int) -> np.ndarray:
    """Books in ``order`` into the places nearest the entrance (by ``D``), each filled
    before the next (popularity slotting when ``order`` is most borrowed first)."""
    near = np.lexsort((np.arange(len(capacity)), D[0, 1:]))
    slots = np.repeat(near, capacity[near])
    loc = np.full(n, -1, dtype=np.int64)
    loc[order] = slots[:len(order)]
    return loc


def greedy_fill(order: np.ndarray, D: np.ndarray, capacity: np.ndarray, p: np.ndarray,
                W: sp.csr_matrix, n: int, pool: int = 512) -> np.ndarray:
    """Books one at a time (in ``order``) into the free place that costs least given
    the entrance and the partners placed before; the choice is among the ``pool``
    free places nearest the entrance plus the places of the book's partners."""
    m = len(capacity)
    free = capacity.astype(np.int64).copy()
    loc = np.full(n, -1, dtype=np.int64)
    by_entrance = np.lexsort((np.arange(m), D[0, 1:]))
    head = 0
    for i in order:
        while free[by_entrance[head]] == 0:
            head += 1
        cols = W.indices[W.indptr[i]:W.indptr[i + 1]]
        vals = W.data[W.indptr[i]:W.indptr[i + 1]]
        placed = loc[cols] >= 0
        near = by_entrance[head:head + pool]
        near = near[free[near] > 0]
        if placed.any():
            mine = loc[cols[placed]]
            # the places next to the partners' (by walking distance) are candidates too
            extra = np.unique(np.argsort(D[mine + 1, 1:], axis=1)[:, :8])
            near = np.unique(np.concatenate([near, extra[free[extra] > 0]]))
            cost = p[i] * D[0, near + 1] + D[np.ix_(near + 1, mine + 1)] @ vals[placed]
        else:
            cost = p[i] * D[0, near + 1]
        best = near[int(np.argmin(cost))]
        loc[i] = best
        free[best] -= 1
    return loc


class TableSearch:
    """Local search over an assignment ``loc`` of books to table places.

    The books searched are ``active`` (default: those with p > 0 or a partner);
    the others have no cost and are left out (:func:`loc` may hold -1 for them).
    """

    def __init__(self, loc: np.ndarray, D: np.ndarray, p: np.ndarray, W: sp.csr_matrix,
                 capacity: np.ndarray, *, active=None, seed=0):
        self.D = np.ascontiguousarray(D, dtype=np.float64)
        W = sp.csr_matrix(W, dtype=np.float64)
        W.sort_indices()
        self.W = W
        self.p = np.asarray(p, dtype=np.float64)
        self.cap = np.asarray(capacity, dtype=np.int64)
        self.rng = as_rng(seed)
        deg = np.diff(W.indptr)
        self.active = (np.nonzero((self.p > 0) | (deg > 0))[0] if active is None
                       else np.asarray(active, dtype=np.int64))
        m = len(self.cap)
        self.loc = np.asarray(loc, dtype=np.int64).copy()
        self.load = np.zeros(m, dtype=np.int64)
        self.members = np.full((m, max(1, int(self.cap.max()))), -1, dtype=np.int64)
        self.where = np.full(len(self.loc), -1, dtype=np.int64)
        for i in self.active:                       # once, O(n)
            c = self.loc[i]
            self.members[c, self.load[c]] = i
            self.where[i] = self.load[c]
            self.load[c] += 1
        if (self.load > self.cap).any():
            raise ValueError("the start puts more books in a place than it holds")
        K = min(m, K_MAX)
        self.around = np.argsort(self.D[1:, 1:], axis=1, kind="stable")[:, :K].astype(np.int64)
        self.ent_near = np.argsort(self.D[0, 1:], kind="stable")[:8].astype(np.int64)
        self.mark = np.full(m, -1, dtype=np.int64)
        self.stamp = 0
        self.S = table_cost(self.loc, self.D, self.p, W)
        self.best = self._snapshot()
        self.best_S = self.S
        self.kicks = self.improved_kicks = 0

    @property
    def best_loc(self) -> np.ndarray:
        return self.best[0]

    def _snapshot(self):
        return (self.loc.copy(), self.load.copy(), self.members.copy(), self.where.copy())

    def restore(self) -> None:
        self.loc, self.load, self.members, self.where = (a.copy() for a in self.best)
        self.S = self.best_S

    def _keep_best(self) -> None:
        self.S = table_cost(self.loc, self.D, self.p, self.W)     # no drift
        if self.S <= self.best_S:
            self.best, self.best_S = self._snapshot(), self.S

    # -- sweeps -------------------------------------------------------------------
    def sweep(self, books: np.ndarray, k: int, deadline: float, chunk: int = 256) -> float:
        """Each book's best move or swap in turn (compiled); the total gain."""
        W, gained = self.W, 0.0
        for s in range(0, len(books), chunk):
            part = books[s:s + chunk]
            gained += kernel.sweep(part, k, self.D, W.indptr, W.indices, W.data, self.p,
                                   self.loc, self.load, self.cap, self.members, self.where,
                                   self.around, self.ent_near, self.mark, self.stamp,
                                   MIN_GAIN)
            self.stamp += len(part)
            if time.monotonic() > deadline:
                break
        self.S -= gained
        return gained

    def descend(self, books: np.ndarray, deadline: float, k_max: int = K_MAX) -> None:
        """Sweeps in random order until one gains (almost) nothing at the deepest k."""
        k = K_START
        books = np.asarray(books, dtype=np.int64)
        while time.monotonic() < deadline:
            gained = self.sweep(self.rng.permutation(books), k, deadline)
            if gained > 1e-9 * max(self.S, 1e-12):
                continue
            if k >= min(k_max, self.around.shape[1]):
                break
            k *= 2

    # -- the whole search ---------------------------------------------------------
    def run(self, deadline: float, *, max_kicks: int | None = None, patience: int = 200,
            say=None) -> None:
        """Sweeps to convergence, then kicks until the deadline, ``patience`` kicks in a
        row without a gain, or ``max_kicks``."""
        self.descend(self.active, deadline)
        self._keep_best()
        if say:
            say(f"local search: S={self.best_S:.4f}")
        failed = 0
        while (time.monotonic() < deadline and failed < patience and len(self.active) > 1
               and (max_kicks is None or self.kicks < max_kicks)):
            touched = self.kick()
            self.descend(touched, deadline, k_max=64)
            if self.S < self.best_S - 1e-9 * max(1.0, self.best_S):
                self._keep_best()
                self.improved_kicks += 1
                failed = 0
            else:
                self.restore()
                failed += 1
        if say and self.kicks:
            say(f"kicks: {self.improved_kicks} of {self.kicks} kept, S={self.best_S:.4f}")

    def _move_delta(self, i: int, b: int, j: int) -> float:
        """Increase of S when book i moves to place b (and book j, if >= 0, to i's)."""
        W = self.W
        args = (self.D, W.indptr, W.indices, W.data, self.p, self.loc)
        a = self.loc[i]
        d = kernel.cost_at(i, b, *args) - kernel.cost_at(i, a, *args)
        if j >= 0:
            d += kernel.cost_at(j, a, *args) - kernel.cost_at(j, b, *args)
            d += 2.0 * kernel.weight(i, j, W.indptr, W.indices, W.data) * self.D[a + 1, b + 1]
        return float(d)

    def kick(self) -> np.ndarray:
        """Scatter a random book and up to five partners over the places near it."""
        self.kicks += 1
        W = self.W
        i = int(self.rng.choice(self.active))
        cols = W.indices[W.indptr[i]:W.indptr[i + 1]]
        cols = cols[self.where[cols] >= 0]          # only books the search may move
        group = np.concatenate([[i], self.rng.permutation(cols)[:5]]).astype(np.int64)
        near = self.around[self.loc[i], :16]
        for b in group:
            target = int(self.rng.choice(near))
            if target == self.loc[b]:
                continue
            if self.load[target] < self.cap[target]:
                self.S += self._move_delta(int(b), target, -1)
                kernel.apply_move(int(b), target, -1, self.loc, self.load, self.members,
                                  self.where)
            elif self.load[target] > 0:
                j = int(self.members[target, self.rng.integers(self.load[target])])
                self.S += self._move_delta(int(b), target, j)
                kernel.apply_move(int(b), target, j, self.loc, self.load, self.members,
                                  self.where)
        touched = np.unique(np.concatenate([group] + [self._strongest(b, 8) for b in group]))
        return touched[self.where[touched] >= 0]

    def _strongest(self, b: int, k: int) -> np.ndarray:
        """Book b's ``k`` heaviest partners."""
        lo, hi = self.W.indptr[b], self.W.indptr[b + 1]
        if hi - lo <= k:
            return self.W.indices[lo:hi]
        return self.W.indices[lo + np.argpartition(-self.W.data[lo:hi], k)[:k]]
