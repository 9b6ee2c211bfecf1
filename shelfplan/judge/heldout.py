"""Held-out judging: split loans by time, judge on the part a layout never saw.

* :func:`split_date`, :func:`time_split`: one fit-period / judge-period split
  (the last ``share`` of the period is judged; cut at a midnight so no visit
  is split);
* :func:`rolling_splits`: ``k`` splits whose judge windows tile the last
  ``share`` of the period, each fitted on everything before its window;
* :func:`judge_start`, :func:`saw_judge_period`: where ``compare`` starts
  judging (a layout's recorded ``estimation.until``, else the split date) and
  whether a layout was fitted on loans of that period (its figures are then
  in sample, and labelled so);
* :func:`tune`: the tuning loop of ``fit --tune``: for each candidate set of
  estimation options, fit a quick layout on each split's fit period and
  score it by its S on the judge period (MODEL.md estimates of the later
  loans, as ``evaluate --since`` does), averaged over the splits.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from shelfplan.errors import LoansError, ParameterError
from shelfplan.ingest.loans import Loans, filter_until
from shelfplan.judge.evaluate import coverage, evaluate_loans

#: Share of the period that is judged when no layout records its fit period.
HOLDOUT_SHARE = 0.2
#: ``fit --tune`` leaves the MODEL.md default only for a candidate that beats it on every
#: split and by at least this share on average, or by the default's own spread between
#: seeds when that is larger: two seeds of the same fit differ by 0.5-3 % in held-out S
#: (benchmarks/heldout.py), so smaller gains are noise.
TUNE_MARGIN = 0.01


def has_dates(loans: Loans) -> bool:
    return "timestamp" in loans.table and not loans.table.empty


def _span(loans: Loans) -> tuple[pd.Timestamp, pd.Timestamp]:
    t = loans.table["timestamp"]
    return t.min(), t.max()


def _span_text(loans: Loans) -> str:
    lo, hi = _span(loans)
    return f"{lo:%Y-%m-%d} to {hi:%Y-%m-%d}"


def _check_share(share: float) -> float:
    if not (isinstance(share, (int, float)) and 0 < share < 1):
        raise ParameterError(f"`holdout` must be a share between 0 and 1 (e.g. 0.2), "
                             f"got {share!r}")
    return float(share)


def _need_dates(loans: Loans, what: str) -> None:
    if not has_dates(loans):
        raise LoansError(f"{loans.source}: {what} needs loans with dates (a timestamp column); "
                         f"name it with --time-col")


def split_date(loans: Loans, share: float = HOLDOUT_SHARE) -> pd.Timestamp:
    """The midnight at which the last ``share`` of the loans' period begins."""
    _check_share(share)
    _need_dates(loans, "a time split")
    lo, hi = _span(loans)
    return (lo + (1 - share) * (hi - lo)).ceil("D")


def time_split(loans: Loans, until=None, share: float = HOLDOUT_SHARE,
               ) -> tuple[Loans, Loans, pd.Timestamp]:
    """(fit-period loans before the cut, judge-period loans from it on, the cut); the cut is
    ``until`` when given, else :func:`split_date`. A side left empty is an error."""
    _need_dates(loans, "a time split")
    cut = pd.Timestamp(until) if until is not None else split_date(loans, share)
    t = loans.table["timestamp"]
    for side, empty in (("fit", not (t < cut).any()), ("judge", not (t >= cut).any())):
        if empty:
            raise LoansError(f"{loans.source}: the split at {cut:%Y-%m-%d} leaves no loans to "
                             f"{side} on (loans span {_span_text(loans)}); choose a date "
                             f"inside the period")
    return filter_until(loans, until=cut), filter_until(loans, since=cut), cut


def rolling_splits(loans: Loans, k: int = 2, share: float = HOLDOUT_SHARE,
                   ) -> list[tuple[Loans, Loans, pd.Timestamp]]:
    """``k`` splits: judge windows tiling the last ``share`` of the period (midnight cuts),
    each fitted on all loans before its window. Empty sides are errors."""
    if not (isinstance(k, (int, np.integer)) and k >= 1):
        raise ParameterError(f"`tune_folds` must be 1 or more, got {k!r}")
    _check_share(share)
    _need_dates(loans, "a time split")
    lo, hi = _span(loans)
    cuts = [(lo + (1 - share * (k - f) / k) * (hi - lo)).ceil("D") for f in range(k)]
    cuts.append(hi + pd.Timedelta(1, "ns"))
    out = []
    for f in range(k):
        fit_part, judge_part, cut = time_split(loans, until=cuts[f])
        if cuts[f + 1] <= cut:
            raise LoansError(f"{loans.source}: {k} splits of the last {share:.0%} of the period "
                             f"({_span_text(loans)}) leave a judge window empty; use fewer "
                             f"splits or a larger share")
        judge_part = filter_until(judge_part, until=cuts[f + 1])
        out.append((fit_part, judge_part, cut))
    return out


