"""Benchmark ``shelfplan fit`` against the baselines and public-tool peers.

    python benchmarks/bench_fit.py                      # full run (15-30 min on 2 cores)
    python benchmarks/bench_fit.py --quick              # smoke run, under a minute
    python benchmarks/bench_fit.py --sizes 200,1000 --skip-epub --time-limit 30

Instances: synthetic loans from ``shelfplan.ingest.synth.generate_loans(n, loans_per_item=10,
seed=--data-seed)`` written to a CSV in a temporary directory, and the real ePub-WU
sessions (``../shared/data/epub_wu/loans.csv`` relative to the repository, read in
place, never copied; skipped with a message when absent). Each instance gets one
hall, ``shelfplan.model.hall.default_hall(n)`` for its ``n`` estimated items, written once
to a JSON file that every method loads.

Methods: ``fit`` (``shelfplan.api.fit``, ``--repeats`` runs with seeds 0, 1, ...),
the baselines random / popularity / callnumber (``shelfplan.api.baseline``) and the
peers of ``benchmarks/peers.py`` (QAP-FAQ, spring layout + snap, swap local search).
Each method runs in a fresh process (multiprocessing "spawn"): its seconds are the
wall time of the call including reading the loans, its peak memory is the process's
peak RSS during the call above its RSS after imports (the high-water mark is reset
after imports through /proc/self/clear_refs; ``ru_maxrss`` then reads the method's
peak). A method still running after ``--method-timeout`` gets SIGINT (fit then
returns its best feasible layout so far; the row says "interrupted").
The parent scores every layout the same way: S with
``shelfplan.model.objective.walking_cost``, feasibility with ``is_feasible``, the bound
with ``shelfplan.model.bound.lower_bound``.

Output: the tables on stdout (progress on stderr), ``benchmarks/results/
fit_results.md`` and ``.json`` (``quick_results.*`` with ``--quick``), and the
results block of ``docs/performance.md`` (between its RESULTS markers; full runs
only, ``--no-docs`` to skip).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import math
import multiprocessing as mp
import os
import platform
import resource
import shlex
import signal
import statistics
import sys
import tempfile
import time
import traceback

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import networkx  # noqa: E402
import scipy  # noqa: E402

import peers  # noqa: E402
from shelfplan.api import baseline as api_baseline  # noqa: E402
from shelfplan.api import fit as api_fit  # noqa: E402
from shelfplan.api import load_problem  # noqa: E402
from shelfplan.model.bound import lower_bound  # noqa: E402
from shelfplan.model.hall import default_hall, load_hall  # noqa: E402
from shelfplan.model.objective import is_feasible, min_spacing, walking_cost  # noqa: E402
from shelfplan.model.problem import Problem  # noqa: E402
from shelfplan.ingest.synth import generate_loans  # noqa: E402

BASELINES = ("random", "popularity", "callnumber")
EPUB_DEFAULT = os.path.join(REPO, "..", "shared", "data", "epub_wu", "loans.csv")
DOC_BEGIN = "<!-- BEGIN RESULTS (written by benchmarks/bench_fit.py) -->"
DOC_END = "<!-- END RESULTS -->"


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# one method in a fresh process


def _proc_status_mb(field: str, pid: str = "self") -> float:
    """A memory line of /proc/<pid>/status (VmRSS, VmHWM) in MB; NaN where unavailable."""
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError):
        pass
    return float("nan")


def _mem_start() -> float:
    """Reset this process's peak-RSS mark to its current RSS; return that RSS in MB.

    Linux: writing 5 to /proc/self/clear_refs resets VmHWM (which is also what
    getrusage's ru_maxrss reports), so the peak measured later belongs to the
    method, not to the imports. Elsewhere: ru_maxrss now (the peak so far).
    """
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        rss = _proc_status_mb("VmRSS")
        if math.isfinite(rss):
            return rss
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0   # Linux: KiB


def _mem_peak(base: float) -> float:
    """Peak RSS since :func:`_mem_start` above its base, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0 - base


def _worker(method: str, loans: str, hall_path: str, params: dict, base_box=None) -> dict:
    """Run one method; everything heavy is already imported (this module's imports)."""
    base = _mem_start()
    if base_box is not None:
        base_box.value = base
    t0 = time.monotonic()
    try:
        info = {}
        if method == "fit":
            lay = api_fit(loans, hall_path, seed=params["seed"], time_limit=params["time_limit"])
            items, X = lay.items, lay.positions
            info = {k: lay.solver.get(k) for k in ("best_from", "stopped_by", "iterations",
                                                   "seconds", "interrupted")}
        elif method in BASELINES:
            lay = api_baseline(method, loans, hall_path, seed=params.get("seed", 0))
            items, X = lay.items, lay.positions
        else:
            _, problem = load_problem(loans, hall_path)
            items = problem.items
            if method == "qap-faq":
                X, info = peers.qap_faq(problem, time_budget=params["budget"], seed=params["seed"],
                                        start_time=t0)
            elif method == "spring+snap":
                X, info = peers.spring_snap(problem, seed=params["seed"])
            elif method == "swap-LS":
                X, info = peers.swap_local_search(problem, time_budget=params["budget"],
                                                  seed=params["seed"], start_time=t0)
            else:
                raise ValueError(f"unknown method {method!r}")
        seconds = time.monotonic() - t0
        peak = _mem_peak(base)
        # which problem did this process see? (shelfplan may be edited during a long run)
        _, seen = load_problem(loans, hall_path)
        return {"ok": True, "items": [str(i) for i in items], "X": np.asarray(X).tolist(),
                "seconds": seconds, "peak_mb": peak, "base_mb": base,
                "info": _jsonable(info), "fingerprint": fingerprint(seen)}
    except (Exception, KeyboardInterrupt) as exc:  # reported in the table; the benchmark goes on
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}",
                "trace": traceback.format_exc(), "seconds": time.monotonic() - t0,
                "peak_mb": _mem_peak(base)}


