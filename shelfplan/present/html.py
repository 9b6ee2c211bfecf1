"""The interactive view: a plotly figure and a self-contained HTML page.

:func:`plotly_figure` builds the rotatable 3D view and/or the floor plan, one
layer per function (hall, floor plan, pairs, books); :func:`render_html`
writes it with plotly.js inlined, so the page opens offline. plotly is the
optional extra ``html``.
"""

from __future__ import annotations

import math
import os

import numpy as np

from shelfplan.layout import Layout, atomic_write
from shelfplan.present import geometry as geo
from shelfplan.present.edges import resolve_edges
from shelfplan.present.floor import popularity_grid
from shelfplan.present.style import (DEFAULT_MAX_CATEGORIES, ENTRANCE_COLOR, HEAT_CMAP,
                                     HEAT_UNDER, MAX_DRAWN_BLOCKS, OBSTACLE_EDGE, OBSTACLE_FACE,
                                     POPULARITY_CMAP, VIEWS, PointStyle, RenderError, as_layout,
                                     check_choice, output_format, plan_title, point_style)

HOVER = ("<b>%{customdata[0]}</b><br>category %{customdata[1]}<br>p = %{customdata[2]}"
         "<extra></extra>")


def plotly_modules():
    """(plotly.graph_objects, make_subplots), or a RenderError naming the extra."""
    try:
        import plotly.graph_objects as go
        from plotly.subplots import make_subplots
    except ImportError:
        raise RenderError('interactive HTML needs plotly, which is not installed; install '
                          'the extra with: pip install "shelfplan[html]"') from None
    return go, make_subplots


