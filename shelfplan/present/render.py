"""Draw a layout so that a librarian can read it (``shelfplan render``).

Two views of the same hall, built with matplotlib's object API (no pyplot
state), each a helper that takes ``ax=None`` and returns its artists:

* :func:`plot_3d`: the footprint extruded over ``z_range`` as light walls,
  obstacles as solid prisms, the entrance (a red door and marker), books as
  points coloured by category or by popularity and sized by ``p``, and
  optionally the strongest co-borrowed pairs as lines.
* :func:`plot_top`: the floor plan from above with a popularity heat map of
  the floor (share of loans per square metre, smoothed) under the books.

:func:`render` writes either or both views to PNG, SVG or PDF (chosen by the
file's extension) or, through :func:`render_html`, to a self-contained
interactive HTML page (plotly, the optional extra ``html``). Every write goes
through :func:`shelfplan.layout.atomic_write`: no partial file on failure.

Large layouts stay legible and fast: point sizes and alpha shrink with the
number of books, points are rasterised inside vector files, the category
legend is capped (the rest is "other"), and popular books are drawn last.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass

import numpy as np
import shapely
from matplotlib.collections import LineCollection
from matplotlib.colors import LogNorm, to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon as PolygonPatch

from shelfplan.errors import ShelfplanError
from shelfplan.layout import Layout, atomic_write, read_layout

log = logging.getLogger(__name__)

#: Output formats by file extension.
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf", ".html": "html", ".htm": "html"}
VIEWS = ("3d", "top", "both")
COLOR_BY = ("category", "popularity")

#: Distinct colours for the largest categories (tab10 without its grey, then
#: three dark ones from tab20b); everything else is "other" in grey.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31")
OTHER_COLOR = "#a9a9a9"
ENTRANCE_COLOR = "#d00000"
WALL_FACE = (0.80, 0.83, 0.90, 0.10)
WALL_EDGE = (0.35, 0.38, 0.45, 0.70)
FLOOR_FACE = (0.90, 0.90, 0.90, 0.35)
OBSTACLE_FACE = "#5f5f5f"
OBSTACLE_EDGE = "#303030"
EDGE_COLOR = "#1a1a1a"
POPULARITY_CMAP = "viridis"
HEAT_CMAP = "YlOrRd"
HEAT_UNDER = "#f7f7f2"   # floor with (almost) no loans
#: Books above this count are rasterised in vector formats (SVG/PDF).
RASTERIZE_ABOVE = 1000
DEFAULT_MAX_CATEGORIES = 10
DOOR_WIDTH = 1.2   # metres, only for drawing the entrance
MAX_DRAWN_BLOCKS = 400   # category blocks drawn as cylinders up to this many (else points)
CIRCLE_SIDES = 24
BLOCK_LABELS = 15        # the largest blocks are named on the floor plan


class RenderError(ShelfplanError):
    """A plan cannot be drawn or written as asked."""


# --------------------------------------------------------------------------
# shared styling
# --------------------------------------------------------------------------
@dataclass
class PointStyle:
    """How every book is drawn: colours, sizes, drawing order and the key."""

    colors: np.ndarray          # (n, 4) RGBA
    sizes: np.ndarray           # (n,) marker area in pt^2 (3D view)
    alpha: float
    order: np.ndarray           # draw order: least popular first, most popular last
    color_by: str
    labels: np.ndarray          # (n,) legend key of each book (category, "other" or "")
    legend: list                # [(label, colour, key)], largest first, "other" last
    norm: LogNorm | None = None  # popularity colouring
    cmap: str = POPULARITY_CMAP


def _check_choice(value, choices, what):
    if value not in choices:
        raise RenderError(f"{what} must be one of {', '.join(choices)}, got {value!r}")


def _escape(text) -> str:
    """Text safe for matplotlib (a '$' would start mathtext)."""
    return str(text).replace("$", r"\$")


def point_sizes(p: np.ndarray, n: int | None = None, scale: float = 1.0) -> np.ndarray:
    """Marker areas (pt^2): area grows with sqrt(p); the largest shrinks as n grows."""
    p = np.clip(np.nan_to_num(np.asarray(p, dtype=float)), 0.0, None)
    n = len(p) if n is None else n
    top = p.max() if p.size and p.max() > 0 else 1.0
    s_max = float(np.clip(70.0 * math.sqrt(300.0 / max(n, 1)), 10.0, 90.0)) * scale
    return s_max * (0.15 + 0.85 * np.sqrt(p / top))


def point_alpha(n: int) -> float:
    """Opacity of the books: opaque for a few hundred, lighter for tens of thousands."""
    return float(np.clip(0.9 - 0.2 * math.log10(max(n, 1) / 500.0), 0.45, 0.9))


def popularity_norm(p: np.ndarray) -> LogNorm:
    """A log colour scale over p (Zipf-like: linear would paint all but a few books alike)."""
    p = np.asarray(p, dtype=float)
    pos = p[np.isfinite(p) & (p > 0)]
    if pos.size == 0:
        return LogNorm(vmin=1e-6, vmax=1.0, clip=True)
    lo, hi = float(pos.min()), float(pos.max())
    if hi <= lo:
        lo, hi = lo / 2.0, hi * 2.0
    return LogNorm(vmin=lo, vmax=hi, clip=True)


def category_key(layout: Layout, max_categories: int = DEFAULT_MAX_CATEGORIES):
    """(key of each book, [(legend label, colour, key)]) with the largest categories named.

    Categories are ranked by number of books (ties: more loans first, then
    name); the first ``max_categories`` get their own colour, the rest (and
    books without a category) are "other".
    """
    if not 1 <= max_categories <= len(PALETTE):
        raise RenderError(f"max_categories must be between 1 and {len(PALETTE)}, got "
                          f"{max_categories}")
    n = layout.n
    cats = layout.categories
    if cats is None:
        cats = np.array([None] * n, dtype=object)
    keys = np.array(["" if c is None else str(c) for c in cats], dtype=object)
    names, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    if layout.sizes is not None:     # category blocks: count the books they hold
        counts = np.bincount(inverse, weights=layout.sizes, minlength=len(names)).astype(int)
    weight = np.bincount(inverse, weights=np.nan_to_num(layout.p), minlength=len(names))
    known = names != ""
    rank = sorted(np.nonzero(known)[0], key=lambda k: (-counts[k], -weight[k], names[k]))
    named = rank[:max_categories]
    labels = np.full(n, "other", dtype=object)
    legend = []
    for c, k in enumerate(named):
        labels[inverse == k] = names[k]
        legend.append((f"{_short(names[k], 40)}  ({counts[k]:,} books)", PALETTE[c], names[k]))
    rest = (labels == "other")
    if rest.any():
        n_rest = len(rank) - len(named) + (0 if known.all() else 1)
        what = f"{n_rest} more categor{'y' if n_rest == 1 else 'ies'}" if len(rank) > len(named) \
            else "no category"
        books = int(rest.sum() if layout.sizes is None else layout.sizes[rest].sum())
        legend.append((f"other: {what}  ({books:,} books)", OTHER_COLOR, "other"))
    return labels, legend


def point_style(layout: Layout, color_by: str = "category",
                max_categories: int = DEFAULT_MAX_CATEGORIES) -> PointStyle:
    """Colours, sizes, alpha and draw order of the books, shared by every view."""
    _check_choice(color_by, COLOR_BY, "color_by")
    n = layout.n
    p = np.nan_to_num(np.asarray(layout.p, dtype=float))
    if color_by == "category" and layout.categories is None:
        log.warning("the layout has no categories; colouring the books by popularity")
        color_by = "popularity"
    alpha = point_alpha(n)
    order = np.argsort(p, kind="stable")
    if color_by == "category":
        labels, legend = category_key(layout, max_categories)
        lut = {key: colour for _, colour, key in legend}
        colors = np.array([to_rgba(lut[k], alpha) for k in labels]).reshape(n, 4)
        return PointStyle(colors=colors, sizes=point_sizes(p, n), alpha=alpha, order=order,
                          color_by=color_by, labels=labels, legend=legend)
    from matplotlib import colormaps

    norm = popularity_norm(p)
    colors = colormaps[POPULARITY_CMAP](norm(np.where(p > 0, p, norm.vmin)))
    colors[:, 3] = alpha
    return PointStyle(colors=colors, sizes=point_sizes(p, n), alpha=alpha, order=order,
                      color_by=color_by, labels=np.full(n, "", dtype=object), legend=[],
                      norm=norm)


def plan_title(layout: Layout) -> str:
    """'<hall> - n books, S = ... m, S/LB = ...' (what is drawn and how good it is)."""
    s = layout.objective.get("total") if layout.objective else None
    lb = layout.lower_bound.get("total") if layout.lower_bound else None
    parts = [f"{layout.n:,} books"]
    if layout.sizes is not None:
        parts = [f"{layout.n:,} category blocks ({int(layout.sizes.sum()):,} books)"]
    parts.append(f"S = {s:.3f} m" if isinstance(s, (int, float)) else "S n/a")
    if isinstance(s, (int, float)) and isinstance(lb, (int, float)) and lb > 0:
        parts.append(f"S/LB = {s / lb:.2f}")
    return f"{_escape(layout.hall.name)}: " + ",  ".join(parts)


def _legend_handles(style: PointStyle) -> list:
    return [Line2D([], [], linestyle="none", marker="o", markersize=7, markerfacecolor=c,
                   markeredgecolor="none", label=_escape(lab)) for lab, c, _ in style.legend]


def _rasterize(layout: Layout, rasterized):
    return layout.n > RASTERIZE_ABOVE if rasterized is None else bool(rasterized)


# --------------------------------------------------------------------------
# edges (co-borrowed pairs)
# --------------------------------------------------------------------------
def pairs_from_loans(loans, k: int, *, read_options: dict | None = None) -> list:
    """The ``k`` strongest co-borrowed pairs in ``loans`` as ``[(id_a, id_b, p_pair)]``.

    ``loans`` is a path, ``-`` or a :class:`shelfplan.ingest.loans.Loans`.
    """
    from shelfplan.model.estimate import estimate
    from shelfplan.ingest.loans import Loans, read_loans

    if not isinstance(loans, Loans):
        loans = read_loans(loans, **(read_options or {}))
    top = estimate(loans).top_pairs(int(k))
    return list(zip(top["item_a"], top["item_b"], top["p_pair"]))


def resolve_edges(layout: Layout, edges) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edges as item indices ``(ia, ib, weight)``.

    ``edges`` is ``None`` or ``0`` (no edges), an int ``k`` (the ``k`` strongest
    pairs stored in the layout file) or a list of ``(id_a, id_b, weight)``
    (e.g. from :func:`pairs_from_loans`). Pairs naming items that are not in
    the layout are left out.
    """
    empty = (np.zeros(0, dtype=int), np.zeros(0, dtype=int), np.zeros(0))
    if edges is None or (isinstance(edges, (int, np.integer)) and not isinstance(edges, bool)
                         and edges == 0):
        return empty
    if isinstance(edges, (int, np.integer)) and not isinstance(edges, bool):
        if edges < 0:
            raise RenderError(f"edges must be a number of pairs >= 0, got {edges}")
        if not layout.pairs:
            raise RenderError("the layout has no stored co-borrowed pairs to draw as edges; "
                              "pass the loans file (--loans LOANS) or re-create the layout "
                              "with this shelfplan's fit or baseline")
        try:
            pairs = [(str(a), str(b), float(w)) for a, b, w in list(layout.pairs)[:int(edges)]]
        except (TypeError, ValueError):
            raise RenderError("the layout's stored pairs are not [id_a, id_b, weight] "
                              "triples; pass the loans file (--loans LOANS)") from None
    else:
        try:
            pairs = [(str(a), str(b), float(w)) for a, b, w in edges]
        except (TypeError, ValueError):
            raise RenderError("edges must be a number of pairs or a list of (id_a, id_b, "
                              "weight)") from None
        if not pairs:
            raise RenderError("no co-borrowed pairs to draw as edges: the loans have no "
                              "session with two or more books")
    index = layout.index()
    ia, ib, w = [], [], []
    for a, b, wt in pairs:
        i, j = index.get(str(a)), index.get(str(b))
        if i is not None and j is not None:
            ia.append(i)
            ib.append(j)
            w.append(float(wt))
    if not ia:
        raise RenderError(f"none of the {len(pairs)} co-borrowed pairs names a book of this "
                          f"layout; pass the loans the layout was made from")
    if len(ia) < len(pairs):
        log.warning("%d of %d pairs name books that are not in the layout; drawing the other %d",
                    len(pairs) - len(ia), len(pairs), len(ia))
    return np.array(ia), np.array(ib), np.nan_to_num(np.array(w))


