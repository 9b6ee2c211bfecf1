"""A shelving plan in the interactive page: the 3D bookcases and the floor plan of the ranges.

What :func:`shelfplan.present.render.plotly_figure` builds for a plan with
``layout.shelved``: the same scene as :mod:`~shelfplan.present.stacks_draw`
(bookcases as wire frames, shelves, books at their slots) and floor plan
(ranges, face strips coloured like the matplotlib views, the entrance). A book's
hover label says where it stands, "B00123 610.49 MIT - range A-3, left face,
section 3, shelf 1, slot 14"; a strip's says what its location holds.

Bookcases are lines, not see-through faces: WebGL picking would take a face
for the nearest object and the books behind it would never show their label.
"""

from __future__ import annotations

import numpy as np

from shelfplan.layout import Layout
from shelfplan.present import geometry as geo
from shelfplan.present.edges import resolve_edges
from shelfplan.present.html import _edges, _finish, _subplots, hall_shell, plotly_modules
from shelfplan.present.style import (DEFAULT_MAX_CATEGORIES, ENTRANCE_COLOR, HEAT_UNDER,
                                     OBSTACLE_EDGE, OBSTACLE_FACE, POPULARITY_CMAP, PointStyle,
                                     check_choice, VIEWS, point_style)
from shelfplan.present.stacks_style import (EMPTY_COLOR, NO_LOANS_COLOR, RANGE_EDGE, RANGE_FACE,
                                            LocationStyle, book_hover, location_hover,
                                            location_style)

BOOK_HOVER = "%{text}<extra></extra>"
MAX_HTML_LABELS = 300    # range ids written on the floor plan up to this many ranges
POP_LEVELS = 32          # loans colours of the strips (one trace each)


def _gapped(segs: np.ndarray) -> list:
    """x, y(, z) arrays of segments (k, 2, d) with a NaN after each, for one line trace."""
    k, _, d = segs.shape
    out = np.full((k, 3, d), np.nan)
    out[:, :2] = segs
    return [out[:, :, j].ravel() for j in range(d)]


def _rings(quads: np.ndarray) -> list:
    """x, y of closed rings (k, c, 2) separated by NaN (one filled trace: each ring alone)."""
    closed = np.concatenate([quads, quads[:, :1]], axis=1)
    k, c, _ = closed.shape
    out = np.full((k, c + 1, 2), np.nan)
    out[:, :c] = closed
    return [out[:, :, 0].ravel(), out[:, :, 1].ravel()]


def _box_edges(rects: np.ndarray, z0: float, z1: float) -> np.ndarray:
    """(k, 2, 3): the 12 edges of every bookcase box."""
    nxt = np.roll(rects, -1, axis=1)
    segs = []
    for z in (z0, z1):
        segs.append(np.stack([np.dstack([rects, np.full(rects.shape[:2], z)]),
                              np.dstack([nxt, np.full(rects.shape[:2], z)])], axis=2))
    segs.append(np.stack([np.dstack([rects, np.full(rects.shape[:2], z0)]),
                          np.dstack([rects, np.full(rects.shape[:2], z1)])], axis=2))
    return np.concatenate([s.reshape(-1, 2, 3) for s in segs])


# --------------------------------------------------------------------------
# 3D scene
# --------------------------------------------------------------------------
def _scene(fig, go, layout: Layout, at3: dict) -> None:
    """Floor, walls, obstacles, bookcases (frames, shelves, uprights) and the entrance."""
    hall = layout.hall
    z0, z1 = geo.shelved_z()
    hall_shell(fig, go, hall, z0, z1, at3)
    stacks = hall.stacks
    segs = np.concatenate([_box_edges(geo.range_rects(stacks), z0, z1),
                           geo.bookcase_lines(stacks, z1)])
    x, y, z = _gapped(segs)
    fig.add_trace(go.Scatter3d(x=x, y=y, z=z, mode="lines", hoverinfo="skip", name="bookcases",
                               line=dict(color="rgba(107,79,42,0.45)", width=1.5)), **at3)
    door = geo.door(layout)
    fig.add_trace(go.Scatter3d(x=door[[0, 1, 1, 0, 0], 0], y=door[[0, 1, 1, 0, 0], 1],
                               z=[z0, z0, z1, z1, z0], mode="lines", hoverinfo="skip",
                               line=dict(color=ENTRANCE_COLOR, width=6), showlegend=False,
                               legendgroup="entrance"), **at3)
    e = hall.entrance
    fig.add_trace(go.Scatter3d(x=[e[0]], y=[e[1]], z=[z0], mode="markers+text",
                               text=["Entrance"], textposition="top center",
                               textfont=dict(color=ENTRANCE_COLOR, size=14),
                               marker=dict(symbol="diamond", size=9, color=ENTRANCE_COLOR),
                               name="entrance", legendgroup="entrance",
                               hovertemplate="entrance<extra></extra>"), **at3)


