"""The floor plan seen from above with matplotlib: one drawer for every top view.

* :func:`plot_top`: the plan of ``shelfplan render``, books coloured by
  category or popularity over a popularity heat map of the floor (share of
  loans per square metre, smoothed); category blocks as discs to scale.
* :func:`floor_plan`: the same hall with books coloured by any value per book
  (the report's plans, coloured by p(i) of the loans judged).

Both are built from :func:`draw_hall`, :func:`draw_entrance` and
:func:`frame`, so walls, obstacles and the entrance look the same everywhere.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Polygon as PolygonPatch

from shelfplan.layout import Layout
from shelfplan.present import geometry as geo
from shelfplan.present.edges import edge_widths, resolve_edges
from shelfplan.present.style import (BLOCK_LABELS, DEFAULT_MAX_CATEGORIES, EDGE_COLOR,
                                     ENTRANCE_COLOR, HEAT_CMAP, HEAT_UNDER, OBSTACLE_EDGE,
                                     OBSTACLE_FACE, RASTERIZE_ABOVE, PointStyle, escape,
                                     legend_handles, opaque, point_style, rasterize, short)


# --------------------------------------------------------------------------
# the pieces: hall, entrance, frame
# --------------------------------------------------------------------------
def draw_hall(ax, hall) -> tuple:
    """The walls (outline) and the obstacles (solid); returns ``(walls, [obstacles])``."""
    walls = ax.add_patch(PolygonPatch(hall.footprint, closed=True, fill=False,
                                      edgecolor="#303030", linewidth=1.6, zorder=3))
    obstacles = [ax.add_patch(PolygonPatch(ob, closed=True, facecolor=OBSTACLE_FACE,
                                           edgecolor=OBSTACLE_EDGE, linewidth=0.8, zorder=3))
                 for ob in hall.obstacles]
    return walls, obstacles


def draw_entrance(ax, layout: Layout) -> list:
    """A red door in the wall, a star at the entrance and the word "Entrance" inside."""
    hall = layout.hall
    door = geo.door(layout)
    e = hall.entrance
    _, inward = hall.entrance_wall()
    return [
        ax.plot(door[:, 0], door[:, 1], color=ENTRANCE_COLOR, linewidth=5,
                solid_capstyle="butt", zorder=6)[0],
        ax.scatter([e[0]], [e[1]], s=180, marker="*", c=ENTRANCE_COLOR, edgecolors="white",
                   linewidths=0.8, zorder=7),
        ax.annotate("Entrance", xy=(e[0], e[1]), xytext=(-inward * 14),
                    textcoords="offset points", color=ENTRANCE_COLOR, fontsize=10,
                    fontweight="bold", ha="center", va="center", zorder=7,
                    annotation_clip=False),
    ]


def frame(ax, hall) -> None:
    """The hall's box plus 6 % of its larger side (room for the entrance's label),
    equal aspect, metres, a light grid."""
    (x0, y0), (x1, y1) = hall.footprint.min(axis=0), hall.footprint.max(axis=0)
    pad = 0.06 * geo.hall_span(hall)
    ax.set_xlim(x0 - pad, x1 + pad)
    ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_aspect("equal")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.grid(True, color="#e4e4e4", linewidth=0.5, zorder=-1)
    ax.set_axisbelow(True)


# --------------------------------------------------------------------------
# the popularity heat map
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


def _draw_heatmap(ax, layout: Layout, colorbar: bool) -> tuple:
    """The heat map under everything and its colour bar (or None)."""
    from matplotlib import colormaps

    dens, extent = popularity_grid(layout)
    top = float(dens.max()) if dens.count() and dens.max() > 0 else 1.0
    cmap = colormaps[HEAT_CMAP].with_extremes(under=HEAT_UNDER)
    im = ax.imshow(dens, origin="lower", extent=extent, cmap=cmap, interpolation="bilinear",
                   zorder=0, vmin=top * 0.01, vmax=top)
    bar = None
    if colorbar:
        cax = ax.inset_axes([1.02, 0.05, 0.025, 0.9])   # follows the equal-aspect box
        bar = ax.get_figure().colorbar(im, cax=cax, label="popularity: share of loans per m²")
    return im, bar


# --------------------------------------------------------------------------
# books and pairs
# --------------------------------------------------------------------------
def _draw_edges(ax, layout: Layout, ia, ib, w, raster: bool):
    segs = np.stack([layout.positions[ia, :2], layout.positions[ib, :2]], axis=1)
    lc = LineCollection(segs, colors=[EDGE_COLOR], linewidths=edge_widths(w) * 0.8,
                        alpha=0.55, zorder=5.5)
    lc.set_rasterized(raster and len(ia) > RASTERIZE_ABOVE)
    return ax.add_collection(lc)


def _draw_blocks(ax, layout: Layout, style: PointStyle, raster: bool) -> tuple:
    """Category blocks as discs to scale, the largest named: ``(discs, [labels])``."""
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Circle

    o = style.order
    discs = PatchCollection([Circle(layout.positions[k, :2], layout.radius[k]) for k in o],
                            facecolors=opaque(style.colors[o], 0.8), edgecolors="#303030",
                            linewidths=0.5, zorder=5)
    discs.set_rasterized(raster)
    discs = ax.add_collection(discs)
    named = np.argsort(-layout.radius, kind="stable")[:BLOCK_LABELS]
    labels = [ax.annotate(escape(short(layout.items[k])), xy=layout.positions[k, :2],
                          fontsize=6, ha="center", va="center", zorder=5.6, color="#101010")
              for k in named if layout.radius[k] >= 0.25]
    return discs, labels


def _draw_points(ax, layout: Layout, style: PointStyle, raster: bool):
    o = style.order
    pos = layout.positions[o]
    pts = ax.scatter(pos[:, 0], pos[:, 1], s=style.sizes[o] * 0.45, c=style.colors[o],
                     edgecolors="none", zorder=5)
    pts.set_rasterized(raster)
    return pts


def scatter_values(ax, xy: np.ndarray, values: np.ndarray | None, *, norm=None,
                   cmap: str = "viridis"):
    """Books at ``xy`` coloured by ``values`` (NaN or <= 0 grey, the largest on top);
    all blue without values. Returns the coloured books' scatter artist."""
    if values is None:
        return ax.scatter(xy[:, 0], xy[:, 1], s=8, c="tab:blue", lw=0)
    v = np.asarray(values, dtype=float)
    on = np.isfinite(v) & (v > 0)
    ax.scatter(xy[~on, 0], xy[~on, 1], s=5, c="0.8", lw=0)
    order = np.nonzero(on)[0][np.argsort(v[on])]
    return ax.scatter(xy[order, 0], xy[order, 1], s=10, c=v[order], cmap=cmap, norm=norm, lw=0)


