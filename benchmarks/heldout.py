"""Held-out evaluation: fit on the past, judge on the future it did not see.

For each data set the loans are split by time (the last ``--holdout`` share of
the period is judged, cut at midnight; or ``--split DATE``). On the loans
before the split this fits the MODEL.md default (``fit``), a tuned fit
(``fit --tune``: estimation options chosen by time-based cross-validation on
those loans only), the same default fit with another seed (the solver's noise)
and the popularity and call-number baselines, all in one free hall (the
default rectangular hall sized with ``--headroom`` lattice sites per item) or,
with ``--halls stacked``, as shelving plans in a hall with stacks (the sample's
data/stacked_hall.json and data/holdings.csv; for the other sets a hall sized
for every book of the loans and holdings of those books, :func:`stacked_setting`);
then all are compared on the later loans (``compare --since``) and, for
contrast, on the fitting loans (in sample). The load average is recorded
before and after each set (the machine may be shared).

Data sets: ``epub`` (../shared/data/epub_wu, series as categories),
``sample`` (data/loans.csv) and ``drift`` (synthetic: the package's generator
twice on the same catalogue, a share of the books swapped to other topics
in the second run, and the sessions moving from the first run to the second
linearly over the period: topics that drift).

    python benchmarks/heldout.py --sets epub sample drift --halls free stacked \
        --time-limit 10 --out heldout-out --json benchmarks/results/heldout_results.json
    python benchmarks/heldout.py LOANS.csv --split 2007-01-01   # one file

The same with the CLI, for one data set:

    shelfplan fit LOANS --until CUT --hall OUT/hall.json -o OUT/fit.json
    shelfplan fit LOANS --until CUT --tune --hall OUT/hall.json -o OUT/tuned.json
    shelfplan baseline callnumber LOANS --until CUT --hall OUT/hall.json -o OUT/callnumber.json
    shelfplan compare OUT/callnumber.json OUT/fit.json OUT/tuned.json ... --loans LOANS
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from shelfplan.api import baseline, fit
from shelfplan.ingest.loans import filter_until, read_loans
from shelfplan.ingest.synth import generate_loans
from shelfplan.judge.compare import compare
from shelfplan.judge.heldout import split_date
from shelfplan.layout import atomic_write, write_layout
from shelfplan.model.hall import default_hall, hall_from_dict, load_hall

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_walk import stacked_hall  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
#: ../shared next to the checkout (a worktree under wt/ looks one level further up)
SHARED = next((p for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared") if p.is_dir()),
              ROOT.parent / "shared")
SETS = {"epub": str(SHARED / "data" / "epub_wu" / "loans.csv"),
        "sample": str(ROOT / "data/loans.csv")}


def drift_loans(path: str, n_items: int = 600, share: float = 0.3, seed: int = 0) -> str:
    """Write the drifting synthetic loans to ``path``: run A and run B of the generator
    on one catalogue (A's categories and call numbers), B with ``share`` of the
    books' ids permuted among themselves (they change topic); a session of day d
    of D comes from B with probability d / D."""
    days = 540
    a = generate_loans(n_items, seed=seed, days=days)
    b = generate_loans(n_items, seed=seed, days=days)   # the same library ...
    rng = np.random.default_rng(seed + 1)
    ids = np.array(sorted(set(a["item_id"]) | set(b["item_id"])), dtype=object)
    moved = rng.choice(ids, size=int(share * len(ids)), replace=False)
    swap = dict(zip(moved, rng.permutation(moved)))      # ... whose moved books change topic
    b["item_id"] = b["item_id"].map(lambda i: swap.get(i, i))
    b["patron_id"] = "b" + b["patron_id"]
    cat = pd.concat([a, b]).drop_duplicates("item_id").set_index("item_id")
    out = []
    t0 = pd.Timestamp(a["timestamp"].min()).normalize()
    for k, frame in enumerate((a, b)):
        day = pd.to_datetime(frame["timestamp"]).dt.normalize()
        frac = ((day - t0).dt.days / days).to_numpy()
        key = (frame["patron_id"] + day.astype(str)).to_numpy()
        u = pd.util.hash_array(key.astype(object)) % 10_000 / 10_000.0
        keep = (u >= frac) if k == 0 else (u < frac)
        out.append(frame.loc[keep])
    df = pd.concat(out).sort_values("timestamp", kind="stable")
    df["category"] = df["item_id"].map(cat["category"]).to_numpy()
    df["call_number"] = df["item_id"].map(cat["call_number"]).to_numpy()
    df.to_csv(path, index=False)
    return path


def stacked_setting(name: str, path: str, out: str):
    """(a hall with stacks, a holdings file) for a set: the sample's own, else a hall
    sized for every book of the loans (``bench_walk.stacked_hall``: ~1.5 slots a book,
    40 a location) and holdings of every book of the loans (call number = the loans'
    call number, else category + id), so every later loan's book has a slot."""
    if name == "sample":
        return load_hall(ROOT / "data" / "stacked_hall.json"), str(ROOT / "data/holdings.csv")
    d = pd.read_csv(path, dtype=str, keep_default_na=False).drop_duplicates("item_id")
    cat = d["category"] if "category" in d else pd.Series([""] * len(d), index=d.index)
    call = (d["call_number"] if "call_number" in d else
            pd.Series([f"{c} {i}" if c else i for c, i in zip(cat, d["item_id"])], index=d.index))
    hold = os.path.join(out, "holdings.csv")
    pd.DataFrame({"item_id": d["item_id"], "call_number": call, "category": cat}
                 ).sort_values("item_id").to_csv(hold, index=False)
    spec = stacked_hall(max(10, int(np.ceil(1.5 * len(d) / 40))))
    for st in spec["stacks"]:
        st.update(shelves=4, books_per_shelf=10)
    spec["name"] = f"stacks for {len(d)} books (benchmarks/heldout.py)"
    return hall_from_dict(spec, source="heldout"), hold


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run_set(name: str, path: str, args, out: str, stacked: bool = False) -> dict:
    loans = read_loans(path, level=args.level)
    cut = pd.Timestamp(args.split) if args.split else split_date(loans, args.holdout)
    train = filter_until(loans, until=cut)
    os.makedirs(out, exist_ok=True)
    holdings = None
    if stacked:
        hall, holdings = stacked_setting(name, path, out)
    else:
        hall = default_hall(int(train.table["item"].nunique()), headroom=args.headroom)
    atomic_write(os.path.join(out, "hall.json"), lambda fh: json.dump(hall.to_dict(), fh))
    load_before = load_average()
    T, h = args.time_limit, holdings
    lays, secs = {}, {}
    for label, make in (
            ("callnumber", lambda: baseline("callnumber", loans, hall, until=cut, holdings=h)),
            ("popularity", lambda: baseline("popularity", loans, hall, until=cut, holdings=h)),
            ("fit", lambda: fit(loans, hall, seed=args.seed, time_limit=T, until=cut,
                                holdings=h)),
            ("fit-seed1", lambda: fit(loans, hall, seed=args.seed + 1, until=cut,
                                      time_limit=T, holdings=h)),
            ("tuned", lambda: fit(loans, hall, seed=args.seed, time_limit=T, holdings=h,
                                  until=cut, tune=True, tune_time=args.tune_time,
                                  tune_folds=args.folds))):
        t0 = time.monotonic()
        lays[label] = make()
        secs[label] = round(time.monotonic() - t0, 1)
    files = []
    for label, lay in lays.items():
        f = os.path.join(out, f"{label}.json")
        write_layout(lay, f)
        files.append(f)
    held = compare(files, loans, since=cut)
    seen = compare(files, loans, until=cut)
    rows = []
    for k, label in enumerate(lays):
        h, s = held.evaluations[k], seen.evaluations[k]
        rows.append({"layout": label, "held_out_S": h.cost["total"],
                     "held_out_walk_mean": h.walk["mean"],
                     "held_out_walk_p50": h.walk["p50"], "held_out_walk_p90": h.walk["p90"],
                     "coverage": 1 - held.coverage[k]["share_loans_missing"],
                     "in_sample_S": s.cost["total"], "in_sample_walk_mean": s.walk["mean"],
                     "seconds": secs[label]})
    tuning = lays["tuned"].solver["tuning"]
    return {"set": name, "hall": "stacked" if stacked else "free", "loans": path,
            "holdings": holdings, "load_average": [load_before, load_average()],
            "margin": tuning["margin"], "cut": f"{cut:%Y-%m-%d}",
            "train_loans": int(len(train.table)), "judge_loans": held.basis["loans_all"],
            "judged_loans_used": held.basis["loans_used"], "items": int(lays["fit"].n),
            "chosen": tuning["chosen"], "candidates": tuning["candidates"], "rows": rows}


def markdown(res: dict) -> str:
    rows = {r["layout"]: r for r in res["rows"]}
    best_base = min(rows["callnumber"]["held_out_S"], rows["popularity"]["held_out_S"])
    lines = [f"**{res['set']}, {res['hall']} hall** ({res['items']} books; fit on "
             f"{res['train_loans']} loans before "
             f"{res['cut']}, judged on {res['judged_loans_used']} of {res['judge_loans']} later "
             f"loans; tuned: {res['chosen'] or 'MODEL.md default'}, margin "
             f"{100 * res['margin']:.1f} %; load average {res['load_average'][0]} before, "
             f"{res['load_average'][1]} after)", "",
             "| layout | held-out visit walk mean (m) | median | 90th pct | held-out S (m) "
             "| vs fit | coverage | in-sample S (m) | seconds |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    s_fit = rows["fit"]["held_out_S"]
    for r in res["rows"]:
        walk = " | ".join("-" if r.get(f"held_out_walk_{q}") is None else
                          f"{r[f'held_out_walk_{q}']:.2f}" for q in ("mean", "p50", "p90"))
        lines.append(f"| {r['layout']} | {walk} | {r['held_out_S']:.4f} | "
                     f"{100 * (r['held_out_S'] - s_fit) / s_fit:+.1f} % | "
                     f"{100 * r['coverage']:.1f} % | "
                     f"{r['in_sample_S']:.4f} | {r['seconds']:g} |")
    t = rows["tuned"]["held_out_S"]
    lines += ["", f"tuned vs fit: {100 * (t - s_fit) / s_fit:+.2f} %; tuned vs best baseline: "
                  f"{100 * (t - best_base) / best_base:+.1f} %"]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", nargs="+", default=["epub", "sample", "drift"],
                    choices=["epub", "sample", "drift"])
    ap.add_argument("loans", nargs="?", help="one loans file instead of --sets")
    ap.add_argument("--level", choices=("item", "title", "category"), default="item",
                    help="what is placed (category: whole categories as blocks)")
    ap.add_argument("--split", help="judge from this date [default: the last --holdout]")
    ap.add_argument("--holdout", type=float, default=0.2, help="share of the period judged")
    ap.add_argument("--time-limit", type=float, default=10.0, help="seconds per fit")
    ap.add_argument("--tune-time", type=float, default=10.0,
                    help="seconds at most per quick layout")
    ap.add_argument("--folds", type=int, default=2, help="rolling splits for --tune")
    ap.add_argument("--drift-share", type=float, default=0.3,
                    help="drift set: share of books that change topic")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--headroom", type=float, default=4.0,
                    help="hall size: lattice sites per item (fit's default hall uses 2)")
    ap.add_argument("--halls", nargs="+", default=["free"], choices=["free", "stacked"],
                    help="free: the default rectangular hall; stacked: a hall with stacks "
                         "and holdings (MODEL.md section 8)")
    ap.add_argument("--out", default="heldout-out", help="directory for layouts")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    todo = [("loans", args.loans)] if args.loans else [
        (s, SETS.get(s) or drift_loans(os.path.join(args.out, "drift_loans.csv"),
                                       share=args.drift_share, seed=args.seed))
        for s in args.sets]
    fit(SETS["sample"], time_limit=2)             # numba's kernels compiled before any timing
    if "stacked" in args.halls:
        fit(SETS["sample"], ROOT / "data" / "stacked_hall.json", time_limit=2,
            holdings=str(ROOT / "data/holdings.csv"))
    results = []
    for hall in args.halls:
        for name, path in todo:
            res = run_set(name, path, args, os.path.join(args.out, hall, name),
                          stacked=hall == "stacked")
            results.append(res)
            print(markdown(res), "\n", flush=True)
            if args.json:         # after every set: a long run keeps what it measured
                atomic_write(args.json, lambda fh: json.dump(results, fh, indent=1))
                atomic_write(os.path.splitext(args.json)[0] + ".md", lambda fh: fh.write(
                    "\n\n".join(markdown(r) for r in results) + "\n"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
