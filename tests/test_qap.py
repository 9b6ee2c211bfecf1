"""The table search on quadratic assignment problems (QAPLIB, benchmarks/qaplib.py)."""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("qaplib_bench", ROOT / "benchmarks" / "qaplib.py")
qaplib = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(qaplib)


@pytest.fixture(autouse=True, scope="module")
def _compiled():
    """Compile the kernels before any timed search: on a fresh install numba compiles
    them on first use, which would eat a search's seconds."""
    qaplib.warm_up()


def brute_optimum(A, B):
    n = len(A)
    return min(qaplib.qap_cost(A, B, np.array(p)) for p in itertools.permutations(range(n)))


def test_qap_cost_by_hand():
    A = np.array([[0, 2], [1, 0]])
    B = np.array([[5, 3], [4, 7]])
    # perm (1, 0): A01 B10 + A10 B01 + A00 B11 + A11 B00 = 2*4 + 1*3
    assert qaplib.qap_cost(A, B, np.array([1, 0])) == 11


@pytest.mark.parametrize("flip", [False, True])
def test_linear_terms_and_asymmetric_flows_reach_the_brute_force_optimum(flip):
    # one symmetric matrix, the other asymmetric, both with diagonals: 6! = 720 checked
    rng = np.random.default_rng(5)
    F = rng.integers(0, 10, (6, 6))
    S = rng.integers(0, 10, (6, 6))
    S = S + S.T
    A, B = (S, F) if flip else (F, S)
    perm, _ = qaplib.solve_table(A, B, seconds=1.0)
    assert sorted(perm.tolist()) == list(range(6))
    assert qaplib.qap_cost(A, B, perm) == brute_optimum(A, B)


def test_neither_matrix_symmetric_is_not_applicable():
    A = np.array([[0, 1], [2, 0]])
    assert qaplib.as_table(A, A) is None
    assert qaplib.solve_table(A, A, seconds=0.1) is None


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_grid_instances_reach_the_brute_force_optimum(seed):
    # a nug-like instance made here (the QAPLIB files stay in ../shared, for the benchmark):
    # 8 places on a 2 x 4 grid (Manhattan distances), random flows; 8! = 40,320 checked
    rng = np.random.default_rng(seed)
    xy = np.array([(i, j) for i in range(2) for j in range(4)])
    B = np.abs(xy[:, None, :] - xy[None, :, :]).sum(axis=2)
    F = rng.integers(0, 6, (8, 8))
    A = F + F.T
    np.fill_diagonal(A, 0)
    perm, _ = qaplib.solve_table(A, B, seconds=2.0)
    assert qaplib.qap_cost(A, B, perm) == brute_optimum(A, B)


def test_the_benchmark_prints_one_row_per_instance(tmp_path, capsys):
    rng = np.random.default_rng(1)
    A = rng.integers(0, 5, (5, 5))
    B = rng.integers(0, 5, (5, 5))
    B = B + B.T
    best = brute_optimum(A, B)
    text = " ".join(map(str, [5, *A.ravel(), *B.ravel()]))
    (tmp_path / "tiny5.dat").write_text(text)
    (tmp_path / "bks.csv").write_text(f"name,n,bks,status\ntiny5,5,{best},optimal\n")
    assert qaplib.main([str(tmp_path), "--time", "0.5"]) == 0
    rows = [r.split() for r in capsys.readouterr().out.splitlines() if not r.startswith("#")]
    assert rows[0][:6] == ["name", "n", "bks", "found", "gap_percent", "seconds"]
    assert rows[1][:5] == ["tiny5", "5", str(best), str(best), "0.00"]
