"""How long ``shelfplan render`` takes for big collections (docs/render.md).

    python benchmarks/bench_render.py                      # 5,000 and 20,000 books
    python benchmarks/bench_render.py --sizes 1000 --repeats 5 --keep out/

For each size: synthetic loans (``shelfplan.ingest.synth.generate_loans``, 10 loans
per item) written to a temp CSV, the popularity baseline in the default hall
(not timed) and one warm-up render, then each output rendered ``--repeats``
times in this process; prints the median wall time per output as a Markdown
table. Importing shelfplan and matplotlib (about a second for the command
line) is not included.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time

OUTPUTS = [  # (label, view, extension, edges)
    ("PNG, both views", "both", "png", 0),
    ("PNG, both views, 100 edges", "both", "png", 100),
    ("PNG, 3D view", "3d", "png", 0),
    ("PNG, floor plan", "top", "png", 0),
    ("SVG, both views", "both", "svg", 0),
    ("PDF, both views", "both", "pdf", 0),
    ("HTML, both views", "both", "html", 0),
]


def make_layout(n_items: int, seed: int, workdir: str):
    from shelfplan.api import baseline
    from shelfplan.ingest.synth import generate_loans

    csv = os.path.join(workdir, f"loans_{n_items}.csv")
    generate_loans(n_items, loans_per_item=10, seed=seed).to_csv(csv, index=False)
    return baseline("popularity", csv)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000],
                    help="collection sizes (items asked of the generator)")
    ap.add_argument("--repeats", type=int, default=3, help="renders per output (median)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dpi", type=int, default=150)
    ap.add_argument("--keep", metavar="DIR", help="keep the last file of each output in DIR")
    args = ap.parse_args(argv)

    from shelfplan.present.render import render

    print(f"python {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} cpus; median of {args.repeats} renders, dpi {args.dpi}\n")
    with tempfile.TemporaryDirectory() as tmp:
        layouts = {}
        for n in args.sizes:
            t0 = time.perf_counter()
            layouts[n] = make_layout(n, args.seed, tmp)
            render(layouts[n], os.path.join(tmp, "warm-up.png"))   # fonts, caches
            print(f"layout for {n:,} items: {layouts[n].n:,} books with loans, "
                  f"built in {time.perf_counter() - t0:.1f} s (not timed), one warm-up render",
                  file=sys.stderr)
        head = "| output | " + " | ".join(f"{layouts[n].n:,} books" for n in args.sizes) + " |"
        print(head)
        print("|" + "---|" * (len(args.sizes) + 1))
        for label, view, ext, edges in OUTPUTS:
            cells = []
            for n in args.sizes:
                out_dir = args.keep or tmp
                os.makedirs(out_dir, exist_ok=True)
                path = os.path.join(out_dir, f"plan_{n}_{view}_{edges}.{ext}")
                times = []
                for _ in range(args.repeats):
                    t0 = time.perf_counter()
                    render(layouts[n], path, view=view, edges=edges or None, dpi=args.dpi)
                    times.append(time.perf_counter() - t0)
                size = os.path.getsize(path) / 1e6
                cells.append(f"{statistics.median(times):.2f} s ({size:.1f} MB)")
            print(f"| {label} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
