"""The compiled moves of the site search (:mod:`shelfplan.solve.ils`), numba.

Sequential local search (each move changes the prices of the next) cannot be
vectorised; these loops run compiled.

The state is one tuple ``st = (P, e, p, ptr, nbr, wts, site, occ, cur, wbuf, tot)``
(:meth:`SiteSearch.state`), passed whole to every function:

* ``P`` (m, 3) slot coordinates, ``e`` (3,) the entrance;
* ``p`` (n,) entrance weights; ``ptr, nbr, wts``: the symmetric CSR pair weights;
* ``site`` (n,) slot of each book, ``occ`` (m,) book on each slot (-1: free);
* ``cur`` (n,) each book's own cost ``p_i |x_i - e| + sum_j w_ij |x_i - x_j|``
  (a pair is in both books' costs, so S = sum p d + sum cur-pair-halves);
* ``wbuf`` (n,) zeros: w_ij of the book being priced, by j (reset after use);
* ``tot`` (n,) each book's total weight ``p_i + sum_j w_ij`` (its cost's Lipschitz
  constant: a bound that skips hopeless swaps).

Every delta is exact. A move of book ``i`` to slot ``t`` swaps with ``t``'s
occupant when there is one.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from shelfplan.solve.kernel_common import clear_row, scatter_row, seed_rng  # noqa: F401

MIN_DELTA = 1e-12


@njit(cache=True, inline="always")
def _d(P, s, x0, x1, x2):
    a = P[s, 0] - x0
    b = P[s, 1] - x1
    c = P[s, 2] - x2
    return np.sqrt(a * a + b * b + c * c)


@njit(cache=True)
def cost_at(st, i, t):
    """Book i's own cost were it on slot t (its partners where they are)."""
    P, e, p, ptr, nbr, wts, site, occ, cur, wbuf, tot = st
    out = p[i] * _d(P, t, e[0], e[1], e[2])
    for q in range(ptr[i], ptr[i + 1]):
        s = site[nbr[q]]
        out += wts[q] * _d(P, t, P[s, 0], P[s, 1], P[s, 2])
    return out


@njit(cache=True)
def move_delta(st, i, t):
    """S(after) - S(before) for book i to slot t (``wbuf`` holds i's weights)."""
    P, e, p, ptr, nbr, wts, site, occ, cur, wbuf, tot = st
    a = site[i]
    if t == a:
        return 0.0
    delta = cost_at(st, i, t) - cur[i]
    j = occ[t]
    if j >= 0:
        delta += cost_at(st, j, a) - cur[j]
        # each side priced the pair {i, j} at distance 0 instead of |a - t|
        delta += 2.0 * wbuf[j] * _d(P, a, P[t, 0], P[t, 1], P[t, 2])
    return delta


@njit(cache=True)
def _place(st, i, s):
    P, e, p, ptr, nbr, wts, site, occ, cur, wbuf, tot = st
    old = site[i]
    for q in range(ptr[i], ptr[i + 1]):
        k = nbr[q]
        u = site[k]
        x0, x1, x2 = P[u, 0], P[u, 1], P[u, 2]
        cur[k] += wts[q] * (_d(P, s, x0, x1, x2) - _d(P, old, x0, x1, x2))
    site[i] = s
    occ[s] = i
    cur[i] = cost_at(st, i, s)


@njit(cache=True)
def apply_move(st, i, t):
    """Book i to slot t, swapping with its occupant if any."""
    P, e, p, ptr, nbr, wts, site, occ, cur, wbuf, tot = st
    a = site[i]
    j = occ[t]
    _place(st, i, t)
    if j >= 0:
        _place(st, j, a)
    else:
        occ[a] = -1


@njit(cache=True)
def priced_move(st, i, t):
    """:func:`move_delta` with i's weights scattered into ``wbuf`` and cleared after."""
    P, e, p, ptr, nbr, wts, site, occ, cur, wbuf, tot = st
    scatter_row(i, ptr, nbr, wts, wbuf)
    dl = move_delta(st, i, t)
    clear_row(i, ptr, nbr, wbuf)
    return dl


