"""Compare layouts of one hall on the same loans (``shelfplan compare``).

The first layout is the reference (usually today's shelving). For each
layout this gives the figures of :mod:`shelfplan.judge.evaluate`, the change
against the first in %, the relocation effort (how many books move and how
far), and the books whose attributable walking
``p(i)||v_i - e|| + sum_j p(i,j)||v_i - v_j||`` grows or shrinks the most.

All layouts are judged on the *same* loans: those of the items that every
layout places. Loans of other items are counted per layout and left out of
every figure, so a % change never mixes different loans.

Held out by default: when the loans have dates and no period is given, the
figures are those of the judge period (:func:`shelfplan.judge.heldout.judge_start`:
from the latest ``--until`` the layouts record, else the last 20 % of the
period); a layout fitted on loans of that period is labelled in sample, and
the figures on all the loans (the in-sample ones, as before) come along in
:attr:`Comparison.in_sample`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from shelfplan.errors import LayoutError
from shelfplan.ingest.loans import filter_until
from shelfplan.judge.evaluate import (Evaluation, period_info, as_layout, coverage, evaluate_loans,
                       prepare_loans, restrict)
from shelfplan.judge.heldout import (HOLDOUT_SHARE, has_dates, judge_start, saw_judge_period,
                                     time_split)
from shelfplan.layout import Layout, hall_difference

log = logging.getLogger(__name__)

#: A book counts as moved when its position changes by more than this (metres).
#: 1 mm: far above the 1e-6 m rounding of layout files and CSV exports, far
#: below any real relocation.
MOVE_TOLERANCE = 1e-3


@dataclass
class Moves:
    """Relocation from layout ``a`` to layout ``b`` for the books both place."""

    items: np.ndarray
    start: np.ndarray        # (m, 3) positions in a
    end: np.ndarray          # (m, 3) positions in b
    distance: np.ndarray     # (m,) metres
    added: int               # books b places and a does not
    removed: int             # books a places and b does not
    tolerance: float = MOVE_TOLERANCE

    @property
    def moved(self) -> np.ndarray:
        return self.distance > self.tolerance

    def to_dict(self) -> dict:
        d = self.distance[self.moved]
        return {
            "books_common": int(len(self.items)),
            "books_moved": int(len(d)),
            "share_moved": float(len(d) / len(self.items)) if len(self.items) else 0.0,
            "total_m": float(d.sum()),
            "p90_m": float(np.percentile(d, 90)) if len(d) else 0.0,
            "max_m": float(d.max()) if len(d) else 0.0,
            "books_added": self.added,
            "books_removed": self.removed,
            "tolerance_m": self.tolerance,
        }


def moves(a: Layout, b: Layout, tolerance: float = MOVE_TOLERANCE) -> Moves:
    """Which books move from ``a`` to ``b`` and how far (vectorised over books)."""
    ia = pd.Index(np.asarray(a.items, dtype=object).astype(str))
    ib = pd.Index(np.asarray(b.items, dtype=object).astype(str))
    common = ia.intersection(ib, sort=False)
    pa = np.asarray(a.positions, dtype=float)[ia.get_indexer(common)]
    pb = np.asarray(b.positions, dtype=float)[ib.get_indexer(common)]
    return Moves(items=np.asarray(common, dtype=object), start=pa, end=pb,
                 distance=np.linalg.norm(pb - pa, axis=1),
                 added=int(len(ib) - len(common)), removed=int(len(ia) - len(common)),
                 tolerance=float(tolerance))


def book_changes(before: Evaluation, after: Evaluation, mv: Moves | None = None) -> pd.DataFrame:
    """Attributable walking per borrowed book under two layouts, biggest change first.

    Both evaluations must be on the same loans (same items). Columns: item,
    category, p, before, after, change (after - before, metres per borrowed
    book) and moved_m.
    """
    if not np.array_equal(before.items, after.items):
        raise LayoutError("internal: book_changes needs evaluations on the same loans")
    est = before.estimates
    df = pd.DataFrame({
        "item": before.items.astype(str),
        "category": est.categories if est.categories is not None else None,
        "p": est.p,
        "before": before.per_item,
        "after": after.per_item,
    })
    df["change"] = df["after"] - df["before"]
    if mv is not None:
        dist = pd.Series(mv.distance, index=pd.Index(mv.items.astype(str)))
        df["moved_m"] = dist.reindex(df["item"]).to_numpy()
    return df.sort_values(["change", "item"], ascending=[False, True]).reset_index(drop=True)


@dataclass
class Comparison:
    """Layouts judged on the same loans; index 0 is the reference."""

    names: list[str]
    evaluations: list[Evaluation]
    coverage: list[dict]                 # each layout against all the loans
    basis: dict                          # the loans every layout is judged on
    moves: list[Moves | None]            # against the first (None for the first)
    changes: list[pd.DataFrame | None]   # book_changes against the first
    same_hall: bool = True
    hall_note: list[str] = field(default_factory=list)
    top: int = 5
    #: "held-out" (the default with dates), "period" (--since/--until given),
    #: "in-sample" (asked for) or "no-dates" (nothing can be held out)
    mode: str = "period"
    split: dict | None = None            # held-out: cut, why, share
    saw: list[bool] = field(default_factory=list)   # layout fitted on judged loans
    in_sample: "Comparison | None" = None           # held-out: the figures on all loans

    def label(self, k: int) -> str:
        """'held out' or 'in sample': whether layout k saw the judged loans."""
        return "in sample" if self.saw and self.saw[k] else "held out"

    @property
    def layouts(self) -> list[Layout]:
        return [ev.layout for ev in self.evaluations]

    def metrics(self) -> list[tuple[str, str, list]]:
        """(key, label, value per layout) for the comparison table."""
        evs = self.evaluations
        # the visit walk first (MODEL.md 8.10: what patrons walk), then S (the model's)
        rows = [(f"walk_{key}", label, [e.walk[key] for e in evs])
                for key, label in (("mean", "visit walk, mean (m)"),
                                   ("p50", "visit walk, median (m)"),
                                   ("p90", "visit walk, 90th pct (m)"))]
        rows += [
            ("S", "walking cost S (m)", [e.cost["total"] for e in evs]),
            ("entrance_term", "  entrance term (m)", [e.cost["entrance_term"] for e in evs]),
            ("pair_term", "  pair term (m)", [e.cost["pair_term"] for e in evs]),
            ("s_over_lb", "S / lower bound", [e.ratio for e in evs]),
        ]
        return rows

    def change(self, values: list) -> list[float | None]:
        """Change of each value against the first, in %."""
        v0 = values[0]
        return [None if (v is None or not v0) else 100.0 * (v - v0) / v0 for v in values]

    def top_changes(self, k: int, n: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(books with the most walking added, books with the most saved) for layout k."""
        n = self.top if n is None else n
        df = self.changes[k]
        worse = df[df["change"] > 0].head(n)
        better = df[df["change"] < 0].sort_values(["change", "item"]).head(n)
        return worse.reset_index(drop=True), better.reset_index(drop=True)

    def to_dict(self) -> dict:
        out = {"reference": self.names[0], "basis": self.basis,
               "same_hall": self.same_hall, "hall_notes": self.hall_note,
               "mode": self.mode, "split": self.split, "layouts": []}
        rows = self.metrics()
        for k, ev in enumerate(self.evaluations):
            rec = ev.to_dict()
            rec["coverage"] = self.coverage[k]
            rec["figures"] = self.label(k)
            rec["coverage_share"] = 1.0 - self.coverage[k]["share_loans_missing"]
            rec["change_pct"] = {key: self.change(vals)[k] for key, _, vals in rows}
            if k > 0:
                rec["moves"] = self.moves[k].to_dict()
                worse, better = self.top_changes(k)
                rec["most_walking_added"] = _records(worse)
                rec["most_walking_saved"] = _records(better)
                rec["books_with_less_walking"] = int((self.changes[k]["change"] < 0).sum())
                rec["books_with_more_walking"] = int((self.changes[k]["change"] > 0).sum())
            out["layouts"].append(rec)
        if self.in_sample is not None:
            out["in_sample"] = self.in_sample.to_dict()
        return out


