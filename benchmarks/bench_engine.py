"""The search engine judged (issue 19): fit against the lattice swap local search on
free halls and the best-move swap search on a stacked hall, at 1x and 10x of fit's
wall time, and the curve S against time on the L-shaped hall with a pillar.

    python benchmarks/bench_engine.py                      # everything, about 35 min
    python benchmarks/bench_engine.py --quick              # smoke run, about 2 min
    python benchmarks/bench_engine.py --only lhall-curve   # one part (free, epub, lhall-curve)
    python benchmarks/bench_engine.py --report             # md and plot from the json again
    python benchmarks/bench_engine.py --report --before benchmarks/results/engine_before.json
                                  # ... with the curve of an older shelfplan beside it

Parts (``--only free,epub,lhall-curve``; a part run alone replaces only its own entry
in the JSON, so parts can be run one at a time):

- ``free``: halls of ``benchmarks/bench_shapes.py`` (``rect``, ``lshape`` with a pillar,
  ``pillared``, ``corridor``) for 1,000 and 5,000 items (loans:
  ``generate_loans(n, loans_per_item=10, seed=0)``, a CSV in a temporary folder).
  ``shelfplan.fit(csv, hall=..., time_limit=T, seed=0)`` with T = ``--times`` (10 s at
  1,000, 20 s at 5,000), its wall time ``t_fit`` measured around the call; then the
  peer ``peers.swap_local_search`` (iterated lattice swap local search: best move per
  item over near sites, exact sparse deltas, kicks), its clock started before the
  loans are read (``load_problem``) and given ``1 x t_fit`` and ``10 x t_fit``.
  ``--free-peer site-ils``: issue 13's stronger peer (``site_ils.peer_fit``: the best
  baseline, then swaps and moves around each book's weighted median with candidate
  lists deepening 16 to 512, then kicks) instead, here and in the curve.
- ``epub``: the ePub-WU sessions (``../shared/data/epub_wu`` beside the repository;
  936 documents) in the stacked reading room of ``bench_shelving.epub_hall`` (stored in
  ``benchmarks/results/shelving_epub_wu_hall.json``; holdings: the documents, category =
  series). The loans and holdings are read and the walking
  table computed before anything is timed. fit with ``--epub-time``; the peer
  ``shelving_peers.location_ils`` (each book takes its best improving move or swap
  among the locations nearest its weighted median location, exact deltas over the
  walking table; kicks once converged) from popularity slotting, at 1x and 10x.
- ``lhall-curve``: the L-shaped hall with a pillar, 1,000 items: fit at each of
  ``--curve-times`` (5, 15, 30, 60, 120 s), and one peer run of ``--curve-peer`` (300) s
  whose best-so-far S is recorded against time. Goal: fit at 120 s below the peer at
  300 s. Plot: ``docs/img/engine_curve_lhall1000.png`` (``--plot``).

Every layout is scored here the same way: free halls by
``shelfplan.model.objective.walking_cost`` and ``is_feasible`` on the scorer's own
problem (fit's items matched by id); stacked halls by ``shelving_peers.s_walk`` (MODEL.md
section 8.4, written from the contract) and a capacity check. "fit vs peer" is
``S_fit / S_peer - 1``: positive where fit loses. Fit and its peers run in this one
process one after another (same load); the load average is recorded per part, and the
commit of the shelfplan that was imported.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
for _p in (HERE, os.path.join(REPO, "data")):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import shelfplan  # noqa: E402
from shelfplan.ingest.synth import generate_loans  # noqa: E402
from shelfplan.model.objective import is_feasible, walking_cost  # noqa: E402

PARTS = ("lhall-curve", "epub", "free")
SHAPES = ("rect", "lshape", "pillared", "corridor")
PLOT = os.path.join(REPO, "docs", "img", "engine_curve_lhall1000.png")


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def code_version(given: str | None = None) -> str:
    """The commit of the imported shelfplan (``+dirty`` with uncommitted changes), or
    ``given`` (``--code-rev``, for a copy made by ``git archive``)."""
    if given:
        return given
    where = os.path.dirname(os.path.dirname(os.path.abspath(shelfplan.__file__)))
    try:
        rev = subprocess.run(["git", "-C", where, "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", where, "status", "--porcelain", "shelfplan"],
                               capture_output=True, text=True).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _solver(lay) -> dict:
    """fit's own account: the short entries of ``layout.solver`` and its history."""
    out = {k: v for k, v in lay.solver.items()
           if isinstance(v, (int, float, str, bool, type(None))) and len(str(v)) < 300}
    if isinstance(lay.solver.get("history"), list):
        out["history"] = lay.solver["history"][-200:]
    return out


