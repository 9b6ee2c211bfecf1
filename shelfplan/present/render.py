"""Draw a layout so that a librarian can read it (``shelfplan render``).

:func:`render` writes the 3D view, the floor plan or both side by side to
PNG, SVG or PDF (chosen by the file's extension) or, through
:func:`render_html`, to a self-contained interactive HTML page (plotly, the
optional extra ``html``). Every write goes through
:func:`shelfplan.layout.atomic_write`: no partial file on failure.

The pieces live in modules of one job, all re-exported here:
:mod:`~shelfplan.present.style` (palette, sizes, the category key, the
error), :mod:`~shelfplan.present.geometry` (rings, prisms, the door),
:mod:`~shelfplan.present.edges` (co-borrowed pairs),
:mod:`~shelfplan.present.mpl3d` (:func:`plot_3d`),
:mod:`~shelfplan.present.floor` (:func:`plot_top`, the heat map) and
:mod:`~shelfplan.present.html` (:func:`plotly_figure`, :func:`render_html`).
A shelving plan (``layout.shelved``) is drawn as its stacks by
:mod:`~shelfplan.present.stacks_draw` and :mod:`~shelfplan.present.stacks_html`:
:func:`plot_top`, :func:`plot_3d`, :func:`plotly_figure` and :func:`render_html`
here choose the drawing by the layout.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from shelfplan.layout import atomic_write
from shelfplan.present.edges import edge_widths as _edge_widths  # noqa: F401
from shelfplan.present.edges import pairs_from_loans, resolve_edges  # noqa: F401
from shelfplan.present import html as _html
from shelfplan.present.floor import plot_top as _points_top
from shelfplan.present.floor import popularity_grid  # noqa: F401
from shelfplan.present.geometry import triangles as _triangles  # noqa: F401
from shelfplan.present.html import plotly_modules  # noqa: F401
from shelfplan.present.mpl3d import plot_3d as _points_3d
from shelfplan.present.stacks_draw import plot_3d_shelved, plot_top_shelved
from shelfplan.present.stacks_html import shelved_figure
from shelfplan.present.zoom import add_zoom
from shelfplan.present.style import (BLOCK_LABELS, COLOR_BY, DEFAULT_MAX_CATEGORIES,  # noqa: F401
                                     EDGE_COLOR, ENTRANCE_COLOR, FLOOR_FACE, FORMATS, HEAT_CMAP,
                                     HEAT_UNDER, MAX_DRAWN_BLOCKS, OBSTACLE_EDGE, OBSTACLE_FACE,
                                     OTHER_COLOR, PALETTE, POPULARITY_CMAP, RASTERIZE_ABOVE, VIEWS,
                                     WALL_EDGE, WALL_FACE, PointStyle, RenderError, as_layout,
                                     category_key, check_choice, legend_handles, output_format,
                                     plan_title, point_alpha, point_sizes, point_style,
                                     popularity_norm)

__all__ = ["render", "render_html", "plan_figure", "plotly_figure", "plot_3d", "plot_top",
           "popularity_grid", "pairs_from_loans", "resolve_edges", "point_style",
           "point_sizes", "point_alpha", "popularity_norm", "category_key", "plan_title",
           "output_format", "check_output", "PointStyle", "RenderError"]


def plot_top(layout, ax=None, *, color_by: str = "category",
             max_categories: int = DEFAULT_MAX_CATEGORIES, style: PointStyle | None = None,
             heatmap: bool = True, points: bool = True, **kw) -> dict:
    """The floor plan: :func:`shelfplan.present.floor.plot_top` (books as points over
    the heat map), or for a shelving plan
    :func:`~shelfplan.present.stacks_draw.plot_top_shelved` (ranges and face strips;
    ``heatmap`` and ``points`` do not apply). Returns the artists."""
    if not layout.shelved:
        return _points_top(layout, ax, color_by=color_by, max_categories=max_categories,
                           style=style, heatmap=heatmap, points=points, **kw)
    style = style or point_style(layout, color_by, max_categories)
    return plot_top_shelved(layout, ax, style=style, **kw)


def plot_3d(layout, ax=None, *, color_by: str = "category",
            max_categories: int = DEFAULT_MAX_CATEGORIES, style: PointStyle | None = None,
            **kw) -> dict:
    """The 3D view: :func:`shelfplan.present.mpl3d.plot_3d` (books as points), or for a
    shelving plan :func:`~shelfplan.present.stacks_draw.plot_3d_shelved` (bookcases,
    shelves, books in their slots). Returns the artists."""
    if not layout.shelved:
        return _points_3d(layout, ax, color_by=color_by, max_categories=max_categories,
                          style=style, **kw)
    style = style or point_style(layout, color_by, max_categories)
    return plot_3d_shelved(layout, ax, style=style, **kw)


def plotly_figure(layout, **kw):
    """The interactive figure: :func:`shelfplan.present.html.plotly_figure`, or for a
    shelving plan :func:`~shelfplan.present.stacks_html.shelved_figure`."""
    layout = as_layout(layout)
    return (shelved_figure if layout.shelved else _html.plotly_figure)(layout, **kw)


def render_html(layout, path, **kw) -> None:
    """Write the self-contained interactive page of :func:`plotly_figure`
    (:func:`shelfplan.present.html.render_html`); a building's plan gets one figure per
    floor (:func:`~shelfplan.present.building_draw.building_html`)."""
    layout = as_layout(layout)
    if layout.hall.building is not None and layout.shelved:
        from shelfplan.present.building_draw import building_html
        _html.plotly_modules()
        if output_format(path) != "html":
            raise RenderError(f"{path}: interactive output must end with .html")
        kw.pop("edges", None)
        page = building_html(layout, **kw)
        atomic_write(path, lambda fh: fh.write(page))
        return
    _html.render_html(layout, path, figure=plotly_figure, **kw)


def check_output(path) -> str:
    """Fail fast on an output that cannot be written: unknown extension, missing plotly
    for HTML. Returns the format."""
    fmt = output_format(path)
    if fmt == "html":
        plotly_modules()
    return fmt


def _handles(layout, style: PointStyle) -> list:
    """The figure legend's entries: the categories, and for a shelving plan the
    location colours the categories do not explain (empty, no loans)."""
    handles = legend_handles(style)
    if layout.shelved:
        from shelfplan.present.stacks_style import key_handles, location_style

        handles += key_handles(location_style(layout, style))
    return handles


def _legend_kw(style: PointStyle, handles: list) -> dict:
    return dict(handles=handles,
                title="category (largest first)" if style.legend else "locations",
                fontsize=9, title_fontsize=9, frameon=False)


def _figure_both(layout, style, ratio: float, elev: float, azim: float, common: dict) -> Figure:
    """3D view (left) and floor plan (right), the legend below, the title above."""
    handles = _handles(layout, style)
    has_legend = bool(handles)
    w, plot_h = 17.0, max(4.0, 5.9 * ratio)
    below = 1.4 if has_legend else 0.4
    h = plot_h + below + 0.6
    fig = Figure(figsize=(w, h))
    ax3 = fig.add_axes((0.0, below / h, 0.56, plot_h / h), projection="3d",
                       computed_zorder=False)
    axt = fig.add_axes((0.60, below / h, 0.32, plot_h / h))
    plot_3d(layout, ax3, elev=elev, azim=azim, legend=False, title="3D view",
            colorbar=not layout.shelved, **common)   # a plan's bar: the floor plan's
    plot_top(layout, axt, title="floor plan from above", **common)
    add_zoom(axt, layout, style.colors, style.sizes)
    if has_legend:
        fig.legend(loc="lower center", bbox_to_anchor=(0.5, 0.02),
                   ncols=min(len(handles), 5), **_legend_kw(style, handles))
    fig.suptitle(plan_title(layout), fontsize=13, y=1 - 0.12 / h)
    return fig


def _figure_3d(layout, style, ratio: float, elev: float, azim: float, common: dict) -> Figure:
    """The 3D view, the legend at its right."""
    handles = _handles(layout, style)
    has_legend = bool(handles)
    w, h = 12.0, 2.0 + 4.5 * max(ratio, 0.6)
    fig = Figure(figsize=(w, h))
    ax = fig.add_axes((0.0, 0.02, 0.76 if has_legend else 0.96, 0.9), projection="3d",
                      computed_zorder=False)
    plot_3d(layout, ax, elev=elev, azim=azim, legend=False, **common)
    if has_legend:
        fig.legend(loc="upper left", bbox_to_anchor=(0.76, 0.88), **_legend_kw(style, handles))
    return fig


def _figure_top(layout, style, ratio: float, common: dict) -> Figure:
    """The floor plan, the legend below it."""
    handles = _handles(layout, style)
    has_legend = bool(handles)
    w, plot_h = 11.0, max(3.5, 8.6 * ratio)
    below = 1.75 if has_legend else 0.6
    h = plot_h + below + 0.5
    fig = Figure(figsize=(w, h))
    ax = fig.add_axes((0.08, below / h, 0.78, plot_h / h))
    plot_top(layout, ax, title=plan_title(layout), **common)
    add_zoom(ax, layout, style.colors, style.sizes)
    if has_legend:
        fig.legend(loc="lower center", bbox_to_anchor=(0.5, 0.01),
                   ncols=min(len(handles), 4), **_legend_kw(style, handles))
    return fig


def plan_figure(layout, *, view: str = "both", color_by: str = "category", edges=None,
                elev: float = 28.0, azim: float = -62.0,
                max_categories: int = DEFAULT_MAX_CATEGORIES,
                rasterized: bool | None = None) -> Figure:
    """A matplotlib :class:`Figure` with the 3D view, the floor plan, or both side by side.

    Axes are placed at fixed positions in inches (no constrained layout: 3D
    axes report loose extents), sized by the hall's proportions.
    """
    layout = as_layout(layout)
    check_choice(view, VIEWS, "view")
    style = point_style(layout, color_by, max_categories)
    common = dict(edges=edges, rasterized=rasterized, style=style)
    if layout.hall.building is not None and layout.shelved:     # one panel per floor
        from shelfplan.present.building_draw import building_figure
        return building_figure(layout, style, _handles(layout, style),
                               _legend_kw(style, _handles(layout, style)),
                               plan_title(layout), rasterized=rasterized)
    (x0, y0), (x1, y1) = layout.hall.footprint.min(axis=0), layout.hall.footprint.max(axis=0)
    ratio = float(np.clip((y1 - y0) / max(x1 - x0, 1e-9), 0.4, 1.6))
    if view == "both":
        return _figure_both(layout, style, ratio, elev, azim, common)
    if view == "3d":
        return _figure_3d(layout, style, ratio, elev, azim, common)
    return _figure_top(layout, style, ratio, common)


def render(layout, path, *, view: str = "both", color_by: str = "category", edges=None,
           elev: float = 28.0, azim: float = -62.0, dpi: float = 150,
           max_categories: int = DEFAULT_MAX_CATEGORIES, rasterized: bool | None = None) -> str:
    """Write the plan to ``path``: PNG, SVG, PDF or HTML by its extension.

    ``layout`` is a :class:`Layout` or a layout file's path. HTML goes to
    :func:`render_html`. The file is written atomically; returns the format.
    """
    fmt = output_format(path)
    check_choice(view, VIEWS, "view")
    check_choice(color_by, COLOR_BY, "color_by")
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
