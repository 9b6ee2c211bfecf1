"""Category blocks (``--level category``): the block solver and its baselines.

A category placed as one unit is a disc of shelving (:mod:`shelfplan.model.discs`
has the geometry and the feasibility rule). :func:`solve_blocks` builds
feasible layouts greedily on a fine grid of candidate centres (blocks in a
chosen order, each at the free spot that adds least walking;
:mod:`shelfplan.solve.block_place`), improves each with L-BFGS-B on the
smoothed cost plus overlap and wall penalties
(:mod:`shelfplan.solve.block_continuous`), repairs the result, swaps whole
blocks (:mod:`shelfplan.solve.block_search`, on the search core) and keeps
the best feasible one in a :class:`~shelfplan.solve.record.Record`.
:func:`incremental_blocks` starts from today's blocks instead. Pairs are found
with a KD-tree; nothing is ``n x n``.
"""

from __future__ import annotations

import time

import numpy as np

from shelfplan.errors import HallError, LayoutError
from shelfplan.ingest.callsort import shelf_ranks
# the disc geometry, re-exported for callers of the block solver
from shelfplan.model.discs import (block_radius, check, check_room, is_feasible,  # noqa: F401
                                   room_for)
from shelfplan.model.objective import walking_cost
from shelfplan.solve.block_continuous import STAGES
from shelfplan.solve.block_place import Discs
from shelfplan.solve.block_search import relocations
from shelfplan.solve.engine import drive
from shelfplan.solve.record import Record, SolveResult, as_rng, seed_info

#: how many of the best candidate layouts get the block-swap search
SWAP_STARTS = 3
METHOD = ("category blocks: greedy placement + L-BFGS-B penalty continuation + "
          "repair + block swaps")
NO_LAYOUT = ("no feasible block layout was found in hall {hall!r}: the blocks do not pack "
             "on its floor; enlarge the hall, use finer categories (--category-level) or "
             "place items (--level item)")


def solve_blocks(problem, options, deadline: float) -> SolveResult:
    """A feasible block layout of low walking cost (see the module docstring), by
    ``deadline``.

    Starts: the attached order, popularity order and largest-first order; then
    ``options.kicks`` (default 20) randomised attached orders, while less than 60 % of
    the time is used; then block swaps on the three best layouts. Each start is
    improved continuously and repaired; the best feasible layout wins. Deterministic
    for a seed unless the deadline cuts it; with a time limit the engine's restarts
    (more randomised starts, improved, repaired and swapped) use the time left.
    """
    restarts = 20 if options.kicks is None else int(options.kicks)
    rng = as_rng(options.seed)
    rec = Record(None, None, deadline=deadline, say=options.progress, only_best=True,
                 keep=True)
    geo = Discs(problem)
    rec.objective, rec.feasible = geo.cost, geo.feasible
    counts = {"iterations": 0, "swaps": 0}
    moves, engine = DiscMoves(rec, geo, rng, restarts, counts), {}
    with rec.stage():
        engine = drive(moves, rec, options, how="block layout", seed=rng,
                       movable=problem.n > 1, tick=lambda: rec.tick("restarts from the best"))
    X = rec.best(NO_LAYOUT.format(hall=problem.hall.name))
    info = {
        "method": METHOD, "seed": seed_info(options.seed), "best_from": rec.how,
        "iterations": counts["iterations"], "swaps": counts["swaps"],
        "stages": list(STAGES), "restarts": restarts, "grid_step": round(geo.step, 4),
        "history": rec.history, "seconds": round(time.monotonic() - rec.t0, 3),
        **options.record(), "stopped_by": rec.stopped_by, "engine": engine,
        "interrupted": rec.interrupted,
    }
    return SolveResult(plan=X, cost=walking_cost(X, problem), info=info,
                       interrupted=rec.interrupted)


