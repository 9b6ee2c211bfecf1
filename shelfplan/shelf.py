"""The library API for shelving plans (halls with ``stacks``, MODEL.md section 8).

:func:`shelfplan.api.fit` and :func:`shelfplan.api.baseline` come here when the
hall has stacks: the books are the holdings (every book the library shelves,
borrowed or not) plus any borrowed book the holdings miss, or without
holdings the books in the loans; each gets a slot, and ``objective.total`` of
the layout is S_walk (MODEL.md 8.4).
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from shelfplan.errors import LayoutError
from shelfplan.ingest.callsort import sort_keys
from shelfplan.ingest.loans import Loans, filter_until, read_loans
from shelfplan.layout import Layout
from shelfplan.model.estimate import Estimates, estimate
from shelfplan.model.hall import Hall
from shelfplan.model.shelving import (ShelfProblem, check_slots, shelved_cost, shelving_lower_bound,
                                     slot_positions, slots)
from shelfplan.solve.record import seed_info
from shelfplan.solve.shelving import shelf_baseline, solve_shelving

log = logging.getLogger(__name__)

__all__ = ["shelf_problem", "make_plan", "fit_plan", "plan_baseline"]

STORED_PAIRS = 500


def order_key(items: np.ndarray, callnumbers) -> np.ndarray:
    """Rank of each book in call-number order (library sort), ties by item id."""
    ids = np.array([str(i) for i in items])
    if callnumbers is None:
        return np.argsort(np.argsort(ids, kind="stable"), kind="stable")
    key = sort_keys(list(callnumbers))
    order = np.lexsort((ids, key))
    rank = np.empty(len(ids), dtype=np.int64)
    rank[order] = np.arange(len(ids))
    return rank


def with_holdings(est: Estimates, holdings) -> tuple[Estimates, np.ndarray | None]:
    """The estimates over every book of the plan (borrowed first, then the holdings'
    books never borrowed, p = 0), and each book's call number (None where unknown).

    ``holdings``: a path, ``-`` or :class:`~shelfplan.ingest.holdings.Holdings`.
    """
    if holdings is None:
        return est, est.categories
    from shelfplan.ingest.holdings import Holdings, merge_holdings, read_holdings

    if not isinstance(holdings, Holdings):
        holdings = read_holdings(holdings)
    books = merge_holdings(holdings, est)
    est = est.with_items(list(books.items), list(books.categories))
    where = pd.Index(books.items, dtype=object).get_indexer(pd.Index(est.items, dtype=object))
    cats = books.categories[where]
    est.categories = None if all(c is None for c in cats) else cats
    calls = books.callnumbers[where]
    titles = books.titles[where]
    est.titles = None if pd.isna(titles).all() else titles   # for make_plan
    est.summary["holdings"] = {"source": holdings.source, "books": int(len(books)),
                               "never_borrowed": int(len(books) - len(books.loan_index)),
                               "added_from_loans": int(books.n_added)}
    return est, np.where(pd.isna(calls), cats, calls)


def shelf_problem(loans, hall: Hall, *, holdings=None, until=None, read_options=None,
                  generalise=None) -> tuple[Estimates, ShelfProblem]:
    """Loans (and holdings) in a stacked hall to the shelving problem."""
    if not isinstance(loans, Loans):
        loans = read_loans(loans, **(read_options or {}))
    loans = filter_until(loans, until=until)
    est = estimate(loans, generalise)
    if until is not None:
        est.summary["until"] = str(until)
    est, calls = with_holdings(est, holdings)
    check_slots(est.n, hall)
    return est, ShelfProblem.from_estimates(est, hall, order_key(est.items, calls), calls)


def make_plan(problem: ShelfProblem, est: Estimates, loc: np.ndarray, solver: dict) -> Layout:
    """A shelving plan: every book in a slot (checked), with S_walk and the bound."""
    loc = np.asarray(loc, dtype=np.int64)
    if (loc < 0).any() or (np.bincount(loc, minlength=problem.m) > problem.capacity).any():
        raise LayoutError("internal: refusing to write a shelving plan that is not feasible")
    shelf, slot = slots(loc, problem)
    pairs = est.top_pairs(STORED_PAIRS)
    return Layout(
        hall=problem.hall, items=problem.items, p=problem.p, categories=problem.categories,
        positions=slot_positions(problem.stacks, loc, shelf, slot),
        objective=shelved_cost(loc, problem), lower_bound=shelving_lower_bound(problem),
        min_spacing=float("nan"), estimation=est.summary, solver=solver,
        pairs=list(zip(pairs["item_a"], pairs["item_b"], pairs["p_pair"])),
        shelf={"loc": loc, "shelf": shelf, "slot": slot, "callnumber": problem.callnumbers,
               "titles": getattr(est, "titles", None)})


def fit_plan(loans, hall: Hall, *, holdings=None, seed=0, time_limit: float = 50.0,
             kicks: int | None = None, until=None, read_options=None, progress=None,
             generalise=None) -> Layout:
    """``shelfplan fit`` on a stacked hall: a shelving plan of low S_walk."""
    t0 = time.monotonic()
    est, problem = shelf_problem(loans, hall, holdings=holdings, until=until,
                                 read_options=read_options, generalise=generalise)
    problem.D                                          # the walking table, once, timed
    left = max(0.5, time_limit - (time.monotonic() - t0) - 0.5)
    loc, info = solve_shelving(problem, seed=seed, time_limit=left, kicks=kicks,
                               progress=progress)
    return make_plan(problem, est, loc, info)


def plan_baseline(name: str, loans, hall: Hall, *, holdings=None, seed=0, until=None,
                  read_options=None) -> Layout:
    """A baseline shelving plan (``shelfplan baseline NAME`` on a stacked hall)."""
    est, problem = shelf_problem(loans, hall, holdings=holdings, until=until,
                                 read_options=read_options)
    t0 = time.monotonic()
    loc = shelf_baseline(name, problem, seed=seed)
    info = {"method": f"baseline:{name}", "seed": seed_info(seed), "iterations": 0,
            "seconds": round(time.monotonic() - t0, 3)}
    return make_plan(problem, est, loc, info)
