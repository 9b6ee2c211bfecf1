"""The one pipeline behind ``fit`` and ``baseline``: loans -> estimates -> problem ->
solve -> layout, for free halls and halls with stacks alike.

* :func:`build_problem`: the loans read and estimated, the hall loaded, and the
  problem of the hall's family (a free-space :class:`~shelfplan.model.problem.Problem`
  or a :class:`~shelfplan.model.shelving.ShelfProblem`), with today's plan in the
  family's terms when the proposal is incremental;
* :func:`shelfplan.solve.solver.solve`: the one search entry;
* :func:`to_layout`: the :class:`~shelfplan.layout.Layout`, checked feasible, with
  its cost, bound and the strongest pairs.

Every option travels as one :class:`~shelfplan.solve.options.FitOptions`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shelfplan.errors import LayoutError
from shelfplan.ingest.loans import Loans, filter_until, read_loans
from shelfplan.layout import Layout, as_written, hall_difference, read_layout
from shelfplan.model.bound import lower_bound
from shelfplan.model.estimate import Estimates, estimate_loans
from shelfplan.model.hall import Hall, check_capacity, default_hall, load_hall
from shelfplan.model.objective import is_feasible, min_spacing, walking_cost
from shelfplan.model.problem import Problem
from shelfplan.solve.options import FitOptions
from shelfplan.solve.record import SolveResult

__all__ = ["Built", "build_problem", "to_layout", "fit_layout", "load_problem", "as_hall",
           "require_stacks", "make_plan",
           "STORED_PAIRS"]

#: How many of the strongest co-borrowed pairs a layout file keeps (for drawing edges).
STORED_PAIRS = 500


@dataclass
class Built:
    """A problem ready to solve: the estimates, the problem, and the data the solver
    needs besides it (today's plan in the family's terms, the blocks' categories,
    the bound, the loans' visits for an embedding)."""

    est: Estimates
    problem: Problem
    current: np.ndarray | None = None
    categories: np.ndarray | None = None
    fill: object = None
    bound: float | None = None
    visits: tuple | None = None


def as_hall(hall):
    """A :class:`Hall` from a path (None stays None)."""
    return hall if hall is None or isinstance(hall, Hall) else load_hall(hall)


def require_stacks(hall, *, holdings=None, keep_order: str = "none", shelving=None) -> None:
    """The inputs that only a hall with stacks takes are errors on a free hall."""
    if hall is not None and hall.stacks is not None:
        return
    if shelving is not None and shelving.has_fill:
        raise LayoutError("growth space (`fill`, `fill_table`, `growth_years`) is room on "
                          "shelves: it needs a hall with stacks")
    if holdings is not None:
        raise LayoutError("`holdings` place every book on a shelf: they need a hall with "
                          "stacks (ranges and banks, docs/formats.md)")
    if keep_order != "none":
        raise LayoutError("`keep_order` blocks keeps call-number runs on shelves: it needs a "
                          "hall with stacks (for halls without, use `level` category)")


def load_problem(loans, hall=None, *, until=None, read_options=None,
                 generalise=None) -> tuple[Estimates, Problem]:
    """Loans and a free hall (path, :class:`Hall` or None: the default hall) to estimates
    and a problem, with the capacity checked."""
    est = estimate_loans(loans, until=until, read_options=read_options, generalise=generalise)
    books = est.n if est.sizes is None else int(est.sizes.sum())
    if hall is None:
        hall = default_hall(books) if est.sizes is None else _block_hall(est.sizes, books)
    hall = as_hall(hall)
    check_capacity(hall, books)
    problem = Problem.from_estimates(est, hall)
    if problem.blocks:
        from shelfplan.solve.blocks import check_room
        check_room(problem.radius, hall)
    return est, problem


def _block_hall(sizes: np.ndarray, books: int) -> Hall:
    """The default hall for category blocks: the default shape, grown until twice the
    blocks' disc area fits (a greedy packing of discs leaves gaps) and the largest
    block has room."""
    from shelfplan.solve.blocks import block_radius, room_for

    headroom = 3.0
    while True:
        hall = default_hall(books, headroom=headroom)
        if room_for(block_radius(sizes, hall), hall, slack=2.0):
            return hall
        headroom *= 1.5


def build_problem(loans, hall, options: FitOptions, *, holdings=None, read_options=None,
                  current=None) -> Built:
    """The problem of ``fit`` (the hall's family), with ``current`` (today's layout: a
    path or :class:`Layout`) in the family's terms."""
    hall = as_hall(hall)
    if options.method != "constrained" and not isinstance(loans, Loans):
        loans = read_loans(loans, **(read_options or {}))     # once: estimates and visits
    if hall is not None and hall.stacks is not None:
        from shelfplan.shelf import check_stacked
        check_stacked(options, read_options, current)
    if current is not None and not isinstance(current, Layout):
        current = read_layout(current)
    if hall is None and current is not None and current.shelved:
        hall = current.hall
    require_stacks(hall, holdings=holdings, keep_order=options.keep_order,
                   shelving=options.shelving)
    if options.objective.name != "walk" and (hall is None or hall.stacks is None
                                             or options.method != "constrained"):
        raise LayoutError("`objective` visits is for shelving plans: it needs a hall with "
                          "stacks and the constrained method")
    if hall is not None and hall.stacks is not None:
        from shelfplan.shelf import build_shelving
        built = Built(*build_shelving(loans, hall, options, holdings=holdings,
                                      read_options=read_options, current=current))
    elif current is not None:
        built = _incremental_free(loans, hall, options, read_options, current)
    else:
        est, problem = load_problem(loans, hall, until=options.until,
                                    read_options=read_options, generalise=options.generalise)
        built = Built(est, problem)
    if options.method != "constrained":
        built.visits = _visits(loans, built.problem.items, options, read_options)
    elif built.problem.family == "sites" and built.current is None:
        h = built.problem.hall
        built.bound = lower_bound(built.est.p, built.est.pair, h.d_min, h.height)["total"]
    return built


def _incremental_free(loans, hall, options: FitOptions, read_options, current: Layout) -> Built:
    """A free hall, from today's layout: the loans read at its level, its books kept
    (p = 0 for books the loans never mention), its positions as the anchor."""
    if isinstance(loans, Loans):
        want = loans.level
    else:
        # the loans are read at the current layout's level (and, for category
        # blocks, with its categories) unless the options say otherwise
        from shelfplan.ingest.options import level_options
        want = (read_options or {}).get("level") or current.level
        if want == current.level:
            read_options = level_options(read_options, [current])
    if current.level != want:
        raise LayoutError(f"the current layout places {current.level!r} units but the "
                          f"loans are read at `level` {want}; use `level` "
                          f"{current.level} (or a current layout at level {want})")
    est, base = load_problem(loans, hall if hall is not None else current.hall,
                             until=options.until, read_options=read_options,
                             generalise=options.generalise)
    est = est.with_items(list(current.items),
                         None if current.categories is None else list(current.categories),
                         None if current.sizes is None else list(current.sizes))
    if est.sizes is not None and current.sizes is not None:
        # a block holds at least the books it holds today, however few were borrowed
        today = dict(zip(map(str, current.items), current.sizes))
        est.sizes = np.maximum(est.sizes, [int(today.get(str(i), 0)) for i in est.items])
    diff = hall_difference(base.hall, current.hall)
    if diff:
        raise LayoutError(f"the current layout is for another hall than `hall` ({diff} "
                          f"differs); use the same hall (or omit `hall` to take the "
                          f"current layout's)")
    check_capacity(base.hall, est.n if est.sizes is None else int(est.sizes.sum()))
    problem = Problem.from_estimates(est, base.hall)
    where = current.index()
    anchor = np.full((problem.n, 3), np.nan)
    rows = np.array([where.get(str(i), -1) for i in problem.items])
    anchor[rows >= 0] = current.positions[rows[rows >= 0]]
    return Built(est, problem, current=anchor)


def to_layout(built: Built, result: SolveResult) -> Layout:
    """The layout of a solved problem (refusing an infeasible one)."""
    problem, est = built.problem, built.est
    pairs = est.top_pairs(STORED_PAIRS)
    common = dict(estimation=est.summary, solver=result.info,
                  pairs=list(zip(pairs["item_a"], pairs["item_b"], pairs["p_pair"])))
    if problem.family == "table":
        from shelfplan.shelf import plan_layout
        return plan_layout(problem, result, common, p=est.p)
    hall = problem.hall
    X = as_written(result.plan)
    if problem.blocks:
        from shelfplan.solve.blocks import is_feasible as blocks_feasible
        ok = blocks_feasible(X, problem.radius, hall)
    else:
        ok = is_feasible(X, hall)
    if not ok:
        raise LayoutError("internal: refusing to write an infeasible layout")
    layout = Layout(
        hall=hall, items=problem.items, positions=X, p=problem.p,
        categories=problem.categories, objective=walking_cost(X, problem),
        lower_bound=lower_bound(est.p, est.pair, hall.d_min, hall.height),
        min_spacing=min_spacing(X), sizes=problem.sizes if problem.blocks else None,
        radius=problem.radius, **common)
    if built.current is not None:
        _moves_as_written(layout, built.current, float(result.info.get("move_cost", 0.0)))
    return layout


def make_plan(problem, est: Estimates, loc, solver: dict,
              sequence: np.ndarray | None = None) -> Layout:
    """A shelving plan's layout from each book's location ``loc`` (the books of a
    location then stand in call-number order) or, with ``sequence``, each book's slot
    in the shelving order (for runs that must follow each other exactly)."""
    plan = SolveResult(plan=loc if sequence is None else sequence, info=solver,
                       kind="locations" if sequence is None else "sequence")
    return to_layout(Built(est, problem), plan)


def _moves_as_written(layout: Layout, anchor: np.ndarray, move_cost: float) -> None:
    """Books moved and metres moved, measured on the written positions (as S is)."""
    have = np.isfinite(anchor).all(axis=1)
    dist = np.linalg.norm(layout.positions[have] - anchor[have], axis=1)
    layout.solver.update(moved=int((dist > 1e-6).sum()), move_distance=float(dist.sum()),
                         objective_with_moves=layout.objective["total"]
                         + move_cost * float(dist.sum()))


def fit_layout(loans, hall, options: FitOptions, *, holdings=None, read_options=None,
               current=None) -> Layout:
    """build_problem -> solve -> to_layout."""
    from shelfplan.solve.solver import solve

    built = build_problem(loans, hall, options, holdings=holdings, read_options=read_options,
                          current=current)
    result = solve(built.problem, options, current=built.current, bound=built.bound,
                   categories=built.categories, fill=built.fill, est=built.est,
                   visits=built.visits)
    return to_layout(built, result)


def _visits(loans, items, options: FitOptions, read_options) -> tuple[np.ndarray, np.ndarray]:
    """(session, 0-based book) of every loan before ``until``; -1 for books outside
    ``items`` (what an embedding learns from)."""
    import pandas as pd

    if not isinstance(loans, Loans):
        loans = read_loans(loans, **(read_options or {}))
    loans = filter_until(loans, until=options.until)
    book = pd.Index(np.asarray(items, dtype=object)).get_indexer(
        loans.table["item"].astype(str))
    return loans.table["session"].to_numpy(np.int64), np.asarray(book, dtype=np.int64)
