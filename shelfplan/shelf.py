"""The shelving side of the pipeline (halls with ``stacks``, MODEL.md section 8).

:mod:`shelfplan.pipeline` comes here when the hall has stacks: the books are the
holdings (every book the library shelves, borrowed or not) plus any borrowed
book the holdings miss, or without holdings the books in the loans; each gets a
slot, and ``objective.total`` of the layout is S_walk (MODEL.md 8.4), or with
``objective`` visits the visits objective (:mod:`shelfplan.model.visit_weights`;
``objective.objective`` names it).
:func:`build_shelving` makes the problem, :func:`make_plan` the layout.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd

from shelfplan.errors import LayoutError
from shelfplan.ingest.callsort import order_options, shelf_ranks
from shelfplan.layout import Layout
from shelfplan.model.estimate import Estimates, estimate_loans
from shelfplan.ingest.loans import Loans, filter_until, read_loans
from shelfplan.model.hall import Hall
from shelfplan.layout import hall_difference
from shelfplan.model.visit_weights import Objective, visit_estimates
from shelfplan.model.shelving import (ShelfProblem, check_slots, shelved_cost, shelving_lower_bound,
                                     slot_positions, slots)
from shelfplan.solve.options import FitOptions
from shelfplan.solve.record import SolveResult, seed_info
from shelfplan.solve.runs_moves import global_slots
from shelfplan.solve.shelving import shelf_baseline

log = logging.getLogger(__name__)

__all__ = ["shelf_problem", "build_shelving", "check_stacked", "plan_layout", "plan_baseline",
           "check_blocks", "block_categories"]


def order_key(items: np.ndarray, callnumbers, shelf_order=None) -> np.ndarray:
    """Rank of each book in call-number order (:func:`shelf_ranks` with the ``scheme``
    and ``prefix_order`` of ``shelf_order``), ties by item id."""
    ids = np.array([str(i) for i in items])
    if callnumbers is None:
        return np.argsort(np.argsort(ids, kind="stable"), kind="stable")
    key = shelf_ranks(list(callnumbers), **order_options(shelf_order))
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
                  generalise=None, objective=None) -> tuple[Estimates, ShelfProblem]:
    """Loans (and holdings) in a stacked hall to the shelving problem; ``objective``
    (``walk``, ``visits`` or a :class:`~shelfplan.model.visit_weights.Objective`) sets
    what its weights are (S_walk's estimates, or :func:`visit_estimates`)."""
    objective = Objective.coerce(objective)
    if objective.name != "walk" and not isinstance(loans, Loans):
        loans = read_loans(loans, **(read_options or {}))
    est = estimate_loans(loans, until=until, read_options=read_options, generalise=generalise)
    est, calls = with_holdings(est, holdings)
    check_slots(est.n, hall)
    shelf_order = order_options(read_options)
    if shelf_order != order_options():
        est.summary["shelf_order"] = shelf_order      # for the signs and the stack map
    weights = est
    if objective.name == "visits":
        weights = visit_estimates(est, filter_until(loans, until=until), objective.pairs,
                                  objective.unseen)
    problem = ShelfProblem.from_estimates(weights, hall, order_key(est.items, calls, shelf_order),
                                          calls)
    problem.objective = objective.label if objective.name != "walk" else "walk"
    return est, problem


def plan_layout(problem: ShelfProblem, result: SolveResult, common: dict, p=None) -> Layout:
    """The layout of a solved shelving problem (``result.kind``: ``locations`` or
    ``sequence``); ``common``: the estimation, solver and pairs records; ``p``: the
    books' popularity (the estimates' p(i): the problem's weights are another
    objective's when it is not S_walk)."""
    if result.kind == "sequence":
        sequence = np.asarray(result.plan, dtype=np.int64)
        if len(np.unique(sequence)) != len(sequence):
            raise LayoutError("internal: two books in one slot")
        L, S, T = problem.stacks.slot_order()
        loc, shelf, slot = L[sequence], S[sequence], T[sequence]
    else:
        loc = np.asarray(result.plan, dtype=np.int64)
    if (loc < 0).any() or (np.bincount(loc, minlength=problem.m) > problem.capacity).any():
        raise LayoutError("internal: refusing to write a shelving plan that is not feasible")
    if result.kind != "sequence":
        shelf, slot = slots(loc, problem)
    return Layout(
        hall=problem.hall, items=problem.items, p=problem.p if p is None else p,
        categories=problem.categories,
        positions=slot_positions(problem.stacks, loc, shelf, slot),
        objective=shelved_cost(loc, problem), lower_bound=shelving_lower_bound(problem),
        min_spacing=float("nan"),
        shelf={"loc": loc, "shelf": shelf, "slot": slot, "callnumber": problem.callnumbers,
               "titles": getattr(problem, "titles", None)},
        **common)


def check_blocks(layout: Layout) -> str | None:
    """What breaks MODEL.md 8.5 in a shelving plan (None: every category is one run of
    the shelving order, in call-number order within it)."""
    sh = layout.shelf
    seq = np.lexsort((sh["slot"], sh["shelf"], sh["loc"]))       # books in shelving order
    cats = np.array(["\uffff" if layout.categories is None or layout.categories[k] is None
                     else str(layout.categories[k]) for k in seq], dtype=object)
    change = np.concatenate([[True], cats[1:] != cats[:-1]])
    runs = cats[change]
    if len(set(runs)) != len(runs):
        twice = next(c for c in runs if list(runs).count(c) > 1)
        return f"category {twice!r} is split into more than one run"
    calls = sh.get("callnumber")
    if calls is not None:
        shelf_order = order_options(layout.estimation.get("shelf_order"))
        key = shelf_ranks(list(calls[seq]), **shelf_order)
        run_id = np.cumsum(change)
        bad = (np.diff(key) < 0) & (run_id[1:] == run_id[:-1])
        if bad.any():
            k = int(np.argmax(bad))
            return f"{layout.items[seq[k + 1]]!r} stands before a lower call number in its run"
    return None


def build_shelving(loans, hall: Hall, options: FitOptions, *, holdings=None,
                   read_options=None, current=None):
    """The shelving problem of ``fit``: ``(est, problem, today, categories, fill)``.

    With ``keep_order`` blocks, ``categories`` are those the runs are made of, and
    with ``current`` (today's plan, keeping blocks) ``today`` is each book's slot in
    it; for a free plan from ``current`` (any plan of the same hall and books),
    ``today`` is each book's ``(location, shelf, slot)`` there. ``fill``: the growth
    space (:class:`~shelfplan.solve.fill.FillRule`, MODEL.md 8.7) or None.
    """
    from shelfplan.solve.growth import fill_rule

    check_stacked(options, read_options, current)
    est, problem = shelf_problem(loans, hall, holdings=holdings, until=options.until,
                                 read_options=read_options, generalise=options.generalise,
                                 objective=options.objective)
    problem.titles = getattr(est, "titles", None)
    blocks = options.keep_order == "blocks" and options.method == "constrained"
    cats = (block_categories(problem, read_options) if blocks and current is None
            else problem.categories)
    rule = fill_rule(options.shelving, problem, cats, holdings)
    if rule is not None and current is not None:
        raise LayoutError("growth space (`fill`, `fill_table`, `growth_years`) is for plans "
                          "from scratch; drop it or `current`")
    if options.method != "constrained" or current is None:
        return est, problem, None, cats if blocks else None, rule
    current, pos = _today(problem, current)
    sh = current.shelf
    if not blocks:                     # a free plan from today's shelves (MODEL.md 8.8)
        today = np.column_stack([np.asarray(sh[k])[pos] for k in ("loc", "shelf", "slot")])
        return est, problem, today.astype(np.int64), None, None
    if check_blocks(current) is not None:
        raise LayoutError(f"the current plan does not keep call-number blocks "
                          f"({check_blocks(current)}); start from one that does, e.g. "
                          f"shelfplan baseline callnumber")
    today = global_slots(problem.stacks, sh["loc"], sh["shelf"], sh["slot"])[pos]
    return est, problem, today, (current.categories[pos] if current.categories is not None
                                 else None), None


def check_stacked(options: FitOptions, read_options, current) -> None:
    """The options that do not apply to a shelving plan are errors."""
    level = (read_options or {}).get("level") or "item"
    if level == "category" and options.keep_order == "blocks":
        level = "item"
    if level != "item":
        raise LayoutError(f"a hall with stacks places single books; `level` {level} is for "
                          f"halls without stacks")
    if options.tune and (options.keep_order != "none" or current is not None):
        raise LayoutError("`tune` on a hall with stacks is for plans from scratch; drop "
                          "`keep_order` and `current`, or give the strengths a tuned fit chose")
    if options.move_cost and options.keep_order == "blocks":
        raise LayoutError("`move_cost` prices free plans from today's shelves; block proposals "
                          "move whole call-number runs within `max_moves` (drop `move_cost`)")


def _today(problem, current):
    """Today's plan (a path or :class:`Layout`) and, for each book of the problem, its row
    there; another hall or other books is an error."""
    from shelfplan.layout import read_layout

    if not isinstance(current, Layout):
        current = read_layout(current)
    if not current.shelved or hall_difference(current.hall, problem.hall):
        raise LayoutError("`current` must be a shelving plan on the same stacked hall (its hall "
                          "differs); make today's plan with this --hall")
    pos = pd.Index(current.items.astype(str)).get_indexer(problem.items.astype(str))
    if (pos < 0).any():
        raise LayoutError(f"{int((pos < 0).sum())} books of the plan are not in the current "
                          f"plan (e.g. {problem.items[pos < 0][0]!r}); use the same holdings")
    if current.n != problem.n:
        extra = sorted(set(map(str, current.items)) - set(map(str, problem.items)))
        raise LayoutError(f"the current plan has {len(extra)} books the plan does not (e.g. "
                          f"{extra[0]!r}); use the same holdings")
    return current, pos


def _loose(opts, message: str) -> None:
    """A warning, or with ``strict`` an error that says how to fix it."""
    if opts.get("strict"):
        raise LayoutError(f"{message}; give every book a category or a call number (or "
                          f"drop `strict`)")
    log.warning("%s", message)


def block_categories(problem: ShelfProblem, read_options=None) -> np.ndarray:
    """The categories blocks are made of: classes derived from the call numbers with
    ``category_from="callnumber"`` (``scheme``, ``category_level``), else the books'
    categories; books with neither form one block of their own (with a warning)."""
    opts = read_options or {}
    cats = problem.categories
    if opts.get("category_from") == "callnumber" or cats is None:
        from shelfplan.ingest.callnumber import parse
        if problem.callnumbers is None:
            raise LayoutError("call-number blocks need categories or call numbers; give the "
                              "loans or the holdings a category or call-number column")
        cats, scheme, bad = parse(list(problem.callnumbers), opts.get("scheme") or "auto",
                                  opts.get("category_level") or 1)
        if bad:
            from shelfplan.ingest.callnumber import OTHER
            k = int(np.argmax(cats == OTHER))
            _loose(opts, f"{bad} books have call numbers that do not parse as {scheme} "
                         f"classes (e.g. {problem.callnumbers[k]!r} of {problem.items[k]!r}); "
                         f"they form the block {OTHER!r}")
    missing = sum(c is None for c in cats)
    if missing:
        k = next(i for i, c in enumerate(cats) if c is None)
        _loose(opts, f"{missing} books have no category or call number (e.g. "
                     f"{problem.items[k]!r}); they form one block of their own")
    return cats


def plan_baseline(name: str, loans, hall: Hall, *, holdings=None, seed=0, until=None,
                  read_options=None, shelving=None):
    """A baseline shelving plan (``shelfplan baseline NAME`` on a stacked hall):
    ``(est, problem, result)``; with growth space in ``shelving``, ``callnumber`` is
    today's order with that room."""
    est, problem = shelf_problem(loans, hall, holdings=holdings, until=until,
                                 read_options=read_options)
    problem.titles = getattr(est, "titles", None)
    t0 = time.monotonic()
    from shelfplan.solve.growth import fill_rule
    rule = fill_rule(shelving, problem, problem.categories, holdings)
    seq = None
    if rule is None:
        loc = shelf_baseline(name, problem, seed=seed)
    elif name == "callnumber":                              # growth space (issue 20)
        from shelfplan.solve.growth import callnumber_with_room
        seq, loc = callnumber_with_room(problem, rule)
    else:
        raise LayoutError(f"growth space (`fill`) goes with baseline callnumber, not {name}")
    info = {"method": f"baseline:{name}", "seed": seed_info(seed), "iterations": 0,
            "seconds": round(time.monotonic() - t0, 3)}
    if rule is not None:
        info["fill"] = rule.record()
    if seq is not None:
        return est, problem, SolveResult(plan=seq, info=info, kind="sequence")
    return est, problem, SolveResult(plan=loc, info=info, kind="locations")