def _edge_widths(w: np.ndarray) -> np.ndarray:
    """Line widths (pt) by pair strength, thinner when many pairs are drawn."""
    top = w.max() if w.size and w.max() > 0 else 1.0
    return (0.4 + 2.0 * w / top) * min(1.0, math.sqrt(50.0 / max(len(w), 1)))


# --------------------------------------------------------------------------
# geometry helpers
# --------------------------------------------------------------------------
def _circle(centre: np.ndarray, r: float) -> np.ndarray:
    """A block's disc as a ring of ``CIRCLE_SIDES`` points."""
    t = np.linspace(0.0, 2.0 * np.pi, CIRCLE_SIDES, endpoint=False)
    return np.column_stack([centre[0] + r * np.cos(t), centre[1] + r * np.sin(t)])


def _opaque(colors: np.ndarray, alpha: float) -> np.ndarray:
    out = np.array(colors, dtype=float).reshape(-1, 4)
    out[:, 3] = alpha
    return out


def _short(name, width: int = 18) -> str:
    name = str(name)
    return name if len(name) <= width else name[: width - 1] + "…"


def _closed(ring: np.ndarray) -> np.ndarray:
    return np.vstack([ring, ring[:1]])


def _z_limits(layout: Layout) -> tuple[float, float]:
    lo, hi = layout.hall.z_range
    lo = min(lo, float(layout.hall.entrance[2]), float(layout.positions[:, 2].min()))
    hi = max(hi, float(layout.hall.entrance[2]), float(layout.positions[:, 2].max()))
    if hi - lo < 1e-6:
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi


