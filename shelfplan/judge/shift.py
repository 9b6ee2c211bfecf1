"""Shift plans (MODEL.md 8.8): made from two shelving plans, written as CSV, and
replayed by an independent checker.

:func:`shift_plan` orders the moves from today's plan ``T`` to a proposal ``P``
(:func:`shelfplan.solve.shift.order_moves`); :func:`write_shift_csv` writes the
per-book CSV (first line ``# carts=C cart_capacity=K``, then ``step, item_id,
from, to`` with slots ``range/face/section/shelf/slot`` or ``cart:K``);
:func:`replay` executes a CSV from ``T`` row by row and says what breaks
(a ``from`` that is not where the book is, a slot taken, a cart over capacity,
a book not in its slot of ``P`` or a cart not empty at the end).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from shelfplan.errors import LayoutError
from shelfplan.layout import Layout, atomic_write, hall_difference

__all__ = ["ShiftPlan", "shift_plan", "write_shift_csv", "read_shift_csv", "replay",
           "slot_names"]

FACES = ("left", "right")


@dataclass
class ShiftPlan:
    """Rows ``(step, item_id, from, to)`` as written, the carts, and each row's call
    number (for the crew sheet)."""

    rows: list
    carts: int
    cart_capacity: int
    callnumbers: list

    @property
    def trips(self) -> int:
        return len({r[0] for r in self.rows})

    @property
    def books_moved(self) -> int:
        return len({r[1] for r in self.rows})


def slot_names(stacks) -> list[str]:
    """``range/face/section/shelf/slot`` of every slot in shelving order."""
    ids = stacks.range_ids()
    out = []
    for k in range(stacks.n_locations):
        head = f"{ids[stacks.loc_range[k]]}/{FACES[stacks.loc_face[k]]}/{stacks.loc_section[k]}"
        per = int(stacks.loc_books_per_shelf[k])
        out += [f"{head}/{s}/{t}" for s in range(1, int(stacks.loc_shelves[k]) + 1)
                for t in range(1, per + 1)]
    return out


def _global(layout: Layout) -> np.ndarray:
    st, sh = layout.hall.stacks, layout.shelf
    loc = np.asarray(sh["loc"], dtype=np.int64)
    first = np.concatenate([[0], np.cumsum(st.capacity)[:-1]])
    return first[loc] + (np.asarray(sh["shelf"]) - 1) * st.loc_books_per_shelf[loc] + \
        np.asarray(sh["slot"]) - 1


def _same_books(today: Layout, plan: Layout) -> np.ndarray:
    if not (today.shelved and plan.shelved) or hall_difference(today.hall, plan.hall):
        raise LayoutError("a shift plan needs today's plan and the proposal on the same "
                          "stacked hall; make today's plan with the proposal's hall")
    a = pd.Index(np.asarray(today.items).astype(str))
    b = pd.Index(np.asarray(plan.items).astype(str))
    pos = a.get_indexer(b)
    if today.n != plan.n or (pos < 0).any():
        odd = sorted(set(b) ^ set(a))
        raise LayoutError(f"today's plan and the proposal hold different books ({len(odd)} "
                          f"differ, e.g. {odd[0]!r}); a shift plan moves the same books")
    return pos


def shift_plan(today: Layout, plan: Layout, carts: int = 1, cart_capacity: int = 60) -> ShiftPlan:
    """The shift from ``today`` to ``plan`` (same hall, same books)."""
    if carts < 0:
        raise LayoutError(f"`carts` must be 0 or more, got {carts}")
    if carts and cart_capacity < 1:
        raise LayoutError(f"`cart_capacity` must be 1 or more, got {cart_capacity}")
    pos = _same_books(today, plan)
    from shelfplan.solve.shift import order_moves

    st = plan.hall.stacks
    src, dst = _global(today)[pos], _global(plan)
    names = slot_names(st)
    shelf_of = np.repeat(np.arange(st.n_locations) * 1000, st.capacity) + \
        np.concatenate([np.repeat(np.arange(int(s)), int(b)) for s, b in
                        zip(st.loc_shelves, st.loc_books_per_shelf)])
    moves = order_moves(src, dst, len(names), shelf_of, carts, cart_capacity)
    where = lambda s: names[s] if s >= 0 else f"cart:{-s}"  # noqa: E731
    items = np.asarray(plan.items).astype(str)
    calls = plan.shelf.get("callnumber")
    rows = [(step, items[b], where(a), where(z)) for step, b, a, z in moves]
    cn = [None if calls is None or calls[b] is None else str(calls[b]) for _, b, _, _ in moves]
    return ShiftPlan(rows, int(carts), int(cart_capacity), cn)


def write_shift_csv(shift: ShiftPlan, path) -> None:
    def write(fh):
        fh.write(f"# carts={shift.carts} cart_capacity={shift.cart_capacity}\n")
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["step", "item_id", "from", "to"])
        w.writerows(shift.rows)
    atomic_write(path, write)


_HEAD = re.compile(r"^#\s*carts=(\d+)\s+cart_capacity=(\d+)\s*$")


def read_shift_csv(path) -> tuple[list, int, int]:
    """``(rows, carts, cart_capacity)`` of a shift-plan CSV."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    first, _, rest = text.partition("\n")
    m = _HEAD.match(first)
    if not m:
        raise LayoutError(f"{path}: the first line must be '# carts=C cart_capacity=K'")
    rd = list(csv.reader(io.StringIO(rest)))
    if not rd or rd[0] != ["step", "item_id", "from", "to"]:
        raise LayoutError(f"{path}: expected the header step,item_id,from,to")
    return [(int(r[0]), r[1], r[2], r[3]) for r in rd[1:] if r], int(m[1]), int(m[2])


