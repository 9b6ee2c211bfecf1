"""Judging shelving plans on loans: S_walk and feasibility (the visit walk: visits.py).

:func:`shelfplan.judge.evaluate.evaluate_loans` comes here for a layout on a
hall with stacks. Distances are the walking distances g of MODEL.md section
8.3 between the entrance and the locations' pick points (the hall's table),
never straight lines through the bookcases.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from shelfplan.layout import Layout
from shelfplan.model.estimate import Estimates
from shelfplan.model.shelving import ShelfProblem, shelved_cost, shelving_lower_bound

__all__ = ["plan_cost", "plan_feasibility"]


def plan_cost(layout: Layout, est: Estimates, index: np.ndarray):
    """S_walk of the borrowed books (rows ``index`` of the layout), each book's share,
    and the bound; ``(cost, per_item, lower_bound)``."""
    loc = layout.shelf["loc"][index]
    I, J, W = est.symmetric_pairs()
    problem = ShelfProblem(hall=layout.hall, items=est.items, p=est.p.astype(float), I=I, J=J,
                           W=W, order_key=np.zeros(est.n, dtype=np.int64))
    D = problem.D
    P = sp.coo_matrix(est.pair)
    per_item = est.p * D[0, loc + 1]
    if P.nnz:
        per_item = per_item + np.bincount(P.row, P.data * D[loc[P.row] + 1, loc[P.col] + 1],
                                          minlength=est.n)
    return shelved_cost(loc, problem), per_item, shelving_lower_bound(problem)


def plan_feasibility(layout: Layout) -> dict:
    """MODEL.md 8.4: every book in one existing slot, no slot twice (the layout file
    reader refuses anything else, so a plan read or made here passes)."""
    sh, st = layout.shelf, layout.hall.stacks
    flat = (sh["loc"] * 10_000 + sh["shelf"]) * 100_000 + sh["slot"]
    shared = int(len(flat) - len(np.unique(flat)))
    return {"feasible": shared == 0, "min_spacing": None, "d_min": None,
            "pairs_too_close": shared, "outside_hall": 0, "slots": int(st.n_slots),
            "books": int(layout.n)}
