"""The library API behind every command: one call per job.

    from shelfplan.api import fit
    layout = fit("data/loans.csv", hall="data/hall.json", seed=0)
    write_layout(layout, "layout.json")
"""

from __future__ import annotations

import time

import numpy as np

from shelfplan.solve.baselines import baseline_layout
from shelfplan.model.bound import lower_bound
from shelfplan.errors import LayoutError
from shelfplan.model.estimate import Estimates, estimate_loans
from shelfplan.model.hall import Hall, check_capacity, default_hall, load_hall
from shelfplan.layout import Layout, as_written, hall_difference, read_layout
from shelfplan.ingest.loans import Loans, filter_until, read_loans
from shelfplan.model.objective import is_feasible, min_spacing, walking_cost
from shelfplan.model.problem import Problem
from shelfplan.model.visit_weights import Objective, split_options
from shelfplan.solve.items import solve

#: How many of the strongest co-borrowed pairs a layout file keeps (for drawing edges).
STORED_PAIRS = 500


def load_problem(loans, hall=None, *, until=None, read_options: dict | None = None,
                 generalise=None) -> tuple[Estimates, Problem]:
    """Loans (path, ``-``, or :class:`Loans`) and a hall (path, :class:`Hall` or None)
    to estimates and a problem, with the capacity checked. ``generalise``: the
    estimation options of :mod:`shelfplan.model.shrink` (None: MODEL.md)."""
    est = estimate_loans(loans, until=until, read_options=read_options, generalise=generalise)
    books = est.n if est.sizes is None else int(est.sizes.sum())
    if hall is None:
        hall = default_hall(books) if est.sizes is None else _block_hall(est.sizes, books)
    elif not isinstance(hall, Hall):
        hall = load_hall(hall)
    check_capacity(hall, books)
    problem = Problem.from_estimates(est, hall)
    if problem.blocks:
        from shelfplan.solve.blocks import check_room
        check_room(problem.radius, hall)
    return est, problem


def _block_hall(sizes: np.ndarray, books: int) -> Hall:
    """The default hall for category blocks: the default shape, grown until twice the
    blocks' disc area fits (a greedy packing of discs leaves gaps) and the largest
    block has room."""
    from shelfplan.solve.blocks import block_radius, room_for

    headroom = 3.0
    while True:
        hall = default_hall(books, headroom=headroom)
        if room_for(block_radius(sizes, hall), hall, slack=2.0):
            return hall
        headroom *= 1.5


def make_layout(problem: Problem, est: Estimates, X: np.ndarray, solver: dict) -> Layout:
    """Wrap positions into a :class:`Layout` with cost, bound and spacing; must be feasible."""
    hall = problem.hall
    X = as_written(X)
    if problem.blocks:
        from shelfplan.solve.blocks import is_feasible as blocks_feasible
        ok = blocks_feasible(X, problem.radius, hall)
    else:
        ok = is_feasible(X, hall)
    if not ok:
        raise LayoutError("internal: refusing to write an infeasible layout")
    pairs = est.top_pairs(STORED_PAIRS)
    return Layout(
        hall=hall, items=problem.items, positions=X, p=problem.p,
        categories=problem.categories,
        objective=walking_cost(X, problem),
        lower_bound=lower_bound(est.p, est.pair, hall.d_min, hall.height),
        min_spacing=min_spacing(X),
        estimation=est.summary,
        solver=solver,
        pairs=list(zip(pairs["item_a"], pairs["item_b"], pairs["p_pair"])),
        sizes=problem.sizes if problem.blocks else None,
        radius=problem.radius,
    )


