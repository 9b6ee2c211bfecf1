"""Call-number blocks on the shelves (issue 12): fit --keep-order blocks against peers,
and the saving-versus-books-moved curve.

    python benchmarks/bench_blocks.py [--time 10] [--out benchmarks/results]

Instances: the sample (data/ loans, holdings, stacked hall) and ePub-WU (series as
categories, the stacked hall of bench_shelving.py). Peers, all from arrays alone
(the walking table, capacities, each book's block and call-number rank), scored by
``shelving_peers.s_walk``:

* ``callnumber``: today's shelving, the blocks in call-number order;
* ``coi``: class-based storage by cube-per-order index: blocks by loans per book,
  the densest first, laid along the shelving order from the slot nearest the
  entrance onwards (wrapping round to the first slot);
* ``swap-LS``: what a user could assemble with numpy: first-improvement swaps of
  two blocks in the order, each priced by recomputing S_walk of the whole plan,
  from the better of the two above, for the same wall time fit took.
  ``scipy.optimize.quadratic_assignment`` does not apply: it assigns K facilities to
  K equal locations, while blocks of different sizes shift every block after them.

The curve: ``fit --keep-order blocks --current today --max-moves N`` for growing N.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench_shelving as bs  # noqa: E402
from shelving_peers import s_walk  # noqa: E402

import shelfplan  # noqa: E402
from shelfplan.shelf import block_categories, shelf_problem  # noqa: E402
from shelfplan.solve.runs import Runs  # noqa: E402


def plan_of(order, blocks, slot_loc, lead=0):
    start = np.empty(blocks.K, dtype=np.int64)
    start[order] = lead + np.concatenate([[0], np.cumsum(blocks.sizes[order])[:-1]])
    return slot_loc[start[blocks.block] + blocks.rank]


def coi(blocks, p, D, slot_loc):
    mass = np.bincount(blocks.block, weights=p, minlength=blocks.K)
    order = np.argsort(-mass / blocks.sizes, kind="stable")
    s0 = int(np.argmin(D[0, slot_loc + 1]))
    n, m = int(blocks.sizes.sum()), len(slot_loc)
    start = min(s0, m - n)                 # from the slot nearest the entrance on
    return plan_of(order, blocks, slot_loc, lead=start)


def swap_ls(order, blocks, slot_loc, D, p, W, seconds, seed):
    rng = np.random.default_rng(seed)
    best = s_walk(plan_of(order, blocks, slot_loc), D, p, W)
    deadline = time.monotonic() + seconds
    K = blocks.K
    while time.monotonic() < deadline:
        a, b = rng.choice(K, 2, replace=False)
        new = order.copy()
        new[a], new[b] = order[b], order[a]
        S = s_walk(plan_of(new, blocks, slot_loc), D, p, W)
        if S < best:
            order, best = new, S
    return order, best


def run(name, loans, holdings, hall, T, seed, out_rows, curve_rows):
    est, prob = shelf_problem(loans, hall, holdings=holdings)
    blocks = Runs(prob, block_categories(prob))
    D, p, W = prob.D, prob.p, prob.symmetric_weights()
    slot_loc = np.repeat(np.arange(prob.m), prob.capacity)
    today = np.arange(blocks.K)
    S_today = s_walk(plan_of(today, blocks, slot_loc), D, p, W)
    S_coi = s_walk(coi(blocks, p, D, slot_loc), D, p, W)
    t0 = time.monotonic()
    lay = shelfplan.fit(loans, hall=hall, holdings=holdings, keep_order="blocks",
                        time_limit=T, seed=seed)
    t_fit = time.monotonic() - t0
    S_fit = s_walk(lay.shelf["loc"][_align(lay, prob)], D, p, W)
    _, S_ls = swap_ls(today if S_today <= S_coi else np.argsort(
        -np.bincount(blocks.block, weights=p, minlength=blocks.K) / blocks.sizes), blocks,
        slot_loc, D, p, W, t_fit, seed)
    out_rows.append({"instance": name, "books": int(prob.n), "blocks": int(blocks.K),
                     "seed": seed, "fit_seconds": round(t_fit, 1), "callnumber": S_today,
                     "coi": S_coi, "swap_ls": S_ls, "fit_blocks": S_fit,
                     "fit_reported": lay.objective["total"]})
    bs.say(f"{name}: today {S_today:.4f} coi {S_coi:.4f} swap-LS {S_ls:.4f} "
           f"fit {S_fit:.4f} ({t_fit:.1f} s)")
    with tempfile.TemporaryDirectory() as tmp:
        cur = os.path.join(tmp, "today.json")
        shelfplan.write_layout(shelfplan.baseline("callnumber", loans, hall=hall,
                                                  holdings=holdings), cur)
        for budget in (0, 25, 50, 100, 200, 400, 800, prob.n):
            lay = shelfplan.fit(loans, hall=hall, holdings=holdings, keep_order="blocks",
                                current=cur, max_moves=int(budget), time_limit=T, seed=seed)
            curve_rows.append({"instance": name, "max_moves": int(budget),
                               "moved": lay.solver["moved"], "S_walk": lay.objective["total"],
                               "saving_percent": 100 * (1 - lay.objective["total"] / S_today),
                               "shift_steps": len(lay.solver["shift_plan"])})
            bs.say(f"  {name} max_moves {budget}: moved {lay.solver['moved']}, "
                   f"S {lay.objective['total']:.4f}")


def _align(lay, prob):
    where = {str(i): k for k, i in enumerate(lay.items)}
    return np.array([where[str(i)] for i in prob.items])


def markdown(res) -> str:
    lines = ["# Call-number blocks: fit against peers, and the moves curve (issue 12)", "",
             f"Command: `python benchmarks/bench_blocks.py --time {res['time']}`  ",
             f"Machine: {res['machine']}", "",
             "| instance | books | blocks | today | COI | swap-LS (same time) | fit blocks | fit s |",
             "|---|---|---|---|---|---|---|---|"]
    for r in res["quality"]:
        lines.append(f"| {r['instance']} | {r['books']} | {r['blocks']} | "
                     f"{r['callnumber']:.4f} | {r['coi']:.4f} | {r['swap_ls']:.4f} | "
                     f"{r['fit_blocks']:.4f} | {r['fit_seconds']} |")
    lines += ["", "| instance | max moves | books moved | S_walk | saving vs today | shift steps |",
              "|---|---|---|---|---|---|"]
    for r in res["curve"]:
        lines.append(f"| {r['instance']} | {r['max_moves']} | {r['moved']} | "
                     f"{r['S_walk']:.4f} | {r['saving_percent']:.1f} % | {r['shift_steps']} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    args = ap.parse_args(argv)
    bs.warm_up()
    quality, curve = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for name, loans, holdings, hall in bs.instances(False, args.out, tmp):
            run(name, loans, holdings, hall, args.time, args.seed, quality, curve)
    res = {"time": args.time, "machine": bs.machine(), "quality": quality, "curve": curve}
    bs.write_atomic(os.path.join(args.out, "blocks_results.json"), json.dumps(res, indent=1))
    bs.write_atomic(os.path.join(args.out, "blocks_results.md"), markdown(res))
    print(markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
