"""How books and halls look in every view: palette, colours, sizes, the category key.

Also the choices every view accepts (formats, views, colourings), the error
they raise (:class:`RenderError`) and the plan's title. Large layouts stay
legible: point sizes and alpha shrink with the number of books, the category
legend is capped (the rest is "other") and popular books are drawn last.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass

import numpy as np
from matplotlib.colors import LogNorm, to_rgba
from matplotlib.lines import Line2D

from shelfplan.errors import ShelfplanError
from shelfplan.layout import Layout, read_layout

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
MAX_DRAWN_BLOCKS = 400   # category blocks drawn as cylinders up to this many (else points)
BLOCK_LABELS = 15        # the largest blocks are named on the floor plan


class RenderError(ShelfplanError):
    """A plan cannot be drawn or written as asked."""


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


# --------------------------------------------------------------------------
# inputs and choices
# --------------------------------------------------------------------------
def check_choice(value, choices, what):
    if value not in choices:
        raise RenderError(f"{what} must be one of {', '.join(choices)}, got {value!r}")


def as_layout(layout) -> Layout:
    """A :class:`Layout` as is, or the layout file at this path."""
    return layout if isinstance(layout, Layout) else read_layout(layout)


def output_format(path) -> str:
    """'png', 'svg', 'pdf' or 'html' from the file's extension, else a RenderError."""
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext not in FORMATS:
        got = f"'{ext}'" if ext else "no extension"
        raise RenderError(f"{os.fspath(path)}: unknown output format ({got}); end the file name "
                          f"with .png, .svg, .pdf or .html")
    return FORMATS[ext]


def rasterize(layout: Layout, rasterized) -> bool:
    """Rasterise the books? By default above RASTERIZE_ABOVE of them."""
    return layout.n > RASTERIZE_ABOVE if rasterized is None else bool(rasterized)


# --------------------------------------------------------------------------
# text
# --------------------------------------------------------------------------
def escape(text) -> str:
    """Text safe for matplotlib (a '$' would start mathtext)."""
    return str(text).replace("$", r"\$")


def short(name, width: int = 18) -> str:
    """``name`` cut to ``width`` characters with an ellipsis."""
    name = str(name)
    return name if len(name) <= width else name[: width - 1] + "…"


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
    return f"{escape(layout.hall.name)}: " + ",  ".join(parts)


# --------------------------------------------------------------------------
# points: sizes, opacity, colours
# --------------------------------------------------------------------------
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


def opaque(colors: np.ndarray, alpha: float) -> np.ndarray:
    """RGBA colours (k, 4) with their alpha set to ``alpha``."""
    out = np.array(colors, dtype=float).reshape(-1, 4)
    out[:, 3] = alpha
    return out


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


def _ranked_categories(layout: Layout):
    """(names, inverse, counts, ranking of the known names): largest categories first."""
    cats = layout.categories
    if cats is None:
        cats = np.array([None] * layout.n, dtype=object)
    keys = np.array(["" if c is None else str(c) for c in cats], dtype=object)
    names, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    if layout.sizes is not None:     # category blocks: count the books they hold
        counts = np.bincount(inverse, weights=layout.sizes, minlength=len(names)).astype(int)
    weight = np.bincount(inverse, weights=np.nan_to_num(layout.p), minlength=len(names))
    known = names != ""
    rank = sorted(np.nonzero(known)[0], key=lambda k: (-counts[k], -weight[k], names[k]))
    return names, inverse, counts, rank


def category_key(layout: Layout, max_categories: int = DEFAULT_MAX_CATEGORIES):
    """(key of each book, [(legend label, colour, key)]) with the largest categories named.

    Categories are ranked by number of books (ties: more loans first, then
    name); the first ``max_categories`` get their own colour, the rest (and
    books without a category) are "other".
    """
    if not 1 <= max_categories <= len(PALETTE):
        raise RenderError(f"max_categories must be between 1 and {len(PALETTE)}, got "
                          f"{max_categories}")
    names, inverse, counts, rank = _ranked_categories(layout)
    named = rank[:max_categories]
    labels = np.full(layout.n, "other", dtype=object)
    legend = []
    for c, k in enumerate(named):
        labels[inverse == k] = names[k]
        legend.append((f"{short(names[k], 40)}  ({counts[k]:,} books)", PALETTE[c], names[k]))
    rest = (labels == "other")
    if rest.any():
        n_rest = len(rank) - len(named) + (0 if (names != "").all() else 1)
        what = f"{n_rest} more categor{'y' if n_rest == 1 else 'ies'}" if len(rank) > len(named) \
            else "no category"
        books = int(rest.sum() if layout.sizes is None else layout.sizes[rest].sum())
        legend.append((f"other: {what}  ({books:,} books)", OTHER_COLOR, "other"))
    return labels, legend


def point_style(layout: Layout, color_by: str = "category",
                max_categories: int = DEFAULT_MAX_CATEGORIES) -> PointStyle:
    """Colours, sizes, alpha and draw order of the books, shared by every view."""
    check_choice(color_by, COLOR_BY, "color_by")
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


def legend_handles(style: PointStyle) -> list:
    """One round marker per legend entry (matplotlib)."""
    return [Line2D([], [], linestyle="none", marker="o", markersize=7, markerfacecolor=c,
                   markeredgecolor="none", label=escape(lab)) for lab, c, _ in style.legend]
