"""Compiled inner loops of the table search (numba): one book's best move or swap,
annealing steps, and robust tabu search steps for one book per place.

A sequential local search cannot be vectorised: each applied move changes the
prices of the next. This kernel prices, for one book at a time, every
candidate place (a move into a free slot) and the books of the most promising
places (a swap), exactly, over the book's sparse partner list and the
distance table, and applies the best improvement. :mod:`shelfplan.solve.shelf_search`
drives it (order of books, deadline, kicks, best so far).

Arrays: ``D`` (m+1, m+1) distances (row 0 the entrance); CSR pair weights
``indptr, indices, data`` (symmetric, sorted indices); ``p`` (n,); ``loc`` (n,)
place of each book; ``load``/``cap`` (m,); ``members`` (m, c_max) the active
books of each place in its first ``load`` columns and ``where`` (n,) each
book's column; ``around`` (m, K) places by distance from each place.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from shelfplan.solve.kernel_common import csr_weight as weight, seed_rng as seed  # noqa: F401

#: books a swap is priced with, per book and sweep (after the best SWAP_PLACES places)
SWAP_BUDGET = 256
#: places whose books are considered for a swap, at least
SWAP_PLACES = 4


@njit(cache=True)
def cost_at(i, c, wt, loc):
    """Book i's part of S if it stood in place c (its partners where they are)."""
    D, indptr, indices, data, p = wt
    s = p[i] * D[0, c + 1]
    row = D[c + 1]
    for t in range(indptr[i], indptr[i + 1]):
        s += data[t] * row[loc[indices[t]] + 1]
    return s


