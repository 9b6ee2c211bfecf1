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
from scipy.optimize import minimize
from scipy.sparse.linalg import LinearOperator, eigsh
from scipy.spatial import cKDTree
from threadpoolctl import threadpool_limits

from shelfplan.errors import LayoutError
from shelfplan.model.objective import (entrance_term, hall_penalty, is_feasible, move_term, near_pairs,
                        pair_term, spacing_penalty, walking_cost)
from shelfplan.model.problem import Problem

log = logging.getLogger(__name__)

STAGES = (3.0, 30.0, 300.0, 3000.0)


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
    W = problem.symmetric_weights()
    if n <= dim + 2 or W.nnz == 0:
        return np.zeros((n, dim))
    deg = np.asarray(W.sum(axis=1)).ravel()
    # A weak link between every two items (tau/n each, never stored: the matrix
    # is applied as W x + tau/n 1 1^T x) makes the graph connected, so separate
    # groups of items get separate coordinates instead of a repeated eigenvalue.
    tau = deg.mean() * 1e-2 + 1e-12
    inv = 1.0 / np.sqrt(deg + tau)

    def matvec(x):
        x = np.asarray(x).reshape(n, -1) * inv[:, None]
        return ((W @ x) + (tau / n) * x.sum(axis=0, keepdims=True)) * inv[:, None]

    A = LinearOperator((n, n), matvec=matvec, matmat=matvec, dtype=float)
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

    def __init__(self, problem: Problem, eps: float, anchor: np.ndarray | None = None,
                 move_cost: float = 0.0):
        self.problem = problem
        self.anchor = anchor
        self.move_cost = float(move_cost)
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
        if self.anchor is not None and self.move_cost > 0:
            fm, gm = move_term(X, self.anchor, self.move_cost, self.eps)
            fe, ge = fe + fm, ge + gm
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


def repair(X: np.ndarray, problem: Problem, max_rounds: int = 2000,
           sites: np.ndarray | None = None) -> np.ndarray:
    """Make a layout feasible while moving books as little as practical.

    Push pairs closer than d_min apart (vectorised, all pairs at once, slightly
    over-relaxed and aiming a little beyond d_min), project back into the
    hall, repeat; any book still too close is re-seated
    at the nearest lattice site (or free spot) that keeps every spacing.
    """
    hall = problem.hall
    d = hall.d_min
    target = d * (1 + 1e-3)
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
        push = 0.75 * (target - r)          # half the deficit each, over-relaxed by 1.5
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
    clear = d * (1 - 1e-6)   # lattice neighbours are d (1 + 1e-9) apart: free
    site_tree = cKDTree(sites)
    # a site is free when no kept book is within d_min of it
    free = np.ones(len(sites), dtype=bool)
    if len(keep):
        dist, _ = cKDTree(X[keep]).query(sites, k=1)
        free = dist >= clear
    for i in bad:
        k = min(len(sites), 64)
        while True:
            _, cand = site_tree.query(X[i], k=k)
            cand = np.atleast_1d(cand)
            cand = cand[free[cand]]
            if len(cand):
                X[i] = sites[cand[0]]
                free[site_tree.query_ball_point(X[i], clear)] = False
                break
            if k >= len(sites):
                raise LayoutError(
                    f"could not make the layout feasible: no free spot for item "
                    f"{problem.items[i]}; the hall {hall.name!r} is too full — enlarge it or "
                    f"lower d_min")
            k = min(len(sites), k * 4)
    return X


# ---------------------------------------------------------------------------
# continuous -> lattice


def snap_to_sites(X: np.ndarray, problem: Problem, sites: np.ndarray) -> np.ndarray:
    """Carry a continuous layout onto lattice sites, keeping its shape.

    Each book keeps its direction from the entrance and takes the distance of
    the site with its distance rank; then, most popular first, each book
    takes the free site nearest that target.
    """
    n = problem.n
    e = problem.hall.entrance
    r = np.linalg.norm(X - e, axis=1)
    rank = np.empty(n, dtype=np.int64)
    rank[np.lexsort((np.arange(n), r))] = np.arange(n)
    rs = np.sort(np.linalg.norm(sites - e, axis=1))
    T = e + (X - e) * (rs[rank] / np.maximum(r, 1e-12))[:, None]
    tree = cKDTree(sites)
    free = np.ones(len(sites), dtype=bool)
    out = np.empty_like(X)
    for i in np.lexsort((np.arange(n), -problem.p)):
        k = 8
        while True:
            _, c = tree.query(T[i], k=min(k, len(sites)))
            c = np.atleast_1d(c)
            c = c[free[c]]
            if len(c):
                out[i] = sites[c[0]]
                free[c[0]] = False
                break
            k *= 4
    return out


