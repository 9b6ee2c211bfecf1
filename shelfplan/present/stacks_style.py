"""How a shelving plan's locations look: one colour per location (face of a bay).

``--color-by category`` colours a location by the dominant category of its books
(most books; ties: the larger category, then the name), in the colour the book
legend gives that category ("other" grey for the tail); ``--color-by popularity``
by its loans, the sum of p over its books, on a log scale. Empty locations are
light grey, locations whose books were never borrowed mid grey. Also the text a
book or a location shows on hover, shared by the matplotlib and plotly views.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.colors import LogNorm, to_rgba
from matplotlib.patches import Patch

from shelfplan.model.stacks import FACES
from shelfplan.present.style import POPULARITY_CMAP, PointStyle, popularity_norm

EMPTY_COLOR = "#e6e6e6"      # a location without books
NO_LOANS_COLOR = "#b0b0b0"   # books, but none borrowed (popularity colouring)
RANGE_FACE = "#c9ad84"       # a range's rectangle under its strips
RANGE_EDGE = "#6b4f2a"


@dataclass
class LocationStyle:
    """Per location (length m): books, loans, dominant category key and colour."""

    count: np.ndarray        # books in the location
    loans: np.ndarray        # sum of p of its books
    key: np.ndarray          # legend key of its dominant category ("" when empty)
    dominant: np.ndarray     # its dominant category's name ("" when empty or none)
    colors: np.ndarray       # (m, 4) RGBA
    color_by: str
    norm: LogNorm | None = None
    cmap: str = POPULARITY_CMAP

    @property
    def occupied(self) -> np.ndarray:
        return self.count > 0


def _dominant(loc: np.ndarray, cats, m: int) -> tuple[np.ndarray, np.ndarray]:
    """(category index of the dominant category per location (-1 if empty), names)."""
    keys = np.array(["" if c is None else str(c) for c in cats], dtype=object)
    names, inv, sizes = np.unique(keys, return_inverse=True, return_counts=True)
    rank = np.empty(len(names), dtype=np.int64)       # larger categories win ties
    rank[np.lexsort((names, -sizes))] = np.arange(len(names))
    pair, count = np.unique(loc * len(names) + inv, return_counts=True)
    at, cat = pair // len(names), pair % len(names)
    order = np.lexsort((rank[cat], -count, at))
    first = order[np.r_[True, at[order][1:] != at[order][:-1]]]
    out = np.full(m, -1, dtype=np.int64)
    out[at[first]] = cat[first]
    return out, names


def location_style(layout, style: PointStyle) -> LocationStyle:
    """The colour of every location of ``layout.hall.stacks`` under ``style``'s colouring."""
    from matplotlib import colormaps

    stacks = layout.hall.stacks
    m = stacks.n_locations
    loc = np.asarray(layout.shelf["loc"], dtype=np.int64)
    p = np.nan_to_num(np.asarray(layout.p, dtype=float))
    count = np.bincount(loc, minlength=m)
    loans = np.bincount(loc, weights=p, minlength=m)
    cats = layout.categories if layout.categories is not None else [None] * layout.n
    dom, names = _dominant(loc, cats, m)
    keys = np.array(["" if c is None else str(c) for c in cats], dtype=object)
    cat_key = dict(zip(keys, style.labels))            # category name -> legend key
    dominant = np.where(dom >= 0, names[np.maximum(dom, 0)], "").astype(object)
    key = np.array([cat_key.get(d, "") if c > 0 else "" for d, c in zip(dominant, count)],
                   dtype=object)
    colors = np.tile(to_rgba(EMPTY_COLOR), (m, 1))
    on = count > 0
    if style.color_by == "category":
        lut = {k: to_rgba(c) for _, c, k in style.legend}
        colors[on] = [lut.get(k, to_rgba("#a9a9a9")) for k in key[on]]
        return LocationStyle(count, loans, key, dominant, colors, "category")
    norm = popularity_norm(loans[on])
    lent = on & (loans > 0)
    colors[lent] = colormaps[POPULARITY_CMAP](norm(loans[lent]))
    colors[on & ~lent] = to_rgba(NO_LOANS_COLOR)
    return LocationStyle(count, loans, key, dominant, colors, "popularity", norm=norm)


def key_handles(loc_style: LocationStyle) -> list:
    """Legend patches for what the book legend does not say: empty, never borrowed."""
    out = []
    if (~loc_style.occupied).any():
        out.append(Patch(facecolor=EMPTY_COLOR, edgecolor=RANGE_EDGE, linewidth=0.5,
                         label="empty location"))
    if loc_style.color_by == "popularity" and (loc_style.occupied & (loc_style.loans <= 0)).any():
        out.append(Patch(facecolor=NO_LOANS_COLOR, edgecolor=RANGE_EDGE, linewidth=0.5,
                         label="no loans"))
    return out


def where(stacks, loc: np.ndarray) -> np.ndarray:
    """'range A-3, left face, section 3' for each location index in ``loc``."""
    ids = stacks.range_ids()
    return np.array([f"range {ids[stacks.loc_range[k]]}, {FACES[stacks.loc_face[k]]} face, "
                     f"section {stacks.loc_section[k]}" for k in loc], dtype=object)


def book_hover(layout) -> np.ndarray:
    """'B00123 610.49 MIT - range A-3, left face, section 3, shelf 1, slot 14' per book."""
    sh = layout.shelf
    calls = sh.get("callnumber")
    places = where(layout.hall.stacks, np.arange(layout.hall.stacks.n_locations))
    out = []
    for k in range(layout.n):
        call = "" if calls is None or calls[k] is None else f" {calls[k]}"
        out.append(f"{layout.items[k]}{call} - {places[sh['loc'][k]]}, shelf {sh['shelf'][k]}, "
                   f"slot {sh['slot'][k]}")
    return np.array(out, dtype=object)


def location_hover(layout, loc_style: LocationStyle) -> np.ndarray:
    """'range A-3, left face, section 3: 42 books, loans 0.0123, mostly 610' per location."""
    places = where(layout.hall.stacks, np.arange(layout.hall.stacks.n_locations))
    out = []
    for k, place in enumerate(places):
        c = int(loc_style.count[k])
        if c == 0:
            out.append(f"{place}: empty")
            continue
        most = f", mostly {loc_style.dominant[k]}" if loc_style.dominant[k] else ""
        out.append(f"{place}: {c} book{'s' * (c != 1)}, loans {loc_style.loans[k]:.4g}{most}")
    return np.array(out, dtype=object)
