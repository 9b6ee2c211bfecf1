"""A four-floor building with 100,000 holdings: walking table, fit, memory, peers.

The building (MODEL.md 8.9): four floors, each the benchmark hall of
``bench_walk.stacked_hall`` (about 1,250 locations, a wall range and banks of
double-faced ranges), two stairs and a lift serving every floor; the entrance on
the ground floor. The loans are synthetic (``shelfplan.ingest.synth``), the holdings
``data/generate_holdings.py`` (every book shelved, most never borrowed).

Measured, in one process: the walking-distance table of the building (per-floor
tables plus the connector graph), ``shelfplan.fit`` (wall time with its time limit,
peak memory), and on the same problem the peers of ``shelving_peers.py``:
popularity slotting and the location ILS (best move / swap search) given the same
time as the fit. Every S is recomputed by ``shelving_peers.s_walk`` from the table.

    python benchmarks/bench_building.py                 # 100,000 books, 120 s fits
    python benchmarks/bench_building.py --books 20000 --time 20     # a quick run

Writes ``benchmarks/results/bench_building.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
for _p in (HERE, os.path.join(REPO, "data"), REPO):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import shelving_peers as peers  # noqa: E402
from bench_walk import stacked_hall  # noqa: E402

import shelfplan  # noqa: E402
from shelfplan.model.hall import hall_from_dict  # noqa: E402
from shelfplan.shelf import shelf_problem  # noqa: E402

FLOORS = ("G", "1", "2", "3")


def building(locations_per_floor: int, per_shelf: int) -> dict:
    """Four copies of the benchmark hall stacked, range ids prefixed by the floor."""
    floors = []
    for fid in FLOORS:
        spec = stacked_hall(locations_per_floor)
        for entry in spec["stacks"]:
            entry["bank"] = f"{fid}{entry['bank']}"
            entry.update(shelves=6, books_per_shelf=per_shelf)
        floors.append({"id": fid, "footprint": spec["footprint"], "stacks": spec["stacks"]})
    width = spec["footprint"][1][0]
    at = lambda xy: {fid: xy for fid in FLOORS}  # noqa: E731
    return {"name": f"bench building, 4 floors x {locations_per_floor} locations",
            "floors": floors, "entrance": spec["entrance"], "entrance_floor": "G",
            "connectors": [{"id": "stairs W", "kind": "stairs", "at": at([1.0, 1.0])},
                           {"id": "stairs E", "kind": "stairs", "at": at([width - 1.0, 1.0])},
                           {"id": "lift", "kind": "lift", "at": at([width / 2 + 2.0, 1.0])}]}


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(books: int, T: float, seed: int) -> dict:
    from generate_holdings import holdings as make_holdings
    from shelfplan.ingest.synth import generate_loans

    per_floor = max(10, round(books / 20 / len(FLOORS)))      # about 20 books a location
    per_shelf = int(np.ceil(1.25 * books / (6 * per_floor * len(FLOORS))))   # 80 % full
    spec = building(per_floor, per_shelf)
    hall_from_dict(building(10, 5), source="warm-up").stacks.distances()   # numba kernels
    rss0 = rss_mib()
    t0 = time.perf_counter()
    loans = generate_loans(books // 4, seed=seed)
    hold = make_holdings(loans, books, seed)
    gen_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    hall = hall_from_dict(spec, source="bench building")
    check_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    hall.stacks.distances()
    table_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        lp, hp = os.path.join(tmp, "loans.csv"), os.path.join(tmp, "holdings.csv")
        loans.to_csv(lp, index=False)
        hold.to_csv(hp, index=False)
        n_loans, n_borrowed = len(loans), int(loans["item_id"].nunique())
        del loans, hold
        t0 = time.perf_counter()
        lay = shelfplan.fit(lp, hall=hall, holdings=hp, time_limit=T, seed=seed)
        fit_s = time.perf_counter() - t0
        rss_fit = rss_mib()
        _, prob = shelf_problem(lp, hall, holdings=hp)
    W = prob.symmetric_weights()
    D, cap = prob.D, prob.capacity
    same = list(map(str, lay.items)) == list(map(str, prob.items))
    t0 = time.perf_counter()
    pop = peers.popularity_slotting(prob.p, prob.order_key, D, cap, np.arange(prob.m))
    pop_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ils = peers.location_ils(pop, D, prob.p, W, cap, time_limit=T, seed=seed)
    ils_s = time.perf_counter() - t0
    floors_used = np.bincount(hall.stacks.loc_floor[lay.shelf["loc"]], minlength=4)
    return {"books": int(prob.n), "borrowed": n_borrowed, "loans": n_loans,
            "pairs": int(len(prob.W)), "floors": len(FLOORS), "locations": int(prob.m),
            "slots": int(cap.sum()), "books_per_floor": floors_used.tolist(),
            "time_limit": T, "seed": seed, "generate_seconds": round(gen_s, 2),
            "hall_check_seconds": round(check_s, 2), "table_seconds": round(table_s, 2),
            "fit_seconds": round(fit_s, 2), "stopped_by": lay.solver.get("stopped_by"),
            "S_fit_reported": lay.objective["total"],
            "S_fit": peers.s_walk(lay.shelf["loc"], D, prob.p, W) if same else None,
            "S_popularity": peers.s_walk(pop, D, prob.p, W), "popularity_seconds": round(pop_s, 2),
            "S_location_ils": peers.s_walk(ils, D, prob.p, W), "ils_seconds": round(ils_s, 2),
            "lower_bound": lay.lower_bound["total"],
            "rss_after_warmup_mib": round(rss0), "peak_rss_fit_mib": round(rss_fit),
            "peak_rss_mib": round(rss_mib()),
            "load_avg": [round(x, 2) for x in os.getloadavg()]}


def markdown(r: dict) -> str:
    f = lambda x: f"{x:.4f}"  # noqa: E731
    return "\n".join([
        "# A four-floor building with 100,000 holdings (benchmarks/bench_building.py)", "",
        f"{r['books']:,} books ({r['borrowed']:,} borrowed, {r['loans']:,} loans, "
        f"{r['pairs']:,} pairs), {r['floors']} floors, {r['locations']:,} locations, "
        f"{r['slots']:,} slots; two stairs and a lift; seed {r['seed']}; load average at the "
        f"end {r['load_avg']}.", "",
        "| step | seconds | peak memory |", "|---|---:|---:|",
        f"| hall check (4 floors) | {r['hall_check_seconds']} | |",
        f"| walking table (4 floor tables + connectors) | {r['table_seconds']} | |",
        f"| fit (time limit {r['time_limit']:g} s, stopped by {r['stopped_by']}) | "
        f"{r['fit_seconds']} | {r['peak_rss_fit_mib']:,} MiB |", "",
        "| plan | S_walk (m) | S / lower bound | seconds |", "|---|---:|---:|---:|",
        f"| shelfplan fit | {f(r['S_fit'])} | {r['S_fit'] / r['lower_bound']:.3f} | "
        f"{r['fit_seconds']} |",
        f"| popularity slotting | {f(r['S_popularity'])} | "
        f"{r['S_popularity'] / r['lower_bound']:.3f} | {r['popularity_seconds']} |",
        f"| location ILS (best move / swap, same time) | {f(r['S_location_ils'])} | "
        f"{r['S_location_ils'] / r['lower_bound']:.3f} | {r['ils_seconds']} |", "",
        f"Lower bound {f(r['lower_bound'])} m. Books per floor: {r['books_per_floor']}. "
        f"S of the fit as reported {f(r['S_fit_reported'])}, recomputed from the table "
        f"{f(r['S_fit'])}.", ""])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--books", type=int, default=100_000)
    ap.add_argument("--time", type=float, default=120.0, help="fit and ILS time limit (s)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=os.path.join(HERE, "results", "bench_building"))
    args = ap.parse_args(argv)
    r = run(args.books, args.time, args.seed)
    print(json.dumps(r, indent=1))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out + ".json", "w", encoding="utf-8") as fh:
        json.dump(r, fh, indent=1)
    with open(args.out + ".md", "w", encoding="utf-8") as fh:
        fh.write(markdown(r))
    return 0


if __name__ == "__main__":
    sys.exit(main())
