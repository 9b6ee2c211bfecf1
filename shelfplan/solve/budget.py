"""Free shelving plans from today's shelves within a budget of moves (MODEL.md 8.8).

A book moves when its location changes. From today's locations ``today``:

1. **Greedy moves, best saving per move first.** For the borrowed books (most
   borrowed first, at most ``CANDIDATES``) the saving of the best location for
   each, the others where they stand: its entrance term plus its pairs, less
   ``move_cost`` times the metres carried. A location with a free slot takes it
   for one move; a full one only by swapping out a book never borrowed (two
   moves: that book goes to the borrowed book's slot). Each round applies the
   best savings per move (a few at a time on large plans) until the budget is
   spent or nothing saves.
2. **A search within the budget.** The table search (:mod:`shelfplan.solve.shelf_search`)
   then moves only the books moved so far, into the room they and the free
   slots leave; the metres carried enter as a pair with a fixed copy of the book
   at its place of today (weight ``move_cost``), so the search pays for them and
   books may go home. The budget holds because no other book moves. When the
   budget covers every borrowed book, the search takes them all, plus the books
   (never borrowed) standing in the locations nearest the entrance, as many as
   the budget leaves room for, so that it can swap them out of the way.

Books that stay in their location keep their slot (:func:`keep_slots`).
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from shelfplan.model.shelving import ShelfProblem, shelved_cost
from shelfplan.solve.engine import drive
from shelfplan.solve.record import Record, as_rng, seed_info
from shelfplan.solve.shelf_search import TableSearch
from shelfplan.solve.shelving import TableMoves, active_books

__all__ = ["solve_within_budget", "keep_slots", "carrying"]

#: borrowed books whose best move is priced in each greedy round
CANDIDATES = 4000


def carrying(problem: ShelfProblem, today: np.ndarray, loc: np.ndarray) -> tuple[int, float]:
    """(books moved, metres carried: sum of g(pick today, pick proposed) over them)."""
    moved = today != loc
    return int(moved.sum()), float(problem.D[today[moved] + 1, loc[moved] + 1].sum())


def _costs(cand, loc, problem, W, move_cost, today):
    """(len(cand), m) cost of each candidate book in each location, the rest fixed."""
    m, D = problem.m, problem.D
    onehot = sp.csr_matrix((np.ones(problem.n), (np.arange(problem.n), loc)),
                           shape=(problem.n, m))
    pull = (W[cand] @ onehot).toarray()                   # partners' weight per location
    C = problem.p[cand, None] * D[0, 1:][None, :] + pull @ D[1:, 1:]
    if move_cost:
        C += move_cost * D[today[cand] + 1, 1:]
    return C


def _partners(loc, p, free_to_swap, m):
    """The book each location would swap out (the least borrowed one still free to
    move; -1 where there is none) and its p."""
    cand = np.nonzero(free_to_swap)[0]
    order = cand[np.lexsort((p[cand], loc[cand]))]
    first = np.full(m, -1, dtype=np.int64)
    ls = loc[order]
    head = np.concatenate([[True], ls[1:] != ls[:-1]]) if len(ls) else np.zeros(0, bool)
    first[ls[head]] = order[head]
    return first


def _greedy(problem, today, budget, move_cost, deadline, say):
    loc = today.copy()
    cap = problem.capacity
    D0 = problem.D[0, 1:]
    load = np.bincount(loc, minlength=problem.m)
    W = problem.symmetric_weights()
    books = active_books(problem)
    cand = books[np.argsort(-problem.p[books], kind="stable")][:CANDIDATES]
    touched = np.zeros(problem.n, dtype=bool)
    spent, rounds = 0, 0
    batch = max(1, budget // 60)
    while spent < budget and time.monotonic() < deadline:
        rounds += 1
        open_ = cand[~touched[cand]]
        if not len(open_):
            break
        C = _costs(open_, loc, problem, W, move_cost, today)
        rows = np.arange(len(open_))
        here = C[rows, loc[open_]]
        # a full location takes a book by swapping out its least borrowed untouched book,
        # which goes to the borrowed book's place (two moves; its entrance term counted)
        swap = _partners(loc, problem.p, ~touched, problem.m)
        free = load < cap
        price = np.where(free, 1, np.where(swap >= 0, 2, 0))
        pj = np.where(swap >= 0, problem.p[np.maximum(swap, 0)], 0.0)
        back = np.where(free[None, :], 0.0,
                        pj[None, :] * (D0[loc[open_]][:, None] - D0[None, :]))
        gain = np.where(price[None, :] > 0, here[:, None] - C - back, -np.inf)
        gain[rows, loc[open_]] = -np.inf
        rate_all = gain / np.maximum(price, 1)[None, :]
        best = np.argmax(rate_all, axis=1)
        rate = rate_all[rows, best]
        done = 0
        used = np.zeros(problem.m, dtype=bool)
        for k in np.argsort(-rate, kind="stable"):
            if not rate[k] > 1e-12 or spent >= budget or done >= batch:
                break
            i, c = int(open_[k]), int(best[k])
            if used[c] or used[loc[i]]:
                continue                   # priced before this round's moves: next round
            used[loc[i]] = True
            if load[c] < cap[c]:
                load[loc[i]] -= 1
                load[c] += 1
                loc[i] = c
                spent += 1
            elif spent + 2 <= budget and swap[c] >= 0 and swap[c] != i and not touched[swap[c]]:
                j = int(swap[c])
                loc[j], loc[i] = loc[i], c
                touched[j] = True
                spent += 2
            else:
                continue
            used[c] = True
            touched[i] = True
            done += 1
        if not done:
            break
    if say:
        say(f"greedy moves: {spent} books in {rounds} rounds")
    return loc, touched


def solve_within_budget(problem: ShelfProblem, today: np.ndarray, options,
                        deadline: float) -> tuple[np.ndarray, dict]:
    """Every book's location from today's (``today``) moving at most
    ``options.max_moves`` books (None: any number), paying ``options.move_cost`` per
    metre carried, by ``deadline``; and the solver's info. The greedy moves take at
    most half the time; the search within the budget runs on the engine."""
    t0 = time.monotonic()
    max_moves, move_cost = options.max_moves, float(options.move_cost)
    today = np.asarray(today, dtype=np.int64)
    budget = problem.n if max_moves is None else int(max_moves)
    S0 = shelved_cost(today, problem)["total"]
    say = options.progress or (lambda m: None)
    say(f"today: S_walk={S0:.4f}")
    loc, touched = _greedy(problem, today, budget, move_cost, t0 + 0.5 * (deadline - t0), say)
    moving = np.nonzero(touched)[0]
    books = active_books(problem)
    wider = np.union1d(moving, books)
    if len(wider) <= budget:            # the budget covers every borrowed book: search them all,
        near = np.argsort(problem.D[0, 1:], kind="stable")     # and the books in their way
        held = np.cumsum(problem.capacity[near])
        zone = near[:int(np.searchsorted(held, len(books))) + 1]
        others = np.nonzero(np.isin(loc, zone))[0]
        room = budget - len(wider)
        wider = np.union1d(wider, np.setdiff1d(others, wider)[:max(0, room)])
        moving = wider
    engine = {}
    if len(moving) > 1 and time.monotonic() < deadline:
        loc, engine = _search(problem, today, loc, moving, options, deadline)
    moved, metres = carrying(problem, today, loc)
    S = shelved_cost(loc, problem)["total"]
    say(f"within {budget} moves: S_walk={S:.4f} ({moved} books move, {metres:.0f} m carried)")
    info = {"method": "shelving: table search from today, within a budget of moves",
            "seed": seed_info(options.seed), "max_moves": None if max_moves is None else budget,
            "moved": moved, "carrying_m": round(metres, 2), "move_cost": move_cost,
            "objective_today": S0, "books_searched": int(len(moving)), "engine": engine,
            **options.record(),
            "stopped_by": "time limit" if time.monotonic() > deadline else "done",
            "seconds": round(time.monotonic() - t0, 3)}
    return loc, info


def _search(problem, today, loc, moving, options, deadline):
    """The table search over the books already moving (the others fixed), with the metres
    carried priced as pairs with fixed copies of the books at today's locations; on the
    engine (:class:`~shelfplan.solve.shelving.TableMoves`)."""
    n, m = problem.n, problem.m
    move_cost = float(options.move_cost)
    fixed = np.ones(n, dtype=bool)
    fixed[moving] = False
    room = problem.capacity - np.bincount(loc[fixed], minlength=m)
    W = problem.symmetric_weights()
    p = problem.p
    start = loc.copy()
    if move_cost:
        k = len(moving)
        anchor = n + np.arange(k)
        A = sp.coo_matrix((np.full(2 * k, move_cost),
                           (np.concatenate([moving, anchor]), np.concatenate([anchor, moving]))),
                          shape=(n + k, n + k))
        W = (sp.block_diag([W, sp.csr_matrix((k, k))]) + A).tocsr()
        p = np.concatenate([p, np.zeros(k)])
        start = np.concatenate([loc, today[moving]])
    rng = as_rng(options.seed)
    search = TableSearch(start, problem.D, p, W, room, active=moving, seed=rng)
    rec = Record(lambda x: search.best_S, lambda x: True, deadline=deadline,
                 say=options.progress, label="S_walk + move cost")
    engine = {}
    with rec.stage():                       # Ctrl-C keeps the best assignment so far
        engine = drive(TableMoves(search, patience=100), rec, options,
                       how="table search, budget", seed=rng)
    return search.best_loc[:n].copy(), engine


def keep_slots(stacks, loc, today_loc, today_shelf, today_slot, order_key) -> np.ndarray:
    """Each book's slot in the shelving order: books whose location is today's keep
    today's slot, the others take the free slots of their location (call-number order)."""
    cap = stacks.capacity
    first = np.concatenate([[0], np.cumsum(cap)[:-1]])
    stay = loc == today_loc
    seq = np.full(len(loc), -1, dtype=np.int64)
    seq[stay] = (first[loc[stay]] + (today_shelf[stay] - 1) * stacks.loc_books_per_shelf[loc[stay]]
                 + today_slot[stay] - 1)
    taken = np.zeros(int(cap.sum()), dtype=bool)
    taken[seq[stay]] = True
    come = np.nonzero(~stay)[0]
    come = come[np.lexsort((order_key[come], loc[come]))]
    for c in np.unique(loc[come]):
        mine = come[loc[come] == c]
        slots = first[c] + np.nonzero(~taken[first[c]:first[c] + cap[c]])[0][:len(mine)]
        seq[mine] = slots
        taken[slots] = True
    return seq
