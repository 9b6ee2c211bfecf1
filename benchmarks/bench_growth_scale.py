"""100,000 holdings with growth space in call-number blocks (issue 20): time and memory of

    shelfplan fit LOANS --hall HALL --holdings HOLDINGS --fill 0.85 --keep-order blocks

run as a command in a child process (wall time and peak memory of the whole command),
then the plan's promises checked independently (feasible 8.4, blocks 8.5, fill 8.7).

    python benchmarks/bench_growth_scale.py [--books 100000] [--locations 5000] [--time 50]

Instance: as ``bench_shelving.py scale`` (synthetic loans of N/4 books, holdings of N
books from data/generate_holdings.py, the bench_walk stacked hall with 2N slots).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "data"))

import bench_shelving as bs  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--books", type=int, default=100_000)
    ap.add_argument("--locations", type=int, default=5000)
    ap.add_argument("--time", type=float, default=50.0)
    ap.add_argument("--fill", default="0.85")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    args = ap.parse_args(argv)
    from generate_holdings import holdings as make_holdings
    from shelfplan.ingest.synth import generate_loans
    from shelfplan.judge.promises import check_blocks_kept, check_feasible, check_fill
    from shelfplan.layout import read_layout

    bs.warm_up()
    with tempfile.TemporaryDirectory() as tmp:
        loans = generate_loans(args.books // 4, seed=0)
        hold = make_holdings(loans, args.books, 0)
        lp, hp = os.path.join(tmp, "loans.csv"), os.path.join(tmp, "holdings.csv")
        hall, out = os.path.join(tmp, "hall.json"), os.path.join(tmp, "plan.json")
        loans.to_csv(lp, index=False)
        hold.to_csv(hp, index=False)
        with open(hall, "w") as fh:
            json.dump(bs.scale_hall(args.books, args.locations), fh)
        cmd = [sys.executable, "-m", "shelfplan", "fit", lp, "--hall", hall, "--holdings", hp,
               "--fill", args.fill, "--keep-order", "blocks", "--time-limit", str(args.time),
               "-o", out, "-q"]
        t0 = time.monotonic()
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO,
                           env=dict(os.environ, PYTHONPATH=REPO))
        wall = time.monotonic() - t0
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if r.returncode:
            print(r.stderr, file=sys.stderr)
            return 1
        lay = read_layout(out)
        broken = check_feasible(lay) + check_blocks_kept(lay) + check_fill(lay, True)
        res = {"books": lay.n, "locations": args.locations,
               "slots": int(lay.hall.stacks.n_slots), "fill": args.fill,
               "blocks": lay.solver.get("blocks"), "time_limit": args.time,
               "wall_seconds": round(wall, 1), "peak_rss_mib": round(peak),
               "solver_seconds": lay.solver.get("seconds"), "S_walk": lay.objective["total"],
               "free_slots_between_runs": lay.solver.get("free_slots_between_runs"),
               "growth_slots": lay.solver.get("growth_slots"),
               "promises_broken": broken, "stdout": r.stdout.strip().splitlines()[-1:],
               "command": "shelfplan fit LOANS --hall HALL --holdings HOLDINGS --fill "
                          f"{args.fill} --keep-order blocks --time-limit {args.time}",
               "load_avg": [round(x, 2) for x in os.getloadavg()]}
    bs.write_atomic(os.path.join(args.out, "growth_scale.json"), json.dumps(res, indent=1))
    print(json.dumps(res, indent=1))
    return 0 if not broken else 1


if __name__ == "__main__":
    raise SystemExit(main())