def _hex(rgba) -> str:
    r, g, b = (int(round(255 * v)) for v in rgba[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def _heat_colorscale(steps: int = 9) -> list:
    """The heat map's colours for plotly: HEAT_CMAP, starting from the empty-floor colour."""
    from matplotlib import colormaps

    cmap = colormaps[HEAT_CMAP]
    scale = [[0.0, HEAT_UNDER], [0.01, HEAT_UNDER]]
    scale += [[float(t), _hex(cmap(t))] for t in np.linspace(0.011, 1.0, steps)]
    return scale


def _subplots(make_subplots, view: str):
    """The figure and where its 3D scene and floor plan go (None if not shown)."""
    if view == "both":
        fig = make_subplots(rows=1, cols=2, specs=[[{"type": "scene"}, {"type": "xy"}]],
                            column_widths=[0.55, 0.45], horizontal_spacing=0.06,
                            subplot_titles=("3D view (drag to rotate)", "floor plan from above"))
        return fig, dict(row=1, col=1), dict(row=1, col=2)
    if view == "3d":
        return make_subplots(rows=1, cols=1, specs=[[{"type": "scene"}]]), dict(row=1, col=1), None
    return make_subplots(rows=1, cols=1, specs=[[{"type": "xy"}]]), None, dict(row=1, col=1)


# --------------------------------------------------------------------------
# the hall
# --------------------------------------------------------------------------
def _wall_lines(hall, z0: float, z1: float) -> tuple:
    """The walls' outlines in 3D: bottom and top rings and the vertical corners."""
    ring = geo.closed(hall.footprint)
    ox, oy, oz = [], [], []
    for zz in (z0, z1):
        ox += list(ring[:, 0]) + [None]
        oy += list(ring[:, 1]) + [None]
        oz += [zz] * len(ring) + [None]
    for xx, yy in hall.footprint:
        ox += [xx, xx, None]
        oy += [yy, yy, None]
        oz += [z0, z1, None]
    return ox, oy, oz


def hall_shell(fig, go, hall, z0: float, z1: float, at3: dict) -> None:
    """The floor, the walls as outlines and the obstacles (solid) between z0 and z1."""
    tri = geo.triangles(hall.footprint)
    fig.add_trace(go.Mesh3d(x=hall.footprint[:, 0], y=hall.footprint[:, 1],
                            z=np.full(len(hall.footprint), z0), i=tri[:, 0], j=tri[:, 1],
                            k=tri[:, 2], color="#dfe3ec", opacity=0.5, hoverinfo="skip",
                            showlegend=False, name="floor", flatshading=True), **at3)
    ox, oy, oz = _wall_lines(hall, z0, z1)
    fig.add_trace(go.Scatter3d(x=ox, y=oy, z=oz, mode="lines", hoverinfo="skip",
                               line=dict(color="#59617a", width=2), showlegend=False,
                               name="walls"), **at3)
    for q, ob in enumerate(hall.obstacles):
        x, y, z, i, j, k = geo.mesh_prism(ob, z0, z1)
        fig.add_trace(go.Mesh3d(x=x, y=y, z=z, i=i, j=j, k=k, color=OBSTACLE_FACE,
                                opacity=1.0, flatshading=True, name="obstacle",
                                legendgroup="obstacles", showlegend=(q == 0),
                                hoverinfo="name"), **at3)


def _hall_3d(fig, go, layout: Layout, at3: dict) -> None:
    """Floor, walls as outlines, obstacles (solid), entrance.

    No see-through wall or door faces: WebGL picking would take them for the
    nearest object and the books behind them would never show their hover label.
    """
    hall = layout.hall
    z0, z1 = hall.z_range
    hall_shell(fig, go, hall, z0, z1, at3)
    door = geo.door(layout)
    fig.add_trace(go.Scatter3d(x=door[[0, 1, 1, 0, 0], 0], y=door[[0, 1, 1, 0, 0], 1],
                               z=[z0, z0, z1, z1, z0], mode="lines", hoverinfo="skip",
                               line=dict(color=ENTRANCE_COLOR, width=6), showlegend=False,
                               legendgroup="entrance"), **at3)
    e = hall.entrance
    fig.add_trace(go.Scatter3d(x=[e[0]], y=[e[1]], z=[e[2]], mode="markers",
                               marker=dict(symbol="diamond", size=9, color=ENTRANCE_COLOR),
                               name="entrance", legendgroup="entrance",
                               hovertemplate="entrance<extra></extra>"), **at3)
    # the label on the floor outside the door: books by the door cannot cover it
    at = _outside(hall, 0.15)
    fig.add_trace(go.Scatter3d(x=[at[0]], y=[at[1]], z=[z0], mode="text", text=["Entrance"],
                               textposition="middle center", hoverinfo="skip",
                               textfont=dict(color=ENTRANCE_COLOR, size=14),
                               showlegend=False, legendgroup="entrance"), **at3)


def _outside(hall, share: float) -> np.ndarray:
    """A point ``share`` of the hall's larger side outside the entrance's wall."""
    _, inward = hall.entrance_wall()
    span = float(np.max(hall.footprint.max(axis=0) - hall.footprint.min(axis=0)))
    return np.asarray(hall.entrance[:2], dtype=float) - inward * share * span


def _heatmap(go, layout: Layout):
    dens, (x0, x1, y0, y1) = popularity_grid(layout)
    ny, nx = dens.shape
    cx = np.linspace(x0, x1, nx + 1)
    cy = np.linspace(y0, y1, ny + 1)
    return go.Heatmap(z=dens.filled(np.nan), x=(cx[:-1] + cx[1:]) / 2,
                      y=(cy[:-1] + cy[1:]) / 2, colorscale=_heat_colorscale(), zmin=0,
                      showscale=True, hoverinfo="skip", name="popularity",
                      colorbar=dict(title=dict(text="popularity: share of loans per m²",
                                               side="right"),
                                    len=0.75, thickness=14, x=1.0, y=0.55))


def _hall_top(fig, go, layout: Layout, att: dict, entrance_legend: bool) -> None:
    """The floor plan's heat map, walls, obstacles and entrance."""
    hall = layout.hall
    fig.add_trace(_heatmap(go, layout), **att)
    ring = geo.closed(hall.footprint)
    fig.add_trace(go.Scatter(x=ring[:, 0], y=ring[:, 1], mode="lines", hoverinfo="skip",
                             line=dict(color="#303030", width=2), showlegend=False), **att)
    for ob in hall.obstacles:
        r = geo.closed(ob)
        fig.add_trace(go.Scatter(x=r[:, 0], y=r[:, 1], mode="lines", fill="toself",
                                 fillcolor=OBSTACLE_FACE, hoverinfo="skip",
                                 line=dict(color=OBSTACLE_EDGE, width=1),
                                 showlegend=False, legendgroup="obstacles"), **att)
    door = geo.door(layout)
    fig.add_trace(go.Scatter(x=door[:, 0], y=door[:, 1], mode="lines",
                             line=dict(color=ENTRANCE_COLOR, width=6), hoverinfo="skip",
                             showlegend=entrance_legend, name="entrance",
                             legendgroup="entrance"), **att)
    at = _outside(hall, 0.04)
    fig.add_trace(go.Scatter(x=[at[0]], y=[at[1]], mode="text", text=["<b>Entrance</b>"],
                             textposition="middle center", hoverinfo="skip",
                             textfont=dict(color=ENTRANCE_COLOR, size=13), showlegend=False,
                             legendgroup="entrance"), **att)


# --------------------------------------------------------------------------
# pairs and books
# --------------------------------------------------------------------------
def _edges(fig, go, layout: Layout, ia, ib, at3, att) -> None:
    """The strongest co-borrowed pairs as one line trace per view."""
    ex, ey, ez = (np.full(3 * len(ia), np.nan) for _ in range(3))
    for d, arr in enumerate((ex, ey, ez)):
        arr[0::3] = layout.positions[ia, d]
        arr[1::3] = layout.positions[ib, d]
    label = f"{len(ia)} strongest pairs"
    if at3 is not None:
        fig.add_trace(go.Scatter3d(x=ex, y=ey, z=ez, mode="lines", name=label,
                                   legendgroup="edges", hoverinfo="skip",
                                   line=dict(color="rgba(26,26,26,0.55)", width=2)), **at3)
    if att is not None:
        fig.add_trace(go.Scattergl(x=ex, y=ey, mode="lines", name=label,
                                   legendgroup="edges", showlegend=at3 is None,
                                   hoverinfo="skip",
                                   line=dict(color="rgba(26,26,26,0.45)", width=1)), **att)


def _blocks(fig, go, layout: Layout, idx, style: PointStyle, name: str, group: int,
            at3, att) -> None:
    """Category blocks ``idx`` as one cylinder mesh (3D) and discs (floor plan)."""
    z0, z1 = layout.hall.z_range
    if at3 is not None:
        xs, ys, zs, ii, jj, kk, colors = [], [], [], [], [], [], []
        base = 0
        for b in idx:
            x, y, z, i, j, k = geo.mesh_prism(geo.circle(layout.positions[b], layout.radius[b]),
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


def _hover_data(layout: Layout, p: np.ndarray) -> np.ndarray:
    """(n, 3) id, category and p of every book, for the hover label."""
    ids = np.array([str(i) for i in layout.items], dtype=object)
    cats = (np.array(["-" if c is None else str(c) for c in layout.categories], dtype=object)
            if layout.categories is not None else np.full(layout.n, "-", dtype=object))
    return np.stack([ids, cats, np.array([f"{v:.4g}" for v in p], dtype=object)], axis=1)


def _popularity_marker(style: PointStyle, p: np.ndarray) -> tuple:
    """Marker colours (log10 p) and the colour bar of a book trace coloured by popularity."""
    logp = np.log10(np.where(p > 0, p, style.norm.vmin))
    lo, hi = math.log10(style.norm.vmin), math.log10(style.norm.vmax)
    ticks = [t for t in range(math.floor(lo), math.ceil(hi) + 1) if lo <= t <= hi]
    extra = dict(colorscale=POPULARITY_CMAP.capitalize(), cmin=lo, cmax=hi,
                 colorbar=dict(title=dict(text="popularity p(i)", side="right"),
                               tickvals=ticks, ticktext=[f"{10.0 ** t:g}" for t in ticks],
                               x=-0.02, xanchor="right", len=0.6, thickness=12))
    return logp, extra


def _book_groups(style: PointStyle, p: np.ndarray) -> list:
    """[(legend label, marker colour, marker extras, book indices)]: one per legend entry."""
    o = style.order
    if style.color_by == "category":
        return [(lab, col, {}, o[style.labels[o] == key]) for lab, col, key in style.legend]
    logp, extra = _popularity_marker(style, p[o])
    return [("books", logp, extra, o)]


def _books(fig, go, layout: Layout, style: PointStyle, at3, att) -> None:
    """Books: one trace per legend entry (click the legend to hide a category);
    category blocks are also drawn to scale (cylinders, discs) under their markers."""
    p = np.nan_to_num(np.asarray(layout.p, dtype=float))
    custom = _hover_data(layout, p)
    size3 = np.sqrt(style.sizes) * 1.2    # plotly sizes are diameters in px
    sizet = np.sqrt(style.sizes * 0.45) * 1.1
    blocks = layout.radius is not None and layout.n <= MAX_DRAWN_BLOCKS
    x, y, z = layout.positions.T
    for g, (lab, marker_c, extra, idx) in enumerate(_book_groups(style, p)):
        if blocks and len(idx):
            _blocks(fig, go, layout, idx, style, lab, g, at3, att)
        if at3 is not None:
            fig.add_trace(go.Scatter3d(
                x=x[idx], y=y[idx], z=z[idx], mode="markers", name=lab, legendgroup=f"g{g}",
                customdata=custom[idx], hovertemplate=HOVER,
                marker=dict(size=size3[idx], color=marker_c, opacity=style.alpha,
                            line=dict(width=0), **extra)), **at3)
        if att is not None:
            fig.add_trace(go.Scattergl(
                x=x[idx], y=y[idx], mode="markers", name=lab, legendgroup=f"g{g}",
                showlegend=at3 is None, customdata=custom[idx], hovertemplate=HOVER,
                marker=dict(size=sizet[idx], color=marker_c, opacity=style.alpha,
                            line=dict(width=0), **({} if at3 is not None else extra))), **att)


# --------------------------------------------------------------------------
# the figure and the page
# --------------------------------------------------------------------------
def _finish(fig, layout: Layout, style: PointStyle, elev: float, azim: float, at3, att) -> None:
    """Title, legend, camera and axes in metres (the camera far enough that the whole
    hall and its axis labels fit the scene at the default angles)."""
    r = 4.0
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
    if at3 is not None:
        fig.update_scenes(aspectmode="data", camera=dict(eye=eye),
                          xaxis_title="x (m)", yaxis_title="y (m)", zaxis_title="z (m)")
    if att is not None:
        fig.update_xaxes(title_text="x (m)", **att)
        fig.update_yaxes(title_text="y (m)", scaleanchor="x", scaleratio=1, constrain="domain",
                         **att)
        fig.update_xaxes(constrain="domain", **att)


def plotly_figure(layout, *, view: str = "both", color_by: str = "category", edges=None,
                  elev: float = 28.0, azim: float = -62.0,
                  max_categories: int = DEFAULT_MAX_CATEGORIES):
    """A plotly figure: the rotatable 3D view and/or the floor plan; hover shows id,
    category and p of each book. Books as points: a shelving plan's figure is
    :func:`shelfplan.present.render.plotly_figure`'s."""
    go, make_subplots = plotly_modules()
    layout = as_layout(layout)
    check_choice(view, VIEWS, "view")
    style = point_style(layout, color_by, max_categories)
    ia, ib, _ = resolve_edges(layout, edges)
    fig, at3, att = _subplots(make_subplots, view)
    if at3 is not None:
        _hall_3d(fig, go, layout, at3)
    if att is not None:
        _hall_top(fig, go, layout, att, entrance_legend=at3 is None)
    if len(ia):
        _edges(fig, go, layout, ia, ib, at3, att)
    _books(fig, go, layout, style, at3, att)
    _finish(fig, layout, style, elev, azim, at3, att)
    return fig


def render_html(layout, path, *, view: str = "both", color_by: str = "category", edges=None,
                elev: float = 28.0, azim: float = -62.0,
                max_categories: int = DEFAULT_MAX_CATEGORIES, figure=None) -> None:
    """Write a self-contained interactive HTML page (plotly.js inlined, opens offline);
    ``figure`` builds it (default :func:`plotly_figure`)."""
    plotly_modules()   # fail before any work when plotly is missing
    if output_format(path) != "html":
        raise RenderError(f"{os.fspath(path)}: interactive output must end with .html")
    fig = (figure or plotly_figure)(layout, view=view, color_by=color_by, edges=edges,
                                    elev=elev, azim=azim, max_categories=max_categories)
    html = fig.to_html(include_plotlyjs=True, full_html=True,
                       config={"displaylogo": False, "responsive": True},
                       default_width="100%", default_height="92vh")
    atomic_write(path, lambda fh: fh.write(html))