def _door(layout: Layout) -> np.ndarray:
    """Two floor points: a door DOOR_WIDTH wide on the wall at the entrance."""
    hall = layout.hall
    u, _ = hall.entrance_wall()
    e = hall.entrance[:2]
    half = min(DOOR_WIDTH, 0.5 * max(np.ptp(hall.footprint, axis=0))) / 2.0
    return np.array([e - half * u, e + half * u])


def _prism_faces(ring: np.ndarray, z0: float, z1: float, caps: bool = True) -> list:
    faces = []
    nxt = np.roll(ring, -1, axis=0)
    for a, b in zip(ring, nxt):
        faces.append([(a[0], a[1], z0), (b[0], b[1], z0), (b[0], b[1], z1), (a[0], a[1], z1)])
    if caps:
        faces.append([(x, y, z1) for x, y in ring])
        faces.append([(x, y, z0) for x, y in ring])
    return faces


# --------------------------------------------------------------------------
# the 3D view
# --------------------------------------------------------------------------
def plot_3d(layout: Layout, ax=None, *, color_by: str = "category", edges=None,
            elev: float = 28.0, azim: float = -62.0,
            max_categories: int = DEFAULT_MAX_CATEGORIES, legend: bool = True,
            colorbar: bool = True, title: bool | str = True, rasterized: bool | None = None,
            style: PointStyle | None = None) -> dict:
    """Draw the hall and its books in 3D on ``ax`` (a new figure's 3D axes if None).

    Returns the artists: ``points``, ``walls``, ``floor``, ``obstacles`` (list),
    ``entrance`` (list), ``edges`` (or None), ``legend`` (or None) and
    ``colorbar`` (or None). ``edges`` is as in :func:`resolve_edges`. The box
    keeps the hall's proportions (metres on every axis) and is zoomed to fill
    the axes' rectangle; the hall's artists are not clipped to it.
    """
    from mpl_toolkits.mplot3d.art3d import Line3DCollection, Poly3DCollection

    style = style or point_style(layout, color_by, max_categories)
    ia, ib, w = resolve_edges(layout, edges)
    if ax is None:
        fig = Figure(figsize=(10, 7.5), layout="constrained")
        ax = fig.add_subplot(projection="3d", computed_zorder=False)
    fig = ax.get_figure()
    hall = layout.hall
    z0, z1 = hall.z_range
    zlo, zhi = _z_limits(layout)
    raster = _rasterize(layout, rasterized)
    art = {}

    # hall: floor, walls (light), obstacles (solid)
    art["floor"] = ax.add_collection3d(Poly3DCollection(
        [[(x, y, z0) for x, y in hall.footprint]], facecolors=[FLOOR_FACE],
        edgecolors=[WALL_EDGE], linewidths=0.8, zorder=0))
    art["walls"] = ax.add_collection3d(Poly3DCollection(
        _prism_faces(hall.footprint, z0, z1, caps=False), facecolors=[WALL_FACE],
        edgecolors=[WALL_EDGE], linewidths=0.8, zorder=1))
    art["obstacles"] = [ax.add_collection3d(Poly3DCollection(
        _prism_faces(ob, z0, z1), facecolors=OBSTACLE_FACE, edgecolors=OBSTACLE_EDGE,
        linewidths=0.6, zorder=2)) for ob in hall.obstacles]

    # co-borrowed pairs
    art["edges"] = None
    if len(ia):
        segs = np.stack([layout.positions[ia], layout.positions[ib]], axis=1)
        lc = Line3DCollection(segs, colors=[EDGE_COLOR], linewidths=_edge_widths(w),
                              alpha=0.6, zorder=4.2)   # over the books: pairs stay visible
        art["edges"] = ax.add_collection3d(lc)

    # books (category blocks: cylinders from the bottom to the top shelf)
    o = style.order
    pos = layout.positions[o]
    if layout.radius is not None and layout.n <= MAX_DRAWN_BLOCKS:
        pts = ax.add_collection3d(Poly3DCollection(
            [f for k in o for f in _prism_faces(_circle(layout.positions[k], layout.radius[k]),
                                                z0, z1, caps=True)],
            facecolors=np.repeat(_opaque(style.colors[o], 0.55), CIRCLE_SIDES + 2, axis=0),
            edgecolors="none", zorder=4))
    else:
        pts = ax.scatter(pos[:, 0], pos[:, 1], pos[:, 2], s=style.sizes[o], c=style.colors[o],
                         edgecolors="none", depthshade=False, zorder=4)
    if raster and not ax.computed_zorder:
        # 3D collections cannot be rasterised one by one: rasterise everything drawn
        # up to the books (hall, edges, books) and keep the entrance and text vector
        ax.set_rasterization_zorder(4.5)
    art["points"] = pts

    # entrance: a red door in the wall and a marker at the entrance point
    door = _door(layout)
    e = hall.entrance
    door_face = Poly3DCollection(
        [[(door[0, 0], door[0, 1], z0), (door[1, 0], door[1, 1], z0),
          (door[1, 0], door[1, 1], z1), (door[0, 0], door[0, 1], z1)]],
        facecolors=[to_rgba(ENTRANCE_COLOR, 0.30)], edgecolors=[ENTRANCE_COLOR],
        linewidths=1.5, zorder=1.5)
    _, inward = hall.entrance_wall()
    label_at = e[:2] - inward * 0.03 * float(max(np.ptp(hall.footprint, axis=0)))
    art["entrance"] = [
        ax.add_collection3d(door_face),
        ax.scatter([e[0]], [e[1]], [e[2]], s=160, marker="*", c=ENTRANCE_COLOR,
                   edgecolors="white", linewidths=0.8, depthshade=False, zorder=6),
        ax.text(label_at[0], label_at[1], z0, "Entrance", color=ENTRANCE_COLOR,
                fontsize=10, fontweight="bold", ha="center", va="top", zorder=7),
    ]

    # axes in metres, equal aspect
    (x0, y0), (x1, y1) = hall.footprint.min(axis=0), hall.footprint.max(axis=0)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_zlim(zlo, zhi)
    ax.set_box_aspect((x1 - x0, y1 - y0, zhi - zlo))
    ax.set_xlabel("x (m)", labelpad=12)
    ax.set_ylabel("y (m)", labelpad=8)
    ax.set_zlabel("z (m)", labelpad=2)
    ax.set_zticks([round(zlo, 2), round(zhi, 2)])
    ax.view_init(elev=elev, azim=azim)
    with_bar = bool(colorbar) and style.norm is not None
    _fill_axes(ax, (x0, x1), (y0, y1), (zlo, zhi), side=0.1 if with_bar else 0.0)
    for a in [art["floor"], art["walls"], art["edges"], pts, *art["obstacles"],
              *art["entrance"]]:
        if a is not None:
            a.set_clip_on(False)
    ax.grid(False)
    ax.xaxis.pane.set_alpha(0.0)
    ax.yaxis.pane.set_alpha(0.0)
    ax.zaxis.pane.set_alpha(0.0)

    art["legend"] = art["colorbar"] = None
    if legend and style.legend:
        art["legend"] = ax.legend(handles=_legend_handles(style), title="category",
                                  loc="upper left", fontsize=8, title_fontsize=9,
                                  frameon=True, framealpha=0.85, bbox_to_anchor=(0.0, 1.0))
    if with_bar:
        art["colorbar"] = _popularity_colorbar(fig, ax, style)
    if title:
        ax.set_title(plan_title(layout) if title is True else _escape(title), fontsize=11)
    return art


