"""The order in which a crew moves the books from today's slots to the plan's
(MODEL.md 8.8), in time linear in the books.

Book i goes from slot ``src[i]`` to ``dst[i]`` (slots numbered along the
shelving order). It can go once the book standing in ``dst[i]`` has left: "i
waits on j". Every book is waited on by at most one book, so the books that
move form chains, each ending in a book whose slot of the plan is empty today,
and cycles. A chain is carried from its end backwards; a cycle is broken by
putting one of its books on a cart (or, without a cart, in a free slot no book
needs), carrying the rest backwards, and then the parked book to its place.
Consecutive rows from one shelf (or cart) to one shelf form one step, a trip
of at most ``cart_capacity`` books.
"""

from __future__ import annotations

import numpy as np

from shelfplan.errors import LayoutError

__all__ = ["order_moves", "CART"]

#: ``to``/``from`` values below 0 are carts: -1 is cart 1, -2 cart 2, ...
CART = -1


def order_moves(src: np.ndarray, dst: np.ndarray, n_slots: int, shelf_of: np.ndarray,
                carts: int, cart_capacity: int) -> list[tuple[int, int, int, int]]:
    """Rows ``(step, book, from, to)`` (slots >= 0, cart k as ``-k``) that carry every
    book from ``src`` to ``dst``; ``shelf_of[slot]`` names each slot's shelf (for the
    steps). Books with ``src == dst`` get no rows."""
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    if carts < 0 or (carts > 0 and cart_capacity < 1):
        raise LayoutError(f"`cart_capacity` must be 1 or more with carts, got {cart_capacity}")
    occupant = np.full(n_slots, -1, dtype=np.int64)
    occupant[src] = np.arange(len(src))
    moving = np.nonzero(src != dst)[0]
    nxt = np.full(len(src), -1, dtype=np.int64)            # i waits on nxt[i]
    nxt[moving] = occupant[dst[moving]]
    prev = np.full(len(src), -1, dtype=np.int64)           # the book waiting on j
    waits = moving[nxt[moving] >= 0]
    prev[nxt[waits]] = waits
    done = np.zeros(len(src), dtype=bool)
    chained: list[tuple[int, int, int, int]] = []          # (level, book, from, to)

    def unwind(i, out, level=0):
        while i >= 0 and not done[i]:
            out.append((level, int(i), int(src[i]), int(dst[i])))
            done[i] = True
            level += 1
            i = prev[i]

    for i in moving[nxt[moving] < 0]:                       # chains, from their free end
        unwind(int(i), chained)
    # books of one level wait only on books of lower levels: carry them shelf by shelf
    key = lambda r: (r[0], int(shelf_of[r[2]]), int(shelf_of[r[3]]))  # noqa: E731
    moves = [(b, a, z) for _, b, a, z in sorted(chained, key=key)]
    left = moving[~done[moving]]
    if len(left):
        wanted = np.zeros(n_slots, dtype=bool)
        wanted[dst[moving]] = True
        spare = np.nonzero((occupant < 0) & ~wanted)[0]   # empty today, no book's target
        if carts == 0 and not len(spare):
            raise LayoutError(f"the shift cannot be ordered: {len(left)} books wait on each "
                              f"other in cycles and there is no free slot and no cart; give "
                              f"`carts` (e.g. 1) or free a slot")
        for i in left:
            if done[i]:
                continue
            park = CART if carts > 0 else int(spare[0])
            moves.append((int(i), int(src[i]), park))
            done[i] = True
            cycle: list = []
            unwind(int(prev[i]), cycle)
            moves += [(b, a, z) for _, b, a, z in cycle]
            moves.append((int(i), park, int(dst[i])))
    return _steps(moves, shelf_of, cart_capacity if carts > 0 else 0)


def _steps(moves, shelf_of, per_trip: int):
    """Number the rows: a new step when the shelf (or cart) left or reached changes, or
    the trip is full."""
    rows, step, last, size = [], 0, None, 0
    for book, a, z in moves:
        key = (int(shelf_of[a]) if a >= 0 else a - 1, int(shelf_of[z]) if z >= 0 else z - 1)
        if key != last or (per_trip and size >= per_trip):
            step += 1
            last, size = key, 0
        size += 1
        rows.append((step, book, a, z))
    return rows
