"""Buildings drawn floor by floor (MODEL.md 8.9): one panel per floor, connectors marked.

A building's layout is cut into one layout per floor (:func:`floor_layouts`): the
books on that floor, its locations numbered from 0, the floor as a one-floor hall.
Each is drawn by the one-floor code (:func:`~shelfplan.present.stacks_draw.
plot_top_shelved`, :func:`~shelfplan.present.hall_plan.plot_plan`) in its own panel,
coloured as the whole building (one legend, one popularity scale), and the stairs
and lifts are drawn on every floor they serve with the floors they lead to.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from matplotlib.figure import Figure

from shelfplan.layout import Layout
from shelfplan.present.stacks_style import LocationStyle, location_style
from shelfplan.present.style import PointStyle, escape

__all__ = ["floor_hall", "floor_layouts", "draw_connectors", "building_figure",
           "panel_grid", "building_html"]

CONNECTOR_MARKERS = {"stairs": ("s", "#5a3e99"), "lift": ("^", "#1f7a4d")}


def floor_hall(hall, floor):
    """The floor as a one-floor Hall; the entrance only on the entrance floor (else NaN)."""
    from shelfplan.model.hall import Hall

    b = hall.building
    e = b.entrance_xy if floor.index == b.entrance_floor else np.full(2, np.nan)
    return Hall(footprint=floor.footprint, obstacles=list(floor.obstacles),
                entrance=np.array([e[0], e[1], 0.0]), name=floor.label, stacks=floor.stacks,
                given=frozenset())


def floor_layouts(layout: Layout, style: PointStyle | None = None):
    """[(floor, layout of that floor, its style, its location style)] in floor order."""
    hall = layout.hall
    st = hall.stacks
    loc = np.asarray(layout.shelf["loc"], dtype=np.int64)
    full = location_style(layout, style) if style is not None else None
    out = []
    for f in hall.building.floors:
        mask = st.loc_floor[loc] == f.index
        m = f.stacks.n_locations
        shelf = {k: (v[mask] if isinstance(v, np.ndarray) else v)
                 for k, v in layout.shelf.items()}
        shelf["loc"] = loc[mask] - f.offset
        sub = Layout(hall=floor_hall(hall, f), items=layout.items[mask],
                     positions=np.asarray(layout.positions)[mask],
                     p=np.asarray(layout.p)[mask],
                     categories=None if layout.categories is None else
                     np.asarray(layout.categories, dtype=object)[mask],
                     objective=layout.objective, lower_bound=layout.lower_bound,
                     shelf=shelf)
        sub_style = sub_loc = None
        if style is not None:
            p = np.nan_to_num(np.asarray(sub.p, dtype=float))
            sub_style = replace(style, colors=style.colors[mask], sizes=style.sizes[mask],
                                order=np.argsort(p, kind="stable"), labels=style.labels[mask])
            sl = slice(f.offset, f.offset + m)
            sub_loc = LocationStyle(full.count[sl], full.loans[sl], full.key[sl],
                                    full.dominant[sl], full.colors[sl], full.color_by,
                                    norm=full.norm)
        out.append((f, sub, sub_style, sub_loc))
    return out


def draw_connectors(ax, hall, floor) -> list:
    """Each stair and lift on this floor: a marker and its id with the floors it serves."""
    b = hall.building
    out = []
    for c in b.connectors:
        if floor.id not in c.at:
            continue
        x, y = c.at[floor.id]
        marker, colour = CONNECTOR_MARKERS[c.kind]
        out.append(ax.scatter([x], [y], marker=marker, s=90, c=colour, edgecolors="white",
                              linewidths=0.8, zorder=8))
        others = [fid for fid in c.at if fid != floor.id]
        out.append(ax.annotate(f"{escape(c.id)}: to {', '.join(others)}",
                               xy=(x, y), xytext=(6, 6), textcoords="offset points",
                               fontsize=7, color=colour, zorder=8,
                               annotation_clip=False))
    return out


def panel_grid(n: int, hall, width: float = 7.0):
    """A figure with ``n`` floor panels (at most 2 a row) and its axes, sized by the
    floors' proportions."""
    spans = [np.ptp(f.footprint, axis=0) for f in hall.building.floors]
    ratio = float(np.clip(max(s[1] / max(s[0], 1e-9) for s in spans), 0.4, 1.6))
    cols = min(n, 2)
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(width * cols, width * ratio * rows + 1.2), layout="constrained")
    axes = [fig.add_subplot(rows, cols, k + 1) for k in range(n)]
    return fig, axes