def _fill_axes(ax, xlim, ylim, zlim, fill: float = 0.8, side: float = 0.0) -> None:
    """Zoom the 3D box to fill ``fill`` of the axes' rectangle.

    Axes3D draws into the largest square inside its rectangle, so a flat hall
    seen from the side would use a thin strip of it; our artists are unclipped
    and may use the whole rectangle instead (less ``side`` of its width on each
    side, e.g. for a colour bar).
    """
    from mpl_toolkits.mplot3d import proj3d

    aspect = (xlim[1] - xlim[0], ylim[1] - ylim[0], zlim[1] - zlim[0])
    cx, cy, cz = (a.ravel() for a in np.meshgrid(xlim, ylim, zlim))
    ax.apply_aspect()
    target = ax.get_position(original=True).transformed(ax.get_figure().transSubfigure)
    zoom = 1.0
    for _ in range(3):   # the perspective shifts a little with the zoom: settle it
        ax.set_box_aspect(aspect, zoom=zoom)
        xs, ys, _z = proj3d.proj_transform(cx, cy, cz, ax.get_proj())
        span = np.ptp(ax.transData.transform(np.column_stack([xs, ys])), axis=0)
        if not (span > 0).all() or target.width <= 0 or target.height <= 0:
            return
        zoom = float(np.clip(zoom * fill * min(target.width * (1 - 2 * side) / span[0],
                                               target.height / span[1]), 0.3, 5.0))
    ax.set_box_aspect(aspect, zoom=zoom)


def _popularity_colorbar(fig, ax, style: PointStyle):
    """A colour bar for p(i) at the right of the 3D axes' rectangle (kept free for it)."""
    from matplotlib.cm import ScalarMappable

    sm = ScalarMappable(norm=style.norm, cmap=style.cmap)
    pos = ax.get_position(original=True)
    cax = fig.add_axes((pos.x0 + 0.91 * pos.width, pos.y0 + 0.2 * pos.height,
                        0.015 * pos.width, 0.6 * pos.height))
    return fig.colorbar(sm, cax=cax, label="popularity p(i): share of loans")


# --------------------------------------------------------------------------
# the floor plan (top view)
# --------------------------------------------------------------------------
def popularity_grid(layout: Layout, cell: float | None = None, smooth: float | None = None):
    """A heat map of popularity on the floor: share of loans per m^2, smoothed.

    Returns ``(density, extent)``: a masked ``(ny, nx)`` array (masked off
    the free floor) and ``(x0, x1, y0, y1)`` for ``imshow(origin="lower")``.
    ``cell`` (m) defaults to 1/160 of the hall's larger side; ``smooth`` (the
    Gaussian's sigma, m) to the larger of 2 d_min and 1/40 of that side.
    """
    from scipy.ndimage import gaussian_filter

    hall = layout.hall
    (x0, y0), (x1, y1) = hall.footprint.min(axis=0), hall.footprint.max(axis=0)
    side = max(x1 - x0, y1 - y0)
    cell = float(cell or side / 160.0)
    smooth = float(smooth or max(2 * hall.d_min, side / 40.0))
    nx = max(1, int(math.ceil((x1 - x0) / cell)))
    ny = max(1, int(math.ceil((y1 - y0) / cell)))
    xe = x0 + cell * np.arange(nx + 1)
    ye = y0 + cell * np.arange(ny + 1)
    p = np.nan_to_num(np.asarray(layout.p, dtype=float))
    hist, _, _ = np.histogram2d(layout.positions[:, 1], layout.positions[:, 0],
                                bins=[ye, xe], weights=p)
    dens = gaussian_filter(hist, sigma=smooth / cell, mode="constant") / cell ** 2
    cx, cy = np.meshgrid(xe[:-1] + cell / 2, ye[:-1] + cell / 2)
    on_floor = shapely.contains_xy(hall.floor, cx, cy)
    return np.ma.masked_array(dens, mask=~on_floor), (xe[0], xe[-1], ye[0], ye[-1])