def fingerprint(problem: Problem) -> str:
    """A hash of the items, weights and hall of a problem."""
    h = hashlib.sha1()
    h.update("\x1f".join(str(i) for i in problem.items).encode())
    for a in (problem.p, problem.I, problem.J, problem.W):
        h.update(np.ascontiguousarray(a).tobytes())
    h.update(json.dumps(problem.hall.to_dict(), sort_keys=True).encode())
    return h.hexdigest()[:16]


def _child(conn, method, loans, hall_path, params, base_box) -> None:
    conn.send(_worker(method, loans, hall_path, params, base_box))
    conn.close()


def run_isolated(method: str, loans: str, hall_path: str, params: dict, timeout: float,
                 grace: float = 60.0) -> dict:
    """``_worker`` in a new spawned process.

    After ``timeout`` seconds the process gets SIGINT (Ctrl-C; fit then returns
    its best feasible layout so far, marked as interrupted); if nothing comes
    back within ``grace`` seconds it is terminated. Only this child is signalled.
    """
    ctx = mp.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)
    base_box = ctx.Value("d", float("nan"), lock=False)
    proc = ctx.Process(target=_child, args=(send, method, loans, hall_path, params, base_box),
                       daemon=True)
    proc.start()
    send.close()
    try:
        # the clock starts when the child has done its imports and begins the method
        t_wait = time.monotonic()
        while math.isnan(base_box.value) and proc.is_alive() and time.monotonic() - t_wait < 300:
            if recv.poll(0.05):
                return recv.recv()
        t0 = time.monotonic()
        if recv.poll(timeout):
            return recv.recv()
        peak = _proc_status_mb("VmHWM", str(proc.pid)) - base_box.value
        say(f"{method}: no result after {timeout:.0f} s; sending SIGINT to pid {proc.pid}")
        os.kill(proc.pid, signal.SIGINT)
        if recv.poll(grace):
            res = recv.recv()
            res["timed_out"] = timeout
            res["interrupted_after"] = time.monotonic() - t0
            return res
        return {"ok": False, "error": f"timeout: stopped after {timeout:.0f} s (no answer to "
                f"SIGINT within {grace:.0f} s)", "seconds": time.monotonic() - t0,
                "peak_mb": peak, "peak_is_lower_bound": True, "timed_out": timeout}
    except EOFError:
        return {"ok": False, "error": f"the {method} process died (exit code {proc.exitcode})",
                "seconds": float("nan"), "peak_mb": float("nan")}
    finally:
        if proc.is_alive():
            proc.terminate()
        proc.join(10)
        if proc.is_alive():
            proc.kill()
            proc.join()
        recv.close()


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return _jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


