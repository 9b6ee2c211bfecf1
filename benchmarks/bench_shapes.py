"""fit against the stronger peer (``benchmarks/site_ils.py``) at equal wall time,
on four hall shapes and several sizes (issue 13).

    python benchmarks/bench_shapes.py --quick          # sizes 200, 1000; --time 10
    python benchmarks/bench_shapes.py                  # sizes 200, 1000, 5000; --time 50
    python benchmarks/bench_shapes.py --big            # ... and 25,000
    python benchmarks/bench_shapes.py --sizes 1000 --shapes lshape,corridor --time 30
    python benchmarks/bench_shapes.py --sample         # the bundled sample: default vs 60 s
    python benchmarks/bench_shapes.py --cli --sizes 200,5000,25000 --shapes rect,corridor
                                                       # the time limit, on the command

Loans: ``shelfplan.ingest.synth.generate_loans(n, loans_per_item=10, seed=0)``
written to a CSV in a temporary directory; every method reads that file.

Halls (built in code, stored in the JSON): ``rect`` is ``default_hall(n)``; the
others start from its floor area and are grown by 5 % steps until their lattice
holds twice the items, as ``default_hall`` does, with its z_range, d_min and
entrance height:

- ``lshape``: a square with its top-right quarter cut away, a square pillar where
  the two arms meet, the entrance in the middle of the lower arm's wall;
- ``pillared``: a 3:2 rectangle with a grid of square pillars (about 6 % of the
  floor), the entrance in the middle of a long wall;
- ``corridor``: 8:1, the entrance in the middle of one short end wall.

For each (shape, n): ``shelfplan.api.fit(csv, hall, seed=0, time_limit=--time)``,
its wall time ``t_fit`` measured around the call; then the peer
(``site_ils.peer_fit``) with ``time_limit = t_fit`` and ``2 t_fit``, its clock also
covering reading the loans and the baselines. Every layout is scored the same way
(``walking_cost``, ``is_feasible``; LB from fit's layout). ``fit vs peer`` is
``S_fit / S_peer - 1`` in percent: positive means fit is worse. ``on time``: fit's
wall time, reading included, at most ``--time`` + 2 s.

``--sample``: ``fit`` on ``data/loans.csv`` and ``data/hall.json`` with its defaults (the
adaptive stop, 50 s cap), and a reference run with ``--time 60`` whose kicks go on
until the time is up; prints both, S and seconds.

``--cli``: the time-limit promise on the command itself: ``shelfplan fit CSV --hall
HALL -o OUT --time-limit --time -q`` in a fresh process (``python -m shelfplan``),
timed from before the process starts to its exit: the interpreter, the imports
(loading the compiled kernels) and reading the loans included; one row per
(shape, n), written to ``<out>_cli.md``.

Output: ``<out>.json`` (raw, rewritten after every instance) and ``<out>.md`` (the
table); ``--out`` defaults to ``benchmarks/results/shapes_quick`` with ``--quick``,
else ``benchmarks/results/shapes``. Everything runs in this one process, one method
at a time.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import math
import os
import platform
import shlex
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import site_ils  # noqa: E402
from shelfplan.api import fit as api_fit, load_problem  # noqa: E402
from shelfplan.ingest.synth import generate_loans  # noqa: E402
from shelfplan.layout import atomic_write  # noqa: E402
from shelfplan.model.hall import Hall, default_hall, hall_from_dict  # noqa: E402
from shelfplan.model.objective import is_feasible, walking_cost  # noqa: E402

SHAPES = ("rect", "lshape", "pillared", "corridor")
HEADROOM = 2.0
#: seconds fit may take beyond its time limit
ON_TIME = 2.0
SAMPLE = os.path.join(os.path.dirname(HERE), "data", "loans.csv")
SAMPLE_HALL = os.path.join(os.path.dirname(HERE), "data", "hall.json")


def say(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# halls


def _lshape(s: float, d: float) -> dict:
    a = max(2 * d, 0.08 * s)                      # the pillar's side
    cx, cy = 0.5 * s, 0.25 * s
    return {"footprint": [[0, 0], [s, 0], [s, s / 2], [s / 2, s / 2], [s / 2, s], [0, s]],
            "obstacles": [[[cx - a / 2, cy - a / 2], [cx + a / 2, cy - a / 2],
                           [cx + a / 2, cy + a / 2], [cx - a / 2, cy + a / 2]]],
            "entrance_xy": [0.75 * s, 0.0]}


def _pillared(s: float, d: float) -> dict:
    w, h = s * math.sqrt(1.5), s / math.sqrt(1.5)
    a = max(d, 0.04 * w)
    g = max(4 * a, w / 5)                         # pillar pitch: (a / g)^2 <= 1/16 of the floor
    nx, ny = max(1, int(w // g)), max(1, int(h // g))
    pillars = []
    for i in range(nx):
        for j in range(ny):
            cx, cy = (i + 0.5) * w / nx, (j + 0.5) * h / ny
            pillars.append([[cx - a / 2, cy - a / 2], [cx + a / 2, cy - a / 2],
                            [cx + a / 2, cy + a / 2], [cx - a / 2, cy + a / 2]])
    return {"footprint": [[0, 0], [w, 0], [w, h], [0, h]], "obstacles": pillars,
            "entrance_xy": [w / 2, 0.0]}


def _corridor(s: float, d: float) -> dict:
    w, length = s / math.sqrt(8.0), s * math.sqrt(8.0)
    return {"footprint": [[0, 0], [w, 0], [w, length], [0, length]], "obstacles": [],
            "entrance_xy": [w / 2, 0.0]}


_BUILDERS = {"lshape": (_lshape, 0.75), "pillared": (_pillared, 1.0 - 1.0 / 16),
             "corridor": (_corridor, 1.0)}


def make_hall(shape: str, n: int) -> Hall:
    """The ``shape`` hall for ``n`` items: the default hall's area, height, d_min
    and entrance height, grown until its lattice holds ``HEADROOM * n`` sites."""
    rect = default_hall(n)
    if shape == "rect":
        return hall_from_dict({**rect.to_dict(), "name": f"rect for {n} items"})
    if shape not in _BUILDERS:
        raise ValueError(f"shape must be one of {', '.join(SHAPES)}, got {shape!r}")
    build, fill = _BUILDERS[shape]
    base = rect.to_dict()
    s = math.sqrt(rect.floor.area / fill)        # a linear scale giving about the same floor
    while True:
        geo = build(s, rect.d_min)
        hall = hall_from_dict({
            "name": f"{shape} for {n} items", "footprint": geo["footprint"],
            "obstacles": geo["obstacles"], "z_range": base["z_range"], "d_min": base["d_min"],
            "entrance": [*geo["entrance_xy"], base["entrance"][2]]}, source=shape)
        if len(hall.sites()) >= HEADROOM * n:
            return hall
        s *= 1.05


# ---------------------------------------------------------------------------
# one instance


def _score(X, problem, hall, lb: float) -> dict:
    S = walking_cost(X, problem)["total"]
    return {"S": S, "S_over_LB": S / lb, "feasible": is_feasible(X, hall)}


def run_instance(shape: str, n: int, csv: str, time_limit: float, seed: int) -> dict:
    hall = make_hall(shape, n)
    _, problem = load_problem(csv, hall)
    row = {"shape": shape, "n_requested": n, "n_items": problem.n, "pairs": len(problem.W),
           "sites": len(hall.sites()), "area_m2": round(hall.floor.area, 2),
           "hall": hall.to_dict(), "time_limit": time_limit}
    gc.collect()
    t0 = time.monotonic()
    lay = api_fit(csv, hall, seed=seed, time_limit=time_limit)
    t_fit = time.monotonic() - t0
    lb = float(lay.lower_bound["total"])
    row["LB"] = lb
    row["fit"] = {**_score(lay.positions, problem, hall, lb), "wall_s": round(t_fit, 3),
                  "on_time": t_fit <= time_limit + ON_TIME,
                  "solver": {k: lay.solver.get(k) for k in ("best_from", "stopped_by",
                                                            "iterations", "seconds")}}
    say(f"{shape} n={n}: fit S={row['fit']['S']:.5f} in {t_fit:.1f} s")
    for tag, mult in (("peer_1x", 1.0), ("peer_2x", 2.0)):
        gc.collect()
        t0 = time.monotonic()
        X, info = site_ils.peer_fit(csv, hall, time_limit=mult * t_fit, seed=seed)
        wall = time.monotonic() - t0
        row[tag] = {**_score(X, problem, hall, lb), "wall_s": round(wall, 3), "info": info}
        row[f"fit_vs_{tag}_pct"] = 100.0 * (row["fit"]["S"] / row[tag]["S"] - 1.0)
        say(f"{shape} n={n}: {tag} S={row[tag]['S']:.5f} in {wall:.1f} s "
            f"(fit {row[f'fit_vs_{tag}_pct']:+.2f} %)")
    return row


# ---------------------------------------------------------------------------
# output


def markdown(result: dict) -> str:
    meta = result["meta"]
    lines = [
        "# fit against the site ILS peer at equal wall time (issue 13)", "",
        f"Command: `{meta['command']}`  ",
        f"Run {meta['started']} on {meta['machine']}; load average {meta['load_start']} at "
        f"the start, {meta.get('load_end', '?')} at the end (a shared, busy machine: "
        f"timings are noisy and both methods suffer alike).", "",
        "fit vs peer = S_fit / S_peer - 1: positive where fit loses. S/LB against the "
        "lower bound of MODEL.md section 6. Peer 1x gets fit's wall time, 2x twice it "
        "(reading the loans and the baselines included).", "",
        "| hall | items | sites | fit S | fit s | peer S (1x) | peer s | fit vs peer 1x "
        "| peer S (2x) | fit vs peer 2x | S/LB fit | S/LB peer 1x | feasible | fit on time "
        "| peer 1x search |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        f, p1, p2 = r["fit"], r["peer_1x"], r["peer_2x"]
        feas = "yes" if f["feasible"] and p1["feasible"] and p2["feasible"] else "**NO**"
        lines.append(
            f"| {r['shape']} | {r['n_items']:,} | {r['sites']:,} | {f['S']:.4f} | "
            f"{f['wall_s']:.1f} | {p1['S']:.4f} | {p1['wall_s']:.1f} | "
            f"{r['fit_vs_peer_1x_pct']:+.2f} % | {p2['S']:.4f} | "
            f"{r['fit_vs_peer_2x_pct']:+.2f} % | {f['S_over_LB']:.3f} | "
            f"{p1['S_over_LB']:.3f} | {feas} | {'yes' if f.get('on_time', True) else '**NO**'} "
            f"| {_search(p1['info'])} |")
    lose = [r for r in result["rows"] if r["fit_vs_peer_1x_pct"] > 0]
    lines += ["", f"fit loses at equal time on {len(lose)} of {len(result['rows'])} "
              f"instances" + (": " + ", ".join(f"{r['shape']} {r['n_items']:,} "
                                               f"({r['fit_vs_peer_1x_pct']:+.2f} %)"
                                               for r in lose) if lose else "") + ".", ""]
    return "\n".join(lines)


def _search(info: dict) -> str:
    """Where the peer's search stood when its time ran out."""
    if info["converged_after_s"] is None:
        return f"{info['sweeps']} sweeps, still at k = {info['k_final']}"
    return (f"converged after {info['converged_after_s']:.1f} s, {info['kicks_kept']} of "
            f"{info['kicks']} kicks kept")


