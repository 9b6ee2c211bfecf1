"""The swap search of the core (:mod:`shelfplan.solve.core`) over a fixed set of slots.

Given positions ("slots") that are pairwise at least d_min apart and inside
the hall, any assignment of books to slots is feasible. This module improves
the assignment: it exchanges the books of two slots, or moves a book to an
empty slot, whenever that lowers S. Gains are computed for many candidate
swaps at once from the sparse pair weights; each round applies a set of
improving swaps that share no book and no co-borrow partner, so their gains
add up exactly.

Candidates for book ``i``: the books in the slots nearest ``i``'s slot, and
the books in the slots nearest ``i``'s *pull point*, the p- and
weight-averaged position of the entrance and ``i``'s partners (where the
cost gradient wants ``i`` to go). After the first round only books near a
change are looked at again. Slots are a places object of the core, so any
family that provides its interface (Euclidean sites, a distance table) runs
this search unchanged.
"""

from __future__ import annotations

import time

import numpy as np

from shelfplan.model.objective import walking_cost
from shelfplan.model.problem import Problem
from shelfplan.solve.options import Anchor
from shelfplan.solve.core import Places, dist as _dist, expand as _expand, pull_points, swap_gains
from shelfplan.solve.record import as_rng

__all__ = ["SwapSearch", "improve", "swap_gains", "pull_points"]