# ---------------------------------------------------------------------------
# instances


def synthetic_instance(n_items: int, seed: int, tmp: str) -> dict:
    path = os.path.join(tmp, f"synth_{n_items}.csv")
    df = generate_loans(n_items, loans_per_item=10, seed=seed)
    df.to_csv(path, index=False)
    return {"name": f"synthetic {n_items}", "loans": path, "n_loans": len(df),
            "source": f"shelfplan.ingest.synth.generate_loans({n_items}, loans_per_item=10, seed={seed})"}


def prepare(inst: dict, tmp: str) -> tuple[dict, Problem, dict]:
    """Estimates, the instance's one hall (written to JSON), its problem and bound."""
    est, _ = load_problem(inst["loans"])
    hall = default_hall(est.n)
    hall_path = os.path.join(tmp, f"hall_{inst['name'].replace(' ', '_')}.json")
    with open(hall_path, "w", encoding="utf-8") as fh:
        json.dump(hall.to_dict(), fh)
    hall = load_hall(hall_path)                       # exactly what every method loads
    problem = Problem.from_estimates(est, hall)
    lb = lower_bound(est.p, est.pair, hall.d_min, hall.height)
    meta = {"name": inst["name"], "source": inst["source"], "n_items": est.n,
            "n_loans": inst.get("n_loans") or est.summary.get("n_loans"),
            "n_pairs": int(len(problem.W)), "lattice_sites": int(len(hall.sites())),
            "hall": hall.to_dict(), "lower_bound": lb,
            "estimation": _jsonable(est.summary)}
    return {"hall_path": hall_path, **inst}, problem, meta


def score(res: dict, problem: Problem, lb: float) -> dict:
    """The parent's uniform scoring of a worker result."""
    row = {"ok": res["ok"], "seconds": res["seconds"], "peak_mb": res["peak_mb"],
           "info": res.get("info", {})}
    for k in ("timed_out", "interrupted_after", "peak_is_lower_bound"):
        if k in res:
            row[k] = res[k]
    if not res["ok"]:
        row["error"] = res["error"]
        return row
    if res.get("fingerprint") != fingerprint(problem):
        row.update(ok=False, error="the method saw a different problem than the scorer "
                   "(was shelfplan edited during the run?); re-run the benchmark")
        return row
    index = {str(k): i for i, k in enumerate(problem.items)}
    order = np.array([index[k] for k in res["items"]])
    if len(order) != problem.n or len(set(order.tolist())) != problem.n:
        row.update(ok=False, error="layout does not cover the instance's items")
        return row
    X = np.empty((problem.n, 3))
    X[order] = np.asarray(res["X"], dtype=float)
    cost = walking_cost(X, problem)
    row.update(S=cost["total"], entrance=cost["entrance_term"], pair=cost["pair_term"],
               S_over_LB=cost["total"] / lb if lb > 0 else float("nan"),
               spacing=min_spacing(X) / problem.hall.d_min,
               feasible=is_feasible(X, problem.hall))
    return row


# ---------------------------------------------------------------------------
# one instance, every method