def _write(out: str, result: dict) -> None:
    atomic_write(out + ".json", lambda fh: json.dump(result, fh, indent=1))
    atomic_write(out + ".md", lambda fh: fh.write(markdown(result)))


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="200,1000,5000",
                    help="comma-separated item counts (default 200,1000,5000)")
    ap.add_argument("--big", action="store_true", help="add 25,000 items")
    ap.add_argument("--shapes", default=",".join(SHAPES),
                    help=f"comma-separated hall shapes from {','.join(SHAPES)}")
    ap.add_argument("--time", type=float, default=None,
                    help="fit's time limit in seconds (default 50; 10 with --quick)")
    ap.add_argument("--quick", action="store_true", help="sizes 200 and 1000, --time 10")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sample", action="store_true",
                    help="only the bundled sample: default fit against a 60 s run")
    ap.add_argument("--cli", action="store_true",
                    help="time `shelfplan fit` in a fresh process (the time-limit promise)")
    ap.add_argument("--out", default=None,
                    help="output path without extension (default benchmarks/results/shapes"
                         " or shapes_quick)")
    a = ap.parse_args(argv)
    sizes = [200, 1000] if a.quick else [int(s) for s in a.sizes.split(",") if s.strip()]
    if a.big and 25000 not in sizes:
        sizes.append(25000)
    shapes = [s.strip() for s in a.shapes.split(",") if s.strip()]
    bad = [s for s in shapes if s not in SHAPES]
    if bad:
        ap.error(f"--shapes must be from {','.join(SHAPES)}, got {','.join(bad)}")
    if any(n < 2 for n in sizes):
        ap.error("--sizes must be item counts of at least 2")
    a.sizes, a.shapes = sizes, shapes
    a.time = a.time if a.time is not None else (10.0 if a.quick else 50.0)
    if not a.time > 0:
        ap.error(f"--time must be positive, got {a.time}")
    a.out = a.out or os.path.join(HERE, "results", "shapes_quick" if a.quick else "shapes")
    return a