def warm_up() -> None:
    """Load (or compile) the compiled kernels before anything is timed."""
    t0 = time.monotonic()
    shelfplan.fit(os.path.join(REPO, "data", "loans.csv"), hall=os.path.join(
        REPO, "data", "hall.json"), time_limit=2.0, seed=0)
    shelfplan.fit(os.path.join(REPO, "data", "loans.csv"), hall=os.path.join(
        REPO, "data", "stacked_hall.json"), holdings=os.path.join(REPO, "data", "holdings.csv"),
        time_limit=2.0, seed=0)
    say(f"warm-up {time.monotonic() - t0:.1f} s")


# ---------------------------------------------------------------------------
# free halls


def free_problem(csv, hall):
    """The free-space problem of the loans in the hall (the peer's and the scorer's)."""
    from shelfplan.api import load_problem
    return load_problem(csv, hall)[1]


def free_score(X, items, problem) -> dict:
    """S and feasibility of positions ``X`` of ``items`` on the scorer's problem."""
    where = {str(i): k for k, i in enumerate(items)}
    rows = np.array([where[str(i)] for i in problem.items])
    if len(rows) != len(items):
        raise SystemExit("internal: fit placed other items than the scorer's problem")
    X = np.asarray(X, dtype=float)[rows]
    return {"S": walking_cost(X, problem)["total"], "feasible": bool(is_feasible(X, problem.hall))}


def run_fit_free(csv, hall, problem, T: float, seed: int) -> dict:
    gc.collect()
    t0 = time.monotonic()
    lay = shelfplan.fit(csv, hall=hall, seed=seed, time_limit=T)
    wall = time.monotonic() - t0
    return {**free_score(lay.positions, lay.items, problem), "time_limit": T,
            "wall_s": round(wall, 3), "S_reported": lay.objective["total"],
            "LB": float(lay.lower_bound["total"]), "solver": _solver(lay)}


#: the free-hall peers (``--free-peer``): name in the tables, and the run
FREE_PEERS = {"swap-ls": "lattice swap local search (peers.swap_local_search)",
              "site-ils": "site ILS of issue 13 (site_ils.peer_fit)"}


def run_peer_free(csv, hall, problem, budget: float, seed: int, which: str = "swap-ls") -> dict:
    gc.collect()
    t0 = time.monotonic()
    if which == "site-ils":                 # reads the loans and takes the best baseline
        import site_ils
        X, info = site_ils.peer_fit(csv, hall, time_limit=budget, seed=seed)
        items = problem.items               # the same loader, the same item order
    else:
        import peers
        own = free_problem(csv, hall)       # the peer reads the loans on its own clock
        X, info = peers.swap_local_search(own, time_budget=budget, seed=seed, start_time=t0)
        items = own.items
    wall = time.monotonic() - t0
    return {**free_score(X, items, problem), "budget_s": round(budget, 3),
            "wall_s": round(wall, 3), "peer": which, "info": info}


