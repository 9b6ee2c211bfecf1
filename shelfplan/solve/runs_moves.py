"""Incremental block proposals (issue 12 part 3): from today's runs, within a budget of
books moved, and the order in which the runs move (a shift plan).

Today's plan must keep call-number blocks (MODEL.md 8.5); its block order and
the free slots before the first run are read off it. The search of
:mod:`shelfplan.solve.runs` then starts there and accepts a swap, insertion or
reversal of blocks only when the plan it gives moves at most ``max_moves``
books (a book moves when its location changes; a block that moves moves all of
its books). :func:`shift_plan` orders the runs that move so that a run goes
only to slots already empty: no shelf ever holds more books than it has
slots; where runs wait on each other in a cycle, one of them first goes to
free slots (a staging step).
"""

from __future__ import annotations

import numpy as np

from shelfplan.errors import LayoutError
from shelfplan.model.shelving import ShelfProblem, cost_label
from shelfplan.solve.engine import drive
from shelfplan.solve.record import Record, as_rng, seed_info
from shelfplan.solve.runs import Runs, RunMoves, _descend, _Pricer

__all__ = ["current_order", "solve_runs_within", "shift_plan"]


def global_slots(stacks, loc, shelf, slot) -> np.ndarray:
    """Index of each (location, shelf, slot) in the whole shelving order."""
    first = np.concatenate([[0], np.cumsum(stacks.capacity)[:-1]])
    return first[loc] + (shelf - 1) * stacks.loc_books_per_shelf[loc] + (slot - 1)


def current_order(blocks: Runs, seq: np.ndarray) -> tuple[np.ndarray, int]:
    """The block order and lead of a plan that keeps blocks (``seq``: slot of each book)."""
    first = np.full(blocks.K, np.iinfo(np.int64).max)
    np.minimum.at(first, blocks.block, seq)
    order = np.argsort(first, kind="stable").astype(np.int64)
    return order, int(first[order[0]])


def solve_runs_within(problem: ShelfProblem, blocks: Runs, cur_seq: np.ndarray,
                      max_moves: int, options, deadline: float):
    """The best block order found by ``deadline`` that moves at most ``max_moves``
    books from today's (``cur_seq``); ``(seq, info)``. A descent from today's order
    (each step within the budget); with a time limit the engine's restarts (kicks
    within the budget) use the time left."""
    pricer = _Pricer(problem, blocks)
    L = pricer.slot_loc
    cur_loc = L[cur_seq]
    order, lead = current_order(blocks, cur_seq)
    if not np.array_equal(pricer.sequence(order, lead), cur_seq):
        raise LayoutError("the current plan's runs leave gaps between blocks; incremental "
                          "block proposals start from a plan without gaps (e.g. shelfplan "
                          "baseline callnumber)")
    rng = as_rng(options.seed)
    S0 = pricer(order, lead)
    record = Record(lambda x: pricer(x[:-1], x[-1]), lambda x: True, deadline=deadline,
                    say=options.progress, label=cost_label(problem))
    record.say(f"today: S_walk={S0:.4f}")

    def moved(o, ld):
        return int((L[pricer.sequence(o, ld)] != cur_loc).sum())

    allowed = lambda o, ld: moved(o, ld) <= max_moves  # noqa: E731
    descend = lambda o, ld, S, dl: _descend(pricer, o, ld, S, rng, dl,  # noqa: E731
                                            allowed=allowed, shift_lead=False)
    moves = RunMoves(pricer, order, lead, rng, descend, patience=0, allowed=allowed)
    engine = {}
    with record.stage():
        engine = drive(moves, record, options, how="block search within the budget",
                       seed=rng, movable=blocks.K > 1 and max_moves > 0)
    best = record.best("internal: no block order")
    order, lead = best[:-1], int(best[-1])
    seq = pricer.sequence(order, lead)
    info = {"method": "shelving: call-number blocks, incremental",
            "seed": seed_info(options.seed), "max_moves": int(max_moves),
            "moved": moved(order, lead), "objective_today": S0, "blocks": int(blocks.K),
            "block_order": [None if blocks.names[b] is None else str(blocks.names[b])
                            for b in order], "lead_free_slots": int(lead),
            "evaluations": int(pricer.evals), "engine": engine, **options.record(),
            "stopped_by": record.stopped_by}
    record.say(f"within {max_moves} books moved: S_walk={record.F:.4f} "
               f"({info['moved']} books move)")
    return seq, info


def shift_plan(blocks: Runs, cur_seq: np.ndarray, new_seq: np.ndarray, n_slots: int):
    """Steps ``(block, books, from_slot, to_slot, staging)`` moving today's runs to the
    proposal's, one run at a time, each into slots that are empty when it moves."""
    occupied = np.zeros(n_slots, dtype=bool)
    occupied[cur_seq] = True
    where = cur_seq.copy()
    todo = [b for b in range(blocks.K)
            if not np.array_equal(cur_seq[blocks.block == b], new_seq[blocks.block == b])]
    staged: set = set()
    steps = []
    while todo:
        ready = None
        for b in todo:
            mine = blocks.block == b
            target = new_seq[mine]
            busy = occupied[target] & ~np.isin(target, where[mine])
            if not busy.any():
                ready = b
                break
        staging = ready is None
        if staging:       # the runs left wait on each other: park one in free slots first
            waiting = [b for b in todo if b not in staged]
            if not waiting:
                raise LayoutError("the shift cannot be ordered with the free slots there are; "
                                  "free some shelf space before shifting")
            ready = waiting[0]
            staged.add(ready)
        mine = np.nonzero(blocks.block == ready)[0]
        if staging:           # free slots no run still has to move into
            wanted = np.zeros(n_slots, dtype=bool)
            wanted[new_seq[np.isin(blocks.block, todo)]] = True
            free = np.nonzero(~occupied & ~wanted)[0]
            if len(free) < len(mine):
                raise LayoutError("not enough free slots to stage a run; free some shelf "
                                  "space before shifting")
            target = free[:len(mine)]
        else:
            target = new_seq[mine]
            todo.remove(ready)
        occupied[where[mine]] = False
        occupied[target] = True
        steps.append((ready, len(mine), int(where[mine].min()), int(target.min()), staging))
        where[mine] = target
    return steps
