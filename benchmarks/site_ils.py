"""The stronger peer of issue 13: an iterated local search over lattice sites.

What a user could build from numpy and scipy alone, as issue 13 describes it:

- a pool of about ``1.3 n`` lattice sites nearest the entrance (``hall.sites()``,
  a close packing at ``d_min``, so every placement is feasible by construction);
- moves: swap two books, or move a book to an empty site, with exact incremental
  deltas from the sparse pair weights (``problem.I, J, W``) and the entrance
  weights ``problem.p``;
- candidates for a book: the occupants of (and the empty sites among) the ``k``
  pool sites nearest its weighted geometric median (partners and the entrance,
  Weiszfeld iterations) and the ``k/2`` sites nearest the book itself; ``k``
  doubles from 16 to 512 whenever a sweep over all books stalls;
- once converged, random kicks (a few neighbouring books shuffled, then a local
  search on them), kept only when they improve S;
- started from the best of the baselines random / popularity / callnumber
  (``shelfplan.api.baseline``).

The candidate evaluation of one book is vectorised: all its candidate sites
against all its partners in one ``cdist``, and the swap partners' side as one
gather over their partner lists. A ``cKDTree`` over the pool answers the
nearest-``k`` queries. The time limit is checked before every book.

    from site_ils import peer_fit
    X, info = peer_fit("loans.csv", hall, time_limit=30, seed=0)
"""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist

from shelfplan.api import baseline, load_problem
from shelfplan.ingest.loans import Loans, read_loans
from shelfplan.model.objective import walking_cost
from shelfplan.model.problem import Problem

__all__ = ["peer_fit", "site_ils", "pool_sites"]

BASELINES = ("random", "popularity", "callnumber")
K_START, K_MAX = 16, 512
#: a sweep "stalls" when it lowers S by less than this fraction
STALL = 1e-4
#: books shuffled by one kick (the occupants of this many neighbouring sites)
KICK_SITES = (4, 10)
KICK_K = 32
WEISZFELD_ITERS = 8
CHUNK = 64


def pool_sites(problem: Problem, factor: float = 1.3) -> np.ndarray:
    """The ``ceil(factor * n)`` lattice sites nearest the entrance, nearest first
    (ties broken by x, y, z, as the baselines do)."""
    hall = problem.hall
    sites = hall.sites()
    m = min(len(sites), max(problem.n, int(math.ceil(factor * problem.n))))
    d = np.linalg.norm(sites - hall.entrance, axis=1)
    order = np.lexsort((sites[:, 2], sites[:, 1], sites[:, 0], d))[:m]
    return sites[order]


def _norm(d: np.ndarray) -> np.ndarray:
    """Row norms of an (r, 3) array (faster than np.linalg.norm on small arrays)."""
    return np.sqrt(np.einsum("ij,ij->i", d, d))