def free_instance(shape: str, n: int, csv: str, T: float, mults, seed: int,
                  which: str = "swap-ls") -> dict:
    from bench_shapes import make_hall
    hall = make_hall(shape, n)
    problem = free_problem(csv, hall)
    row = {"shape": shape, "n_requested": n, "n_items": int(problem.n),
           "pairs": int(len(problem.W)), "sites": int(len(hall.sites())), "load_start": load()}
    row["fit"] = run_fit_free(csv, hall, problem, T, seed)
    say(f"{shape} {n}: fit S={row['fit']['S']:.5f} in {row['fit']['wall_s']:.1f} s "
        f"({row['fit']['solver'].get('stopped_by')})")
    for mult in mults:
        tag = f"peer_{mult:g}x"
        row[tag] = run_peer_free(csv, hall, problem, mult * row["fit"]["wall_s"], seed, which)
        row[f"fit_vs_{tag}_pct"] = 100.0 * (row["fit"]["S"] / row[tag]["S"] - 1.0)
        say(f"{shape} {n}: {tag} S={row[tag]['S']:.5f} in {row[tag]['wall_s']:.1f} s "
            f"(fit {row[f'fit_vs_{tag}_pct']:+.2f} %)")
    row["load_end"] = load()
    return row


def part_free(a, tmp: str, save) -> dict:
    part = {"started": _now(), "load_start": load(), "times": a.times, "mults": a.mults,
            "peer": a.free_peer, "rows": []}
    for n in a.sizes:
        csv = os.path.join(tmp, f"loans_{n}.csv")
        generate_loans(n, loans_per_item=10, seed=0).to_csv(csv, index=False)
        for shape in a.shapes:
            part["rows"].append(free_instance(shape, n, csv, a.times[n], a.mults, a.seed,
                                              a.free_peer))
            part["load_end"] = load()
            save(part)
    return part


# ---------------------------------------------------------------------------
# the curve on the L-hall


def part_curve(a, tmp: str, save) -> dict:
    import peers
    from bench_shapes import make_hall
    n = a.curve_n
    csv = os.path.join(tmp, f"loans_{n}.csv")
    generate_loans(n, loans_per_item=10, seed=0).to_csv(csv, index=False)
    hall = make_hall("lshape", n)
    problem = free_problem(csv, hall)
    part = {"started": _now(), "load_start": load(), "shape": "lshape", "n_requested": n,
            "n_items": int(problem.n), "sites": int(len(hall.sites())), "fit": []}
    for T in a.curve_times:
        part["fit"].append(run_fit_free(csv, hall, problem, T, a.seed))
        part["load_end"] = load()
        say(f"curve: fit {T:g} s -> S={part['fit'][-1]['S']:.5f} in "
            f"{part['fit'][-1]['wall_s']:.1f} s ({part['fit'][-1]['solver'].get('stopped_by')})")
        save(part)
    part["peer"] = run_peer_free(csv, hall, problem, a.curve_peer, a.seed, a.free_peer)
    part["load_end"] = load()
    say(f"curve: peer {a.curve_peer:g} s -> S={part['peer']['S']:.5f}")
    # the peer's best so far at each of fit's wall times
    hist = part["peer"]["info"]["history"]
    for f in part["fit"]:
        f["peer_best_at_wall"] = best_at(hist, f["wall_s"])
    return part


def best_at(history, t: float):
    """The peer's best S recorded at or before ``t`` seconds (None before its first)."""
    seen = [S for (s, S) in history if s <= t]
    return min(seen) if seen else None


# ---------------------------------------------------------------------------
# ePub-WU in a stacked hall


def stacked_arrays(loans, hall, holdings) -> tuple:
    from shelfplan.shelf import shelf_problem
    _, prob = shelf_problem(loans, hall, holdings=holdings)
    return prob, prob.D, prob.p, prob.symmetric_weights().tocsr(), prob.capacity


def stacked_score(loc, items, prob, W) -> dict:
    import shelving_peers
    where = {str(i): k for k, i in enumerate(items)}
    loc = np.asarray(loc, dtype=np.int64)[np.array([where[str(i)] for i in prob.items])]
    ok = bool(len(loc) == prob.n and (loc >= 0).all()
              and (np.bincount(loc, minlength=prob.m) <= prob.capacity).all())
    return {"S": shelving_peers.s_walk(loc, prob.D, prob.p, W), "feasible": ok}


