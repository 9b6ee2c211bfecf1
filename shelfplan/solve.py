"""Solve the layout problem (MODEL.md section 5) with SciPy's L-BFGS-B.

1. Feasible starts on a hexagonal lattice of sites: popular-first around the
   entrance, and a spectral embedding of the co-borrow graph laid out in
   popularity shells.
2. Continuation: minimise the smoothed cost plus a spacing penalty over the
   pairs that are actually close (KD-tree) and a wall penalty, with z held
   by bounds; raise the penalty weight stage by stage.
3. Repair: project into the hall, push overlapping pairs apart, and re-seat
   any book still too close at the nearest free feasible spot.
4. Polish: swap positions of pairs of books while that lowers S (swaps keep
   the layout feasible).

The best feasible layout seen is what is returned, also on Ctrl-C.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import eigsh
from scipy.spatial import cKDTree

from .errors import LayoutError
from .objective import (entrance_term, hall_penalty, is_feasible, min_spacing,
                        near_pairs, pair_term, spacing_penalty, walking_cost)
from .problem import Problem

log = logging.getLogger(__name__)

STAGES = (0.3, 3.0, 30.0, 300.0, 3000.0)


@dataclass
class SolveResult:
    positions: np.ndarray
    cost: dict
    info: dict = field(default_factory=dict)
    interrupted: bool = False


# ---------------------------------------------------------------------------
# starts


def nearest_sites(problem: Problem, n: int | None = None) -> np.ndarray:
    """The ``n`` lattice sites closest to the entrance, nearest first."""
    hall = problem.hall
    n = problem.n if n is None else n
    sites = hall.sites()
    if len(sites) < n:
        raise LayoutError(
            f"hall {hall.name!r} has room for {len(sites)} books on a close-packed lattice at "
            f"d_min={hall.d_min:g} m, fewer than the {n} items; enlarge the footprint, widen "
            f"z_range or lower d_min")
    d = np.linalg.norm(sites - hall.entrance, axis=1)
    order = np.lexsort((sites[:, 2], sites[:, 1], sites[:, 0], d))[:n]
    return sites[order]


def popularity_start(problem: Problem, sites: np.ndarray) -> np.ndarray:
    """Most borrowed item on the site nearest the entrance, and so on."""
    X = np.empty((problem.n, 3))
    order = np.lexsort((np.arange(problem.n), -problem.p))
    X[order] = sites[: problem.n]
    return X


def spectral_coordinates(problem: Problem, dim: int = 2, seed: int = 0) -> np.ndarray:
    """Leading non-trivial eigenvectors of the normalised co-borrow graph."""
    n = problem.n
    W = sp.coo_matrix((problem.W, (problem.I, problem.J)), shape=(n, n))
    W = (W + W.T).tocsr()
    if n <= dim + 2 or W.nnz == 0:
        return np.zeros((n, dim))
    deg = np.asarray(W.sum(axis=1)).ravel()
    # a weak link to everything keeps isolated items and small components attached
    tau = deg.mean() * 1e-3 + 1e-12
    inv = 1.0 / np.sqrt(deg + tau)
    A = sp.diags(inv) @ W @ sp.diags(inv)
    rng = np.random.default_rng(seed)
    v0 = rng.standard_normal(n)
    try:
        vals, vecs = eigsh(A, k=dim + 1, which="LA", v0=v0, maxiter=5000, tol=1e-6)
    except Exception as exc:  # ARPACK non-convergence: fall back to no structure
        log.debug("spectral embedding failed: %s", exc)
        return np.zeros((n, dim))
    order = np.argsort(vals)[::-1]
    vecs = vecs[:, order] * inv[:, None]
    U = vecs[:, 1:dim + 1]
    # make signs deterministic
    U *= np.sign(U[np.argmax(np.abs(U), axis=0), np.arange(dim)])
    return U


def spectral_start(problem: Problem, sites: np.ndarray, seed: int = 0) -> np.ndarray:
    """Popularity decides how far from the entrance; the co-borrow graph decides where.

    Items are split into shells by popularity rank, matching the sites'
    distance ranks; within a shell, items sorted by the angle of their 2D
    spectral coordinates go to sites sorted by azimuth around the entrance.
    """
    n = problem.n
    hall = problem.hall
    U = spectral_coordinates(problem, 2, seed)
    theta = np.arctan2(U[:, 1], U[:, 0])
    u, nrm = hall.entrance_wall()
    rel = sites[:, :2] - hall.entrance[:2]
    phi = np.arctan2(rel @ nrm, rel @ u)
    order = np.lexsort((np.arange(n), -problem.p))     # items, most popular first
    shell = max(8, int(np.ceil(n / max(1, round(np.cbrt(n))))))
    X = np.empty((n, 3))
    for s in range(0, n, shell):
        items = order[s:s + shell]
        idx = np.arange(s, min(s + shell, n))           # sites are sorted by distance
        X[items[np.argsort(theta[items], kind="stable")]] = \
            sites[idx[np.argsort(phi[idx], kind="stable")]]
    return X


# ---------------------------------------------------------------------------
# the penalised objective


class _Objective:
    """Smoothed cost plus penalties, scaled so that forces per item are O(1)."""

    def __init__(self, problem: Problem, eps: float):
        self.problem = problem
        self.d = problem.hall.d_min
        self.scale = problem.n / self.d
        self.eps = eps
        self.mu = 1.0
        self.last_x = None
        self.evals = 0

    def __call__(self, x: np.ndarray):
        pr = self.problem
        X = x.reshape(-1, 3)
        self.last_x = x
        self.evals += 1
        fe, ge = entrance_term(X, pr.p, pr.hall.entrance, self.eps)
        fp, gp = pair_term(X, pr.I, pr.J, pr.W, self.eps)
        fs, gs = spacing_penalty(X, self.d)
        fh, gh = hall_penalty(X, pr.hall)
        w = self.mu / self.d ** 2
        f = self.scale * (fe + fp) + w * (fs + fh)
        g = self.scale * (ge + gp) + w * (gs + gh)
        return f, g.ravel()


def _bounds(problem: Problem, n: int):
    lo, hi = problem.hall.z_range
    b = np.array([(-np.inf, np.inf), (-np.inf, np.inf), (lo, hi)] * n, dtype=float)
    return [(None if np.isinf(a) else a, None if np.isinf(c) else c) for a, c in b]


# ---------------------------------------------------------------------------
# repair


def repair(X: np.ndarray, problem: Problem, max_rounds: int = 200,
           sites: np.ndarray | None = None) -> np.ndarray:
    """Make a layout feasible while moving books as little as practical.

    Push pairs closer than d_min apart (vectorised, a little beyond d_min),
    project back into the hall, repeat; any book still too close is re-seated
    at the nearest lattice site (or free spot) that keeps every spacing.
    """
    hall = problem.hall
    d = hall.d_min
    target = d * (1 + 2e-4)
    X = hall.project(X, margin=1e-6 * d)
    for _ in range(max_rounds):
        pairs = near_pairs(X, d * (1 - 1e-4))
        if len(pairs) == 0:
            break
        I, J = pairs[:, 0], pairs[:, 1]
        diff = X[I] - X[J]
        r = np.linalg.norm(diff, axis=1)
        rng = np.random.default_rng(len(pairs))
        tiny = r < 1e-9 * d
        if tiny.any():
            diff[tiny] = rng.standard_normal((int(tiny.sum()), 3))
            r[tiny] = np.linalg.norm(diff[tiny], axis=1)
        push = (target - r) / 2.0
        step = diff * (push / r)[:, None]
        delta = np.zeros_like(X)
        for k in range(3):
            delta[:, k] = np.bincount(I, step[:, k], len(X)) - np.bincount(J, step[:, k], len(X))
        X = hall.project(X + delta, margin=1e-6 * d)
    return _reseat(X, problem, sites)


def _reseat(X: np.ndarray, problem: Problem, sites: np.ndarray | None) -> np.ndarray:
    hall = problem.hall
    d = hall.d_min
    need = d * (1 - 1e-4)
    pairs = near_pairs(X, need)
    if len(pairs) == 0:
        return X
    # drop the less popular book of each close pair until no close pair is left
    bad = set()
    for i, j in pairs[np.argsort(np.minimum(problem.p[pairs[:, 0]], problem.p[pairs[:, 1]]))]:
        if i in bad or j in bad:
            continue
        bad.add(int(j) if problem.p[j] <= problem.p[i] else int(i))
    bad = np.array(sorted(bad, key=lambda k: -problem.p[k]))
    keep = np.setdiff1d(np.arange(len(X)), bad)
    if sites is None:
        sites = hall.sites()
    tree = cKDTree(X[keep]) if len(keep) else None
    extra = np.zeros((0, 3))
    site_tree = cKDTree(sites)
    for i in bad:
        k = min(len(sites), 64)
        found = False
        while not found:
            _, cand = site_tree.query(X[i], k=k)
            cand = np.atleast_1d(cand)
            cand = cand[cand < len(sites)]
            pts = sites[cand]
            ok = np.ones(len(pts), dtype=bool)
            if tree is not None:
                dd, _ = tree.query(pts, k=1)
                ok &= dd >= d * (1 + 1e-6)
            if len(extra):
                ok &= np.min(np.linalg.norm(pts[:, None, :] - extra[None], axis=2), axis=1) >= d * (1 + 1e-6)
            if ok.any():
                X[i] = pts[np.argmax(ok)]
                extra = np.vstack([extra, X[i]])
                found = True
            elif k >= len(sites):
                raise LayoutError(
                    f"could not make the layout feasible: no free spot for item "
                    f"{problem.items[i]}; the hall {hall.name!r} is too full — enlarge it or "
                    f"lower d_min")
            else:
                k = min(len(sites), k * 4)
    return X


# ---------------------------------------------------------------------------
# swap polish


def swap_polish(X: np.ndarray, problem: Problem, rounds: int = 30, neighbours: int = 12,
                deadline: float | None = None) -> tuple[np.ndarray, int]:
    """Swap positions of pairs of books while that lowers S; feasibility is unchanged.

    Candidates are each book with its spatial neighbours and its co-borrow
    partners. Gains are computed for all candidates at once from the sparse
    pair weights; a conflict-free set of improving swaps (no shared book, no
    shared partner) is applied per round.
    """
    n = problem.n
    if n < 2:
        return X, 0
    X = X.copy()
    e = problem.hall.entrance
    W = sp.coo_matrix((problem.W, (problem.I, problem.J)), shape=(n, n))
    W = (W + W.T).tocsr()
    indptr, nbr, wts = W.indptr, W.indices, W.data
    Wc = W.tocoo()
    total = 0
    k = min(neighbours, n - 1)
    for _ in range(rounds):
        if deadline is not None and time.monotonic() > deadline:
            break
        _, knn = cKDTree(X).query(X, k=k + 1)
        A = np.repeat(np.arange(n), k)
        B = knn[:, 1:].ravel()
        A = np.concatenate([A, Wc.row])
        B = np.concatenate([B, Wc.col])
        m = A < B
        cand = np.unique(np.stack([A[m], B[m]], axis=1), axis=0)
        a, b = cand[:, 0], cand[:, 1]
        gain = _swap_gain(X, problem.p, e, indptr, nbr, wts, a, b)
        good = gain > 1e-12 * max(1.0, float(problem.p.sum()))
        if not good.any():
            break
        a, b, gain = a[good], b[good], gain[good]
        order = np.argsort(-gain)
        locked = np.zeros(n, dtype=bool)
        chosen = []
        for t in order:
            i, j = a[t], b[t]
            if locked[i] or locked[j]:
                continue
            chosen.append(t)
            locked[i] = locked[j] = True
            locked[nbr[indptr[i]:indptr[i + 1]]] = True
            locked[nbr[indptr[j]:indptr[j + 1]]] = True
        chosen = np.array(chosen)
        ia, ib = a[chosen], b[chosen]
        X[ia], X[ib] = X[ib].copy(), X[ia].copy()
        total += len(chosen)
    return X, total


def _swap_gain(X, p, e, indptr, nbr, wts, a, b) -> np.ndarray:
    """S(before) - S(after) for swapping positions of a[k] and b[k], each alone."""
    r = np.linalg.norm(X - e, axis=1)
    gain = (p[a] * r[a] + p[b] * r[b]) - (p[a] * r[b] + p[b] * r[a])
    for src, dst, other in ((a, b, b), (b, a, a)):
        deg = indptr[src + 1] - indptr[src]
        rows = np.repeat(np.arange(len(src)), deg)
        starts = np.repeat(indptr[src], deg)
        offs = np.arange(deg.sum()) - np.repeat(np.cumsum(deg) - deg, deg)
        idx = starts + offs
        k = nbr[idx]
        w = wts[idx]
        # partner k of src: distance from src's old spot minus from its new spot (dst's spot);
        # the src-dst pair itself keeps its distance, so skip it
        keep = k != other[rows]
        before = np.linalg.norm(X[src[rows]] - X[k], axis=1)
        after = np.linalg.norm(X[dst[rows]] - X[k], axis=1)
        gain += np.bincount(rows[keep], (w * (before - after))[keep], len(src))
    return gain


# ---------------------------------------------------------------------------
# driver


def solve(problem: Problem, *, seed: int = 0, init: str = "auto", time_limit: float = 60.0,
          stages=STAGES, maxiter: int = 400, polish: bool = True,
          progress=None) -> SolveResult:
    """Find a feasible layout of low walking cost S.

    ``init`` is ``"popularity"``, ``"spectral"`` or ``"auto"`` (both, keep
    the better). ``time_limit`` caps the optimisation (seconds; the repair
    and polish still run). ``progress(message)`` receives one-line updates.
    Ctrl-C stops the optimisation and returns the best feasible layout so far.
    """
    t0 = time.monotonic()
    deadline = t0 + time_limit
    say = progress or (lambda msg: None)
    n = problem.n
    hall = problem.hall
    sites = hall.sites()
    if len(sites) < n:
        nearest_sites(problem)  # raises the clear error
    d = np.linalg.norm(sites - hall.entrance, axis=1)
    site_order = np.lexsort((sites[:, 2], sites[:, 1], sites[:, 0], d))
    near = sites[site_order[:n]]

    starts = {}
    if init in ("auto", "popularity"):
        starts["popularity"] = popularity_start(problem, near)
    if init in ("auto", "spectral"):
        starts["spectral"] = spectral_start(problem, near, seed)
    if not starts:
        raise ValueError(f"init must be auto, popularity or spectral, got {init!r}")

    best = {"S": np.inf, "X": None, "how": None}

    def offer(X, how):
        S = walking_cost(X, problem)["total"]
        if S < best["S"] and is_feasible(X, hall):
            best.update(S=S, X=X.copy(), how=how)
        return S

    for name, X0 in starts.items():
        offer(X0, f"{name} start")

    rng = np.random.default_rng(seed)
    obj = _Objective(problem, eps=0.01 * hall.d_min)
    bounds = _bounds(problem, n)
    iters = 0
    interrupted = False
    history = []
    try:
        per_start = time_limit / len(starts)
        for k, (name, X0) in enumerate(starts.items()):
            start_deadline = min(deadline, time.monotonic() + per_start)
            x = X0.ravel() + rng.normal(scale=1e-3 * hall.d_min, size=X0.size)
            for mu in stages:
                if time.monotonic() > start_deadline:
                    break
                obj.mu = mu

                def stop(xk, _dl=start_deadline):
                    if time.monotonic() > _dl:
                        raise StopIteration

                res = minimize(obj, x, jac=True, method="L-BFGS-B", bounds=bounds,
                               callback=stop, options={"maxiter": maxiter, "maxcor": 20})
                x = res.x
                iters += int(res.nit)
                cost = walking_cost(x.reshape(-1, 3), problem)["total"]
                history.append({"start": name, "mu": mu, "iterations": int(res.nit),
                                "S": cost})
                say(f"{name}: penalty {mu:g}, {res.nit} iterations, S={cost:.4f}")
            X = repair(x.reshape(-1, 3), problem, sites=sites)
            S = offer(X, f"{name} + L-BFGS-B")
            say(f"{name}: repaired, S={S:.4f}")
    except KeyboardInterrupt:
        interrupted = True
        say("interrupted: keeping the best feasible layout so far")
        if obj.last_x is not None:
            try:
                offer(repair(obj.last_x.reshape(-1, 3).copy(), problem, sites=sites),
                      "interrupted")
            except (LayoutError, KeyboardInterrupt):
                pass

    if best["X"] is None:
        raise LayoutError("no feasible layout was reached; enlarge the hall or lower d_min")
    X = best["X"]
    swaps = 0
    if polish and not interrupted:
        try:
            X, swaps = swap_polish(X, problem, deadline=time.monotonic() + max(5.0, 0.2 * time_limit))
        except KeyboardInterrupt:
            interrupted = True
        if swaps:
            offer(X, best["how"] + " + swaps")
            X = best["X"]
        say(f"polish: {swaps} swaps, S={best['S']:.4f}")

    cost = walking_cost(X, problem)
    info = {
        "method": "L-BFGS-B with staged spacing/wall penalties, repair, swap polish",
        "seed": seed,
        "init": init,
        "best_from": best["how"],
        "iterations": iters,
        "evaluations": obj.evals,
        "swaps": swaps,
        "stages": list(stages),
        "history": history,
        "seconds": round(time.monotonic() - t0, 3),
        "interrupted": interrupted,
    }
    return SolveResult(positions=X, cost=cost, info=info, interrupted=interrupted)
