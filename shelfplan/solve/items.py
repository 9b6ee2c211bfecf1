"""The item solver: books on the hall's lattice, MODEL.md section 5.

Stages, each a function below:

1. starts (:mod:`shelfplan.solve.starts`): popularity-first around the entrance,
   and a spectral embedding of the co-borrow graph in popularity shells;
2. continuation: L-BFGS-B on the smoothed cost plus a spacing penalty over the
   pairs that are close (KD-tree) and a wall penalty, z held by bounds, the
   penalty raised stage by stage;
3. repair and snap (:mod:`shelfplan.solve.repair`, ``snap_to_sites``): the
   continuous layout made feasible, or carried onto the lattice;
4. site search (:mod:`shelfplan.solve.ils`, compiled): moves and swaps over the
   start's positions and the free lattice sites, candidate lists deepening from
   16 to 512, then simulated annealing in rounds while they pay, then kicks aimed
   at the worst placed books until they stop paying;
5. incremental: from today's layout, with a move cost and a move budget, plus
   single-book relocations (:mod:`shelfplan.solve.relocate`).

Every candidate is offered to a :class:`~shelfplan.solve.record.Record`; the
best feasible layout seen is returned, also on Ctrl-C. Time shares of the limit
T: the continuation stops at 0.15 T (or at min(T / 3, 2 s) when that is later),
the repair at 0.25 T, the site search has
the rest (the search and kicks of the incremental mode use
:mod:`shelfplan.solve.search`).
"""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import minimize
from scipy.spatial import cKDTree
from threadpoolctl import threadpool_limits

from shelfplan.errors import LayoutError
from shelfplan.model.objective import (entrance_term, hall_penalty, is_feasible, move_term,
                                       pair_term, spacing_penalty, walking_cost)
from shelfplan.model.problem import Problem
from shelfplan.solve.record import Record, SolveResult, StopAt, as_rng, seed_info
from shelfplan.solve.engine import drive
from shelfplan.solve.ils import SiteMoves, SiteSearch, site_pool
from shelfplan.solve.options import Anchor, FitOptions
from shelfplan.solve.relocate import relocate
from shelfplan.solve.repair import repair
from shelfplan.solve.search import SwapMoves, SwapSearch
from shelfplan.solve.starts import (nearest_sites, popularity_start, single, snap_to_sites,
                                    spectral_start)

__all__ = ["solve_items", "SolveResult", "STAGES", "nearest_sites", "popularity_start",
           "spectral_start", "snap_to_sites", "repair"]

STAGES = (3.0, 30.0, 300.0, 3000.0)
STARTS = ("popularity", "spectral")
METHOD = ("lattice starts + L-BFGS-B penalty continuation + repair/snap + site search + "
          "annealing + kicks (+ restarts from the best with a time limit)")
#: shares of the time limit: the continuation stops at CONT_SHARE, the repair at REPAIR_SHARE
CONT_SHARE, REPAIR_SHARE = 0.15, 0.25
#: ... but the continuation may always take this many seconds, up to a third of the limit
CONT_MIN_S = 2.0
#: the continuous layout is repaired (off the lattice) for at most this many books
REPAIR_MAX = 2000
#: kicks of the incremental swap search when ``kicks`` is None
INCREMENTAL_KICKS = 300
METHOD_INCREMENTAL = "swap search + relocations from the current layout (incremental)"


def solve_items(problem: Problem, options: FitOptions, deadline: float, *,
                current: np.ndarray | None = None, bound: float | None = None, stages=STAGES, maxiter: int = 300,
                polish: bool = True) -> SolveResult:
    """A feasible layout of single books of low walking cost S, by ``deadline``.

    ``options`` (:class:`~shelfplan.solve.options.FitOptions`): ``seed``, ``init``
    (``auto``: popularity and spectral starts, ``popularity`` or ``spectral``),
    ``kicks`` (None: until they stop paying; an int: that many), ``progress``
    (one-line updates; Ctrl-C returns the best feasible layout so far) and the time
    use: with no time limit, work is fixed by ``stages``, ``maxiter`` (per stage),
    the site search (until no move helps at the deepest candidate lists), the
    annealing rounds and kicks while they pay, so a seed gives the same layout every
    time; with a time limit the engine (:func:`~shelfplan.solve.engine.drive`) then
    restarts from the best until the deadline.

    ``bound``: the certified lower bound of S (the restarts stop there).
    ``current`` ((n, 3) positions, NaN rows for books without one), with the options'
    ``move_cost`` and ``max_moves``: an incremental proposal. The objective becomes
    ``S + move_cost * sum_i ||v_i - current_i||``; with ``max_moves`` at most that
    many books leave their current spot and the rest stay fixed.

    BLAS is held to one thread: L-BFGS-B's small dense steps gain nothing
    from threads and lose up to 10x when the machine is busy.
    """
    with threadpool_limits(limits=1):
        run = _Run(problem, options, deadline, anchor=current, bound=bound, stages=stages,
                   maxiter=maxiter, polish=polish)
        with run.rec.stage():
            if current is not None:
                _incremental(run)
            elif problem.n == 1:
                run.rec.offer(single(problem), "nearest point to the entrance")
            else:
                _from_scratch(run)
            run.rec.time_up()
        return run.result()


