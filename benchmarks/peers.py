"""Peers of ``shelfplan fit`` that a user could assemble from public tools.

Every peer returns an ``(n, 3)`` array of positions on the hall's lattice sites
(``hall.sites()``, a hexagonal close packing at ``d_min``), so every result is
feasible by construction; the benchmark still checks it with
``shelfplan.model.objective.is_feasible`` and scores it with
``shelfplan.model.objective.walking_cost``.

1. :func:`qap_faq` -- the layout as a quadratic assignment problem solved by
   ``scipy.optimize.quadratic_assignment(method="faq")``: dense ``m x m``
   matrices, so only for a few hundred to about a thousand items.
2. :func:`spring_snap` -- ``networkx.spring_layout`` in 3D on the co-borrow
   graph, aligned to the hall (popular region at the entrance) and snapped to
   the nearest lattice sites by ``scipy.optimize.linear_sum_assignment``
   (greedy nearest free site for large ``n``).
3. :func:`swap_local_search` -- iterated local search over lattice sites from
   the popularity layout: swaps of two books and moves of a book to an empty
   site among the ``1.5 n`` sites nearest the entrance, exact sparse deltas,
   best move per book first, don't-look bits, and localised kicks when it
   converges before its time is up.

All randomness comes in as a seed; numpy's global state is never touched.
"""

from __future__ import annotations

import math
import time

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment, quadratic_assignment
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist

from shelfplan.model.objective import walking_cost
from shelfplan.model.problem import Problem
from shelfplan.solve.starts import nearest_sites

__all__ = ["qap_faq", "spring_snap", "swap_local_search", "PEERS"]

PEERS = ("qap-faq", "spring+snap", "swap-LS")


def _adjacency(problem: Problem) -> sp.csr_matrix:
    """Symmetric sparse pair weights: entry (i, j) = W for the pair {i, j}."""
    n = problem.n
    W = sp.coo_matrix((problem.W, (problem.I, problem.J)), shape=(n, n))
    return (W + W.T).tocsr()


def _popularity_order(problem: Problem) -> np.ndarray:
    """Items, most borrowed first (ties by index), as the popularity baseline does."""
    return np.lexsort((np.arange(problem.n), -problem.p))


# ---------------------------------------------------------------------------
# 1. quadratic assignment (scipy FAQ)