# ---------------------------------------------------------------------------
# driver


def solve(problem: Problem, **kwargs) -> SolveResult:
    """Find a feasible layout of low walking cost S (options: :func:`_solve`).

    BLAS is held to one thread: L-BFGS-B's small dense steps gain nothing
    from threads and lose up to 10x when the machine is busy.
    """
    with threadpool_limits(limits=1):
        if problem.blocks:
            from shelfplan.solve.blocks import incremental_blocks, solve_blocks
            if kwargs.get("current") is not None:
                return incremental_blocks(
                    problem, kwargs["current"], move_cost=kwargs.get("move_cost", 0.0),
                    max_moves=kwargs.get("max_moves"), seed=kwargs.get("seed", 0),
                    time_limit=kwargs.get("time_limit", 50.0), restarts=kwargs.get("kicks"),
                    progress=kwargs.get("progress"))
            return solve_blocks(problem, seed=kwargs.get("seed", 0),
                                time_limit=kwargs.get("time_limit", 50.0),
                                restarts=kwargs.get("kicks"), progress=kwargs.get("progress"))
        return _solve(problem, **kwargs)


def _single(problem: Problem) -> np.ndarray:
    """One book: the point of the hall nearest the entrance (the exact optimum)."""
    return problem.hall.project(problem.hall.entrance[None, :].copy(), margin=1e-9)


def _budgets(max_moves: int | None, factor: float = 1.5) -> list:
    """Move budgets for the swap search, growing by ``factor`` up to ``max_moves``.

    Spending the whole budget at once lets the first round of swaps (the largest
    gains, all in parallel) use it up, and then a larger budget can end worse
    than a smaller one; raised in stages, each stage re-optimises before more
    books may move.
    """
    if max_moves is None or max_moves < 2:
        return [max_moves]
    out = [int(max_moves)]
    while out[-1] > 1:
        out.append(min(out[-1] - 1, int(out[-1] / factor)))
    return [k for k in out[::-1] if k >= 1]