def _gather(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat CSR positions of the entries of ``rows`` and the row (0..len-1) of each."""
    starts = indptr[rows]
    lens = indptr[rows + 1] - starts
    seg = np.repeat(np.arange(len(rows)), lens)
    offs = np.cumsum(lens) - lens
    flat = np.arange(int(lens.sum())) - np.repeat(offs - starts, lens)
    return flat, seg


class _State:
    """Books on pool sites, with every book's own cost c_i = p_i |x_i - e| +
    sum_j w_ij |x_i - x_j| kept up to date, and S."""

    def __init__(self, problem: Problem, P: np.ndarray, site: np.ndarray):
        n, m = problem.n, len(P)
        A = sp.coo_matrix((problem.W, (problem.I, problem.J)), shape=(n, n))
        A = (A + A.T).tocsr()
        A.sum_duplicates()
        self.indptr, self.nbr, self.wts = A.indptr, A.indices, A.data
        self.p, self.e, self.P, self.n = problem.p.astype(float), problem.hall.entrance, P, n
        self.site = site.astype(np.int64).copy()
        self.occ = np.full(m, -1, dtype=np.int64)
        self.occ[self.site] = np.arange(n)
        self.X = P[self.site].copy()
        self.scratch = np.zeros(n)          # w_ij of the book being moved, by j
        rows = np.repeat(np.arange(n), np.diff(self.indptr))
        dist = np.linalg.norm(self.X[rows] - self.X[self.nbr], axis=1)
        ent = self.p * np.linalg.norm(self.X - self.e, axis=1)
        self.cur = ent + np.bincount(rows, self.wts * dist, minlength=n)
        self.S = float(ent.sum() + 0.5 * (self.wts * dist).sum())

    def partners(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = self.indptr[i], self.indptr[i + 1]
        return self.nbr[a:b], self.wts[a:b]

    def place(self, i: int, s: int) -> None:
        """Put book i on site s (the caller keeps ``occ`` of i's old site right)."""
        nb, w = self.partners(i)
        new = self.P[s]
        Xn = self.X[nb]
        dn = _norm(Xn - new)
        self.cur[nb] += w * (dn - _norm(Xn - self.X[i]))
        self.X[i] = new
        self.site[i] = s
        self.occ[s] = i
        self.cur[i] = self.p[i] * math.dist(new, self.e) + w @ dn

    def apply(self, i: int, t: int, delta: float) -> None:
        """Move book i to site t, swapping with its occupant if there is one."""
        a, j = int(self.site[i]), int(self.occ[t])
        self.place(i, t)
        if j >= 0:
            self.place(j, a)
        else:
            self.occ[a] = -1
        self.S += delta

    def best_move(self, i: int, cand: np.ndarray) -> tuple[float, int]:
        """The best of moving book i to each candidate site (swap when occupied):
        (delta S, site); exact."""
        a = int(self.site[i])
        cand = cand[cand != a]
        if len(cand) == 0:
            return 0.0, -1
        nb, w = self.partners(i)
        Pc = self.P[cand]
        ci = self.p[i] * _norm(Pc - self.e)
        if len(nb):
            ci += cdist(Pc, self.X[nb]) @ w
        delta = ci - self.cur[i]
        occ = self.occ[cand]
        full = np.nonzero(occ >= 0)[0]
        if len(full):
            J = occ[full]
            flat, seg = _gather(self.indptr, J)
            Pa = self.P[a]
            dj = self.wts[flat] * _norm(self.X[self.nbr[flat]] - Pa)
            cj = self.p[J] * math.dist(Pa, self.e) + np.bincount(seg, dj, minlength=len(J))
            self.scratch[nb] = w
            wij = self.scratch[J]
            self.scratch[nb] = 0.0
            # i sits at a while c_j(a) is taken and j at t while c_i(t) is: each
            # side counts the pair {i, j} at distance 0 instead of |a - t|
            dat = _norm(Pc[full] - Pa)
            delta[full] += cj - self.cur[J] + 2.0 * wij * dat
        k = int(np.argmin(delta))
        return float(delta[k]), int(cand[k])

    def medians(self, books: np.ndarray) -> np.ndarray:
        """Weighted geometric medians (Weiszfeld) of each book's partners and the
        entrance (weights w_ij and p_i); a book with no weight keeps its place."""
        flat, seg = _gather(self.indptr, books)
        nb = len(books)
        Y = np.vstack([self.X[self.nbr[flat]], np.repeat(self.e[None, :], nb, axis=0)])
        wy = np.concatenate([self.wts[flat], self.p[books]])
        sg = np.concatenate([seg, np.arange(nb)])
        tot = np.bincount(sg, wy, minlength=nb)
        c = np.column_stack([np.bincount(sg, wy * Y[:, d], minlength=nb) for d in range(3)])
        ok = tot > 0
        c[ok] /= tot[ok, None]
        c[~ok] = self.X[books[~ok]]
        for _ in range(WEISZFELD_ITERS):
            q = wy / np.maximum(_norm(Y - c[sg]), 1e-9)
            den = np.bincount(sg, q, minlength=nb)
            num = np.column_stack([np.bincount(sg, q * Y[:, d], minlength=nb) for d in range(3)])
            c[ok] = num[ok] / den[ok, None]
        return c


def _improve(st: _State, tree: cKDTree, books: np.ndarray, k: int, deadline: float,
             eps: float) -> tuple[int, bool]:
    """One pass over ``books`` (in that order): each takes its best improving move
    among its candidates. Returns (moves made, ran out of time)."""
    m = len(st.P)
    kg, ks = min(k, m), min(max(k // 2, 1), m)
    moves = 0
    for c0 in range(0, len(books), CHUNK):
        chunk = books[c0:c0 + CHUNK]
        G = st.medians(chunk)
        _, near_g = tree.query(G, kg)
        _, near_s = tree.query(st.P[st.site[chunk]], ks)
        near_g, near_s = near_g.reshape(len(chunk), -1), near_s.reshape(len(chunk), -1)
        for r, i in enumerate(chunk):
            if time.monotonic() > deadline:
                return moves, True
            cand = np.concatenate([near_g[r], near_s[r]])   # repeats are harmless
            delta, t = st.best_move(int(i), cand)
            if t >= 0 and delta < -eps:
                st.apply(int(i), t, delta)
                moves += 1
    return moves, False


def _kick(st: _State, tree: cKDTree, rng: np.random.Generator, deadline: float,
          eps: float) -> bool:
    """Shuffle the books on a few neighbouring sites, re-optimise them; keep the
    result only when S went down. Returns True when kept."""
    saved = (st.site.copy(), st.occ.copy(), st.X.copy(), st.cur.copy(), st.S)
    i = int(rng.integers(st.n))
    _, near = tree.query(st.P[st.site[i]], int(rng.integers(*KICK_SITES, endpoint=True)))
    near = np.atleast_1d(near)
    books = st.occ[near]
    books = books[books >= 0]
    if len(books) < 2:
        return False
    for b, s in zip(rng.permutation(books), rng.permutation(near)[:len(books)]):
        # relocate one by one through exact deltas (swaps/moves), so S stays exact
        if st.site[b] != s:
            delta, _ = st.best_move(int(b), np.array([s]))
            st.apply(int(b), int(s), delta)
    for _ in range(4):
        moved, out = _improve(st, tree, rng.permutation(books), KICK_K, deadline, eps)
        if moved == 0 or out:
            break
    if st.S < saved[4] - eps:
        return True
    st.site, st.occ, st.X, st.cur, st.S = saved
    return False


def site_ils(problem: Problem, start: np.ndarray, *, time_limit: float, seed: int = 0,
             pool_factor: float = 1.3, deadline: float | None = None) -> tuple[np.ndarray, dict]:
    """Improve ``start`` (positions on pool sites) until ``time_limit`` seconds pass
    (or ``deadline``, a ``time.monotonic()`` value). Returns (positions, info)."""
    t0 = time.monotonic()
    deadline = t0 + time_limit if deadline is None else deadline
    rng = np.random.default_rng(seed)
    P = pool_sites(problem, pool_factor)
    tree = cKDTree(P)
    dist, site = tree.query(start, 1)
    if len(np.unique(site)) != problem.n or dist.max() > 1e-4:
        raise ValueError("start must put every book on its own pool site")
    st = _State(problem, P, site)
    S0 = st.S
    eps = 1e-12 * max(S0, 1.0)
    k, sweeps, stalls, out = K_START, 0, 0, False
    converged_at = None
    history = [(round(time.monotonic() - t0, 3), S0)]   # (seconds, S) after each sweep, kept kick
    while not out and converged_at is None:
        before = st.S
        _, out = _improve(st, tree, rng.permutation(problem.n), k, deadline, eps)
        sweeps += 1
        history.append((round(time.monotonic() - t0, 3), st.S))
        if before - st.S < STALL * before:
            if k >= K_MAX:
                converged_at = time.monotonic() - t0
            k *= 2
    kicks = kept = 0
    while time.monotonic() < deadline:
        kicks += 1
        if _kick(st, tree, rng, deadline, eps):
            kept += 1
            history.append((round(time.monotonic() - t0, 3), st.S))
    X = st.X.copy()
    S = walking_cost(X, problem)["total"]
    if not math.isclose(S, st.S, rel_tol=1e-6):
        raise AssertionError(f"tracked S {st.S} differs from walking_cost {S}")
    info = {"pool": len(P), "sweeps": sweeps, "k_final": min(k, K_MAX), "S_start": S0,
            "S": S, "converged_after_s": converged_at, "kicks": kicks, "kicks_kept": kept,
            "seconds": round(time.monotonic() - t0, 3), "history": history}
    return X, info


def peer_fit(loans, hall, *, time_limit: float, seed: int = 0) -> tuple[np.ndarray, dict]:
    """The whole peer as a user would run it: read the loans, build the problem,
    take the best baseline, improve it with :func:`site_ils`. ``time_limit``
    covers all of it (reading included, as for ``shelfplan.api.fit``)."""
    t0 = time.monotonic()
    if not isinstance(loans, Loans):
        loans = read_loans(loans)
    _, problem = load_problem(loans, hall)
    starts = {name: baseline(name, loans, problem.hall, seed=seed) for name in BASELINES}
    best = min(starts, key=lambda name: starts[name].objective["total"])
    setup = time.monotonic() - t0
    X, info = site_ils(problem, starts[best].positions, seed=seed, time_limit=0.0,
                       deadline=t0 + time_limit)
    info["history"] = [(round(t + setup, 3), S) for t, S in info["history"]]
    info.update(start=best, setup_s=round(setup, 3),
                baseline_S={name: starts[name].objective["total"] for name in BASELINES},
                wall_s=round(time.monotonic() - t0, 3))
    return X, info