# ---------------------------------------------------------------------------
# one run's context


class _Run:
    """What the stages of one run share: options, sites, the record, the counters."""

    def __init__(self, problem: Problem, options: FitOptions, deadline: float, *, anchor,
                 bound=None, stages, maxiter, polish):
        self.problem, self.hall, self.n = problem, problem.hall, problem.n
        self.options = options
        self.seed, self.init = options.seed, options.init
        self.kicks = options.kicks
        self.time_limit = max(0.0, deadline - time.monotonic())
        self.anchor = None if anchor is None else np.asarray(anchor, dtype=float)
        self.lam, self.max_moves = float(options.move_cost), options.max_moves
        self.progress, self.stages, self.maxiter, self.polish = (options.progress, stages,
                                                                 maxiter, polish)
        self.rec = Record(self.objective, self.feasible, deadline=deadline, say=self.progress,
                          label="S" if self.anchor is None else "S + move cost")
        self.say = self.rec.say
        self.sites = self.hall.sites()
        if len(self.sites) < self.n:
            nearest_sites(problem)  # raises the clear error
        d = np.linalg.norm(self.sites - self.hall.entrance, axis=1)
        s = self.sites
        self.by_distance = s[np.lexsort((s[:, 2], s[:, 1], s[:, 0], d))]
        self.near = self.by_distance[: self.n]
        self.obj = _Objective(problem, eps=0.01 * self.hall.d_min, anchor=self.anchor,
                              move_cost=self.lam)
        self.iters = 0
        self.kicks_tried = 0 if self.kicks is None else self.kicks
        self.engine: dict = {}
        self.bound = None if self.anchor is not None else bound

    @property
    def deadline(self) -> float:
        return self.rec.deadline

    def today(self) -> Anchor:
        """Today's positions with the move cost and budget (incremental proposals)."""
        return Anchor(self.anchor, self.lam, self.max_moves)

    def _moves(self, X):
        h = np.isfinite(self.anchor).all(axis=1)
        return np.linalg.norm(X[h] - self.anchor[h], axis=1)

    def objective(self, X) -> float:
        S = walking_cost(X, self.problem)["total"]
        if self.anchor is not None and self.lam > 0:
            S += self.lam * float(self._moves(X).sum())
        return S

    def feasible(self, X) -> bool:
        ok = is_feasible(X, self.hall)
        if self.max_moves is not None and self.anchor is not None:
            ok &= int((self._moves(X) > 1e-6).sum()) <= self.max_moves
        return ok

    def search(self, X, how, extra=None) -> SwapSearch:
        """Swap search to convergence (move budgets raised in stages), offered."""
        ss = SwapSearch(X, self.problem, extra, anchor=self.today())
        m = 0
        for k in _budgets(self.max_moves):
            ss.max_moves = k
            m += ss.run(deadline=self.deadline)
        self.rec.offer(ss.positions(), f"{how} + swap search ({m} swaps)")
        return ss

    def result(self) -> SolveResult:
        X = self.rec.best("no feasible layout was reached; enlarge the hall or lower d_min")
        incremental = self.anchor is not None and self.max_moves is not None
        info = {
            "method": METHOD_INCREMENTAL if incremental else METHOD,
            "seed": seed_info(self.seed), "init": self.init, "best_from": self.rec.how,
            "iterations": self.iters, "evaluations": self.obj.evals,
            "stages": list(self.stages), "kicks": self.kicks_tried, "history": self.rec.history,
            "seconds": round(time.monotonic() - self.rec.t0, 3),
            **self.options.record(), "stopped_by": self.rec.stopped_by,
            "interrupted": self.rec.interrupted, "engine": self.engine,
        }
        if self.anchor is not None:
            dist = self._moves(X)
            info.update(move_cost=self.lam, max_moves=self.max_moves,
                        moved=int((dist > 1e-6).sum()), move_distance=float(dist.sum()),
                        objective_with_moves=self.objective(X))
        return SolveResult(plan=X, cost=walking_cost(X, self.problem), info=info,
                           interrupted=self.rec.interrupted)


