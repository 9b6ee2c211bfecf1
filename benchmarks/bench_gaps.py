"""Call-number blocks with gaps (issue 20): ``fit --keep-order blocks`` against a plain
block-order local search that may leave free slots between blocks, at equal wall time.

    python benchmarks/bench_gaps.py [--time 15] [--fills 1,0.85] [--out benchmarks/results]

Loan sets: the sample (data/) and ePub-WU (../shared/data/epub_wu, series as
categories, as in bench_shelving.py). Halls: the sample's and the ePub-WU
reading room, plus three shapes made here (``HALLS``): a long corridor with
wall shelving on both sides, a stack room of ten parallel ranges entered at a
corner, and an L-shaped pair of rooms with two banks and wall shelving.

The peer (``gap_ls``), what a user could write in an afternoon: the state is
the order of the blocks and the free slots before each block (the rest after
the last); a step is a swap of two blocks, a move of one block elsewhere in the
order, or a shift of 1..all free slots from one gap to another, each priced by
recomputing S_walk of the whole plan (``shelving_peers.s_walk``) and kept when
lower. It starts from the better of call-number order and class-based storage
(COI) and runs for as long as the whole ``fit`` call took (reading the loans,
the walking table and all), so it never has less time than the solver.
Both plans are scored by ``s_walk`` on the same arrays. With a fill below 1,
every block's stretch must hold ``ceil(n_c / f)`` slots in both.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from fractions import Fraction

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench_shelving as bs  # noqa: E402
from shelving_peers import s_walk  # noqa: E402

import shelfplan  # noqa: E402
from shelfplan.judge.promises import check_blocks_kept, check_feasible, check_fill  # noqa: E402
from shelfplan.model.hall import hall_from_dict  # noqa: E402
from shelfplan.shelf import block_categories, shelf_problem  # noqa: E402
from shelfplan.solve.fill import ShelvingOptions, block_need  # noqa: E402
from shelfplan.solve.runs import Runs  # noqa: E402

SHELF = {"shelves": 4, "books_per_shelf": 12}
HALLS = {
    "corridor": {
        "name": "corridor 40 x 6 m, wall shelving both sides, entrance at one end",
        "footprint": [[0, 0], [40, 0], [40, 6], [0, 6]], "entrance": [0.0, 3.0, 1.2],
        "stacks": [
            {"id": "S", "start": [1.0, 0.0], "end": [39.0, 0.0], "sections": 38,
             "faces": "left", **SHELF},
            {"id": "N", "start": [39.0, 6.0], "end": [1.0, 6.0], "sections": 38,
             "faces": "left", **SHELF}]},
    "stack_room": {
        "name": "stack room 24 x 12 m, ten parallel ranges, entrance at a corner",
        "footprint": [[0, 0], [24, 0], [24, 12], [0, 12]], "entrance": [1.0, 0.0, 1.2],
        "stacks": [{"bank": "R", "origin": [21.0, 2.0], "angle": 90, "ranges": 10,
                    "length": 8.0, "sections": 8, "shelves": 3, "books_per_shelf": 10}]},
    "l_rooms": {
        "name": "two rooms in an L, two banks and a wall range",
        "footprint": [[0, 0], [16, 0], [16, 8], [8, 8], [8, 16], [0, 16]],
        "entrance": [12.0, 0.0, 1.2],
        "stacks": [
            {"bank": "A", "origin": [9.5, 2.0], "ranges": 3, "length": 5.0, "sections": 5,
             "shelves": 5, "books_per_shelf": 12},
            {"bank": "B", "origin": [6.5, 9.0], "angle": 90, "ranges": 3, "length": 5.0,
             "sections": 5, "shelves": 5, "books_per_shelf": 12},
            {"id": "W", "start": [0.0, 1.0], "end": [0.0, 15.0], "sections": 14,
             "faces": "right", **SHELF}]},
}


def plan(order, x, need, blocks, slot_loc):
    start = np.empty(blocks.K, dtype=np.int64)
    s = 0
    for q, b in enumerate(order):
        s += x[q]
        start[b] = s
        s += need[b]
    return slot_loc[start[blocks.block] + blocks.rank]


def gap_ls(blocks, need, slot_loc, D, p, W, seconds, seed):
    """The peer: block swaps, moves and gap shifts, each priced by recomputation."""
    rng = np.random.default_rng(seed)
    K, E = blocks.K, int(len(slot_loc) - need.sum())
    mass = np.bincount(blocks.block, weights=p, minlength=K)
    coi = np.argsort(-mass / blocks.sizes, kind="stable")
    near = int(np.argmin(D[0, slot_loc + 1]))
    starts = []
    for order, lead in ((np.arange(K), 0), (coi, min(E, max(0, near - int(need[coi[0]]) // 2)))):
        x = np.zeros(K + 1, dtype=np.int64)
        x[0], x[-1] = lead, E - lead
        starts.append((s_walk(plan(order, x, need, blocks, slot_loc), D, p, W), order, x))
    best, order, x = min(starts, key=lambda t: t[0])
    deadline = time.monotonic() + seconds
    steps = 0
    while time.monotonic() < deadline:
        steps += 1
        o2, x2 = order.copy(), x.copy()
        r = rng.random()
        if r < 0.35:
            a, b = rng.choice(K, 2, replace=False)
            o2[a], o2[b] = order[b], order[a]
        elif r < 0.6:
            a, b = rng.choice(K, 2, replace=False)
            o2 = np.insert(np.delete(order, a), b, order[a])
        else:
            has = np.nonzero(x > 0)[0]
            if not len(has):
                continue
            a = int(rng.choice(has))
            b = int(rng.integers(K + 1))
            d = int(rng.integers(1, x[a] + 1))
            x2[a] -= d
            x2[b] += d
        S = s_walk(plan(o2, x2, need, blocks, slot_loc), D, p, W)
        if S < best:
            best, order, x = S, o2, x2
    return best, steps


def run(name, hall_name, loans, holdings, hall, T, seed, fill, rows):
    est, prob = shelf_problem(loans, hall, holdings=holdings)
    blocks = Runs(prob, block_categories(prob))
    f = Fraction(str(fill))
    need = block_need(blocks.sizes, [f] * blocks.K)
    D, p, W = prob.D, prob.p, prob.symmetric_weights()
    slot_loc = np.repeat(np.arange(prob.m), prob.capacity)
    t0 = time.monotonic()
    lay = shelfplan.fit(loans, hall=hall, holdings=holdings, keep_order="blocks",
                        time_limit=T, seed=seed, shelving=ShelvingOptions(fill=str(fill)))
    t_fit = time.monotonic() - t0
    where = {str(i): k for k, i in enumerate(lay.items)}
    S_fit = s_walk(lay.shelf["loc"][[where[str(i)] for i in prob.items]], D, p, W)
    kept = not (check_feasible(lay) or check_blocks_kept(lay) or check_fill(lay, True))
    S_peer, steps = gap_ls(blocks, need, slot_loc, D, p, W, t_fit, seed)
    rows.append({"loans": name, "hall": hall_name, "books": int(prob.n),
                 "blocks": int(blocks.K), "slots": int(len(slot_loc)), "fill": str(fill),
                 "seconds": round(t_fit, 1), "peer_gap_ls": S_peer, "peer_steps": steps,
                 "fit_blocks": S_fit, "promises_kept": kept,
                 "fit_vs_peer_percent": 100 * (S_fit / S_peer - 1)})
    bs.say(f"{name} on {hall_name} fill {fill}: fit {S_fit:.4f} peer {S_peer:.4f} "
           f"({100 * (S_fit / S_peer - 1):+.1f} %), {t_fit:.1f} s, promises kept {kept}")


def markdown(res) -> str:
    lines = ["# Call-number blocks against a gap-allowing block local search (issue 20)", "",
             f"Command: `python benchmarks/bench_gaps.py --time {res['time']} --fills "
             f"{res['fills']}`  ", f"Machine: {res['machine']}", "",
             "| loans | hall | books | blocks | slots | fill | seconds | peer (gap LS) | "
             "fit --keep-order blocks | fit vs peer | promises kept |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in res["rows"]:
        lines.append(f"| {r['loans']} | {r['hall']} | {r['books']} | {r['blocks']} | "
                     f"{r['slots']} | {r['fill']} | {r['seconds']} | {r['peer_gap_ls']:.4f} | "
                     f"{r['fit_blocks']:.4f} | {r['fit_vs_peer_percent']:+.1f} % | "
                     f"{'yes' if r['promises_kept'] else 'NO'} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time", type=float, default=15.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fills", default="1,0.85")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    args = ap.parse_args(argv)
    started = bs.machine()
    bs.warm_up()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        sets = bs.instances(False, args.out, tmp)
        for fill in args.fills.split(","):
            for name, loans, holdings, own in sets:
                halls = [(own.name.split(" (")[0], own)] + [
                    (k, hall_from_dict(v, source=k)) for k, v in HALLS.items()]
                for hall_name, hall in halls:
                    run(name, hall_name, loans, holdings, hall, args.time, args.seed,
                        fill.strip(), rows)
    res = {"time": args.time, "fills": args.fills, "machine": started, "rows": rows}
    res["machine"]["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    bs.write_atomic(os.path.join(args.out, "gaps_results.json"), json.dumps(res, indent=1))
    bs.write_atomic(os.path.join(args.out, "gaps_results.md"), markdown(res))
    print(markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
