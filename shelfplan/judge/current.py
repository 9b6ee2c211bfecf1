"""Today's shelving as a layout (``shelfplan import-positions``).

Builds a :class:`Layout` from the table :func:`shelfplan.ingest.positions.read_positions`
reads.

* Errors (nothing is built): unreadable file, missing columns, empty ids,
  non-numeric or non-finite positions.
* Warnings (real shelves are not perfect; the layout is still built and the
  problems are recorded in ``layout.solver["checks"]``): an item listed more
  than once (the first row is kept), positions outside the hall, books
  closer than ``d_min``.

Without loans, ``p`` is 0 for every book and the layout has no objective or
lower bound. With loans, ``p`` and the objective ``S`` are estimated from the
loans restricted to the imported books (as :mod:`shelfplan.judge.evaluate` does),
and the lower bound of MODEL.md section 6 is added.
"""

from __future__ import annotations

import logging
import os

import numpy as np
import pandas as pd

from shelfplan.errors import LayoutError
from shelfplan.ingest.positions import read_positions
from shelfplan.judge.evaluate import coverage, feasibility, prepare_loans, restrict
from shelfplan.layout import Layout, as_written
from shelfplan.model.bound import lower_bound
from shelfplan.model.estimate import estimate
from shelfplan.model.hall import Hall, load_hall
from shelfplan.model.objective import min_spacing, walking_cost
from shelfplan.model.problem import Problem

log = logging.getLogger(__name__)


def _loan_estimates(ids, name, loans, since, until, read_options, warnings):
    """Estimates of the loans restricted to the books ``ids`` of a table (which books are
    missing goes to ``warnings``); ``(estimates, rows of ids, coverage)``."""
    data = prepare_loans(loans, since=since, until=until, read_options=read_options)
    cov = coverage(data, ids)
    if cov["items_missing"]:
        warnings.append(f"{data.source}: {cov['items_missing']} borrowed items "
                        f"({100 * cov['share_loans_missing']:.1f} % of loans) are not in "
                        f"{name}; left out of p and the objective")
    if cov["loans_missing"] == cov["loans"]:
        raise LayoutError(f"{name}: none of its items appears in {data.source}; check that "
                          f"both use the same item ids")
    est = estimate(restrict(data, ids))
    return est, pd.Index(ids).get_indexer(est.items), cov


def check_positions(X: np.ndarray, ids: np.ndarray, hall: Hall, name: str = "positions"
                    ) -> tuple[dict, list[str]]:
    """Feasibility counts and warnings for imported positions (spacing, hall)."""
    tmp = Layout(hall=hall, items=ids, positions=X, p=np.zeros(len(ids)))
    checks = feasibility(tmp)
    warnings = []
    if checks["outside_hall"]:
        out = np.nonzero(~hall.contains(X))[0]
        k = out[0]
        warnings.append(f"{name}: {checks['outside_hall']} books are outside the hall "
                        f"{hall.name!r} (e.g. {ids[k]} at ({X[k, 0]:g}, {X[k, 1]:g}, "
                        f"{X[k, 2]:g})); check the coordinates and the hall file")
    if checks["pairs_too_close"]:
        warnings.append(f"{name}: {checks['pairs_too_close']} pairs of books are closer than "
                        f"d_min={hall.d_min:g} m (smallest spacing {checks['min_spacing']:.3f} m)")
    return checks, warnings


