"""The library API behind every command: one call per job.

    import shelfplan
    layout = shelfplan.fit("data/loans.csv", hall="data/hall.json", seed=0)
    shelfplan.write_layout(layout, "layout.json")

:func:`fit` takes its options as one :class:`~shelfplan.solve.options.FitOptions`
(or as keywords, which make one) and runs the one pipeline
(:mod:`shelfplan.pipeline`: build_problem -> solve -> to_layout).
"""

from __future__ import annotations

import time

import numpy as np

from shelfplan.errors import ParameterError
from shelfplan.layout import Layout
from shelfplan.model.visit_weights import split_options
from shelfplan.pipeline import Built, as_hall, fit_layout, load_problem, require_stacks, to_layout
from shelfplan.solve.baselines import baseline_layout
from shelfplan.solve.options import FitOptions
from shelfplan.solve.record import SolveResult

__all__ = ["fit", "baseline", "load_problem", "FitOptions"]

#: ... kicks of each quick shelving plan of ``tune`` (fixed work, so a plan depends on
#: its seed and options only, not on how busy the machine is)
TUNE_PLAN_KICKS = 50


def fit(loans, hall=None, options: FitOptions | dict | None = None, *, holdings=None,
        current=None, read_options=None, **kwargs) -> Layout:
    """Loans to an optimised, feasible layout (``shelfplan fit``).

    ``options``: a :class:`~shelfplan.solve.options.FitOptions` (or a dict); keywords
    (``seed=0, time_limit=10, ...``, the same names) make or amend one. Without a
    ``time_limit`` the search stops when it converges (at most 50 s); with one it uses
    the time, improving until the deadline. The limit covers the whole call, reading
    the loans included (``started``: when its clock started, default now).

    ``hall``: a hall file or :class:`~shelfplan.model.hall.Hall` (None: a default hall
    sized for the books). A hall with ``stacks`` makes the layout a shelving plan
    (every book of ``holdings``, a holdings file or
    :class:`~shelfplan.ingest.holdings.Holdings`, in a slot; :mod:`shelfplan.shelf`).

    ``current`` (a layout file or :class:`Layout` of today's shelving) makes the
    proposal incremental: ``move_cost`` (per metre a book moves) is added to the
    objective and ``max_moves`` caps how many books move; books in the current layout
    that the loans never mention stay with p = 0.

    ``generalise`` (estimation options, :class:`shelfplan.model.shrink.Generalise`)
    estimates p and p(i,j) so that they generalise; ``tune`` picks them by time-based
    cross-validation (:mod:`shelfplan.judge.tune`; its quick layouts have their own
    budget, ``tune_time`` seconds each, before the fit's clock starts).

    ``objective``: ``walk`` (S_walk, MODEL.md 8.4, the default) or ``visits`` (the mean
    visit walk of a random picking order, weights from the loans' visit sizes;
    :mod:`shelfplan.model.visit_weights`), for halls with stacks; with ``tune`` the
    visits objective's knobs (``visit_pairs``, ``visit_unseen``) are tuned too, by the
    held-out mean visit walk.

    ``method``: ``constrained`` (MODEL.md sections 3-5) or an embedding turned into a
    layout, ``sne``, ``tsne`` or ``skipgram`` (MODEL.md section 7; docs/embeddings.md).
    """
    options = FitOptions.coerce(options, **kwargs)
    _check(options, current)
    tuning = None
    if options.tune:
        loans, chosen, tuning = _tune(loans, hall, options, holdings, read_options)
        chosen, objective = split_options(chosen, options.objective)
        options = options.replace(generalise=chosen, objective=objective,
                                  started=time.monotonic())
    layout = fit_layout(loans, hall, options, holdings=holdings, read_options=read_options,
                        current=current)
    if tuning is not None:
        layout.solver["tuning"] = tuning
        layout.estimation["tuning"] = {k: tuning[k] for k in ("chosen", "folds", "cuts")}
    return layout