def fit(loans, hall=None, *, seed: int = 0, time_limit: float = 50.0, init: str = "auto",
        kicks: int | None = None, until=None, read_options: dict | None = None,
        current=None, move_cost: float = 0.0, max_moves: int | None = None,
        progress=None, generalise=None, tune: bool = False, tune_time: float = 10.0,
        tune_folds: int = 2, holdings=None, keep_order: str = "none",
        display: dict | None = None, method: str = "constrained",
        started: float | None = None, objective=None) -> Layout:
    """Loans to an optimised, feasible layout (``shelfplan fit``).

    With ``current`` (a layout file or :class:`Layout` of today's shelving),
    the proposal is incremental: ``move_cost`` (per metre a book moves) is
    added to the objective and ``max_moves`` caps how many books move. Books
    in the current layout that the loans never mention stay in the problem
    with p = 0; books only in the loans are placed on free sites.
    ``time_limit`` caps the whole call, reading the loans included.

    A hall with ``stacks`` makes the layout a shelving plan (every book of
    ``holdings``, a holdings file or :class:`~shelfplan.ingest.holdings.Holdings`,
    in a slot; :mod:`shelfplan.shelf`).

    ``generalise`` (a :class:`shelfplan.model.shrink.Generalise` or dict:
    ``category``, ``neighbours``, ``popularity``, ``half_life``) estimates p and
    p(i,j) so that they generalise; ``tune`` picks them by time-based
    cross-validation on the loans (:func:`tune_options`; ``tune_folds`` splits,
    ``tune_time`` seconds at most per quick layout, on top of ``time_limit``).

    ``objective``: ``walk`` (S_walk, MODEL.md 8.4, the default) or ``visits`` (the
    mean visit walk of a random picking order, weights from the loans' visit sizes;
    :mod:`shelfplan.model.visit_weights`), for halls with stacks; with ``tune`` the
    visits objective's knobs are tuned too, by the held-out mean visit walk.

    ``method``: ``constrained`` (MODEL.md sections 3-5) or an embedding turned into a
    layout, ``sne``, ``tsne`` or ``skipgram`` (MODEL.md section 7,
    :mod:`shelfplan.solve.embed`; docs/embeddings.md).

    ``started``: the ``time.monotonic()`` at which the clock of ``time_limit`` started
    (default: this call), so that a caller's own work (the CLI's imports, which
    load or compile the solver's kernels) comes out of the limit too.
    """
    t_start = time.monotonic() if started is None else float(started)
    if max_moves is not None and max_moves < 0:
        raise LayoutError(f"`max_moves` must be 0 or more, got {max_moves}")
    if move_cost < 0:
        raise LayoutError(f"`move_cost` must be 0 or more, got {move_cost}")
    if (max_moves is not None or move_cost) and current is None:
        raise LayoutError("`move_cost` and `max_moves` need `current` (today's layout)")
    hall = _hall(hall)
    objective = Objective.coerce(objective)
    visits_only = LayoutError("`objective` visits is for shelving plans: it needs a hall with "
                              "stacks and the constrained method")
    if objective.name != "walk" and method != "constrained":
        raise visits_only
    if method != "constrained":
        return fit_embedded(method, loans, hall, holdings=holdings, seed=seed,
                            time_limit=time_limit, until=until, read_options=read_options,
                            generalise=generalise, init=init != "auto", kicks=kicks is not None,
                            current=current is not None, move_cost=bool(move_cost),
                            max_moves=max_moves is not None, tune=tune,
                            keep_order=keep_order != "none" or bool(display))
    if hall is None and current is not None:
        if not isinstance(current, Layout):
            current = read_layout(current)
        hall = current.hall if current.shelved else None
    if _stacked(hall, holdings, read_options, current=current, max_moves=max_moves,
                move_cost=move_cost, tune=tune, keep_order=keep_order):
        from shelfplan.shelf import fit_plan
        tuning = None
        if tune:
            loans, generalise, tuning = tune_options(
                loans, hall, until=until, read_options=read_options, seed=seed,
                tune_time=tune_time, folds=tune_folds, progress=progress, holdings=holdings,
                objective=objective)
            generalise, objective = split_options(generalise, objective)
            t_start = time.monotonic()
        left = max(1.0, time_limit - (time.monotonic() - t_start))
        layout = fit_plan(loans, hall, holdings=holdings, seed=seed, time_limit=left,
                          kicks=kicks, until=until, read_options=read_options,
                          progress=progress, generalise=generalise, keep_order=keep_order,
                          display=display, current=current, max_moves=max_moves,
                          objective=objective)
        return _with_tuning(layout, tuning)
    if objective.name != "walk":
        raise visits_only
    if keep_order != "none":
        raise LayoutError("`keep_order` blocks keeps call-number runs on shelves: it needs a "
                          "hall with stacks (for halls without, use `level` category)")
    tuning = None
    if tune:
        loans, generalise, tuning = tune_options(
            loans, hall, until=until, read_options=read_options, seed=seed,
            tune_time=tune_time, folds=tune_folds, progress=progress)
        t_start = time.monotonic()
    anchor = None
    if current is not None:
        if not isinstance(current, Layout):
            current = read_layout(current)
        if isinstance(loans, Loans):
            want = loans.level
        else:
            # the loans are read at the current layout's level (and, for category
            # blocks, with its categories) unless the options say otherwise
            from shelfplan.judge.evaluate import level_options
            want = (read_options or {}).get("level") or current.level
            if want == current.level:
                read_options = level_options(read_options, [current])
        if current.level != want:
            raise LayoutError(f"the current layout places {current.level!r} units but the "
                              f"loans are read at `level` {want}; use `level` "
                              f"{current.level} (or a current layout at level {want})")
        if hall is None:
            hall = current.hall
        est, base = load_problem(loans, hall, until=until, read_options=read_options,
                                 generalise=generalise)
        est = est.with_items(list(current.items),
                             None if current.categories is None else list(current.categories),
                             None if current.sizes is None else list(current.sizes))
        if est.sizes is not None and current.sizes is not None:
            # a block holds at least the books it holds today, however few were borrowed
            today = dict(zip(map(str, current.items), current.sizes))
            est.sizes = np.maximum(est.sizes, [int(today.get(str(i), 0)) for i in est.items])
        hall_obj = base.hall
        diff = hall_difference(hall_obj, current.hall)
        if diff:
            raise LayoutError(f"the current layout is for another hall than `hall` ({diff} "
                              f"differs); use the same hall (or omit `hall` to take the "
                              f"current layout's)")
        check_capacity(hall_obj, est.n if est.sizes is None else int(est.sizes.sum()))
        problem = Problem.from_estimates(est, hall_obj)
        where = current.index()
        anchor = np.full((problem.n, 3), np.nan)
        rows = [where.get(str(i), -1) for i in problem.items]
        have = np.array([r >= 0 for r in rows])
        anchor[have] = current.positions[np.array(rows)[have]]
    else:
        est, problem = load_problem(loans, hall, until=until, read_options=read_options,
                                    generalise=generalise)
    # the limit covers the whole call: reading and estimating come out of it, and
    # a second is kept for the bound and the layout file
    left = max(1.0, time_limit - (time.monotonic() - t_start) - 1.0)
    res = solve(problem, seed=seed, init=init, time_limit=left, kicks=kicks,
                current=anchor, move_cost=move_cost, max_moves=max_moves, progress=progress)
    layout = make_layout(problem, est, res.positions, res.info)
    if anchor is not None:
        _moves_as_written(layout, anchor, move_cost)
    return _with_tuning(layout, tuning)


