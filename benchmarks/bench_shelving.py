"""Shelving plans (MODEL.md section 8): how good and how fast (issue 11).

    python benchmarks/bench_shelving.py quality [--quick] [--seeds 0,1,2] [--time 20] [--out DIR]
    python benchmarks/bench_shelving.py scale   [--quick] [--seeds 0] [--time 60] [--out DIR]
                                                [--sizes 10000:500,25000:1000] [--big-time 300]

**quality**: on the sample (``data/loans.csv``, ``data/holdings.csv``,
``data/stacked_hall.json``) and on the ePub-WU sessions (``../shared/data/epub_wu``,
936 documents; holdings = the documents, category = publication series, call
number = series then document id; a stacked hall built by :func:`epub_hall` and
written to ``DIR/shelving_epub_wu_hall.json``), twice: in-sample (fit on all
loans) and held-out (fit on the loans before the date at 80 % of the period,
judged on the loans from then on). Methods: ``shelfplan.fit`` (``--time``
seconds), the peers of ``benchmarks/shelving_peers.py`` from arrays alone:
call-number order, popularity slotting, and the location ILS started from
popularity slotting with the wall time fit took (1x) and twice that (2x), with
the same seeds. The loans and holdings are read once and the walking table is
computed once per hall before any method is timed (all methods get them free).
Every plan is scored twice: S_walk of the layout (``shelfplan.pipeline.make_plan``)
and the peers' own ``s_walk``; visit walks with ``shelfplan.evaluate``.

**scale**: synthetic holdings of N books, 25 % of them borrowed
(``generate_loans(N // 4)``; the holdings from ``data/generate_holdings.py``),
written as CSV files; a hall of ~M locations (``bench_walk.stacked_hall``,
6 shelves per bay and books_per_shelf so that the slots are about twice the
books). Each size runs in its own process: the wall time of the walking table
(timed inside the real fit call), of the whole ``shelfplan.fit`` call (reading
the CSVs included), its ``stopped_by``, the process's peak RSS, and S_walk
against popularity slotting. numba's compiled kernel is loaded by a warm-up
fit on the sample before anything is timed.

Results: ``DIR/shelving_quality.{json,md}`` and ``DIR/shelving_scale.{json,md}``
(``*_quick.*`` with ``--quick``); DIR defaults to ``benchmarks/results``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
for _p in (HERE, os.path.join(REPO, "data")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import shelving_peers as peers  # noqa: E402
import shelfplan  # noqa: E402
from shelfplan.ingest.holdings import read_holdings  # noqa: E402
from shelfplan.ingest.loans import read_loans  # noqa: E402
from shelfplan.model.hall import hall_from_dict, load_hall  # noqa: E402
from shelfplan.pipeline import make_plan  # noqa: E402
from shelfplan.shelf import shelf_problem  # noqa: E402

#: ../shared/data/epub_wu next to the repository (or one level further up, for a worktree)
EPUB = next((d for d in (os.path.join(REPO, "..", "shared", "data", "epub_wu"),
                         os.path.join(REPO, "..", "..", "shared", "data", "epub_wu"))
             if os.path.isdir(d)), os.path.join(REPO, "..", "shared", "data", "epub_wu"))
SAMPLE = {"loans": os.path.join(REPO, "data", "loans.csv"),
          "holdings": os.path.join(REPO, "data", "holdings.csv"),
          "hall": os.path.join(REPO, "data", "stacked_hall.json")}


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def machine() -> dict:
    return {"host": platform.node(), "cpus": os.cpu_count(), "python": platform.python_version(),
            "load_avg_start": [round(x, 2) for x in os.getloadavg()],
            "started": time.strftime("%Y-%m-%d %H:%M:%S")}


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def write_atomic(path: str, text: str) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


# --- instances ----------------------------------------------------------------------------

def epub_hall() -> dict:
    """A reading room for the 936 ePub-WU documents: two banks of four double-faced ranges
    (four 0.9 m bays each), wall shelving on the north and west walls, a desk by the
    entrance; 84 locations of 4 shelves x 7 documents = 2,352 slots (2.5x the documents)."""
    shelf = {"shelves": 4, "books_per_shelf": 7}
    return {
        "name": "ePub-WU stacked reading room (bench_shelving.py)",
        "footprint": [[0.0, 0.0], [20.0, 0.0], [20.0, 14.0], [0.0, 14.0]],
        "obstacles": [[[12.5, 1.5], [15.5, 1.5], [15.5, 2.5], [12.5, 2.5]]],
        "entrance": [10.0, 0.0, 1.2],
        "stacks": [
            {"bank": "A", "origin": [3.0, 4.0], "ranges": 4, "length": 3.6, "sections": 4,
             **shelf},
            {"bank": "B", "origin": [9.0, 4.0], "ranges": 4, "length": 3.6, "sections": 4,
             **shelf},
            {"id": "N", "start": [2.0, 14.0], "end": [11.0, 14.0], "sections": 10,
             "faces": "right", **shelf},
            {"id": "W", "start": [0.0, 12.0], "end": [0.0, 3.0], "sections": 10,
             "faces": "left", **shelf},
        ]}


def epub_holdings(loans_csv: str, path: str) -> None:
    """Every document of the sessions: category = its series, call number = series + id."""
    d = pd.read_csv(loans_csv, dtype=str, keep_default_na=False).drop_duplicates("item_id")
    call = [f"{c} {i}" if c else i for c, i in zip(d["category"], d["item_id"])]
    out = pd.DataFrame({"item_id": d["item_id"], "call_number": call,
                        "category": d["category"]}).sort_values("item_id")
    out.to_csv(path, index=False)


def cut_date(loans) -> str:
    t = loans.table["timestamp"]
    return (t.min() + 0.8 * (t.max() - t.min())).strftime("%Y-%m-%d")


def warm_up() -> None:
    """Load (or compile, the first time) numba's kernel so that no timed call pays for it."""
    t0 = time.monotonic()
    shelfplan.fit(SAMPLE["loans"], hall=SAMPLE["hall"], holdings=SAMPLE["holdings"],
                  time_limit=1.0, seed=0)
    say(f"warm-up fit {time.monotonic() - t0:.1f} s")


