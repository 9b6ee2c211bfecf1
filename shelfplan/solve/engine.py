"""The search engine: one driver over the moves of every plan family.

Every discrete search of shelfplan improves an assignment of units to places
(books to lattice sites, books to shelf locations, call-number runs to an
order along the shelving, category discs to centres), lowering

    S = sum_i p_i g(e, v_i) + sum_{i<j} W_ij g(v_i, v_j)

with exact deltas. What differs between the families is the state and its
moves; what they share is the driver, :func:`drive`:

1. **settle**: the family's descent from its start (sweeps of best improving
   moves priced exactly), then its annealing rounds and kicks while they pay.
   This is the adaptive stop: with no time limit given a seed gives the same
   plan every time, whatever the load of the machine.
2. **use the time given**: with a time limit (:attr:`FitOptions.use_all_time`),
   rounds of *restarts from the best* (a reheated perturbation: an annealing
   round or a kick, then sweeps), each kept only when it lowers S, until the
   deadline, or until an optimality signal ends the run early: S equals the
   certified lower bound, or the family has nothing left to move. Why it ended
   is recorded (``ended``) and said in the log.

A family implements :class:`Moves`: ``settle``, ``restart``, ``cost`` and
``plan``. Its state always ends a call on the best assignment it has met, so
the driver never has to undo a round.
"""

from __future__ import annotations

import time
from typing import Protocol

import numpy as np

from shelfplan.solve.record import Record, SolveResult, as_rng

__all__ = ["Moves", "drive", "SolveResult", "ENDED"]

#: why a search ended, as the solver record says it
ENDED = {
    "converged": "converged (no time limit given: the adaptive stop)",
    "time limit": "the time limit",
    "bound": "S reached the certified lower bound: no plan can be better",
    "nothing to move": "nothing left to move (every unit in its best place)",
    "interrupted": "interrupted (Ctrl-C): the best plan so far",
}


class Moves(Protocol):
    """One plan family's state and moves (see the module docstring)."""

    def settle(self, deadline: float) -> None:
        """Descend from the current state, then anneal and kick while it pays."""

    def restart(self, rng: np.random.Generator, deadline: float, round_: int) -> None:
        """One more improvement round from the best state (never worse after it)."""

    def cost(self) -> float:
        """The objective of the current (best) state, exact."""

    def plan(self) -> np.ndarray:
        """The current (best) assignment, as the family's :class:`Record` judges it."""


def drive(moves: Moves, rec: Record, options, *, how: str, seed=0, bound: float | None = None,
          movable: bool = True, tick=None, settle: bool = True) -> dict:
    """Run ``moves`` to the end (module docstring) and offer each stage's plan to ``rec``.

    ``options``: the :class:`~shelfplan.solve.options.FitOptions` (its time use);
    ``seed``: the restarts' randomness; ``bound``: a certified lower bound of the
    cost (the restarts stop on reaching it); ``movable``: False when the family
    has nothing to move. Returns the record of the drive (``restarts``,
    ``restarts_kept``, ``ended``, ``seconds``).
    """
    t0 = time.monotonic()
    deadline = rec.deadline
    if settle:
        moves.settle(deadline)
        how = getattr(moves, "how", how)          # what the settling did, when it says
        rec.offer(moves.plan(), how)
    out = {"restarts": 0, "restarts_kept": 0, "settled": _cost(moves)}
    if rec.interrupted:
        ended = "interrupted"
    elif not movable:
        ended = "nothing to move"
    elif time.monotonic() >= deadline:
        ended = "time limit"
    elif not options.use_all_time:
        ended = "converged"
    else:
        ended = _restarts(moves, rec, out, as_rng(seed), bound, tick)
        rec.offer(moves.plan(), f"{how} + {out['restarts']} restarts from the best "
                                f"({out['restarts_kept']} kept)")
    if ended == "time limit":
        rec.time_up()
    out.update(ended=ended, final=_cost(moves), seconds=round(time.monotonic() - t0, 3))
    if ended not in ("converged", "time limit"):
        rec.say(f"search ended before the time limit: {ENDED[ended]}")
    return out


def _cost(moves) -> float | None:
    S = moves.cost()
    return None if S is None or not np.isfinite(S) else float(S)


def _restarts(moves: Moves, rec: Record, out: dict, rng, bound, tick) -> str:
    """Restarts from the best until the deadline or an optimality signal."""
    S = moves.cost()
    while True:
        if bound is not None and S <= bound * (1 + 1e-9) + 1e-12:
            return "bound"
        if time.monotonic() >= rec.deadline:
            return "time limit"
        if tick is not None:
            tick()
        moves.restart(rng, rec.deadline, out["restarts"])
        out["restarts"] += 1
        S2 = moves.cost()
        if S2 < S - 1e-12 * max(1.0, abs(S)):
            out["restarts_kept"] += 1
            S = S2
            rec.offer(moves.plan(), f"restart {out['restarts']} from the best")