def bench_instance(inst: dict, problem: Problem, meta: dict, args) -> dict:
    lb = meta["lower_bound"]["total"]
    n = problem.n
    rows = {}
    timeout = args.method_timeout

    def run(method, params, label=None):
        label = label or method
        say(f"{meta['name']}: {label} ...")
        # a peer with a time budget gets at least its budget plus a minute
        limit = max(timeout, params["budget"] + 60.0) if "budget" in params else timeout
        res = run_isolated(method, inst["loans"], inst["hall_path"], params, limit)
        row = score(res, problem, lb)
        if row["ok"]:
            say(f"{meta['name']}: {label}: S={row['S']:.5f} S/LB={row['S_over_LB']:.3f} "
                f"{row['seconds']:.1f}s {row['peak_mb']:.0f}MB feasible={row['feasible']}")
        else:
            say(f"{meta['name']}: {label} FAILED: {row['error']}")
            if res.get("trace"):
                print(res["trace"], file=sys.stderr)
        return row

    # fit: repeats for the timing (seed 0 is the layout shown)
    fit_runs = []
    spent = 0.0
    for k in range(args.repeats):
        if k > 0 and spent > args.repeat_budget * args.time_limit:
            say(f"{meta['name']}: fit: {k} run(s) done, skipping the other repeats "
                f"(more than {args.repeat_budget:g} x time limit spent)")
            break
        r = run("fit", {"seed": k, "time_limit": args.time_limit}, f"fit (seed {k})")
        fit_runs.append(r)
        spent += r["seconds"]
    fit = dict(fit_runs[0])
    ok_runs = [r for r in fit_runs if r["ok"]]
    fit["runs"] = len(fit_runs)
    fit["seconds_runs"] = [r["seconds"] for r in fit_runs]
    fit["S_runs"] = [r.get("S") for r in fit_runs]
    fit["seconds"] = statistics.median(fit["seconds_runs"])
    peaks = [r["peak_mb"] for r in fit_runs if r["peak_mb"] is not None and math.isfinite(r["peak_mb"])]
    fit["peak_mb"] = max(peaks, default=float("nan"))
    if not fit["ok"] and ok_runs:   # show a successful seed rather than nothing
        best = min(ok_runs, key=lambda r: r["S"])
        fit.update({k: best[k] for k in ("ok", "S", "entrance", "pair", "S_over_LB", "spacing",
                                         "feasible", "info")})
        fit["note"] = "seed 0 failed; layout shown from another seed"
    rows["fit"] = fit
    budget = statistics.median([r["seconds"] for r in ok_runs]) if ok_runs else args.time_limit

    for b in BASELINES:
        rows[b] = run(b, {"seed": 0})
    if n <= args.qap_max_n:
        rows["qap-faq"] = run("qap-faq", {"seed": 0, "budget": budget})
    else:
        rows["qap-faq"] = {"ok": False, "skipped": True,
                           "error": f"skipped: n={n} > --qap-max-n {args.qap_max_n} (dense "
                                    f"(1.5n+1)^2 matrices, O(m^3) per FAQ iteration)"}
        say(f"{meta['name']}: qap-faq {rows['qap-faq']['error']}")
    rows["spring+snap"] = run("spring+snap", {"seed": 0})
    rows["swap-LS"] = run("swap-LS", {"seed": 0, "budget": budget})
    rows["swap-LS"]["budget"] = budget
    return {"instance": meta, "rows": rows, "ls_budget": budget}


# ---------------------------------------------------------------------------
# reporting


def _f(v, fmt):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return format(v, fmt)


def beats(fit_S, other_S):
    """How much lower fit's S is than ``other_S``, in % of ``other_S`` (negative: fit loses)."""
    if fit_S is None or other_S is None:
        return None
    return 100.0 * (other_S - fit_S) / other_S