# --- quality ------------------------------------------------------------------------------

def judge(name, seed, seconds, loc, prob, est, W, loans, cut) -> dict:
    lay = make_plan(prob, est, loc, {"method": name})
    row = {"method": name, "seed": seed, "seconds": round(seconds, 2),
           "S": lay.objective["total"], "S_peer": peers.s_walk(loc, prob.D, prob.p, W),
           "S_over_LB": lay.objective["total"] / lay.lower_bound["total"]}
    ev = shelfplan.evaluate(lay, loans, until=cut)
    row["walk_mean"] = ev.walk["mean"]
    if cut is not None:
        ho = shelfplan.evaluate(lay, loans, since=cut)
        row.update(S_heldout=ho.cost["total"], S_over_LB_heldout=ho.ratio,
                   walk_mean_heldout=ho.walk["mean"])
    return row


def quality_setting(hall, loans, holdings, cut, seeds, T) -> dict:
    est, prob = shelf_problem(loans, hall, holdings=holdings, until=cut)
    D, cap, W, order = prob.D, prob.capacity, prob.symmetric_weights(), np.arange(prob.m)
    rows = []

    def add(name, seed, seconds, loc):
        rows.append(judge(name, seed, seconds, loc, prob, est, W, loans, cut))
        r = rows[-1]
        say(f"  {name} seed {seed}: S={r['S']:.4f} ({r['seconds']} s)")

    t0 = time.monotonic()
    add("call-number order", None, 0, peers.callnumber_order(prob.order_key, order, cap))
    pop = peers.popularity_slotting(prob.p, prob.order_key, D, cap, order)
    add("popularity slotting", None, time.monotonic() - t0, pop)
    for kind in ("callnumber", "popularity"):
        lib = shelfplan.baseline(kind, loans, hall=hall, holdings=holdings, until=cut)
        rows.append({"method": f"check: shelfplan.baseline {kind}", "seed": None,
                     "S": lib.objective["total"]})
    for s in seeds:
        t0 = time.monotonic()
        lay = shelfplan.fit(loans, hall=hall, holdings=holdings, time_limit=T, seed=s, until=cut)
        w = time.monotonic() - t0
        if list(map(str, lay.items)) != list(map(str, prob.items)):
            raise SystemExit("internal: fit's books differ from the benchmark's problem")
        add("fit", s, w, lay.shelf["loc"])
        rows[-1]["stopped_by"] = lay.solver.get("stopped_by")
        for mult in (1, 2):
            t1 = time.monotonic()
            loc = peers.location_ils(pop, D, prob.p, W, cap, time_limit=mult * w, seed=s)
            add(f"location ILS {mult}x", s, time.monotonic() - t1, loc)
    active = int(((prob.p > 0) | (np.bincount(np.r_[prob.I, prob.J], minlength=prob.n) > 0)).sum())
    return {"cut": cut, "books": int(prob.n), "borrowed": active, "pairs": int(len(prob.W)),
            "locations": int(prob.m), "slots": int(cap.sum()),
            "lower_bound": float(make_plan(prob, est, pop, {}).lower_bound["total"]),
            "rows": rows, "summary": summarise(rows)}


