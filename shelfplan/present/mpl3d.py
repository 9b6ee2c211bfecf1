"""The 3D view with matplotlib: hall, obstacles, entrance, books and pairs.

:func:`plot_3d` draws the footprint extruded over ``z_range`` as light walls,
obstacles as solid prisms, the entrance (a red door and marker), books as
points coloured by category or by popularity and sized by ``p`` (category
blocks as cylinders), and optionally the strongest co-borrowed pairs as lines.
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from shelfplan.layout import Layout
from shelfplan.present import geometry as geo
from shelfplan.present.edges import edge_widths, resolve_edges
from shelfplan.present.style import (DEFAULT_MAX_CATEGORIES, EDGE_COLOR, ENTRANCE_COLOR,
                                     FLOOR_FACE, MAX_DRAWN_BLOCKS, OBSTACLE_EDGE, OBSTACLE_FACE,
                                     WALL_EDGE, WALL_FACE, PointStyle, escape, legend_handles,
                                     opaque, plan_title, point_style, rasterize)


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
    the axes' rectangle; the hall's artists are not clipped to it. Books as points:
    a shelving plan's bookcases are drawn by :func:`shelfplan.present.render.plot_3d`.
    """
    style = style or point_style(layout, color_by, max_categories)
    ia, ib, w = resolve_edges(layout, edges)
    if ax is None:
        fig = Figure(figsize=(10, 7.5), layout="constrained")
        ax = fig.add_subplot(projection="3d", computed_zorder=False)
    art = _draw_hall(ax, layout)
    art["edges"] = _draw_edges(ax, layout, ia, ib, w)
    art["points"] = _draw_books(ax, layout, style)
    if rasterize(layout, rasterized) and not ax.computed_zorder:
        # 3D collections cannot be rasterised one by one: rasterise everything drawn
        # up to the books (hall, edges, books) and keep the entrance and text vector
        ax.set_rasterization_zorder(4.5)
    art["entrance"] = _draw_entrance(ax, layout)
    with_bar = bool(colorbar) and style.norm is not None
    _frame(ax, layout, elev, azim, side=0.1 if with_bar else 0.0)
    for a in [art["floor"], art["walls"], art["edges"], art["points"], *art["obstacles"],
              *art["entrance"]]:
        if a is not None:
            a.set_clip_on(False)
    art["legend"] = art["colorbar"] = None
    if legend and style.legend:
        art["legend"] = ax.legend(handles=legend_handles(style), title="category",
                                  loc="upper left", fontsize=8, title_fontsize=9,
                                  frameon=True, framealpha=0.85, bbox_to_anchor=(0.0, 1.0))
    if with_bar:
        art["colorbar"] = _popularity_colorbar(ax.get_figure(), ax, style)
    if title:
        ax.set_title(plan_title(layout) if title is True else escape(title), fontsize=11)
    return art


def _draw_hall(ax, layout: Layout, z_range=None) -> dict:
    """Floor, walls (light) and obstacles (solid), from z0 to z1 (default the hall's)."""
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    hall = layout.hall
    z0, z1 = hall.z_range if z_range is None else z_range
    # the box is set by _frame once everything is drawn: no autoscaling on the way (it
    # is wasted work, and matplotlib's 3D autoscale can overflow on its margins)
    ax.set_autoscale_on(False)
    return {
        "floor": ax.add_collection3d(Poly3DCollection(
            [[(x, y, z0) for x, y in hall.footprint]], facecolors=[FLOOR_FACE],
            edgecolors=[WALL_EDGE], linewidths=0.8, zorder=0)),
        "walls": ax.add_collection3d(Poly3DCollection(
            geo.prism_faces(hall.footprint, z0, z1, caps=False), facecolors=[WALL_FACE],
            edgecolors=[WALL_EDGE], linewidths=0.8, zorder=1)),
        "obstacles": [ax.add_collection3d(Poly3DCollection(
            geo.prism_faces(ob, z0, z1), facecolors=OBSTACLE_FACE, edgecolors=OBSTACLE_EDGE,
            linewidths=0.6, zorder=2)) for ob in hall.obstacles],
    }


def _draw_edges(ax, layout: Layout, ia, ib, w):
    """Co-borrowed pairs as lines over the books (pairs stay visible), or None."""
    from mpl_toolkits.mplot3d.art3d import Line3DCollection

    if not len(ia):
        return None
    segs = np.stack([layout.positions[ia], layout.positions[ib]], axis=1)
    return ax.add_collection3d(Line3DCollection(segs, colors=[EDGE_COLOR],
                                                linewidths=edge_widths(w), alpha=0.6,
                                                zorder=4.2))


def _draw_books(ax, layout: Layout, style: PointStyle):
    """Books as points; category blocks as cylinders from the bottom to the top shelf."""
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    z0, z1 = layout.hall.z_range
    o = style.order
    if layout.radius is not None and layout.n <= MAX_DRAWN_BLOCKS:
        faces = [f for k in o for f in geo.prism_faces(
            geo.circle(layout.positions[k], layout.radius[k]), z0, z1, caps=True)]
        colors = np.repeat(opaque(style.colors[o], 0.55), geo.CIRCLE_SIDES + 2, axis=0)
        return ax.add_collection3d(Poly3DCollection(faces, facecolors=colors,
                                                    edgecolors="none", zorder=4))
    pos = layout.positions[o]
    return ax.scatter(pos[:, 0], pos[:, 1], pos[:, 2], s=style.sizes[o], c=style.colors[o],
                      edgecolors="none", depthshade=False, zorder=4)


def _draw_entrance(ax, layout: Layout, z: tuple | None = None) -> list:
    """A red door in the wall (from ``z``, default the hall's z_range), a star at the
    entrance point and its label."""
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    hall = layout.hall
    z0, z1 = hall.z_range if z is None else z
    door = geo.door(layout)
    e = hall.entrance
    door_face = Poly3DCollection(
        [[(door[0, 0], door[0, 1], z0), (door[1, 0], door[1, 1], z0),
          (door[1, 0], door[1, 1], z1), (door[0, 0], door[0, 1], z1)]],
        facecolors=[to_rgba(ENTRANCE_COLOR, 0.30)], edgecolors=[ENTRANCE_COLOR],
        linewidths=1.5, zorder=1.5)
    _, inward = hall.entrance_wall()
    label_at = e[:2] - inward * 0.03 * geo.hall_span(hall)
    return [
        ax.add_collection3d(door_face),
        ax.scatter([e[0]], [e[1]], [e[2]], s=160, marker="*", c=ENTRANCE_COLOR,
                   edgecolors="white", linewidths=0.8, depthshade=False, zorder=6),
        ax.text(label_at[0], label_at[1], z0, "Entrance", color=ENTRANCE_COLOR,
                fontsize=10, fontweight="bold", ha="center", va="top", zorder=7),
    ]


def _frame(ax, layout: Layout, elev: float, azim: float, side: float) -> None:
    """Axes in metres with equal aspect, the camera, no grid or panes."""
    hall = layout.hall
    zlo, zhi = geo.z_limits(layout)
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
    _fill_axes(ax, (x0, x1), (y0, y1), (zlo, zhi), side=side)
    ax.grid(False)
    ax.xaxis.pane.set_alpha(0.0)
    ax.yaxis.pane.set_alpha(0.0)
    ax.zaxis.pane.set_alpha(0.0)


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