def table_md(res: dict) -> str:
    meta, rows = res["instance"], res["rows"]
    lb = meta["lower_bound"]
    fit_S = rows["fit"].get("S") if rows["fit"]["ok"] else None
    out = [f"### {meta['name']}: {meta['n_items']} items, {meta['n_pairs']} co-borrowed "
           f"pairs, {meta['lattice_sites']} lattice sites; LB = {lb['total']:.5f}",
           "",
           "| method | S | entrance term | pair term | S/LB | min spacing / d_min | "
           "seconds | peak MB | fit's S lower by |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, r in rows.items():
        if not r["ok"]:
            mb = _f(r.get("peak_mb"), ".0f")
            if r.get("peak_is_lower_bound") and mb != "-":
                mb = ">= " + mb
            out.append(f"| {name} | {r['error']} | | | | | "
                       f"{_f(r.get('seconds'), '.1f')} | {mb} | |")
            continue
        if r.get("timed_out"):
            name = f"{name} (interrupted)"
        secs = _f(r["seconds"], ".1f")
        if r.get("timed_out"):
            secs += f" (SIGINT at {r['timed_out']:g})"
        if name == "fit" and r.get("runs", 1) > 1:
            secs += f" (median of {r['runs']})"
        if name == "swap-LS":
            secs += f" (budget {r['budget']:.1f})"
        feas = "" if r["feasible"] else " INFEASIBLE"
        win = "" if name == "fit" else _f(beats(fit_S, r["S"]), "+.1f") + (" %" if fit_S else "")
        out.append(f"| {name}{feas} | {r['S']:.5f} | {r['entrance']:.5f} | {r['pair']:.5f} | "
                   f"{r['S_over_LB']:.3f} | {r['spacing']:.3f} | {secs} | "
                   f"{_f(r['peak_mb'], '.0f')} | {win} |")
    f = rows["fit"]
    if f.get("S_runs") and len(f["S_runs"]) > 1:
        s = [v for v in f["S_runs"] if v is not None]
        if s:
            out += ["", f"fit over seeds 0..{len(f['S_runs']) - 1}: S = "
                    + ", ".join(_f(v, ".5f") for v in f["S_runs"])
                    + f"; seconds = " + ", ".join(f"{v:.1f}" for v in f["seconds_runs"])]
    if f.get("note"):
        out += ["", f"note: {f['note']}"]
    return "\n".join(out)


def checks_md(results: list[dict], time_limit: float) -> str:
    lines = []
    by_n = {r["instance"]["name"]: r for r in results}
    big = [r for r in results if r["instance"]["name"].startswith("synthetic")]
    big.sort(key=lambda r: r["instance"]["n_items"])
    if big:
        r = big[-1]
        f = r["rows"]["fit"]
        n = r["instance"]["n_items"]
        if f.get("seconds_runs") and n < 4000:
            lines.append(f"- Time: the requirement (5,000 items in under 60 s) is not checked: "
                         f"the largest synthetic set here has {n} items.")
        elif f.get("seconds_runs"):
            med = statistics.median(f["seconds_runs"])
            verdict = "PASS" if med < 60.0 and f["ok"] and not f.get("timed_out") else "FAIL"
            lines.append(f"- Time: fit on the largest synthetic set ({n} items) took "
                         f"{med:.1f} s (median of {len(f['seconds_runs'])}; runs: "
                         + ", ".join(f"{v:.1f}" for v in f["seconds_runs"])
                         + f") with --time-limit {time_limit:g}; requirement < 60 s: **{verdict}**.")
    mem = [(r["instance"]["n_items"], r["instance"]["n_pairs"], r["rows"]["fit"].get("peak_mb"))
           for r in big[-2:]]
    if len(mem) == 2:
        (n1, p1, m1), (n2, p2, m2) = mem
        dense = n2 * n2 * 8 / 2 ** 20
        if all(v is not None and math.isfinite(v) for v in (m1, m2)):
            growth = f"x{m2 / m1:.1f}" if m1 >= 1 else "(first value under 1 MB)"
            lines.append(
                f"- Memory: fit's peak (above the after-import RSS) is {m1:.0f} MB for {n1} items "
                f"({p1} pairs) and {m2:.0f} MB for {n2} items ({p2} pairs): {growth} for "
                f"x{n2 / n1:.1f} items and x{(n2 + p2) / (n1 + p1):.1f} items+pairs; one dense "
                f"n x n float64 array at n={n2} alone would be {dense:.0f} MB "
                f"(and grow x{(n2 / n1) ** 2:.0f}).")
        else:
            lines.append(f"- Memory: fit's peak could not be measured for both {n1} and {n2} "
                         f"items (see the tables).")
    # fit vs each method, all instances
    for r in results:
        f = r["rows"]["fit"]
        if not f["ok"]:
            lines.append(f"- {r['instance']['name']}: fit failed ({f['error']}).")
            continue
        parts = []
        for name, row in r["rows"].items():
            if name == "fit" or not row["ok"]:
                continue
            parts.append(f"{name} {beats(f['S'], row['S']):+.1f} %")
        lines.append(f"- {r['instance']['name']}: fit's S lower than " + ", ".join(parts)
                     + " (negative: the peer is better).")
    del by_n
    return "\n".join(lines)


def machine_info() -> dict:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            mem_gb = int(fh.readline().split()[1]) / 2 ** 20
    except (OSError, ValueError, IndexError):
        mem_gb = float("nan")
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(mem_gb, 1),
            "python": platform.python_version(), "numpy": np.__version__,
            "scipy": scipy.__version__, "networkx": networkx.__version__,
            "platform": platform.platform()}


