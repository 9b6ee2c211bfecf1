"""Free shelving plans with growth space (MODEL.md 8.7, free plans).

One fill ``f`` for every book: a location holds at most ``floor(f * capacity)``
books, so the search runs as usual on those capacities. A fill per category:
a location holds books whose ``1 / f_c`` sum to at most its capacity; in
integers, book i weighs ``scale / f_c(i)`` and a location holds
``capacity * scale``. The search then runs on capacities ``floor(capacity / w)``
for the mean weight ``w`` of the borrowed books, locations it leaves too heavy
are relieved (their least borrowed books go to the nearest location with room,
by walking distance), and the books never borrowed fill the room left in
call-number order along the shelving order.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from shelfplan.errors import HallError
from shelfplan.model.shelving import ShelfProblem
from shelfplan.solve.fill import FillRule, book_weights, location_room
from shelfplan.solve.shelving import active_books, solve_shelving

__all__ = ["with_room", "solve_with_room", "weighted_fill_rest"]


def with_room(problem: ShelfProblem, rule: FillRule) -> ShelfProblem:
    """The problem with each location's capacity cut to ``floor(f * capacity)`` (one
    fill for every book); too few places is an error that says how many slots miss."""
    room = location_room(problem.stacks.capacity, rule.default)
    _enough(problem, int(room.sum()), rule.default)
    return replace(problem, room=room)


def _enough(problem: ShelfProblem, held: int, f) -> None:
    if problem.n > held:
        short = problem.n - held
        raise HallError(f"{problem.hall.name}: at fill {f} the stacks take {held} of the "
                        f"{problem.n} books; {math.ceil(short / f)} slots are missing (room "
                        f"for {short} books): raise the fill (--fill, --fill-table) or add "
                        f"ranges, sections or shelves to the hall file")


def solve_with_room(problem: ShelfProblem, rule: FillRule, options, deadline: float) -> tuple:
    """Location of every book and the solver's info for a free plan with growth space,
    by ``deadline`` (the table search of :func:`~shelfplan.solve.shelving.solve_shelving`
    on the capacities the fill leaves)."""
    if rule.uniform:
        capped = with_room(problem, rule)
        res = solve_shelving(capped, options, deadline)
        res.info["fill"] = rule.record()
        return res.plan, res.info
    fills = rule.per_book(problem.categories, problem.n)
    w, scale = book_weights(fills)
    cap = problem.stacks.capacity.astype(np.int64)
    held = cap * scale
    if int(w.sum()) > int(held.sum()):
        short = int(w.sum()) - int(held.sum())
        raise HallError(f"{problem.hall.name}: with the fill table the books need "
                        f"{math.ceil(w.sum() / scale)} slots but the stacks hold "
                        f"{int(cap.sum())}; {math.ceil(short / scale)} slots are missing: "
                        f"raise the fills or add ranges, sections or shelves to the hall file")
    books = active_books(problem)
    mean_w = float(w[books].mean()) if len(books) else float(scale)
    room = np.floor(cap * scale / mean_w).astype(np.int64)
    if room.sum() < len(books):
        room = np.floor(cap * scale / w.max()).astype(np.int64)
    res = solve_shelving(_subset(problem, books, np.minimum(room, cap)), options, deadline)
    sub_loc, info = res.plan, res.info
    loc = np.full(problem.n, -1, dtype=np.int64)
    loc[books] = sub_loc
    loc, relieved = _relieve(loc, problem, w, held)
    loc = weighted_fill_rest(loc, problem, w, held)
    info.update(fill=rule.record(), relieved=int(relieved))
    return loc, info


def _subset(problem: ShelfProblem, books: np.ndarray, room: np.ndarray) -> ShelfProblem:
    """The problem of ``books`` only (pairs among them), on capacities ``room``."""
    new = np.full(problem.n, -1, dtype=np.int64)
    new[books] = np.arange(len(books))
    keep = (new[problem.I] >= 0) & (new[problem.J] >= 0)
    cut = lambda a: None if a is None else a[books]  # noqa: E731
    return replace(problem, items=problem.items[books], p=problem.p[books],
                   I=new[problem.I[keep]], J=new[problem.J[keep]], W=problem.W[keep],
                   order_key=problem.order_key[books], categories=cut(problem.categories),
                   callnumbers=cut(problem.callnumbers), room=room)


def _relieve(loc: np.ndarray, problem: ShelfProblem, w: np.ndarray, held: np.ndarray):
    """Least borrowed books out of locations whose weight exceeds what they hold, each to
    the nearest location (walking distance) with room for it."""
    loc = loc.copy()
    placed = loc >= 0
    load = np.bincount(loc[placed], weights=w[placed], minlength=problem.m).astype(np.int64)
    moved = 0
    for k in np.nonzero(load > held)[0]:
        here = np.nonzero(loc == k)[0]
        here = here[np.argsort(problem.p[here], kind="stable")]
        near = np.argsort(problem.D[k + 1, 1:], kind="stable")
        for i in here:
            if load[k] <= held[k]:
                break
            fits = near[load[near] + w[i] <= held[near]]
            if not len(fits):
                break
            load[k] -= w[i]
            load[fits[0]] += w[i]
            loc[i] = fits[0]
            moved += 1
    return loc, moved


def weighted_fill_rest(loc: np.ndarray, problem: ShelfProblem, w: np.ndarray,
                       held: np.ndarray) -> np.ndarray:
    """Books without a location (-1), in call-number order, into the locations in
    shelving order, each where its weight still fits."""
    loc = np.asarray(loc, dtype=np.int64).copy()
    placed = loc >= 0
    load = np.bincount(loc[placed], weights=w[placed], minlength=problem.m).astype(np.int64)
    rest = np.nonzero(~placed)[0]
    rest = rest[np.argsort(problem.order_key[rest], kind="stable")]
    k = 0
    for i in rest:
        while k < problem.m and load[k] + w[i] > held[k]:
            k += 1
        if k == problem.m:           # fragments left: anywhere it fits
            fits = np.nonzero(load + w[i] <= held)[0]
            if not len(fits):
                raise HallError(f"{problem.hall.name}: the books do not fit at their fills "
                                f"once shelved (the room left is split over locations); "
                                f"at least 1 slot is missing: raise the fills or add shelves")
            j = fits[0]
        else:
            j = k
        loc[i] = j
        load[j] += w[i]
    return loc