class DiscMoves:
    """The category discs' moves for the engine (:func:`shelfplan.solve.engine.drive`):
    ``settle`` builds the starts and swaps whole blocks on the best of them; each
    ``restart`` one more randomised attached-order start, improved, repaired and
    swapped. The best layout is the record's (``rec``)."""

    def __init__(self, rec: Record, geo: Discs, rng, restarts: int, counts: dict):
        self.rec, self.geo, self.rng, self.restarts, self.counts = rec, geo, rng, restarts, counts

    def settle(self, deadline: float) -> None:
        rec = self.rec
        _starts(rec, self.geo, self.rng, self.restarts, rec.t0 + 0.6 * (deadline - rec.t0),
                self.counts)
        _swap_rounds(rec, self.geo, self.counts)

    def restart(self, rng, deadline: float, round_: int) -> None:
        geo, rec = self.geo, self.rec
        how = f"restart {round_ + 1}, randomised attached order"
        X = geo.greedy(geo.attached_order(noise=0.5, rng=rng), deadline=deadline)
        rec.offer(X, f"greedy, {how}", geo.failure)
        if X is None:
            return
        Xi, it = geo.improve(X, deadline)
        self.counts["iterations"] += it
        Xr = geo.repair(Xi, deadline=deadline)
        rec.offer(Xr, f"greedy, {how}, improved", "repair did not converge")
        if Xr is not None and time.monotonic() < deadline:
            Xs, m = geo.swaps(Xr, deadline)
            self.counts["swaps"] += m
            rec.offer(Xs, f"greedy, {how}, improved + {m} swaps")

    def cost(self) -> float:
        return self.rec.F

    def plan(self):
        return self.rec.X


def _starts(rec: Record, geo: Discs, rng, restarts: int, starts_deadline: float,
            counts: dict) -> None:
    """Greedy layouts in several orders, each improved continuously and repaired."""
    n, p = geo.n, geo.problem.p
    orders = [("attached order", geo.attached_order()),
              ("popularity order", np.lexsort((np.arange(n), -p))),
              ("largest first", np.lexsort((-p, -geo.rho)))]
    orders += [(f"randomised attached order {k + 1}", None) for k in range(restarts)]
    for k, (how, order) in enumerate(orders):
        # the starts get at most 60 % of the time, so the swaps always run
        if k >= 1 and time.monotonic() > starts_deadline:
            rec.stopped_by = "time limit"
            break
        if order is None:
            order = geo.attached_order(noise=0.5, rng=rng)
        # the first greedy layout is always completed: it is the fallback
        X = geo.greedy(order, deadline=None if rec.X is None else starts_deadline)
        rec.offer(X, f"greedy, {how}", geo.failure)
        if X is None:
            continue
        Xi, it = geo.improve(X, starts_deadline)
        counts["iterations"] += it
        rec.offer(geo.repair(Xi, deadline=rec.deadline), f"greedy, {how}, improved",
                  "repair did not converge")


def _swap_rounds(rec: Record, geo: Discs, counts: dict) -> None:
    """Swaps of whole blocks on the best layouts, each followed by a continuous
    improvement, while that helps."""
    ranked = sorted([h for h in rec.history if h["feasible"]], key=lambda h: h["objective"])
    for h in ranked[:SWAP_STARTS]:
        X = rec.kept[h["candidate"]]
        for rnd in range(1, 6):
            if time.monotonic() > rec.deadline:
                break
            Xs, m = geo.swaps(X, rec.deadline)
            counts["swaps"] += m
            if m == 0:
                break
            rec.offer(Xs, f"{h['candidate']} + {m} swaps (round {rnd})")
            Xi, it = geo.improve(Xs, rec.deadline)
            counts["iterations"] += it
            Xr = geo.repair(Xi, deadline=rec.deadline)
            rec.offer(Xr, f"{h['candidate']} + swaps, improved (round {rnd})",
                      "repair did not converge")
            X = Xr if Xr is not None and geo.cost(Xr) < geo.cost(Xs) else Xs


class _Moves:
    """Today's blocks, the move cost and budget of an incremental block proposal."""

    def __init__(self, geo: Discs, anchor: np.ndarray, move_cost: float,
                 max_moves: int | None):
        self.geo, self.lam, self.max_moves = geo, float(move_cost), max_moves
        self.A = np.array(anchor, dtype=float)
        self.has = np.isfinite(self.A).all(axis=1)
        self.A[self.has, 2] = geo.z
        self.relocations = self.swaps = 0

    def dist(self, Y) -> np.ndarray:
        return np.linalg.norm(Y[self.has] - self.A[self.has], axis=1)

    def objective(self, Y) -> float:
        return self.geo.cost(Y) + self.lam * float(self.dist(Y).sum())

    def feasible(self, Y) -> bool:
        return self.geo.feasible(Y) and (
            self.max_moves is None or int(self.geo.moved(Y, self.A).sum()) <= self.max_moves)

    def how(self) -> str:
        return f"current layout + {self.relocations} relocations + {self.swaps} swaps"