def qap_matrices(problem: Problem, sites: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flow ``F`` and distance ``D`` (both ``(m+1) x (m+1)``) whose QAP cost is S.

    Facility 0 is a dummy "entrance" fixed at location 0 (the entrance point
    ``e``); facilities ``1..n`` are the items, ``n+1..m`` zero-weight padding.
    ``F[0, i] = F[i, 0] = p(i) / 2`` and ``F[i, j] = F[j, i] = W_ij / 2``, so
    ``sum_ab F[a, b] D[perm a, perm b] = sum_i p(i) ||v_i - e|| +
    sum_k W_k ||v_I - v_J||``, which is S exactly.
    """
    n, m = problem.n, len(sites)
    F = np.zeros((m + 1, m + 1))
    F[0, 1:n + 1] = F[1:n + 1, 0] = problem.p / 2.0
    F[problem.I + 1, problem.J + 1] = problem.W / 2.0
    F[problem.J + 1, problem.I + 1] = problem.W / 2.0
    loc = np.vstack([problem.hall.entrance[None, :], sites])
    D = cdist(loc, loc)
    return F, D


def qap_faq(problem: Problem, *, time_budget: float, seed: int = 0, site_factor: float = 1.5,
            maxiter: int = 100, tol: float = 0.005, start_time: float | None = None,
            ) -> tuple[np.ndarray, dict]:
    """Best of FAQ runs: from the popularity layout, the barycentre, then random starts.

    Random restarts begin while fewer than ``time_budget`` seconds have passed
    since ``start_time`` (the first two runs always complete, so the budget
    can be overrun by up to one run). Returns (positions, info).
    """
    t0 = time.monotonic() if start_time is None else start_time
    n = problem.n
    m = min(len(problem.hall.sites()), max(n, int(math.ceil(site_factor * n))))
    sites = nearest_sites(problem, m)
    F, D = qap_matrices(problem, sites)
    seed_match = np.array([[0, 0]])
    # popularity start as a permutation matrix over the free facilities/locations
    # (facility 1 + item -> location 1 + site; padding fills the far sites)
    perm = np.empty(m, dtype=int)
    perm[_popularity_order(problem)] = np.arange(n)
    perm[n:] = np.arange(n, m)
    P_pop = np.zeros((m, m))
    P_pop[np.arange(m), perm] = 1.0
    rng = np.random.default_rng(seed)
    starts = [("popularity", P_pop), ("barycenter", "barycenter")]
    best = {"fun": np.inf}
    runs = []
    k = 0
    while True:
        if k < len(starts):
            name, P0 = starts[k]
        else:
            name, P0 = f"random {k - len(starts) + 1}", "randomized"
        if k >= len(starts) and time.monotonic() - t0 > time_budget:
            break
        res = quadratic_assignment(F, D, method="faq", options={
            "partial_match": seed_match, "P0": P0, "rng": rng, "maxiter": maxiter,
            "tol": tol})
        runs.append({"start": name, "fun": float(res.fun), "nit": int(res.nit)})
        if res.fun < best["fun"]:
            best = {"fun": float(res.fun), "col_ind": res.col_ind.copy(), "start": name}
        k += 1
    col = best["col_ind"]
    if col[0] != 0:
        raise AssertionError("FAQ moved the fixed entrance facility")
    X = sites[col[1:n + 1] - 1]
    S = walking_cost(X, problem)["total"]
    if not math.isclose(S, best["fun"], rel_tol=1e-9, abs_tol=1e-12):
        raise AssertionError(f"QAP objective {best['fun']} differs from S {S}")
    info = {"sites": m, "qap_size": m + 1, "runs": len(runs), "best_start": best["start"],
            "run_S": [r["fun"] for r in runs]}
    return X, info


# ---------------------------------------------------------------------------
# 2. networkx spring layout snapped to lattice sites


def _weighted_median(Y: np.ndarray, w: np.ndarray, iters: int = 100) -> np.ndarray:
    """Weiszfeld's geometric median of rows of Y with weights w."""
    c = (w @ Y) / w.sum()
    for _ in range(iters):
        d = np.maximum(np.linalg.norm(Y - c, axis=1), 1e-12)
        c_new = ((w / d) @ Y) / (w / d).sum()
        if np.linalg.norm(c_new - c) < 1e-10:
            break
        c = c_new
    return c


def _random_rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((3, 3)))
    q *= np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] *= -1
    return q


def _snap(Z: np.ndarray, sites: np.ndarray, lsa_max_n: int) -> np.ndarray:
    """Assign row i of Z to a distinct site (min total squared distance, or greedy)."""
    n = len(Z)
    if n <= lsa_max_n:
        C = cdist(Z, sites, "sqeuclidean")
        rows, cols = linear_sum_assignment(C)
        out = np.empty(n, dtype=int)
        out[rows] = cols
        return out
    # greedy: points nearest their best site first take it, others the nearest free one
    tree = cKDTree(sites)
    k0 = min(16, len(sites))
    d, cand = tree.query(Z, k=k0)
    cand = cand.reshape(n, -1)
    taken = np.zeros(len(sites), dtype=bool)
    out = np.empty(n, dtype=int)
    for i in np.argsort(d.reshape(n, -1)[:, 0], kind="stable"):
        for c in cand[i]:
            if not taken[c]:
                break
        else:  # all k0 nearest taken: widen the search for this point
            k = k0
            while True:
                k = min(4 * k, len(sites))
                _, cc = tree.query(Z[i], k=k)
                free = np.atleast_1d(cc)[~taken[np.atleast_1d(cc)]]
                if len(free):
                    c = free[0]
                    break
        out[i] = c
        taken[c] = True
    return out


