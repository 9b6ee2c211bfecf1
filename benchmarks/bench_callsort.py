"""Call numbers in shelf order (issue 23): shelfplan.shelf_ranks against pycallnumber.

    python benchmarks/bench_callsort.py [--n 100000] [--repeats 5] [--out benchmarks/results]

Two measurements, in one run:

* **Order.** The fixtures of tests/fixtures/callnumbers (the ordered lists and pairs of
  the sort tests of solrmarc, lcsort, pycallnumber, SearchWorks' traject indexer,
  VuFind's browse handler, Library::CallNumber::LC, Koha, published SuDoc shelving guides
  and the cases of issue 23), each list read as one collection: the share of ordered
  pairs in the right order (a tie is wrong) and of lists fully right, for LC + Dewey
  and for SuDoc. pycallnumber (``pip install pycallnumber``; not a dependency) sorts
  by ``pycallnumber.callnumber(v).for_sort()``, the way its documentation sorts; a
  value it cannot parse goes last.
* **Speed.** ``n`` distinct synthetic call numbers (half LC such as
  ``QA76.73 .P98 L88 2005``, half Dewey such as ``005.133 L96a 2005 v.3``): shelfplan
  ranks all of them, cold (nothing remembered) and warm (the same values again, as
  the signs and stack map of one plan do), and cold again in varied shapes (a prefix,
  ``c.2 no.3``) that miss the common-shape fast paths; pycallnumber parses a sample of
  2,000 and its time is scaled to ``n``. Medians over ``repeats``, wall and CPU time, with the
  load average (the machine is shared).
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

from shelfplan.ingest import callsort  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "callnumbers"
GROUPS = {"lc+dewey": ("lcc", "dewey"), "sudoc": ("sudoc",)}


def fixture_lists() -> list[tuple[str, str, list[str]]]:
    out = []
    for path in sorted(FIXTURES.glob("*.json")):
        d = json.loads(path.read_text(encoding="utf-8"))
        if "lists" in d:
            out += [(path.name, d["scheme"], lst) for lst in d["lists"]]
        else:
            out += [(path.name, k, lst) for k, v in d["lists_by_scheme"].items() for lst in v]
    return out


def pycallnumber_ranks(values: list[str]) -> np.ndarray:
    import pycallnumber as pcn

    keys = []
    for v in values:
        try:
            keys.append((0, pcn.callnumber(v).for_sort()))
        except Exception:          # it raises on what it cannot parse: file it last
            keys.append((1, ""))
    order = sorted(range(len(values)), key=keys.__getitem__)
    ranks = np.empty(len(values), dtype=np.int64)
    r, prev = -1, None
    for i in order:
        if keys[i] != prev:
            r, prev = r + 1, keys[i]
        ranks[i] = r
    return ranks


def score(rank_fn, lists) -> dict:
    tot = {g: {"pairs_right": 0, "pairs": 0, "lists_right": 0, "lists": 0, "wrong_lists": []}
           for g in GROUPS}
    for name, scheme, lst in lists:
        g = next((g for g, s in GROUPS.items() if scheme in s), None)
        if g is None:
            continue
        r = rank_fn(lst)
        i, j = np.triu_indices(len(lst), 1)
        ok = r[i] < r[j]
        t = tot[g]
        t["pairs_right"] += int(ok.sum())
        t["pairs"] += len(ok)
        t["lists_right"] += bool(ok.all())
        t["lists"] += 1
        if not ok.all():
            t["wrong_lists"].append(name)
    for t in tot.values():
        t["pairs_share"] = round(t["pairs_right"] / t["pairs"], 4)
        t["lists_share"] = round(t["lists_right"] / t["lists"], 4)
        t["wrong_lists"] = sorted(set(t["wrong_lists"]))
    return tot


def synthetic(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    L = "ABCDEFGHJKLMNPQRSTUVZ"
    out: set[str] = set()
    while len(out) < n:
        a, b, c = (L[k] for k in rng.integers(0, len(L), 3))
        if rng.random() < 0.5:
            out.add(f"{a}{b if rng.random() < .5 else ''}{rng.integers(1, 9999)}."
                    f"{rng.integers(1, 99)} .{c}{rng.integers(1, 999)} {a}{rng.integers(1, 99)} "
                    f"{rng.integers(1900, 2024)}")
        else:
            out.add(f"{rng.integers(0, 999):03d}.{rng.integers(1, 9999)} {c}{rng.integers(1, 999)}"
                    f"{'abc'[rng.integers(3)]} {rng.integers(1900, 2024)} v.{rng.integers(1, 20)}")
    return sorted(out, key=lambda _: rng.random())


def varied(values: list[str], seed: int = 1) -> list[str]:
    """The same call numbers in shapes the common-shape fast paths of
    :mod:`shelfplan.ingest.callkeys` do not take: a shelving prefix, a copy and issue
    (``REF QA76.73 .P98 L88 2005 c.2 no.3``), so every key is built element by element."""
    rng = np.random.default_rng(seed)
    pre = np.array(["", "REF ", "FOLIO ", "+ ", "OVERSIZE "])
    return [f"{pre[rng.integers(len(pre))]}{v} c.{rng.integers(1, 4)} no.{rng.integers(1, 13)}"
            for v in values]


def timed(fn, repeats: int, before=None) -> dict:
    walls, cpus = [], []
    for _ in range(repeats):
        if before:
            before()
        t, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return {"wall_s": round(float(np.median(walls)), 3), "cpu_s": round(float(np.median(cpus)), 3)}


def forget():
    callsort._CACHE.clear()
    for d in callsort._KEYS.values():
        d.clear()


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = ap.parse_args(argv)

    lists = fixture_lists()
    result = {"load_average_before": os.getloadavg(), "n": args.n,
              "order": {"shelfplan": score(callsort.shelf_ranks, lists)}}
    try:
        import pycallnumber
        result["pycallnumber_version"] = getattr(pycallnumber, "__version__", "?")
        result["order"]["pycallnumber"] = score(pycallnumber_ranks, lists)
    except ImportError:
        pycallnumber = None
        print("pycallnumber is not installed: pip install pycallnumber", file=sys.stderr)

    values = synthetic(args.n)
    speed = {"shelfplan_cold": timed(lambda: callsort.shelf_ranks(values), args.repeats, forget)}
    callsort.shelf_ranks(values)
    speed["shelfplan_warm"] = timed(lambda: callsort.shelf_ranks(values), args.repeats)
    other = varied(values)
    speed["shelfplan_cold_varied"] = timed(lambda: callsort.shelf_ranks(other), args.repeats,
                                           forget)
    if pycallnumber is not None:
        sample = values[:2000]
        t = timed(lambda: pycallnumber_ranks(sample), max(1, args.repeats // 2))
        scale = args.n / len(sample)
        speed["pycallnumber_scaled"] = {k: round(v * scale, 1) for k, v in t.items()}
    result["speed"] = speed
    result["load_average_after"] = os.getloadavg()

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "callsort_results.json"), "w") as fh:
        json.dump(result, fh, indent=1)
    lines = ["| sorter | LC+Dewey pairs | LC+Dewey lists | SuDoc pairs | SuDoc lists |",
             "| --- | --- | --- | --- | --- |"]
    for who, s in result["order"].items():
        a, b = s["lc+dewey"], s["sudoc"]
        lines.append(f"| {who} | {a['pairs_right']}/{a['pairs']} ({a['pairs_share']:.2%}) | "
                     f"{a['lists_right']}/{a['lists']} ({a['lists_share']:.2%}) | "
                     f"{b['pairs_right']}/{b['pairs']} ({b['pairs_share']:.2%}) | "
                     f"{b['lists_right']}/{b['lists']} ({b['lists_share']:.2%}) |")
    lines += ["", f"| {args.n:,} distinct call numbers | wall s (median) | CPU s (median) |",
              "| --- | --- | --- |"]
    lines += [f"| {k} | {v['wall_s']} | {v['cpu_s']} |" for k, v in speed.items()]
    lines += ["", f"Load average before / after: {result['load_average_before']} / "
                  f"{result['load_average_after']} (2 shared cores)."]
    with open(os.path.join(args.out, "callsort_results.md"), "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    return result


if __name__ == "__main__":
    main()