def _records(df: pd.DataFrame) -> list[dict]:
    recs = []
    for r in df.to_dict(orient="records"):
        recs.append({k: (None if isinstance(v, float) and not np.isfinite(v) else
                         (float(v) if isinstance(v, (float, np.floating)) else v))
                     for k, v in r.items()})
    return recs


def compare(layouts, loans, *, since=None, until=None, read_options: dict | None = None,
            names: list[str] | None = None, allow_different_halls: bool = False,
            move_tolerance: float = MOVE_TOLERANCE, top: int = 5, in_sample: bool = False,
            holdout: float = HOLDOUT_SHARE) -> Comparison:
    """Compare ``layouts`` (paths or :class:`Layout`, the first is the reference) on
    ``loans`` in ``[since, until)``.

    With neither ``since`` nor ``until`` and loans with dates, the figures are
    held out (see the module's docstring; ``holdout`` is the share of the
    period judged when no layout records its fit period); ``in_sample`` judges
    on all the loans instead, as before.

        >>> c = compare(["current.json", "proposed.json"], "loans.csv", since="2025-01-01")
        >>> c.to_dict()["layouts"][1]["change_pct"]["S"]
    """
    if len(layouts) < 2:
        raise LayoutError("compare needs at least two layouts (the current one first)")
    loaded = [as_layout(x) for x in layouts]
    lays = [lay for lay, _ in loaded]
    names = list(names) if names else [n for _, n in loaded]
    if len(set(names)) < len(names):   # same file twice, or objects without names
        names = [f"{n} [{k + 1}]" for k, n in enumerate(names)]

    notes = []
    for k in range(1, len(lays)):
        diff = hall_difference(lays[0].hall, lays[k].hall)
        if diff:
            notes.append(f"{names[k]} is for a different hall than {names[0]} ({diff} differs)")
    if notes and not allow_different_halls:
        raise LayoutError(f"{notes[0]}; compare layouts of one hall, or pass "
                          f"--allow-different-halls to compare them anyway")
    for n in notes:
        log.warning("%s; moves are measured in each file's own coordinates", n)

    data = prepare_loans(loans, read_options=read_options, layouts=lays)
    opts = dict(move_tolerance=move_tolerance, top=top, notes=notes)
    if since is not None or until is not None or in_sample or not has_dates(data):
        mode = ("period" if since is not None or until is not None else
                "in-sample" if in_sample else "no-dates")
        cmp = _judge(lays, names, filter_until(data, until=until, since=since),
                     period_info(since, until), **opts)
        cmp.mode = mode
        start = pd.Timestamp(since) if since is not None else pd.Timestamp.min
        cmp.saw = [saw_judge_period(lay, start) for lay in lays]
        return cmp
    cut, why = judge_start(lays, data, holdout)
    _, later, _ = time_split(data, until=cut)
    cmp = _judge(lays, names, later, period_info(cut, None), **opts)
    cmp.mode = "held-out"
    cmp.split = {"since": f"{cut:%Y-%m-%d}", "why": why, "share": holdout}
    cmp.saw = [saw_judge_period(lay, cut) for lay in lays]
    cmp.in_sample = _judge(lays, names, data, period_info(None, None), **opts)
    cmp.in_sample.mode = "in-sample"
    cmp.in_sample.saw = [saw_judge_period(lay, pd.Timestamp.min) for lay in lays]
    return cmp


