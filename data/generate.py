"""Generate a synthetic loans CSV with :func:`shelfplan.ingest.synth.generate_loans`.

The bundled sample ``data/loans.csv`` was produced, from the repository root, by::

    python data/generate.py --items 300 --loans-per-item 12 --seed 7 -o data/loans.csv

A larger set, e.g. 5,000 items and about 50,000 loans::

    python data/generate.py --items 5000 --loans-per-item 10 --seed 1 -o loans_5k.csv

Works without installing the package: if ``import shelfplan`` fails, the
repository root (the parent of this folder) is put on ``sys.path``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

try:
    from shelfplan.ingest.synth import generate_loans
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from shelfplan.ingest.synth import generate_loans


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write synthetic library loan records as CSV.")
    parser.add_argument("--items", type=int, default=300, help="number of items in the collection (default 300)")
    parser.add_argument("--loans-per-item", type=float, default=10.0, help="mean loans per item (default 10)")
    parser.add_argument("--topics", type=int, default=None, help="number of latent topics (default: sqrt(items)/1.5 in [4, 60])")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--start", default="2024-01-01", help="first calendar day, YYYY-MM-DD (default 2024-01-01)")
    parser.add_argument("--days", type=int, default=540, help="number of calendar days covered (default 540)")
    parser.add_argument("-o", "--output", default="-", help="output CSV path, '-' for stdout (default)")
    args = parser.parse_args(argv)

    loans = generate_loans(
        args.items,
        loans_per_item=args.loans_per_item,
        n_topics=args.topics,
        seed=args.seed,
        start=args.start,
        days=args.days,
    )
    if args.output == "-":
        try:
            loans.to_csv(sys.stdout, index=False)
        except BrokenPipeError:  # e.g. piped into `head`
            sys.stdout = None  # nothing left to flush at exit
            return 0
    else:
        loans.to_csv(args.output, index=False)
        print(
            f"wrote {len(loans)} loans of {loans['item_id'].nunique()} items "
            f"by {loans['patron_id'].nunique()} patrons to {args.output}",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