def _hex(rgba) -> str:
    r, g, b = (int(round(255 * v)) for v in rgba[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def _groups(layout: Layout, style: PointStyle, loc: LocationStyle) -> list:
    """[(name, legend group, colour, book indices, location indices)], one per colour."""
    from matplotlib import colormaps

    book_loc = np.asarray(layout.shelf["loc"], dtype=np.int64)
    o = style.order
    on = loc.occupied
    out = []
    if loc.color_by == "category":
        for g, (lab, col, key) in enumerate(style.legend):
            out.append((lab, f"g{g}", col, o[style.labels[o] == key],
                        np.nonzero(on & (loc.key == key))[0]))
    else:
        level = np.full(len(on), -1)
        lent = on & (loc.loans > 0)
        level[lent] = np.round(loc.norm(loc.loans[lent]) * (POP_LEVELS - 1)).astype(int)
        cmap = colormaps[POPULARITY_CMAP]
        for q in np.unique(level[lent]):
            where = np.nonzero(level == q)[0]
            out.append(("", "books", _hex(cmap(q / (POP_LEVELS - 1))),
                        o[np.isin(book_loc[o], where)], where))
        where = np.nonzero(on & ~lent)[0]
        if len(where):
            out.append(("no loans", "noloans", NO_LOANS_COLOR,
                        o[np.isin(book_loc[o], where)], where))
    if (~on).any():
        out.append(("empty location", "empty", EMPTY_COLOR, np.zeros(0, dtype=int),
                    np.nonzero(~on)[0]))
    return out


def _books(fig, go, layout: Layout, groups: list, at3: dict) -> None:
    """Books as small squares at their slots, one trace per colour; hover: where it stands."""
    p = np.nan_to_num(np.asarray(layout.p, dtype=float))
    cats = layout.categories
    where = book_hover(layout)
    text = np.array([f"{w}<br>category {'-' if cats is None or cats[k] is None else cats[k]}"
                     f", p = {p[k]:.4g}" for k, w in enumerate(where)], dtype=object)
    size = float(np.clip(9.0 * np.sqrt(300.0 / max(layout.n, 1)), 2.0, 5.0))
    x, y, z = layout.positions.T
    for name, group, colour, idx, _ in groups:
        if not len(idx):
            continue
        fig.add_trace(go.Scatter3d(
            x=x[idx], y=y[idx], z=z[idx], mode="markers", name=name or "books",
            legendgroup=group, showlegend=bool(name), text=text[idx], hovertemplate=BOOK_HOVER,
            marker=dict(size=size, color=colour, symbol="square", line=dict(width=0))), **at3)


# --------------------------------------------------------------------------
# floor plan
# --------------------------------------------------------------------------
def _plan(fig, go, layout: Layout, loc: LocationStyle, groups: list, att: dict,
          legend: bool) -> None:
    """Floor (the aisles), walls, obstacles, ranges, face strips, range ids, entrance."""
    hall = layout.hall
    stacks = hall.stacks
    ring = geo.closed(hall.footprint)
    fig.add_trace(go.Scatter(x=ring[:, 0], y=ring[:, 1], mode="lines", fill="toself",
                             fillcolor=HEAT_UNDER, hoverinfo="skip", showlegend=False,
                             line=dict(color="#303030", width=2)), **att)
    for ob in hall.obstacles:
        r = geo.closed(ob)
        fig.add_trace(go.Scatter(x=r[:, 0], y=r[:, 1], mode="lines", fill="toself",
                                 fillcolor=OBSTACLE_FACE, hoverinfo="skip",
                                 line=dict(color=OBSTACLE_EDGE, width=1),
                                 showlegend=False, legendgroup="obstacles"), **att)
    rects = geo.range_rects(stacks)
    x, y = _rings(rects)
    fig.add_trace(go.Scatter(x=x, y=y, mode="lines", fill="toself", fillcolor=RANGE_FACE,
                             line=dict(color=RANGE_EDGE, width=1), hoverinfo="skip",
                             name="ranges", showlegend=False), **att)
    quads = geo.face_strips(stacks)
    for name, group, colour, books, where in groups:
        x, y = _rings(quads[where])
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", fill="toself", fillcolor=colour,
                                 line=dict(width=0, color=colour), hoverinfo="skip",
                                 name=name or "books", legendgroup=group,
                                 showlegend=bool(name) and (legend or not len(books))),
                      **att)
    centre = quads.mean(axis=1)
    hover = location_hover(layout, loc)
    fig.add_trace(go.Scatter(x=centre[:, 0], y=centre[:, 1], mode="markers", text=hover,
                             hovertemplate=BOOK_HOVER, showlegend=False, name="locations",
                             marker=dict(size=6, opacity=0, color="#000000")), **att)
    if len(stacks.ranges) <= MAX_HTML_LABELS:
        c = rects.mean(axis=1)
        fig.add_trace(go.Scatter(x=c[:, 0], y=c[:, 1], mode="text", text=list(stacks.range_ids()),
                                 textfont=dict(size=9, color="#202020"), hoverinfo="skip",
                                 showlegend=False, name="range ids"), **att)
    door = geo.door(layout)
    fig.add_trace(go.Scatter(x=door[:, 0], y=door[:, 1], mode="lines",
                             line=dict(color=ENTRANCE_COLOR, width=6), hoverinfo="skip",
                             showlegend=legend, name="entrance", legendgroup="entrance"), **att)


