"""A shelving plan drawn with matplotlib: the floor plan of its ranges and the 3D bookcases.

:func:`plot_top_shelved` (what :func:`shelfplan.present.render.plot_top` draws for
a plan with ``layout.shelved``): the free floor (the aisles), obstacles, every
range as its footprint rectangle with its id (when it fits), every location as
a strip along its face coloured by :mod:`~shelfplan.present.stacks_style`
(dominant category or loans; empty locations light grey) and the entrance.

:func:`plot_3d_shelved` (what :func:`shelfplan.present.render.plot_3d` draws):
bookcases as light boxes ``BOOKCASE_HEIGHT`` high, shelf boards and bay
uprights as thin lines, books as small markers at their slots, coloured like the
floor plan (by their category, or by their location's loans).
"""

from __future__ import annotations

import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.patches import Polygon as PolygonPatch

from shelfplan.layout import Layout
from shelfplan.present import geometry as geo
from shelfplan.present.edges import resolve_edges
from shelfplan.present.floor import _draw_edges as _draw_edges_2d
from shelfplan.present.floor import draw_entrance, draw_hall, frame
from shelfplan.present.mpl3d import _draw_edges, _draw_entrance, _draw_hall, _frame
from shelfplan.present.style import (HEAT_UNDER, RASTERIZE_ABOVE, PointStyle, escape,
                                     legend_handles, plan_title, rasterize)
from shelfplan.present.stacks_style import (RANGE_EDGE, RANGE_FACE, LocationStyle, key_handles,
                                            location_style)

MAX_RANGE_LABELS = 400   # range ids drawn at most (the largest font first)
MIN_LABEL_PT = 3.5       # a range id smaller than this does not fit


def _strip_raster(stacks, rasterized) -> bool:
    return stacks.n_locations > RASTERIZE_ABOVE if rasterized is None else bool(rasterized)


# --------------------------------------------------------------------------
# floor plan
# --------------------------------------------------------------------------
def _points_per_metre(ax) -> float:
    ax.apply_aspect()
    box = ax.get_window_extent()
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    scale = min(box.width / max(x1 - x0, 1e-9), box.height / max(y1 - y0, 1e-9))
    return float(scale * 72.0 / ax.get_figure().dpi)


def _range_labels(ax, stacks) -> list:
    """Each range's id along its spine, as large as fits (at most 7 pt), else none."""
    import matplotlib.patheffects as pe

    ppm = _points_per_metre(ax)
    found = []
    for r in stacks.ranges:
        across = r.depth * (2 if r.faces == "both" else 1) * ppm
        size = min(7.0, 0.85 * r.length * ppm / (0.62 * max(len(r.id), 1)), 1.3 * across)
        if size >= MIN_LABEL_PT:
            found.append((size, r))
    found.sort(key=lambda t: -t[0])
    out = []
    for size, r in found[:MAX_RANGE_LABELS]:
        c = r.footprint().mean(axis=0)
        angle = np.degrees(np.arctan2(r.u[1], r.u[0]))
        angle = angle - 180 if angle > 90 else angle + 180 if angle <= -90 else angle
        out.append(ax.text(c[0], c[1], escape(r.id), ha="center", va="center", fontsize=size,
                           rotation=angle, rotation_mode="anchor", color="#202020",
                           zorder=5.2, clip_on=True,
                           path_effects=[pe.withStroke(linewidth=1.5, foreground="white")]))
    return out


def _location_colorbar(fig, ax, loc: LocationStyle, inset: bool):
    from matplotlib.cm import ScalarMappable

    sm = ScalarMappable(norm=loc.norm, cmap=loc.cmap)
    if inset:
        cax = ax.inset_axes([1.02, 0.05, 0.025, 0.9])
    else:
        pos = ax.get_position(original=True)
        cax = fig.add_axes((pos.x0 + 0.91 * pos.width, pos.y0 + 0.2 * pos.height,
                            0.015 * pos.width, 0.6 * pos.height))
    return fig.colorbar(sm, cax=cax, label="loans per location: sum of p(i)")