def _with_tuning(layout: Layout, tuning: dict | None) -> Layout:
    """The tuning's record in the layout file (``solver.tuning``, ``estimation.tuning``)."""
    if tuning is not None:
        layout.solver["tuning"] = tuning
        layout.estimation["tuning"] = {k: tuning[k] for k in ("chosen", "folds", "cuts")}
    return layout


#: ``fit --tune``: seeds per candidate and split (the same for every candidate)
TUNE_SEEDS = 2
#: ... kicks of each quick shelving plan (fixed work, so a plan depends on its seed and
#: options only, not on how busy the machine is); ``tune_time`` only caps it
TUNE_PLAN_KICKS = 50


def tune_options(loans, hall=None, *, until=None, read_options: dict | None = None,
                 seed: int = 0, tune_time: float = 10.0, folds: int = 2, progress=None,
                 holdings=None, seeds: int = TUNE_SEEDS, objective=None):
    """``fit --tune``: (the loans read, the chosen estimation options, a record of every
    candidate's held-out S). The loans (before ``until``) are split by time
    (:func:`shelfplan.judge.heldout.tune`); each candidate gets a quick layout per split
    and seed in the final fit's hall: the item solver's site search from the
    popularity start to convergence (:func:`_quick_positions`), or on a hall with
    stacks a shelving plan (of ``holdings``) with ``TUNE_PLAN_KICKS`` kicks, judged by
    S_walk; ``tune_time`` seconds cap each. With ``objective`` visits the candidates
    include the visits objective's knobs (``visit_pairs``, ``visit_unseen``) and are
    judged by the held-out mean visit walk (MODEL.md 8.10) instead."""
    from shelfplan.judge.heldout import rolling_splits, tune

    if not (isinstance(tune_time, (int, float)) and tune_time > 0):
        raise LayoutError(f"`tune_time` must be more than 0 seconds, got {tune_time}")
    if not isinstance(loans, Loans):
        loans = read_loans(loans, **(read_options or {}))
    data = filter_until(loans, until=until)
    if "timestamp" not in data.table:
        raise LayoutError(f"`tune` needs loans with dates (a timestamp column) to split by "
                          f"time; {data.source} has none: name it with --time-col, or drop "
                          f"`tune`")
    hall = _hall(hall)
    objective = Objective.coerce(objective)
    if hall is not None and hall.stacks is not None:
        quick = _quick_plan(holdings, tune_time, objective)
    else:
        if hall is None:      # the final fit's default hall, so the quick layouts match it
            hall = load_problem(data)[1].hall

        def quick(part, options, hall_, seed_):
            est, problem = load_problem(part, hall_, generalise=options)
            return make_layout(problem, est, *_quick_positions(problem, seed_, tune_time))

    by = "walk" if objective.name == "visits" else "S"
    chosen, tried = tune(data, hall, quick, folds=folds, seed=seed, seeds=seeds,
                         progress=progress, by=by, visit_pairs=objective.name == "visits")
    cuts = [f"{c:%Y-%m-%d}" for _, _, c in rolling_splits(data, folds)]
    record = {"chosen": chosen, "folds": folds, "cuts": cuts, "quick_seconds": tune_time,
              "seeds": [seed + k for k in range(seeds)],
              "margin": tried[0]["margin"],
              "score": (("mean held-out visit walk (MODEL.md 8.10)" if by == "walk" else
                         "mean held-out S (MODEL.md estimates of each judge window)")
                        + " of quick layouts fitted before the window, the same seeds for "
                          "every candidate"),
              "candidates": tried}
    return loans, chosen, record