def _judge(lays: list[Layout], names: list[str], data, period: dict, *, move_tolerance: float,
           top: int, notes: list[str]) -> Comparison:
    """The layouts judged on ``data`` (already read and filtered)."""
    covs = [coverage(data, lay.items) for lay in lays]
    common = pd.Index(np.asarray(lays[0].items, dtype=object).astype(str))
    for lay in lays[1:]:
        common = common.intersection(pd.Index(np.asarray(lay.items, dtype=object).astype(str)))
    basis_cov = coverage(data, common)
    if basis_cov["loans_missing"] == basis_cov["loans"]:
        raise LayoutError(f"none of the loans in {data.source} is of a book that every layout "
                          f"places; check that the layouts and loans use the same item ids")
    if basis_cov["items_missing"]:
        log.warning("%d items in the loans (%.1f %% of loans) are missing from at least one "
                    "layout; left out of every figure", basis_cov["items_missing"],
                    100 * basis_cov["share_loans_missing"])
    kept = restrict(data, common)
    evs = [evaluate_loans(lay, kept, name=name, period=period) for lay, name in zip(lays, names)]
    for ev, cov in zip(evs, covs):
        ev.coverage = cov
    mvs: list[Moves | None] = [None]
    chg: list[pd.DataFrame | None] = [None]
    for k in range(1, len(lays)):
        mv = moves(lays[0], lays[k], move_tolerance)
        mvs.append(mv)
        chg.append(book_changes(evs[0], evs[k], mv))
    basis = {
        "source": data.source,
        "since": period["since"], "until": period["until"],
        "loans_all": basis_cov["loans"],
        "loans_used": basis_cov["loans"] - basis_cov["loans_missing"],
        "share_loans_left_out": basis_cov["share_loans_missing"],
        "items_left_out": basis_cov["items_missing"],
        "items_common": int(len(common)),
        "sessions_used": evs[0].walk["sessions"],
        "span": evs[0].loans.get("span"),
        "session_rule": data.session_rule,
    }
    return Comparison(names=names, evaluations=evs, coverage=covs, basis=basis, moves=mvs,
                      changes=chg, same_hall=not notes, hall_note=notes, top=top)