def plot_top(layout: Layout, ax=None, *, color_by: str = "category", heatmap: bool = True,
             points: bool = True, edges=None, max_categories: int = DEFAULT_MAX_CATEGORIES,
             legend: bool = False, colorbar: bool = True, title: bool | str = True,
             rasterized: bool | None = None, style: PointStyle | None = None) -> dict:
    """Draw the floor plan seen from above on ``ax`` (a new figure's axes if None).

    Returns the artists: ``heatmap`` (or None), ``walls``, ``obstacles`` (list),
    ``entrance`` (list), ``edges`` (or None), ``points`` (or None), ``legend``
    (or None) and ``colorbar`` (the heat map's, or None).
    """
    style = style or point_style(layout, color_by, max_categories)
    ia, ib, w = resolve_edges(layout, edges)
    if ax is None:
        fig = Figure(figsize=(10, 7.5), layout="constrained")
        ax = fig.add_subplot()
    fig = ax.get_figure()
    hall = layout.hall
    raster = _rasterize(layout, rasterized)
    art = {"heatmap": None, "colorbar": None, "edges": None, "points": None, "legend": None}

    if heatmap:
        dens, extent = popularity_grid(layout)
        from matplotlib import colormaps

        top = float(dens.max()) if dens.count() and dens.max() > 0 else 1.0
        cmap = colormaps[HEAT_CMAP].with_extremes(under=HEAT_UNDER)
        im = ax.imshow(dens, origin="lower", extent=extent, cmap=cmap, interpolation="bilinear",
                       zorder=0, vmin=top * 0.01, vmax=top)
        art["heatmap"] = im
        if colorbar:
            cax = ax.inset_axes([1.02, 0.05, 0.025, 0.9])   # follows the equal-aspect box
            art["colorbar"] = fig.colorbar(im, cax=cax, label="popularity: share of loans per m²")
    art["walls"] = ax.add_patch(PolygonPatch(hall.footprint, closed=True, fill=False,
                                             edgecolor="#303030", linewidth=1.6, zorder=3))
    art["obstacles"] = [ax.add_patch(PolygonPatch(ob, closed=True, facecolor=OBSTACLE_FACE,
                                                  edgecolor=OBSTACLE_EDGE, linewidth=0.8,
                                                  zorder=3))
                        for ob in hall.obstacles]
    if len(ia):
        segs = np.stack([layout.positions[ia, :2], layout.positions[ib, :2]], axis=1)
        lc = LineCollection(segs, colors=[EDGE_COLOR], linewidths=_edge_widths(w) * 0.8,
                            alpha=0.55, zorder=5.5)
        lc.set_rasterized(raster and len(ia) > RASTERIZE_ABOVE)
        art["edges"] = ax.add_collection(lc)
    if points and layout.radius is not None:
        # category blocks: discs to scale, the largest named
        from matplotlib.collections import PatchCollection
        from matplotlib.patches import Circle

        o = style.order
        discs = PatchCollection([Circle(layout.positions[k, :2], layout.radius[k]) for k in o],
                                facecolors=_opaque(style.colors[o], 0.8), edgecolors="#303030",
                                linewidths=0.5, zorder=5)
        discs.set_rasterized(raster)
        art["points"] = ax.add_collection(discs)
        named = np.argsort(-layout.radius, kind="stable")[:BLOCK_LABELS]
        art["labels"] = [ax.annotate(_escape(_short(layout.items[k])),
                                     xy=layout.positions[k, :2], fontsize=6, ha="center",
                                     va="center", zorder=5.6, color="#101010")
                         for k in named if layout.radius[k] >= 0.25]
    elif points:
        o = style.order
        pos = layout.positions[o]
        pts = ax.scatter(pos[:, 0], pos[:, 1], s=style.sizes[o] * 0.45, c=style.colors[o],
                         edgecolors="none", zorder=5)
        pts.set_rasterized(raster)
        art["points"] = pts
    door = _door(layout)
    e = hall.entrance
    _, inward = hall.entrance_wall()
    span = float(max(np.ptp(hall.footprint, axis=0)))
    art["entrance"] = [
        ax.plot(door[:, 0], door[:, 1], color=ENTRANCE_COLOR, linewidth=5,
                solid_capstyle="butt", zorder=6)[0],
        ax.scatter([e[0]], [e[1]], s=180, marker="*", c=ENTRANCE_COLOR, edgecolors="white",
                   linewidths=0.8, zorder=7),
        ax.annotate("Entrance", xy=(e[0], e[1]), xytext=(-inward * 14),
                    textcoords="offset points", color=ENTRANCE_COLOR, fontsize=10,
                    fontweight="bold", ha="center", va="center", zorder=7,
                    annotation_clip=False),
    ]
    (x0, y0), (x1, y1) = hall.footprint.min(axis=0), hall.footprint.max(axis=0)
    pad = 0.06 * span
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_aspect("equal")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.grid(True, color="#e4e4e4", linewidth=0.5, zorder=-1)
    ax.set_axisbelow(True)
    if legend and style.legend:
        art["legend"] = ax.legend(handles=_legend_handles(style), title="category",
                                  loc="upper right", fontsize=8, title_fontsize=9)
    if title:
        ax.set_title("floor plan from above" if title is True else _escape(title), fontsize=11)
    return art


# --------------------------------------------------------------------------
# figures and files
# --------------------------------------------------------------------------
def _as_layout(layout) -> Layout:
    return layout if isinstance(layout, Layout) else read_layout(layout)


def output_format(path) -> str:
    """'png', 'svg', 'pdf' or 'html' from the file's extension, else a RenderError."""
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext not in FORMATS:
        got = f"'{ext}'" if ext else "no extension"
        raise RenderError(f"{os.fspath(path)}: unknown output format ({got}); end the file name "
                          f"with .png, .svg, .pdf or .html")
    return FORMATS[ext]


def check_output(path) -> str:
    """Fail fast on an output that cannot be written: unknown extension, missing plotly
    for HTML. Returns the format."""
    fmt = output_format(path)
    if fmt == "html":
        _plotly()
    return fmt