def judge_start(layouts, loans: Loans, share: float = HOLDOUT_SHARE,
                ) -> tuple[pd.Timestamp, str]:
    """Where held-out judging starts, and why: the latest ``estimation.until`` the layouts
    record (they were fitted with ``--until``), else the last ``share`` of the period."""
    recorded = [pd.Timestamp(lay.estimation["until"]) for lay in layouts
                if lay.estimation.get("until")]
    if recorded:
        return max(recorded), "the proposals' fit period ends (fit --until)"
    return split_date(loans, share), f"the last {100 * share:.0f} % of the period"


def saw_judge_period(layout, cut: pd.Timestamp) -> bool:
    """Whether ``layout`` was estimated from loans on or after ``cut`` (an imported
    layout without loans never was)."""
    est = layout.estimation or {}
    if (layout.solver or {}).get("method") == "import-positions":
        return False                      # today's shelving: placed without the loans
    if not est.get("loans") and not est.get("source"):
        return False
    until = est.get("until")
    return until is None or pd.Timestamp(until) > cut


def coverage_share(loans: Loans, items) -> float:
    """Share of ``loans`` whose books are among ``items`` (the plan holds them)."""
    return 1.0 - coverage(loans, items)["share_loans_missing"]


# ---------------------------------------------------------------------------
# the tuning loop


def candidates(has_classes: bool, days: float, visit_pairs: bool = False) -> list[dict]:
    """The options tried, one knob at a time (the MODEL.md default first); the best
    knob values are then tried together (:func:`tune`). ``visit_pairs``: also the pair
    weight of the visits objective and the weight of books never borrowed
    (``visit_unseen``; model/visit_weights.py)."""
    out = [{}]
    if visit_pairs:
        out += [{"visit_pairs": a} for a in (0.5, 2.0)]
        out += [{"visit_unseen": a} for a in (0.5, 1.0)]
    if has_classes:
        out += [{"category": a} for a in (0.5, 2.0)]
        out += [{"neighbours": a} for a in (0.5, 2.0)]
        out += [{"popularity": b} for b in (0.5, 2.0)]
    out += [{"half_life": round(days * f, 1)} for f in (0.25, 1.0) if days * f >= 1]
    return out


def score(options: dict, splits, hall, quick, seeds=(0,)) -> dict:
    """Held-out S (and mean visit walk, coverage) of quick layouts fitted with ``options``
    on each split's fit period, one per seed; ``per_split_S`` is the mean over the seeds
    of each split, ``held_out_S`` the mean over the splits. Every candidate gets the
    same seeds (common random numbers), so their differences are not seed noise.
    ``per_split_walk`` and ``held_out_walk`` are the same for the mean visit walk."""
    s, walk, cov = np.zeros((len(splits), len(seeds))), np.zeros((len(splits), len(seeds))), []
    for f, (fit_part, judge_part, _) in enumerate(splits):
        for k, seed in enumerate(seeds):
            lay = quick(fit_part, options, hall, seed)
            ev = evaluate_loans(lay, judge_part, name="tune")
            s[f, k] = ev.cost["total"]
            walk[f, k] = ev.walk["mean"]
        cov.append(coverage_share(judge_part, lay.items))
    return {"options": dict(options), "held_out_S": float(s.mean()),
            "walk_mean": float(walk.mean()), "coverage": float(np.mean(cov)),
            "per_split_S": [float(x) for x in s.mean(axis=1)],
            "per_seed_S": [[float(x) for x in row] for row in s],
            "held_out_walk": float(walk.mean()),
            "per_split_walk": [float(x) for x in walk.mean(axis=1)],
            "per_seed_walk": [[float(x) for x in row] for row in walk]}


