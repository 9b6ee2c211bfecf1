"""A zoom on the occupied part of a free-space floor plan, and labels that do not collide.

297 books in a 1.5 m half-dome by the door of a 14 x 9 m hall are a smudge on the
whole plan. :func:`add_zoom` adds an inset (in the corner of the plan that hides
the fewest books, never the entrance) showing the occupied region enlarged, with
the most borrowed books labelled beside it: two columns of labels, left and right of
the region, each in its books' vertical order and at least a line apart, joined to
its book by a thin leader line. A dashed box on the plan marks the zoomed region.
:func:`overlapping_texts` finds text that collides in a drawn figure (the tests
use it on every plan).
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.patches import Polygon as PolygonPatch
from matplotlib.patches import Rectangle

from shelfplan.layout import Layout
from shelfplan.present.style import ENTRANCE_COLOR, OBSTACLE_EDGE, OBSTACLE_FACE, escape, short

__all__ = ["occupied_box", "add_zoom", "label_columns", "overlapping_texts", "ZOOM_SHARE"]

#: zoom when the occupied box covers less than this share of the hall's box
ZOOM_SHARE = 0.2
#: the most borrowed books labelled in the zoom
N_LABELS = 6
#: the inset's side as a share of the plan's axes (at least), and its width in inches
#: (at least, up to 62 % of the plan)
INSET = 0.42
INSET_INCHES = 4.6


def occupied_box(layout: Layout) -> np.ndarray | None:
    """``[[x0, y0], [x1, y1]]`` around the books (padded by 2 d_min), or None when the
    books fill enough of the hall that the plan needs no zoom."""
    if layout.shelved or layout.n == 0 or layout.radius is not None:
        return None
    xy = np.asarray(layout.positions, dtype=float)[:, :2]
    pad = 2 * layout.hall.d_min
    lo, hi = xy.min(axis=0) - pad, xy.max(axis=0) + pad
    f0, f1 = layout.hall.footprint.min(axis=0), layout.hall.footprint.max(axis=0)
    share = np.prod(hi - lo) / max(np.prod(f1 - f0), 1e-12)
    return np.array([lo, hi]) if share < ZOOM_SHARE else None


def _corner(ax, layout: Layout, box: np.ndarray, size: float) -> tuple[float, float]:
    """The lower-left corner (axes fraction) of the inset: the corner of the plan whose
    square hides no entrance and the fewest books, the farthest from the books on a tie."""
    ax.apply_aspect()
    to_data = ax.transAxes + ax.transData.inverted()
    xy = np.asarray(layout.positions, dtype=float)[:, :2]
    e = np.asarray(layout.hall.entrance, dtype=float)[:2]
    centre = box.mean(axis=0)
    far = 1 - size - 0.02
    best, pick = None, (far, far)
    for fx, fy in ((0.02, 0.02), (far, 0.02), (0.02, far), (far, far)):
        (x0, y0), (x1, y1) = to_data.transform([(fx, fy), (fx + size, fy + size)])
        inside = lambda p: (p[..., 0] >= x0) & (p[..., 0] <= x1) & (  # noqa: E731
            p[..., 1] >= y0) & (p[..., 1] <= y1)
        covers_box = not (box[1, 0] < x0 or box[0, 0] > x1 or box[1, 1] < y0 or box[0, 1] > y1)
        score = (1000 * bool(inside(e)) + 100 * covers_box + int(inside(xy).sum()),
                 -math.dist(centre, ((x0 + x1) / 2, (y0 + y1) / 2)))
        if best is None or score < best:
            best, pick = score, (fx, fy)
    return pick


def label_columns(points: np.ndarray, centre_x: float, left_x: float, right_x: float,
                  step: float) -> np.ndarray:
    """Label positions in two columns, at ``left_x`` for the points left of
    ``centre_x`` and ``right_x`` for the others; in each column the labels keep their
    points' vertical order, centred on them, at least ``step`` apart (no two collide
    when ``step`` is a label's height)."""
    out = np.empty((len(points), 2))
    for side, x in ((points[:, 0] < centre_x, left_x), (points[:, 0] >= centre_x, right_x)):
        idx = np.nonzero(side)[0]
        if not len(idx):
            continue
        idx = idx[np.argsort(points[idx, 1], kind="stable")]
        y = points[idx, 1].astype(float).copy()
        for i in range(1, len(y)):                   # push up to the step
            y[i] = max(y[i], y[i - 1] + step)
        y -= (y.mean() - points[idx, 1].mean())      # re-centre the column on its books
        out[idx, 0], out[idx, 1] = x, y
    return out