def incremental_blocks(problem, anchor: np.ndarray, options, deadline: float) -> SolveResult:
    """A proposal that starts from today's blocks (``anchor``; NaN rows for categories
    without a spot, placed greedily around the others): single-block relocations
    and block swaps while they lower ``S + move_cost * sum ||v_i - anchor_i||``,
    with at most ``max_moves`` blocks off their spot (``options``). Without
    ``max_moves`` a layout from scratch is tried too."""
    max_moves = options.max_moves
    rec = Record(None, None, deadline=deadline, say=options.progress, label="S + move cost")
    geo = Discs(problem)
    mv = _Moves(geo, anchor, options.move_cost, max_moves)
    rec.objective, rec.feasible = mv.objective, mv.feasible
    X = _current_blocks(geo, mv)
    rec.offer(X, "current layout" + (" (new categories placed greedily)"
                                     if (~mv.has).any() else ""))
    state = {"X": X}
    with rec.stage(on_interrupt=lambda: rec.offer(state["X"], mv.how() + " (interrupted)")):
        _block_moves(rec, geo, mv, state)
        rec.offer(state["X"], mv.how())
        if (max_moves is None or max_moves >= problem.n) and rec.left() > 0:
            res = solve_blocks(problem, options.replace(move_cost=0.0, max_moves=None),
                               max(deadline, time.monotonic() + 1.0))
            rec.offer(res.positions, "from scratch")
    rec.time_up()
    X = rec.best(NO_LAYOUT.format(hall=problem.hall.name))
    dist = mv.dist(X)
    info = {
        "method": "category blocks, incremental: block relocations + block swaps",
        "seed": seed_info(options.seed), "best_from": rec.how, "history": rec.history,
        "seconds": round(time.monotonic() - rec.t0, 3), **options.record(),
        "stopped_by": rec.stopped_by, "interrupted": rec.interrupted,
        "move_cost": mv.lam, "max_moves": max_moves,
        "moved": int((dist > 1e-6).sum()), "move_distance": float(dist.sum()),
        "objective_with_moves": rec.F,
    }
    return SolveResult(plan=X, cost=walking_cost(X, problem), info=info,
                       interrupted=rec.interrupted)


def _current_blocks(geo: Discs, mv: _Moves) -> np.ndarray:
    """Today's blocks, the categories without a spot placed greedily around them."""
    X = np.where(mv.has[:, None], mv.A, 0.0)
    new = np.flatnonzero(~mv.has)
    if mv.has.any() and not is_feasible(X[mv.has], geo.rho[mv.has], geo.hall):
        # today's blocks no longer fit where they stand (their books grew)
        raise LayoutError(
            "the current layout's category blocks overlap or stand too near a wall at the "
            "sizes they have now (categories grew since it was made, or it was edited); fit "
            "from scratch, or give a current layout that is feasible at today's sizes")
    if len(new):
        order = new[np.lexsort((new, -geo.problem.p[new]))]
        X = geo.greedy(order, fixed=mv.has, start=X)
        if X is None:
            raise LayoutError(f"no room for the {len(new)} categories without a current "
                              f"spot; enlarge the hall")
    return X


def _block_moves(rec: Record, geo: Discs, mv: _Moves, state: dict) -> None:
    """Relocations and swaps in turn until neither helps (at most 50 rounds)."""
    for _ in range(50):
        X, r = relocations(geo, state["X"], mv.A, mv.lam, mv.max_moves, rec.deadline)
        state["X"] = X
        X, m = geo.swaps(X, rec.deadline, anchor=mv.A, move_cost=mv.lam,
                         max_moves=mv.max_moves)
        state["X"] = X
        mv.relocations, mv.swaps = mv.relocations + r, mv.swaps + m
        if r == 0 and m == 0 or time.monotonic() > rec.deadline:
            break


def baseline_blocks(name: str, problem, seed=0) -> np.ndarray:
    """Block baselines, each block at the free spot nearest the entrance: ``random``
    order, ``popularity`` (most borrowed first) or ``callnumber`` (by category name,
    today's shelving order)."""
    geo = Discs(problem)
    n = problem.n
    if name == "random":
        order = as_rng(seed).permutation(n)
    elif name == "popularity":
        order = np.lexsort((np.arange(n), -problem.p))
    elif name == "callnumber":                 # categories (QA76, 823) in shelf order
        names = np.array([str(i) for i in problem.items])
        order = np.lexsort((names, shelf_ranks(names)))
    else:
        raise ValueError(f"baseline must be random, popularity or callnumber, got {name!r}")
    X = geo.greedy(order, mode="entrance")
    if X is None:
        X = geo.greedy(np.lexsort((order.argsort(), -geo.rho)), mode="entrance")
    if X is None:
        raise HallError(f"the category blocks do not pack in hall {problem.hall.name!r}; "
                        f"enlarge the hall or use finer categories (--category-level)")
    return X
