"""The site search of the item solver: an iterated local search, compiled.

Books sit on *slots*, points pairwise at least d_min apart inside the hall (the
start's own positions plus the free lattice sites nearest the entrance that
clear them), so every assignment is feasible. Moves: a book to another slot,
swapping with its occupant or into a free slot, priced exactly
(:mod:`shelfplan.solve.ils_kernel`).

1. :meth:`SiteSearch.converge`: sweeps over the books in a random order; each
   book takes its best improving move among the ``k`` slots nearest its pull
   point (the weighted geometric median of its partners and the entrance) and
   the ``k/2`` nearest its own slot; after a sweep over all books only those whose
   prices changed are swept again; ``k`` doubles from 16 to 512 whenever a
   sweep lowers S by less than 0.1 %; converged when a sweep at 512 lowers it by
   less than 0.03 % (or moves no book): kicks pay more than such sweeps.
2. :meth:`SiteSearch.anneal`: simulated annealing from the converged layout, in
   rounds of doubling length, each from the best layout so far and polished by
   sweeps, while a round pays at least ``ANNEAL_TOL`` of S.
3. :meth:`SiteSearch.kick`: the books of 4-10 neighbouring slots around a centre
   book (drawn with probability proportional to its own cost: the worst placed
   books most often) are shuffled and re-optimised; a kick is kept only when S
   drops. Adaptive: kicks stop once ``QUIET`` batches in a row lowered S by less
   than ``KICK_TOL`` of it; from 500 books on, kicks of 12-30 slots follow the
   same way. A seed gives the same layout whenever no deadline cuts the run.
"""

from __future__ import annotations

import math
import time

import numpy as np
from scipy.spatial import cKDTree

from shelfplan.model.problem import Problem
from shelfplan.solve import ils_kernel as K
from shelfplan.solve.record import as_rng

K_START, K_MAX = 16, 512
#: the sweeps at one k stop paying below STALL of S (below STALL_TOP at the deepest)
STALL, STALL_TOP = 1e-3, 3e-4
CHUNK = 256
WEISZFELD = 8
#: books shuffled by one kick (the occupants of lo..hi neighbouring slots): small kicks
#: until they stop paying, then larger ones
KICK_SIZES = ((4, 10), (12, 30))
#: the larger kicks from this many books on (below, the small ones converge the search
#: within a few seconds and the larger ones add a few hundredths of a percent)
LARGE_KICKS_FROM = 500
KICK_K = 16
KICK_TARGET = 1.0
#: re-optimise kicked books towards their pull points too (else near their own slots only)
KICK_PULL = False
#: kicks per compiled call (the clock is read between calls) and per adaptive batch
KICK_STEP, KICK_BATCH = 25, 2000
#: adaptive kicks: stop after QUIET batches in a row each worth less than KICK_TOL * S
KICK_TOL = 1e-4
QUIET = 3
#: annealing rounds: round r takes ANNEAL_MOVES * n * 2**r Metropolis steps, its
#: temperature falling geometrically from ANNEAL_T0 * S / n to ANNEAL_END times that;
#: rounds stop when one lowers S by less than ANNEAL_TOL of it
ANNEAL_MOVES, ANNEAL_T0, ANNEAL_END, ANNEAL_TOL = 500, 0.5, 1e-3, 1e-3
#: candidate slots of a step (the ANNEAL_K nearest the book's own slot, with probability
#: ANNEAL_LOCAL, else nearest a random partner's), steps per compiled call
ANNEAL_K, ANNEAL_LOCAL, ANNEAL_STEP = 16, 0.9, 20_000
#: the sweeps that polish an annealed layout stop at this k
POLISH_K = 64


def site_pool(X: np.ndarray, by_distance: np.ndarray, d_min: float,
              factor: float = 1.5) -> np.ndarray:
    """Slots for a feasible layout ``X``: its own positions first (book i on slot i),
    then the lattice sites among the ``factor * n`` nearest the entrance that are
    at least d_min from every position of ``X``."""
    n = len(X)
    m = min(len(by_distance), max(n + 8, int(math.ceil(factor * n))))
    cand = by_distance[:m]
    dist, _ = cKDTree(X).query(cand, k=1)
    return np.vstack([X, cand[dist >= d_min * (1 - 1e-6)]])