class SwapSearch:
    """Books on slots; swaps and moves to empty slots that lower the objective.

    The objective is S plus, when ``anchor`` is given, ``move_cost`` times
    the distance of every book from its anchor (its current position; NaN
    rows for books without one). With ``max_moves``, at most that many
    anchored books end more than ``tol`` away from their anchor.
    """

    def __init__(self, positions: np.ndarray, problem: Problem,
                 extra_slots: np.ndarray | None = None, *, anchor: Anchor | None = None,
                 tol: float = 1e-6, neighbours: int = 10, pull_neighbours: int = 8,
                 screen_factor: int = 6):
        self.problem = problem
        self.n = n = problem.n
        extra = np.zeros((0, 3)) if extra_slots is None else np.asarray(extra_slots, float)
        self.pos = np.vstack([np.asarray(positions, float), extra])
        self.m = m = len(self.pos)
        self.p = np.concatenate([problem.p, np.zeros(m - n)])
        self.e = problem.hall.entrance
        self.W = problem.symmetric_weights(m)
        self.slot = np.arange(m)          # book -> slot (books >= n stand for empty slots)
        self.occupant = np.arange(m)      # slot -> book
        self.places = Places(self.pos, self.e)
        self.k1 = min(neighbours, m - 1)
        knn = self.places.nearest(self.pos, self.k1 + 1)
        self.knn = knn[:, 1:]
        self.k2 = min(pull_neighbours, m)
        self.screen_factor = screen_factor
        anchor = anchor or Anchor()
        self.anchor = np.full((m, 3), np.nan)
        if anchor.positions is not None:
            self.anchor[:n] = anchor.positions
        self.has_anchor = np.isfinite(self.anchor).all(axis=1)
        self.lam = np.where(self.has_anchor, float(anchor.move_cost), 0.0)
        self.max_moves = anchor.max_moves
        self.tol = tol
        self.swaps = 0

    # -- evaluation ---------------------------------------------------------
    def positions(self) -> np.ndarray:
        return self.pos[self.slot[: self.n]].copy()

    def moved(self, books=None, slots=None) -> np.ndarray:
        """Whether each anchored book (at ``slots``, default its own) is off its anchor."""
        books = np.arange(self.m) if books is None else books
        where = self.pos[self.slot[books] if slots is None else slots]
        off = np.linalg.norm(where - np.where(self.has_anchor[books, None],
                                              self.anchor[books], where), axis=1)
        return self.has_anchor[books] & (off > self.tol)

    def cost(self) -> float:
        """S plus the move term for the current assignment."""
        S = walking_cost(self.positions(), self.problem)["total"]
        if self.lam.any():
            X = self.pos[self.slot]
            h = self.has_anchor
            S += float(self.lam[h] @ _dist(X[h], self.anchor[h]))
        return S

    def gains(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        g = swap_gains(self.places, self.slot, self.p, self.W, a, b)
        if self.lam.any():
            va, vb = self.pos[self.slot[a]], self.pos[self.slot[b]]
            for x, old, new in ((a, va, vb), (b, vb, va)):
                h = self.has_anchor[x]
                c = np.where(h[:, None], self.anchor[x], 0.0)
                g += np.where(h, self.lam[x] * (_dist(old, c) - _dist(new, c)), 0.0)
        return g

    def gradient(self, books: np.ndarray) -> np.ndarray:
        """d(objective)/dv for ``books`` at their slots (0 where a distance is 0)."""
        W, pos, slot = self.W, self.pos, self.slot
        v = pos[slot[books]]
        de = v - self.e
        r = np.sqrt(np.einsum("ij,ij->i", de, de))
        G = de * np.divide(self.p[books], r, out=np.zeros_like(r), where=r > 0)[:, None]
        owner, idx = _expand(W.indptr, books)
        diff = v[owner] - pos[slot[W.indices[idx]]]
        dist = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        coef = np.divide(W.data[idx], dist, out=np.zeros_like(dist), where=dist > 0)
        for d in range(3):
            G[:, d] += np.bincount(owner, coef * diff[:, d], len(books))
        if self.lam.any():
            h = self.has_anchor[books]
            dc = np.where(h[:, None], v - np.where(h[:, None], self.anchor[books], 0.0), 0.0)
            rc = np.sqrt(np.einsum("ij,ij->i", dc, dc))
            G += dc * np.divide(self.lam[books], rc, out=np.zeros_like(rc), where=rc > 0)[:, None]
        return G

    # -- search -------------------------------------------------------------
    def run(self, dirty=None, *, deadline: float | None = None, max_rounds: int = 10_000) -> int:
        """Rounds of conflict-free improving swaps until none is left; returns swaps made."""
        n, m = self.n, self.m
        W, ind, ptr = self.W, self.W.indices, self.W.indptr
        slot, occupant, pos = self.slot, self.occupant, self.pos
        dirty = np.arange(n) if dirty is None else np.unique(np.asarray(dirty))
        made = 0
        for _ in range(max_rounds):
            if len(dirty) == 0 or (deadline is not None and time.monotonic() > deadline):
                break
            A = [np.repeat(dirty, self.k1)]
            B = [occupant[self.knn[slot[dirty]].ravel()]]
            t = pull_points(pos[slot], self.p, self.e, W, dirty)
            for target in (t, 0.5 * (t + pos[slot[dirty]])):
                near = self.places.nearest(target, self.k2)
                A.append(np.repeat(dirty, self.k2))
                B.append(occupant[np.asarray(near).reshape(len(dirty), -1).ravel()])
            a, b = np.concatenate(A), np.concatenate(B)
            lo, hi = np.minimum(a, b), np.maximum(a, b)
            keep = (lo != hi) & (lo < n)          # at least one real book
            pairs = np.unique(np.stack([lo[keep], hi[keep]], axis=1), axis=0)
            if len(pairs) == 0:
                break
            a, b = pairs[:, 0], pairs[:, 1]
            # first-order screen: (g_a - g_b) . (v_a - v_b) > 0, the most promising first
            books, inv = np.unique(np.concatenate([a, b]), return_inverse=True)
            G = self.gradient(books)
            Ga, Gb = G[inv[: len(a)]], G[inv[len(a):]]
            lin = np.einsum("ij,ij->i", Ga - Gb, pos[slot[a]] - pos[slot[b]])
            screen = lin > 0
            cap = self.screen_factor * len(dirty)
            if screen.sum() > cap:
                screen &= lin >= np.sort(lin)[-cap]
            a, b = a[screen], b[screen]
            if len(a) == 0:
                break
            gain = self.gains(a, b)
            good = gain > 1e-13
            if not good.any():
                break
            a, b, gain = a[good], b[good], gain[good]
            order = np.argsort(-gain, kind="stable")
            if self.max_moves is not None:
                delta = (self.moved(a, slot[b]).astype(int) + self.moved(b, slot[a])
                         - self.moved(a) - self.moved(b))
                count = int(self.moved(np.arange(n)).sum())
            locked = np.zeros(m, dtype=bool)
            chosen = []
            for q in order:
                i, j = a[q], b[q]
                if locked[i] or locked[j]:
                    continue
                if self.max_moves is not None:
                    if count + delta[q] > self.max_moves:
                        continue
                    count += delta[q]
                chosen.append(q)
                locked[i] = locked[j] = True
                locked[ind[ptr[i]:ptr[i + 1]]] = True
                locked[ind[ptr[j]:ptr[j + 1]]] = True
            if not chosen:
                break
            chosen = np.asarray(chosen)
            ia, ib = a[chosen], b[chosen]
            sa, sb = slot[ia].copy(), slot[ib].copy()
            slot[ia], slot[ib] = sb, sa
            occupant[sb], occupant[sa] = ia, ib
            made += len(chosen)
            moved = np.concatenate([ia, ib])
            _, nb_idx = _expand(ptr, moved)
            near_moved = occupant[self.knn[slot[moved]].ravel()]
            dirty = np.unique(np.concatenate([moved, ind[nb_idx], near_moved]))
            dirty = dirty[dirty < n]
        self.swaps += made
        return made

    def kicks(self, count: int, *, seed: int = 0, region: int = 24,
              deadline: float | None = None) -> int:
        """Iterated local search: shuffle the books of ``count`` random small regions in
        turn, re-run the search around each, keep a kick only when the objective drops.
        Returns the number of kicks kept."""
        rng = as_rng(seed)
        k = min(region, self.m)
        best = self.cost()
        kept = 0
        for _ in range(count):
            if deadline is not None and time.monotonic() > deadline:
                break
            saved = self.slot.copy(), self.occupant.copy(), self.swaps
            centre = self.pos[self.slot[rng.integers(self.n)]]
            near = self.places.nearest(centre, k)
            near = np.atleast_1d(near)
            books = self.occupant[near]
            if self.max_moves is not None:
                # only shuffle books that may move without breaking the budget
                books = books[self.moved(books) | ~self.has_anchor[books]]
                if len(books) < 2:
                    continue
            sl = self.slot[books]
            perm = rng.permutation(len(books))
            self.slot[books] = sl[perm]
            self.occupant[sl[perm]] = books
            self.run(books[books < self.n], deadline=deadline)
            c = self.cost()
            if c < best - 1e-12:
                best = c
                kept += 1
            else:
                self.slot, self.occupant, self.swaps = saved
        return kept


class SwapMoves:
    """The swap search's moves for the engine (:func:`shelfplan.solve.engine.drive`),
    incremental proposals: ``settle`` runs ``count`` kicks, each ``restart`` as many
    more from the best (a kick is kept only when it lowers the objective)."""

    def __init__(self, search: SwapSearch, *, count: int, seed=0):
        self.ss, self.count, self.seed = search, int(count), seed

    def settle(self, deadline: float) -> None:
        self.ss.kicks(self.count, seed=self.seed, deadline=deadline)

    def restart(self, rng, deadline: float, round_: int) -> None:
        self.ss.kicks(self.count, seed=rng, deadline=deadline)

    def cost(self) -> float:
        return self.ss.cost()

    def plan(self) -> np.ndarray:
        return self.ss.positions()


def improve(positions: np.ndarray, problem: Problem, extra_slots: np.ndarray | None = None,
            *, deadline: float | None = None, start: np.ndarray | None = None,
            **options) -> tuple[np.ndarray, int]:
    """Swap and move books among ``positions`` (+ empty ``extra_slots``) while S drops.

    Returns the new (n, 3) positions and the number of swaps applied. The set
    of occupied positions changes only by moves into ``extra_slots``, so a
    feasible layout stays feasible when the extra slots are feasible and at
    least d_min from every position. ``start`` limits the first round to
    those books (default: all).
    """
    search = SwapSearch(positions, problem, extra_slots, **options)
    made = search.run(start, deadline=deadline)
    return search.positions(), made