def draw_stacks(ax, layout: Layout, loc: LocationStyle, raster: bool) -> dict:
    """Ranges (one rectangle per range), strips of the locations with books and of
    the empty ones; returns ``{"ranges", "strips", "empty"}`` (PolyCollections or None)."""
    stacks = layout.hall.stacks
    many = len(stacks.ranges) > 150
    ranges = ax.add_collection(PolyCollection(
        geo.range_rects(stacks), facecolors=RANGE_FACE, edgecolors=RANGE_EDGE,
        linewidths=0.35 if many else 0.7, zorder=3.5))
    quads = geo.face_strips(stacks)
    on = loc.occupied
    strips = ax.add_collection(PolyCollection(quads[on], facecolors=loc.colors[on],
                                              edgecolors="none", zorder=4))
    empty = None
    if (~on).any():
        empty = ax.add_collection(PolyCollection(quads[~on], facecolors=loc.colors[~on],
                                                 edgecolors="none", zorder=4))
    for a in (strips, empty):
        if a is not None:
            a.set_rasterized(raster)
    return {"ranges": ranges, "strips": strips, "empty": empty}


def plot_top_shelved(layout: Layout, ax=None, *, style: PointStyle, edges=None,
                     legend: bool = False, colorbar: bool = True, title: bool | str = True,
                     rasterized: bool | None = None,
                     locations: LocationStyle | None = None) -> dict:
    """The floor plan of a shelving plan on ``ax``; returns the artists: ``floor``,
    ``walls``, ``obstacles``, ``ranges``, ``strips``, ``empty``, ``labels``,
    ``entrance``, ``edges``, ``legend``, ``colorbar`` and ``locations`` (the
    :class:`LocationStyle`, or ``locations`` when given: one floor of a building is
    coloured as the whole); ``heatmap`` and ``points`` are None; no ``entrance`` when
    the hall's entrance is NaN (a floor of a building without it)."""
    if ax is None:
        ax = Figure(figsize=(10, 7.5), layout="constrained").add_subplot()
    hall = layout.hall
    loc = location_style(layout, style) if locations is None else locations
    art = {"heatmap": None, "points": None, "edges": None, "legend": None, "colorbar": None,
           "locations": loc}
    art["floor"] = ax.add_patch(PolygonPatch(hall.footprint, closed=True, facecolor=HEAT_UNDER,
                                             edgecolor="none", zorder=0.5))
    art["walls"], art["obstacles"] = draw_hall(ax, hall)
    art.update(draw_stacks(ax, layout, loc, _strip_raster(hall.stacks, rasterized)))
    ia, ib, w = resolve_edges(layout, edges)
    if len(ia):
        art["edges"] = _draw_edges_2d(ax, layout, ia, ib, w, rasterize(layout, rasterized))
    art["entrance"] = draw_entrance(ax, layout) if np.isfinite(hall.entrance).all() else []
    frame(ax, hall)
    art["labels"] = _range_labels(ax, hall.stacks)
    if colorbar and loc.norm is not None:
        art["colorbar"] = _location_colorbar(ax.get_figure(), ax, loc, inset=True)
    handles = legend_handles(style) + key_handles(loc)
    if legend and handles:
        art["legend"] = ax.legend(handles=handles, title="locations", loc="upper right",
                                  fontsize=8, title_fontsize=9)
    if title:
        ax.set_title("floor plan from above" if title is True else escape(title), fontsize=11)
    return art