def _floor_title(f) -> str:
    label = f"floor {f.id}" + (f" - {f.name}" if f.name and f.name != f.id else "")
    return escape(label)


def building_figure(layout: Layout, style: PointStyle, handles: list, legend_kw: dict,
                    title: str, rasterized=None) -> Figure:
    """The floor plans of a building's shelving plan, one panel per floor."""
    from shelfplan.present.stacks_draw import plot_top_shelved

    views = floor_layouts(layout, style)
    fig, axes = panel_grid(len(views), layout.hall)
    for ax, (f, sub, sub_style, sub_loc) in zip(axes, views):
        plot_top_shelved(sub, ax, style=sub_style, edges=0, colorbar=False,
                         title=_floor_title(f), rasterized=rasterized, locations=sub_loc)
        draw_connectors(ax, layout.hall, f)
    if handles:
        fig.legend(loc="outside lower center", ncols=min(len(handles), 5), **legend_kw)
    fig.suptitle(title, fontsize=13)
    return fig


def building_html(layout: Layout, *, view: str = "both", color_by: str = "category",
                  elev: float = 28.0, azim: float = -62.0, max_categories: int = 10) -> str:
    """The interactive page of a building's plan: one plotly figure per floor (3D view
    and floor plan), coloured as the whole building, stairs and lifts marked, a row of
    links to jump from floor to floor."""
    from shelfplan.present.html import plotly_modules
    from shelfplan.present.stacks_html import shelved_figure
    from shelfplan.present.style import plan_title, point_style

    go, _ = plotly_modules()
    style = point_style(layout, color_by, max_categories)
    parts, links = [], []
    for k, (f, sub, sub_style, sub_loc) in enumerate(floor_layouts(layout, style)):
        fig = shelved_figure(sub, view=view, color_by=color_by, elev=elev, azim=azim,
                             style=sub_style, locations=sub_loc)
        for c in layout.hall.building.connectors:
            if f.id not in c.at:
                continue
            x, y = c.at[f.id]
            marker, colour = CONNECTOR_MARKERS[c.kind]
            text = f"{c.id}: {c.kind} to floor {', '.join(i for i in c.at if i != f.id)}"
            trace = dict(mode="markers+text", text=[c.id], textposition="top center",
                         hovertext=[text], hoverinfo="text", showlegend=False,
                         marker=dict(color=colour, size=11,
                                     symbol="square" if marker == "s" else "triangle-up"))
            if view != "3d":
                fig.add_trace(go.Scatter(x=[x], y=[y], **trace),
                              **({"row": 1, "col": 2} if view == "both" else {}))
        fig.update_layout(title=dict(text=f"{_floor_title(f)} \u00b7 {plan_title(layout)}"))
        parts.append(f'<section id="floor-{k}"><h2>{_floor_title(f)}</h2>' + fig.to_html(
            include_plotlyjs=k == 0, full_html=False, default_width="100%",
            default_height="85vh", config={"displaylogo": False, "responsive": True})
            + "</section>")
        links.append(f'<a href="#floor-{k}">{_floor_title(f)}</a>')
    import html as _html
    name = _html.escape(layout.hall.name)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{name}'
            f'</title><style>body{{font-family:sans-serif;margin:0 1em}}nav a{{margin-right:'
            f'1em}}</style></head><body><h1>{name}</h1><nav>floors: {" ".join(links)}</nav>'
            + "".join(parts) + "</body></html>")
