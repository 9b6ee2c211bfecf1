"""Held-out evaluation: fit on the past, judge on the future it did not see.

Fits a layout on the loans before ``--split`` (``shelfplan fit --until``),
builds the callnumber, popularity and random baselines from the same loans in
the same hall (``OUT/hall.json``: the default rectangular hall, sized with
``--headroom`` lattice sites per item), and compares all of them on the loans from ``--split`` on
(``shelfplan compare --since``), and, for contrast, on the training loans.
Prints Markdown tables; writes the layouts, the hall and a report to ``OUT``.

    python benchmarks/heldout.py ../shared/data/epub_wu/loans.csv \
        --split 2007-01-01 --time-limit 30 --out heldout-out
    python benchmarks/heldout.py ../shared/data/epub_wu/loans.csv --level category \
        --split 2007-01-01 --out heldout-out-blocks      # series placed as blocks

The same with the CLI:

    # OUT/hall.json: shelfplan.model.hall.default_hall(615, headroom=4).to_dict()
    shelfplan fit LOANS --until 2007-01-01 --time-limit 30 --hall OUT/hall.json -o OUT/fit.json
    shelfplan baseline callnumber LOANS --until 2007-01-01 --hall OUT/hall.json -o OUT/callnumber.json
    ...
    shelfplan compare OUT/callnumber.json OUT/fit.json ... --loans LOANS --since 2007-01-01
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from shelfplan.api import baseline, fit
from shelfplan.judge.compare import compare
from shelfplan.model.hall import default_hall
from shelfplan.layout import atomic_write, write_layout
from shelfplan.ingest.loans import filter_until, read_loans
from shelfplan.present.report import write_report


def table(cmp, title: str) -> str:
    """Markdown table: one row per layout, the change of S against the first."""
    lines = [f"**{title}**", "",
             "| layout | S (m) | entrance | pairs | S/LB | walk mean (m) | walk p50 | walk p90 "
             "| S vs callnumber |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    s0 = cmp.evaluations[0].cost["total"]
    for name, ev in zip(cmp.names, cmp.evaluations):
        c, w = ev.cost, ev.walk
        lines.append(
            f"| {os.path.splitext(os.path.basename(name))[0]} | {c['total']:.3f} | "
            f"{c['entrance_term']:.3f} | {c['pair_term']:.3f} | {ev.ratio:.2f} | "
            f"{w['mean']:.2f} | {w['p50']:.2f} | {w['p90']:.2f} | "
            f"{100 * (c['total'] - s0) / s0:+.1f} % |")
    b = cmp.basis
    left = (f"{b['items_left_out']} items ({100 * b['share_loans_left_out']:.1f} % of loans) "
            f"are not in the layouts (first borrowed after the split) and are left out"
            if b["items_left_out"] else "every borrowed item is in the layouts")
    lines += ["", f"{b['loans_used']} of {b['loans_all']} loans, {b['sessions_used']} sessions "
                  f"({b['span'][0]} to {b['span'][1]}); {left}."]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("loans", help="loans CSV with timestamps")
    ap.add_argument("--split", default="2007-01-01", help="fit before, evaluate from this date")
    ap.add_argument("--time-limit", type=float, default=30.0, help="seconds for fit")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--headroom", type=float, default=4.0,
                    help="hall size: lattice sites per item (fit's default hall uses 2)")
    ap.add_argument("--random-seeds", type=int, default=3, help="how many random baselines")
    ap.add_argument("--out", default="heldout-out", help="directory for layouts and report")
    ap.add_argument("--level", choices=("item", "title", "category"), default="item",
                    help="what is placed (category: whole categories as blocks)")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)

    loans = read_loans(args.loans, level=args.level)
    train = filter_until(loans, until=args.split)
    # one hall for every layout: the default shape, sized for the training items
    hall = default_hall(int(train.table["item"].nunique()), headroom=args.headroom)
    hall_path = os.path.join(args.out, "hall.json")
    atomic_write(hall_path, lambda fh: json.dump(hall.to_dict(), fh, indent=1))
    t0 = time.monotonic()
    fitted = fit(train, hall, seed=args.seed, time_limit=args.time_limit)
    t_fit = time.monotonic() - t0
    paths = {}
    for name in ("callnumber", "popularity"):
        paths[name] = baseline(name, train, hall)
    for s in range(args.random_seeds):
        paths[f"random-{s}"] = baseline("random", train, hall, seed=s)
    paths["fit"] = fitted
    files = []
    for name, lay in paths.items():
        f = os.path.join(args.out, f"{name}.json")
        write_layout(lay, f)
        files.append(f)

    held = compare(files, loans, since=args.split)
    seen = compare(files, loans, until=args.split)
    report = os.path.join(args.out, "report.html")
    write_report(compare([files[0], files[-1]], loans, since=args.split), report,
                 title=f"Held-out: fit on loans before {args.split}, judged after")
    print(f"loans {loans.source}: {len(loans.table)} loans; split {args.split}; "
          f"{fitted.n} items fitted in {t_fit:.0f} s ({fitted.solver.get('method')}); "
          f"hall {hall_path}; report {report}\n")
    print(table(held, f"Held out: loans on or after {args.split} (not seen by any layout)"))
    print()
    print(table(seen, f"In sample: loans before {args.split} (the fitting data)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
