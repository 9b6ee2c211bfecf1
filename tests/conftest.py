"""Shared fixtures and independent checkers for the shelfplan test suite.

Everything here uses only ``data/`` and ``tests/fixtures/``. The feasibility
checker deliberately does not call :mod:`shelfplan.model.hall` or
``shelfplan.model.objective.is_feasible``: it rebuilds the hall from its JSON with
shapely and measures spacing with its own KD-tree.
"""

from __future__ import annotations

import os

# L-BFGS-B makes many tiny BLAS calls; with OpenBLAS threads on a busy machine each
# call spins, and the solver ran 7-25x slower in our measurements. The solver tests
# run under short time limits, so pin BLAS to one thread (before numpy loads).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import io  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import scipy.sparse as sp  # noqa: E402
from scipy.spatial import cKDTree  # noqa: E402
from shapely import contains_xy  # noqa: E402
from shapely.geometry import Polygon  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLE_LOANS = DATA / "loans.csv"
SAMPLE_HALL = DATA / "hall.json"
TINY_LOANS = FIXTURES / "tiny_loans.csv"
SMALL_HALL = FIXTURES / "small_hall.json"

#: MODEL.md section 4: pairs must be at least d_min (1 - 1e-3) apart.
SPACING_TOL = 1e-3


@pytest.fixture(autouse=True)
def _reset_shelfplan_logger():
    """The CLI configures the ``shelfplan`` logger; undo it so caplog works in every test."""
    logger = logging.getLogger("shelfplan")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]


def assert_feasible(X: np.ndarray, hall: dict | Path | str, tol: float = 1e-6) -> None:
    """Independent check of MODEL.md section 4 from the hall's JSON mapping (or file)."""
    if not isinstance(hall, dict):
        hall = json.loads(Path(hall).read_text(encoding="utf-8"))
    X = np.asarray(X, dtype=float)
    assert X.ndim == 2 and X.shape[1] == 3 and np.isfinite(X).all()
    d_min = float(hall["d_min"])
    if len(X) > 1:
        dist, _ = cKDTree(X).query(X, k=2)
        assert dist[:, 1].min() >= d_min * (1 - SPACING_TOL), dist[:, 1].min()
    z_lo, z_hi = hall["z_range"]
    assert (X[:, 2] >= z_lo - tol).all() and (X[:, 2] <= z_hi + tol).all()
    # grow the footprint by tol so points placed exactly on a wall count as inside
    foot = Polygon(hall["footprint"]).buffer(tol)
    assert contains_xy(foot, X[:, 0], X[:, 1]).all(), "a position is outside the footprint"
    for ob in hall.get("obstacles") or []:
        hole = Polygon(ob).buffer(-tol)
        if not hole.is_empty:
            assert not contains_xy(hole, X[:, 0], X[:, 1]).any(), "a position is in an obstacle"


def brute_force_cost(X: np.ndarray, p: np.ndarray, pair: np.ndarray, e: np.ndarray) -> float:
    """MODEL.md section 3 by a plain double loop over i != j with the dense p(i,j)."""
    total = 0.0
    n = len(p)
    for i in range(n):
        total += p[i] * float(np.sqrt(((X[i] - e) ** 2).sum()))
        for j in range(n):
            if j != i:
                total += pair[i, j] * float(np.sqrt(((X[i] - X[j]) ** 2).sum()))
    return total


def random_loans_csv(n_items: int, n_sessions: int, seed: int, *, topics: int = 3,
                     max_size: int = 5) -> str:
    """A small loans CSV with some co-borrowing structure (sessions as patron + date)."""
    rng = np.random.default_rng(seed)
    topic = rng.integers(0, topics, n_items)
    pop = rng.pareto(1.5, n_items) + 0.1
    rows = ["patron_id,item_id,timestamp,category"]
    for s in range(n_sessions):
        t = rng.integers(0, topics)
        cand = np.nonzero(topic == t)[0]
        if len(cand) == 0:
            cand = np.arange(n_items)
        k = int(min(len(cand), rng.integers(1, max_size + 1)))
        w = pop[cand] / pop[cand].sum()
        chosen = rng.choice(cand, size=k, replace=False, p=w)
        day = 1 + s % 28
        for i in chosen:
            rows.append(f"P{s:04d},I{i:03d},2024-02-{day:02d}T10:00:00,{100 * (topic[i] + 1)}")
    return "\n".join(rows) + "\n"


def random_problem(n: int, seed: int, hall=None, density: float = 0.3):
    """A Problem with random p(i) and a random sparse, non-symmetric p(i,j).

    Returns ``(problem, dense_pair)``; p(i,j) rows sum to p(i) where i has partners,
    as MODEL.md section 2 implies.
    """
    from shelfplan.model.estimate import Estimates
    from shelfplan.model.hall import default_hall
    from shelfplan.model.problem import Problem

    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 20, n)
    p = counts / counts.sum()
    mask = rng.random((n, n)) < density
    mask = mask | mask.T
    np.fill_diagonal(mask, False)
    C = np.where(mask, rng.integers(1, 6, (n, n)), 0)
    C = np.triu(C, 1)
    C = C + C.T
    rows = C.sum(axis=1)
    cond = np.divide(C, rows[:, None], out=np.zeros((n, n)), where=rows[:, None] > 0)
    pair = p[:, None] * cond
    est = Estimates(items=np.array([f"I{i}" for i in range(n)], dtype=object), categories=None,
                    counts=counts, p=p, cooc=sp.csr_matrix(C), pair=sp.csr_matrix(pair))
    hall = hall if hall is not None else default_hall(n)
    return Problem.from_estimates(est, hall), pair, est


@pytest.fixture(scope="session")
def sample_problem():
    """Estimates and problem for the bundled sample (loans + hall)."""
    from shelfplan.api import load_problem

    return load_problem(str(SAMPLE_LOANS), str(SAMPLE_HALL))


@pytest.fixture(scope="session")
def sample_fit():
    """One solver run on the sample data, shared by the solver tests (a few seconds)."""
    from shelfplan.api import fit

    return fit(str(SAMPLE_LOANS), hall=str(SAMPLE_HALL), seed=0, time_limit=120, kicks=20, converge=True)


@pytest.fixture
def tiny_loans_text() -> str:
    return TINY_LOANS.read_text(encoding="utf-8")


def read_text_loans(text: str, **kw):
    from shelfplan.ingest.loans import read_loans

    return read_loans(io.StringIO(text), **kw)
