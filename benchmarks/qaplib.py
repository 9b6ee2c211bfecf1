"""QAPLIB instances solved by the table search that places books on shelf locations.

    python benchmarks/qaplib.py [DIR] [--time SECONDS] [--only NAME,...] [--no-scipy]

DIR holds ``<name>.dat`` files (n, then matrix A, then matrix B) and a ``bks.csv``
(``name,n,bks,...``); the default is the shared QAPLIB folder. A quadratic
assignment problem, cost(p) = sum_ij A[i, j] B[p(i), p(j)], is the table search's
special case (MODEL.md 8.4) with one book per place: the symmetric matrix is the
distance table ``D`` (its diagonal, if any, the entrance column, with p the other
matrix's diagonal: the linear term), the other, symmetrised, the pair weights
``W = F + F^T``. When neither matrix is symmetric the instance is reported as not
applicable. Each found value is recomputed from the permutation with the formula
above. scipy.optimize.quadratic_assignment (FAQ, and 2-opt from a random
start) runs on the same instances for comparison, each to its own end (columns
faq_gap, faq_s, 2opt_gap, 2opt_s). The JIT compile is warmed up first and not
timed.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.optimize import quadratic_assignment

from shelfplan.solve.shelf_search import TableSearch

#: ../shared/data/qaplib beside the repository
DEFAULT_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "qaplib"


#: seconds kept back from the budget for the last chunk and the exact recount
MARGIN = 0.25


def read_dat(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """n, then A (n x n), then B (n x n), whitespace separated."""
    nums = np.array(path.read_text().split(), dtype=np.int64)
    n = int(nums[0])
    if len(nums) < 1 + 2 * n * n:
        raise ValueError(f"{path.name} must hold n and two {n} x {n} matrices, "
                         f"got {len(nums)} numbers")
    A = nums[1:1 + n * n].reshape(n, n)
    B = nums[1 + n * n:1 + 2 * n * n].reshape(n, n)
    return A, B


def qap_cost(A: np.ndarray, B: np.ndarray, perm: np.ndarray) -> int:
    """sum_ij A[i, j] B[perm[i], perm[j]] (exact, integers)."""
    return int((A * B[np.ix_(perm, perm)]).sum())


def as_table(A: np.ndarray, B: np.ndarray):
    """(D, p, W, flipped) for the table search, or None when neither is symmetric.
    ``flipped``: the books are B's rows (the search's assignment is the inverse)."""
    flipped = False
    if not (B == B.T).all():
        if not (A == A.T).all():
            return None
        A, B, flipped = B, A, True
    n = len(A)
    D = np.zeros((n + 1, n + 1))
    D[1:, 1:] = B
    np.fill_diagonal(D[1:, 1:], 0.0)
    D[0, 1:] = D[1:, 0] = np.diag(B)            # the linear term A_ii B_kk
    p = np.diag(A).astype(float)
    F = (A + A.T).astype(float)
    np.fill_diagonal(F, 0.0)
    return D, p, sp.csr_matrix(F), flipped


def solve_table(A, B, seconds: float, seed: int = 0):
    """The table search on one instance: (permutation, kicks) or None."""
    table = as_table(A, B)
    if table is None:
        return None
    D, p, W, flipped = table
    n = len(A)
    rng = np.random.default_rng(seed)
    search = TableSearch(rng.permutation(n), D, p, W, np.ones(n, dtype=np.int64),
                         active=np.arange(n), seed=rng)
    # the deadline is checked between compiled chunks: stop a little early
    search.run(time.monotonic() + max(0.05, seconds - MARGIN), patience=10**9)
    loc = search.best_loc
    return (np.argsort(loc) if flipped else loc), search.kicks


def read_bks(folder: Path) -> dict:
    with open(folder / "bks.csv", newline="") as f:
        return {r["name"]: int(r["bks"]) for r in csv.DictReader(f)}


def warm_up() -> None:
    """Compile the kernel once (numba caches it) so the first instance is fair."""
    rng = np.random.default_rng(0)
    A = rng.integers(0, 9, (6, 6))
    D, p, W, _ = as_table(A + A.T, A + A.T)
    TableSearch(np.arange(6), D, p, W, np.ones(6, dtype=np.int64), active=np.arange(6)).run(
        float("inf"), max_kicks=2)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", nargs="?", default=str(DEFAULT_DIR))
    ap.add_argument("--time", type=float, default=10.0, help="seconds per instance")
    ap.add_argument("--only", default="", help="comma-separated instance names")
    ap.add_argument("--no-scipy", action="store_true", help="skip the scipy comparison")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    folder = Path(args.dir)
    bks = read_bks(folder)
    names = sorted(bks, key=lambda k: (len(read_dat(folder / f"{k}.dat")[0]), k))
    if args.only:
        names = [k for k in names if k in args.only.split(",")]
    t0 = time.perf_counter()
    warm_up()
    print(f"# JIT warm-up {time.perf_counter() - t0:.1f} s (not timed below)", flush=True)
    head = f"{'name':<8} {'n':>4} {'bks':>11} {'found':>11} {'gap_percent':>11} {'seconds':>7}"
    if not args.no_scipy:
        head += f" {'faq_gap':>8} {'faq_s':>6} {'2opt_gap':>8} {'2opt_s':>6}"
    print(head, flush=True)
    for name in names:
        A, B = read_dat(folder / f"{name}.dat")
        n, best = len(A), bks[name]
        t = time.perf_counter()
        out = solve_table(A, B, args.time, args.seed)
        sec = time.perf_counter() - t
        if out is None:
            row = f"{name:<8} {n:>4} {best:>11} {'n/a':>11} {'n/a':>11} {'-':>7}"
        else:
            found = qap_cost(A, B, out[0])
            gap = 100.0 * (found - best) / best
            row = f"{name:<8} {n:>4} {best:>11} {found:>11} {gap:>11.2f} {sec:>7.2f}"
        if not args.no_scipy:
            row += scipy_cols(A, B, best, args.seed)
        print(row, flush=True)
    return 0


def scipy_cols(A, B, best, seed) -> str:
    cols = ""
    t = time.perf_counter()
    faq = quadratic_assignment(A, B, method="faq",
                               options={"rng": np.random.default_rng(seed)})
    cols += f" {100.0 * (qap_cost(A, B, faq.col_ind) - best) / best:>8.2f}"
    cols += f" {time.perf_counter() - t:>6.2f}"
    t = time.perf_counter()
    two = quadratic_assignment(A, B, method="2opt",
                               options={"rng": np.random.default_rng(seed)})
    cols += f" {100.0 * (qap_cost(A, B, two.col_ind) - best) / best:>8.2f}"
    cols += f" {time.perf_counter() - t:>6.2f}"
    return cols


if __name__ == "__main__":
    sys.exit(main())
