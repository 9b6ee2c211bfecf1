"""The report's figures: floor plans side by side with the moves, the visit walks.

The moves: one arrow per book when few move, else the flows between ranges (or
grid cells of a free floor) of :mod:`shelfplan.present.flows`.

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
from shelfplan.present.flows import FEW_ARROWS, Flows, draw_flows, draw_ranges, region_flows
from shelfplan.present.tables import percent
from shelfplan.present.zoom import occupied_box


def _p_values(ev: Evaluation) -> np.ndarray:
    v = np.full(ev.layout.n, np.nan)
    v[ev.index] = ev.estimates.p
    return v


def comparison_flows(cmp: Comparison, k: int = 1) -> Flows | None:
    """The flows between regions from the first layout to layout ``k``."""
    if k >= len(cmp.names) or cmp.moves[k] is None:
        return None
    return region_flows(cmp.evaluations[0].layout, cmp.evaluations[k].layout, cmp.moves[k])


def _zoom_box(cmp: Comparison) -> np.ndarray | None:
    """One box around the books of every (free-space) layout and the entrance when the
    books fill only a corner of the hall (the plans are then drawn zoomed)."""
    boxes = [occupied_box(ev.layout) for ev in cmp.evaluations]
    if any(b is None for b in boxes):
        return None
    e = np.asarray(cmp.evaluations[0].layout.hall.entrance[:2], dtype=float)
    lo = np.min([b[0] for b in boxes] + [e - 0.5], axis=0)
    hi = np.max([b[1] for b in boxes] + [e + 0.5], axis=0)
    return np.array([lo, hi])


def _plan(ax, ev: Evaluation, values, norm, title: str, box) -> object:
    if ev.layout.shelved:
        draw_ranges(ax, ev.layout.hall)
    art = floor_plan(ev.layout, ax, values=values, norm=norm, title=title)
    if box is not None:
        _plan_limits(ax, box)
    return art


def compare_figure(cmp: Comparison, few: int = FEW_ARROWS) -> Figure:
    """The layouts' floor plans side by side (a stacked hall's ranges drawn, books
    coloured by p(i); zoomed on the books when they fill only a corner), and the moves
    to the second layout: one arrow per book when at most ``few`` move, else a plan
    of the flows between ranges (free floor: grid cells) with their counts."""
    n = len(cmp.names)
    fl = comparison_flows(cmp)
    mv = cmp.moves[1] if n > 1 else None
    n_moved = int(mv.moved.sum()) if mv is not None else 0
    flows_panel = fl is not None and n_moved > few
    panels = n + flows_panel
    fig = Figure(figsize=(5.2 * panels + 0.8, 5.0), layout="constrained")
    axes = fig.subplots(1, panels, squeeze=False)[0]
    ps = [_p_values(ev) for ev in cmp.evaluations]
    allp = np.concatenate([p[np.isfinite(p) & (p > 0)] for p in ps])
    norm = (LogNorm(vmin=allp.min(), vmax=allp.max())
            if len(allp) and allp.min() < allp.max() else None)
    box = _zoom_box(cmp)
    art = None
    for k, (ax, ev) in enumerate(zip(axes, cmp.evaluations)):
        s = ev.cost["total"]
        title = f"{os.path.basename(cmp.names[k])}\nS = {s:.3f} m"
        if k:
            title += f" ({percent(cmp.change([cmp.evaluations[0].cost['total'], s])[1])})"
        art = _plan(ax, ev, ps[k], norm, title, box) or art
    if mv is not None and n_moved and not flows_panel:
        moved = np.nonzero(mv.moved)[0]
        a, b = mv.start[moved], mv.end[moved]
        axes[0].quiver(a[:, 0], a[:, 1], b[:, 0] - a[:, 0], b[:, 1] - a[:, 1],
                       angles="xy", scale_units="xy", scale=1, width=0.003,
                       headwidth=4, color="tab:orange", alpha=0.8)
        axes[0].set_title(axes[0].get_title() + f"\narrows: the {n_moved} books that move "
                          f"to {os.path.basename(cmp.names[1])}", fontsize=10)
    if flows_panel:
        ax = axes[-1]
        ev = cmp.evaluations[0]
        if ev.layout.shelved:
            draw_ranges(ax, ev.layout.hall)
        floor_plan(ev.layout, ax, values=None, title=None)
        for coll in ax.collections:                      # the books: only a faint trace
            coll.set_alpha(0.12)
        _plan_limits(ax, fl.extent() if box is None else box)
        caption = draw_flows(ax, fl)
        ax.set_title(f"moves: {os.path.basename(cmp.names[0])} \u2192 "
                     f"{os.path.basename(cmp.names[1])}, {n_moved:,} books\n"
                     + _wrap(caption), fontsize=9)
    for ax in axes:            # labels beyond a zoomed view: clipped, not in the layout
        for t in ax.texts:
            t.set_clip_on(True)
            t.set_in_layout(False)
    if art is not None and norm is not None:
        fig.colorbar(art, ax=list(axes[:n]), shrink=0.8, label="p(i), share of borrowed books")
    return fig


def _plan_limits(ax, box) -> None:
    pad = 0.08 * float(np.max(box[1] - box[0]))
    ax.set_xlim(box[0, 0] - pad, box[1, 0] + pad)
    ax.set_ylim(box[0, 1] - pad, box[1, 1] + pad)


def _wrap(text: str, width: int = 58) -> str:
    import textwrap
    return "\n".join(textwrap.wrap(text, width))


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