# --------------------------------------------------------------------------
# 3D view
# --------------------------------------------------------------------------
def _hall_3d(ax, layout: Layout, z0: float, z1: float) -> dict:
    from mpl_toolkits.mplot3d.art3d import Line3DCollection, Poly3DCollection

    hall = layout.hall
    stacks = hall.stacks
    rects = geo.range_rects(stacks)
    boxes = [f for rect in rects for f in geo.prism_faces(rect, z0, z1, caps=True)]
    return {
        **_draw_hall(ax, layout, (z0, z1)),
        "bookcases": ax.add_collection3d(Poly3DCollection(
            boxes, facecolors=[to_rgba(RANGE_FACE, 0.25)],
            edgecolors=[to_rgba(RANGE_EDGE, 0.45)], linewidths=0.4, zorder=2.5)),
        "shelves": ax.add_collection3d(Line3DCollection(
            geo.bookcase_lines(stacks, z1), colors=[to_rgba(RANGE_EDGE, 0.35)],
            linewidths=0.3, zorder=3)),
    }


def book_colors(layout: Layout, style: PointStyle, loc: LocationStyle) -> np.ndarray:
    """(n, 4): a book's category colour, or (popularity) its location's colour."""
    if loc.color_by == "category":
        out = np.array(style.colors, dtype=float).reshape(-1, 4)
        out[:, 3] = 1.0
        return out
    return loc.colors[np.asarray(layout.shelf["loc"], dtype=np.int64)]


def book_size(n: int) -> float:
    """Marker area (pt^2) of a book in the 3D view: small, smaller for many books."""
    return float(np.clip(25.0 * np.sqrt(300.0 / max(n, 1)), 1.5, 14.0))


def plot_3d_shelved(layout: Layout, ax=None, *, style: PointStyle, edges=None,
                    elev: float = 28.0, azim: float = -62.0, legend: bool = True,
                    colorbar: bool = True, title: bool | str = True,
                    rasterized: bool | None = None) -> dict:
    """Bookcases and books on their shelves in 3D; returns the artists: ``floor``,
    ``walls``, ``obstacles``, ``bookcases``, ``shelves``, ``points``, ``edges``,
    ``entrance``, ``legend``, ``colorbar`` and ``locations``."""
    if ax is None:
        fig = Figure(figsize=(10, 7.5), layout="constrained")
        ax = fig.add_subplot(projection="3d", computed_zorder=False)
    z0, z1 = geo.shelved_z()
    loc = location_style(layout, style)
    art = _hall_3d(ax, layout, z0, z1)
    ia, ib, w = resolve_edges(layout, edges)
    art["edges"] = _draw_edges(ax, layout, ia, ib, w)
    pos = layout.positions
    order = style.order
    art["points"] = ax.scatter(pos[order, 0], pos[order, 1], pos[order, 2],
                               s=book_size(layout.n), c=book_colors(layout, style, loc)[order],
                               marker="s", edgecolors="none", depthshade=False, zorder=4)
    if rasterize(layout, rasterized) and not ax.computed_zorder:
        ax.set_rasterization_zorder(4.5)     # as plot_3d: everything up to the books
    art["entrance"] = _draw_entrance(ax, layout, z=(z0, z1))
    with_bar = bool(colorbar) and loc.norm is not None
    _frame(ax, layout, elev, azim, side=0.1 if with_bar else 0.0)
    for a in [art["floor"], art["walls"], art["bookcases"], art["shelves"], art["edges"],
              art["points"], *art["obstacles"], *art["entrance"]]:
        if a is not None:
            a.set_clip_on(False)
    art["legend"] = art["colorbar"] = None
    art["locations"] = loc
    handles = legend_handles(style) + key_handles(loc)
    if legend and handles:
        art["legend"] = ax.legend(handles=handles, title="category", loc="upper left",
                                  fontsize=8, title_fontsize=9, frameon=True, framealpha=0.85,
                                  bbox_to_anchor=(0.0, 1.0))
    if with_bar:
        art["colorbar"] = _location_colorbar(ax.get_figure(), ax, loc, inset=False)
    if title:
        ax.set_title(plan_title(layout) if title is True else escape(title), fontsize=11)
    return art