@njit(cache=True)
def pull_place(i, wt, loc, around, ent_near):
    """The cheapest place for book i among those next to its own place, to the
    entrance and to its partners' places (a discrete weighted median)."""
    D, indptr, indices, data, p = wt
    a = loc[i]
    best, best_c = cost_at(i, a, wt, loc), a
    width = min(8, around.shape[1])
    for q in range(width):
        for c in (around[a, q], ent_near[q % len(ent_near)]):
            v = cost_at(i, c, wt, loc)
            if v < best:
                best, best_c = v, c
    step = max(1, (indptr[i + 1] - indptr[i]) // 16)
    for t in range(indptr[i], indptr[i + 1], step):
        b = loc[indices[t]]
        for q in range(min(4, around.shape[1])):
            c = around[b, q]
            v = cost_at(i, c, wt, loc)
            if v < best:
                best, best_c = v, c
    return best_c


@njit(cache=True)
def apply_move(i, b, j, loc, load, members, where):
    """Move book i to place b; with j >= 0 (a book of b), j goes to i's place."""
    a = loc[i]
    if j < 0:
        last = members[a, load[a] - 1]
        members[a, where[i]] = last
        where[last] = where[i]
        load[a] -= 1
        members[b, load[b]] = i
        where[i] = load[b]
        load[b] += 1
        loc[i] = b
    else:
        wi, wj = where[i], where[j]
        members[a, wi] = j
        members[b, wj] = i
        where[i], where[j] = wj, wi
        loc[i], loc[j] = b, a


@njit(cache=True)
def improve(i, k, wt, st, nb, stamp, mark, min_gain):
    """Apply book i's best improving move or swap among its candidates; the gain.

    Candidates: the ``k`` places nearest its pull place and the ``k/2`` nearest its
    own. Every candidate with a free slot is a move; swaps are priced with the
    books of the candidates in order of the move gain, all books of the best
    SWAP_PLACES places and then more places while SWAP_BUDGET books last.
    """
    D, indptr, indices, data, p = wt
    loc, load, cap, members, where = st
    around, ent_near = nb
    a = loc[i]
    cur = cost_at(i, a, wt, loc)
    pull = pull_place(i, wt, loc, around, ent_near)
    kk = min(k, around.shape[1])
    cands = np.empty(kk + max(2, kk // 2), dtype=np.int64)
    gains = np.empty(len(cands))
    n_c = 0
    best_gain, best_b, best_j = min_gain, -1, -1
    for src in range(2):
        base = pull if src == 0 else a
        width = kk if src == 0 else min(kk, max(2, kk // 2))
        for q in range(width):
            c = around[base, q]
            if c == a or mark[c] == stamp:
                continue
            mark[c] = stamp
            g = cur - cost_at(i, c, wt, loc)
            if load[c] < cap[c] and g > best_gain:
                best_gain, best_b, best_j = g, c, -1
            cands[n_c] = c
            gains[n_c] = g
            n_c += 1
    order = np.argsort(-gains[:n_c])
    used = 0
    for r in range(n_c):
        if r >= SWAP_PLACES and used >= SWAP_BUDGET:
            break
        c = cands[order[r]]
        gi = gains[order[r]]
        d_ac = D[a + 1, c + 1]
        for t in range(load[c]):
            j = members[c, t]
            gj = (cost_at(j, c, wt, loc)
                  - cost_at(j, a, wt, loc))
            g = gi + gj - 2.0 * weight(i, j, indptr, indices, data) * d_ac
            if g > best_gain:
                best_gain, best_b, best_j = g, c, j
        used += load[c]
    if best_b < 0:
        return 0.0
    apply_move(i, best_b, best_j, loc, load, members, where)
    return best_gain


@njit(cache=True)
def sweep(books, k, wt, st, nb, mark, stamp0, min_gain):
    """:func:`improve` for each of ``books`` in order; the total gain."""
    total = 0.0
    for q in range(len(books)):
        total += improve(books[q], k, wt, st, nb, stamp0 + q, mark, min_gain)
    return total


@njit(cache=True)
def move_delta(i, c, j, wt, loc):
    """Increase of S when book i moves to place c (and book j, if >= 0, of c to i's)."""
    D, indptr, indices, data, p = wt
    a = loc[i]
    d = (cost_at(i, c, wt, loc)
         - cost_at(i, a, wt, loc))
    if j >= 0:
        w = weight(i, j, indptr, indices, data)
        d += (cost_at(j, a, wt, loc)
              - cost_at(j, c, wt, loc)
              + w * (2.0 * D[a + 1, c + 1] - D[a + 1, a + 1] - D[c + 1, c + 1]))
    return d


@njit(cache=True)
def propose(books, near_k, st, around):
    """A random book, a place (uniform or among the ``near_k`` nearest its own) and the
    book it swaps with there (-1: a move into a free slot); place -1 when void."""
    loc, load, cap, members, where = st
    i = books[np.random.randint(len(books))]
    a = loc[i]
    if np.random.random() < 0.5:
        c = np.random.randint(len(load))
    else:
        c = around[a, np.random.randint(near_k)]
    if c == a or cap[c] == 0:
        return i, -1, -1
    if load[c] < cap[c]:
        return i, c, -1
    return i, c, members[c, np.random.randint(load[c])]


@njit(cache=True)
def uphill(books, tries, near_k, wt, st, around):
    """Median increase of S over ``tries`` random proposals that increase it."""
    loc = st[0]
    ups = np.empty(tries)
    n_up = 0
    for _ in range(tries):
        i, c, j = propose(books, near_k, st, around)
        if c < 0:
            continue
        d = move_delta(i, c, j, wt, loc)
        if d > 0:
            ups[n_up] = d
            n_up += 1
    if n_up == 0:
        return 0.0
    return np.median(ups[:n_up])


@njit(cache=True)
def anneal(schedule, books, near_k, wt, st, around, best_loc, scores):
    """``n_iter`` Metropolis steps from temperature T, cooled by ``ratio`` per step
    (``schedule = (n_iter, T, ratio)``); ``best_loc`` keeps the best assignment met;
    ``scores = (S, best_S, tol)``. Returns (S, best_S, T)."""
    n_iter, T, ratio = schedule
    S, best_S, tol = scores
    loc, load, cap, members, where = st
    for _ in range(n_iter):
        i, c, j = propose(books, near_k, st, around)
        if c >= 0:
            d = move_delta(i, c, j, wt, loc)
            if d <= 0.0 or np.random.random() < np.exp(-d / T):
                apply_move(i, c, j, loc, load, members, where)
                S += d
                if S < best_S - tol:
                    best_S = S
                    best_loc[:] = loc
        T *= ratio
    return S, best_S, T


@njit(cache=True)
def build_cost(books, wt, loc, C):
    """C[r, c]: book books[r]'s part of S if it stood in place c (D symmetric)."""
    D, indptr, indices, data, p = wt
    m = C.shape[1]
    for r in range(len(books)):
        i = books[r]
        for c in range(m):
            C[r, c] = p[i] * D[0, c + 1]
        for t in range(indptr[i], indptr[i + 1]):
            row = D[loc[indices[t]] + 1]
            w = data[t]
            for c in range(m):
                C[r, c] += w * row[c + 1]


@njit(cache=True)
def shift_cost(i, a, b, row_of, wt, C):
    """Book i moved from place a to b: its partners' rows of C follow."""
    D, indptr, indices, data, p = wt
    m = C.shape[1]
    ra, rb = D[a + 1], D[b + 1]
    for t in range(indptr[i], indptr[i + 1]):
        r = row_of[indices[t]]
        if r >= 0:
            w = data[t]
            for c in range(m):
                C[r, c] += w * (rb[c + 1] - ra[c + 1])


@njit(cache=True)
def tabu(steps, books, tab, wt, st, best_loc, scores):
    """Robust tabu search for one book per place (capacity 1): each step makes the
    best move or swap over all books and places, priced in O(1) from C; a swap is
    tabu when both books return to places they left within their tenure (drawn in
    [0.9, 1.1] x ``tenure``), unless it beats the best. ``steps = (n_iter, it0,
    tenure)``, ``tab = (row_of, Wd, C, until)``, ``scores = (S, best_S, tol)``.
    Returns (S, best_S)."""
    n_iter, it0, tenure = steps
    row_of, Wd, C, until = tab
    S, best_S, tol = scores
    D, indptr, indices, data, p = wt
    loc, load, cap, members, where = st
    m, nb = C.shape[1], len(books)
    lo, hi = max(1, int(0.9 * tenure)), max(2, int(1.1 * tenure) + 1)
    for it in range(it0, it0 + n_iter):
        best_d, bi, bc, bj, ties = np.inf, -1, -1, -1, 0
        for r in range(nb):
            i = books[r]
            a = loc[i]
            for c in range(m):
                if c == a or cap[c] == 0:
                    continue
                j, rj = -1, -1
                d = C[r, c] - C[r, a]
                banned = until[r, c] > it
                if load[c] > 0:
                    j = members[c, 0]
                    rj = row_of[j]
                    if rj < r:
                        continue
                    d += (C[rj, a] - C[rj, c]
                          + Wd[r, rj] * (2.0 * D[a + 1, c + 1] - D[a + 1, a + 1]
                                         - D[c + 1, c + 1]))
                    banned = banned and until[rj, a] > it
                if banned and S + d >= best_S - tol:
                    continue
                if d < best_d - tol:
                    best_d, bi, bc, bj, ties = d, i, c, j, 1
                elif d <= best_d + tol:
                    ties += 1
                    if np.random.randint(ties) == 0:
                        bi, bc, bj = i, c, j
        if bi < 0:
            continue
        a = loc[bi]
        apply_move(bi, bc, bj, loc, load, members, where)
        until[row_of[bi], a] = it + np.random.randint(lo, hi)
        shift_cost(bi, a, bc, row_of, wt, C)
        if bj >= 0:
            until[row_of[bj], bc] = it + np.random.randint(lo, hi)
            shift_cost(bj, bc, a, row_of, wt, C)
        S += best_d
        if S < best_S - tol:
            best_S = S
            best_loc[:] = loc
    return S, best_S