def summarise(rows) -> list[dict]:
    out = []
    names = list(dict.fromkeys(r["method"] for r in rows if not r["method"].startswith("check")))
    for name in names:
        rs = [r for r in rows if r["method"] == name]
        out.append({"method": name, "runs": len(rs),
                    **{k: median([r.get(k) for r in rs]) for k in
                       ("seconds", "S", "S_over_LB", "walk_mean", "S_heldout",
                        "S_over_LB_heldout", "walk_mean_heldout")},
                    "S_min": min(r["S"] for r in rs), "S_max": max(r["S"] for r in rs)})
    return out


def instances(quick: bool, out: str, tmp: str) -> list[tuple]:
    sample = ("sample", SAMPLE["loans"], SAMPLE["holdings"], load_hall(SAMPLE["hall"]))
    if quick:
        return [sample]
    loans = os.path.join(EPUB, "loans.csv")
    if not os.path.exists(loans):
        say(f"{loans} not found: ePub-WU skipped")
        return [sample]
    spec = epub_hall()
    write_atomic(os.path.join(out, "shelving_epub_wu_hall.json"), json.dumps(spec, indent=1))
    hold = os.path.join(tmp, "epub_holdings.csv")
    epub_holdings(loans, hold)
    return [sample, ("epub_wu", loans, hold, hall_from_dict(spec, source="epub hall"))]


