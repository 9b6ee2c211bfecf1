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
from shelfplan.layout import Layout
from shelfplan.model.estimate import Estimates, estimate_loans
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
    est = estimate_loans(loans, until=until, read_options=read_options, generalise=generalise)
    est, calls = with_holdings(est, holdings)
    check_slots(est.n, hall)
    return est, ShelfProblem.from_estimates(est, hall, order_key(est.items, calls), calls)


def make_plan(problem: ShelfProblem, est: Estimates, loc, solver: dict,
              sequence: np.ndarray | None = None) -> Layout:
    """A shelving plan: every book in a slot (checked), with S_walk and the bound.

    ``loc`` gives each book's location (the books of a location then stand in
    call-number order); ``sequence`` instead gives each book's slot in the
    shelving order (for runs that must follow each other exactly).
    """
    if sequence is not None:
        sequence = np.asarray(sequence, dtype=np.int64)
        if len(np.unique(sequence)) != len(sequence):
            raise LayoutError("internal: two books in one slot")
        L, S, T = problem.stacks.slot_order()
        loc, shelf, slot = L[sequence], S[sequence], T[sequence]
    else:
        loc = np.asarray(loc, dtype=np.int64)
    if (loc < 0).any() or (np.bincount(loc, minlength=problem.m) > problem.capacity).any():
        raise LayoutError("internal: refusing to write a shelving plan that is not feasible")
    if sequence is None:
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


def check_blocks(layout: Layout) -> str | None:
    """What breaks MODEL.md 8.5 in a shelving plan (None: every category is one run of
    the shelving order, in call-number order within it)."""
    from shelfplan.ingest.callsort import sort_keys

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
        key = sort_keys(list(calls[seq]))
        run_id = np.cumsum(change)
        bad = (np.diff(key) < 0) & (run_id[1:] == run_id[:-1])
        if bad.any():
            k = int(np.argmax(bad))
            return f"{layout.items[seq[k + 1]]!r} stands before a lower call number in its run"
    return None


KEEP_ORDER = ("none", "blocks")


def fit_plan(loans, hall: Hall, *, holdings=None, seed=0, time_limit: float = 50.0,
             kicks: int | None = None, until=None, read_options=None, progress=None,
             generalise=None, keep_order: str = "none", display: dict | None = None,
             current=None, max_moves: int | None = None, shelving=None,
             move_cost: float = 0.0) -> Layout:
    """``shelfplan fit`` on a stacked hall: a shelving plan of low S_walk. With
    ``keep_order="blocks"`` each category stays one run in call-number order
    (MODEL.md 8.5) and the order of the runs is what is optimised; ``display``
    (``{"books": N, "ranges": [...]}``) sets a zone near the entrance (the N
    most borrowed books, or named ranges) shelved freely, out of the blocks.
    ``shelving`` (:class:`~shelfplan.solve.fill.ShelvingOptions`): growth space
    (MODEL.md 8.7) and the options of moves from today (8.8)."""
    if keep_order not in KEEP_ORDER:
        raise LayoutError(f"`keep_order` must be one of {', '.join(KEEP_ORDER)}, got "
                          f"{keep_order!r}")
    t0 = time.monotonic()
    est, problem = shelf_problem(loans, hall, holdings=holdings, until=until,
                                 read_options=read_options, generalise=generalise)
    problem.D                                          # the walking table, once, timed
    left = max(0.5, time_limit - (time.monotonic() - t0) - 0.5)
    # -- growth space (issue 20): the fill rule over the categories the plan is made with
    from shelfplan.solve.growth import fill_rule
    scratch = current is None and max_moves is None
    cats = block_categories(problem, read_options) if keep_order == "blocks" and scratch \
        else problem.categories
    rule = fill_rule(shelving, problem, cats, holdings)
    if rule is not None and (current is not None or max_moves is not None):
        raise LayoutError("growth space (`fill`, `fill_table`, `growth_years`) is for plans "
                          "from scratch; drop it or `current`")
    # --
    if keep_order == "blocks" and (current is not None or max_moves is not None):
        return _incremental_blocks(problem, est, current, max_moves, read_options, seed=seed,
                                   time_limit=left, progress=progress, display=display)
    if keep_order == "blocks":
        from shelfplan.solve.display import blocks_plan
        seq, info = blocks_plan(problem, cats, seed=seed, time_limit=left,
                                progress=progress, display=display, fill=rule)
        if rule is not None:
            info["fill"] = rule.record()
        return make_plan(problem, est, None, info, sequence=seq)
    if current is not None or max_moves is not None or move_cost:   # from today (issue 20)
        return _incremental_free(problem, est, current, max_moves, move_cost, seed=seed,
                                 time_limit=left, progress=progress)
    if display:
        raise LayoutError("a display zone (`display_books`, `display_ranges`) goes with "
                          "`keep_order` blocks: the rest of the books stay in blocks")
    if rule is not None:                                    # growth space (issue 20)
        from shelfplan.solve.room import solve_with_room
        loc, info = solve_with_room(problem, rule, seed=seed, time_limit=left, kicks=kicks,
                                    progress=progress)
        return make_plan(problem, est, loc, info)
    loc, info = solve_shelving(problem, seed=seed, time_limit=left, kicks=kicks,
                               progress=progress)
    return make_plan(problem, est, loc, info)