def plan_figure(layout, *, view: str = "both", color_by: str = "category", edges=None,
                elev: float = 28.0, azim: float = -62.0,
                max_categories: int = DEFAULT_MAX_CATEGORIES,
                rasterized: bool | None = None) -> Figure:
    """A matplotlib :class:`Figure` with the 3D view, the floor plan, or both side by side."""
    layout = _as_layout(layout)
    _check_choice(view, VIEWS, "view")
    style = point_style(layout, color_by, max_categories)
    common = dict(edges=edges, rasterized=rasterized, style=style)
    (x0, y0), (x1, y1) = layout.hall.footprint.min(axis=0), layout.hall.footprint.max(axis=0)
    ratio = float(np.clip((y1 - y0) / max(x1 - x0, 1e-9), 0.4, 1.6))
    # Fixed placement in inches (no constrained layout: 3D axes report loose extents)
    has_legend = bool(style.legend)
    legend_kw = dict(handles=_legend_handles(style), title="category (largest first)",
                     fontsize=9, title_fontsize=9, frameon=False)
    if view == "both":
        w, plot_h = 17.0, max(4.0, 5.9 * ratio)
        below = 1.1 if has_legend else 0.4
        h = plot_h + below + 0.6
        fig = Figure(figsize=(w, h))
        ax3 = fig.add_axes((0.0, below / h, 0.56, plot_h / h), projection="3d",
                           computed_zorder=False)
        axt = fig.add_axes((0.60, below / h, 0.32, plot_h / h))
        plot_3d(layout, ax3, elev=elev, azim=azim, legend=False, title="3D view", **common)
        plot_top(layout, axt, title="floor plan from above", **common)
        if has_legend:
            fig.legend(loc="lower center", bbox_to_anchor=(0.5, 0.02),
                       ncols=min(len(style.legend), 5), **legend_kw)
        fig.suptitle(plan_title(layout), fontsize=13, y=1 - 0.12 / h)
        return fig
    if view == "3d":
        w, h = 12.0, 2.0 + 4.5 * max(ratio, 0.6)
        fig = Figure(figsize=(w, h))
        ax = fig.add_axes((0.0, 0.02, 0.76 if has_legend else 0.96, 0.9), projection="3d",
                          computed_zorder=False)
        plot_3d(layout, ax, elev=elev, azim=azim, legend=False, **common)
        if has_legend:
            fig.legend(loc="upper left", bbox_to_anchor=(0.76, 0.88), **legend_kw)
        return fig
    w, plot_h = 11.0, max(3.5, 8.6 * ratio)
    below = 1.3 if has_legend else 0.6
    h = plot_h + below + 0.5
    fig = Figure(figsize=(w, h))
    ax = fig.add_axes((0.08, below / h, 0.78, plot_h / h))
    plot_top(layout, ax, title=plan_title(layout), **common)
    if has_legend:
        fig.legend(loc="lower center", bbox_to_anchor=(0.5, 0.01),
                   ncols=min(len(style.legend), 4), **legend_kw)
    return fig


def render(layout, path, *, view: str = "both", color_by: str = "category", edges=None,
           elev: float = 28.0, azim: float = -62.0, dpi: float = 150,
           max_categories: int = DEFAULT_MAX_CATEGORIES, rasterized: bool | None = None) -> str:
    """Write the plan to ``path``: PNG, SVG, PDF or HTML by its extension.

    ``layout`` is a :class:`Layout` or a layout file's path. HTML goes to
    :func:`render_html`. The file is written atomically; returns the format.
    """
    fmt = output_format(path)
    _check_choice(view, VIEWS, "view")
    _check_choice(color_by, COLOR_BY, "color_by")
    if fmt == "html":
        render_html(layout, path, view=view, color_by=color_by, edges=edges, elev=elev,
                    azim=azim, max_categories=max_categories)
        return fmt
    if not (isinstance(dpi, (int, float)) and 10 <= dpi <= 1200):
        raise RenderError(f"dpi must be between 10 and 1200, got {dpi!r}")
    fig = plan_figure(layout, view=view, color_by=color_by, edges=edges, elev=elev, azim=azim,
                      max_categories=max_categories, rasterized=rasterized)
    meta = {"png": {"Software": "shelfplan"}, "svg": {"Creator": "shelfplan"},
            "pdf": {"Creator": "shelfplan"}}[fmt]
    atomic_write(path, lambda fh: fig.savefig(fh, format=fmt, dpi=dpi, metadata=meta),
                 mode="wb")
    return fmt


# --------------------------------------------------------------------------
# interactive HTML (plotly)
# --------------------------------------------------------------------------
def _plotly():
    try:
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots
    except ImportError:
        raise RenderError('interactive HTML needs plotly, which is not installed; install '
                          'the extra with: pip install "shelfplan[html]"') from None
    return go, make_subplots


def _triangles(ring: np.ndarray) -> np.ndarray:
    """Triangles (k, 3) of vertex indices covering a simple polygon."""
    poly = shapely.Polygon(ring)
    if hasattr(shapely, "constrained_delaunay_triangles"):
        tris = shapely.constrained_delaunay_triangles(poly)
    else:  # shapely < 2.1: Delaunay of the corners, keep triangles inside
        tris = shapely.delaunay_triangles(poly)
    out = []
    for t in shapely.get_parts(tris):
        if not t.is_empty and poly.contains(t.representative_point()):
            pts = np.asarray(t.exterior.coords)[:3]
            out.append([int(np.argmin(np.linalg.norm(ring - q, axis=1))) for q in pts])
    return np.array(out, dtype=int).reshape(-1, 3)


def _mesh_prism(ring: np.ndarray, z0: float, z1: float, caps: bool = True):
    """Vertices (x, y, z) and triangles (i, j, k) of a prism over ``ring``."""
    m = len(ring)
    x = np.concatenate([ring[:, 0], ring[:, 0]])
    y = np.concatenate([ring[:, 1], ring[:, 1]])
    z = np.concatenate([np.full(m, z0), np.full(m, z1)])
    a = np.arange(m)
    b = (a + 1) % m
    tri = [np.stack([a, b, b + m], 1), np.stack([a, b + m, a + m], 1)]
    if caps:
        cap = _triangles(ring)
        tri += [cap, cap + m]
    t = np.concatenate(tri)
    return x, y, z, t[:, 0], t[:, 1], t[:, 2]


