"""Estimates at consortium scale (issue 25): time and peak memory of ``shelfplan estimate``,
the engines compared, and the same counts from every engine.

    python benchmarks/bench_scale.py run LOANS.parquet [--engine duckdb]   # whole process
    python benchmarks/bench_scale.py engines LOANS.parquet                 # DuckDB vs Polars
    python benchmarks/bench_scale.py same 'DIR/part-*.parquet'             # engines agree
    python benchmarks/bench_scale.py same FILE.parquet --fit               # and fit layouts

The data come from ``benchmarks/make_scale_data.py`` (never committed), e.g.
``python benchmarks/make_scale_data.py /tmp/l20m.parquet --rows 20000000``.
``run`` measures the whole process with ``/usr/bin/time -v`` (wall clock and peak
resident memory) and the load average before and after; ``engines`` runs the same
count (distinct patron-day-item, n_i, c_ij by a self-join) in DuckDB and in Polars'
streaming engine, each in its own process; ``same`` writes estimates with the duckdb,
dask and pandas engines and checks that the counts (sessions, items, pairs,
multi-item sessions, every n_i and c_ij) and the estimates are identical, and that a
baseline layout from each estimates file is the same. Results are appended to
``benchmarks/results/scale_results.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "scale_results.jsonl"

POLARS = r"""
import sys, polars as pl
f = sys.argv[1]
lf = pl.scan_parquet(f).select(pl.col("patron_id").str.strip_chars().alias("p"),
                               pl.col("item_id").str.strip_chars().alias("i"),
                               pl.col("timestamp").dt.date().alias("d"))
items = lf.select("i").unique().sort("i").with_row_index("code").collect(engine="streaming")
si = (lf.unique(["p", "d", "i"]).join(items.lazy(), on="i")
      .select(pl.struct("p", "d").hash().alias("s"), pl.col("code").cast(pl.Int32))
      .collect(engine="streaming"))
pairs = (si.lazy().join(si.lazy(), on="s").filter(pl.col("code") < pl.col("code_right"))
         .group_by("code", "code_right").len().collect(engine="streaming"))
print(si.height, pairs.height, int(pairs["len"].sum()))
"""

DUCKDB = r"""
import sys, duckdb
f = sys.argv[1]
con = duckdb.connect()
con.execute("SET memory_limit='1500MB'; SET preserve_insertion_order=false; "
            "SET enable_progress_bar=false")
con.execute(f'''CREATE TEMP TABLE si AS
 WITH raw AS (SELECT trim(patron_id) p, trim(item_id) i, CAST(timestamp AS DATE) d
              FROM read_parquet('{f}')),
 items AS (SELECT i, CAST(row_number() OVER (ORDER BY i) - 1 AS INTEGER) AS code
           FROM (SELECT DISTINCT i FROM raw))
 SELECT DISTINCT hash(p, d) s, code FROM raw JOIN items USING (i)''')
r = con.execute('''SELECT count(*), sum(c) FROM (SELECT count(*) c FROM si a JOIN si b
                   ON a.s = b.s AND a.code < b.code GROUP BY a.code, b.code)''').fetchone()