def _quick_positions(problem: Problem, seed: int, tune_time: float) -> tuple:
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
    return search.positions(), {"method": "tune: popularity start + site search", "seed": seed,
                                "stopped_by": "done" if done else "time limit",
                                "seconds": round(time.monotonic() - t0, 3)}


def _quick_plan(holdings, tune_time: float, objective=None):
    """The quick shelving plan of ``tune`` on a hall with stacks (holdings read once)."""
    from shelfplan.ingest.holdings import Holdings, read_holdings
    from shelfplan.shelf import fit_plan

    if holdings is not None and not isinstance(holdings, Holdings):
        holdings = read_holdings(holdings)

    def quick(part, options, hall_, seed_):
        options, obj = split_options(options, objective)
        return fit_plan(part, hall_, holdings=holdings, seed=seed_, time_limit=tune_time,
                        kicks=TUNE_PLAN_KICKS, generalise=options, objective=obj)
    return quick


def _moves_as_written(layout: Layout, anchor: np.ndarray, move_cost: float) -> None:
    """Books moved and metres moved, measured on the written positions (as S is)."""
    have = np.isfinite(anchor).all(axis=1)
    dist = np.linalg.norm(layout.positions[have] - anchor[have], axis=1)
    layout.solver.update(moved=int((dist > 1e-6).sum()), move_distance=float(dist.sum()),
                         objective_with_moves=layout.objective["total"]
                         + move_cost * float(dist.sum()))


def baseline(name: str, loans, hall=None, *, seed: int = 0, until=None,
             read_options: dict | None = None, holdings=None) -> Layout:
    """A baseline layout (``shelfplan baseline NAME``); on a stacked hall a shelving plan
    (``callnumber`` is today's shelving: the holdings in call-number order)."""
    hall = _hall(hall)
    if _stacked(hall, holdings, read_options):
        from shelfplan.shelf import plan_baseline
        return plan_baseline(name, loans, hall, holdings=holdings, seed=seed, until=until,
                             read_options=read_options)
    est, problem = load_problem(loans, hall, until=until, read_options=read_options)
    t0 = time.monotonic()
    X = baseline_layout(name, problem, seed=seed)
    info = {"method": f"baseline:{name}", "seed": seed, "iterations": 0,
            "seconds": round(time.monotonic() - t0, 3)}
    return make_layout(problem, est, X, info)