#: ../shared/data/epub_wu beside the repository (or one level further up, for a worktree)
EPUB = next((d for d in (os.path.join(REPO, "..", "shared", "data", "epub_wu"),
                         os.path.join(REPO, "..", "..", "shared", "data", "epub_wu"))
             if os.path.isdir(d)), os.path.join(REPO, "..", "shared", "data", "epub_wu"))
#: the reading room of ``bench_shelving.epub_hall``, as that benchmark stored it
EPUB_HALL = os.path.join(HERE, "results", "shelving_epub_wu_hall.json")


def epub_holdings(loans_csv: str, path: str) -> None:
    """Every document of the sessions: category = its series, call number = series + id
    (as ``bench_shelving.epub_holdings``, whose module imports more of shelfplan)."""
    import pandas as pd
    d = pd.read_csv(loans_csv, dtype=str, keep_default_na=False).drop_duplicates("item_id")
    call = [f"{c} {i}" if c else i for c, i in zip(d["category"], d["item_id"])]
    pd.DataFrame({"item_id": d["item_id"], "call_number": call, "category": d["category"]}
                 ).sort_values("item_id").to_csv(path, index=False)


def part_epub(a, tmp: str, save) -> dict:
    import shelving_peers
    from shelfplan.ingest.holdings import read_holdings
    from shelfplan.ingest.loans import read_loans
    from shelfplan.model.hall import load_hall
    path = os.path.join(EPUB, "loans.csv")
    if not os.path.exists(path):
        raise SystemExit(f"{os.path.relpath(path, REPO)} not found: the epub part needs "
                         f"../shared/data/epub_wu beside the repository")
    hold = os.path.join(tmp, "epub_holdings.csv")
    epub_holdings(path, hold)
    hall = load_hall(EPUB_HALL)
    loans, holdings = read_loans(path), read_holdings(hold)
    hall.stacks.distances()                  # the walking table, for every method alike
    prob, D, p, W, cap = stacked_arrays(loans, hall, holdings)
    part = {"started": _now(), "load_start": load(), "books": int(prob.n),
            "pairs": int(len(prob.W)), "locations": int(prob.m), "slots": int(cap.sum()),
            "time_limit": a.epub_time, "mults": a.mults}
    gc.collect()
    t0 = time.monotonic()
    lay = shelfplan.fit(loans, hall=hall, holdings=holdings, time_limit=a.epub_time,
                        seed=a.seed)
    wall = time.monotonic() - t0
    part["fit"] = {**stacked_score(lay.shelf["loc"], lay.items, prob, W),
                   "wall_s": round(wall, 3), "S_reported": lay.objective["total"],
                   "LB": float(lay.lower_bound["total"]), "solver": _solver(lay)}
    say(f"epub: fit S={part['fit']['S']:.5f} in {wall:.1f} s "
        f"({part['fit']['solver'].get('stopped_by')})")
    for mult in a.mults:
        tag = f"peer_{mult:g}x"
        gc.collect()
        t1 = time.monotonic()
        pop = shelving_peers.popularity_slotting(p, prob.order_key, D, cap, np.arange(prob.m))
        left = mult * wall - (time.monotonic() - t1)
        loc = shelving_peers.location_ils(pop, D, p, W, cap, time_limit=left, seed=a.seed)
        part[tag] = {**stacked_score(loc, prob.items, prob, W),
                     "budget_s": round(mult * wall, 3), "wall_s": round(time.monotonic() - t1, 3)}
        part[f"fit_vs_{tag}_pct"] = 100.0 * (part["fit"]["S"] / part[tag]["S"] - 1.0)
        say(f"epub: {tag} S={part[tag]['S']:.5f} in {part[tag]['wall_s']:.1f} s "
            f"(fit {part[f'fit_vs_{tag}_pct']:+.2f} %)")
        part["load_end"] = load()
        save(part)
    return part


# ---------------------------------------------------------------------------
# output


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _pct(x) -> str:
    return "" if x is None else (f"**{x:+.2f} %**" if x > 0 else f"{x:+.2f} %")