def add_zoom(ax, layout: Layout, colors: np.ndarray, sizes: np.ndarray,
             n_labels: int = N_LABELS):
    """Add the zoom inset to a free-space plan drawn on ``ax`` (``colors``, ``sizes``:
    the books' as on the plan). Returns the inset axes, or None when no zoom is needed."""
    box = occupied_box(layout)
    if box is None:
        return None
    ax.apply_aspect()
    size = float(np.clip(INSET_INCHES * ax.figure.dpi / max(ax.bbox.width, 1.0), INSET, 0.62))
    fx, fy = _corner(ax, layout, box, size)
    ins = ax.inset_axes([fx, fy, size, size])
    hall, xy = layout.hall, np.asarray(layout.positions, dtype=float)[:, :2]
    ins.add_patch(PolygonPatch(hall.footprint, closed=True, fill=True, fc="white",
                               ec="#303030", lw=1.2, zorder=1))
    for ob in hall.obstacles:
        ins.add_patch(PolygonPatch(ob, closed=True, fc=OBSTACLE_FACE, ec=OBSTACLE_EDGE,
                                   lw=0.6, zorder=2))
    order = np.argsort(sizes, kind="stable")
    scale = 0.45 * (ax.bbox.width / max(ins.bbox.width, 1.0)) ** 0.5
    ins.scatter(xy[order, 0], xy[order, 1], s=np.asarray(sizes)[order] * scale,
                c=np.asarray(colors)[order], edgecolors="none", zorder=3)
    e = np.asarray(hall.entrance, dtype=float)
    ins.scatter([e[0]], [e[1]], s=120, marker="*", c=ENTRANCE_COLOR, edgecolors="white",
                linewidths=0.6, zorder=5)
    centre = box.mean(axis=0)
    w, h = box[1] - box[0]
    top = np.argsort(-np.nan_to_num(np.asarray(layout.p, dtype=float)), kind="stable")
    top = top[:min(n_labels, layout.n)]
    # the view: the box, a label column of about its width on either side, in the
    # inset's own proportions (so equal aspect needs no change of limits)
    ins_w, ins_h = size * ax.bbox.width, size * ax.bbox.height        # pixels
    label_px = 0.6 * ax.figure.dpi                                     # a label's width
    view_w = 1.16 * w / max(1.0 - 2.0 * label_px / ins_w, 0.25)
    view_h = max(view_w * ins_h / ins_w, 1.3 * h)
    view_w = view_h * ins_w / ins_h
    step = view_h * 9.0 / (ins_h * 72 / ax.figure.dpi)          # 9 pt per label line
    spots = label_columns(xy[top], centre[0], box[0, 0] - 0.08 * w, box[1, 0] + 0.08 * w,
                          step)
    for rank, (k, (x, y)) in enumerate(zip(top, spots), start=1):
        ins.annotate(f"{rank} {escape(short(layout.items[k]))}", xy=xy[k],
                     xytext=(x, y), fontsize=6.5, zorder=6,
                     ha="right" if x < centre[0] else "left", va="center",
                     arrowprops=dict(arrowstyle="-", lw=0.5, color="0.3", shrinkB=2))
    ins.set_xlim(centre[0] - view_w / 2, centre[0] + view_w / 2)
    bottom = max(centre[1] - view_h / 2, box[0, 1] - 0.15 * h)    # the floor above, not
    ins.set_ylim(bottom, bottom + view_h)                          # outside, the books
    ins.set_aspect("equal", adjustable="box")
    ins.set_xticks([])
    ins.set_yticks([])
    ins.set_title(f"zoom: {layout.n:,} books in {w:.1f} x {h:.1f} m; 1-{len(top)}: the most "
                  f"borrowed", fontsize=7, y=1.0, pad=-9)            # inside the inset
    ins.set_facecolor("#eeeeee")
    ax.add_patch(Rectangle(box[0], w, h, fill=False, ec="0.3", lw=0.9, ls="--", zorder=8))
    return ins


def overlapping_texts(fig, min_overlap: float = 1.0) -> list[tuple[str, str]]:
    """Pairs of drawn, non-empty texts of a figure (titles, axis and tick labels,
    annotations, legends, of every axes and inset) whose boxes overlap by more than
    ``min_overlap`` pixels both ways; two tick labels of a 3D axes excepted
    (matplotlib places those). Draw the figure first."""
    from matplotlib.text import Text

    renderer = fig.canvas.get_renderer()
    boxes = []
    for t, tick3d in _texts(fig):
        if not t.get_visible() or not t.get_text().strip():
            continue
        boxes.append((t.get_text(), Text.get_window_extent(t, renderer), tick3d))  # no arrow
    out = []
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            if boxes[i][2] and boxes[j][2]:
                continue
            a, b = boxes[i][1], boxes[j][1]
            w = min(a.x1, b.x1) - max(a.x0, b.x0)
            h = min(a.y1, b.y1) - max(a.y0, b.y0)
            if w > min_overlap and h > min_overlap:
                out.append((boxes[i][0], boxes[j][0]))
    return out


def _texts(fig) -> list:
    """(text, is a 3D tick label) for every text the figure draws."""
    out = [(t, False) for t in fig.texts]
    if getattr(fig, "_suptitle", None) is not None:
        out.append((fig._suptitle, False))
    for leg in fig.legends:
        out += [(t, False) for t in [*leg.get_texts(), leg.get_title()]]
    stack = list(fig.axes)
    seen = set()
    while stack:
        ax = stack.pop()
        if id(ax) in seen:
            continue
        seen.add(id(ax))
        stack += list(getattr(ax, "child_axes", []))
        out += [(t, False) for t in [*ax.texts, ax.title, ax._left_title, ax._right_title]]
        if ax.get_legend() is not None:
            leg = ax.get_legend()
            out += [(t, False) for t in [*leg.get_texts(), leg.get_title()]]
        is3d = ax.name == "3d"
        for axis in (ax.xaxis, ax.yaxis, getattr(ax, "zaxis", None)):
            if axis is None or not axis.get_visible():
                continue
            out.append((axis.label, False))
            lo, hi = sorted(axis.get_view_interval())
            span = (hi - lo) * 1e-9
            for tick in axis.get_major_ticks():           # only the ticks in view are drawn
                if lo - span <= tick.get_loc() <= hi + span:
                    out += [(tick.label1, is3d), (tick.label2, is3d)]
    unique = {id(t): (t, flag) for t, flag in out}
    return list(unique.values())