def spring_snap(problem: Problem, *, seed: int = 0, iterations: int = 50, rotations: int = 8,
                scales=(0.25, 0.35, 0.5, 0.7, 1.0, 1.4), lsa_max_n: int = 2000) -> tuple[np.ndarray, dict]:
    """3D spring layout of the co-borrow graph, aligned to the hall, snapped to sites.

    * ``networkx.spring_layout(dim=3, weight="weight", seed=seed)`` on the
      graph with edge weights ``W / mean(W)`` (raw probabilities are ~1e-4 and
      would leave the attraction negligible against the repulsion).
    * Anchor: the p-weighted geometric median of the embedding (where the
      entrance term would be smallest) goes to the entrance.
    * Scale so the embedding's RMS distance from the anchor matches that of
      the ``n`` sites nearest the entrance; the half behind the entrance wall
      is mirrored into the hall.
    * Snap to the ``n`` nearest sites by ``linear_sum_assignment`` on squared
      distances (greedy nearest free site above ``lsa_max_n`` items).
    * Also a "shells" variant: keep each item's direction from the entrance
      but put the k-th most borrowed item at the k-th nearest site's distance.
    * Try ``rotations`` orientations x (``scales`` + shells); keep the lowest S.
    """
    n = problem.n
    hall = problem.hall
    e = hall.entrance
    sites = nearest_sites(problem, n)
    G = nx.Graph()
    G.add_nodes_from(range(n))
    wmean = float(problem.W.mean()) if len(problem.W) else 1.0
    G.add_weighted_edges_from(zip(problem.I.tolist(), problem.J.tolist(),
                                  (problem.W / wmean).tolist()))
    t0 = time.monotonic()
    pos = nx.spring_layout(G, dim=3, weight="weight", seed=seed, iterations=iterations)
    t_layout = time.monotonic() - t0
    Y = np.array([pos[i] for i in range(n)], dtype=float)
    c = _weighted_median(Y, problem.p + 1e-12)
    Y = Y - c
    rms_Y = math.sqrt(float(np.mean(np.einsum("ij,ij->i", Y, Y)))) or 1.0
    rms_S = math.sqrt(float(np.mean(np.sum((sites - e) ** 2, axis=1))))
    u, nrm = hall.entrance_wall()
    inward = np.array([nrm[0], nrm[1], 0.0])
    rng = np.random.default_rng(seed)
    rots = [np.eye(3)] + [_random_rotation(rng) for _ in range(max(0, rotations - 1))]
    # popularity shells: the k-th most borrowed item at the k-th site's distance
    radius = np.empty(n)
    radius[_popularity_order(problem)] = np.linalg.norm(sites - e, axis=1)
    best = {"S": np.inf}
    tried = 0
    for R in rots:
        for s in list(scales) + ["shells"]:
            Z = (Y @ R.T) * ((1.0 if s == "shells" else s) * rms_S / rms_Y)
            depth = Z @ inward
            Z = Z - 2.0 * np.minimum(depth, 0.0)[:, None] * inward[None, :]   # mirror
            if s == "shells":
                norm = np.linalg.norm(Z, axis=1)
                Z = Z / np.where(norm > 0, norm, 1.0)[:, None] * radius[:, None]
            Z = Z + e
            idx = _snap(Z, sites, lsa_max_n)
            X = sites[idx]
            S = walking_cost(X, problem)["total"]
            tried += 1
            if S < best["S"]:
                best = {"S": S, "X": X, "scale": s}
    info = {"layout_seconds": round(t_layout, 3), "orientations_tried": tried,
            "best_scale": best["scale"], "snap": "lsa" if n <= lsa_max_n else "greedy"}
    return best["X"], info


# ---------------------------------------------------------------------------
# 3. iterated local search over lattice sites