def seed_noise(rec: dict, by: str = "S") -> float:
    """The relative spread of one candidate's held-out S (``by`` "walk": mean visit walk)
    between its seeds, averaged over the splits (0 with one seed): how much of a
    difference the solver alone makes."""
    s = np.asarray(rec.get(f"per_seed_{by}") or [[x] for x in rec[f"per_split_{by}"]],
                   dtype=float)
    if s.shape[1] < 2:
        return 0.0
    return float(np.mean((s.max(axis=1) - s.min(axis=1)) / s.mean(axis=1)))


def tune(loans: Loans, hall, quick, *, folds: int = 2, share: float = HOLDOUT_SHARE,
         seed: int = 0, seeds: int = 1, progress=None, by: str = "S",
         visit_pairs: bool = False) -> tuple[dict, list[dict]]:
    """Pick estimation options by time-based cross-validation on ``loans``.

    ``quick(loans, options, hall, seed)`` returns a layout fitted fast (the
    api passes a short solver run of fixed work). Each candidate is fitted with
    the seeds ``seed .. seed + seeds - 1`` on every split. Returns (best
    options, one record per candidate with its held-out S). The default is
    kept unless a candidate beats it (:func:`beats`: on every split, and by more
    than the margin and the default's own seed noise); the best single-knob
    winners are then tried together. ``by`` is the score: ``S`` (held-out S) or
    ``walk`` (held-out mean visit walk, MODEL.md 8.10); ``visit_pairs`` adds the
    visits objective's pair weight to the knobs.
    """
    if by not in ("S", "walk"):
        raise ParameterError(f"`by` must be S or walk, got {by!r}")
    key = f"held_out_{by}"
    _need_dates(loans, "`tune`")
    if not (isinstance(seeds, (int, np.integer)) and seeds >= 1):
        raise ParameterError(f"`tune_seeds` must be 1 or more, got {seeds!r}")
    import logging
    quiet = logging.getLogger("shelfplan")
    level = quiet.level
    splits = rolling_splits(loans, folds, share)
    lo, hi = _span(loans)
    days = (hi - lo) / pd.Timedelta(1, "D")
    seed_list = tuple(int(seed) + k for k in range(int(seeds)))
    tried: list[dict] = []

    def run(opts):
        t0 = time.monotonic()
        quiet.setLevel(logging.ERROR)        # coverage warnings of every split, once is enough
        try:
            rec = score(opts, splits, hall, quick, seed_list)
        finally:
            quiet.setLevel(level)
        rec["seconds"] = round(time.monotonic() - t0, 1)
        tried.append(rec)
        if progress:
            progress(f"tune: {_label(opts):<32} held-out visit walk {rec['walk_mean']:.2f} m, "
                     f"S {rec['held_out_S']:.4f} m (coverage {100 * rec['coverage']:.0f} %)")
        return rec

    for opts in candidates(loans.has_category, days, visit_pairs):
        run(opts)
    base = tried[0]
    margin = max(TUNE_MARGIN, seed_noise(base, by))
    best_per_knob: dict = {}
    for rec in tried[1:]:
        (knob, value), = rec["options"].items()
        if beats(rec, base, margin, by) and rec[key] < best_per_knob.get(knob, (0, np.inf))[1]:
            best_per_knob[knob] = (value, rec[key])
    if len(best_per_knob) > 1:
        run({k: v for k, (v, _) in best_per_knob.items()})
    for rec in tried:
        rec["beats_default"] = rec is not base and beats(rec, base, margin, by)
    base["margin"] = margin
    winners = [r for r in tried if r["beats_default"]] or [base]
    best = min(winners, key=lambda r: (r[key], len(r["options"])))
    if progress:
        progress(f"tune: chosen {_label(best['options'])} (a candidate must beat the default "
                 f"on every split and by {100 * margin:.1f} %)")
    return dict(best["options"]), tried


def beats(rec: dict, base: dict, margin: float = TUNE_MARGIN, by: str = "S") -> bool:
    """Better than ``base`` on every split and by more than ``margin`` on average (see
    TUNE_MARGIN; :func:`tune` raises it to the default's seed noise); ``by`` S or walk."""
    every = all(a < b for a, b in zip(rec[f"per_split_{by}"], base[f"per_split_{by}"]))
    return every and rec[f"held_out_{by}"] < (1 - margin) * base[f"held_out_{by}"]


def _label(opts: dict) -> str:
    if not opts:
        return "MODEL.md default"
    return ", ".join(f"{k.replace('_', '-')} {v:g}{'d' if k == 'half_life' else ''}"
                     for k, v in opts.items())
