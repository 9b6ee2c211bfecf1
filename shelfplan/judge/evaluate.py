"""Judge a layout on a set of loans (``shelfplan evaluate``).

Two figures, both computed from the *evaluation* loans, never from the
numbers stored in the layout file:

* the default model of MODEL.md section 3: ``S`` with its entrance and pair
  terms, ``p`` and ``p(i,j)`` re-estimated from the loans restricted to the
  items the layout places, and ``S / LB`` with the bound of section 6;
* the visit walk of MODEL.md 8.10 (:mod:`shelfplan.judge.visits`): for every
  session, the walk from the entrance to its books, nearest unvisited pick
  point first, and back to the entrance; compiled, ~20k sessions take
  milliseconds. It is the figure a plan is judged by first.

Loans of items the layout does not place are counted and left out of both
figures (never silently); feasibility (spacing, hall) is checked too.
Everything here is numpy; the CLI only formats :meth:`Evaluation.to_dict`.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from shelfplan.model.bound import lower_bound
from shelfplan.errors import LayoutError
from shelfplan.model.estimate import Estimates, estimate, incidence
from shelfplan.layout import Layout, read_layout
from shelfplan.ingest.loans import Loans, filter_until, read_loans
from shelfplan.ingest.options import level_options  # noqa: F401  (imported from here too)
from shelfplan.model.objective import min_spacing, near_pairs, walking_cost
from shelfplan.model.problem import Problem
from shelfplan.judge.shelved import plan_cost, plan_feasibility
from shelfplan.judge.visits import point_visit_walks, summarise, table_visit_walks

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------
# inputs


def as_layout(layout) -> tuple[Layout, str]:
    """A :class:`Layout` and a display name from a path or a layout object."""
    if isinstance(layout, Layout):
        return layout, getattr(layout, "name", None) or "layout"
    return read_layout(layout), os.fspath(layout)


def prepare_loans(loans, *, since=None, until=None, read_options: dict | None = None,
                  layouts=()) -> Loans:
    """Read (unless already :class:`Loans`) and keep loans in ``[since, until)``.

    Loans are read at the level the ``layouts`` place (items, titles or
    category blocks) and, for blocks, with the categories the layout was fitted
    with, unless ``read_options`` say otherwise; a level that differs from a
    layout's is an error.
    """
    opts = level_options(read_options, layouts)
    if not isinstance(loans, Loans):
        loans = read_loans(loans, **opts)
    want = opts.get("level")
    if want is not None and loans.level != want:
        raise LayoutError(f"the loans are read at level {loans.level!r} but the layout places "
                          f"{want!r} units; read them with --level {want}")
    return filter_until(loans, until=until, since=since)


def coverage(loans: Loans, items) -> dict:
    """How much of ``loans`` concerns items in ``items`` (the layout's ids).

    Returns counts of the items in the loans that are missing from ``items``,
    the loans (rows) and sessions they account for, and how many of ``items``
    were not borrowed at all in these loans.
    """
    t = loans.table
    units = loans.units()
    placed = pd.Index(pd.unique(np.asarray(items, dtype=object)))
    inside = units.isin(placed).to_numpy()
    loan_items = pd.unique(units)
    missing_items = pd.Index(loan_items).difference(placed)
    sess_in = pd.unique(t.loc[inside, "session"])
    n_sessions = int(t["session"].nunique())
    touched = int(t.loc[~inside, "session"].nunique())
    return {
        "items_in_loans": int(len(loan_items)),
        "items_missing": int(len(missing_items)),
        "missing_examples": sorted(map(str, missing_items))[:5],
        "loans": int(len(t)),
        "loans_missing": int((~inside).sum()),
        "share_loans_missing": float((~inside).mean()) if len(t) else 0.0,
        "sessions": n_sessions,
        "sessions_touched": touched,
        "sessions_dropped": n_sessions - int(len(sess_in)),
        "layout_items": int(len(placed)),
        "layout_items_unborrowed": int(len(placed.difference(pd.Index(loan_items)))),
    }


def restrict(loans: Loans, items) -> Loans:
    """The loans of the items in ``items`` only (other rows dropped)."""
    keep = loans.units().isin(pd.Index(np.asarray(items, dtype=object))).to_numpy()
    return Loans(table=loans.table.loc[keep].reset_index(drop=True),
                 session_rule=loans.session_rule, source=loans.source,
                 n_rows_read=loans.n_rows_read, dropped=dict(loans.dropped),
                 has_category=loans.has_category, n_patrons=loans.n_patrons,
                 columns=dict(loans.columns), level=loans.level,
                 category_source=loans.category_source, title_col=loans.title_col)


def date_span(loans: Loans) -> list[str] | None:
    if "timestamp" not in loans.table or loans.table.empty:
        return None
    t = loans.table["timestamp"]
    return [f"{t.min():%Y-%m-%d}", f"{t.max():%Y-%m-%d}"]


# ---------------------------------------------------------------------------
# the figures


def attributable(X: np.ndarray, p: np.ndarray, pair: sp.spmatrix, e: np.ndarray) -> np.ndarray:
    """Walking attributable to each book: ``p(i)||v_i - e|| + sum_j p(i,j)||v_i - v_j||``.

    Sums to ``S`` over the books; ``pair`` is the directed sparse p(i,j).
    """
    P = sp.coo_matrix(pair)
    a = p * np.linalg.norm(X - e, axis=1)
    if P.nnz:
        d = np.linalg.norm(X[P.row] - X[P.col], axis=1)
        a = a + np.bincount(P.row, weights=P.data * d, minlength=len(p))
    return a


def feasibility(layout: Layout) -> dict:
    """Spacing and hall checks of MODEL.md section 4, with counts of what fails
    (for category blocks, the checks of :mod:`shelfplan.solve.blocks`)."""
    X = np.asarray(layout.positions, dtype=float)
    hall = layout.hall
    if layout.shelved:
        return plan_feasibility(layout)
    if layout.radius is not None:
        from shelfplan.solve.blocks import check
        out = check(X, layout.radius, hall)
        ms = min_spacing(X)
        return {"feasible": out["feasible"], "min_spacing": ms if np.isfinite(ms) else None,
                "d_min": float(hall.d_min), "pairs_too_close": out["blocks_overlapping"],
                "outside_hall": out["outside_hall"]}
    tol = hall.d_min * (1 - 1e-3)
    close = near_pairs(X, tol)
    inside = hall.contains(X)
    ms = min_spacing(X)
    return {
        "feasible": bool(len(close) == 0 and inside.all()),
        "min_spacing": ms if np.isfinite(ms) else None,
        "d_min": float(hall.d_min),
        "pairs_too_close": int(len(close)),
        "outside_hall": int((~inside).sum()),
    }


# ---------------------------------------------------------------------------
# the result


@dataclass
class Evaluation:
    """A layout judged on loans. ``items``/``index``/``per_item`` cover the books
    both placed and borrowed; ``walks`` has one entry per session that kept at
    least one placed book."""

    name: str
    layout: Layout
    estimates: Estimates
    index: np.ndarray          # rows of layout.items for estimates.items
    cost: dict
    lower_bound: dict
    per_item: np.ndarray
    walks: np.ndarray
    session_sizes: np.ndarray
    coverage: dict
    feasibility: dict
    loans: dict = field(default_factory=dict)

    @property
    def items(self) -> np.ndarray:
        return self.estimates.items

    @property
    def ratio(self) -> float | None:
        lb = self.lower_bound.get("total") or 0.0
        return self.cost["total"] / lb if lb > 0 else None

    @property
    def walk(self) -> dict:
        return summarise(self.walks)

    def to_dict(self) -> dict:
        return {
            "layout": self.name,
            "hall": self.layout.hall.name,
            "layout_items": int(self.layout.n),
            "loans": self.loans,
            "coverage": self.coverage,
            "walk": self.walk,
            "cost": dict(self.cost),
            "lower_bound": dict(self.lower_bound),
            "s_over_lb": self.ratio,
            "feasibility": self.feasibility,
        }


def evaluate_loans(layout: Layout, loans: Loans, *, name: str = "layout",
                   period: dict | None = None) -> Evaluation:
    """Evaluate ``layout`` on already read and filtered ``loans``."""
    cov = coverage(loans, layout.items)
    if cov["items_missing"]:
        log.warning("%s: %d of the %d items in the loans (%.1f %% of loans) are not in the "
                    "layout; left out of the figures", name, cov["items_missing"],
                    cov["items_in_loans"], 100 * cov["share_loans_missing"])
    if cov["loans_missing"] == cov["loans"]:
        raise LayoutError(
            f"{name}: none of the {cov['items_in_loans']} items in {loans.source} is in the "
            f"layout (e.g. {', '.join(cov['missing_examples'][:3])}); check that the layout "
            f"and the loans are for the same library and use the same item ids")
    kept = restrict(loans, layout.items)
    est = estimate(kept)
    X_inc, _, _, _ = incidence(kept, units=True)
    pos_index = layout.index()
    index = np.array([pos_index[str(i)] for i in est.items], dtype=np.int64)
    X = np.asarray(layout.positions, dtype=float)[index]
    e = layout.hall.entrance
    if layout.shelved:
        cost, per_item, lb = plan_cost(layout, est, index)
        walks = table_visit_walks(layout.shelf["loc"][index], layout.hall.stacks.distances(),
                                  X_inc.indptr, X_inc.indices)
    else:
        per_item = attributable(X, est.p, est.pair, e)
        cost = walking_cost(X, Problem.from_estimates(est, layout.hall))
        lb = lower_bound(est.p, est.pair, layout.hall.d_min, layout.hall.height)
        walks = point_visit_walks(X, e, X_inc.indptr, X_inc.indices, rank=index)
    info = {"source": loans.source, "session_rule": loans.session_rule,
            "loans": int(len(loans.table)), "sessions": cov["sessions"],
            "span": date_span(loans)}
    info.update({k: v for k, v in (period or {}).items() if v is not None})
    return Evaluation(name=name, layout=layout, estimates=est, index=index, cost=cost,
                      lower_bound=lb, per_item=per_item, walks=walks,
                      session_sizes=np.diff(X_inc.indptr), coverage=cov,
                      feasibility=feasibility(layout), loans=info)


def period_info(since, until) -> dict:
    fmt = (lambda d: None if d is None else pd.Timestamp(d).strftime("%Y-%m-%d"))
    return {"since": fmt(since), "until": fmt(until)}


def evaluate(layout, loans, *, since=None, until=None, read_options: dict | None = None,
             name: str | None = None) -> Evaluation:
    """Walking cost and visit walks of ``layout`` (path or :class:`Layout`) on ``loans``
    (path, ``-`` or :class:`Loans`), using only loans in ``[since, until)``.

        >>> ev = evaluate("proposal.json", "loans.csv", since="2025-01-01")
        >>> ev.cost["total"], ev.walk["p90"]
    """
    lay, default_name = as_layout(layout)
    data = prepare_loans(loans, since=since, until=until, read_options=read_options,
                         layouts=[lay])
    return evaluate_loans(lay, data, name=name or default_name, period=period_info(since, until))
