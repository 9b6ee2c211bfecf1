"""How much of the possible saving does moving K books buy? (``fit --max-moves``)

Starts from today's shelving, here the call-number baseline (books in
call-number order along the shelves, as libraries shelve today), and runs
``shelfplan fit --current current.json --max-moves K`` for a range of K,
plus a plain ``fit`` (no current layout, every book free) for reference.
Records S, the saving against the current layout in %, the books moved and
the total distance they travel; prints a Markdown table, writes
``benchmarks/results/moves_curve_<name>.json`` and ``.md`` and plots the
saving against the books moved into ``docs/img/moves_curve_<name>.png``.

    python benchmarks/moves_curve.py data/loans.csv --hall data/hall.json --name sample
    python benchmarks/moves_curve.py ../shared/data/epub_wu/loans.csv --headroom 4 \\
        --name epub_wu --ks 0,10,25,50,100,200,400,all --time-limit 30

Each fit is one call of :func:`shelfplan.api.fit`, the call behind
``shelfplan fit``; the equivalent commands are printed with the table. The
hall, the current layout and the proposals go to a temporary directory
(``--keep DIR`` keeps them).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

from matplotlib.figure import Figure

from shelfplan.api import baseline, fit, load_problem
from shelfplan.judge.compare import moves
from shelfplan.model.hall import default_hall
from shelfplan.layout import atomic_write, read_layout, write_layout
from shelfplan.ingest.loans import read_loans
from shelfplan.model.objective import walking_cost

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_ks(text: str) -> list:
    """``0,10,all`` -> [0, 10, None] (None: every book may move)."""
    out = []
    for part in text.split(","):
        part = part.strip().lower()
        out.append(None if part == "all" else int(part))
    return out


def record(label, k, layout, current, s0, seconds) -> dict:
    mv = moves(current, layout, tolerance=1e-6)
    S = layout.objective["total"]
    return {
        "label": label,
        "max_moves": k,
        "moved": int(mv.moved.sum()),
        "S": S,
        "entrance_term": layout.objective["entrance_term"],
        "pair_term": layout.objective["pair_term"],
        "saving_pct": 100.0 * (s0 - S) / s0,
        "move_distance_m": float(mv.distance[mv.moved].sum()),
        "seconds": round(seconds, 1),
        "stopped_by": layout.solver.get("stopped_by"),
    }


def half_point(rows: list[dict], target: float) -> float | None:
    """Books moved at which the curve (max-moves rows, by books moved) first reaches
    ``target`` % saving, by linear interpolation between measured points."""
    pts = sorted((r["moved"], r["saving_pct"]) for r in rows if r["label"] != "unconstrained")
    for (m0, s0), (m1, s1) in zip(pts, pts[1:]):
        if s1 >= target > s0:
            return m0 + (m1 - m0) * (target - s0) / (s1 - s0)
    return None if not pts or pts[0][1] < target else float(pts[0][0])


def markdown(res: dict) -> str:
    lines = [
        f"**{res['name']}**: {res['items']} books, current layout = call-number baseline, "
        f"S = {res['S_current']:.3f} m; time limit {res['time_limit']:g} s per fit, "
        f"seed {res['seed']}.",
        "",
        "| max moves K | books moved | S (m) | saving vs current | share of best saving "
        "| move distance (m) | seconds | stopped by |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    best = res["best_saving_pct"]
    for r in res["rows"]:
        k = r["label"] if r["max_moves"] is None else str(r["max_moves"])
        share = 100.0 * r["saving_pct"] / best if best > 0 else 0.0
        lines.append(
            f"| {k} | {r['moved']} | {r['S']:.3f} | {r['saving_pct']:.1f} % | {share:.0f} % | "
            f"{r['move_distance_m']:.0f} | {r['seconds']:.1f} | {r['stopped_by']} |")
    h = res["moves_for_half"]
    lines += ["", f"Best saving {best:.1f} % ({res['best_label']}); half of it "
                  f"({best / 2:.1f} %) is reached at about "
                  + (f"{h:.0f} books moved ({100 * h / res['items']:.0f} % of the books)."
                     if h is not None else "no measured point (widen --ks).")]
    return "\n".join(lines)


def plot(res: dict, path: str) -> None:
    """Saving (%) against books moved; the unconstrained fit as a reference line."""
    fig = Figure(figsize=(5.2, 3.3), dpi=110)
    ax = fig.add_subplot()
    rows = [r for r in res["rows"] if r["label"] != "unconstrained"]
    rows.sort(key=lambda r: r["moved"])
    x = [r["moved"] for r in rows]
    y = [r["saving_pct"] for r in rows]
    ax.plot(x, y, "o-", color="C0", lw=1.5, ms=4, label="fit --current --max-moves K")
    for r in rows:
        k = "all" if r["max_moves"] is None or r["max_moves"] >= res["items"] else r["max_moves"]
        if r["moved"] > 0:
            ax.annotate(f"K={k}", (r["moved"], r["saving_pct"]), textcoords="offset points",
                        xytext=(4, -10), fontsize=7, color="0.35")
    free = [r for r in res["rows"] if r["label"] == "unconstrained"]
    if free:
        f = free[0]
        ax.axhline(f["saving_pct"], color="C3", ls="--", lw=1)
        ax.plot([f["moved"]], [f["saving_pct"]], "s", color="C3", ms=5,
                label=f"plain fit (unconstrained): {f['saving_pct']:.1f} %")
    if res["moves_for_half"] is not None:
        ax.axvline(res["moves_for_half"], color="0.5", ls=":", lw=1,
                   label=f"half of the best saving: ~{res['moves_for_half']:.0f} books moved")
    ax.set_xlabel(f"books moved (of {res['items']})")
    ax.set_ylabel("saving in S vs current (%)")
    ax.set_title(f"{res['name']}: saving against books moved", fontsize=9)
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("loans", help="loans CSV")
    ap.add_argument("--hall", help="hall JSON (default: default_hall(items, headroom))")
    ap.add_argument("--headroom", type=float, default=4.0,
                    help="without --hall: lattice sites per item of the default hall")
    ap.add_argument("--name", required=True, help="name for the result files")
    ap.add_argument("--ks", default="0,10,25,50,100,200,all",
                    help="comma-separated max-moves values; 'all' = every book")
    ap.add_argument("--time-limit", type=float, default=20.0, help="seconds per fit")
    ap.add_argument("--kicks", type=int, default=None, help="kicks per fit [fit's default]")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--results", default=os.path.join(ROOT, "benchmarks", "results"))
    ap.add_argument("--img", default=os.path.join(ROOT, "docs", "img"))
    ap.add_argument("--keep", help="directory to keep the hall, current and proposals in")
    args = ap.parse_args(argv)

    loans = read_loans(args.loans)        # once: every fit below gets the same loans
    with tempfile.TemporaryDirectory(prefix="moves-curve-") as tmp:
        work = args.keep or tmp
        os.makedirs(work, exist_ok=True)
        if args.hall:
            hall_path = args.hall
        else:
            est, _ = load_problem(loans)
            hall = default_hall(est.n, headroom=args.headroom)
            hall_path = os.path.join(work, "hall.json")
            atomic_write(hall_path, lambda fh: json.dump(hall.to_dict(), fh, indent=1))
        cur_path = os.path.join(work, "current.json")
        write_layout(baseline("callnumber", loans, hall_path, seed=args.seed), cur_path)
        current = read_layout(cur_path)
        # S of the current layout as written (positions rounded to 1e-6 m), the same
        # way every proposal's S is computed
        _, problem = load_problem(loans, hall_path)
        where = current.index()
        s0 = walking_cost(current.positions[[where[str(i)] for i in problem.items]],
                          problem)["total"]
        n = current.n
        opts = {"seed": args.seed, "time_limit": args.time_limit, "kicks": args.kicks}
        rows = []
        for k in parse_ks(args.ks):
            t0 = time.monotonic()
            lay = fit(loans, hall_path, current=cur_path,
                      max_moves=n if k is None else k, **opts)
            r = record("all" if k is None else str(k), k, lay, current, s0,
                       time.monotonic() - t0)
            if r["moved"] != lay.solver["moved"]:
                raise SystemExit(f"K={k}: compare counts {r['moved']} moves, the solver "
                                 f"{lay.solver['moved']}")
            rows.append(r)
            write_layout(lay, os.path.join(work, f"k{r['label']}.json"))
            print(f"K={r['label']:>5}: moved {r['moved']:4d}  S {r['S']:.4f}  "
                  f"saving {r['saving_pct']:5.1f} %  {r['move_distance_m']:7.1f} m  "
                  f"{r['seconds']:5.1f} s", file=sys.stderr)
        t0 = time.monotonic()
        lay = fit(loans, hall_path, **opts)
        rows.append(record("unconstrained", None, lay, current, s0, time.monotonic() - t0))
        write_layout(lay, os.path.join(work, "unconstrained.json"))

    best = max(rows, key=lambda r: r["saving_pct"])
    res = {
        "name": args.name, "loans": args.loans, "hall": args.hall or
        f"default_hall({n}, headroom={args.headroom:g})", "items": n, "seed": args.seed,
        "time_limit": args.time_limit, "kicks": args.kicks, "S_current": s0,
        "best_saving_pct": best["saving_pct"], "best_label": (
            "plain fit" if best["label"] == "unconstrained" else f"K={best['label']}"),
        "rows": rows,
    }
    res["moves_for_half"] = half_point(rows, best["saving_pct"] / 2)
    md = markdown(res)
    hall_arg = args.hall or "hall.json"
    cmds = [f"shelfplan baseline callnumber {args.loans} --hall {hall_arg} -o current.json",
            f"shelfplan fit {args.loans} --hall {hall_arg} --current current.json "
            f"--max-moves K --time-limit {args.time_limit:g} -o kK.json",
            f"shelfplan fit {args.loans} --hall {hall_arg} --time-limit {args.time_limit:g} "
            f"-o unconstrained.json"]
    if not args.hall:
        cmds.insert(0, f"python -c \"import json; from shelfplan.model.hall import default_hall; "
                       f"print(json.dumps(default_hall({n}, headroom={args.headroom:g})"
                       f".to_dict()))\" > hall.json")
    md += "\n\nEquivalent commands:\n\n" + "\n".join("    " + c for c in cmds) + "\n"
    print(md)
    os.makedirs(args.results, exist_ok=True)
    os.makedirs(args.img, exist_ok=True)
    base = os.path.join(args.results, f"moves_curve_{args.name}")
    atomic_write(base + ".json", lambda fh: json.dump(res, fh, indent=1))
    atomic_write(base + ".md", lambda fh: fh.write(md))
    plot(res, os.path.join(args.img, f"moves_curve_{args.name}.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
