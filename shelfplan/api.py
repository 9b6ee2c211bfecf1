"""The library API behind every command: one call per job.

    from shelfplan.api import fit
    layout = fit("data/loans.csv", hall="data/hall.json", seed=0)
    write_layout(layout, "layout.json")
"""

from __future__ import annotations

import time

import numpy as np

from .baselines import baseline_layout
from .bound import lower_bound
from .errors import LayoutError
from .estimate import Estimates, estimate
from .hall import Hall, check_capacity, default_hall, load_hall
from .layout import Layout
from .loans import Loans, filter_until, read_loans
from .objective import is_feasible, min_spacing, walking_cost
from .problem import Problem
from .solve import solve

#: How many of the strongest co-borrowed pairs a layout file keeps (for drawing edges).
STORED_PAIRS = 500


def load_problem(loans, hall=None, *, until=None, read_options: dict | None = None,
                 ) -> tuple[Estimates, Problem]:
    """Loans (path, ``-``, or :class:`Loans`) and a hall (path, :class:`Hall` or None)
    to estimates and a problem, with the capacity checked."""
    if not isinstance(loans, Loans):
        loans = read_loans(loans, **(read_options or {}))
    loans = filter_until(loans, until=until)
    est = estimate(loans)
    if until is not None:
        est.summary["until"] = str(until)
    if hall is None:
        hall = default_hall(est.n)
    elif not isinstance(hall, Hall):
        hall = load_hall(hall)
    check_capacity(hall, est.n)
    return est, Problem.from_estimates(est, hall)


def make_layout(problem: Problem, est: Estimates, X: np.ndarray, solver: dict) -> Layout:
    """Wrap positions into a :class:`Layout` with cost, bound and spacing; must be feasible."""
    hall = problem.hall
    if not is_feasible(X, hall):
        raise LayoutError("internal: refusing to write an infeasible layout")
    pairs = est.top_pairs(STORED_PAIRS)
    return Layout(
        hall=hall, items=problem.items, positions=np.asarray(X, dtype=float), p=problem.p,
        categories=problem.categories,
        objective=walking_cost(X, problem),
        lower_bound=lower_bound(est.p, est.pair, hall.d_min, hall.height),
        min_spacing=min_spacing(X),
        estimation=est.summary,
        solver=solver,
        pairs=list(zip(pairs["item_a"], pairs["item_b"], pairs["p_pair"])),
    )


def fit(loans, hall=None, *, seed: int = 0, time_limit: float = 60.0, init: str = "auto",
        until=None, read_options: dict | None = None, progress=None) -> Layout:
    """Loans to an optimised, feasible layout (``shelfplan fit``)."""
    est, problem = load_problem(loans, hall, until=until, read_options=read_options)
    res = solve(problem, seed=seed, init=init, time_limit=time_limit, progress=progress)
    return make_layout(problem, est, res.positions, res.info)


def baseline(name: str, loans, hall=None, *, seed: int = 0, until=None,
             read_options: dict | None = None) -> Layout:
    """A baseline layout (``shelfplan baseline NAME``)."""
    est, problem = load_problem(loans, hall, until=until, read_options=read_options)
    t0 = time.monotonic()
    X = baseline_layout(name, problem, seed=seed)
    info = {"method": f"baseline:{name}", "seed": seed, "iterations": 0,
            "seconds": round(time.monotonic() - t0, 3)}
    return make_layout(problem, est, X, info)