def sample_run(seed: int = 0) -> str:
    """The sample with fit's defaults, and a 60 s reference whose kicks run to the end."""
    rows = []
    for tag, kw in (("default", {}), ("60 s, kicks to the end",
                                      {"time_limit": 60.0, "kicks": 10 ** 9})):
        gc.collect()
        t0 = time.monotonic()
        lay = api_fit(SAMPLE, SAMPLE_HALL, seed=seed, **kw)
        rows.append((tag, lay.objective["total"], time.monotonic() - t0, lay.solver))
        say(f"sample, {tag}: S={rows[-1][1]:.5f} in {rows[-1][2]:.1f} s")
    ref = rows[1][1]
    out = ["| run | S | seconds | vs 60 s | stopped by | kicks |", "|---|---|---|---|---|---|"]
    for tag, S, sec, sol in rows:
        out.append(f"| {tag} | {S:.5f} | {sec:.1f} | {100 * (S / ref - 1):+.2f} % | "
                   f"{sol.get('stopped_by')} | {sol.get('kicks')} |")
    return "\n".join(out) + f"\n\nload average {os.getloadavg()[0]:.2f}\n"


def cli_run(sizes, shapes, time_limit: float, out: str) -> str:
    """``shelfplan fit`` as a user runs it, wall time from outside the process."""
    import subprocess
    rows = ["| hall | items | --time-limit | wall s | on time (limit + 2 s) | S |",
            "|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory(prefix="shelfplan-cli-") as tmp:
        for n in sizes:
            csv = os.path.join(tmp, f"loans_{n}.csv")
            generate_loans(n, loans_per_item=10, seed=0).to_csv(csv, index=False)
            for shape in shapes:
                hall = os.path.join(tmp, f"{shape}_{n}.json")
                with open(hall, "w") as fh:
                    json.dump(make_hall(shape, n).to_dict(), fh)
                lay = os.path.join(tmp, "out.json")
                t0 = time.monotonic()
                subprocess.run([sys.executable, "-m", "shelfplan", "fit", csv, "--hall", hall,
                                "-o", lay, "--time-limit", str(time_limit), "-q"], check=True)
                wall = time.monotonic() - t0
                with open(lay) as fh:
                    S = json.load(fh)["objective"]["total"]
                ok = "yes" if wall <= time_limit + ON_TIME else "**no**"
                rows.append(f"| {shape} | {n:,} | {time_limit:g} | {wall:.1f} | {ok} | {S:.4f} |")
                say(rows[-1])
    text = "\n".join(rows) + f"\n\nload average {os.getloadavg()[0]:.2f} at the end\n"
    atomic_write(out + "_cli.md", lambda fh: fh.write(text))
    return text


def main(argv=None) -> int:
    a = parse_args(argv)
    if a.cli:
        print(cli_run(a.sizes, a.shapes, a.time, a.out))
        return 0
    if a.sample:
        print(sample_run(a.seed))
        return 0
    result = {"meta": {
        "command": "python benchmarks/bench_shapes.py " + " ".join(
            shlex.quote(x) for x in (sys.argv[1:] if argv is None else argv)),
        "started": _dt.datetime.now().isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
                   f"{platform.python_version()}",
        "load_start": [round(x, 2) for x in os.getloadavg()],
        "sizes": a.sizes, "shapes": a.shapes, "time": a.time, "seed": a.seed}, "rows": []}
    with tempfile.TemporaryDirectory(prefix="shelfplan-shapes-") as tmp:
        for n in a.sizes:
            csv = os.path.join(tmp, f"loans_{n}.csv")
            generate_loans(n, loans_per_item=10, seed=0).to_csv(csv, index=False)
            for shape in a.shapes:
                result["rows"].append(run_instance(shape, n, csv, a.time, a.seed))
                result["meta"]["load_end"] = [round(x, 2) for x in os.getloadavg()]
                _write(a.out, result)
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