def _plotly_blocks(fig, go, layout: Layout, idx, style: PointStyle, z0: float, z1: float,
                   name: str, group: int, at3, att) -> None:
    """Category blocks ``idx`` as one cylinder mesh (3D) and discs (floor plan)."""
    if at3 is not None:
        xs, ys, zs, ii, jj, kk, colors = [], [], [], [], [], [], []
        base = 0
        for b in idx:
            x, y, z, i, j, k = _mesh_prism(_circle(layout.positions[b], layout.radius[b]),
                                           z0, z1, caps=True)
            xs.append(x)
            ys.append(y)
            zs.append(z)
            ii.append(i + base)
            jj.append(j + base)
            kk.append(k + base)
            colors += [_hex(style.colors[b])] * len(i)
            base += len(x)
        fig.add_trace(go.Mesh3d(
            x=np.concatenate(xs), y=np.concatenate(ys), z=np.concatenate(zs),
            i=np.concatenate(ii), j=np.concatenate(jj), k=np.concatenate(kk),
            facecolor=colors, opacity=0.55, flatshading=True, hoverinfo="skip",
            name=name, legendgroup=f"g{group}", showlegend=False), **at3)
    if att is not None:
        for b in idx:
            (cx, cy), r = layout.positions[b, :2], float(layout.radius[b])
            fig.add_shape(type="circle", x0=cx - r, y0=cy - r, x1=cx + r, y1=cy + r,
                          fillcolor=_hex(style.colors[b]), opacity=0.8,
                          line=dict(width=0.5, color="#303030"), layer="above", **att)


