"""One entry for every plan family: ``solve(problem, options) -> SolveResult``.

Like ``scipy.optimize.minimize(method=...)``, one call and one result type; the
family is chosen by the problem and the options:

============================================  =====================================
problem, options                               family (module)
============================================  =====================================
:class:`Problem` of single books               lattice sites (:mod:`.items`)
:class:`Problem` of category blocks            category discs (:mod:`.blocks`)
:class:`ShelfProblem`                          table locations (:mod:`.shelving`)
:class:`ShelfProblem`, ``keep_order=blocks``   call-number runs (:mod:`.runs`,
                                               :mod:`.display`, :mod:`.runs_moves`)
``method`` sne, tsne, skipgram                 an embedding seated (:mod:`.embed`)
============================================  =====================================

Every family's search runs on the engine (:func:`shelfplan.solve.engine.drive`)
and stops at the options' one deadline (:attr:`FitOptions.search_deadline`).
"""

from __future__ import annotations

import time

import numpy as np

from shelfplan.errors import LayoutError
from shelfplan.model.shelving import ShelfProblem, shelved_cost
from shelfplan.solve.options import FitOptions
from shelfplan.solve.record import SolveResult

__all__ = ["solve", "SolveResult", "FitOptions"]


def solve(problem, options: FitOptions | None = None, *, current=None, bound=None,
          categories=None, fill=None, est=None, visits=None, **tuning) -> SolveResult:
    """The plan of lowest cost found for ``problem`` under ``options``.

    Data the families need besides the problem:

    * ``current``: today's plan for an incremental proposal: ``(n, 3)`` positions
      (NaN rows for units without one) on a free hall; on a hall with stacks each
      book's slot in the shelving order for a blocks plan, each book's ``(location,
      shelf, slot)`` for a free plan (MODEL.md 8.8);
    * ``bound``: a certified lower bound of the cost (the search stops there);
    * ``categories``: the blocks of a ``keep_order="blocks"`` plan, one per book;
    * ``fill``: growth space (:class:`~shelfplan.solve.fill.FillRule`, MODEL.md 8.7);
    * ``est``, ``visits``: the estimates and the loans' (session, book) pairs an
      embedding learns from;
    * ``tuning``: the item solver's fixed-work knobs (``stages``, ``maxiter``,
      ``polish``) and an embedding's ``dim``, for tests and benchmarks.
    """
    options = FitOptions.coerce(options)
    if options.method != "constrained":
        return _embedded(problem, options, est, visits, tuning.get("dim"))
    deadline = options.search_deadline
    if isinstance(problem, ShelfProblem):
        return _shelving(problem, options, deadline, current, categories, fill)
    if problem.blocks:
        from shelfplan.solve.blocks import incremental_blocks, solve_blocks
        if current is not None:
            return incremental_blocks(problem, current, options, deadline)
        return solve_blocks(problem, options, deadline)
    from shelfplan.solve.items import solve_items
    return solve_items(problem, options, deadline, current=current, bound=bound, **tuning)


def _shelving(problem: ShelfProblem, options: FitOptions, deadline: float, current,
              categories, fill) -> SolveResult:
    if options.keep_order == "blocks":
        if current is None:
            from shelfplan.solve.display import blocks_plan
            seq, info = blocks_plan(problem, categories, options, deadline, fill=fill)
            if fill is not None:
                info["fill"] = fill.record()
        else:
            seq, info = _blocks_within(problem, options, deadline, current, categories)
        return _sequence(problem, seq, info)
    if current is not None:                   # a free plan from today's shelves (8.8)
        from shelfplan.solve.budget import keep_slots, solve_within_budget
        today = np.asarray(current, dtype=np.int64)
        loc, info = solve_within_budget(problem, today[:, 0], options, deadline)
        seq = keep_slots(problem.stacks, loc, today[:, 0], today[:, 1], today[:, 2],
                         problem.order_key)
        return _sequence(problem, seq, info)
    if fill is not None:                      # growth space (8.7)
        from shelfplan.solve.room import solve_with_room
        loc, info = solve_with_room(problem, fill, options, deadline)
        return SolveResult(plan=loc, cost=shelved_cost(loc, problem), info=info,
                           kind="locations")
    from shelfplan.solve.shelving import solve_shelving
    return solve_shelving(problem, options, deadline)


def _sequence(problem: ShelfProblem, seq, info: dict) -> SolveResult:
    return SolveResult(plan=seq, cost=shelved_cost(_loc_of(problem, seq), problem), info=info,
                       kind="sequence")


def _blocks_within(problem: ShelfProblem, options: FitOptions, deadline: float, cur_seq,
                   categories):
    """From today's blocks plan (``cur_seq``), within ``options.max_moves`` books moved;
    the order in which the runs move goes into ``info["shift_plan"]``."""
    from shelfplan.solve.budget import carrying
    from shelfplan.solve.runs import Runs
    from shelfplan.solve.runs_moves import shift_plan, solve_runs_within

    if options.max_moves is None:
        raise LayoutError("an incremental block proposal needs `current` (today's plan) and "
                          "`max_moves`")
    if options.display:
        raise LayoutError("a display zone is for plans from scratch; drop `display_books` / "
                          "`display_ranges` or `current`")
    blocks = Runs(problem, categories)
    problem.categories = blocks.names[blocks.block]
    seq, info = solve_runs_within(problem, blocks, cur_seq, int(options.max_moves), options,
                                  deadline)
    L, S, T = problem.stacks.slot_order()
    info["carrying_m"] = round(carrying(problem, L[cur_seq], L[seq])[1], 2)
    ids = problem.stacks.range_ids()

    def where(g):
        face = ("left", "right")[problem.stacks.loc_face[L[g]]]
        return (f"{ids[problem.stacks.loc_range[L[g]]]} {face} "
                f"{problem.stacks.loc_section[L[g]]}/{S[g]}/{T[g]}")

    info["shift_plan"] = [
        {"step": k + 1, "category": None if blocks.names[b] is None else str(blocks.names[b]),
         "books": n, "from": where(a), "to": where(z), "staging": st}
        for k, (b, n, a, z, st) in enumerate(shift_plan(blocks, cur_seq, seq, len(L)))]
    return seq, info


def _loc_of(problem: ShelfProblem, seq: np.ndarray) -> np.ndarray:
    return problem.stacks.slot_order()[0][np.asarray(seq, dtype=np.int64)]


def _embedded(problem, options: FitOptions, est, visits, dim=None) -> SolveResult:
    from shelfplan.solve.embed import embed_plan, embed_positions, learning_deadline

    deadline = learning_deadline(options.started, options.limit, time.monotonic())
    if isinstance(problem, ShelfProblem):
        loc, info = embed_plan(options.method, problem, est, visits, dim=dim,
                               seed=options.seed, deadline=deadline)
        return SolveResult(plan=loc, cost=shelved_cost(loc, problem), info=info,
                           kind="locations")
    if problem.blocks:
        raise LayoutError(f"`method` {options.method} places single books or titles; `level` "
                          f"category (blocks of books) needs `method` constrained")
    X, info = embed_positions(options.method, problem, est, visits, dim=dim,
                              seed=options.seed, deadline=deadline)
    return SolveResult(plan=X, info=info)
