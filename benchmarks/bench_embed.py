"""Is word2vec the best shelf plan? SNE, t-SNE and skip-gram against fit and the baselines.

Quality (``--quality``): for each data set the loans are split by time (epub_wu
at 2007-01-01, the others at the start of their last 20 %); every method is
fitted on the loans before the split, in the free hall (the default hall of
the fitting loans) and in a hall with stacks (data/stacked_hall.json for the
sample, one sized in code otherwise), and judged in sample (S or S_walk on
the fitting loans) and held out (on the later loans). Also: seconds, the
peak memory of the run (each run in a forked child, traced by tracemalloc:
Python and numpy allocations, not the C heaps of gensim or openTSNE) and
how well the layout keeps co-borrowed pairs together
(share of the pair weight p(i,j) + p(j,i) within 1 m and 2 m, its mean
distance; on stacks also the share in the same location).

Speed (``--speed``, untraced, wall and CPU seconds): skip-gram on about a
million synthetic loans (sentences and word2vec), and every method on 5,000
items with fit's default time limit (50 s; SNE there uses the sampled
normaliser).

Scale (``--scale N``): every method on N synthetic books with fit's 50 s, each
in a fresh interpreter: wall and CPU seconds, peak RSS, S, what the embedding did.

    python benchmarks/bench_embed.py --quality --sets sample epub synth --time-limit 20 \
        --seeds 0 1 2
    python benchmarks/bench_embed.py --speed
    python benchmarks/bench_embed.py --scale 25000
    python benchmarks/bench_embed.py --geometry     # where the popular books go
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_walk import stacked_hall  # noqa: E402
from shelfplan.api import baseline, fit, load_problem  # noqa: E402
from shelfplan.pipeline import build_problem, to_layout  # noqa: E402
from shelfplan.solve.options import FitOptions  # noqa: E402
from shelfplan.solve.solver import solve  # noqa: E402


def fit_embedded(method, loans, hall, *, seed=0, time_limit=50.0, dim=None):
    """fit(method=...) with the embedding's dimension set (the one pipeline)."""
    options = FitOptions(method=method, seed=seed, time_limit=time_limit)
    built = build_problem(loans, hall, options)
    return to_layout(built, solve(built.problem, options, est=built.est, visits=built.visits,
                                  dim=dim))
from shelfplan.ingest.loans import filter_until, read_loans  # noqa: E402
from shelfplan.ingest.synth import generate_loans  # noqa: E402
from shelfplan.judge.evaluate import evaluate, restrict  # noqa: E402
from shelfplan.judge.heldout import split_date  # noqa: E402
from shelfplan.layout import atomic_write  # noqa: E402
from shelfplan.model.estimate import estimate  # noqa: E402
from shelfplan.model.hall import hall_from_dict, load_hall  # noqa: E402

# ../shared from the main checkout, ../../shared from a worktree beside it
EPUB = str(next((d / "shared" / "data" / "epub_wu" / "loans.csv" for d in ROOT.parents
                 if (d / "shared" / "data" / "epub_wu").is_dir()), ROOT.parent / "shared"))
RESULTS = ROOT / "benchmarks" / "results"
METHODS = ("fit", "sne", "tsne", "skipgram", "skipgram-2d", "popularity", "callnumber", "random")


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(job, q):
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        lay, err = job(), None
    except Exception as exc:  # reported, never hidden
        lay, err = None, f"{type(exc).__name__}: {exc}"
    sec = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    q.put((lay, sec, peak, rss_mib(), err))


def measured(job):
    """(layout, seconds, peak MiB traced, error) of ``job()`` in a forked child; the peak
    is what Python and numpy allocate (tracemalloc), not gensim's or openTSNE's C heap."""
    q = mp.get_context("fork").Queue()
    p = mp.get_context("fork").Process(target=_child, args=(job, q))
    p.start()
    lay, sec, peak, rss, err = q.get()
    p.join()
    return lay, sec, peak, err


def layout_job(name, loans, hall, T, seed=0):
    if name == "fit":
        return lambda: fit(loans, hall, seed=seed, time_limit=T)
    if name in ("popularity", "callnumber", "random"):
        return lambda: baseline(name, loans, hall, seed=seed)
    method, dim = (name.split("-")[0], 2) if name.endswith("-2d") else (name, None)
    return lambda: fit_embedded(method, loans, hall, seed=seed, time_limit=T, dim=dim)