def _check(options: FitOptions, current) -> None:
    """The rules between options and inputs (each checked here, once)."""
    if (options.max_moves is not None or options.move_cost) and current is None:
        raise ParameterError("`move_cost` and `max_moves` need `current` (today's layout)")
    if options.method != "constrained":
        from shelfplan.solve.embed import check_method
        check_method(options.method, init=options.init != "auto",
                     kicks=options.kicks is not None, current=current is not None,
                     move_cost=bool(options.move_cost), max_moves=options.max_moves is not None,
                     tune=options.tune,
                     keep_order=options.keep_order != "none" or bool(options.display))


def _tune(loans, hall, options: FitOptions, holdings, read_options):
    """``tune``: the quick fit in the final fit's hall, then the judge's cross-validation."""
    from shelfplan.judge.tune import tune_options

    hall = as_hall(hall)
    seconds = options.tune_time
    if hall is not None and hall.stacks is not None:
        from shelfplan.ingest.holdings import Holdings, read_holdings
        if holdings is not None and not isinstance(holdings, Holdings):
            holdings = read_holdings(holdings)

        def quick(part, chosen, hall_, seed_):
            chosen, objective = split_options(chosen, options.objective)
            quick_options = FitOptions(seed=seed_, kicks=TUNE_PLAN_KICKS, generalise=chosen,
                                       time_limit=seconds, converge=True, objective=objective)
            return fit_layout(part, hall_, quick_options, holdings=holdings)
    else:
        def quick(part, chosen, hall_, seed_):
            est, problem = load_problem(part, hall_, generalise=chosen)
            return to_layout(Built(est, problem), _quick_positions(problem, seed_, seconds))

    if hall is None:      # the final fit's default hall, so the quick layouts match it
        from shelfplan.ingest.loans import Loans, filter_until, read_loans
        if not isinstance(loans, Loans):
            loans = read_loans(loans, **(read_options or {}))
        hall = load_problem(filter_until(loans, until=options.until))[1].hall
    return tune_options(loans, quick, hall, options, read_options=read_options)


def _quick_positions(problem, seed: int, tune_time: float) -> SolveResult:
    """The quick layout of ``tune`` in a free hall: the popularity start and the item
    solver's site search to convergence (no continuation, annealing or kicks: fixed
    work for a seed), ``tune_time`` seconds at most."""
    from shelfplan.solve.ils import SiteSearch, site_pool
    from shelfplan.solve.starts import popularity_start

    t0, hall, s = time.monotonic(), problem.hall, problem.hall.sites()
    by_distance = s[np.lexsort((*s[:, ::-1].T, np.linalg.norm(s - hall.entrance, axis=1)))]
    search = SiteSearch(problem, site_pool(popularity_start(problem, by_distance[:problem.n]),
                                           by_distance, hall.d_min))
    done = search.converge(seed, deadline=t0 + tune_time)
    return SolveResult(plan=search.positions(),
                       info={"method": "tune: popularity start + site search", "seed": seed,
                             "stopped_by": "done" if done else "time limit",
                             "seconds": round(time.monotonic() - t0, 3)})


def baseline(name: str, loans, hall=None, *, seed: int = 0, until=None,
             read_options=None, holdings=None, shelving=None) -> Layout:
    """A baseline layout (``shelfplan baseline NAME``); on a stacked hall a shelving plan
    (``callnumber`` is today's shelving: the holdings in call-number order; with growth
    space in ``shelving``, :class:`~shelfplan.solve.fill.ShelvingOptions`, that order
    with the room)."""
    hall = as_hall(hall)
    if hall is not None and hall.stacks is not None:
        from shelfplan.shelf import plan_baseline
        est, problem, result = plan_baseline(name, loans, hall, holdings=holdings, seed=seed,
                                             until=until, read_options=read_options,
                                             shelving=shelving)
        return to_layout(Built(est, problem), result)
    require_stacks(hall, holdings=holdings, shelving=shelving)
    est, problem = load_problem(loans, hall, until=until, read_options=read_options)
    t0 = time.monotonic()
    X = baseline_layout(name, problem, seed=seed)
    info = {"method": f"baseline:{name}", "seed": seed, "iterations": 0,
            "seconds": round(time.monotonic() - t0, 3)}
    return to_layout(Built(est, problem), SolveResult(plan=X, info=info))
