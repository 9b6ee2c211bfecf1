"""Peers of a shelving-plan fit (books in shelf locations, walks in the aisles).

Every peer sees only arrays a user could build from the hall and the loans:

* ``D``: ``(m + 1, m + 1)`` walking distances, row/column 0 the entrance,
  1..m the locations' pick points (MODEL.md section 8.3);
* ``cap``: ``(m,)`` slots per location; ``order``: locations in shelving order;
* ``p``: ``(n,)`` entrance weights; ``W``: symmetric sparse ``(n, n)`` pair
  weights, ``W_ij = p(i,j) + p(j,i)``; ``rank``: each book's call-number rank.

and returns ``loc``: ``(n,)`` the location (0..m-1) of each book. The cost is
:func:`s_walk` (MODEL.md section 8.4), written here from the contract alone.

1. :func:`callnumber_order` -- today's shelving: books in call-number order
   along the shelving order, filling each location.
2. :func:`popularity_slotting` -- the most borrowed books in the locations
   nearest the entrance by walking distance.
3. :func:`location_ils` -- an iterated local search on locations: move a book
   into a location with a free slot or swap two books of different locations,
   exact sparse deltas over ``D``; candidate locations nearest (by ``D``) the
   book's weighted median location (the location minimising its own cost
   given its partners and the entrance); candidate lists that deepen (8, 16,
   ... 256) when a sweep stalls; random kicks of a few books once converged,
   kept only when they pay.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

__all__ = ["s_walk", "callnumber_order", "popularity_slotting", "location_ils"]


def s_walk(loc: np.ndarray, D: np.ndarray, p: np.ndarray, W: sp.csr_matrix) -> float:
    """sum_i p_i g(e, l_i) + 1/2 sum_ij W_ij g(l_i, l_j) (W symmetric holds both orders)."""
    A = W.tocoo()
    ent = float(p @ D[0, loc + 1])
    pair = 0.5 * float(A.data @ D[loc[A.row] + 1, loc[A.col] + 1])
    return ent + pair


def _fill(books: np.ndarray, locations: np.ndarray, cap: np.ndarray, n: int) -> np.ndarray:
    """Books in the given order into the locations in the given order, each filled."""
    slots = np.repeat(locations, cap[locations])
    if len(slots) < len(books):
        raise ValueError(f"{len(books)} books but only {len(slots)} slots")
    loc = np.empty(n, dtype=np.int64)
    loc[books] = slots[:len(books)]
    return loc


def callnumber_order(rank: np.ndarray, order: np.ndarray, cap: np.ndarray) -> np.ndarray:
    return _fill(np.argsort(rank, kind="stable"), order, cap, len(rank))


def popularity_slotting(p: np.ndarray, rank: np.ndarray, D: np.ndarray, cap: np.ndarray,
                        order: np.ndarray) -> np.ndarray:
    books = np.lexsort((rank, -p))
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    near = np.lexsort((position, D[0, 1:]))
    return _fill(books, near, cap, len(p))


class _State:
    """Assignment, loads and the exact cost change of moves and swaps."""

    def __init__(self, loc, D, p, W, cap):
        self.loc, self.D, self.p, self.W, self.cap = loc.copy(), D, p, W, cap
        self.load = np.bincount(loc, minlength=len(cap))

    def move_gains(self, i: int, cands: np.ndarray) -> np.ndarray:
        """Cost change of moving book i to each candidate location."""
        a = self.loc[i]
        lo, hi = self.W.indptr[i], self.W.indptr[i + 1]
        nb, w = self.W.indices[lo:hi], self.W.data[lo:hi]
        other = self.loc[nb] + 1
        now = self.p[i] * self.D[0, a + 1] + w @ self.D[a + 1, other]
        new = self.p[i] * self.D[0, cands + 1] + self.D[np.ix_(cands + 1, other)] @ w
        return new - now

    def swap_gain(self, i: int, j: int) -> float:
        a, b = self.loc[i], self.loc[j]
        gi = self.move_gains(i, np.array([b]))[0]
        gj = self.move_gains(j, np.array([a]))[0]
        wij = self.W[i, j]
        return gi + gj + 2.0 * wij * self.D[a + 1, b + 1]

    def apply_move(self, i: int, b: int) -> None:
        self.load[self.loc[i]] -= 1
        self.load[b] += 1
        self.loc[i] = b

    def median(self, i: int) -> int:
        """The location minimising book i's own cost with its partners fixed."""
        lo, hi = self.W.indptr[i], self.W.indptr[i + 1]
        nb, w = self.W.indices[lo:hi], self.W.data[lo:hi]
        cost = self.p[i] * self.D[0, 1:] + self.D[1:, self.loc[nb] + 1] @ w
        return int(np.argmin(cost))


