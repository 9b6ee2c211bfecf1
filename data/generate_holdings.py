"""Generate a holdings CSV (every book shelved) for a loans CSV: the borrowed books
with their call numbers, plus books never borrowed with call numbers in the same
classes (drawn by how many borrowed books each class has).

The bundled sample ``data/holdings.csv`` was produced, from the repository root, by::

    python data/generate_holdings.py data/loans.csv --books 1500 --seed 7 -o data/holdings.csv

Columns ``item_id, call_number, category, title`` (docs/formats.md, "Holdings CSV");
one row per book in item-id order. Titles are made up from the class's subject (so
``shelfplan stack-map --titles`` has words to search); they come from their own random
stream, after the call numbers, so the other columns do not depend on them. The loans' item ids must look like ``B00042``
(as :func:`shelfplan.ingest.synth.generate_loans` writes them); new books continue
the numbering. Works without installing the package.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

try:
    from shelfplan.ingest.synth import _CUTTERS
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from shelfplan.ingest.synth import _CUTTERS


def holdings(loans: pd.DataFrame, n_books: int, seed: int) -> pd.DataFrame:
    """``n_books`` books: every item of ``loans`` and never-borrowed ones."""
    borrowed = (loans.drop_duplicates("item_id")[["item_id", "call_number", "category"]]
                .reset_index(drop=True))
    width = borrowed["item_id"].str.len().max() - 1
    numbers = borrowed["item_id"].str[1:].astype(int)
    n_new = n_books - len(borrowed)
    if n_new < 0:
        raise SystemExit(f"--books must be at least the {len(borrowed)} borrowed books")
    free = np.setdiff1d(np.arange(1, numbers.max() + n_new + 1), numbers)[:n_new]
    rng = np.random.default_rng(seed)
    share = borrowed["category"].value_counts(sort=False)
    classes = rng.choice(share.index.to_numpy(dtype=object), size=n_new,
                         p=(share / share.sum()).to_numpy())
    decimal = rng.integers(0, 100, size=n_new)
    cutter = np.array(_CUTTERS, dtype=object)[rng.integers(0, len(_CUTTERS), size=n_new)]
    new = pd.DataFrame({
        "item_id": [f"B{k:0{width}d}" for k in free],
        "call_number": [f"{c}.{d:02d} {a}" for c, d, a in zip(classes, decimal.tolist(), cutter)],
        "category": classes,
    })
    out = pd.concat([borrowed, new], ignore_index=True)
    out = out.sort_values("item_id", kind="stable").reset_index(drop=True)
    out["title"] = titles(out["category"], np.random.default_rng([seed, 1]))
    return out


#: subjects by Dewey hundreds (the first digit of the class)
_SUBJECTS = (
    ("Information", "Libraries", "Computing", "Knowledge", "Encyclopaedias"),
    ("Philosophy", "Ethics", "Logic", "the Mind", "Psychology"),
    ("Religion", "Myth", "Belief", "Ritual", "the Sacred"),
    ("Society", "Economics", "Law", "Education", "Politics"),
    ("Language", "Grammar", "Words", "Translation", "Speech"),
    ("Science", "Mathematics", "Physics", "Chemistry", "Life on Earth"),
    ("Medicine", "Engineering", "Farming", "Cooking", "Building"),
    ("Painting", "Music", "Sport", "Design", "Photography"),
    ("Poetry", "the Novel", "Drama", "Letters", "Satire"),
    ("History", "Travel", "Biography", "Ancient Worlds", "Maps"),
)
_FORMS = ("A Short History of", "An Introduction to", "Essays on", "The Story of",
          "Understanding", "A Guide to", "Notes on", "Readings in", "The Practice of",
          "New Directions in", "The Art of", "Questions of")


def titles(categories: pd.Series, rng) -> list[str]:
    """A made-up title per book: a form and a subject of its Dewey hundreds (no commas)."""
    digit = pd.to_numeric(categories.astype(str).str[:1], errors="coerce").fillna(0)
    digit = digit.astype(int).to_numpy()
    form = rng.integers(0, len(_FORMS), size=len(digit))
    subject = rng.integers(0, len(_SUBJECTS[0]), size=len(digit))
    return [f"{_FORMS[f]} {_SUBJECTS[d][s]}" for f, d, s in zip(form, digit, subject)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a holdings CSV for a loans CSV.")
    parser.add_argument("loans", help="loans CSV (item_id, call_number, category columns)")
    parser.add_argument("--books", type=int, default=1500, help="books in all (default 1500)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("-o", "--output", default="-", help="output CSV path, '-' for stdout")
    args = parser.parse_args(argv)
    loans = pd.read_csv(args.loans, dtype=str, keep_default_na=False)
    out = holdings(loans, args.books, args.seed)
    out.to_csv(sys.stdout if args.output == "-" else args.output, index=False)
    if args.output != "-":
        n = loans["item_id"].nunique()
        print(f"wrote {len(out)} books ({n} borrowed, {len(out) - n} never borrowed) to "
              f"{args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