def import_positions(source, hall, *, loans=None, since=None, until=None,
                     read_options: dict | None = None) -> tuple[Layout, list[str]]:
    """Build a :class:`Layout` from a positions CSV in ``hall`` (path or :class:`Hall`).

    Returns ``(layout, warnings)``; the warnings are also logged. With
    ``loans`` (path, ``-`` or :class:`~shelfplan.ingest.loans.Loans`), ``p``, the
    objective and the lower bound are filled from the loans in ``[since, until)``.

        >>> layout, warnings = import_positions("shelves.csv", "hall.json", loans="loans.csv")
    """
    if not isinstance(hall, Hall):
        hall = load_hall(hall)
    if hall.stacks is not None:
        return import_shelf_list(source, hall, loans=loans, since=since, until=until,
                                 read_options=read_options)
    name = os.fspath(source) if not hasattr(source, "read") else getattr(source, "name", "<stream>")
    table, warnings = read_positions(source)
    ids = table["item_id"].to_numpy(dtype=object)
    X = as_written(table[["x", "y", "z"]].to_numpy(dtype=float))
    checks, more = check_positions(X, ids, hall, name)
    warnings += more
    cats = None
    if "category" in table:
        cats = np.array([None if pd.isna(c) else str(c) for c in table["category"]], dtype=object)
    p = np.zeros(len(ids))
    objective, lb, estimation = {}, {}, {}
    if loans is not None:
        est, index, cov = _loan_estimates(ids, name, loans, since, until, read_options,
                                          warnings)
        p[index] = est.p
        objective = walking_cost(X[index], Problem.from_estimates(est, hall))
        lb = lower_bound(est.p, est.pair, hall.d_min, hall.height)
        estimation = dict(est.summary)
        estimation["coverage"] = cov
        if cats is None and est.categories is not None:
            cats = np.full(len(ids), None, dtype=object)
            cats[index] = est.categories
    for w in warnings:
        log.warning("%s", w)
    layout = Layout(hall=hall, items=ids, positions=X, p=p, categories=cats,
                    objective=objective, lower_bound=lb, min_spacing=min_spacing(X),
                    estimation=estimation,
                    solver={"method": "import-positions", "source": name,
                            "checks": checks, "warnings": warnings})
    return layout, warnings


def _slots_in_list_order(table: pd.DataFrame, loc: np.ndarray, stacks, name: str) -> np.ndarray:
    """Slots for a shelf list without a slot column: 1, 2, ... along each shelf in the
    order the list gives; a shelf listing more books than it has slots is an error."""
    key = loc * 10_000 + table["shelf"].to_numpy()
    slot = pd.Series(key).groupby(key).cumcount().to_numpy() + 1
    over = slot > stacks.loc_books_per_shelf[loc]
    if over.any():
        k = int(np.argmax(over))
        raise LayoutError(f"{name}: shelf {table['shelf'].iloc[k]} of {stacks.describe(loc[k])} "
                          f"lists more than its {stacks.loc_books_per_shelf[loc[k]]} books; "
                          f"raise books_per_shelf of range {table['range'].iloc[k]!r} in the "
                          f"hall file or fix the list")
    return slot


def import_shelf_list(source, hall: Hall, *, loans=None, since=None, until=None,
                      read_options=None) -> tuple[Layout, list[str]]:
    """Today's shelving from a shelf list (item, range, face, section, shelf[, slot]) as a
    shelving plan on the stacked ``hall``; with ``loans``, p and S_walk from them."""
    from shelfplan.ingest.shelflist import read_shelf_list
    from shelfplan.judge.shelved import plan_cost
    from shelfplan.model.building import check_floor_column
    from shelfplan.model.shelving import check_plan, locate, slot_positions

    name = os.fspath(source) if not hasattr(source, "read") else getattr(source, "name", "<stream>")
    table = read_shelf_list(source)
    ids = table["item_id"].to_numpy(dtype=object)
    st = hall.stacks
    loc = locate(st, table["range"], table["face"], table["section"])
    shelf = table["shelf"].to_numpy(dtype=np.int64)
    slot = (table["slot"].to_numpy(dtype=np.int64) if "slot" in table
            else _slots_in_list_order(table, loc, st, name))
    check_plan(st, ids, loc, shelf, slot, name)
    check_floor_column(st, loc, table.get("floor"), ids, name)
    cats = table["category"].to_numpy(dtype=object) if "category" in table else None
    calls = table["call_number"].to_numpy(dtype=object) if "call_number" in table else cats
    p = np.zeros(len(ids))
    objective, lb, estimation, warnings = {}, {}, {}, []
    layout = Layout(hall=hall, items=ids, p=p, categories=cats,
                    positions=slot_positions(st, loc, shelf, slot),
                    shelf={"loc": loc, "shelf": shelf, "slot": slot, "callnumber": calls})
    if loans is not None:
        est, index, cov = _loan_estimates(ids, name, loans, since, until, read_options,
                                          warnings)
        p[index] = est.p
        objective, _, lb = plan_cost(layout, est, index)
        estimation = dict(est.summary)
        estimation["coverage"] = cov
    for w in warnings:
        log.warning("%s", w)
    layout.objective, layout.lower_bound, layout.estimation = objective, lb, estimation
    layout.solver = {"method": "import-shelf-list", "source": name,
                     "checks": {"feasible": True, "books": int(len(ids)),
                                "slots": int(st.n_slots)}, "warnings": warnings}
    return layout, warnings