def _incremental_blocks(problem, est, current, max_moves, read_options, *, seed, time_limit,
                        progress, display):
    """From today's plan (keeping blocks), the best plan moving at most ``max_moves``
    books; its shift plan goes into ``solver["shift_plan"]``."""
    from shelfplan.solve.runs import Blocks
    from shelfplan.solve.runs_moves import global_slots, shift_plan, solve_runs_within

    if current is None or max_moves is None:
        raise LayoutError("an incremental block proposal needs `current` (today's plan) and "
                          "`max_moves`")
    if display:
        raise LayoutError("a display zone is for plans from scratch; drop `display_books` / "
                          "`display_ranges` or `current`")
    current, pos = _today(problem, current)
    if check_blocks(current) is not None:
        raise LayoutError(f"the current plan does not keep call-number blocks "
                          f"({check_blocks(current)}); start from one that does, e.g. "
                          f"shelfplan baseline callnumber")
    sh = current.shelf
    cur_seq = global_slots(problem.stacks, sh["loc"], sh["shelf"], sh["slot"])[pos]
    cats = current.categories[pos] if current.categories is not None else None
    blocks = Blocks(problem, cats)
    problem.categories = blocks.names[blocks.block]
    seq, info = solve_runs_within(problem, blocks, cur_seq, int(max_moves), seed=seed,
                                  time_limit=time_limit, progress=progress)
    L, S, T = problem.stacks.slot_order()
    from shelfplan.solve.budget import carrying
    info["carrying_m"] = round(carrying(problem, L[cur_seq], L[seq])[1], 2)
    ids = problem.stacks.range_ids()
    where = lambda g: (f"{ids[problem.stacks.loc_range[L[g]]]} "  # noqa: E731
                       f"{('left', 'right')[problem.stacks.loc_face[L[g]]]} "
                       f"{problem.stacks.loc_section[L[g]]}/{S[g]}/{T[g]}")
    info["shift_plan"] = [
        {"step": k + 1, "category": None if blocks.names[b] is None else str(blocks.names[b]),
         "books": n, "from": where(a), "to": where(z), "staging": st}
        for k, (b, n, a, z, st) in enumerate(shift_plan(blocks, cur_seq, seq, len(L)))]
    return make_plan(problem, est, None, info, sequence=seq)


def _today(problem, current):
    """Today's plan (a path or :class:`Layout`) and, for each book of the problem, its row
    there; another hall or other books is an error."""
    from shelfplan.layout import hall_difference, read_layout

    if current is None:
        raise LayoutError("a proposal from today's shelves needs `current` (today's plan, e.g. "
                          "from shelfplan baseline callnumber or import-positions)")
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


def _incremental_free(problem, est, current, max_moves, move_cost, *, seed, time_limit,
                      progress):
    """From today's plan (any), the best free plan moving at most ``max_moves`` books
    (MODEL.md 8.8), paying ``move_cost`` per metre carried."""
    from shelfplan.solve.budget import keep_slots, solve_within_budget

    current, pos = _today(problem, current)
    sh = current.shelf
    today = np.asarray(sh["loc"])[pos]
    loc, info = solve_within_budget(problem, today, max_moves, move_cost=move_cost, seed=seed,
                                    time_limit=time_limit, progress=progress)
    seq = keep_slots(problem.stacks, loc, today, np.asarray(sh["shelf"])[pos],
                     np.asarray(sh["slot"])[pos], problem.order_key)
    return make_plan(problem, est, None, info, sequence=seq)


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
                  read_options=None, shelving=None) -> Layout:
    """A baseline shelving plan (``shelfplan baseline NAME`` on a stacked hall); with
    growth space in ``shelving``, ``callnumber`` is today's order with that room."""
    est, problem = shelf_problem(loans, hall, holdings=holdings, until=until,
                                 read_options=read_options)
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
    return make_plan(problem, est, loc, info, sequence=seq)
