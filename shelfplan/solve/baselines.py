"""Baseline layouts: random, popularity-first, and call-number (today's shelving).

All three use the same sites (the ``n`` lattice sites nearest the entrance),
so they differ only in which book goes where. Each is feasible by
construction.
"""

from __future__ import annotations

import numpy as np

from shelfplan.ingest.callsort import shelf_ranks
from shelfplan.model.problem import Problem
from shelfplan.solve.blocks import baseline_blocks
from shelfplan.solve.record import as_rng
from shelfplan.solve.starts import nearest_sites, popularity_start

BASELINES = ("random", "popularity", "callnumber")


def random_layout(problem: Problem, seed: int = 0) -> np.ndarray:
    """Books on the sites nearest the entrance in random order."""
    sites = nearest_sites(problem)
    perm = as_rng(seed).permutation(problem.n)
    return sites[perm]


def popularity_layout(problem: Problem) -> np.ndarray:
    """Most borrowed book on the site nearest the entrance, and so on."""
    return popularity_start(problem, nearest_sites(problem))


def shelving_order(problem: Problem, sites: np.ndarray, bay: float = 1.0) -> np.ndarray:
    """Order of ``sites`` along the shelving, serpentine from the entrance.

    Rows of shelving run parallel to the entrance wall, one row per lattice
    row in depth; each row is cut into bays ``bay`` metres wide. Books fill a
    bay shelf by shelf from the top, left to right along each shelf; rows are
    walked alternately left-to-right and right-to-left (a serpentine).
    """
    hall = problem.hall
    u, nrm = hall.entrance_wall()
    rel = sites[:, :2] - hall.entrance[:2]
    along = rel @ u
    depth = rel @ nrm
    row_pitch = hall.d_min * np.sqrt(3.0) / 2.0
    row = np.floor((depth - depth.min()) / row_pitch + 0.5).astype(int)
    sign = np.where(row % 2 == 0, 1.0, -1.0)
    a = along * sign
    bay_idx = np.floor((a - a.min()) / bay).astype(int)
    shelf = -np.round(sites[:, 2] / (hall.d_min * 0.5)).astype(int)   # top shelf first
    return np.lexsort((a, shelf, bay_idx, row))


def callnumber_layout(problem: Problem) -> np.ndarray:
    """Books sorted by category (call number), then id, along the shelving."""
    sites = nearest_sites(problem)
    order_sites = shelving_order(problem, sites)
    cats = problem.categories
    if cats is None:
        cats = np.array([""] * problem.n, dtype=object)
    key_cat = shelf_ranks(cats)                # library order; no category last
    key_id = np.array([str(i) for i in problem.items])
    order_items = np.lexsort((key_id, key_cat))
    X = np.empty((problem.n, 3))
    X[order_items] = sites[order_sites]
    return X


def baseline_layout(name: str, problem: Problem, seed: int = 0) -> np.ndarray:
    """Positions for the named baseline (``random``, ``popularity`` or ``callnumber``)."""
    if problem.blocks:
        return baseline_blocks(name, problem, seed)
    if name == "random":
        return random_layout(problem, seed)
    if name == "popularity":
        return popularity_layout(problem)
    if name == "callnumber":
        return callnumber_layout(problem)
    raise ValueError(f"baseline must be one of {', '.join(BASELINES)}, got {name!r}")
