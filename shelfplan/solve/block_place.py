"""Category blocks: their placement machinery (``--level category``).

:class:`Discs` holds a block problem's fixed geometry (radii, wall margins,
a fine grid of candidate centres) and builds feasible layouts: greedily
(blocks in a chosen order, each at the free spot that adds least walking),
and by repair (push overlapping discs apart, re-seat what still fails). The
disc geometry itself is :mod:`shelfplan.model.discs`; the continuous
improvement is :mod:`shelfplan.solve.block_continuous`, the swaps and
relocations :mod:`shelfplan.solve.block_search` (on the search core).
"""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from shelfplan.model.discs import (TOL, block_z, check_room, close_pairs, grid, is_feasible,
                                   margins, signed_clearance, widest_point)
from shelfplan.model.objective import walking_cost
from shelfplan.solve import block_continuous, block_search
from shelfplan.solve.core import pull_points

#: candidate centres on the floor for the greedy placement (at most about this many)
GRID_POINTS = 40_000
#: partners (largest weights) a greedy step prices a candidate spot with
PARTNERS = 32
#: candidate spots times partners priced per greedy step (the nearest spots to where
#: the block is pulled are kept when there are more)
SCORE_BUDGET = 64_000


class Discs:
    """A block problem's fixed geometry: radii, wall margins, candidate centres."""

    def __init__(self, problem):
        hall = problem.hall
        self.problem = problem
        self.hall = hall
        self.n = problem.n
        self.rho = np.asarray(problem.radius, dtype=float)
        self.margin = margins(self.rho, hall)
        self.z = block_z(hall)
        check_room(self.rho, hall)
        self.W = problem.symmetric_weights()
        # candidate centres: a grid d_min/2 apart (coarser in large halls), plus the
        # floor's widest point, where the largest block fits if anywhere
        step = max(min(hall.d_min / 2.0, float(self.rho.min())),
                   math.sqrt(hall.floor.area / GRID_POINTS))
        self.step = step
        self.cand = np.vstack([grid(hall, step), widest_point(hall)[None, :]])
        _, self.wall = hall.nearest_boundary(self.cand)
        self.tree = cKDTree(self.cand)
        self.failure = ""
        e = hall.entrance
        self.cand_e = np.sqrt(((self.cand - e[:2]) ** 2).sum(axis=1) + (self.z - e[2]) ** 2)

    def positions(self, xy: np.ndarray) -> np.ndarray:
        return np.column_stack([xy, np.full(len(xy), self.z)])

    def cost(self, X: np.ndarray) -> float:
        return walking_cost(X, self.problem)["total"]

    def feasible(self, X: np.ndarray) -> bool:
        return is_feasible(X, self.rho, self.hall)

    # --- greedy ------------------------------------------------------------------
    def greedy(self, order, mode: str = "cost", deadline: float | None = None,
               fixed: np.ndarray | None = None, start: np.ndarray | None = None,
               ) -> np.ndarray | None:
        """Place blocks in ``order``, each at the free candidate centre with the least
        added walking (``mode="cost"``: p_i times the entrance distance plus the
        pair weights to placed partners) or nearest the entrance (``"entrance"``).
        None when a block finds no room or ``deadline`` passes (``self.failure``
        says which). ``fixed`` (a mask) keeps those blocks where ``start`` has them
        and places only ``order`` around them."""
        clear = np.full(len(self.cand), np.inf)
        xy = np.full((self.n, 2), np.nan)
        placed = np.zeros(self.n, dtype=bool)
        if fixed is not None:
            for j in np.flatnonzero(fixed):
                xy[j] = start[j, :2]
                placed[j] = True
                d = np.sqrt(((self.cand - xy[j]) ** 2).sum(axis=1)) - self.rho[j]
                np.minimum(clear, d, out=clear)
        p = self.problem.p
        e = self.hall.entrance[:2]
        W = self.W
        for step, i in enumerate(order):
            if deadline is not None and step % 32 == 31 and time.monotonic() > deadline:
                self.failure = "time limit"
                return None
            ok = np.flatnonzero((clear >= self.rho[i] * (1 - 1e-9))
                                & (self.wall >= self.margin[i]))
            if len(ok) == 0:
                self.failure = f"no room for block {self.problem.items[i]!r}"
                return None
            if mode == "cost":
                cols = W.indices[W.indptr[i]:W.indptr[i + 1]]
                vals = W.data[W.indptr[i]:W.indptr[i + 1]]
                m = placed[cols]
                cols, vals = cols[m], vals[m]
                if len(cols) > PARTNERS:
                    top = np.argpartition(-vals, PARTNERS)[:PARTNERS]
                    cols, vals = cols[top], vals[top]
                limit = SCORE_BUDGET // max(len(cols), 1)
                if len(ok) > limit:
                    # many free spots: price only those nearest where the block is pulled
                    row = sp.csr_matrix((vals, cols, [0, len(cols)]), shape=(1, self.n))
                    pull = pull_points(xy, p[i:i + 1], e, row, np.zeros(1, dtype=np.int64))[0]
                    d2 = ((self.cand[ok] - pull) ** 2).sum(axis=1)
                    ok = ok[np.argpartition(d2, limit)[:limit]]
            score = self.cand_e[ok] * (p[i] if mode == "cost" else 1.0)
            if mode == "cost":
                if len(cols):
                    c = self.cand[ok]
                    dx = c[:, 0, None] - xy[cols, 0][None, :]
                    dy = c[:, 1, None] - xy[cols, 1][None, :]
                    score = score + np.sqrt(dx * dx + dy * dy) @ vals
                # ties (no weight at all): nearest the entrance
                score = score + 1e-12 * self.cand_e[ok]
            c = ok[int(np.argmin(score))]
            xy[i] = self.cand[c]
            placed[i] = True
            dist = np.sqrt(((self.cand - self.cand[c]) ** 2).sum(axis=1)) - self.rho[i]
            np.minimum(clear, dist, out=clear)
        return self.positions(xy)

    def attached_order(self, noise: float = 0.0, rng=None) -> np.ndarray:
        """Most borrowed block first, then always the block with the largest weight
        to those placed plus its own p (a Prim-like growth)."""
        p = self.problem.p
        gain = p.copy()
        if noise:
            gain = gain * (1.0 + noise * rng.random(self.n))
        done = np.zeros(self.n, dtype=bool)
        out = []
        W = self.W
        for _ in range(self.n):
            g = np.where(done, -np.inf, gain)
            i = int(np.argmax(g))
            out.append(i)
            done[i] = True
            cols = W.indices[W.indptr[i]:W.indptr[i + 1]]
            vals = W.data[W.indptr[i]:W.indptr[i + 1]]
            if noise:
                vals = vals * (1.0 + noise * rng.random(len(vals)))
            gain[cols] += vals
        return np.array(out, dtype=np.int64)


    def moved(self, X: np.ndarray, anchor: np.ndarray | None) -> np.ndarray:
        """Discs with a current spot that are more than 1e-6 m away from it."""
        if anchor is None:
            return np.zeros(self.n, dtype=bool)
        has = np.isfinite(anchor).all(axis=1)
        return has & (np.linalg.norm(X - np.nan_to_num(anchor), axis=1) > 1e-6)


    def repair(self, X: np.ndarray, rounds: int = 300,
               deadline: float | None = None) -> np.ndarray | None:
        """Push overlapping blocks apart and blocks off the walls until feasible; after
        ``rounds`` re-seat what still fails (:meth:`reseat`). None when that finds
        no room or ``deadline`` passes."""
        xy = np.asarray(X, dtype=float)[:, :2].copy()
        rho, hall = self.rho, self.hall
        d = hall.d_min
        for _ in range(rounds):
            X3 = self.positions(xy)
            if is_feasible(X3, rho, hall):
                return X3
            if deadline is not None and time.monotonic() > deadline:
                return None
            delta = np.zeros_like(xy)
            pairs = close_pairs(X3, rho, slack=-TOL / 2)
            if len(pairs):
                I, J = pairs[:, 0], pairs[:, 1]
                diff = xy[I] - xy[J]
                r = np.sqrt((diff ** 2).sum(axis=1))
                tiny = r < 1e-9
                if tiny.any():
                    diff[tiny] = np.random.default_rng(len(pairs)).standard_normal(
                        (int(tiny.sum()), 2))
                    r[tiny] = np.sqrt((diff[tiny] ** 2).sum(axis=1))
                push = 0.6 * ((rho[I] + rho[J]) * (1 + TOL / 2) - r)
                step = diff * (push / r)[:, None]
                for k in range(2):
                    delta[:, k] = (np.bincount(I, step[:, k], self.n)
                                   - np.bincount(J, step[:, k], self.n))
            sd, q = signed_clearance(xy, hall)
            viol = self.margin + TOL * d / 2 - sd
            bad = viol > 0
            if bad.any():
                dist = np.abs(sd[bad])
                away = (xy[bad] - q[bad]) * np.sign(sd[bad])[:, None]
                inward = np.divide(away, dist[:, None], out=np.zeros_like(away),
                                   where=dist[:, None] > 0)
                delta[bad] = inward * viol[bad][:, None]
            xy = xy + delta
        return self.reseat(self.positions(xy), deadline)

    def reseat(self, X: np.ndarray, deadline: float | None = None) -> np.ndarray | None:
        """Keep every block that is feasible among the kept ones (of each overlapping
        pair the less borrowed one goes, and every block too near a wall) and place
        the others again greedily around them, most borrowed first."""
        rho, hall, p = self.rho, self.hall, self.problem.p
        bad = np.zeros(self.n, dtype=bool)
        sd, _ = signed_clearance(X[:, :2], hall)
        bad |= (sd < self.margin - TOL * hall.d_min) | ~hall.contains(X)
        pairs = close_pairs(X, rho, slack=TOL)
        for i, j in pairs[np.argsort(np.minimum(p[pairs[:, 0]], p[pairs[:, 1]]))]:
            if not (bad[i] or bad[j]):
                bad[j if p[j] <= p[i] else i] = True
        order = np.flatnonzero(bad)
        order = order[np.lexsort((order, -p[order]))]
        Y = self.greedy(order, deadline=deadline, fixed=~bad, start=X)
        return Y if Y is not None and is_feasible(Y, rho, hall) else None


# ---------------------------------------------------------------------------
# solver and baselines


    # --- the other stages, on this geometry ----------------------------------------
    def improve(self, X: np.ndarray, deadline: float, maxiter: int = 200) -> tuple:
        return block_continuous.improve(self, X, deadline, maxiter)

    def _penalised(self, mu: float, eps: float):
        return block_continuous.penalised(self, mu, eps)

    def swap_gains(self, X: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return block_search.swap_gains(self, X, a, b)

    def swaps(self, X: np.ndarray, deadline: float, neighbours: int = 8, **kw) -> tuple:
        return block_search.swaps(self, X, deadline, neighbours, **kw)