def _solve(problem: Problem, *, seed: int = 0, init: str = "auto", time_limit: float = 50.0,
           stages=STAGES, maxiter: int = 300, kicks: int | None = None, polish: bool = True,
           current: np.ndarray | None = None, move_cost: float = 0.0,
           max_moves: int | None = None, progress=None) -> SolveResult:
    """The solver's phases; ``solve`` wraps this with a one-thread BLAS.

    * ``init``: ``auto`` (popularity and spectral starts), ``popularity`` or ``spectral``.
    * Work is fixed by ``stages``, ``maxiter`` (per stage), the swap search
      (runs until no swap helps) and ``kicks`` (default ``300``), so a seed gives
      the same layout every time; ``time_limit`` (seconds) only caps it, and
      ``info["stopped_by"]`` says whether it did.
    * ``current`` ((n, 3) positions, NaN rows for books without one), ``move_cost``
      and ``max_moves``: an incremental proposal. The objective becomes
      ``S + move_cost * sum_i ||v_i - current_i||``; with ``max_moves`` at most
      that many books leave their current spot and the rest stay fixed.
    * ``progress(message)`` receives one-line updates; Ctrl-C stops the run and
      the best feasible layout so far is returned.
    """
    from shelfplan.solve.relocate import relocate
    from shelfplan.solve.search import SwapSearch

    t0 = time.monotonic()
    deadline = t0 + time_limit
    say = progress or (lambda msg: None)
    if init not in ("auto", "popularity", "spectral"):
        raise ValueError(f"init must be auto, popularity or spectral, got {init!r}")
    kicks = 300 if kicks is None else int(kicks)
    n = problem.n
    hall = problem.hall
    sites = hall.sites()
    if len(sites) < n:
        nearest_sites(problem)  # raises the clear error
    d = np.linalg.norm(sites - hall.entrance, axis=1)
    by_distance = sites[np.lexsort((sites[:, 2], sites[:, 1], sites[:, 0], d))]
    near = by_distance[:n]
    anchor = None
    if current is not None:
        anchor = np.asarray(current, dtype=float)
    lam = float(move_cost)

    def objective(X):
        S = walking_cost(X, problem)["total"]
        if anchor is not None and lam > 0:
            h = np.isfinite(anchor).all(axis=1)
            S += lam * float(np.linalg.norm(X[h] - anchor[h], axis=1).sum())
        return S

    best = {"F": np.inf, "X": None, "how": None}
    history = []
    stopped_by = "done"

    def offer(X, how):
        F = objective(X)
        feasible = is_feasible(X, hall)
        if max_moves is not None and anchor is not None:
            h = np.isfinite(anchor).all(axis=1)
            feasible &= int((np.linalg.norm(X[h] - anchor[h], axis=1) > 1e-6).sum()) <= max_moves
        history.append({"candidate": how, "objective": F, "feasible": bool(feasible),
                        "t": round(time.monotonic() - t0, 2)})
        if feasible and F < best["F"]:
            best.update(F=F, X=X.copy(), how=how)
        say(f"{how}: {'S' if anchor is None else 'S + move cost'}={F:.4f}"
            + ("" if feasible else " (not feasible, dropped)"))
        return F

    def search(X, how, extra=None, deadline_=None):
        """Swap search to convergence, then the kicks; offered as a candidate."""
        ss = SwapSearch(X, problem, extra, anchor=anchor, move_cost=lam, max_moves=max_moves)
        m = 0
        for k in _budgets(max_moves):
            ss.max_moves = k
            m += ss.run(deadline=deadline_ or deadline)
        offer(ss.positions(), f"{how} + swap search ({m} swaps)")
        return ss

    iters = 0
    interrupted = False
    obj = _Objective(problem, eps=0.01 * hall.d_min, anchor=anchor, move_cost=lam)
    try:
        if n == 1 and anchor is None:
            offer(_single(problem), "nearest point to the entrance")
        elif anchor is not None:
            # incremental: books on today's spots plus free lattice sites; new books
            # (no current spot) start on the free sites nearest the entrance
            X = anchor.copy()
            have = np.isfinite(X).all(axis=1)
            if have.any() and not is_feasible(X[have], hall):
                raise LayoutError(
                    "the current layout is not feasible (books closer than d_min or outside "
                    "the hall); fix its positions, or fit without --current")
            if have.any():
                dist, _ = cKDTree(X[have]).query(by_distance, k=1)
                free = by_distance[dist >= hall.d_min * (1 - 1e-6)]
            else:
                free = by_distance
            new = np.flatnonzero(~have)
            if len(free) < len(new):
                raise LayoutError(f"no room for the {len(new)} books that have no current "
                                  f"position; enlarge the hall")
            order = new[np.lexsort((new, -problem.p[new]))]
            X[order] = free[: len(new)]
            free = free[len(new):][: max(problem.n, 64)]
            offer(X, "current layout (new books nearest the entrance)")
            ss = search(X, "current layout", extra=free)
            kept = ss.kicks(kicks, seed=seed, deadline=deadline)
            Xk = ss.positions()
            offer(Xk, f"current layout + swap search + {kept} kicks")
            # single books to free sites (the swap search sees only nearby free slots)
            Xr, moved = relocate(Xk, problem, sites, anchor=anchor, move_cost=lam,
                                 max_moves=max_moves, deadline=deadline)
            if moved:
                offer(Xr, f"current layout + swap search + {kept} kicks + {moved} relocations")
            if max_moves is None and time.monotonic() < deadline:
                say("also trying a layout from scratch (no --max-moves)")
                res = _solve(problem, seed=seed, init=init,
                             time_limit=max(1.0, deadline - time.monotonic()),
                             stages=stages, maxiter=maxiter, kicks=kicks, polish=polish,
                             progress=progress)
                offer(res.positions, "from scratch")
        else:
            starts = {}
            if init in ("auto", "popularity"):
                starts["popularity"] = popularity_start(problem, near)
            if init in ("auto", "spectral"):
                starts["spectral"] = spectral_start(problem, near, seed)
            for name, X0 in starts.items():
                offer(X0, f"{name} start")
            candidates = dict(starts)

            # continuous penalty method (MODEL.md section 5), capped at a third of the time
            cont_name = "spectral" if "spectral" in starts else "popularity"
            X0 = starts[cont_name]
            cont_deadline = t0 + time_limit / 3.0
            rng = np.random.default_rng(seed)
            x = X0.ravel() + rng.normal(scale=1e-3 * hall.d_min, size=X0.size)
            bounds = _bounds(problem, n)
            for mu in stages:
                if time.monotonic() > cont_deadline:
                    stopped_by = "time limit"
                    break
                obj.mu = mu

                def stop(xk, _dl=cont_deadline):
                    if time.monotonic() > _dl:
                        raise StopIteration

                res = minimize(obj, x, jac=True, method="L-BFGS-B", bounds=bounds,
                               callback=stop, options={"maxiter": maxiter, "maxcor": 20})
                x = res.x
                iters += int(res.nit)
                say(f"continuous ({cont_name} start): penalty {mu:g}, {res.nit} iterations, "
                    f"S={walking_cost(x.reshape(-1, 3), problem)['total']:.4f}")
            Xc = x.reshape(-1, 3)
            snapped = snap_to_sites(Xc, problem, near)
            offer(snapped, "continuous, snapped to the lattice")
            candidates["continuous, snapped"] = snapped
            try:
                Xr = repair(Xc.copy(), problem, sites=sites)
                if offer(Xr, "continuous, repaired") < np.inf and is_feasible(Xr, hall):
                    candidates["continuous, repaired"] = Xr
            except LayoutError as exc:
                say(f"continuous, repair failed ({exc}); keeping the lattice candidates")

            # swap search from the two best candidates (each feasible, so every swap
            # keeps feasibility), then kicks on the better result
            if polish:
                # two candidates while that is affordable; one for large problems
                ranked = sorted(candidates.items(),
                                key=lambda kv: objective(kv[1]))[: 2 if n <= 2000 else 1]
                found = []
                for name, Xs in ranked:
                    ss = search(Xs, name)
                    found.append((ss.cost(), name, ss))
                    if time.monotonic() > deadline:
                        stopped_by = "time limit"
                        break
                _, name, ss = min(found, key=lambda t: t[0])
                kept = ss.kicks(kicks, seed=seed, deadline=deadline)
                offer(ss.positions(), f"{name} + swap search + {kept} kicks")
        if time.monotonic() > deadline:
            stopped_by = "time limit"
    except KeyboardInterrupt:
        interrupted = True
        stopped_by = "interrupted"
        say("interrupted: keeping the best feasible layout so far")

    if best["X"] is None:
        raise LayoutError("no feasible layout was reached; enlarge the hall or lower d_min")
    X = best["X"]
    cost = walking_cost(X, problem)
    info = {
        "method": ("swap search + relocations from the current layout (incremental)" if anchor is not None
                   and max_moves is not None else
                   "lattice starts + L-BFGS-B penalty continuation + repair/snap + swap search"),
        "seed": seed,
        "init": init,
        "best_from": best["how"],
        "iterations": iters,
        "evaluations": obj.evals,
        "stages": list(stages),
        "kicks": kicks,
        "history": history,
        "seconds": round(time.monotonic() - t0, 3),
        "time_limit": time_limit,
        "stopped_by": stopped_by,
        "interrupted": interrupted,
    }
    if anchor is not None:
        h = np.isfinite(anchor).all(axis=1)
        dist = np.linalg.norm(X[h] - anchor[h], axis=1)
        info.update(move_cost=lam, max_moves=max_moves, moved=int((dist > 1e-6).sum()),
                    move_distance=float(dist.sum()), objective_with_moves=objective(X))
    return SolveResult(positions=X, cost=cost, info=info, interrupted=interrupted)
