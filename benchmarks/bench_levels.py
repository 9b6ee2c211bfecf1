"""Benchmark category blocks (``--level category``): shelfplan's block solver against
the block baselines and a general-purpose SciPy peer, on the same instances.

    python benchmarks/bench_levels.py                 # all instances (about 10 min)
    python benchmarks/bench_levels.py --quick         # the sample only
    python benchmarks/bench_levels.py --scale 500     # time and memory at 500 random blocks

Instances: the sample (data/) at Dewey class and division level in its own hall;
epub_wu (../shared/data, when present) with its series as categories in the
default hall; a synthetic library of 5,000 items at Dewey division and section
level in the default hall.

Methods, all judged by the exact MODEL.md cost S of the same problem (p and pair
weights summed over each category's items) and checked for feasibility:

* ``fit``: :func:`shelfplan.solve.blocks.solve_blocks` (default settings, 50 s cap);
* ``random``, ``popularity``, ``callnumber``: the block baselines (each block at
  the free spot nearest the entrance, in that order);
* ``slsqp``: what a SciPy user could assemble without shelfplan: ``minimize(...,
  method="SLSQP")`` on the exact (smoothed) cost with every pair's non-overlap
  ``||v_i - v_j|| >= rho_i + rho_j`` and every wall margin as explicit inequality
  constraints, started from the popularity baseline (feasible), then the
  call-number baseline, then random-order baselines, until it has used fit's wall
  time (at least the first start); the best feasible answer counts. An answer
  that is not feasible gets shelfplan's repair (counted in its time), else it is
  dropped. Run only up to 100 blocks (n^2/2 dense constraints).

Timings are wall seconds of one run each (the solver is deterministic for a seed);
S is what matters. Results go to stdout as Markdown and to --json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shelfplan.model import discs  # noqa: E402
from shelfplan.solve import blocks  # noqa: E402
from shelfplan.api import load_problem  # noqa: E402
from shelfplan.solve.options import FitOptions  # noqa: E402
from shelfplan.model.bound import lower_bound  # noqa: E402
from shelfplan.model.hall import load_hall  # noqa: E402
from shelfplan.model.objective import walking_cost  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "epub_wu" / "loans.csv"


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def instances(quick: bool, tmp: str):
    hall = load_hall(ROOT / "data" / "hall.json")
    sample = ROOT / "data" / "loans.csv"
    out = [("sample, Dewey class", sample, hall, {"category_from": "callnumber",
                                                   "category_level": 1}),
           ("sample, Dewey division", sample, hall, {"category_from": "callnumber",
                                                      "category_level": 2})]
    if quick:
        return out
    if SHARED.exists():
        out.append(("epub_wu series", SHARED, None, {}))
    path = os.path.join(tmp, "shelfplan_levels_5000.csv")
    if not os.path.exists(path):
        from shelfplan.ingest.synth import generate_loans
        generate_loans(5000, seed=0).to_csv(path, index=False)
    out.append(("synthetic 5000, Dewey division", path, None,
                {"category_from": "callnumber", "category_level": 2}))
    out.append(("synthetic 5000, Dewey section", path, None,
                {"category_from": "callnumber", "category_level": 3}))
    return out


def slsqp_peer(problem, X0: np.ndarray, maxiter: int = 200):
    """SLSQP with explicit non-overlap and wall constraints (see the docstring)."""
    from scipy.optimize import minimize

    from shelfplan.model.objective import entrance_term, pair_term

    geo = blocks.Discs(problem)
    n = problem.n
    rho, marg = geo.rho, geo.margin
    iu, ju = np.triu_indices(n, k=1)
    need = rho[iu] + rho[ju]
    eps = 0.01 * problem.hall.d_min

    def f(x):
        X = geo.positions(x.reshape(-1, 2))
        fe, ge = entrance_term(X, problem.p, problem.hall.entrance, eps)
        fp, gp = pair_term(X, problem.I, problem.J, problem.W, eps)
        return fe + fp, (ge + gp)[:, :2].ravel()

    def pairs(x):
        xy = x.reshape(-1, 2)
        return np.sqrt(((xy[iu] - xy[ju]) ** 2).sum(axis=1)) - need

    def pairs_jac(x):
        xy = x.reshape(-1, 2)
        diff = xy[iu] - xy[ju]
        r = np.sqrt((diff ** 2).sum(axis=1))
        u = diff / np.maximum(r, 1e-12)[:, None]
        J = np.zeros((len(iu), 2 * n))
        k = np.arange(len(iu))
        J[k, 2 * iu], J[k, 2 * iu + 1] = u[:, 0], u[:, 1]
        J[k, 2 * ju], J[k, 2 * ju + 1] = -u[:, 0], -u[:, 1]
        return J

    def walls(x):
        sd, _ = discs.signed_clearance(x.reshape(-1, 2), problem.hall)
        return sd - marg

    t = time.perf_counter()
    res = minimize(f, X0[:, :2].ravel(), jac=True, method="SLSQP",
                   constraints=[{"type": "ineq", "fun": pairs, "jac": pairs_jac},
                                {"type": "ineq", "fun": walls}],
                   options={"maxiter": maxiter})
    X = geo.positions(res.x.reshape(-1, 2))
    note = ""
    if not blocks.is_feasible(X, rho, problem.hall):
        Xr = geo.repair(X)
        note = "repaired" if Xr is not None else "infeasible"
        X = Xr
    return X, time.perf_counter() - t, note, int(res.nit)


def run(name, loans, hall, opts):
    say(f"== {name}")
    est, problem = load_problem(loans, hall, read_options={"level": "category", **opts})
    row = {"instance": name, "blocks": problem.n, "books": int(problem.sizes.sum()),
           "hall": problem.hall.name, "floor_m2": round(problem.hall.floor.area, 1)}
    res = {}
    for b in ("random", "popularity", "callnumber"):
        t = time.perf_counter()
        X = blocks.baseline_blocks(b, problem, seed=0)
        res[b] = {"S": walking_cost(X, problem)["total"], "s": time.perf_counter() - t,
                  "feasible": blocks.is_feasible(X, problem.radius, problem.hall)}
    t = time.perf_counter()
    sol = blocks.solve_blocks(problem, FitOptions(seed=0), time.monotonic() + 50.0)
    res["fit"] = {"S": sol.cost["total"], "s": time.perf_counter() - t,
                  "feasible": blocks.is_feasible(sol.positions, problem.radius, problem.hall),
                  "stopped_by": sol.info["stopped_by"]}
    if problem.n <= 100:
        budget = res["fit"]["s"]
        t = time.perf_counter()
        best, starts, notes = None, 0, []
        for start in ["popularity", "callnumber"] + [f"random:{k}" for k in range(1000)]:
            if starts and time.perf_counter() - t > budget:
                break
            name_, _, seed = start.partition(":")
            X0 = blocks.baseline_blocks(name_, problem, seed=int(seed or 0))
            X, _, note, _ = slsqp_peer(problem, X0)
            starts += 1
            if note:
                notes.append(note)
            if X is not None:
                S = walking_cost(X, problem)["total"]
                if best is None or S < best[0]:
                    best = (S, start)
        res["slsqp"] = {"S": None if best is None else best[0], "s": time.perf_counter() - t,
                        "feasible": best is not None, "starts": starts,
                        "best_start": None if best is None else best[1],
                        "note": f"{starts} starts" + (f", {notes.count('repaired')} repaired"
                                                      if "repaired" in notes else "")}
    row["lower_bound_items"] = lower_bound(est.p, est.pair, problem.hall.d_min,
                                           problem.hall.height)["total"]
    row["results"] = res
    for k, v in res.items():
        say(f"  {k:10s} S={v['S'] if v['S'] is None else round(v['S'], 4)}  "
            f"{v['s']:.1f} s  feasible={v['feasible']} {v.get('note', '')}")
    return row


def markdown(rows) -> str:
    out = ["| instance | blocks (books) | fit S | vs random | vs popularity | vs callnumber "
           "| vs SLSQP peer | fit s | SLSQP s |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        res = r["results"]
        S = res["fit"]["S"]

        def gap(k):
            v = res.get(k)
            if v is None:
                return "—"
            if v["S"] is None:
                return "peer infeasible"
            return f"{100 * (v['S'] - S) / v['S']:+.1f} %"
        peer_s = f"{res['slsqp']['s']:.1f}" if "slsqp" in res else "—"
        note = res.get("slsqp", {}).get("note")
        out.append(f"| {r['instance']} | {r['blocks']} ({r['books']:,}) | {S:.4f} | "
                   f"{gap('random')} | {gap('popularity')} | {gap('callnumber')} | "
                   f"{gap('slsqp')}{' (' + note + ')' if note else ''} | "
                   f"{res['fit']['s']:.1f} | {peer_s} |")
    out.append("")
    out.append("Each 'vs' column: how much lower fit's S is than that method's "
               "(positive: fit better).")
    return "\n".join(out)


def scale(n: int) -> None:
    """A random block problem of ``n`` blocks in the default hall: time, memory, S."""
    import resource

    import scipy.sparse as sp

    from shelfplan.model.estimate import Estimates
    from shelfplan.model.hall import default_hall
    from shelfplan.model.problem import Problem

    rng = np.random.default_rng(0)
    p = rng.zipf(1.6, n).astype(float)
    p /= p.sum()
    C = sp.random(n, n, density=min(1.0, 8 / n), random_state=0, format="csr")
    C = sp.triu(C + C.T, 1)
    C = (C + C.T).tocsr()
    rows = np.asarray(C.sum(axis=1)).ravel()
    pair = sp.diags(np.divide(p, rows, out=np.zeros(n), where=rows > 0)) @ C
    sizes = rng.integers(1, 80, n)
    est = Estimates(items=np.array([f"C{i}" for i in range(n)], dtype=object), categories=None,
                    counts=np.ones(n, dtype=np.int64), p=p, cooc=C, pair=sp.csr_matrix(pair),
                    sizes=sizes)
    problem = Problem.from_estimates(est, default_hall(int(sizes.sum()), headroom=3.0))
    t = time.perf_counter()
    res = blocks.solve_blocks(problem, FitOptions(), time.monotonic() + 50.0)
    secs = time.perf_counter() - t
    pop = walking_cost(blocks.baseline_blocks("popularity", problem), problem)["total"]
    print(json.dumps({
        "blocks": n, "books": int(sizes.sum()), "seconds": round(secs, 1),
        "stopped_by": res.info["stopped_by"], "S": res.cost["total"], "S_popularity": pop,
        "feasible": blocks.is_feasible(res.positions, problem.radius, problem.hall),
        "improved_starts": sum("improved" in h["candidate"] for h in res.info["history"]),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}, indent=1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="the sample only")
    ap.add_argument("--json", default=None, help="write the raw results here")
    ap.add_argument("--dir", default="/tmp", help="where the synthetic loans go [/tmp]")
    ap.add_argument("--scale", type=int, default=None, metavar="N",
                    help="only time the solver on N random blocks")
    args = ap.parse_args()
    if args.scale:
        scale(args.scale)
        return
    rows = [run(*inst) for inst in instances(args.quick, args.dir)]
    print(markdown(rows))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1, default=float)


if __name__ == "__main__":
    main()