class SiteSearch:
    """Books ``0..n-1`` on ``slots``, book i starting on slot ``start[i]``."""

    def __init__(self, problem: Problem, slots: np.ndarray, start: np.ndarray | None = None):
        self.problem, self.n = problem, problem.n
        self.P = np.ascontiguousarray(slots, dtype=float)
        self.m = m = len(self.P)
        W = problem.symmetric_weights()
        W.sum_duplicates()
        self.ptr = W.indptr.astype(np.int64)
        self.nbr = W.indices.astype(np.int64)
        self.wts = W.data.astype(float)
        self.p = np.asarray(problem.p, dtype=float)
        self.e = np.asarray(problem.hall.entrance, dtype=float)
        self.site = (np.arange(self.n) if start is None else np.asarray(start)).astype(np.int64)
        self.occ = np.full(m, -1, dtype=np.int64)
        self.occ[self.site] = np.arange(self.n)
        self.wbuf = np.zeros(self.n)
        self.tot = self.p + np.bincount(np.repeat(np.arange(self.n), np.diff(self.ptr)),
                                        self.wts, minlength=self.n)
        self.mark = np.zeros(self.n, dtype=bool)
        self.tree = cKDTree(self.P)
        self._knn = np.zeros((m, 0), dtype=np.int64)
        self._knn_s = 0.0
        self.reprice()
        self.sweeps = self.moves = self.kicks_tried = self.kicks_kept = 0
        self.anneal_rounds = self.anneal_steps = 0
        self.k = K_START
        self.converged = False

    # -- state ----------------------------------------------------------------
    def reprice(self) -> None:
        """Every book's own cost from scratch (clears rounding drift)."""
        X = self.P[self.site]
        rows = np.repeat(np.arange(self.n), np.diff(self.ptr))
        d = np.linalg.norm(X[rows] - X[self.nbr], axis=1)
        self.ent = self.p * np.linalg.norm(X - self.e, axis=1)
        self.cur = self.ent + np.bincount(rows, self.wts * d, minlength=self.n)

    @property
    def S(self) -> float:
        ent = self.p * np.linalg.norm(self.P[self.site] - self.e, axis=1)
        return float(ent.sum() + 0.5 * (self.cur - ent).sum())

    def positions(self) -> np.ndarray:
        return self.P[self.site].copy()

    def knn(self, k: int, deadline: float | None = None) -> np.ndarray | None:
        """The table of each slot's nearest slots (itself first), at least ``k + 1``
        wide; None when widening it would likely run past ``deadline``."""
        need = min(self.m, k + 1)
        have = self._knn.shape[1]
        if have < need:
            cols = min(self.m, max(need, 2 * have))
            if (deadline is not None and have
                    and time.monotonic() + self._knn_s * cols / have > deadline):
                return None
            t0 = time.monotonic()
            idx = self.tree.query(self.P, k=cols)[1]
            self._knn = np.ascontiguousarray(idx.reshape(self.m, cols), dtype=np.int64)
            self._knn_s = time.monotonic() - t0
        return self._knn

    def _args(self):
        return (self.P, self.e, self.p, self.ptr, self.nbr, self.wts, self.site, self.occ,
                self.cur, self.wbuf, self.tot)

    # -- the search -----------------------------------------------------------
    def sweep(self, books: np.ndarray, k: int, deadline: float | None,
              tick=None) -> tuple[float, bool]:
        """One pass over ``books``; returns (S lowered by, ran out of time)."""
        k = min(k, self.m - 1)
        table = self.knn(k, deadline)
        if table is None:
            return 0.0, True
        eps = 1e-12 * max(1.0, float(self.cur.sum()))
        gain = 0.0
        for c0 in range(0, len(books), CHUNK):
            if deadline is not None and time.monotonic() > deadline:
                return gain, True
            if tick is not None:
                tick()
            chunk = np.ascontiguousarray(books[c0:c0 + CHUNK], dtype=np.int64)
            G = K.medians(self._args(), chunk, WEISZFELD)
            gslot = np.asarray(self.tree.query(G, k=1)[1], dtype=np.int64).reshape(-1)
            moves, delta = K.sweep(self._args(), table, chunk, gslot, k, eps, self.mark)
            self.moves += moves
            gain -= delta
        return gain, False

    def converge(self, seed=0, deadline: float | None = None, k_max: int = K_MAX,
                 tick=None) -> bool:
        """Sweeps with deepening candidate lists: a sweep over all books at each ``k``,
        then sweeps over the books whose prices changed (moved, or partners of a
        moved book) while they pay at least ``STALL`` of S; ``k`` doubles when they
        stop paying, and at ``k_max`` they run while they pay ``STALL_TOP``. Returns False
        when the deadline cut them short."""
        rng = as_rng(seed)
        top = min(k_max, self.m - 1)
        books = rng.permutation(self.n)
        while True:
            before = self.S
            self.mark[:] = False
            gain, out = self.sweep(books, min(self.k, top), deadline, tick)
            self.sweeps += 1
            if out:
                return False
            dirty = np.flatnonzero(self.mark)
            if self.k >= top and (len(dirty) == 0 or gain < STALL_TOP * before):
                self.converged = True
                self.reprice()
                return True
            if self.k < top and gain < STALL * before:
                self.k *= 2
                books = rng.permutation(self.n)
            else:
                books = dirty[rng.permutation(len(dirty))]

    def anneal(self, rounds: int | None = None, *, seed=0, deadline: float | None = None,
               tick=None, first: int = 0) -> int:
        """Annealing rounds (``rounds`` of them, or None: while one lowers S by at
        least ``ANNEAL_TOL`` of it); the layout ends on the best seen. Round r takes
        ``ANNEAL_MOVES * n * 2**(first + r)`` steps. Returns the rounds run."""
        rng = as_rng(seed)
        K.seed_rng(int(rng.integers(2 ** 31)))
        table = self.knn(ANNEAL_K)
        r = 0
        while rounds is None or r < rounds:
            before = self.S
            out = self._anneal_round(ANNEAL_MOVES * self.n * 2 ** (first + r), table, deadline,
                                     tick)
            self.k, self.converged = K_START, False
            out |= not self.converge(rng, deadline=deadline, k_max=POLISH_K, tick=tick)
            r += 1
            if out or (rounds is None and before - self.S < ANNEAL_TOL * before):
                break
        self.anneal_rounds += r
        return r

    def _anneal_round(self, steps: int, table, deadline, tick) -> bool:
        """One round of ``steps`` Metropolis steps (fewer when ``deadline`` comes
        first: the temperature then falls by the clock); True when cut by time."""
        k = min(ANNEAL_K, self.m - 1)
        T0 = ANNEAL_T0 * self.S / max(self.n, 1)
        t0 = time.monotonic()
        span = None if deadline is None else 0.95 * (deadline - t0)
        best, keep = self.S, self.site.copy()
        S, done, out = best, 0, False
        while done < steps:
            frac = done / steps
            if span is not None:
                if span <= 0 or time.monotonic() - t0 >= span:
                    out = True
                    break
                frac = max(frac, (time.monotonic() - t0) / span)
            if tick is not None:
                tick()
            step = min(ANNEAL_STEP, steps - done)
            taken, gain = K.anneal(self._args(), table, step, k, T0 * ANNEAL_END ** frac,
                                   ANNEAL_LOCAL)
            done += step
            self.anneal_steps += step
            S += gain
            if S < best:
                best, keep = S, self.site.copy()
        self.site[:] = keep
        self.occ[:] = -1
        self.occ[keep] = np.arange(self.n)
        self.reprice()
        return out

    def kick(self, count: int | None = None, *, seed=0, deadline: float | None = None,
             tick=None) -> int:
        """Kicks of each size of ``KICK_SIZES`` in turn (the small ones only below
        ``LARGE_KICKS_FROM`` books): ``count`` of them in all (split evenly), or
        (None) each size until ``QUIET`` batches in a row lowered S by less than
        ``KICK_TOL`` of it. Returns the number kept."""
        rng = as_rng(seed)
        K.seed_rng(int(rng.integers(2 ** 31)))
        table = self.knn(max(max(hi for _, hi in KICK_SIZES), KICK_K))
        kept = 0
        sizes = KICK_SIZES if self.n >= LARGE_KICKS_FROM else KICK_SIZES[:1]
        for r, size in enumerate(sizes):
            part = None if count is None else (count * (r + 1)) // len(sizes) - (
                count * r) // len(sizes)
            k, out = self._kick_size(size, part, table, deadline, tick)
            kept += k
            if out:
                break
        self.kicks_kept += kept
        return kept

    def _kick_size(self, size, count, table, deadline, tick) -> tuple[int, bool]:
        batch = max(100, min(KICK_BATCH, self.n))
        eps = 1e-12 * max(1.0, float(self.cur.sum()))
        lo, hi = min(size[0], self.m), min(size[1], self.m)
        kept, quiet, done = 0, 0, 0
        while count is None or done < count:
            before, b = self.S, batch if count is None else min(batch, count - done)
            for s0 in range(0, b, KICK_STEP):   # steps short enough to watch the clock
                if deadline is not None and time.monotonic() > deadline:
                    self.reprice()
                    self.kicks_tried += done
                    return kept, True
                if tick is not None:
                    tick()
                step = min(KICK_STEP, b - s0)
                k, _ = K.kicks(self._args(), table, step, min(KICK_K, self.m - 1), lo, hi,
                               KICK_TARGET, eps, KICK_PULL)
                kept += k
                done += step
            self.reprice()
            quiet = quiet + 1 if before - self.S < KICK_TOL * before else 0
            if count is None and quiet >= QUIET:
                break
        self.kicks_tried += done
        return kept, False


