"""The empty floor plan of a stacked hall (``shelfplan hall check -o plan.png``).

matplotlib's object API (no pyplot): :func:`plot_plan` draws on an axes (or a new
figure's) and returns its artists; :func:`write_plan` saves PNG, SVG or PDF
(by extension) through :func:`shelfplan.layout.atomic_write`.
"""

from __future__ import annotations

import os

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Polygon as PolygonPatch

from shelfplan.errors import ShelfplanError
from shelfplan.layout import atomic_write, check_output_path

__all__ = ["plot_plan", "write_plan", "plan_building", "PLAN_FORMATS"]

PLAN_FORMATS = ("png", "svg", "pdf")
FACE_COLOURS = ("tab:blue", "tab:orange")     # left face, right face


def plot_plan(hall, ax=None, legend: bool = True) -> list:
    """Footprint, obstacles, ranges (rectangles with their id, faces as coloured edges),
    pick points and the entrance (unless NaN: a floor of a building without it), seen
    from above."""
    if ax is None:
        ax = Figure(figsize=(8, 6)).add_subplot()
    artists = [ax.add_patch(PolygonPatch(hall.footprint, closed=True, fill=False, lw=1.5,
                                         ec="black"))]
    for ob in hall.obstacles:
        artists.append(ax.add_patch(PolygonPatch(ob, closed=True, fc="0.75", ec="0.4")))
    s = hall.stacks
    if s is not None:
        for r in s.ranges:
            rect = r.footprint()
            artists.append(ax.add_patch(PolygonPatch(rect, closed=True, fc="burlywood",
                                                     ec="saddlebrown", lw=0.8)))
            for face in r.face_names:          # the face's outer edge of the rectangle
                edge = rect[[3, 2]] if face == "left" else rect[[0, 1]]
                artists += ax.plot(edge[:, 0], edge[:, 1], lw=2.5,
                                   color=FACE_COLOURS[face == "right"], solid_capstyle="butt")
            c = rect.mean(axis=0)
            angle = np.degrees(np.arctan2(r.u[1], r.u[0]))
            angle = angle - 180 if angle > 90 else angle + 180 if angle <= -90 else angle
            artists.append(ax.text(c[0], c[1], r.id, ha="center", va="center", fontsize=7,
                                   rotation=angle, rotation_mode="anchor"))
        artists.append(ax.scatter(s.pick[:, 0], s.pick[:, 1], s=4, c="0.3", zorder=3,
                                  label="pick points"))
    e = hall.entrance
    if np.isfinite(e).all():
        artists.append(ax.scatter([e[0]], [e[1]], marker="*", s=160, c="red", zorder=4,
                                  label="entrance"))
    ax.plot([], [], color=FACE_COLOURS[0], lw=2.5, label="left face")
    ax.plot([], [], color=FACE_COLOURS[1], lw=2.5, label="right face")
    if legend:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    ax.set_aspect("equal")
    ax.autoscale_view()
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.set_title(hall.name)
    return artists


def write_plan(hall, path) -> None:
    """Draw the plan and save it atomically; the format follows the extension."""
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    if ext not in PLAN_FORMATS:
        raise ShelfplanError(f"{path}: a plan must be .png, .svg or .pdf, got "
                             f"{'.' + ext if ext else 'no extension'}; rename the output")
    check_output_path(path)
    if getattr(hall, "building", None) is not None:     # one panel per floor
        fig = plan_building(hall)
    else:
        minx, miny, maxx, maxy = hall.floor.bounds
        w = 9.0
        fig = Figure(figsize=(w, max(3.0, w * (maxy - miny) / max(maxx - minx, 1e-9))))
        plot_plan(hall, fig.add_subplot())
        fig.tight_layout()
    atomic_write(path, lambda fh: fig.savefig(fh, format=ext, dpi=150), mode="wb")


def plan_building(hall) -> Figure:
    """The empty floor plans of a building (``hall check -o``), one panel per floor."""
    from shelfplan.present.building_draw import (_floor_title, draw_connectors, floor_hall,
                                                 panel_grid)

    floors = hall.building.floors
    fig, axes = panel_grid(len(floors), hall, width=6.5)
    for ax, f in zip(axes, floors):
        plot_plan(floor_hall(hall, f), ax, legend=ax is axes[-1])
        draw_connectors(ax, hall, f)
        ax.set_title(_floor_title(f))
    fig.suptitle(hall.name.replace("$", r"\$"), fontsize=12)
    return fig
