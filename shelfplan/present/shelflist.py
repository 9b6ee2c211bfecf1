"""The shelf list of a shelving plan: one row per book in shelving order (a CSV).

What staff shelve from: ``item_id, call_number, category, range, face,
section, shelf, slot, p``, sorted as a patron reads the shelves (MODEL.md
section 8.5: ranges in file order, left face sections 1..S, right face
S..1, shelves top down, slots left to right).
"""

from __future__ import annotations

import csv

import numpy as np

from shelfplan.layout import SHELF_FACES, Layout, atomic_write
from shelfplan.present.style import RenderError

__all__ = ["shelf_list_rows", "write_shelf_list", "COLUMNS", "columns"]

COLUMNS = ("item_id", "call_number", "category", "range", "face", "section", "shelf", "slot",
           "p")


def columns(layout: Layout) -> tuple:
    """The header: COLUMNS, with ``floor`` before ``range`` for a building (MODEL.md 8.9)."""
    if layout.hall.building is None:
        return COLUMNS
    k = COLUMNS.index("range")
    return COLUMNS[:k] + ("floor",) + COLUMNS[k:]


def shelf_list_rows(layout: Layout) -> list[list]:
    """The rows (without the header), in shelving order; a building's rows name the
    floor before the range."""
    if not layout.shelved:
        raise RenderError(f"{layout.hall.name}: a shelf list needs a shelving plan (a layout "
                          f"on a hall with stacks)")
    st, sh = layout.hall.stacks, layout.shelf
    loc = sh["loc"]
    order = np.lexsort((sh["slot"], sh["shelf"], loc))     # locations are in shelving order
    ids = st.range_ids()
    calls = sh.get("callnumber")
    cats = layout.categories
    floors = ([f.id for f in layout.hall.building.floors]
              if layout.hall.building is not None else None)
    rows = []
    for k in order:
        rows.append([str(layout.items[k]),
                     "" if calls is None or calls[k] is None else str(calls[k]),
                     "" if cats is None or cats[k] is None else str(cats[k]),
                     *([] if floors is None else [floors[st.loc_floor[loc[k]]]]),
                     str(ids[st.loc_range[loc[k]]]), SHELF_FACES[st.loc_face[loc[k]]],
                     int(st.loc_section[loc[k]]), int(sh["shelf"][k]), int(sh["slot"][k]),
                     f"{float(layout.p[k]):.6g}"])
    return rows


def write_shelf_list(layout: Layout, path) -> None:
    """Write the shelf list CSV atomically (UTF-8, a header row)."""
    rows = shelf_list_rows(layout)

    def write(fh):
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(columns(layout))
        w.writerows(rows)
    atomic_write(path, write)