class SiteMoves:
    """The lattice-site family's moves for the engine (:func:`shelfplan.solve.engine.drive`).

    ``settle``: annealing rounds while they pay, then kicks (``kicks`` of them, or
    while they pay), each stage offered to ``rec``. ``restart``: a reheated annealing
    round from the best layout (rounds grow to ``2**RESTART_GROWTH`` times the first),
    polished by sweeps, then kicks while they pay. The search's state is always its
    best layout: annealing rounds end on the best they met, kicks are kept only when
    they lower S.
    """

    #: a restart's annealing round is at most 2**RESTART_GROWTH times the first round
    RESTART_GROWTH = 3

    def __init__(self, search: SiteSearch, rec, *, seed=0, kicks: int | None = None,
                 how: str = "site search"):
        self.ss, self.rec, self.seed, self.kicks, self.how = search, rec, seed, kicks, how

    def settle(self, deadline: float) -> None:
        ss, rec = self.ss, self.rec
        if not rec.time_up():
            rounds = ss.anneal(seed=self.seed, deadline=deadline,
                               tick=lambda: rec.tick("annealing"))
            rec.offer(ss.positions(), f"{self.how} + annealing ({rounds} rounds, "
                                      f"{ss.anneal_steps} steps)")
            self.how += " + annealing"
        kept = ss.kick(self.kicks, seed=self.seed, deadline=deadline,
                       tick=lambda: rec.tick("kicks"))
        self.how += f" + {kept} of {ss.kicks_tried} kicks"

    def restart(self, rng, deadline: float, round_: int) -> None:
        tick = lambda: self.rec.tick("restarts from the best")  # noqa: E731
        self.ss.anneal(1, seed=rng, deadline=deadline, tick=tick,
                       first=min(round_, self.RESTART_GROWTH))
        self.ss.kick(None, seed=rng, deadline=deadline, tick=tick)

    def cost(self) -> float:
        return self.ss.S

    def plan(self) -> np.ndarray:
        return self.ss.positions()


