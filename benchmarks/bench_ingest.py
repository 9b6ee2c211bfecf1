"""Benchmark reading and estimating a large loans export (docs/ingest.md).

    python benchmarks/bench_ingest.py                       # 10 million loans
    python benchmarks/bench_ingest.py --rows 1e6            # smaller
    python benchmarks/bench_ingest.py --category            # keep the category column
    python benchmarks/bench_ingest.py --category --level category   # sum into categories

The loans come from ``shelfplan.ingest.synth.generate_loans(rows / 10 items,
loans_per_item=10)`` and are written once as CSV to ``/tmp`` (``--dir``; reused on
later runs, never in the repository). The measured step runs in a fresh process:
``read_loans`` then ``estimate``, exactly what every command does before solving;
its wall time and its peak RSS (``ru_maxrss`` of the child) are reported, with
the time of each stage as progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def make_csv(path: str, rows: int, seed: int, category: bool) -> None:
    from shelfplan.ingest.synth import generate_loans

    n_items = max(10, rows // 10)
    t = time.perf_counter()
    say(f"generating about {rows:,} loans over {n_items:,} items ...")
    df = generate_loans(n_items, loans_per_item=10.0, seed=seed)
    cols = ["patron_id", "item_id", "timestamp"] + (["category"] if category else [])
    say(f"  {len(df):,} rows in {time.perf_counter() - t:.1f} s; writing {path} ...")
    t = time.perf_counter()
    tmp = path + ".part"
    step = 1_000_000
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        for k in range(0, len(df), step):
            df.iloc[k:k + step][cols].to_csv(fh, index=False, header=(k == 0))
            say(f"  written {min(k + step, len(df)):,} / {len(df):,} rows")
    os.replace(tmp, path)
    say(f"  written in {time.perf_counter() - t:.1f} s ({os.path.getsize(path) / 2**20:.0f} MiB)")


def child(path: str, level: str = "item") -> None:
    """The measured step (runs in its own process)."""
    t0 = time.perf_counter()
    from shelfplan.model.estimate import estimate
    from shelfplan.ingest.loans import read_loans

    t = time.perf_counter()
    say("reading ...")
    loans = read_loans(path, level=level)
    t_read = time.perf_counter() - t
    say(f"  read_loans: {loans.n_loans:,} loans in {t_read:.1f} s; estimating ...")
    t = time.perf_counter()
    est = estimate(loans)
    t_est = time.perf_counter() - t
    say(f"  estimate: {est.n:,} items, {est.summary['co_borrowed_pairs']:,} pairs "
        f"in {t_est:.1f} s")
    print(json.dumps({"read_s": round(t_read, 1), "estimate_s": round(t_est, 1),
                      "total_s": round(time.perf_counter() - t0, 1),
                      "rows": loans.n_rows_read, "loans": loans.n_loans,
                      "sessions": est.summary["sessions"], "items": est.n,
                      "pairs": est.summary["co_borrowed_pairs"],
                      "dropped": loans.dropped, "level": level}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=float, default=10e6, help="loans to generate [10e6]")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dir", default="/tmp", help="where the CSV goes [/tmp]")
    ap.add_argument("--category", action="store_true",
                    help="keep the category column (estimate then finds each item's category)")
    ap.add_argument("--level", choices=("item", "category"), default="item",
                    help="read at this level (category needs --category) [item]")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.level)
        return
    if args.level == "category" and not args.category:
        ap.error("--level category needs --category")
    rows = int(args.rows)
    path = os.path.join(args.dir, f"shelfplan_bench_{rows}_{args.seed}"
                                  f"{'_cat' if args.category else ''}.csv")
    if not os.path.exists(path):
        make_csv(path, rows, args.seed, args.category)
    else:
        say(f"reusing {path}")
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, __file__, "--child", path, "--level", args.level],
                          stdout=subprocess.PIPE, text=True, check=True)
    wall = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20   # KiB -> GiB
    res = json.loads(proc.stdout)
    res.update(wall_s=round(wall, 1), peak_rss_gib=round(peak, 2), cpus=os.cpu_count(),
               file_mib=round(os.path.getsize(path) / 2**20))
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
