"""Shelving plans (MODEL.md section 8.4): which book goes in which location.

The books that cost anything (borrowed: p > 0 or a partner) are placed by
the table search of the core (:mod:`shelfplan.solve.shelf_search`) from the
better of two starts, popularity slotting and a greedy fill that seats each
book, most borrowed first, in the free location cheapest given the entrance
and the partners already seated. The books never borrowed cost nothing
wherever they stand: they fill the slots left, in call-number order along
the shelving order, so the rest of the collection stays findable. Baselines
(today's call-number shelving, popularity slotting, random) use the same
fill.
"""

from __future__ import annotations

import time

import numpy as np

from shelfplan.model.shelving import (ShelfProblem, cost_label, shelved_cost,
                                      shelving_lower_bound)
from shelfplan.solve.engine import drive
from shelfplan.solve.options import FitOptions
from shelfplan.solve.record import Record, SolveResult, as_rng, seed_info
from shelfplan.solve.shelf_search import TableSearch, fill_by_entrance, greedy_fill

__all__ = ["solve_shelving", "shelf_baseline", "SHELF_BASELINES", "active_books", "fill_rest"]

SHELF_BASELINES = ("random", "popularity", "callnumber")


def active_books(problem: ShelfProblem) -> np.ndarray:
    """Books whose place changes S: borrowed at all (p > 0) or with a partner."""
    deg = np.bincount(np.concatenate([problem.I, problem.J]), minlength=problem.n)
    return np.nonzero((problem.p > 0) | (deg > 0))[0]


def fill_rest(loc: np.ndarray, problem: ShelfProblem) -> np.ndarray:
    """Books without a location (-1) into the free slots, in call-number order along
    the shelving order (locations are numbered in shelving order)."""
    loc = np.asarray(loc, dtype=np.int64).copy()
    rest = np.nonzero(loc < 0)[0]
    if len(rest) == 0:
        return loc
    free = problem.capacity - np.bincount(loc[loc >= 0], minlength=problem.m)
    slots = np.repeat(np.arange(problem.m), free)
    order = rest[np.argsort(problem.order_key[rest], kind="stable")]
    loc[order] = slots[:len(order)]
    return loc


def _popularity_order(problem: ShelfProblem, books: np.ndarray) -> np.ndarray:
    return books[np.lexsort((problem.order_key[books], -problem.p[books]))]


def shelf_baseline(name: str, problem: ShelfProblem, seed=0) -> np.ndarray:
    """Location of every book for the named baseline."""
    n = problem.n
    if name == "callnumber":
        return fill_rest(np.full(n, -1), problem)
    if name == "popularity":
        books = _popularity_order(problem, active_books(problem))
        return fill_rest(fill_by_entrance(books, problem.D, problem.capacity, n), problem)
    if name == "random":
        slots = np.repeat(np.arange(problem.m), problem.capacity)
        return as_rng(seed).permutation(slots)[:n].astype(np.int64)
    raise ValueError(f"baseline must be one of {', '.join(SHELF_BASELINES)}, got {name!r}")


def _starts(problem: ShelfProblem, books: np.ndarray, record: Record) -> None:
    n, D, cap = problem.n, problem.D, problem.capacity
    order = _popularity_order(problem, books)
    with record.stage():
        record.offer(fill_by_entrance(order, D, cap, n), "popularity slotting")
        if not record.time_up():
            W = problem.symmetric_weights()
            record.offer(greedy_fill(order, D, cap, problem.p, W, n), "greedy fill")


class TableMoves:
    """The distance-table family's moves for the engine
    (:func:`shelfplan.solve.engine.drive`): ``settle`` is :meth:`TableSearch.run`
    (sweeps to convergence, then kicks until ``patience`` in a row fail or
    ``max_kicks``); each ``restart`` one more kick from the best (an annealing round
    or a stretch of tabu search when each place holds one book, else a scatter kick
    and sweeps), the search left on its best assignment."""

    def __init__(self, search: TableSearch, *, max_kicks: int | None = None,
                 patience: int = 200, say=None):
        self.search, self.max_kicks, self.patience, self.say = search, max_kicks, patience, say

    def settle(self, deadline: float) -> None:
        self.search.run(deadline, max_kicks=self.max_kicks, patience=self.patience,
                        say=self.say)

    def restart(self, rng, deadline: float, round_: int) -> None:
        self.search.step(deadline)
        self.search.restore()

    def cost(self) -> float:
        return self.search.best_S

    def plan(self) -> np.ndarray:
        return self.search.best_loc.copy()


def solve_shelving(problem: ShelfProblem, options: FitOptions, deadline: float, *,
                   patience: int = 200) -> SolveResult:
    """The location of every book (``plan``, ``(n,)``, 0-based) by ``deadline``: the
    better start, then the table search driven by the engine (``options``: ``seed``,
    ``kicks``, ``progress``, the time use)."""
    books = active_books(problem)
    cap = problem.capacity
    seed, progress = options.seed, options.progress

    def feasible(loc):
        return bool((np.bincount(loc[loc >= 0], minlength=problem.m) <= cap).all())

    def objective(loc):
        return shelved_cost(np.where(loc >= 0, loc, 0), problem)["total"]

    record = Record(objective, feasible, deadline=deadline, say=progress,
                    label=cost_label(problem))
    rng = as_rng(seed)
    _starts(problem, books, record)
    start = record.best("internal: no start for the shelving plan")
    search, engine = None, {}
    if len(books) > 1 and not record.time_up():
        search = TableSearch(start, problem.D, problem.p, problem.symmetric_weights(), cap,
                             active=books, seed=rng)
        moves = TableMoves(search, max_kicks=options.kicks, patience=patience, say=progress)
        with record.stage():
            engine = drive(moves, record, options, how="table search", seed=rng,
                           bound=shelving_lower_bound(problem)["total"],
                           tick=lambda: record.tick("restarts from the best"))
    loc = fill_rest(record.best("internal: no shelving plan"), problem)
    info = {"method": "shelving: table search", "seed": seed_info(seed),
            "start": record.history[0]["candidate"] if record.history else None,
            "best": record.how, "books_searched": int(len(books)),
            "kicks": 0 if search is None else search.kicks,
            "kicks_kept": 0 if search is None else search.improved_kicks,
            "stopped_by": record.stopped_by, "history": record.history, "engine": engine,
            **options.record(), "seconds": round(time.monotonic() - record.t0, 3)}
    return SolveResult(plan=loc, cost=shelved_cost(loc, problem), info=info,
                       interrupted=record.interrupted, kind="locations")
