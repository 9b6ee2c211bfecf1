"""Call-number runs with a display zone (issue 12): a few books out of call-number order.

The zone is either named ranges or the locations nearest the entrance (by
walking distance) that hold the ``books`` most borrowed books. Those books are
shelved freely in the zone (popularity slotting, then the table search with
every other book fixed); every other book stays in call-number blocks on the
rest of the shelving (:mod:`shelfplan.solve.runs`), priced with the zone's books
where they stand.
"""

from __future__ import annotations

import time

import numpy as np

from shelfplan.errors import LayoutError
from shelfplan.model.shelving import ShelfProblem
from shelfplan.solve.fill import block_need
from shelfplan.solve.gaps import solve_gapped_runs
from shelfplan.solve.runs import Runs
from shelfplan.solve.shelf_search import TableSearch, fill_by_entrance
from shelfplan.solve.shelving import active_books

__all__ = ["display_zone", "blocks_plan"]


def display_zone(problem: ShelfProblem, books: int | None = None, ranges=None):
    """``(zone locations, display books)`` for a zone of named ``ranges`` or of the
    locations nearest the entrance that hold ``books`` books."""
    st, cap = problem.stacks, problem.capacity
    borrowed = active_books(problem)
    by_loans = borrowed[np.lexsort((problem.order_key[borrowed], -problem.p[borrowed]))]
    if ranges:
        ids = [str(x) for x in st.range_ids()]
        unknown = [r for r in ranges if str(r) not in ids]
        if unknown:
            raise LayoutError(f"the display zone names no range {unknown[0]!r}; the ranges "
                              f"are {', '.join(ids[:12])}{' ...' if len(ids) > 12 else ''}")
        zone = np.nonzero(np.isin(np.array(ids, dtype=object)[st.loc_range],
                                  [str(r) for r in ranges]))[0]
        room = int(cap[zone].sum())
        n = min(room, len(by_loans)) if books is None else int(books)
        if n > room:
            raise LayoutError(f"`display_books` {n} do not fit in the display ranges "
                              f"({room} slots); name more ranges or show fewer books")
    else:
        n = int(books)
        if n < 1:
            raise LayoutError(f"`display_books` must be 1 or more, got {n}")
        near = np.argsort(problem.D[0, 1:], kind="stable")
        k = int(np.searchsorted(np.cumsum(cap[near]), n)) + 1
        zone = np.sort(near[:k])
    return zone, by_loans[:min(n, len(by_loans))]


def _zone_slots(problem: ShelfProblem, loc: np.ndarray, books: np.ndarray) -> np.ndarray:
    """Global slot (in shelving order) of each display book: within its location in
    call-number order."""
    first = np.concatenate([[0], np.cumsum(problem.capacity)[:-1]])
    order = books[np.lexsort((problem.order_key[books], loc[books]))]
    out = np.empty(len(order), dtype=np.int64)
    l = loc[order]
    change = np.concatenate([[True], l[1:] != l[:-1]])
    start = np.maximum.accumulate(np.where(change, np.arange(len(l)), 0))
    out[:] = first[l] + np.arange(len(l)) - start
    seq = np.full(problem.n, -1, dtype=np.int64)
    seq[order] = out
    return seq


def _need(blocks: Runs, fill):
    """Slots each block's stretch needs (MODEL.md 8.7; None: its books)."""
    if fill is None or fill.trivial:
        return None
    return block_need(blocks.sizes, [fill.of(c) for c in blocks.names])


def blocks_plan(problem: ShelfProblem, categories, options, deadline: float, fill=None):
    """Every book's slot in the shelving order for a blocks plan (with a display zone
    when ``options.display`` is given) and the solver's info, by ``deadline``; ``fill``
    (a :class:`~shelfplan.solve.fill.FillRule`) sets each block's growth space."""
    display = options.display
    if not display:
        blocks = Runs(problem, categories)
        problem.categories = blocks.names[blocks.block]
        seq, _, _, info = solve_gapped_runs(problem, blocks, _need(blocks, fill), options,
                                            deadline)
        return seq, info
    t0 = time.monotonic()
    zone, shown = display_zone(problem, display.get("books"), display.get("ranges"))
    zone_cap = np.zeros(problem.m, dtype=np.int64)
    zone_cap[zone] = problem.capacity[zone]
    fixed = np.full(problem.n, -1, dtype=np.int64)
    fixed[shown] = fill_by_entrance(shown, problem.D, zone_cap, problem.n)[shown]
    blocks = Runs(problem, categories, outside=shown)
    cats = np.array(categories if categories is not None else [None] * problem.n, dtype=object)
    seq, _, _, info = solve_gapped_runs(problem, blocks, _need(blocks, fill), options,
                                        t0 + 0.8 * (deadline - t0), zone=zone, fixed_loc=fixed)
    L = np.repeat(np.arange(problem.m), problem.capacity)
    loc = fixed.copy()
    loc[seq >= 0] = L[seq[seq >= 0]]
    search = TableSearch(loc, problem.D, problem.p, problem.symmetric_weights(), zone_cap,
                         active=shown, seed=options.seed)
    search.run(deadline, patience=50)
    loc = search.best_loc
    seq = np.where(seq >= 0, seq, _zone_slots(problem, loc, shown))
    cats[shown] = [None if c is None else str(c) for c in cats[shown]]
    problem.categories = cats
    info.update(method="shelving: call-number blocks + display zone",
                display={"books": int(len(shown)), "locations": int(len(zone)),
                         "items": [str(problem.items[i]) for i in shown],
                         "ranges": sorted({str(problem.stacks.range_ids()[r])
                                           for r in problem.stacks.loc_range[zone]})})
    return seq, info
