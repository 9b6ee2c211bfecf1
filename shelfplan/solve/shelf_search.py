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
stalls. Once converged, kicks follow until the deadline or ``patience`` kicks
without a gain. With several books per place (shelving plans) a kick scatters
a random book and its partners over nearby places, re-optimises them locally
and is kept only when it lowers S. With one book per place (a quadratic
assignment problem) the kicks are compiled: stretches of robust tabu search
over every move and swap, priced in O(1) from a books x places cost table,
restarted every few failed stretches from the best with 10-50 % of the books
swapped at random, and annealing rounds from the best (Metropolis steps over
random moves and swaps); the two take turns by the gains each has found per
second spent. The best assignment so far is kept, so Ctrl-C and the deadline
return it. The inner loops are compiled (:mod:`shelfplan.solve.table_kernel`).

A quadratic assignment problem (QAPLIB) is the special case ``p = 0`` (or
the product of the diagonals), capacity 1 and as many places as books
(``benchmarks/qaplib.py``).
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
#: annealing: steps per round and book, start and end acceptance of a median uphill step
ROUND_STEPS, HOT, COLD = 10000, 0.3, 1e-4
#: proposals draw the target among the NEAR_K places nearest the book's own half the time
NEAR_K = 32
CHUNK = 100_000
#: tabu search (one book per place): steps per kick and book, restarts, size limit
TABU_STEPS, RESTART, TABU_MAX_CELLS = 50, 3, 4_000_000
#: the share of the books swapped at random when the tabu search restarts from the best
#: (cycling from the first to the second in five restarts)
SCRAMBLE = (0.1, 0.5)
#: tabu tenure per book
TENURE = 1.0


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
    k = min(8, m)
    # the k places nearest each place, once (a partial sort per row: O(m^2), not m^2 log m
    # per placed partner)
    next_to = np.argpartition(D[1:, 1:], k - 1, axis=1)[:, :k] if m > k else \
        np.tile(np.arange(m), (m, 1))
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
            extra = np.unique(next_to[mine])
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
        #: one book per place and few enough pairs: the kicks are tabu search steps
        self.one_per_place = (self.cap.max() <= 1
                              and len(self.active) * m <= TABU_MAX_CELLS)
        self._tabu = None
        self._spent, self._failed, self._wins = [0.0, 0.0], [0, 0], [0, 0]  # tabu, annealing

    def _wt(self) -> tuple:
        """The prices: distances, pair weights (CSR), entrance weights."""
        return (self.D, self.W.indptr, self.W.indices, self.W.data, self.p)

    def _st(self) -> tuple:
        """The assignment (rebuilt on each call: :meth:`restore` replaces the arrays)."""
        return (self.loc, self.load, self.cap, self.members, self.where)

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
        gained = 0.0
        for s in range(0, len(books), chunk):
            part = books[s:s + chunk]
            gained += kernel.sweep(part, k, self._wt(), self._st(),
                                   (self.around, self.ent_near), self.mark, self.stamp,
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
        """Sweeps to convergence, then kicks (:meth:`kick`) until the deadline,
        ``patience`` kicks in a row without a gain, or ``max_kicks``."""
        self.descend(self.active, deadline)
        self._keep_best()
        if say:
            say(f"local search: S={self.best_S:.4f}")
        failed = 0
        while (time.monotonic() < deadline and failed < patience and len(self.active) > 1
               and (max_kicks is None or self.kicks < max_kicks)):
            failed = 0 if self.step(deadline) else failed + 1
        self.restore()
        if say and self.kicks:
            say(f"kicks: {self.improved_kicks} of {self.kicks} kept, S={self.best_S:.4f}")

    def step(self, deadline: float) -> bool:
        """One kick from the current state (:meth:`kick` when each place holds one book,
        else a scatter kick and sweeps); True when it lowered the best S."""
        before = self.best_S
        if self.one_per_place:
            self.kick(deadline)
        else:
            self._scatter_and_descend(deadline)
        won = self.best_S < before - 1e-9 * max(1.0, abs(before))
        self.improved_kicks += won
        return won

    def _scatter_and_descend(self, deadline: float) -> None:
        """A scatter kick, sweeps over the books it touched; kept only when better."""
        touched = self.scatter_kick()
        self.descend(touched, deadline, k_max=64)
        if self.S < self.best_S - 1e-9 * max(1.0, self.best_S):
            self._keep_best()
        else:
            self.restore()

    def kick(self, deadline: float) -> None:
        """One kick: a stretch of tabu search when each place holds one book, taking
        turns (by time spent) with annealing rounds; otherwise an annealing round."""
        self.kicks += 1
        kernel.seed(int(self.rng.integers(2**31)))
        t, before = time.monotonic(), self.best_S
        # the kind behind fewer gains per second spent waits (each starts with one gain)
        kind = int(not (self.one_per_place and self._spent[0] * (1 + self._wins[1])
                        <= self._spent[1] * (1 + self._wins[0])))
        if kind == 0:
            self._tabu_kick(deadline, self._failed[0])
        else:
            self._anneal_kick(deadline, self._failed[1])
        won = self.best_S < before - 1e-9 * max(1.0, abs(before))
        self._failed[kind] = 0 if won else self._failed[kind] + 1
        self._wins[kind] += won
        self._spent[kind] += time.monotonic() - t

    def _anneal_kick(self, deadline: float, failed: int) -> None:
        """An annealing round from the best assignment (compiled Metropolis steps over
        random moves and swaps, cooling from accepting a median uphill step with
        probability HOT to COLD), then sweeps; the best met is kept. Rounds grow
        longer (up to 8 times) while they fail."""
        self.restore()
        books = self.active
        near_k = min(NEAR_K, self.around.shape[1])
        med = kernel.uphill(books, 256, near_k, self._wt(), self._st(), self.around)
        if med <= 0.0:
            return
        steps = ROUND_STEPS * len(books) * 2 ** min(failed, 3)
        T = med / -np.log(HOT)
        ratio = (np.log(HOT) / np.log(COLD)) ** (1.0 / steps)      # T0 -> T1 geometrically
        best_loc = self.best[0].copy()
        S, best_S = self.S, self.best_S
        tol = 1e-9 * max(1.0, abs(best_S))
        for s in range(0, steps, CHUNK):
            S, best_S, T = kernel.anneal((min(CHUNK, steps - s), T, ratio), books, near_k,
                                         self._wt(), self._st(), self.around, best_loc,
                                         (S, best_S, tol))
            if time.monotonic() > deadline:
                break
        self.S = S
        if best_S < self.best_S:                  # the best met may lie off the end state
            self._set(best_loc)
            self._keep_best()
            self.descend(books, deadline)
            self._keep_best()
        else:
            self.S = table_cost(self.loc, self.D, self.p, self.W)
            self.descend(books, deadline)
            self._keep_best()

    def _tabu_kick(self, deadline: float, failed: int) -> None:
        """TABU_STEPS x books steps of the robust tabu search (one book per place), on
        from where the last kick stopped; every RESTART failed kicks it goes on from
        the best with 10 to 50 % of the books (cyclically) swapped at random."""
        books, W = self.active, self.W
        nb, m = len(books), len(self.cap)
        if self._tabu is None:
            row_of = np.full(len(self.loc), -1, dtype=np.int64)
            row_of[books] = np.arange(nb)
            Wd = W[books][:, books].toarray()
            self._tabu = (row_of, Wd, np.zeros((nb, m)), np.zeros((nb, m), dtype=np.int64))
            self._it = self._restarts = 0
        row_of, Wd, C, until = self._tabu
        if failed and failed % RESTART == 0:
            self.restore()
            self._restarts += 1
            share = SCRAMBLE[0] + (SCRAMBLE[1] - SCRAMBLE[0]) * (self._restarts % 5) / 4
            self._scramble(max(2, int(nb * share)))
            until[:] = 0
        kernel.build_cost(books, self._wt(), self.loc, C)
        best_loc = self.best[0].copy()
        best_S = self.best_S
        tol = 1e-9 * max(1.0, abs(best_S))
        steps = TABU_STEPS * nb
        for s in range(0, steps, 1000):
            k = min(1000, steps - s)
            self.S, best_S = kernel.tabu((k, self._it, max(2, int(TENURE * nb))), books,
                                         (row_of, Wd, C, until), self._wt(), self._st(),
                                         best_loc, (self.S, best_S, tol))
            self._it += k
            if time.monotonic() > deadline:
                break
        self.S = table_cost(self.loc, self.D, self.p, self.W)
        if best_S < self.best_S:
            keep = self._snapshot(), self.S
            self._set(best_loc)
            self._keep_best()
            (self.loc, self.load, self.members, self.where), self.S = keep

    def _scramble(self, k: int) -> None:
        """k random swaps (or moves to free places) of the current assignment."""
        for _ in range(k):
            i = int(self.rng.choice(self.active))
            c = int(self.rng.integers(len(self.cap)))
            if c == self.loc[i] or self.cap[c] == 0:
                continue
            j = -1 if self.load[c] < self.cap[c] else int(self.members[c, 0])
            kernel.apply_move(i, c, j, self.loc, self.load, self.members, self.where)
        self.S = table_cost(self.loc, self.D, self.p, self.W)

    def _set(self, loc: np.ndarray) -> None:
        """Make ``loc`` the current assignment (load, members, where rebuilt)."""
        self.loc = np.asarray(loc, dtype=np.int64).copy()
        self.load[:] = 0
        for i in self.active:
            c = self.loc[i]
            self.members[c, self.load[c]] = i
            self.where[i] = self.load[c]
            self.load[c] += 1

    def _move_delta(self, i: int, b: int, j: int) -> float:
        """Increase of S when book i moves to place b (and book j, if >= 0, to i's)."""
        W = self.W
        wt, loc = self._wt(), self.loc
        a = self.loc[i]
        d = kernel.cost_at(i, b, wt, loc) - kernel.cost_at(i, a, wt, loc)
        if j >= 0:
            d += kernel.cost_at(j, a, wt, loc) - kernel.cost_at(j, b, wt, loc)
            d += 2.0 * kernel.weight(i, j, W.indptr, W.indices, W.data) * self.D[a + 1, b + 1]
        return float(d)

    def scatter_kick(self) -> np.ndarray:
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