def _feas(*rs) -> str:
    return "yes" if all(r["feasible"] for r in rs) else "**NO**"


def md_free(part: dict, mults) -> list[str]:
    heads = "".join(f" peer {m:g}x S | peer {m:g}x s | fit vs {m:g}x |" for m in mults)
    lines = [f"## Free halls: fit against the {FREE_PEERS[part.get('peer', 'swap-ls')]}", "",
             f"Started {part['started']}, load average {part['load_start']} at the start, "
             f"{part.get('load_end')} at the end.", "",
             "| hall | items | sites | fit limit s | fit S | fit s | stopped by |" + heads
             + " S/LB fit | feasible |",
             "|---|---:|---:|---:|---:|---:|---|" + "---:|---:|---:|" * len(mults)
             + "---:|---|"]
    for r in part["rows"]:
        f = r["fit"]
        cells = "".join(f" {r[f'peer_{m:g}x']['S']:.4f} | {r[f'peer_{m:g}x']['wall_s']:.1f} | "
                        f"{_pct(r[f'fit_vs_peer_{m:g}x_pct'])} |" for m in mults)
        lines.append(f"| {r['shape']} | {r['n_items']:,} | {r['sites']:,} | {f['time_limit']:g} "
                     f"| {f['S']:.4f} | {f['wall_s']:.1f} | {f['solver'].get('stopped_by')} |"
                     + cells + f" {f['S'] / f['LB']:.3f} | "
                     f"{_feas(f, *(r[f'peer_{m:g}x'] for m in mults))} |")
    return lines + [""]


def md_epub(part: dict, mults) -> list[str]:
    f = part["fit"]
    lines = ["## ePub-WU in a stacked hall: fit against the best-move swap search", "",
             f"{part['books']} books, {part['pairs']:,} co-borrowed pairs, {part['locations']} "
             f"locations, {part['slots']:,} slots; started {part['started']}, load average "
             f"{part['load_start']} at the start, {part.get('load_end')} at the end.", "",
             "| method | S_walk | wall s | fit vs method | S/LB | feasible |",
             "|---|---:|---:|---:|---:|---|",
             f"| fit ({part['time_limit']:g} s limit; stopped by "
             f"{f['solver'].get('stopped_by')}) | {f['S']:.4f} | {f['wall_s']:.1f} | | "
             f"{f['S'] / f['LB']:.3f} | {_feas(f)} |"]
    for m in mults:
        r = part.get(f"peer_{m:g}x")
        if r:
            lines.append(f"| location ILS {m:g}x | {r['S']:.4f} | {r['wall_s']:.1f} | "
                         f"{_pct(part[f'fit_vs_peer_{m:g}x_pct'])} | {r['S'] / f['LB']:.3f} | "
                         f"{_feas(r)} |")
    return lines + [""]


def md_before(before: dict) -> list[str]:
    """The same curve's fit runs with the engine it replaced (``--before``)."""
    part = before["lhall-curve"]
    lines = [f"fit before the engine (shelfplan {', '.join(before['meta']['code'])}, "
             f"`{before['meta']['commands'][-1]}`, started {part['started']}, load average "
             f"{part['load_start']} at the start, {part.get('load_end')} at the end):", "",
             "| fit limit s | fit S | fit wall s | stopped by |", "|---:|---:|---:|---|"]
    lines += [f"| {f['time_limit']:g} | {f['S']:.4f} | {f['wall_s']:.1f} | "
              f"{f['solver'].get('stopped_by')} |" for f in part["fit"]]
    return lines + [""]