def report_md(results, args, command, machine, skipped, started, elapsed) -> str:
    head = [
        f"Command: `{command}`  ",
        f"Run: {started} ({elapsed / 60:.1f} min)  ",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GB; "
        f"Python {machine['python']}, numpy {machine['numpy']}, scipy {machine['scipy']}, "
        f"networkx {machine['networkx']}  ",
        f"fit time limit {args.time_limit:g} s; swap-LS and qap-faq get the median wall time "
        f"of fit on the same instance. Seconds include reading the loans; peak MB = "
        f"peak RSS of the method's own spawned process above its RSS after imports (the "
        f"high-water mark is reset after imports via /proc/self/clear_refs).",
    ]
    for s in skipped:
        head.append(f"\n{s}")
    body = [table_md(r) for r in results]
    return "\n".join(head) + "\n\n" + "\n\n".join(body) + "\n\n#### Checks and comparison\n\n" \
        + checks_md(results, args.time_limit) + "\n"


def write_atomic(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)


def update_docs(path: str, block: str) -> bool:
    if not os.path.exists(path):
        return False
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    a, b = text.find(DOC_BEGIN), text.find(DOC_END)
    if a < 0 or b < a:
        return False
    write_atomic(path, text[:a + len(DOC_BEGIN)] + "\n\n" + block.strip() + "\n\n" + text[b:])
    return True