# ---------------------------------------------------------------------------
# stages


def _from_scratch(run: _Run) -> None:
    """Starts, continuation, repair and snap, then the search on the best candidates."""
    starts = _starts(run)
    name = "spectral" if "spectral" in starts else "popularity"
    Xc = _continuation(run, starts[name], name)
    candidates = dict(starts)
    candidates.update(_repair_and_snap(run, Xc))
    if run.polish:
        _search(run, candidates)


def _starts(run: _Run) -> dict:
    """The lattice starts the ``init`` option asks for, each offered."""
    starts = {}
    if run.init in ("auto", "popularity"):
        starts["popularity"] = popularity_start(run.problem, run.near)
    if run.init in ("auto", "spectral"):
        starts["spectral"] = spectral_start(run.problem, run.near, run.seed)
    for name, X0 in starts.items():
        run.rec.offer(X0, f"{name} start")
    return starts


def _continuation(run: _Run, X0: np.ndarray, name: str) -> np.ndarray:
    """The continuous penalty method (MODEL.md section 5), capped at a third of the time."""
    problem, hall = run.problem, run.hall
    share = max(CONT_SHARE * run.time_limit, min(run.time_limit / 3.0, CONT_MIN_S))
    cont_deadline = run.rec.t0 + share
    rng = as_rng(run.seed)
    x = X0.ravel() + rng.normal(scale=1e-3 * hall.d_min, size=X0.size)
    bounds = _bounds(problem, run.n)
    stop = StopAt(cont_deadline, tick=lambda: run.rec.tick("continuous"))
    for mu in run.stages:
        if time.monotonic() > cont_deadline:
            run.rec.stopped_by = "time limit"
            break
        run.obj.mu = mu
        res = minimize(run.obj, x, jac=True, method="L-BFGS-B", bounds=bounds,
                       callback=stop, options={"maxiter": run.maxiter, "maxcor": 20})
        x = res.x
        run.iters += int(res.nit)
        run.say(f"continuous ({name} start): penalty {mu:g}, {res.nit} iterations, "
                f"S={walking_cost(x.reshape(-1, 3), problem)['total']:.4f}")
    return x.reshape(-1, 3)


def _repair_and_snap(run: _Run, Xc: np.ndarray) -> dict:
    """The continuous layout snapped to the lattice and repaired: the feasible ones."""
    out = {}
    snapped = snap_to_sites(Xc, run.problem, run.near)
    run.rec.offer(snapped, "continuous, snapped to the lattice")
    out["continuous, snapped"] = snapped
    if run.n > REPAIR_MAX:
        return out          # the re-seating loop is slow and its result poor at this size
    try:
        Xr = repair(Xc.copy(), run.problem, sites=run.sites,
                    deadline=run.rec.t0 + REPAIR_SHARE * run.time_limit)
        if run.rec.offer(Xr, "continuous, repaired") < np.inf and is_feasible(Xr, run.hall):
            out["continuous, repaired"] = Xr
    except LayoutError as exc:
        run.say(f"continuous, repair failed ({exc}); keeping the lattice candidates")
    return out