def md_curve(part: dict) -> list[str]:
    peer = part.get("peer")
    lines = [f"## The curve: S against time, L-shaped hall with a pillar, "
             f"{part['n_items']:,} items", "",
             f"Started {part['started']}, load average {part['load_start']} at the start, "
             f"{part.get('load_end')} at the end.", "",
             "| fit limit s | fit S | fit wall s | stopped by | peer best so far at that wall "
             "| fit vs peer |", "|---:|---:|---:|---|---:|---:|"]
    for f in part["fit"]:
        pb = f.get("peer_best_at_wall")
        lines.append(f"| {f['time_limit']:g} | {f['S']:.4f} | {f['wall_s']:.1f} | "
                     f"{f['solver'].get('stopped_by')} | {'' if pb is None else f'{pb:.4f}'} | "
                     f"{_pct(None if pb is None else 100 * (f['S'] / pb - 1))} |")
    if peer:
        lines += ["", f"Peer ({FREE_PEERS[peer.get('peer', 'swap-ls')]}) run for "
                  f"{peer['budget_s']:g} s: "
                  f"S = {peer['S']:.4f} at the end ({peer['info']['kicks_kept']} of "
                  f"{peer['info']['kicks']} kicks kept). Its best so far:", "",
                  "| seconds | " + " | ".join(f"{t:g}" for t in CURVE_MARKS
                                               if t <= peer["budget_s"]) + " |",
                  "|---|" + "---:|" * sum(t <= peer["budget_s"] for t in CURVE_MARKS),
                  "| peer S | " + " | ".join(
                      f"{best_at(peer['info']['history'], t):.4f}"
                      if best_at(peer['info']['history'], t) is not None else ""
                      for t in CURVE_MARKS if t <= peer["budget_s"]) + " |"]
    return lines + [""]


CURVE_MARKS = (1, 2, 5, 10, 15, 30, 60, 120, 200, 300)


def goals(res: dict) -> list[str]:
    lines = ["## Goals (issue 19)", ""]
    lose, total = [], 0
    for r in res.get("free", {}).get("rows", []):
        total += 1
        if r["fit_vs_peer_1x_pct"] > 0:
            lose.append(f"{r['shape']} {r['n_items']:,} ({r['fit_vs_peer_1x_pct']:+.2f} %)")
    if "epub" in res and "fit_vs_peer_1x_pct" in res["epub"]:
        total += 1
        if res["epub"]["fit_vs_peer_1x_pct"] > 0:
            lose.append(f"epub_wu stacked ({res['epub']['fit_vs_peer_1x_pct']:+.2f} %)")
    lines.append(f"- fit ahead at equal time (1x): {'met' if not lose else '**missed**'} "
                 f"on {total - len(lose)} of {total} instances"
                 + (f"; fit loses on {', '.join(lose)}" if lose else "") + ".")
    curve = res.get("lhall-curve")
    if curve and curve.get("peer"):
        f, p = max(curve["fit"], key=lambda f: f["time_limit"]), curve["peer"]
        ok = f["S"] < p["S"]
        lines.append(f"- fit with {f['time_limit']:g} s on the L-hall, {curve['n_items']:,} "
                     f"items, below the local search's {p['budget_s']:g} s: "
                     f"{'met' if ok else '**missed**'} (fit {f['S']:.4f} in {f['wall_s']:.1f} s, "
                     f"local search {p['S']:.4f}; {100 * (f['S'] / p['S'] - 1):+.2f} %).")
    return lines + [""]


def markdown(res: dict, before: dict | None = None) -> str:
    meta = res["meta"]
    mults = meta.get("mults", [1, 10])
    lines = ["# The search engine against its peers (issue 19)", "",
             f"Commands: {'; '.join(f'`{c}`' for c in meta['commands'])}  ",
             f"shelfplan commit measured: {', '.join(meta['code'])}; {meta['machine']}.", "",
             "S: the walking cost (MODEL.md section 3; section 8.4 for the stacked hall), "
             "every layout rescored by the benchmark. fit vs peer = S_fit / S_peer - 1, "
             "**bold** where fit loses. Peer 1x gets fit's wall time, "
             + ", ".join(f"{m:g}x {m:g} times it" for m in mults if m != 1) + ".", ""]
    lines += goals(res)
    if "lhall-curve" in res:
        lines += md_curve(res["lhall-curve"])
        if before and "lhall-curve" in before:
            lines += md_before(before)
        if os.path.exists(PLOT):
            lines += [f"Plot: `docs/img/{os.path.basename(PLOT)}`.", ""]
    if "free" in res:
        lines += md_free(res["free"], mults)
    if "epub" in res:
        lines += md_epub(res["epub"], mults)
    return "\n".join(lines)


