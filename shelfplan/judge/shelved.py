"""Judging shelving plans on loans: S_walk and walks measured in the aisles.

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

__all__ = ["plan_cost", "table_walks", "plan_feasibility"]


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


def table_walks(loc: np.ndarray, D: np.ndarray, indptr: np.ndarray,
                indices: np.ndarray) -> np.ndarray:
    """Every session's nearest-neighbour walk in the aisles, entrance to entrance.

    As :func:`shelfplan.judge.evaluate.nn_walks`, with the walking table ``D``
    (row 0 the entrance) and each book's location ``loc``: from the entrance to
    the nearest book's location, on to the nearest book not yet taken, and back.
    Sessions of equal size are walked together (no loop over sessions).
    """
    sizes = np.diff(indptr)
    out = np.zeros(len(sizes))
    for k in np.unique(sizes[sizes > 0]):
        rows = np.nonzero(sizes == k)[0]
        L = loc[indices[indptr[rows][:, None] + np.arange(k)]] + 1     # (m, k) table rows
        m = len(rows)
        ar = np.arange(m)
        cur = np.zeros(m, dtype=np.int64)
        todo = np.ones((m, k), dtype=bool)
        length = np.zeros(m)
        for _ in range(k):
            d = D[cur[:, None], L]
            d[~todo] = np.inf
            j = np.argmin(d, axis=1)
            length += d[ar, j]
            todo[ar, j] = False
            cur = L[ar, j]
        out[rows] = length + D[cur, 0]
    return out


def plan_feasibility(layout: Layout) -> dict:
    """MODEL.md 8.4: every book in one existing slot, no slot twice (the layout file
    reader refuses anything else, so a plan read or made here passes)."""
    sh, st = layout.shelf, layout.hall.stacks
    flat = (sh["loc"] * 10_000 + sh["shelf"]) * 100_000 + sh["slot"]
    shared = int(len(flat) - len(np.unique(flat)))
    return {"feasible": shared == 0, "min_spacing": None, "d_min": None,
            "pairs_too_close": shared, "outside_hall": 0, "slots": int(st.n_slots),
            "books": int(layout.n)}