def _slots(layout: Layout) -> dict:
    st, sh = layout.hall.stacks, layout.shelf
    ids = st.range_ids()
    return {str(i): f"{ids[st.loc_range[k]]}/{FACES[st.loc_face[k]]}/{st.loc_section[k]}/"
                    f"{s}/{t}"
            for i, k, s, t in zip(layout.items, sh["loc"], sh["shelf"], sh["slot"])}


def replay(today: Layout, plan: Layout, rows, carts: int, cart_capacity: int) -> list[str]:
    """Execute ``rows`` from ``today``; what breaks MODEL.md 8.8 (empty: executable)."""
    where = _slots(today)
    goal = _slots(plan)
    valid = set(slot_names(plan.hall.stacks))
    held = {s: i for i, s in where.items()}
    load = {k: 0 for k in range(1, carts + 1)}
    problems = []
    for n, (step, item, a, z) in enumerate(rows, start=1):
        if where.get(item) != a:
            problems.append(f"row {n}: {item} is at {where.get(item)}, not {a}")
            break
        if z.startswith("cart:"):
            k = int(z[5:])
            if k not in load:
                problems.append(f"row {n}: there is no {z}")
                break
            if load[k] >= cart_capacity:
                problems.append(f"row {n}: {z} is full ({cart_capacity} books)")
                break
            load[k] += 1
        elif z not in valid:
            problems.append(f"row {n}: no slot {z} in the stacks")
            break
        elif z in held:
            problems.append(f"row {n}: {z} is taken by {held[z]}")
            break
        else:
            held[z] = item
        if a.startswith("cart:"):
            load[int(a[5:])] -= 1
        else:
            del held[a]
        where[item] = z
    if not problems:
        wrong = [i for i in goal if where.get(i) != goal[i]]
        if wrong:
            problems.append(f"{len(wrong)} books are not in their slot of the plan at the end "
                            f"(e.g. {wrong[0]} at {where.get(wrong[0])}, plan {goal[wrong[0]]})")
        if any(load.values()):
            problems.append("a cart is not empty at the end")
        same = {r[1] for r in rows} & {i for i in goal if _slots(today).get(i) == goal[i]}
        if same:
            problems.append(f"{len(same)} books that keep their slot have rows")
    return problems