# --------------------------------------------------------------------------
# the two top views
# --------------------------------------------------------------------------
def plot_top(layout: Layout, ax=None, *, color_by: str = "category", heatmap: bool = True,
             points: bool = True, edges=None, max_categories: int = DEFAULT_MAX_CATEGORIES,
             legend: bool = False, colorbar: bool = True, title: bool | str = True,
             rasterized: bool | None = None, style: PointStyle | None = None) -> dict:
    """Draw the floor plan seen from above on ``ax`` (a new figure's axes if None).

    Returns the artists: ``heatmap`` (or None), ``walls``, ``obstacles`` (list),
    ``entrance`` (list), ``edges`` (or None), ``points`` (or None), ``legend``
    (or None) and ``colorbar`` (the heat map's, or None). Books as points: a
    shelving plan's stacks are drawn by :func:`shelfplan.present.render.plot_top`.
    """
    style = style or point_style(layout, color_by, max_categories)
    ia, ib, w = resolve_edges(layout, edges)
    if ax is None:
        ax = Figure(figsize=(10, 7.5), layout="constrained").add_subplot()
    raster = rasterize(layout, rasterized)
    art = {"heatmap": None, "colorbar": None, "edges": None, "points": None, "legend": None}
    if heatmap:
        art["heatmap"], art["colorbar"] = _draw_heatmap(ax, layout, colorbar)
    art["walls"], art["obstacles"] = draw_hall(ax, layout.hall)
    if len(ia):
        art["edges"] = _draw_edges(ax, layout, ia, ib, w, raster)
    if points and layout.radius is not None:
        art["points"], art["labels"] = _draw_blocks(ax, layout, style, raster)
    elif points:
        art["points"] = _draw_points(ax, layout, style, raster)
    art["entrance"] = draw_entrance(ax, layout)
    frame(ax, layout.hall)
    if legend and style.legend:
        art["legend"] = ax.legend(handles=legend_handles(style), title="category",
                                  loc="upper right", fontsize=8, title_fontsize=9)
    if title:
        ax.set_title("floor plan from above" if title is True else escape(title), fontsize=11)
    return art


def floor_plan(layout: Layout, ax=None, *, values: np.ndarray | None = None, norm=None,
               title: str | None = None, cmap: str = "viridis"):
    """Top view of a layout: walls, obstacles, entrance, books (coloured by ``values``).

    ``values`` (one per book; NaN or <= 0 drawn grey) are usually p(i).
    Returns the books' scatter artist.
    """
    if ax is None:
        ax = Figure(figsize=(6, 5)).add_subplot()
    draw_hall(ax, layout.hall)
    art = scatter_values(ax, np.asarray(layout.positions, dtype=float), values, norm=norm,
                         cmap=cmap)
    draw_entrance(ax, layout)
    frame(ax, layout.hall)
    if title:
        ax.set_title(title, fontsize=10)
    return art