@njit(cache=True)
def _best(st, i, cand1, k1, cand2, k2):
    P, e, p, ptr, nbr, wts, site, occ, cur, wbuf, tot = st
    scatter_row(i, ptr, nbr, wts, wbuf)
    best, arg = 0.0, -1
    a = site[i]
    for r in range(k1 + k2):
        t = cand1[r] if r < k1 else cand2[r - k1]
        if t == a:
            continue
        dl = cost_at(st, i, t) - cur[i]
        j = occ[t]
        if j >= 0:
            dat = _d(P, a, P[t, 0], P[t, 1], P[t, 2])
            # j's side is at least -tot[j] |a - t| (triangle inequality): skip hopeless swaps
            if dl - tot[j] * dat >= best:
                continue
            dl += cost_at(st, j, a) - cur[j] + 2.0 * wbuf[j] * dat
        if dl < best:
            best, arg = dl, t
    clear_row(i, ptr, nbr, wbuf)
    return best, arg


@njit(cache=True)
def _mark(ptr, nbr, mark, i):
    mark[i] = True
    for q in range(ptr[i], ptr[i + 1]):
        mark[nbr[q]] = True


@njit(cache=True)
def sweep(st, knn, books, gslot, k, eps, mark):
    """Each of ``books`` in turn takes its best improving move among the ``k``
    slots nearest ``gslot`` (the slot nearest its pull point) and the ``k/2``
    nearest its own slot. A moved book, the book it swapped with and their
    partners are marked in ``mark`` (their prices changed). Returns (moves,
    total delta)."""
    P, e, p, ptr, nbr, wts, site, occ, cur, wbuf, tot = st
    k2 = max(k // 2, 1)
    moves, total = 0, 0.0
    for r in range(len(books)):
        i = books[r]
        best, t = _best(st, i,
                        knn[gslot[r]], k, knn[site[i]], k2)
        if t >= 0 and best < -eps:
            j = occ[t]
            apply_move(st, i, t)
            _mark(ptr, nbr, mark, i)
            if j >= 0:
                _mark(ptr, nbr, mark, j)
            moves += 1
            total += best
    return moves, total


@njit(cache=True)
def medians(st, books, iters):
    """Weighted geometric medians (Weiszfeld) of each book's partners and the
    entrance; a book with no weight keeps its slot's point."""
    P, e, p, ptr, nbr, wts, site, occ, cur, wbuf, tot = st
    out = np.empty((len(books), 3))
    for r in range(len(books)):
        i = books[r]
        tot = p[i]
        c = p[i] * e.copy()
        for q in range(ptr[i], ptr[i + 1]):
            tot += wts[q]
            c += wts[q] * P[site[nbr[q]]]
        if tot <= 0:
            out[r] = P[site[i]]
            continue
        c /= tot
        for _ in range(iters):
            de = c - e
            w0 = p[i] / max(np.sqrt(de @ de), 1e-9)
            num = w0 * e.copy()
            den = w0
            for q in range(ptr[i], ptr[i + 1]):
                x = P[site[nbr[q]]]
                dx = c - x
                w = wts[q] / max(np.sqrt(dx @ dx), 1e-9)
                num += w * x
                den += w
            c = num / den
        out[r] = c
    return out


@njit(cache=True)
def pull_slot(st, knn, i, iters):
    """The slot nearest book i's pull point (its weighted geometric median, found
    by ``iters`` Weiszfeld steps), by a greedy walk over the slot graph ``knn``
    from i's own slot."""
    P, e, p, ptr, nbr, wts, site, occ, cur, wbuf, tot = st
    tot = p[i]
    c0, c1, c2 = p[i] * e[0], p[i] * e[1], p[i] * e[2]
    for q in range(ptr[i], ptr[i + 1]):
        s = site[nbr[q]]
        tot += wts[q]
        c0 += wts[q] * P[s, 0]
        c1 += wts[q] * P[s, 1]
        c2 += wts[q] * P[s, 2]
    s = site[i]
    if tot <= 0:
        return s
    c0, c1, c2 = c0 / tot, c1 / tot, c2 / tot
    for _ in range(iters):
        w = p[i] / max(np.sqrt((c0 - e[0]) ** 2 + (c1 - e[1]) ** 2 + (c2 - e[2]) ** 2), 1e-9)
        den, n0, n1, n2 = w, w * e[0], w * e[1], w * e[2]
        for q in range(ptr[i], ptr[i + 1]):
            u = site[nbr[q]]
            w = wts[q] / max(_d(P, u, c0, c1, c2), 1e-9)
            den += w
            n0 += w * P[u, 0]
            n1 += w * P[u, 1]
            n2 += w * P[u, 2]
        c0, c1, c2 = n0 / den, n1 / den, n2 / den
    width = min(13, knn.shape[1])
    best = _d(P, s, c0, c1, c2)
    while True:
        nxt = s
        for r in range(1, width):
            t = knn[s, r]
            dt = _d(P, t, c0, c1, c2)
            if dt < best:
                best, nxt = dt, t
        if nxt == s:
            return s
        s = nxt


@njit(cache=True)
def _pick(cum):
    """An index drawn with probabilities proportional to the increments of ``cum``."""
    u = np.random.random() * cum[-1]
    return min(np.searchsorted(cum, u, side="right"), len(cum) - 1)


@njit(cache=True)
def kicks(st, knn, count, kk, smin, smax,
          target, eps, pull):
    """``count`` kicks: the books on ``smin..smax`` slots around a centre book are
    shuffled, then re-optimised (up to 4 passes, candidates the ``kk`` slots
    nearest each book's pull point and the ``kk/2`` nearest its own slot); kept
    only when S drops.
    The centre is, with probability ``target``, drawn by its own cost (the
    worst books most often), else uniformly. Returns (kept, total delta)."""
    P, e, p, ptr, nbr, wts, site, occ, cur, wbuf, tot = st
    n = len(site)
    log_i = np.empty(64 * (smax + 1) * 8, dtype=np.int64)
    log_s = np.empty_like(log_i)
    books = np.empty(8 * (smax + 1) * 8, dtype=np.int64)
    kept, gain = 0, 0.0
    cum = np.cumsum(cur)          # the centre's odds, fixed for the batch
    for _ in range(count):
        c = _pick(cum) if np.random.random() < target else np.random.randint(n)
        size = np.random.randint(smin, smax + 1)
        region = knn[site[c], :size]
        nb, nl, delta = 0, 0, 0.0
        for r in range(size):
            if occ[region[r]] >= 0:
                books[nb] = occ[region[r]]
                nb += 1
        if nb < 2:
            continue
        perm = np.random.permutation(size)
        for r in range(nb):
            i = books[r]
            t = region[perm[r]]
            if site[i] == t:
                continue
            dl = priced_move(st, i, t)
            log_i[nl], log_s[nl] = i, site[i]
            nl += 1
            apply_move(st, i, t)
            delta += dl
        for _ in range(4):
            moved = 0
            for r in range(nb):
                i = books[r]
                g = pull_slot(st, knn, i, 4) if pull else site[i]
                best, t = _best(st, i,
                                knn[g], kk, knn[site[i]], kk // 2)
                if t >= 0 and best < -eps and nl < len(log_i):
                    log_i[nl], log_s[nl] = i, site[i]
                    nl += 1
                    j = occ[t]
                    apply_move(st, i, t)
                    delta += best
                    moved += 1
                    if j >= 0 and nb < len(books):
                        books[nb] = j
                        nb += 1
            if moved == 0:
                break
        if delta < -eps:
            kept += 1
            gain += delta
        else:
            for r in range(nl - 1, -1, -1):
                apply_move(st, log_i[r], log_s[r])
    return kept, gain


@njit(cache=True)
def anneal(st, knn, count, kk, temp, local):
    """``count`` Metropolis steps at temperature ``temp``: a random book to a random
    slot among the ``kk`` nearest its own (with probability ``local``) or among the
    ``kk`` nearest a random partner's slot, swapping with the occupant; a step that
    raises S by ``d`` is taken with probability ``exp(-d / temp)``. Returns (steps
    taken, total delta)."""
    P, e, p, ptr, nbr, wts, site, occ, cur, wbuf, tot = st
    n = len(site)
    taken, gain = 0, 0.0
    for _ in range(count):
        i = np.random.randint(n)
        a = site[i]
        deg = ptr[i + 1] - ptr[i]
        if deg == 0 or np.random.random() < local:
            t = knn[a, 1 + np.random.randint(kk)]
        else:
            t = knn[site[nbr[ptr[i] + np.random.randint(deg)]], np.random.randint(kk)]
        if t == a:
            continue
        dl = priced_move(st, i, t)
        if dl < 0.0 or np.random.random() < np.exp(-dl / temp):
            apply_move(st, i, t)
            taken += 1
            gain += dl
    return taken, gain