def pair_share(layout, loans) -> dict:
    """Share of the co-borrowed pair weight of ``loans`` within 2 m (and, on stacks, in the
    same location), over the books the layout places."""
    est = estimate(restrict(loans, layout.items))
    I, J, W = est.symmetric_pairs()
    if W.sum() == 0:
        return {}
    where = layout.index()
    idx = np.array([where[str(i)] for i in est.items])
    X = layout.positions[idx]
    d = np.linalg.norm(X[I] - X[J], axis=1)
    out = {"within_1m": float(W[d <= 1.0].sum() / W.sum()),
           "within_2m": float(W[d <= 2.0].sum() / W.sum()),
           "mean_m": float(W @ d / W.sum())}
    if layout.shelved:
        loc = layout.shelf["loc"][idx]
        out["same_location"] = float(W[loc[I] == loc[J]].sum() / W.sum())
    return out


def sized_stacked_hall(n_books: int):
    """A hall with stacks for ``n_books`` books: 40 slots a location, ~1.5x the books."""
    spec = stacked_hall(max(10, int(np.ceil(1.5 * n_books / 40))))
    for s in spec["stacks"]:
        s.update(shelves=4, books_per_shelf=10)
    spec["name"] = f"stacks for {n_books} books"
    return hall_from_dict(spec, source="bench")


def data_set(name: str, tmp: Path):
    if name == "epub":
        loans = read_loans(EPUB)
        return loans, __import__("pandas").Timestamp("2007-01-01")
    if name == "sample":
        loans = read_loans(ROOT / "data" / "loans.csv")
    else:
        path = tmp / "synth.csv"
        generate_loans(1500, loans_per_item=12, seed=7).to_csv(path, index=False)
        loans = read_loans(path)
    return loans, split_date(loans)


def quality(sets, T, seed, say):
    rows = []
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench_embed_{os.getpid()}"
    tmp.mkdir(parents=True, exist_ok=True)
    for name in sets:
        loans, cut = data_set(name, tmp)
        past = filter_until(loans, until=cut)
        _, prob = load_problem(past)
        halls = {"free": prob.hall,
                 "stacks": load_hall(ROOT / "data" / "stacked_hall.json") if name == "sample"
                 else sized_stacked_hall(prob.n)}
        for hname, hall in halls.items():
            for m in METHODS:
                lay, sec, mib, err = measured(layout_job(m, past, hall, T, seed))
                row = {"set": name, "hall": hname, "method": m, "seed": seed,
                       "cut": f"{cut:%Y-%m-%d}",
                       "items": prob.n, "seconds": round(sec, 2), "peak_mib": round(mib, 1)}
                if err:
                    row["error"] = err
                else:
                    held = evaluate(lay, loans, since=cut)
                    row.update(S_in=lay.objective["total"], S_out=held.cost["total"],
                               LB_in=lay.lower_bound["total"],
                               embedding=lay.solver.get("embedding"),
                               pairs_in=pair_share(lay, past),
                               pairs_out=pair_share(lay, filter_until(loans, since=cut)))
                rows.append(row)
                say(f"{name:6} {hname:6} {m:12} seed {seed} " + (err or
                    f"S_in {row['S_in']:.4f}  S_out {row['S_out']:.4f}  {sec:6.1f} s  "
                    f"{mib:6.1f} MiB  pairs<=2m {row['pairs_out'].get('within_2m', 0):.3f}"))
    return rows


def timed(job):
    """(result, wall seconds, CPU seconds of this process, all threads) of ``job()``."""
    w, c = time.perf_counter(), time.process_time()
    res = job()
    return res, round(time.perf_counter() - w, 2), round(time.process_time() - c, 2)


def speed(seed, say):
    """Run in this process, untraced: wall and CPU seconds (the CPU share the machine
    gave is CPU / wall; 2.0 would be both cores)."""
    from shelfplan.solve.embed import sentences
    from shelfplan.solve.embed_learn import skipgram_embed

    out = {}
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench_embed_{os.getpid()}"
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / "million.csv"
    generate_loans(20000, loans_per_item=50, seed=seed).to_csv(path, index=False)
    loans = read_loans(path)
    items = np.unique(loans.table["item"].astype(str))
    book = np.searchsorted(items, loans.table["item"].astype(str).to_numpy())
    sent, w1, c1 = timed(lambda: sentences(loans.table["session"].to_numpy(), book,
                                           len(items)))
    (_, info), w2, c2 = timed(lambda: skipgram_embed(sent, dim=3, seed=seed))
    out["skipgram_1M"] = {"loans": int(loans.n_loans), "items": int(len(items)),
                          "sentences_wall_s": w1, "sentences_cpu_s": c1,
                          "word2vec_wall_s": w2, "word2vec_cpu_s": c2, **info}
    say(f"1M loans: sentences {w1} s ({c1} s CPU), word2vec {w2} s ({c2} s CPU); "
        f"{info['sentences']} sentences, window {info['window']}")
    path.unlink()
    path5 = tmp / "five.csv"
    generate_loans(5000, loans_per_item=10, seed=seed).to_csv(path5, index=False)
    five = read_loans(path5)
    for m in ("fit", "sne", "tsne", "skipgram"):
        lay, w, c = timed(layout_job(m, five, None, 50.0, seed))
        out[f"5000_{m}"] = {"wall_s": w, "cpu_s": c, "S": lay.objective["total"],
                            "embedding": lay.solver.get("embedding")}
        say(f"5000 items ({lay.n} books): {m} {w} s ({c} s CPU), S {lay.objective['total']:.4f}")
    return out