# ---------------------------------------------------------------------------
# main


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="200,1000,5000",
                    help="synthetic collection sizes, comma-separated (default 200,1000,5000)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: sizes 60,150, time limit 3 s, one fit run, no ePub-WU; "
                         "writes quick_results.* and leaves the docs alone")
    ap.add_argument("--skip-epub", action="store_true", help="leave out the ePub-WU data")
    ap.add_argument("--epub", default=EPUB_DEFAULT,
                    help="ePub-WU loans.csv (default ../shared/data/epub_wu/loans.csv "
                         "from the repository root)")
    ap.add_argument("--time-limit", type=float, default=None,
                    help="fit's time limit in seconds (default 60; 3 with --quick)")
    ap.add_argument("--repeats", type=int, default=None,
                    help="fit runs per instance for the timing (seeds 0..k-1; default 3, "
                         "1 with --quick)")
    ap.add_argument("--repeat-budget", type=float, default=2.5,
                    help="stop repeating fit once its runs took this many time limits "
                         "(default 2.5)")
    ap.add_argument("--data-seed", type=int, default=0, help="seed of the synthetic loans")
    ap.add_argument("--qap-max-n", type=int, default=400,
                    help="run the dense QAP peer only up to this many items (default 400)")
    ap.add_argument("--method-timeout", type=float, default=None,
                    help="kill a method's process after this many seconds "
                         "(default 3 x time limit + 60)")
    ap.add_argument("--out", default=os.path.join(HERE, "results"),
                    help="results directory (default benchmarks/results)")
    ap.add_argument("--no-docs", action="store_true",
                    help="do not rewrite the results block of docs/performance.md")
    args = ap.parse_args(argv)
    if args.quick:
        if args.sizes == "200,1000,5000":
            args.sizes = "60,150"
        args.skip_epub = True
        args.time_limit = 3.0 if args.time_limit is None else args.time_limit
        args.repeats = 1 if args.repeats is None else args.repeats
        args.no_docs = True
    args.time_limit = 60.0 if args.time_limit is None else args.time_limit
    args.repeats = 3 if args.repeats is None else args.repeats
    if args.method_timeout is None:
        args.method_timeout = 3 * args.time_limit + 60
    try:
        args.size_list = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        ap.error(f"--sizes must be comma-separated integers, got {args.sizes!r}")
    if args.repeats < 1:
        ap.error(f"--repeats must be at least 1, got {args.repeats}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    command = "python " + " ".join(shlex.quote(a) for a in
                                   [os.path.relpath(os.path.abspath(sys.argv[0]), REPO)]
                                   + sys.argv[1:])
    started = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    t_start = time.monotonic()
    machine = machine_info()
    results, skipped = [], []
    with tempfile.TemporaryDirectory(prefix="shelfplan-bench-") as tmp:
        instances = [synthetic_instance(n, args.data_seed, tmp) for n in args.size_list]
        if not args.skip_epub:
            epub = os.path.normpath(args.epub)
            if os.path.exists(epub):
                instances.append({"name": "epub_wu", "loans": epub,
                                  "source": "ePub-WU download sessions 2003-2008 (arules Epub "
                                            "raw data, M. Hahsler), read in place"})
            else:
                msg = (f"ePub-WU skipped: {epub} not found (pass --epub PATH, or "
                       f"--skip-epub to silence this)")
                say(msg)
                skipped.append(msg)
        else:
            skipped.append("ePub-WU not run (--skip-epub or --quick).")
        for inst in instances:
            inst, problem, meta = prepare(inst, tmp)
            say(f"{meta['name']}: {meta['n_items']} items, {meta['n_pairs']} pairs, "
                f"{meta['lattice_sites']} sites, LB={meta['lower_bound']['total']:.5f}")
            res = bench_instance(inst, problem, meta, args)
            results.append(res)
            print(table_md(res) + "\n", flush=True)
    elapsed = time.monotonic() - t_start
    md = report_md(results, args, command, machine, skipped, started, elapsed)
    print("#### Checks and comparison\n\n" + checks_md(results, args.time_limit))
    stem = "quick_results" if args.quick else "fit_results"
    write_atomic(os.path.join(args.out, stem + ".md"), md)
    write_atomic(os.path.join(args.out, stem + ".json"), json.dumps(_jsonable({
        "command": command, "started": started, "seconds": elapsed, "machine": machine,
        "args": {k: v for k, v in vars(args).items()}, "skipped": skipped,
        "results": results}), indent=1, allow_nan=False))
    say(f"wrote {os.path.join(args.out, stem)}.md and .json")
    if not args.no_docs:
        doc = os.path.join(REPO, "docs", "performance.md")
        if update_docs(doc, md):
            say(f"updated the results block of {doc}")
        else:
            say(f"{doc}: no results markers found; left unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
