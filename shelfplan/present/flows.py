"""Moves between two layouts summarised as flows between regions (issue 22, item 4).

One arrow per moved book is unreadable beyond a few dozen (1,498 on the sample's
shelving plans). :func:`region_flows` counts the books that go from each region
of the first layout to each region of the second: the ranges of a shelving plan,
or on a free floor the cells of a grid laid over the books (about
:data:`GRID` cells across, named A1, A2, ... by row from the entrance side).
:func:`draw_flows` draws them on a plan as arrows between the regions' centres,
as wide as their count and labelled with it (the largest :data:`MAX_FLOWS`;
books moved within a region are counted at its centre); :func:`flow_rows` is the
from x to table of the report. :func:`draw_ranges` draws a stacked hall's ranges
with their ids, the background of these plans.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.patches import FancyArrowPatch
from matplotlib.patches import Polygon as PolygonPatch

from shelfplan.judge.compare import Moves
from shelfplan.layout import Layout

__all__ = ["Flows", "region_flows", "draw_flows", "draw_ranges", "flow_rows", "FEW_ARROWS",
           "MAX_FLOWS", "GRID"]

#: up to this many moved books, one arrow per book; more: flows between regions
FEW_ARROWS = 40
#: flows drawn (the largest); the rest are counted in the caption
MAX_FLOWS = 24
#: grid cells across the books' extent on a free floor
GRID = 3
#: rows and columns of the report's table (the regions with the most traffic)
MAX_TABLE = 16


@dataclass
class Flows:
    """``counts[i, j]``: books in region i of the first layout and region j of the
    second (the books both place); ``moved[i, j]``: of those, the books that moved
    more than the comparison's tolerance. ``kind``: "range" or "zone"."""

    names: list
    centres: np.ndarray
    counts: np.ndarray
    moved: np.ndarray
    kind: str
    boxes: np.ndarray       # (k, 2, 2): each region's [[x0, y0], [x1, y1]]

    def extent(self) -> np.ndarray:
        """The box around the regions any book leaves, enters or moves within."""
        busy = (self.counts.sum(axis=0) + self.counts.sum(axis=1) - 2 * np.diag(self.counts)
                + np.diag(self.moved)) > 0
        boxes = self.boxes[busy] if busy.any() else self.boxes
        return np.array([boxes[:, 0].min(axis=0), boxes[:, 1].max(axis=0)])

    @property
    def between(self) -> int:
        """Books that change region."""
        return int(self.counts.sum() - np.trace(self.counts))

    @property
    def within(self) -> np.ndarray:
        """Per region: books that moved but stayed in it."""
        return np.diag(self.moved).astype(int)


def _range_of(layout: Layout, items) -> np.ndarray:
    st = layout.hall.stacks
    idx = pd.Index(np.asarray(layout.items, dtype=object).astype(str)).get_indexer(
        np.asarray(items, dtype=object).astype(str))
    return st.loc_range[np.asarray(layout.shelf["loc"])[idx]]


def region_flows(a: Layout, b: Layout, mv: Moves) -> Flows:
    """The flows of the books of ``mv`` (:func:`shelfplan.judge.compare.moves` of
    ``a`` to ``b``) between ranges (both shelving plans) or grid cells."""
    if a.shelved and b.shelved:
        st = a.hall.stacks
        names = [str(r.id) for r in st.ranges]
        feet = [r.footprint() for r in st.ranges]
        centres = np.array([f.mean(axis=0) for f in feet]).reshape(-1, 2)
        boxes = np.array([[f.min(axis=0), f.max(axis=0)] for f in feet]).reshape(-1, 2, 2)
        ra, rb, kind = _range_of(a, mv.items), _range_of(b, mv.items), "range"
    else:
        names, centres, boxes, (ra, rb) = _grid(a.hall, mv.start[:, :2], mv.end[:, :2])
        kind = "zone"
    k = len(names)
    counts = np.zeros((k, k), dtype=np.int64)
    moved = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (ra, rb), 1)
    np.add.at(moved, (ra[mv.moved], rb[mv.moved]), 1)
    return Flows(names=names, centres=centres, counts=counts, moved=moved, kind=kind,
                 boxes=boxes)


def _grid(hall, start: np.ndarray, end: np.ndarray):
    """Cells of a GRID x GRID grid over the books' extent (square cells), named by row
    (A nearest the entrance's side of the box) and column; only the occupied cells."""
    xy = np.vstack([start, end])
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    side = max(float(np.max(hi - lo)) / GRID, 1e-9)
    shape = np.maximum(np.ceil((hi - lo) / side - 1e-9).astype(int), 1)
    e = np.asarray(hall.entrance[:2], dtype=float)
    flip = e[1] > (lo[1] + hi[1]) / 2                   # rows counted from the entrance

    def cell(p):
        c = np.clip(((p - lo) / side).astype(int), 0, shape - 1)
        row = shape[1] - 1 - c[:, 1] if flip else c[:, 1]
        return row * shape[0] + c[:, 0]

    ca, cb = cell(start), cell(end)
    used = np.unique(np.r_[ca, cb])
    remap = np.full(shape[0] * shape[1], -1)
    remap[used] = np.arange(len(used))
    names = [f"{chr(65 + u // shape[0]) if u // shape[0] < 26 else u // shape[0]}"
             f"{u % shape[0] + 1}" for u in used]
    pts, cells = np.vstack([start, end]), np.r_[ca, cb]
    centres = np.array([pts[cells == u].mean(axis=0) for u in used]).reshape(-1, 2)
    col = used % shape[0]
    row = used // shape[0]
    crow = shape[1] - 1 - row if flip else row
    corner = lo + side * np.c_[col, crow]
    boxes = np.stack([corner, corner + side], axis=1).reshape(-1, 2, 2)
    return names, centres, boxes, (remap[ca], remap[cb])