def plot(curve: dict, path: str, before: dict | None = None) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7.5, 4.5), dpi=120)
    peer = curve.get("peer")
    if peer:
        h = np.array(peer["info"]["history"], dtype=float)
        t = np.maximum(h[:, 0], 0.1)
        best = np.minimum.accumulate(h[:, 1])
        t, best = np.r_[t, peer["wall_s"]], np.r_[best, peer["S"]]
        ax.step(t, best, where="post", color="tab:orange",
                label=f"{FREE_PEERS[peer.get('peer', 'swap-ls')].split(' (')[0]}, best so far "
                      f"({peer['budget_s']:g} s run)")
        ax.axhline(peer["S"], color="tab:orange", ls=":", lw=1)
    fx = [f["wall_s"] for f in curve["fit"]]
    fy = [f["S"] for f in curve["fit"]]
    ax.plot(fx, fy, "o-", color="tab:blue", label="shelfplan fit, one run per time limit")
    for f in curve["fit"]:
        ax.annotate(f"{f['time_limit']:g} s", (f["wall_s"], f["S"]), textcoords="offset points",
                    xytext=(4, 6), fontsize=8, color="tab:blue")
    if before:
        bf = before["lhall-curve"]["fit"]
        ax.plot([f["wall_s"] for f in bf], [f["S"] for f in bf], "s", color="grey", ms=5,
                label=f"fit before the engine ({', '.join(before['meta']['code'])}), "
                      f"one run per time limit")
        for f in bf:
            ax.annotate(f"{f['time_limit']:g} s", (f["wall_s"], f["S"]), color="grey",
                        textcoords="offset points", xytext=(4, -11), fontsize=7)
        fy = fy + [f["S"] for f in bf]
    ax.set_xscale("log")
    ax.set_xlim(left=min(2.0, 0.5 * min(fx)))
    ax.set_xlabel("wall seconds (log scale)")
    ax.set_ylabel("walking cost S")
    lo = min(fy + ([peer["S"]] if peer else []))
    left = best_at(peer["info"]["history"], min(5.0, min(fx))) if peer else None
    hi = max(fy + [left or peer["S"]] if peer else fy)
    ax.set_ylim(lo - 0.08 * (hi - lo + 1e-9), hi + 0.15 * (hi - lo + 1e-9))
    ax.set_title(f"L-shaped hall with a pillar, {curve['n_items']:,} items")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# ---------------------------------------------------------------------------