def run_quality(args) -> dict:
    seeds = [0] if args.quick and args.seeds is None else parse_seeds(args.seeds or "0,1,2")
    T = args.time or (3.0 if args.quick else 20.0)
    result = {"kind": "quality", "time_limit": T, "seeds": seeds, "machine": machine(),
              "instances": {}}
    warm_up()
    with tempfile.TemporaryDirectory() as tmp:
        for name, loans_path, hold_path, hall in instances(args.quick, args.out, tmp):
            loans, holdings = read_loans(loans_path), read_holdings(hold_path)
            t0 = time.perf_counter()
            hall.stacks.distances()
            inst = {"loans": os.path.relpath(loans_path, REPO), "hall": hall.name,
                    "table_seconds": round(time.perf_counter() - t0, 3), "settings": {}}
            for setting, cut in (("in-sample", None), ("held-out", cut_date(loans))):
                say(f"{name} {setting} (until {cut})")
                inst["settings"][setting] = quality_setting(hall, loans, holdings, cut, seeds, T)
            result["instances"][name] = inst
    result["machine"]["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    return result


def f(x, nd=4):
    return "" if x is None else f"{x:.{nd}f}"


def quality_md(res: dict) -> str:
    m = res["machine"]
    lines = [f"# Shelving plans: fit against peers at the same wall time",
             "", f"fit time limit {res['time_limit']} s, seeds {res['seeds']} (medians); "
             f"{m['cpus']} cores shared, load average {m['load_avg_start']} at start, "
             f"{m.get('load_avg_end')} at the end; {m['started']}.", ""]
    for name, inst in res["instances"].items():
        for setting, s in inst["settings"].items():
            lines += [f"## {name}, {setting}" + (f" (fit on loans before {s['cut']}, judged "
                                                   f"from then on)" if s["cut"] else ""),
                      "", f"{s['books']} books ({s['borrowed']} borrowed), {s['pairs']} "
                      f"co-borrowed pairs, {s['locations']} locations, {s['slots']} slots; "
                      f"LB = {s['lower_bound']:.4f}; walking table {inst['table_seconds']} s",
                      "", "| method | runs | wall s | S_walk (min-max) | S/LB | mean walk m |"
                      + (" held-out S_walk | held-out S/LB | held-out mean walk m |"
                         if s["cut"] else ""),
                      "|---|---:|---:|---:|---:|---:|" + ("---:|---:|---:|" if s["cut"] else "")]
            for r in s["summary"]:
                rng = f" ({r['S_min']:.4f}-{r['S_max']:.4f})" if r["runs"] > 1 else ""
                line = (f"| {r['method']} | {r['runs']} | {f(r['seconds'], 1)} | "
                        f"{f(r['S'])}{rng} | {f(r['S_over_LB'], 3)} | {f(r['walk_mean'], 2)} |")
                if s["cut"]:
                    line += (f" {f(r['S_heldout'])} | {f(r['S_over_LB_heldout'], 3)} | "
                             f"{f(r['walk_mean_heldout'], 2)} |")
                lines.append(line)
            lines.append("")
    return "\n".join(lines)


# --- scale --------------------------------------------------------------------------------

def scale_hall(books: int, locations: int) -> dict:
    from bench_walk import stacked_hall
    spec = stacked_hall(locations)
    per_shelf = math.ceil(2 * books / (6 * locations))
    for entry in spec["stacks"]:
        entry.update(shelves=6, books_per_shelf=per_shelf)
    spec["name"] = f"bench {books} books / {locations} locations"
    return spec


def scale_one(books: int, locations: int, T: float, seed: int) -> dict:
    """One size, in this process (run by ``_scale_one`` in a child)."""
    from generate_holdings import holdings as make_holdings
    from shelfplan.ingest.synth import generate_loans
    from shelfplan.model import walk

    warm_up()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    loans = generate_loans(books // 4, seed=seed)
    hold = make_holdings(loans, books, seed)
    gen_s = time.perf_counter() - t0
    timing = {}
    orig = walk.distance_table

    def timed(*a, **k):
        t = time.perf_counter()
        out = orig(*a, **k)
        timing["table"] = time.perf_counter() - t
        return out

    walk.distance_table = timed
    with tempfile.TemporaryDirectory() as tmp:
        lp, hp = os.path.join(tmp, "loans.csv"), os.path.join(tmp, "holdings.csv")
        loans.to_csv(lp, index=False)
        hold.to_csv(hp, index=False)
        n_borrowed, n_loans = int(loans["item_id"].nunique()), len(loans)
        del loans, hold
        hall = hall_from_dict(scale_hall(books, locations), source="bench")
        t0 = time.perf_counter()
        lay = shelfplan.fit(lp, hall=hall, holdings=hp, time_limit=T, seed=seed)
        fit_s = time.perf_counter() - t0
        rss_fit = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        est, prob = shelf_problem(lp, hall, holdings=hp)
    W = prob.symmetric_weights()
    pop = peers.popularity_slotting(prob.p, prob.order_key, prob.D, prob.capacity,
                                    np.arange(prob.m))
    same = list(map(str, lay.items)) == list(map(str, prob.items))
    return {"books": int(prob.n), "borrowed": n_borrowed, "loans": n_loans,
            "pairs": int(len(prob.W)), "locations": int(prob.m), "slots": int(prob.capacity.sum()),
            "time_limit": T, "seed": seed, "generate_seconds": round(gen_s, 2),
            "table_seconds": round(timing.get("table", float("nan")), 2),
            "fit_seconds": round(fit_s, 2), "stopped_by": lay.solver.get("stopped_by"),
            "solver_seconds": lay.solver.get("seconds"), "kicks": lay.solver.get("kicks"),
            "history": lay.solver.get("history"),
            "S_fit": lay.objective["total"],
            "S_fit_peer": peers.s_walk(lay.shelf["loc"], prob.D, prob.p, W) if same else None,
            "S_popularity": peers.s_walk(pop, prob.D, prob.p, W),
            "lower_bound": lay.lower_bound["total"],
            "rss_after_warmup_mib": round(rss0), "peak_rss_fit_mib": round(rss_fit),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "load_avg": [round(x, 2) for x in os.getloadavg()]}


def run_scale(args) -> dict:
    sizes = args.sizes or ("2000:100,5000:250" if args.quick else
                           "10000:500,25000:1000,50000:2500,100000:5000")
    sizes = [tuple(int(v) for v in s.split(":")) for s in sizes.split(",")]
    seeds = parse_seeds(args.seeds or "0")
    T = args.time or (10.0 if args.quick else 60.0)
    result = {"kind": "scale", "machine": machine(), "runs": []}
    for books, locs in sizes:
        limit = args.big_time if books >= 100_000 else T
        for s in seeds:
            say(f"scale {books} books / {locs} locations, time limit {limit}, seed {s}")
            cmd = [sys.executable, os.path.abspath(__file__), "_scale_one",
                   json.dumps([books, locs, limit, s])]
            p = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO)
            if p.returncode != 0:
                say(p.stderr[-2000:])
                result["runs"].append({"books": books, "locations": locs, "error":
                                       p.stderr.strip().splitlines()[-1:]})
                continue
            row = json.loads(p.stdout.strip().splitlines()[-1])
            say(f"  table {row['table_seconds']} s, fit {row['fit_seconds']} s "
                f"({row['stopped_by']}), peak {row['peak_rss_mib']} MiB, "
                f"S {row['S_fit']:.4f} vs popularity {row['S_popularity']:.4f}")
            result["runs"].append(row)
    result["machine"]["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    return result


def scale_md(res: dict) -> str:
    m = res["machine"]
    lines = ["# Shelving plans at scale", "",
             f"{m['cpus']} cores shared, load average {m['load_avg_start']} at start, "
             f"{m.get('load_avg_end')} at the end; {m['started']}.", "",
             "| books | borrowed | locations | slots | table s | fit s (limit) | stopped by | "
             "peak RSS MiB | S_walk fit | S_walk popularity | fit/pop | S/LB |",
             "|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|"]
    for r in res["runs"]:
        if "error" in r:
            lines.append(f"| {r['books']} | | {r['locations']} | | error: {r['error']} |")
            continue
        lines.append(
            f"| {r['books']:,} | {r['borrowed']:,} | {r['locations']:,} | {r['slots']:,} | "
            f"{r['table_seconds']} | {r['fit_seconds']} ({r['time_limit']:g}) | "
            f"{r['stopped_by']} | {r['peak_rss_mib']:,} | {r['S_fit']:.4f} | "
            f"{r['S_popularity']:.4f} | {r['S_fit'] / r['S_popularity']:.3f} | "
            f"{r['S_fit'] / r['lower_bound']:.3f} |")
    return "\n".join(lines) + "\n"


# --- command line -------------------------------------------------------------------------

def parse_seeds(text: str) -> list[int]:
    return [int(s) for s in text.split(",") if s.strip()]


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_scale_one"]:
        print(json.dumps(scale_one(*json.loads(argv[1]))))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("table", choices=["quality", "scale"])
    ap.add_argument("--quick", action="store_true", help="smoke run (small, short)")
    ap.add_argument("--seeds", help="comma-separated seeds (quality 0,1,2; scale 0)")
    ap.add_argument("--time", type=float, help="fit time limit, s (quality 20, scale 60)")
    ap.add_argument("--big-time", type=float, default=300.0,
                    help="fit time limit for 100,000 books and more (default 300)")
    ap.add_argument("--sizes", help="books:locations,... (scale)")
    ap.add_argument("--out", default=os.path.join(HERE, "results"), help="results folder")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    res = run_quality(args) if args.table == "quality" else run_scale(args)
    res["command"] = "python benchmarks/bench_shelving.py " + " ".join(argv)
    stem = os.path.join(args.out, f"shelving_{args.table}{'_quick' if args.quick else ''}")
    md = (quality_md if args.table == "quality" else scale_md)(res)
    write_atomic(stem + ".json", json.dumps(res, indent=1, default=float))
    write_atomic(stem + ".md", md)
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
