"""The saving-versus-moves curve (``shelfplan moves``): S_walk against books moved.

For each budget N, ``fit --current TODAY --max-moves N`` (a free plan, or with
``keep_order="blocks"`` whole call-number runs) from today's shelving plan, plus
the plan from scratch for reference; each point says books moved, metres carried
and S_walk, so a committee can pick a budget.
"""

from __future__ import annotations

import time

from shelfplan.errors import LayoutError
from shelfplan.layout import Layout, read_layout

__all__ = ["moves_curve", "curve_table"]


def moves_curve(today, loans, *, budgets, hall=None, holdings=None, time_limit: float = 20.0,
                seed: int = 0, keep_order: str = "none", read_options=None,
                progress=None) -> dict:
    """``{"today": S, "scratch": S, "points": [{budget, moved, carrying_m, S_walk,
    saving_percent, share_of_scratch_percent, seconds}]}`` (budgets ascending)."""
    from shelfplan.api import fit

    budgets = sorted({int(b) for b in budgets})
    if not budgets:
        raise LayoutError("`budgets` is empty; give e.g. 25,50,100")
    if budgets[0] < 0:
        raise LayoutError(f"`budgets` must be 0 or more, got {budgets[0]}")
    if not isinstance(today, Layout):
        today = read_layout(today)
    hall = hall if hall is not None else today.hall
    say = progress or (lambda m: None)
    common = dict(hall=hall, holdings=holdings, seed=seed, read_options=read_options,
                  time_limit=time_limit, keep_order=keep_order)
    t0 = time.monotonic()
    scratch = fit(loans, **common)
    say(f"from scratch: S_walk={scratch.objective['total']:.4f}")
    points, S0 = [], None
    for b in budgets:
        t = time.monotonic()
        lay = fit(loans, current=today, max_moves=b, **common)
        sol = lay.solver
        S0 = sol["objective_today"]
        S = lay.objective["total"]
        points.append({"budget": b, "moved": int(sol["moved"]),
                       "carrying_m": sol.get("carrying_m"), "S_walk": S,
                       "seconds": round(time.monotonic() - t, 1)})
        say(f"max moves {b}: moved {sol['moved']}, S_walk={S:.4f}")
    Sx = scratch.objective["total"]
    for p in points:
        p["saving_percent"] = 100 * (1 - p["S_walk"] / S0)
        p["share_of_scratch_percent"] = 100 * (S0 - p["S_walk"]) / (S0 - Sx) if S0 > Sx \
            else float("nan")
    return {"today": S0, "scratch": Sx, "books": int(today.n), "points": points,
            "keep_order": keep_order, "seconds": round(time.monotonic() - t0, 1)}


def curve_table(curve: dict) -> str:
    """The curve as a plain-text table (what ``shelfplan moves`` prints)."""
    lines = [f"today S_walk {curve['today']:.4f} m; from scratch {curve['scratch']:.4f} m "
             f"({curve['books']} books)",
             f"{'max moves':>9} {'moved':>6} {'% books':>7} {'carried m':>9} {'S_walk':>8} "
             f"{'saving':>7} {'of scratch':>10}"]
    for p in curve["points"]:
        carried = "" if p["carrying_m"] is None else f"{p['carrying_m']:.0f}"
        lines.append(f"{p['budget']:>9} {p['moved']:>6} {100 * p['moved'] / curve['books']:>6.1f}%"
                     f" {carried:>9} {p['S_walk']:>8.4f} {p['saving_percent']:>6.1f}% "
                     f"{p['share_of_scratch_percent']:>9.1f}%")
    return "\n".join(lines)