# command line


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 200 items, rect and lshape, 2 s limits, 1x and 3x")
    ap.add_argument("--only", default=",".join(PARTS),
                    help=f"comma-separated parts from {','.join(PARTS)}")
    ap.add_argument("--sizes", default="1000,5000", help="item counts of the free halls")
    ap.add_argument("--shapes", default=",".join(SHAPES), help="free hall shapes")
    ap.add_argument("--times", default="1000:10,5000:20",
                    help="fit's limit per size, n:seconds,... (default 1000:10,5000:20)")
    ap.add_argument("--mults", default="1,10", help="peer budgets in multiples of fit's wall")
    ap.add_argument("--free-peer", default="swap-ls", choices=sorted(FREE_PEERS),
                    help="the free-hall peer (default swap-ls, the issue's; site-ils: issue 13's)")
    ap.add_argument("--epub-time", type=float, default=10.0, help="fit's limit on ePub-WU")
    ap.add_argument("--curve-n", type=int, default=1000)
    ap.add_argument("--curve-times", default="5,15,30,60,120", help="fit's limits, seconds")
    ap.add_argument("--curve-peer", type=float, default=300.0, help="the peer's run, seconds")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--code-rev", default=None, help="the commit to record when the imported "
                    "shelfplan is not a git checkout (a `git archive` copy)")
    ap.add_argument("--before", default=None, help="the JSON of an lhall-curve run with the "
                    "engine before issue 19, shown beside the curve")
    ap.add_argument("--report", action="store_true", help="only rewrite md and plot from json")
    ap.add_argument("--plot", default=None, help="curve PNG (default docs/img/"
                    f"{os.path.basename(PLOT)}; with --quick, next to --out)")
    ap.add_argument("--out", default=None, help="output path without extension (default "
                    "benchmarks/results/engine, engine_quick with --quick)")
    a = ap.parse_args(argv)
    if a.quick:
        a.sizes, a.shapes, a.times, a.mults = "200", "rect,lshape", "200:2", "1,3"
        a.epub_time, a.curve_n, a.curve_times, a.curve_peer = 2.0, 200, "2,4", 8.0
    a.only = [s.strip() for s in a.only.split(",") if s.strip()]
    a.sizes = [int(s) for s in a.sizes.split(",") if s.strip()]
    a.shapes = [s.strip() for s in a.shapes.split(",") if s.strip()]
    a.times = {int(k): float(v) for k, v in (s.split(":") for s in a.times.split(","))}
    a.mults = [float(m) for m in a.mults.split(",")]
    a.curve_times = [float(t) for t in a.curve_times.split(",")]
    for bad, allowed, what in ((a.only, PARTS, "--only"), (a.shapes, SHAPES, "--shapes")):
        if set(bad) - set(allowed):
            ap.error(f"{what} must be from {','.join(allowed)}, got {','.join(bad)}")
    if set(a.sizes) - set(a.times):
        ap.error(f"--times gives no limit for sizes {sorted(set(a.sizes) - set(a.times))}")
    if 1.0 not in a.mults:
        ap.error("--mults must contain 1 (equal time)")
    a.out = a.out or os.path.join(HERE, "results", "engine_quick" if a.quick else "engine")
    a.plot = a.plot or (a.out + "_curve.png" if a.quick else PLOT)
    return a


def main(argv=None) -> int:
    a = parse_args(argv)
    argv = sys.argv[1:] if argv is None else argv
    res, before = {}, None
    if os.path.exists(a.out + ".json"):
        with open(a.out + ".json") as fh:
            res = json.load(fh)
    if a.before:
        with open(a.before) as fh:
            before = json.load(fh)

    def write() -> None:
        from shelfplan.layout import atomic_write
        atomic_write(a.out + ".json", lambda fh: json.dump(res, fh, indent=1, default=float))
        atomic_write(a.out + ".md", lambda fh: fh.write(markdown(res, before)))

    if a.report:
        if "lhall-curve" in res:
            plot(res["lhall-curve"], a.plot, before)
        write()
        print(markdown(res, before))
        return 0
    command = "python benchmarks/bench_engine.py " + " ".join(shlex.quote(x) for x in argv)
    version = code_version(a.code_rev)
    meta = res.setdefault("meta", {})
    fresh = set(a.only) >= set(PARTS) or not meta
    if fresh:
        res = {"meta": meta}
        meta.update(commands=[], code=[])
    meta["commands"].append(command)
    if version not in meta["code"]:
        meta["code"].append(version)
    meta.update(machine=f"{os.cpu_count()} cores shared", mults=a.mults)
    say(f"shelfplan {version} from {os.path.dirname(shelfplan.__file__)}; load {load()}")
    warm_up()
    runners = {"lhall-curve": part_curve, "free": part_free, "epub": part_epub}
    with tempfile.TemporaryDirectory(prefix="shelfplan-engine-") as tmp:
        for name in PARTS:                  # the order of PARTS: the goal line first
            if name not in a.only:
                continue

            def save(part, name=name):
                part.update(code=version, command=command)
                res[name] = part
                write()

            save(runners[name](a, tmp, save))
            if name == "lhall-curve":
                plot(res[name], a.plot, before)
                write()
    print(markdown(res, before))
    return 0


if __name__ == "__main__":
    sys.exit(main())