def _scale_child(name, path, T, seed, q):
    """One run of the scale test in a fresh interpreter: wall, CPU, peak RSS, S."""
    w, c = time.perf_counter(), time.process_time()
    try:
        lay = layout_job(name, path, None, T, seed)()
        rec = {"S": lay.objective["total"], "books": lay.n,
               "embedding": lay.solver.get("embedding")}
    except Exception as exc:  # reported, never hidden
        rec = {"error": f"{type(exc).__name__}: {exc}"}
    rec.update(wall_s=round(time.perf_counter() - w, 2), cpu_s=round(time.process_time() - c, 2),
               peak_rss_mib=round(rss_mib(), 1))
    q.put(rec)


def scale(n_items, T, seed, say, methods=("popularity", "fit", "sne", "tsne", "skipgram")):
    """Every method on ``n_items`` synthetic books (10 loans each) with ``T`` s, each in a
    fresh interpreter (spawn), so the peak RSS is the run's own (imports included)."""
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench_embed_{os.getpid()}"
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / f"scale{n_items}.csv"
    table = generate_loans(n_items, loans_per_item=10, seed=seed)
    table.to_csv(path, index=False)
    n_loans = len(table)
    del table
    ctx = mp.get_context("spawn")
    out = {}
    for m in methods:
        q = ctx.Queue()
        load = round(os.getloadavg()[0], 2)
        p = ctx.Process(target=_scale_child, args=(m, str(path), T, seed, q))
        p.start()
        rec = q.get()
        p.join()
        rec.update(load_average=load, loans=n_loans)      # the reading is in the time
        out[m] = rec
        say(f"{n_items} items, {m}: " + (rec.get("error") or
            f"S {rec['S']:.4f}  {rec['wall_s']} s ({rec['cpu_s']} s CPU)  "
            f"peak RSS {rec['peak_rss_mib']} MiB  load {load}  {rec['embedding'] or ''}"))
    path.unlink()
    return out


def geometry(seed, say) -> dict:
    """Where each embedding puts the popular books: rank correlation of p(i) with the
    distance to the entrance node (token) and with the vector's norm, all the loans."""
    from scipy.stats import spearmanr

    from shelfplan.pipeline import _visits
    from shelfplan.solve.embed import embed

    out = {}
    for name, path in (("sample", ROOT / "data" / "loans.csv"), ("epub", EPUB)):
        loans = read_loans(path)
        est, prob = load_problem(loans)
        for m in ("sne", "tsne", "skipgram"):
            V, ve, _ = embed(m, prob.p, est.pair, np.arange(prob.n),
                             visits=_visits(loans, prob.items, FitOptions(), None), seed=seed)
            rec = {"dist_to_entrance": float(spearmanr(np.linalg.norm(V - ve, axis=1),
                                                       prob.p)[0]),
                   "norm": float(spearmanr(np.linalg.norm(V, axis=1), prob.p)[0])}
            out[f"{name}_{m}"] = rec
            say(f"{name} {m}: spearman(p, distance to entrance) {rec['dist_to_entrance']:+.2f}, "
                f"spearman(p, norm) {rec['norm']:+.2f}")
    return out


def _median(rows, key, cols, method, get):
    vals = [get(r) for r in rows if (r["set"], r["hall"]) == key and r["method"] == method
            and "error" not in r]
    return (float(np.median(vals)), min(vals), max(vals), len(vals)) if vals else None


def summary(rows) -> str:
    """Medians over the seeds (min-max in brackets) of held-out S, in-sample S and the
    held-out pair weight within 1 m, one column per data set and hall; the change of
    held-out S against popularity order is that of the medians."""
    keys = list(dict.fromkeys((r["set"], r["hall"]) for r in rows))
    seeds = sorted({r.get("seed", 0) for r in rows})
    head = "| method | " + " | ".join(f"{a} {b}" for a, b in keys) + " |"
    rule = "|---|" + "---:|" * len(keys)
    out = [f"## Medians over seeds {', '.join(map(str, seeds))} (min-max)", ""]
    for title, get, rel in (("held-out S (S_walk on stacks), m", lambda r: r["S_out"], True),
                            ("in-sample S, m", lambda r: r["S_in"], False),
                            ("held-out pair weight within 1 m",
                             lambda r: r["pairs_out"]["within_1m"], False)):
        out += [f"### {title}", "", head, rule]
        for m in dict.fromkeys(r["method"] for r in rows):
            cells = []
            for key in keys:
                med = _median(rows, key, None, m, get)
                pop = _median(rows, key, None, "popularity", get)
                if med is None:
                    cells.append("-")
                    continue
                c = f"{med[0]:.3f} ({med[1]:.3f}-{med[2]:.3f})"
                if rel and m != "popularity" and pop:
                    c += f" {100 * (med[0] / pop[0] - 1):+.0f} %"
                cells.append(c)
            out.append(f"| {m} | " + " | ".join(cells) + " |")
        out.append("")
    return "\n".join(out)