class _SiteState:
    """Items on sites with O(degree) exact move deltas."""

    def __init__(self, problem: Problem, sites: np.ndarray, site_of: np.ndarray):
        self.p = problem.p
        self.e = problem.hall.entrance
        A = _adjacency(problem)
        self.A = sp.csr_matrix(A)
        self.indptr, self.nbr, self.wts = A.indptr, A.indices, A.data
        self.wsum = np.asarray(A.sum(axis=1)).ravel()
        self.row = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
        self.P = sites
        self.r = np.linalg.norm(sites - self.e, axis=1)
        self.site_of = site_of.copy()
        self.item_at = np.full(len(sites), -1, dtype=np.int64)
        self.item_at[self.site_of] = np.arange(len(site_of))

    def _segments(self, items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row in ``items``, index into the CSR arrays) for every partner entry."""
        ip = self.indptr
        deg = ip[items + 1] - ip[items]
        tot = int(deg.sum())
        rows = np.repeat(np.arange(len(items)), deg)
        idx = np.arange(tot) + np.repeat(ip[items] - (np.cumsum(deg) - deg), deg)
        return rows, idx

    @staticmethod
    def _dist(U: np.ndarray, V: np.ndarray) -> np.ndarray:
        D = U - V
        return np.sqrt(np.einsum("ij,ij->i", D, D))

    def deltas(self, ci: np.ndarray, cb: np.ndarray, prune: float | None = None) -> np.ndarray:
        """S(after) - S(before) for moving item ci[k] to site cb[k] (swapping with its occupant).

        With ``base_i = sum_k w_ik ||x_i - x_k||`` and ``to_i = sum_k w_ik ||P_b - x_k||``
        (the partner j sitting on b contributes 0 to it), a swap of i (site a)
        with j (site b) changes S by ``p_i (r_b - r_a) + p_j (r_a - r_b) + to_i
        + to_j - base_i - base_j + 2 w_ij ||P_a - P_b||`` (the i-j distance is
        unchanged); a move to an empty site is the same without the j terms.
        With ``prune``, moves whose lower bound (triangle inequality on j's
        part) is at least ``prune`` come back as ``inf`` without j's part.
        """
        nbr, wts, P, so, r = self.nbr, self.wts, self.P, self.site_of, self.r
        X = P[so]
        ca = so[ci]
        cj = self.item_at[cb]
        out = self.p[ci] * (r[cb] - r[ca])
        # base terms: every item's own pair cost
        has = cj >= 0
        base = np.bincount(self.row, wts * self._dist(X[self.row], X[nbr]), len(X))
        out -= base[ci]
        # partners of i seen from b
        rows, idx = self._segments(ci)
        out += np.bincount(rows, wts[idx] * self._dist(P[cb[rows]], X[nbr[idx]]), len(ci))
        if prune is not None:
            # j's part is >= p_j (r_a - r_b) - W_j ||P_a - P_b||: skip swaps that cannot win
            jj = np.where(has, cj, 0)
            lb = out + np.where(has, self.p[jj] * (r[ca] - r[cb])
                                - self.wsum[jj] * self._dist(P[ca], P[cb]), 0.0)
            out[has & (lb >= prune)] = np.inf
            has &= lb < prune
        hj = np.nonzero(has)[0]
        j = cj[hj]
        out[hj] += self.p[j] * (r[ca[hj]] - r[cb[hj]])
        out[hj] -= base[j]
        if len(hj):
            rows, idx = self._segments(j)
            out[hj] += np.bincount(rows, wts[idx] * self._dist(P[ca[hj][rows]], X[nbr[idx]]),
                                   len(hj))
            wij = np.asarray(self.A[ci[hj], j]).ravel()
            out[hj] += 2.0 * wij * self._dist(P[ca[hj]], P[cb[hj]])
        return out

    def delta_one(self, i: int, b: int) -> float:
        """:meth:`deltas` for one move, with fewer numpy calls."""
        ip, nbr, wts, P, so, r = self.indptr, self.nbr, self.wts, self.P, self.site_of, self.r
        a = so[i]
        j = self.item_at[b]
        d = self.p[i] * (r[b] - r[a])
        for src, frm, to, other in ((i, a, b, j), (j, b, a, i)):
            if src < 0:
                continue
            if src == j:
                d += self.p[j] * (r[a] - r[b])
            k = nbr[ip[src]:ip[src + 1]]
            w = wts[ip[src]:ip[src + 1]]
            if other >= 0:
                keep = k != other
                k, w = k[keep], w[keep]
            if len(k) == 0:
                continue
            pk = P[so[k]]
            dt = P[to] - pk
            df = P[frm] - pk
            d += float(w @ (np.sqrt(np.einsum("ij,ij->i", dt, dt))
                            - np.sqrt(np.einsum("ij,ij->i", df, df))))
        return float(d)

    def apply(self, i: int, b: int) -> int:
        """Move item i to site b (swap with its occupant); returns the occupant or -1."""
        a = self.site_of[i]
        j = self.item_at[b]
        self.site_of[i] = b
        self.item_at[b] = i
        self.item_at[a] = j
        if j >= 0:
            self.site_of[j] = a
        return int(j)

    def targets(self, items: np.ndarray, d_floor: float) -> np.ndarray:
        """One Weiszfeld step towards the best spot for each item given everyone else."""
        ip, nbr, wts = self.indptr, self.nbr, self.wts
        X = self.P[self.site_of]
        xi = X[items]
        de = np.maximum(np.linalg.norm(xi - self.e, axis=1), d_floor)
        num = (self.p[items] / de)[:, None] * self.e[None, :]
        den = self.p[items] / de
        deg = ip[items + 1] - ip[items]
        if deg.sum():
            rows = np.repeat(np.arange(len(items)), deg)
            offs = np.arange(deg.sum()) - np.repeat(np.cumsum(deg) - deg, deg)
            idx = np.repeat(ip[items], deg) + offs
            k = nbr[idx]
            d = np.maximum(np.linalg.norm(xi[rows] - X[k], axis=1), d_floor)
            c = wts[idx] / d
            den = den + np.bincount(rows, c, len(items))
            for dim in range(3):
                num[:, dim] += np.bincount(rows, c * X[k, dim], len(items))
        den = np.where(den > 0, den, 1.0)
        t = num / den[:, None]
        lonely = (self.p[items] <= 0) & (deg == 0)
        t[lonely] = xi[lonely]
        return t

    def partners(self, i: int) -> np.ndarray:
        return self.nbr[self.indptr[i]:self.indptr[i + 1]]

    def total(self, problem: Problem) -> float:
        return walking_cost(self.P[self.site_of], problem)["total"]


def swap_local_search(problem: Problem, *, time_budget: float, seed: int = 0,
                      site_factor: float = 1.5, k_spatial: int = 12, k_target: int = 12,
                      kick_size: int = 6, start_time: float | None = None,
                      ) -> tuple[np.ndarray, dict]:
    """Iterated local search on the ``site_factor * n`` lattice sites nearest the entrance.

    Start: the popularity layout. Neighbourhood of item i: the ``k_spatial``
    sites nearest its current site and the ``k_target`` sites nearest a
    Weiszfeld step towards its partners and the entrance; a move to an
    occupied site is a swap, to an empty site a relocation. Each round
    evaluates all active items' candidates at once (sparse, vectorised),
    takes each item's best improving move, and applies them best-first,
    re-checking each delta exactly against the current layout. Items whose
    neighbourhood did not change are not re-examined (don't-look bits).
    At a local optimum: a localised kick (a random item and its nearest
    neighbours on the lattice are permuted) followed by local search, kept
    only if S improves (otherwise back to the best layout). Stops when
    ``time_budget`` seconds since ``start_time`` have passed.
    """
    t0 = time.monotonic() if start_time is None else start_time
    deadline = t0 + time_budget
    n = problem.n
    hall = problem.hall
    m = min(len(hall.sites()), max(n, int(math.ceil(site_factor * n))))
    sites = nearest_sites(problem, m)
    site_of = np.empty(n, dtype=np.int64)
    site_of[_popularity_order(problem)] = np.arange(n)
    st = _SiteState(problem, sites, site_of)
    tree = cKDTree(sites)
    ks = min(k_spatial + 1, m)
    site_knn = tree.query(sites, k=ks)[1][:, 1:]
    kt = min(k_target, m)
    rng = np.random.default_rng(seed)
    S = st.total(problem)
    S_start = S
    tol = 1e-12 * max(S, 1e-300)
    stats = {"rounds": 0, "moves": 0, "kicks": 0, "kicks_kept": 0, "local_optima": 0}
    #: the best S so far against the seconds since ``start_time``: after every round of
    #: the first descent (its running sum) and at every kept kick (exact)
    history = [(round(time.monotonic() - t0, 3), S)]

    def local_search(active: np.ndarray) -> float:
        """Descend from the current layout; returns the total change of S."""
        change = 0.0
        while len(active) and time.monotonic() < deadline:
            stats["rounds"] += 1
            # candidates: spatial neighbours of the current site + sites near the target
            spatial = site_knn[st.site_of[active]]
            tg = st.targets(active, 0.5 * hall.d_min)
            near_t = tree.query(tg, k=kt)[1].reshape(len(active), -1)
            cand = np.concatenate([spatial, near_t], axis=1)
            ci = np.repeat(active, cand.shape[1])
            cb = cand.ravel()
            keep = cb != st.site_of[ci]
            key = np.unique(ci[keep] * m + cb[keep])      # distinct (item, site) moves
            ci, cb = key // m, key % m
            dl = np.empty(len(ci))
            step = 16_000
            for s0 in range(0, len(ci), step):
                dl[s0:s0 + step] = st.deltas(ci[s0:s0 + step], cb[s0:s0 + step], prune=-tol)
            good = dl < -tol
            ci, cb, dl = ci[good], cb[good], dl[good]
            if len(ci) == 0:
                break
            # best move per item, best first
            order = np.lexsort((dl, ci))
            first = np.r_[True, ci[order][1:] != ci[order][:-1]]
            pick = order[first]
            pick = pick[np.argsort(dl[pick], kind="stable")]
            touched = []
            for t in pick:
                i, b = int(ci[t]), int(cb[t])
                d = st.delta_one(i, b)            # exact against the current layout
                if d < -tol:
                    a = int(st.site_of[i])
                    j = st.apply(i, b)
                    change += d
                    stats["moves"] += 1
                    touched.append((i, j, a, b))
                if time.monotonic() > deadline:
                    break
            if not touched:
                break
            if not stats["local_optima"]:
                history.append((round(time.monotonic() - t0, 3), S + change))
            moved = set()
            sites_changed = []
            for i, j, a, b in touched:
                moved.add(i)
                moved.update(st.partners(i).tolist())
                if j >= 0:
                    moved.add(j)
                    moved.update(st.partners(j).tolist())
                sites_changed += [a, b]
            near = st.item_at[site_knn[np.array(sites_changed)].ravel()]
            moved.update(near[near >= 0].tolist())
            active = np.array(sorted(moved), dtype=np.int64)
        return change

    S += local_search(np.arange(n))
    stats["local_optima"] += 1
    best_site_of = st.site_of.copy()
    S = st.total(problem)            # re-sync the running sum with the exact cost
    best_S = S
    history.append((round(time.monotonic() - t0, 3), S))
    n_kick = max(1, n // 500)        # independent regions kicked at once on large sets
    while time.monotonic() < deadline:
        stats["kicks"] += 1
        kicked = []
        for _ in range(n_kick):
            i = int(rng.integers(n))
            region = site_knn[st.site_of[i], :kick_size - 1]
            region = np.r_[st.site_of[i], region]
            occupants = st.item_at[region]
            perm = rng.permutation(len(region))
            new_items = occupants[perm]
            st.item_at[region] = new_items
            placed = new_items >= 0
            st.site_of[new_items[placed]] = region[placed]
            kicked.append(occupants[occupants >= 0])
        kicked = np.unique(np.concatenate(kicked))
        act = set(kicked.tolist())
        for i in kicked:
            act.update(st.partners(int(i)).tolist())
        local_search(np.array(sorted(act), dtype=np.int64))
        stats["local_optima"] += 1
        S_now = st.total(problem)
        if S_now < best_S - tol:
            best_S = S_now
            best_site_of = st.site_of.copy()
            stats["kicks_kept"] += 1
            history.append((round(time.monotonic() - t0, 3), S_now))
        else:
            st.site_of = best_site_of.copy()
            st.item_at[:] = -1
            st.item_at[st.site_of] = np.arange(n)
    X = sites[best_site_of]
    stats.update({"sites": m, "S_start": S_start, "S_end": best_S, "history": history})
    return X, stats
