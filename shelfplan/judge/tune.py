"""``fit --tune``: pick the estimation options by time-based cross-validation.

:func:`tune_options` takes the loans and a *fit callable* only: ``quick(part,
options, hall, seed)`` returns a layout fitted fast from the loans ``part`` with the
estimation options ``options`` (the api passes a search of fixed work). The
loans (before ``until``) are split by time (:func:`shelfplan.judge.heldout.tune`);
every candidate gets a quick layout per split and seed, judged by its held-out S.
"""

from __future__ import annotations

from shelfplan.errors import LayoutError
from shelfplan.ingest.loans import Loans, filter_until, read_loans
from shelfplan.judge.heldout import rolling_splits, tune

__all__ = ["tune_options", "TUNE_SEEDS"]

#: ``fit --tune``: seeds per candidate and split (the same for every candidate)
TUNE_SEEDS = 2


def tune_options(loans, quick, hall, options, *, read_options=None, seeds: int = TUNE_SEEDS):
    """(the loans read, the chosen estimation options, a record of every candidate's
    held-out S); ``hall``: the final fit's hall (the quick layouts are made in it);
    ``options``: the fit's :class:`~shelfplan.solve.options.FitOptions` (``until``,
    ``seed``, ``tune_folds``, ``tune_time``, ``progress``)."""
    if not isinstance(loans, Loans):
        loans = read_loans(loans, **(read_options or {}))
    data = filter_until(loans, until=options.until)
    seed = options.seed if isinstance(options.seed, int) else 0
    folds = options.tune_folds
    if "timestamp" not in data.table:
        raise LayoutError(f"`tune` needs loans with dates (a timestamp column) to split by "
                          f"time; {data.source} has none: name it with --time-col, or drop "
                          f"`tune`")
    visits = options.objective.name == "visits"
    by = "walk" if visits else "S"
    chosen, tried = tune(data, hall, quick, folds=folds, seed=seed, seeds=seeds,
                         progress=options.progress, by=by, visit_pairs=visits)
    cuts = [f"{c:%Y-%m-%d}" for _, _, c in rolling_splits(data, folds)]
    record = {"chosen": chosen, "folds": folds, "cuts": cuts, "quick_seconds": options.tune_time,
              "seeds": [seed + k for k in range(seeds)],
              "margin": tried[0]["margin"],
              "score": (("mean held-out visit walk (MODEL.md 8.10)" if visits else
                         "mean held-out S (MODEL.md estimates of each judge window)")
                        + " of quick layouts fitted before the window, the same seeds for "
                          "every candidate"),
              "candidates": tried}
    return loans, chosen, record
