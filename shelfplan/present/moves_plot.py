"""The saving-versus-moves curve as a figure (``shelfplan moves -o curve.png``)."""

from __future__ import annotations

from matplotlib.figure import Figure

from shelfplan.layout import atomic_write

__all__ = ["plot_moves_curve", "write_moves_plot"]


def plot_moves_curve(curve: dict, ax=None):
    """S_walk against books moved, with today's and the from-scratch plan's S_walk."""
    if ax is None:
        ax = Figure(figsize=(7, 4.2), dpi=120).add_subplot()
    pts = curve["points"]
    x = [0] + [p["moved"] for p in pts]
    y = [curve["today"]] + [p["S_walk"] for p in pts]
    line = ax.plot(x, y, "o-", color="#1f5f8b", label="proposal within the budget")
    ax.axhline(curve["today"], color="#888888", ls="--", lw=1, label="today")
    ax.axhline(curve["scratch"], color="#c0392b", ls=":", lw=1.2,
               label="plan from scratch (every book may move)")
    for p in pts:
        ax.annotate(f"{p['share_of_scratch_percent']:.0f} %", (p["moved"], p["S_walk"]),
                    textcoords="offset points", xytext=(4, 6), fontsize=8, color="#1f5f8b")
    ax.set_xlabel("books moved")
    ax.set_ylabel("S_walk (m per visit)")
    ax.set_title("Walking saved against books moved (labels: share of the from-scratch "
                 "saving)", fontsize=9)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower left")
    return line


def write_moves_plot(curve: dict, path: str) -> None:
    fig = Figure(figsize=(7, 4.2), dpi=120)
    plot_moves_curve(curve, fig.add_subplot())
    fig.tight_layout()
    fmt = str(path).rsplit(".", 1)[-1].lower()
    atomic_write(path, lambda fh: fig.savefig(fh, format=fmt), mode="wb")