print(con.execute("SELECT count(*) FROM si").fetchone()[0], r[0], r[1])
"""


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def timed(cmd: list[str], env=None) -> dict:
    """Run ``cmd`` under /usr/bin/time -v: wall seconds, peak RSS (GiB), its output."""
    before = load()
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True,
                          env=env)
    after = load()
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", proc.stderr)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    cpu = [float(x) for x in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)",
                                        proc.stderr)]
    parts = [float(x) for x in wall.group(1).split(":")] if wall else [float("nan")]
    seconds = sum(x * 60 ** k for k, x in enumerate(reversed(parts)))
    return {"cmd": " ".join(cmd), "exit": proc.returncode, "wall_s": round(seconds, 1),
            "cpu_s": round(sum(cpu), 1),
            "peak_gib": round(int(rss.group(1)) / 2 ** 20, 3) if rss else None,
            "load_before": before, "load_after": after,
            "stdout": proc.stdout.strip()[-400:],
            "stderr": "\n".join(x for x in proc.stderr.splitlines()
                                if not x.startswith("\t"))[-400:]}


def record(entry: dict) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    entry = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **entry}
    with open(RESULTS, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry) + "\n")
    print(json.dumps(entry, indent=1))


def env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1"}


def cmd_run(args) -> None:
    out = args.output or os.path.join(tempfile.gettempdir(), "bench_scale.est")
    cmd = [sys.executable, "-m", "shelfplan", "estimate", *args.loans, "-o", out,
           "--engine", args.engine, *(["--memory-limit", args.memory_limit]
                                      if args.memory_limit else [])]
    rows = _rows(args.loans)
    record({"bench": "run", "engine": args.engine, "rows": rows,
            "input_bytes": sum(os.path.getsize(p) for p in _files(args.loans)),
            **timed(cmd, env())})


def cmd_engines(args) -> None:
    for name, code in (("duckdb", DUCKDB), ("polars", POLARS)):
        record({"bench": "engines", "engine": name, "rows": _rows([args.loans]),
                **timed([sys.executable, "-c", code, args.loans])})


def cmd_same(args) -> None:
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from shelfplan.model.estimate import read_estimates
    from shelfplan.model.estimates_file import read_counts

    folder = tempfile.mkdtemp(prefix="bench-same-")
    files, runs = {}, {}
    for engine in ("duckdb", "dask", "pandas"):
        files[engine] = os.path.join(folder, f"{engine}.est")
        runs[engine] = timed([sys.executable, "-m", "shelfplan", "estimate", *args.loans,
                              "-o", files[engine], "--engine", engine], env())
    counts = {e: read_counts(f) for e, f in files.items()}
    ref = counts["pandas"]
    keys = ("sessions", "items", "multi_item_sessions", "loans", "patrons")
    same = {}
    for e, c in counts.items():
        same[e] = bool(list(c.items) == list(ref.items)
                       and np.array_equal(c.counts, ref.counts)
                       and np.array_equal(c.pair_i, ref.pair_i)
                       and np.array_equal(c.pair_j, ref.pair_j)
                       and np.array_equal(c.pair_c, ref.pair_c)
                       and c.summary == ref.summary)
        a, b = read_estimates(files[e]), read_estimates(files["pandas"])
        same[e] &= bool(np.array_equal(a.p, b.p) and (a.pair != b.pair).nnz == 0)
    layouts = {}
    for e, f in files.items():
        out = os.path.join(folder, f"{e}.json")
        layouts[e] = timed([sys.executable, "-m", "shelfplan", "baseline", "popularity",
                            "--estimates", f, "-o", out, "-q"], env())
        layouts[e]["positions"] = json.load(open(out))["items"]
    ref_pos = [i["position"] for i in layouts["pandas"]["positions"]]
    same_layout = {e: [i["position"] for i in v["positions"]] == ref_pos
                   for e, v in layouts.items()}
    fits = {}
    if args.fit:        # a limit that never binds (the work decides): same seed, same layout
        opts = ["--seed", "0", "--kicks", "5", "--time-limit", "3000", "-q"]
        sources = {e: ["--estimates", f] for e, f in files.items()}
        if len(_files(args.loans)) == 1:
            sources["loans"] = _files(args.loans)
        for e, src in sources.items():
            out = os.path.join(folder, f"fit-{e}.json")
            fits[e] = timed([sys.executable, "-m", "shelfplan", "fit", *src, "-o", out, *opts],
                            env())
            fits[e]["positions"] = [i["position"] for i in json.load(open(out))["items"]]
        first = next(iter(fits.values()))["positions"]
        fits = {e: {"identical_to_" + next(iter(fits)): v["positions"] == first,
                    **{k: v[k] for k in ("wall_s", "cpu_s", "peak_gib", "load_before")}}
                for e, v in fits.items()}
    record({"bench": "same", "rows": _rows(args.loans), "files": len(_files(args.loans)),
            "fit": fits,
            "counts": {e: {k: c.summary[k] for k in keys} | {"pairs": int(len(c.pair_c))}
                       for e, c in counts.items()},
            "identical_counts_and_estimates": same, "identical_baseline_layout": same_layout,
            "runs": {e: {k: r[k] for k in ("wall_s", "cpu_s", "peak_gib", "load_before")}
                     for e, r in runs.items()}})


def _files(patterns) -> list[str]:
    import glob
    return [f for p in patterns for f in (sorted(glob.glob(p)) or [p])]


def _rows(patterns) -> int:
    import pyarrow.parquet as pq
    return int(sum(pq.ParquetFile(f).metadata.num_rows for f in _files(patterns)
                   if f.endswith(".parquet")))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    r = sub.add_parser("run")
    r.add_argument("loans", nargs="+")
    r.add_argument("--engine", default="duckdb")
    r.add_argument("--memory-limit", default=None)
    r.add_argument("-o", "--output", default=None)
    e = sub.add_parser("engines")
    e.add_argument("loans")
    s = sub.add_parser("same")
    s.add_argument("loans", nargs="+")
    s.add_argument("--fit", action="store_true",
                   help="also fit a layout from each estimates file (and from the loans, for "
                        "one file) with the same seed and compare them")
    args = ap.parse_args(argv)
    {"run": cmd_run, "engines": cmd_engines, "same": cmd_same}[args.what](args)


if __name__ == "__main__":
    main()