def _improve_book(st: _State, i: int, near: np.ndarray, k: int, members: list) -> float:
    """Best move or swap of book i among the k locations nearest its median."""
    cands = near[st.median(i), :k]
    cands = cands[cands != st.loc[i]]
    if len(cands) == 0:
        return 0.0
    gains = st.move_gains(i, cands)
    free = st.load[cands] < st.cap[cands]
    best_gain, best = 0.0, None
    if free.any():
        f = np.argmin(np.where(free, gains, np.inf))
        if gains[f] < -1e-12:
            best_gain, best = gains[f], ("move", cands[f])
    for c in cands[np.argsort(gains)[:4]]:          # swaps with the best few locations
        for j in members[c][:8]:
            g = st.swap_gain(i, j)
            if g < best_gain - 1e-12:
                best_gain, best = g, ("swap", j)
    if best is None:
        return 0.0
    if best[0] == "move":
        members[st.loc[i]].remove(i)
        members[best[1]].append(i)
        st.apply_move(i, best[1])
    else:
        j = best[1]
        a, b = st.loc[i], st.loc[j]
        members[a].remove(i), members[b].remove(j)
        members[a].append(j), members[b].append(i)
        st.loc[i], st.loc[j] = b, a
    return best_gain


def location_ils(loc0: np.ndarray, D: np.ndarray, p: np.ndarray, W: sp.csr_matrix,
                 cap: np.ndarray, *, time_limit: float = 30.0, seed: int = 0) -> np.ndarray:
    """The iterated local search described in the module docstring."""
    rng = np.random.default_rng(seed)
    deadline = time.monotonic() + time_limit
    m = len(cap)
    near = np.argsort(D[1:, 1:], axis=1)[:, :256]
    st = _State(loc0, D, p, W.tocsr(), cap)
    members = [[] for _ in range(m)]
    for i, l in enumerate(st.loc):
        members[l].append(i)
    active = np.nonzero((p > 0) | (np.diff(st.W.indptr) > 0))[0]
    best_loc, best_S = st.loc.copy(), s_walk(st.loc, D, p, st.W)
    k = 8
    while time.monotonic() < deadline:
        gained = 0.0
        for i in rng.permutation(active):
            gained += _improve_book(st, i, near, k, members)
            if time.monotonic() >= deadline:
                break
        if gained < -1e-9:
            continue
        if k < near.shape[1]:
            k *= 2
            continue
        S = s_walk(st.loc, D, p, st.W)
        if S < best_S - 1e-12:
            best_S, best_loc = S, st.loc.copy()
        else:
            st = _State(best_loc, D, p, st.W, cap)
            members = [[] for _ in range(m)]
            for i, l in enumerate(st.loc):
                members[l].append(i)
        # kick: a few random swaps among the active books
        for i, j in rng.choice(active, size=(max(2, len(active) // 50), 2)):
            if st.loc[i] != st.loc[j]:
                a, b = st.loc[i], st.loc[j]
                members[a].remove(i), members[b].remove(j)
                members[a].append(j), members[b].append(i)
                st.loc[i], st.loc[j] = b, a
        k = 8
    S = s_walk(st.loc, D, p, st.W)
    return st.loc if S < best_S else best_loc
