"""The report's figures: floor plans side by side with the moves, the visit walks.

Built on :class:`matplotlib.figure.Figure` (no pyplot state); the floor
plans are drawn by :func:`shelfplan.present.floor.floor_plan`, the same
drawer as ``shelfplan render``'s top view.
"""

from __future__ import annotations

import io
import os

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from shelfplan.judge.compare import Comparison
from shelfplan.judge.evaluate import Evaluation
from shelfplan.layout import atomic_write
from shelfplan.present.floor import floor_plan
from shelfplan.present.tables import percent


def _p_values(ev: Evaluation) -> np.ndarray:
    v = np.full(ev.layout.n, np.nan)
    v[ev.index] = ev.estimates.p
    return v


def compare_figure(cmp: Comparison, max_arrows: int = 2000) -> Figure:
    """The layouts' floor plans side by side, coloured by p(i); on the first, the
    moves to the second layout as arrows (the longest ``max_arrows``)."""
    n = len(cmp.names)
    fig = Figure(figsize=(5.2 * n + 0.8, 4.8), layout="constrained")
    axes = fig.subplots(1, n, squeeze=False)[0]
    ps = [_p_values(ev) for ev in cmp.evaluations]
    allp = np.concatenate([p[np.isfinite(p) & (p > 0)] for p in ps])
    norm = LogNorm(vmin=allp.min(), vmax=allp.max()) if len(allp) and allp.min() < allp.max() else None
    art = None
    for k, (ax, ev) in enumerate(zip(axes, cmp.evaluations)):
        s = ev.cost["total"]
        title = f"{os.path.basename(cmp.names[k])}\nS = {s:.3f} m"
        if k:
            title += f" ({percent(cmp.change([cmp.evaluations[0].cost['total'], s])[1])})"
        art = floor_plan(ev.layout, ax, values=ps[k], norm=norm, title=title) or art
    if n > 1 and cmp.moves[1] is not None:
        mv = cmp.moves[1]
        moved = np.nonzero(mv.moved)[0]
        moved = moved[np.argsort(-mv.distance[moved], kind="stable")][:max_arrows]
        if len(moved):
            a, b = mv.start[moved], mv.end[moved]
            alpha = float(np.clip(6.0 / np.sqrt(len(moved)), 0.15, 0.7))   # dense: fainter
            axes[0].quiver(a[:, 0], a[:, 1], b[:, 0] - a[:, 0], b[:, 1] - a[:, 1],
                           angles="xy", scale_units="xy", scale=1, width=0.0015,
                           headwidth=4, color="tab:orange", alpha=alpha)
        axes[0].set_title(axes[0].get_title() + f"\narrows: {mv.moved.sum()} moves to "
                          f"{os.path.basename(cmp.names[1])}", fontsize=10)
    if art is not None and norm is not None:
        fig.colorbar(art, ax=list(axes), shrink=0.8, label="p(i), share of borrowed books")
    return fig


def walks_figure(cmp: Comparison) -> Figure:
    """Cumulative distribution of the visit walk length, one line per layout."""
    fig = Figure(figsize=(6.4, 3.8), layout="constrained")
    ax = fig.add_subplot()
    for name, ev in zip(cmp.names, cmp.evaluations):
        w = np.sort(ev.walks)
        if len(w):
            ax.step(w, np.arange(1, len(w) + 1) / len(w), where="post",
                    label=f"{os.path.basename(name)} (mean {w.mean():.1f} m)")
    ax.set_xlabel("visit walk: entrance, books nearest-first, back (m)")
    ax.set_ylabel("share of visits")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return fig


def png_bytes(fig: Figure, dpi: int = 110) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def save_png(fig: Figure, path, dpi: int = 110) -> None:
    """Write a figure as PNG atomically."""
    data = png_bytes(fig, dpi)
    atomic_write(path, lambda fh: fh.write(data), mode="wb")