def _hall(hall):
    return hall if hall is None or isinstance(hall, Hall) else load_hall(hall)


def _stacked(hall, holdings, read_options, **incremental) -> bool:
    """True for a shelving plan; the options that do not apply to one are errors."""
    if hall is None or hall.stacks is None:
        if holdings is not None:
            raise LayoutError("`holdings` place every book on a shelf: they need a hall with "
                              "stacks (ranges and banks, docs/formats.md)")
        return False
    level = (read_options or {}).get("level") or "item"
    if level == "category" and incremental.get("keep_order") == "blocks":
        level = "item"
    if level != "item":
        raise LayoutError(f"a hall with stacks places single books; `level` {level} is for "
                          f"halls without stacks")
    if incremental.get("tune") and (incremental.get("keep_order", "none") != "none"
                                    or incremental.get("current") is not None):
        raise LayoutError("`tune` on a hall with stacks is for plans from scratch; drop "
                          "`keep_order` and `current`, or give the strengths a tuned fit chose")
    blocks = incremental.get("keep_order") == "blocks"
    if incremental.get("move_cost") or (not blocks and (
            incremental.get("current") is not None or incremental.get("max_moves") is not None)):
        raise LayoutError("incremental proposals on a hall with stacks move whole call-number "
                          "blocks: give `current`, `max_moves` and `keep_order` blocks "
                          "(`move_cost` is for halls without stacks)")
    return True


def fit_embedded(method: str, loans, hall=None, *, holdings=None, seed=0,
                 time_limit: float = 50.0, until=None, read_options=None, generalise=None,
                 dim=None, **given) -> Layout:
    """``fit(method=sne|tsne|skipgram)``: the layout of an embedding of the loans
    (:mod:`shelfplan.solve.embed`), a shelving plan on a hall with stacks; ``dim`` the
    embedding's dimension; ``given``: the solver options the caller set (errors here)."""
    from shelfplan.solve.embed import check_method, embed_plan, embed_positions

    t0 = time.monotonic()
    check_method(method, **given)
    hall = _hall(hall)
    if not isinstance(loans, Loans):
        loans = read_loans(loans, **(read_options or {}))
    loans = filter_until(loans, until=until)
    if _stacked(hall, holdings, read_options):
        from shelfplan.shelf import make_plan, shelf_problem
        est, problem = shelf_problem(loans, hall, holdings=holdings, until=until,
                                     generalise=generalise)
        vis = _visits(loans, problem.items)
        loc, info = embed_plan(method, problem, est, vis, dim=dim, seed=seed,
                               deadline=_deadline(t0, time_limit, time.monotonic()))
        return make_plan(problem, est, loc, info)
    est, problem = load_problem(loans, hall, until=until, generalise=generalise)
    if problem.blocks:
        raise LayoutError(f"`method` {method} places single books or titles; `level` "
                          f"category (blocks of books) needs `method` constrained")
    vis = _visits(loans, problem.items)
    X, info = embed_positions(method, problem, est, vis, dim=dim, seed=seed,
                              deadline=_deadline(t0, time_limit, time.monotonic()))
    return make_layout(problem, est, X, info)


def _deadline(t0: float, time_limit: float, now: float) -> float:
    """When an embedding must stop learning: the limit counts from the call ``t0``
    (reading the loans included); kept back for the assignment, the bound and the
    layout file are a second and 1.5 times the reading and estimating took until
    ``now`` (both grow with the books and with the load of the machine: measured,
    the assignment takes about as long as the reading). At least a second to learn."""
    return t0 + max(1.0, time_limit - 1.0 - 1.5 * (now - t0))


def _visits(loans: Loans, items) -> tuple[np.ndarray, np.ndarray]:
    """(session, 0-based book) of every loan; -1 for books outside ``items``."""
    import pandas as pd

    book = pd.Index(np.asarray(items, dtype=object)).get_indexer(
        loans.table["item"].astype(str))
    return loans.table["session"].to_numpy(np.int64), np.asarray(book, dtype=np.int64)
