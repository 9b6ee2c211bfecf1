"""Does a shelving plan keep its promises? Checked from the layout file alone,
independently of the solver (MODEL.md 8.4 feasible, 8.5 blocks, 8.7 fill).

Each check returns a list of what breaks the promise (empty: kept). The
shelving order is recomputed here from the hall (location numbers, shelves
and slots), not taken from the solver.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from shelfplan.ingest.callsort import sort_keys
from shelfplan.layout import Layout

__all__ = ["order_index", "check_feasible", "check_blocks_kept", "check_fill",
           "fill_of_layout"]


def order_index(stacks, loc, shelf, slot) -> np.ndarray:
    """Each (location, shelf, slot)'s place in the shelving order (0-based)."""
    loc, shelf, slot = (np.asarray(a, dtype=np.int64) for a in (loc, shelf, slot))
    cap = stacks.loc_shelves * stacks.loc_books_per_shelf
    first = np.concatenate([[0], np.cumsum(cap)[:-1]])
    return first[loc] + (shelf - 1) * stacks.loc_books_per_shelf[loc] + slot - 1


def check_feasible(layout: Layout) -> list[str]:
    """8.4: every book exactly one slot, no slot two books, every slot exists."""
    st, sh, out = layout.hall.stacks, layout.shelf, []
    loc, shelf, slot = (np.asarray(sh[k], dtype=np.int64) for k in ("loc", "shelf", "slot"))
    if len(loc) != layout.n:
        out.append(f"{layout.n} books but {len(loc)} slots given")
    bad = (loc < 0) | (loc >= st.n_locations)
    if bad.any():
        out.append(f"{int(bad.sum())} books in locations the stacks do not have")
        return out
    wrong = (shelf < 1) | (shelf > st.loc_shelves[loc]) | (slot < 1) | (
        slot > st.loc_books_per_shelf[loc])
    if wrong.any():
        out.append(f"{int(wrong.sum())} books on shelves or slots that do not exist")
    g = order_index(st, loc, shelf, slot)
    if len(np.unique(g)) != len(g):
        out.append(f"{len(g) - len(np.unique(g))} slots hold two books")
    if len({str(i) for i in layout.items}) != layout.n:
        out.append("a book is listed twice")
    return out


def _cats(layout: Layout) -> np.ndarray:
    if layout.categories is None:
        return np.full(layout.n, "\uffff", dtype=object)
    return np.array(["\uffff" if c is None else str(c) for c in layout.categories],
                    dtype=object)


def _in_blocks(layout: Layout) -> np.ndarray:
    """Books that belong to the blocks: all but those of a display zone (the plan's
    ``solver.display.items``), which stand out of order by choice."""
    shown = ((layout.solver or {}).get("display") or {}).get("items") or []
    return ~np.isin(np.asarray(layout.items).astype(str), np.asarray(shown, dtype=str))


def check_blocks_kept(layout: Layout) -> list[str]:
    """8.5: each category one contiguous run of the shelving order (empty slots may lie
    inside), in call-number order within the run."""
    sh = layout.shelf
    g = order_index(layout.hall.stacks, sh["loc"], sh["shelf"], sh["slot"])
    seq = np.argsort(g, kind="stable")
    seq = seq[_in_blocks(layout)[seq]]
    cats = _cats(layout)[seq]
    out = []
    seen: set = set()
    for k in range(len(seq)):
        c = cats[k]
        if k and c == cats[k - 1]:
            continue
        if c in seen:
            out.append(f"category {c!r} is split into more than one run")
        seen.add(c)
    calls = sh.get("callnumber")
    if calls is not None and not out:
        key = np.asarray(sort_keys([str(x) if x is not None else "" for x in
                                    np.asarray(calls, dtype=object)[seq]]))
        same = cats[1:] == cats[:-1]
        down = same & (key[1:] < key[:-1])
        if down.any():
            k = int(np.argmax(down))
            out.append(f"{layout.items[seq[k + 1]]!r} stands before a lower call number in "
                       f"its run")
    return out


def fill_of_layout(layout: Layout):
    """The fill the plan was made with, from its solver record: ``(default, table)``
    as fractions, or None."""
    rec = (layout.solver or {}).get("fill")
    if not rec:
        return None
    return Fraction(rec["default"]), {k: Fraction(v) for k, v in rec["table"].items()}


def check_fill(layout: Layout, blocks: bool, fill=None) -> list[str]:
    """8.7 with ``fill`` ``(default, table)`` (default: the plan's own record): free plans,
    each location's ``sum 1 / f_c <= capacity``; block plans, each category's stretch
    (its first slot up to the next run's first slot, or the end) ``>= ceil(n_c / f_c)``;
    books of a display zone stand outside the blocks (they count for free-plan rules
    only)."""
    fill = fill if fill is not None else fill_of_layout(layout)
    if fill is None:
        return []
    default, table = fill
    st, sh = layout.hall.stacks, layout.shelf
    cats = _cats(layout)
    f = [table.get(None if c == "\uffff" else c, default) for c in cats]
    out = []
    if not blocks:
        cap = st.loc_shelves * st.loc_books_per_shelf
        need: dict = {}
        for k, fk in zip(np.asarray(sh["loc"], dtype=np.int64), f):
            need[k] = need.get(k, Fraction(0)) + 1 / fk
        for k, v in sorted(need.items()):
            if v > int(cap[k]):
                out.append(f"{st.describe(int(k))} holds books needing {float(v):.2f} slots "
                           f"at their fill, more than its {int(cap[k])}")
        return out
    g = order_index(st, sh["loc"], sh["shelf"], sh["slot"])
    total = int((st.loc_shelves * st.loc_books_per_shelf).sum())
    first: dict = {}
    count: dict = {}
    inside = _in_blocks(layout)
    for c, gi, fk in zip(cats[inside], g[inside], np.asarray(f, dtype=object)[inside]):
        first[c] = min(first.get(c, gi), gi)
        count[c] = count.get(c, 0) + 1
    runs = sorted(first, key=first.get)
    for a, c in enumerate(runs):
        end = first[runs[a + 1]] if a + 1 < len(runs) else total
        fk = table.get(None if c == "\uffff" else c, default)
        need_c = -((-count[c] * fk.denominator) // fk.numerator)
        if end - first[c] < need_c:
            out.append(f"category {c!r}: {count[c]} books at fill {fk} need {need_c} slots, "
                       f"its stretch has {end - first[c]}")
    return out