def _search(run: _Run, candidates: dict) -> None:
    """Site search from the best candidate and the best of the other kind (lattice
    start or continuous; only the best for large problems), each to convergence
    within its share of the time left, then kicks on the better."""
    ranked = sorted(candidates.items(), key=lambda kv: run.objective(kv[1]))
    if run.n <= 2000:
        # the best, and the best of the other kind (lattice start / continuous)
        other = [kv for kv in ranked[1:] if (kv[0] in STARTS) != (ranked[0][0] in STARTS)]
        ranked = ranked[:1] + other[:1]
    else:
        ranked = ranked[:1]
    found = []
    for r, (name, Xs) in enumerate(ranked):
        share = 0.4 if r < len(ranked) - 1 else 0.6
        until = min(run.deadline, time.monotonic() + share * max(0.0, run.rec.left()))
        ss = SiteSearch(run.problem, site_pool(Xs, run.by_distance, run.hall.d_min))
        done = ss.converge(run.seed, deadline=until,
                           tick=lambda: run.rec.tick(f"site search from {name}"))
        run.rec.offer(ss.positions(), f"{name} + site search ({ss.moves} moves, "
                                      f"k up to {ss.k}{'' if done else ', cut by time'})")
        found.append((ss.S, r, name, ss))
        if run.rec.time_up():
            break
    _, _, name, ss = min(found, key=lambda t: t[:2])
    moves = SiteMoves(ss, run.rec, seed=run.seed, kicks=run.kicks, how=f"{name} + site search")
    run.engine = drive(moves, run.rec, run.options, how=moves.how, seed=run.seed,
                       bound=run.bound, movable=run.n > 1,
                       tick=lambda: run.rec.tick("restarts from the best"), settle=True)
    run.kicks_tried = ss.kicks_tried


def _incremental(run: _Run) -> None:
    """From today's layout: books on today's spots plus free lattice sites (new books,
    without a current spot, on the free sites nearest the entrance); swaps, kicks,
    relocations; without a move budget also a layout from scratch. With a time limit,
    the engine's restarts (more kicks from the best) use the time left."""
    X, free = _current_start(run)
    run.rec.offer(X, "current layout (new books nearest the entrance)")
    ss = run.search(X, "current layout", extra=free)
    run.kicks_tried = INCREMENTAL_KICKS if run.kicks is None else run.kicks
    kept = ss.kicks(run.kicks_tried, seed=run.seed, deadline=run.deadline)
    Xk = ss.positions()
    run.rec.offer(Xk, f"current layout + swap search + {kept} kicks")
    # single books to free sites (the swap search sees only nearby free slots)
    Xr, moved = relocate(Xk, run.problem, run.sites, anchor=run.today(),
                         deadline=run.deadline)
    if moved:
        run.rec.offer(Xr, f"current layout + swap search + {kept} kicks + {moved} relocations")
    if run.max_moves is None and time.monotonic() < run.deadline:
        run.say("also trying a layout from scratch (no --max-moves)")
        scratch = _Run(run.problem, run.options.replace(move_cost=0.0, max_moves=None),
                       run.deadline, anchor=None, bound=run.bound, stages=run.stages,
                       maxiter=run.maxiter, polish=run.polish)
        with scratch.rec.stage():
            _from_scratch(scratch)
        if scratch.rec.X is not None:
            run.rec.offer(scratch.rec.X, "from scratch")
    if run.options.use_all_time and not run.rec.time_up():
        X = run.rec.X
        gap, _ = cKDTree(X).query(free, k=1)           # the sites still free around the best
        best = SwapSearch(X, run.problem, free[gap >= run.hall.d_min * (1 - 1e-6)],
                          anchor=run.today())
        moves = SwapMoves(best, count=max(run.kicks_tried, 1), seed=run.seed)
        run.engine = drive(moves, run.rec, run.options, how="best + kicks", seed=run.seed,
                           settle=False, movable=run.max_moves != 0,
                           tick=lambda: run.rec.tick("restarts from the best"))


def _current_start(run: _Run) -> tuple:
    """Today's positions with the new books placed, and the free sites kept as
    empty slots for the search."""
    hall, problem = run.hall, run.problem
    X = run.anchor.copy()
    have = np.isfinite(X).all(axis=1)
    if have.any() and not is_feasible(X[have], hall):
        raise LayoutError(
            "the current layout is not feasible (books closer than d_min or outside "
            "the hall); fix its positions, or fit without --current")
    if have.any():
        dist, _ = cKDTree(X[have]).query(run.by_distance, k=1)
        free = run.by_distance[dist >= hall.d_min * (1 - 1e-6)]
    else:
        free = run.by_distance
    new = np.flatnonzero(~have)
    if len(free) < len(new):
        raise LayoutError(f"no room for the {len(new)} books that have no current "
                          f"position; enlarge the hall")
    order = new[np.lexsort((new, -problem.p[new]))]
    X[order] = free[: len(new)]
    return X, free[len(new):][: max(problem.n, 64)]


# ---------------------------------------------------------------------------
# the penalised objective of the continuation


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