def markdown(rows) -> str:
    """The medians over the seeds, then the rows as one table per data set, hall and seed."""
    out = [summary(rows), ""]
    for key in dict.fromkeys((r["set"], r["hall"], r.get("seed", 0)) for r in rows):
        part = [r for r in rows if (r["set"], r["hall"], r.get("seed", 0)) == key]
        out += [f"### {key[0]}, {key[1]} hall, seed {key[2]} ({part[0]['items']} books, "
                f"held out from {part[0]['cut']})", "",
                "| method | S in sample | S held out | s | peak MiB | pairs <= 1 m | "
                "pairs <= 2 m | mean pair m | same location |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in part:
            if "error" in r:
                out.append(f"| {r['method']} | {r['error']} |||||||| ")
                continue
            q = r["pairs_out"]
            same = f"{q['same_location']:.3f}" if "same_location" in q else "-"
            out.append(f"| {r['method']} | {r['S_in']:.4f} | {r['S_out']:.4f} | "
                       f"{r['seconds']:.1f} | {r['peak_mib']:.0f} | {q['within_1m']:.3f} | "
                       f"{q['within_2m']:.3f} | {q['mean_m']:.2f} | {same} |")
        out.append("")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quality", action="store_true")
    ap.add_argument("--speed", action="store_true")
    ap.add_argument("--geometry", action="store_true",
                    help="where each embedding puts the popular books (rank correlations)")
    ap.add_argument("--scale", type=int, metavar="N",
                    help="every method on N synthetic books (e.g. 25000) with fit's limit "
                         "(--time-limit, 50 s unless given): time, CPU, peak RSS, S")
    ap.add_argument("--sets", nargs="+", default=["sample", "epub", "synth"])
    ap.add_argument("--time-limit", type=float)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seeds", type=int, nargs="+",
                    help="--quality: run every seed (rows carry their seed; the tables give "
                         "medians and the spread); default: --seed alone")
    ap.add_argument("--tag", default="")
    ap.add_argument("--markdown", action="store_true",
                    help="only rewrite embed_quality.md from embed_quality.json")
    args = ap.parse_args()
    say = lambda m: print(m, flush=True)  # noqa: E731
    load = os.getloadavg()
    meta = {"load_average_at_start": [round(x, 2) for x in load], "cores": os.cpu_count(),
            "time_limit": args.time_limit, "seed": args.seed}
    T = args.time_limit
    if args.markdown:
        res = json.loads((RESULTS / f"embed_quality{args.tag}.json").read_text())
        atomic_write(RESULTS / f"embed_quality{args.tag}.md",
                     lambda fh: fh.write(markdown(res["rows"])))
        return
    say(f"load average {load[0]:.1f} on {os.cpu_count()} cores")
    if args.quality:
        meta["seeds"] = args.seeds or [args.seed]
        meta["time_limit"] = T or 20.0
        res = {"meta": meta, "rows": []}
        for seed in meta["seeds"]:                  # saved after each seed
            res["rows"] += quality(args.sets, T or 20.0, seed, say)
            res["meta"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
            atomic_write(RESULTS / f"embed_quality{args.tag}.json",
                         lambda fh: json.dump(res, fh, indent=1))
        atomic_write(RESULTS / f"embed_quality{args.tag}.md",
                     lambda fh: fh.write(markdown(res["rows"])))
    if args.geometry:
        res = {"meta": meta, "geometry": geometry(args.seed, say)}
        atomic_write(RESULTS / f"embed_geometry{args.tag}.json",
                     lambda fh: json.dump(res, fh, indent=1))
    if args.scale:
        meta["time_limit"] = T or 50.0
        res = {"meta": meta, "scale": scale(args.scale, T or 50.0, args.seed, say)}
        atomic_write(RESULTS / f"embed_scale{args.scale}{args.tag}.json",
                     lambda fh: json.dump(res, fh, indent=1))
    if args.speed:
        res = {"meta": meta, "speed": speed(args.seed, say)}
        atomic_write(RESULTS / f"embed_speed{args.tag}.json",
                     lambda fh: json.dump(res, fh, indent=1))


if __name__ == "__main__":
    main()