def _colorbar(fig, go, loc: LocationStyle, at3, att) -> None:
    """The loans colour bar (log scale) on an empty trace of the first view shown."""
    lo, hi = np.log10(loc.norm.vmin), np.log10(loc.norm.vmax)
    ticks = [t for t in range(int(np.floor(lo)), int(np.ceil(hi)) + 1) if lo <= t <= hi]
    marker = dict(color=[lo, hi], colorscale=POPULARITY_CMAP.capitalize(), cmin=lo, cmax=hi,
                  showscale=True, size=0.1,
                  colorbar=dict(title=dict(text="loans per location: sum of p(i)", side="right"),
                                tickvals=ticks, ticktext=[f"{10.0 ** t:g}" for t in ticks],
                                len=0.6, thickness=12))
    if att is not None:
        fig.add_trace(go.Scatter(x=[None, None], y=[None, None], mode="markers", marker=marker,
                                 hoverinfo="skip", showlegend=False), **att)
    else:
        fig.add_trace(go.Scatter3d(x=[None, None], y=[None, None], z=[None, None],
                                   mode="markers", marker=marker, hoverinfo="skip",
                                   showlegend=False), **at3)


def shelved_figure(layout: Layout, *, view: str = "both", color_by: str = "category",
                   edges=None, elev: float = 28.0, azim: float = -62.0,
                   max_categories: int = DEFAULT_MAX_CATEGORIES, style: PointStyle | None = None,
                   locations: LocationStyle | None = None):
    """The plotly figure of a shelving plan (see the module's text); ``style`` and
    ``locations`` colour one floor of a building as the whole building."""
    go, make_subplots = plotly_modules()
    check_choice(view, VIEWS, "view")
    style = point_style(layout, color_by, max_categories) if style is None else style
    loc = location_style(layout, style) if locations is None else locations
    groups = _groups(layout, style, loc)
    ia, ib, _ = resolve_edges(layout, edges)
    fig, at3, att = _subplots(make_subplots, view)
    if at3 is not None:
        _scene(fig, go, layout, at3)
    if att is not None:
        _plan(fig, go, layout, loc, groups, att, legend=at3 is None)
    if len(ia):
        _edges(fig, go, layout, ia, ib, at3, att)
    if at3 is not None:
        _books(fig, go, layout, groups, at3)
    if loc.norm is not None:
        _colorbar(fig, go, loc, at3, att)
    _finish(fig, layout, style, elev, azim, at3, att)
    if att is not None:
        fig.update_layout(legend_y=-0.1)     # below the floor plan's x label
    return fig
