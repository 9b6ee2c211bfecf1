"""Plans judged by the walks patrons make (issue 21): the visit walk, held out.

For each loan set, hall shape and time split, on the loans before the cut:
popularity slotting (``baseline popularity``), today's ``fit`` (S_walk) and
``fit --objective visits``, each fit with ``--seeds`` seeds; with ``--tune``
also ``fit --objective visits --tune`` (the visits objective's pair weight, the
weight of books never borrowed and the estimation options, p(j|i) shrunk
towards the class level among them, chosen on rolling splits of the fit period
only, judged by the held-out visit walk; seed 0, the options chosen then fitted
with the other seeds too), on each split. Every plan
is judged by the visit walk of MODEL.md 8.10 (mean, median, 90th percentile) and
S_walk, on the later loans (held out) and on the loans it was fitted on (in
sample). Figures are medians over the seeds, with
their spread (min-max).

Loan sets: ``epub`` (../shared/data/epub_wu), ``sample`` (data/loans.csv) and
``drift`` (built: the package's generator twice on one catalogue, 30 % of the
books changing topic over the period; benchmarks/heldout.py). Holdings hold
every book of the whole loan set, so every later loan's book has a slot.

Hall shapes (about 1.5 slots a book, 40 a location; the sample uses its own
data/stacked_hall.json for ``branch``):

- ``branch``: banks of double-faced ranges in a block, a wall range, the
  entrance in the middle of the front wall (benchmarks/bench_walk.py);
- ``corridor``: ranges in banks of 4 side by side in one long row, the entrance
  at the front-left corner.

``--dead R`` is a control for the weight of never-borrowed books
(``visit_unseen``): R never-borrowed books per book join the holdings (in the
categories of random books), so that most unborrowed books stay unborrowed, as
in a real library.

    python benchmarks/bench_visits.py --sets epub sample drift --shapes branch corridor \
        --shares 0.2 0.4 --seeds 3 --time-limit 8 --tune --tune-time 3 \
        --json benchmarks/results/visits_results.json
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
from shelfplan.judge.evaluate import evaluate_loans
from shelfplan.judge.heldout import split_date
from shelfplan.layout import atomic_write
from shelfplan.model.hall import hall_from_dict, load_hall
from shelfplan.model.visit_weights import split_options

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_walk import stacked_hall  # noqa: E402
from heldout import ROOT, SETS, drift_loans, load_average, stacked_setting  # noqa: E402

FIGS = ("mean", "p50", "p90")


def corridor_hall(books: int) -> dict:
    """Double-faced ranges of 5 sections in banks of 4, the banks side by side in one
    row, the entrance at the front-left corner."""
    n_ranges = max(3, int(np.ceil(1.5 * books / 40 / 10)))
    per_bank, sections, bay = 4, 5, 0.9
    n_banks = -(-n_ranges // per_bank)
    bank_w, bank_h = sections * bay, per_bank * 1.6
    width = 2.0 + n_banks * (bank_w + 2.0) + 1.0
    height = 2.3 + bank_h + 3.0
    stacks = []
    left = n_ranges
    for k in range(n_banks):
        count = min(per_bank, left)
        left -= count
        stacks.append({"bank": f"B{k + 1}", "origin": [2.0 + k * (bank_w + 2.0), 2.3],
                       "ranges": count, "length": bank_w, "sections": sections})
    for st in stacks:
        st.update(shelves=4, books_per_shelf=10)
    return {"name": f"corridor for {books} books (benchmarks/bench_visits.py)",
            "footprint": [[0, 0], [width, 0], [width, height + 1.0], [0, height + 1.0]],
            "entrance": [1.0, 0.0], "stacks": stacks}


def setting(name: str, path: str, shape: str, out: str, dead: float = 0.0):
    """(hall, holdings file); ``dead`` > 0 adds that many never-borrowed books per book
    of the holdings (each in the category of a random book, seeded), the hall sized
    for all of them: a control for the weight given to unborrowed books."""
    hall, hold = stacked_setting(name, path, out)
    books = int(pd.read_csv(hold, dtype=str).shape[0])
    if dead > 0:
        h = pd.read_csv(hold, dtype=str, keep_default_na=False)
        rng = np.random.default_rng(0)
        k = int(round(dead * len(h)))
        cats = h["category"].to_numpy()[rng.integers(0, len(h), size=k)]
        ids = [f"dead_{j:05d}" for j in range(k)]
        extra = pd.DataFrame({"item_id": ids, "call_number": [f"{c} {i}" for c, i in
                                                               zip(cats, ids)],
                              "category": cats})
        hold = os.path.join(out, "holdings_dead.csv")
        pd.concat([h, extra]).to_csv(hold, index=False)
        books = len(h) + k
        if shape == "branch":
            spec = stacked_hall(max(10, int(np.ceil(1.5 * books / 40))))
            for st in spec["stacks"]:
                st.update(shelves=4, books_per_shelf=10)
            hall = hall_from_dict(spec, source="bench_visits")
    if shape == "corridor":
        hall = hall_from_dict(corridor_hall(books), source="bench_visits")
    return hall, hold


def judge(lay, loans) -> dict:
    ev = evaluate_loans(lay, loans, name="bench")
    w = ev.walk
    return {"mean": w["mean"], "p50": w["p50"], "p90": w["p90"], "S": ev.cost["total"],
            "sessions": w["sessions"],
            "coverage": 1 - ev.coverage["share_loans_missing"]}


def run_one(name, path, shape, share, args, out) -> dict:
    loans = read_loans(path)
    cut = split_date(loans, share)
    train, test = filter_until(loans, until=cut), filter_until(loans, since=cut)
    os.makedirs(out, exist_ok=True)
    hall, hold = setting(name, path, shape, out, args.dead)
    load0 = load_average()
    T = args.time_limit
    makers = [("popularity", 0, lambda s: baseline("popularity", loans, hall, until=cut,
                                                   holdings=hold))]
    for seed in range(args.seeds):
        makers.append(("fit", seed, lambda s: fit(loans, hall, seed=s, time_limit=T,
                                                  until=cut, holdings=hold)))
        makers.append(("visits", seed, lambda s: fit(loans, hall, seed=s, time_limit=T,
                                                     until=cut, holdings=hold,
                                                     objective="visits")))
    if args.tune:
        makers.append(("visits-tuned", 0, lambda s: fit(
            loans, hall, seed=s, time_limit=T, until=cut, holdings=hold, objective="visits",
            tune=True, tune_time=args.tune_time)))
    runs = []
    for label, seed, make in makers:
        t0 = time.monotonic()
        lay = make(seed)
        secs = round(time.monotonic() - t0, 1)
        rec = {"layout": label, "seed": seed, "seconds": secs,
               "held_out": judge(lay, test), "in_sample": judge(lay, train),
               "objective": lay.objective.get("objective", "walk")}
        tuning = lay.solver.get("tuning")
        if tuning:
            rec["chosen"] = tuning["chosen"]
            rec["candidates"] = [{k: c[k] for k in ("options", "held_out_S", "held_out_walk",
                                                     "per_split_walk", "beats_default")}
                                 for c in tuning["candidates"]]
        runs.append(rec)
        if tuning:            # the options chosen (on the fit period only), other seeds
            opts, obj = split_options(tuning["chosen"], "visits")
            for s in range(1, args.seeds):
                makers.append((label, s, lambda s, o=opts, b=obj: fit(
                    loans, hall, seed=s, time_limit=T, until=cut, holdings=hold,
                    generalise=o or None, objective=b)))
        print(f"  {name} {shape} {share} {label} seed {seed}: held-out mean "
              f"{rec['held_out']['mean']:.3f} median {rec['held_out']['p50']:.3f} p90 "
              f"{rec['held_out']['p90']:.3f} ({secs} s)", flush=True)
    return {"set": name if not args.dead else f"{name} +{args.dead:g} dead", "shape": shape,
            "share": share, "cut": f"{cut:%Y-%m-%d}", "holdings": int(len(pd.read_csv(hold))),
            "hall": hall.name, "locations": int(hall.stacks.n_locations),
            "slots": int(hall.stacks.n_slots), "train_loans": int(len(train.table)),
            "judge_loans": int(len(test.table)), "load_average": [load0, load_average()],
            "runs": runs}


def summary(res: dict, part: str = "held_out") -> dict:
    """{layout: {figure: (median over seeds, min, max)}}."""
    out = {}
    for label in dict.fromkeys(r["layout"] for r in res["runs"]):
        rs = [r[part] for r in res["runs"] if r["layout"] == label]
        out[label] = {f: (float(np.median([r[f] for r in rs])), min(r[f] for r in rs),
                          max(r[f] for r in rs), len(rs)) for f in (*FIGS, "S")}
    return out


def _cell(v) -> str:
    med, lo, hi, n = v
    return f"{med:.2f}" if n == 1 or hi - lo < 5e-3 else f"{med:.2f} ({lo:.2f}-{hi:.2f})"


def markdown(res: dict) -> str:
    held, seen = summary(res), summary(res, "in_sample")
    lines = [f"**{res['set']}, {res['shape']} hall** ({res['locations']} locations, "
             f"{res['slots']} slots), cut {res['cut']} (last {100 * res['share']:.0f} %): "
             f"fit on {res['train_loans']} loans, judged on {res['judge_loans']}; load "
             f"{res['load_average'][0]} / {res['load_average'][1]}", "",
             "| plan | held-out mean (m) | median | 90th pct | S_walk | in-sample mean | "
             "median | 90th pct |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for label in held:
        h, s = held[label], seen[label]
        lines.append(f"| {label} | " + " | ".join(_cell(h[f]) for f in (*FIGS, "S")) + " | "
                     + " | ".join(_cell(s[f]) for f in FIGS) + " |")
    for r in res["runs"]:
        if "chosen" in r:
            lines.append(f"\n{r['layout']}: chose {r['chosen'] or 'the default'}")
    return "\n".join(lines)


def compact(results: list[dict]) -> str:
    """Held-out figures of every configuration, one row per figure: median over the seeds
    (min-max)."""
    labels = list(dict.fromkeys(r["layout"] for res in results for r in res["runs"]))
    lines = ["| set | shape | cut | visit walk | " + " | ".join(labels) + " |",
             "|---|---|---|---|" + "---:|" * len(labels)]
    names = {"mean": "mean", "p50": "median", "p90": "90th pct"}
    for res in results:
        h = summary(res)
        for f in FIGS:
            lines.append(f"| {res['set']} | {res['shape']} | {res['cut']} | {names[f]} | "
                         + " | ".join(_cell(h[k][f]) if k in h else "-" for k in labels) + " |")
    return "\n".join(lines)


def verdict(results: list[dict], label: str = "visits") -> str:
    """The acceptance checks of issue 21 per configuration (medians over the seeds)."""
    lines = ["| plan | set | shape | cut | mean < popularity | mean < fit | "
             "median <= popularity | p90 < both |", "|---|---|---|---|---|---|---|---|"]
    for res in results:
        h = summary(res)
        if label not in h:
            continue
        v, p, f = h[label], h["popularity"], h["fit"]
        ok = lambda b: "yes" if b else "**no**"   # noqa: E731
        lines.append(f"| {label} | {res['set']} | {res['shape']} | {res['cut']} | "
                     f"{ok(v['mean'][0] < p['mean'][0])} "
                     f"({100 * (v['mean'][0] / p['mean'][0] - 1):+.1f} %) | "
                     f"{ok(v['mean'][0] < f['mean'][0])} "
                     f"({100 * (v['mean'][0] / f['mean'][0] - 1):+.1f} %) | "
                     f"{ok(v['p50'][0] <= p['p50'][0])} "
                     f"({100 * (v['p50'][0] / p['p50'][0] - 1):+.1f} %) | "
                     f"{ok(v['p90'][0] < min(p['p90'][0], f['p90'][0]))} "
                     f"({100 * (v['p90'][0] / p['p90'][0] - 1):+.1f} % / "
                     f"{100 * (v['p90'][0] / f['p90'][0] - 1):+.1f} %) |")
    return "\n".join(lines)


def report(results: list[dict]) -> str:
    return "\n\n".join([compact(results), verdict(results, "visits-tuned"),
                        verdict(results, "visits")])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", nargs="+", default=["epub", "drift", "sample"],
                    choices=["epub", "sample", "drift"])
    ap.add_argument("--shapes", nargs="+", default=["branch", "corridor"],
                    choices=["branch", "corridor"])
    ap.add_argument("--shares", nargs="+", type=float, default=[0.2, 0.4],
                    help="time splits: the last share of the period is judged")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--time-limit", type=float, default=10.0, help="seconds per fit")
    ap.add_argument("--tune", action="store_true",
                    help="also fit --objective visits --tune (tuned with seed 0, then the "
                         "chosen options with every seed)")
    ap.add_argument("--tune-time", type=float, default=5.0)
    ap.add_argument("--out", default="visits-out")
    ap.add_argument("--dead", type=float, default=0.0,
                    help="control: add this many never-borrowed books per book to the "
                         "holdings (the hall sized for them)")
    ap.add_argument("--json")
    ap.add_argument("--again", help="only print the tables of a results JSON")
    args = ap.parse_args(argv)
    if args.again:
        with open(args.again, encoding="utf-8") as fh:
            print(report(json.load(fh)))
        return 0
    os.makedirs(args.out, exist_ok=True)
    fit(SETS["sample"], load_hall(ROOT / "data" / "stacked_hall.json"), time_limit=2,
        holdings=str(ROOT / "data/holdings.csv"), objective="visits")   # compile first
    results = []
    for name in args.sets:
        path = SETS.get(name) or drift_loans(os.path.join(args.out, "drift_loans.csv"))
        for shape in args.shapes:
            for share in args.shares:
                res = run_one(name, path, shape, share, args,
                              os.path.join(args.out, name, shape, f"{share:g}"))
                results.append(res)
                print(markdown(res), "\n", flush=True)
                if args.json:
                    atomic_write(args.json, lambda fh: json.dump(results, fh, indent=1))
                    atomic_write(os.path.splitext(args.json)[0] + ".md", lambda fh: fh.write(
                        "\n\n".join(markdown(r) for r in results) + "\n\n"
                        + report(results) + "\n"))
    print(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