def _hex(rgba) -> str:
    r, g, b = (int(round(255 * v)) for v in rgba[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def plotly_figure(layout, *, view: str = "both", color_by: str = "category", edges=None,
                  elev: float = 28.0, azim: float = -62.0,
                  max_categories: int = DEFAULT_MAX_CATEGORIES):
    """A plotly figure: the rotatable 3D view and/or the floor plan; hover shows id,
    category and p of each book."""
    go, make_subplots = _plotly()
    layout = _as_layout(layout)
    _check_choice(view, VIEWS, "view")
    style = point_style(layout, color_by, max_categories)
    ia, ib, w = resolve_edges(layout, edges)
    hall = layout.hall
    z0, z1 = hall.z_range
    show3, showt = view in ("3d", "both"), view in ("top", "both")
    if view == "both":
        fig = make_subplots(rows=1, cols=2, specs=[[{"type": "scene"}, {"type": "xy"}]],
                            column_widths=[0.55, 0.45], horizontal_spacing=0.06,
                            subplot_titles=("3D view (drag to rotate)", "floor plan from above"))
        at3, att = dict(row=1, col=1), dict(row=1, col=2)
    elif view == "3d":
        fig = make_subplots(rows=1, cols=1, specs=[[{"type": "scene"}]])
        at3, att = dict(row=1, col=1), None
    else:
        fig = make_subplots(rows=1, cols=1, specs=[[{"type": "xy"}]])
        at3, att = None, dict(row=1, col=1)

    n = layout.n
    ids = np.array([str(i) for i in layout.items], dtype=object)
    cats = (np.array(["-" if c is None else str(c) for c in layout.categories], dtype=object)
            if layout.categories is not None else np.full(n, "-", dtype=object))
    p = np.nan_to_num(np.asarray(layout.p, dtype=float))
    custom = np.stack([ids, cats, np.array([f"{v:.4g}" for v in p], dtype=object)], axis=1)
    hover = "<b>%{customdata[0]}</b><br>category %{customdata[1]}<br>p = %{customdata[2]}" \
            "<extra></extra>"
    size3 = np.sqrt(style.sizes) * 1.2    # plotly sizes are diameters in px
    sizet = np.sqrt(style.sizes * 0.45) * 1.1

    if show3:
        # floor, walls as outlines, obstacles (solid), entrance. No see-through wall or
        # door faces: WebGL picking would take them for the nearest object and the books
        # behind them would never show their hover label.
        tri = _triangles(hall.footprint)
        fig.add_trace(go.Mesh3d(x=hall.footprint[:, 0], y=hall.footprint[:, 1],
                                z=np.full(len(hall.footprint), z0), i=tri[:, 0], j=tri[:, 1],
                                k=tri[:, 2], color="#dfe3ec", opacity=0.5, hoverinfo="skip",
                                showlegend=False, name="floor", flatshading=True), **at3)
        ring = _closed(hall.footprint)
        ox, oy, oz = [], [], []
        for zz in (z0, z1):
            ox += list(ring[:, 0]) + [None]
            oy += list(ring[:, 1]) + [None]
            oz += [zz] * len(ring) + [None]
        for xx, yy in hall.footprint:
            ox += [xx, xx, None]
            oy += [yy, yy, None]
            oz += [z0, z1, None]
        fig.add_trace(go.Scatter3d(x=ox, y=oy, z=oz, mode="lines", hoverinfo="skip",
                                   line=dict(color="#59617a", width=2), showlegend=False,
                                   name="walls"), **at3)
        for q, ob in enumerate(hall.obstacles):
            x, y, z, i, j, k = _mesh_prism(ob, z0, z1)
            fig.add_trace(go.Mesh3d(x=x, y=y, z=z, i=i, j=j, k=k, color=OBSTACLE_FACE,
                                    opacity=1.0, flatshading=True, name="obstacle",
                                    legendgroup="obstacles", showlegend=(q == 0),
                                    hoverinfo="name"), **at3)
        door = _door(layout)
        fig.add_trace(go.Scatter3d(x=door[[0, 1, 1, 0, 0], 0], y=door[[0, 1, 1, 0, 0], 1],
                                   z=[z0, z0, z1, z1, z0], mode="lines", hoverinfo="skip",
                                   line=dict(color=ENTRANCE_COLOR, width=6), showlegend=False,
                                   legendgroup="entrance"), **at3)
        e = hall.entrance
        fig.add_trace(go.Scatter3d(x=[e[0]], y=[e[1]], z=[e[2]], mode="markers+text",
                                   text=["Entrance"], textposition="top center",
                                   textfont=dict(color=ENTRANCE_COLOR, size=14),
                                   marker=dict(symbol="diamond", size=9, color=ENTRANCE_COLOR),
                                   name="entrance", legendgroup="entrance",
                                   hovertemplate="entrance<extra></extra>"), **at3)
    if showt:
        dens, (x0, x1, y0, y1) = popularity_grid(layout)
        ny, nx = dens.shape
        cx = np.linspace(x0, x1, nx + 1)
        cy = np.linspace(y0, y1, ny + 1)
        zz = dens.filled(np.nan)
        fig.add_trace(go.Heatmap(z=zz, x=(cx[:-1] + cx[1:]) / 2, y=(cy[:-1] + cy[1:]) / 2,
                                 colorscale=_heat_colorscale(), zmin=0, showscale=True,
                                 hoverinfo="skip", name="popularity",
                                 colorbar=dict(title=dict(text="popularity: share of "
                                                          "loans per m²", side="right"),
                                               len=0.75, thickness=14, x=1.0, y=0.55)),
                      **att)
        ring = _closed(hall.footprint)
        fig.add_trace(go.Scatter(x=ring[:, 0], y=ring[:, 1], mode="lines", hoverinfo="skip",
                                 line=dict(color="#303030", width=2), showlegend=False),
                      **att)
        for ob in hall.obstacles:
            r = _closed(ob)
            fig.add_trace(go.Scatter(x=r[:, 0], y=r[:, 1], mode="lines", fill="toself",
                                     fillcolor=OBSTACLE_FACE, hoverinfo="skip",
                                     line=dict(color=OBSTACLE_EDGE, width=1),
                                     showlegend=False, legendgroup="obstacles"), **att)
        door = _door(layout)
        fig.add_trace(go.Scatter(x=door[:, 0], y=door[:, 1], mode="lines",
                                 line=dict(color=ENTRANCE_COLOR, width=6), hoverinfo="skip",
                                 showlegend=not show3, name="entrance",
                                 legendgroup="entrance"), **att)

    if len(ia):
        ex, ey, ez = (np.full(3 * len(ia), np.nan) for _ in range(3))
        for d, arr in enumerate((ex, ey, ez)):
            arr[0::3] = layout.positions[ia, d]
            arr[1::3] = layout.positions[ib, d]
        label = f"{len(ia)} strongest pairs"
        if show3:
            fig.add_trace(go.Scatter3d(x=ex, y=ey, z=ez, mode="lines", name=label,
                                       legendgroup="edges", hoverinfo="skip",
                                       line=dict(color="rgba(26,26,26,0.55)", width=2)), **at3)
        if showt:
            fig.add_trace(go.Scattergl(x=ex, y=ey, mode="lines", name=label,
                                       legendgroup="edges", showlegend=not show3,
                                       hoverinfo="skip",
                                       line=dict(color="rgba(26,26,26,0.45)", width=1)), **att)

    # books: one trace per legend entry (click the legend to hide a category);
    # category blocks are also drawn to scale (cylinders, discs) under their markers
    blocks = layout.radius is not None and layout.n <= MAX_DRAWN_BLOCKS
    o = style.order
    if style.color_by == "category":
        groups = [(lab, col, o[style.labels[o] == key]) for lab, col, key in style.legend]
    else:
        groups = [("books", None, o)]
    for g, (lab, col, idx) in enumerate(groups):
        if style.color_by == "category":
            marker_c = col
            extra = {}
        else:
            logp = np.log10(np.where(p[idx] > 0, p[idx], style.norm.vmin))
            lo, hi = math.log10(style.norm.vmin), math.log10(style.norm.vmax)
            ticks = [t for t in range(math.floor(lo), math.ceil(hi) + 1) if lo <= t <= hi]
            marker_c = logp
            extra = dict(colorscale=POPULARITY_CMAP.capitalize(), cmin=lo, cmax=hi,
                         colorbar=dict(title=dict(text="popularity p(i)", side="right"),
                                       tickvals=ticks, ticktext=[f"{10.0 ** t:g}" for t in ticks],
                                       x=-0.02, xanchor="right", len=0.6, thickness=12))
        if blocks and len(idx):
            _plotly_blocks(fig, go, layout, idx, style, z0, z1, lab, g,
                           at3 if show3 else None, att if showt else None)
        if show3:
            fig.add_trace(go.Scatter3d(
                x=layout.positions[idx, 0], y=layout.positions[idx, 1],
                z=layout.positions[idx, 2], mode="markers", name=lab, legendgroup=f"g{g}",
                customdata=custom[idx], hovertemplate=hover,
                marker=dict(size=size3[idx], color=marker_c, opacity=style.alpha,
                            line=dict(width=0), **extra)), **at3)
        if showt:
            fig.add_trace(go.Scattergl(
                x=layout.positions[idx, 0], y=layout.positions[idx, 1], mode="markers",
                name=lab, legendgroup=f"g{g}", showlegend=not show3,
                customdata=custom[idx], hovertemplate=hover,
                marker=dict(size=sizet[idx], color=marker_c, opacity=style.alpha,
                            line=dict(width=0), **({} if show3 else extra))), **att)

    r = 3.3
    eye = dict(x=r * math.cos(math.radians(elev)) * math.cos(math.radians(azim)),
               y=r * math.cos(math.radians(elev)) * math.sin(math.radians(azim)),
               z=r * math.sin(math.radians(elev)))
    title = plan_title(layout).replace(r"\$", "$")
    fig.update_layout(
        title=dict(text=title, x=0.5), template="plotly_white",
        legend=dict(title=dict(text="category" if style.color_by == "category" else ""),
                    itemsizing="constant", orientation="h", x=0.5, xanchor="center",
                    y=-0.04, yanchor="top"),
        margin=dict(l=10, r=10, t=70, b=10), hoverlabel=dict(namelength=-1),
    )
    if show3:
        fig.update_scenes(aspectmode="data", camera=dict(eye=eye),
                          xaxis_title="x (m)", yaxis_title="y (m)", zaxis_title="z (m)")
    if showt:
        fig.update_xaxes(title_text="x (m)", **att)
        fig.update_yaxes(title_text="y (m)", scaleanchor="x", scaleratio=1, constrain="domain",
                         **att)
        fig.update_xaxes(constrain="domain", **att)
    return fig


def _heat_colorscale(steps: int = 9) -> list:
    """The heat map's colours for plotly: HEAT_CMAP, starting from the empty-floor colour."""
    from matplotlib import colormaps

    cmap = colormaps[HEAT_CMAP]
    scale = [[0.0, HEAT_UNDER], [0.01, HEAT_UNDER]]
    scale += [[float(t), _hex(cmap(t))] for t in np.linspace(0.011, 1.0, steps)]
    return scale


def render_html(layout, path, *, view: str = "both", color_by: str = "category", edges=None,
                elev: float = 28.0, azim: float = -62.0,
                max_categories: int = DEFAULT_MAX_CATEGORIES) -> None:
    """Write a self-contained interactive HTML page (plotly.js inlined, opens offline)."""
    _plotly()   # fail before any work when plotly is missing
    if output_format(path) != "html":
        raise RenderError(f"{os.fspath(path)}: interactive output must end with .html")
    fig = plotly_figure(layout, view=view, color_by=color_by, edges=edges, elev=elev,
                        azim=azim, max_categories=max_categories)
    html = fig.to_html(include_plotlyjs=True, full_html=True,
                       config={"displaylogo": False, "responsive": True},
                       default_width="100%", default_height="92vh")
    atomic_write(path, lambda fh: fh.write(html))