def draw_ranges(ax, hall, labels: bool = True) -> list:
    """The ranges of a stacked hall as filled rectangles with their ids."""
    out = []
    for r in hall.stacks.ranges:
        rect = r.footprint()
        out.append(ax.add_patch(PolygonPatch(rect, closed=True, fc="#eadcc8", ec="#a08060",
                                             lw=0.6, zorder=1)))
        if labels:
            c = rect.mean(axis=0)
            angle = np.degrees(np.arctan2(r.u[1], r.u[0]))
            angle = angle - 180 if angle > 90 else angle + 180 if angle <= -90 else angle
            out.append(ax.text(c[0], c[1], str(r.id), ha="center", va="center", fontsize=6,
                               rotation=angle, rotation_mode="anchor", color="#604020",
                               zorder=2))
    return out


def draw_flows(ax, flows: Flows, max_flows: int | None = None) -> str:
    """Arrows for the largest flows between regions (width and label: the count) and
    the moves within a region at its centre; returns a caption for the plan."""
    k = len(flows.names)
    if max_flows is None:          # grid cells are close together: fewer arrows
        max_flows = MAX_FLOWS if flows.kind == "range" else MAX_FLOWS // 2
    i, j = np.nonzero(flows.counts * (1 - np.eye(k, dtype=np.int64)))
    c = flows.counts[i, j]
    order = np.argsort(-c, kind="stable")
    shown, rest = order[:max_flows], order[max_flows:]
    top = float(c.max()) if len(c) else 1.0
    for q in shown:
        a, b, n = flows.centres[i[q]], flows.centres[j[q]], int(c[q])
        ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=8 + 6 * n / top,
                                     connectionstyle="arc3,rad=0.3",
                                     lw=0.6 + 5.0 * n / top, color="tab:orange", alpha=0.75,
                                     zorder=6, shrinkA=4, shrinkB=4))
        mid = (a + b) / 2 + 0.15 * np.array([b[1] - a[1], a[0] - b[0]])   # on the arc
        ax.text(mid[0], mid[1], str(n), fontsize=6.5, ha="center", va="center", zorder=7,
                bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.8))
    for r, n in enumerate(flows.within):
        if n:
            x, y = flows.centres[r]
            ax.annotate(f"\u21bb{n}", (x, y), xytext=(0, -7), textcoords="offset points",
                        fontsize=6, ha="center", va="top", zorder=7,
                        color="tab:brown", bbox=dict(boxstyle="round,pad=0.1", fc="white",
                                                     ec="none", alpha=0.7))
    caption = (f"{flows.between} books change {flows.kind}; arrows: the "
               f"{len(shown)} largest flows")
    if len(rest):
        caption += f" ({int(c[rest].sum())} books in {len(rest)} smaller flows not drawn)"
    if flows.within.sum():
        caption += f"; \u21bb moved within a {flows.kind}"
    return caption


def flow_rows(flows: Flows, max_regions: int = MAX_TABLE) -> list[list[str]]:
    """The from x to table: header, one row per region of the first layout, totals; the
    regions with the most traffic in and out (the others summed as "other")."""
    k = len(flows.names)
    traffic = flows.counts.sum(axis=0) + flows.counts.sum(axis=1)
    keep = np.sort(np.argsort(-traffic, kind="stable")[:max_regions])
    keep = keep[traffic[keep] > 0]
    other = np.setdiff1d(np.arange(k), keep)
    other = other[traffic[other] > 0]                      # empty regions: left out
    groups = [[r] for r in keep] + ([list(other)] if len(other) else [])
    names = [flows.names[r] for r in keep] + (["other"] if len(other) else [])
    m = np.array([[flows.counts[np.ix_(g, h)].sum() for h in groups] for g in groups],
                 dtype=np.int64).reshape(len(groups), len(groups))
    rows = [[f"from \\ to ({flows.kind})", *names, "total", "leave"]]
    for r, name in enumerate(names):
        rows.append([name, *[str(v) if v else "" for v in m[r]], str(m[r].sum()),
                     str(m[r].sum() - m[r, r])])
    rows.append(["total", *[str(v) for v in m.sum(axis=0)], str(m.sum()),
                 str(m.sum() - np.trace(m))])
    return rows