def _warm() -> None:
    """Load the compiled kernels (from numba's on-disk cache; compiled on the first
    run after installing) at import, so that this happens before a solver's clock
    starts: three books on four slots, every kernel called once with the types
    :class:`SiteSearch` uses."""
    i64, f64 = np.int64, np.float64
    P = np.array([[0.0, 0, 0], [1.0, 0, 0], [0.0, 1, 0], [1.0, 1, 0]])
    e, p = np.zeros(3), np.array([0.5, 0.3, 0.2])
    ptr, nbr, wts = np.array([0, 1, 2, 2], i64), np.array([1, 0], i64), np.array([0.1, 0.1])
    site, occ = np.array([0, 1, 2], i64), np.array([0, 1, 2, -1], i64)
    cur, wbuf, tot = np.zeros(3), np.zeros(3), p + np.array([0.1, 0.1, 0.0])
    knn = np.array([[0, 1, 2, 3], [1, 0, 3, 2], [2, 0, 3, 1], [3, 1, 2, 0]], i64)
    books = np.arange(3, dtype=i64)
    args = (P, e, p, ptr, nbr, wts, site, occ, cur, wbuf, tot)
    K.medians(args, books, WEISZFELD)
    K.sweep(args, knn, books, books.copy(), 2, f64(0.0), np.zeros(3, dtype=bool))
    K.seed_rng(0)
    K.kicks(args, knn, 1, 2, 2, 3, KICK_TARGET, f64(0.0), KICK_PULL)
    K.anneal(args, knn, 2, 2, 1.0, ANNEAL_LOCAL)


_warm()
