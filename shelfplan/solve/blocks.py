"""Category blocks: placed units that hold many books (``--level category``).

A category placed as one unit is a block of shelving. It holds ``m`` books
(its items in the loans) at the hall's close-packed density and stands from
the bottom to the top of ``z_range``, so on the floor plan it is a disc of radius

    rho(m) = max(d_min / 2, sqrt(m / (pi * sigma))),
    sigma  = layers / (sqrt(3) / 2 * d_min^2)

``sigma`` being the books per m^2 of floor on the hall's hexagonal lattice
(``layers`` shelf layers in ``z_range``, as in :meth:`Hall.sites`). A single
book is a disc of radius ``d_min / 2`` (MODEL.md's spacing), but a block fills
the full height, so blocks are never stacked. A block's position is its centre
at mid-height. A block layout is feasible when

* every two centres are at least ``rho_i + rho_j`` apart (discs do not
  overlap), within MODEL.md's ``1e-3`` tolerance, and
* every disc is on the free floor up to half a book: the centre is in the
  hall and at least ``rho_i - d_min / 2`` from every wall and obstacle edge.

The solver (:func:`solve_blocks`) builds feasible layouts greedily on a fine
grid of candidate centres (blocks in a chosen order, each at the free spot
that adds least walking), improves each with L-BFGS-B on the smoothed cost
plus overlap and wall penalties, repairs the result, and keeps the best
feasible one. Pairs are found with a KD-tree; nothing is ``n x n``.
"""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.sparse as sp
import shapely
from scipy.optimize import minimize
from scipy.spatial import cKDTree

from shelfplan.errors import HallError
from shelfplan.model.hall import HCP_LAYER, Hall
from shelfplan.model.objective import entrance_term, pair_term, walking_cost

#: candidate centres on the floor for the greedy placement (at most about this many)
GRID_POINTS = 40_000
#: partners (largest weights) a greedy step prices a candidate spot with
PARTNERS = 32
#: candidate spots times partners priced per greedy step (the nearest spots to where
#: the block is pulled are kept when there are more)
SCORE_BUDGET = 64_000
#: how many of the best candidate layouts get the block-swap search
SWAP_STARTS = 3
#: penalty weights of the continuation, as in :data:`shelfplan.solve.items.STAGES`
STAGES = (10.0, 100.0, 1000.0, 10000.0)
TOL = 1e-3


def layers(hall: Hall) -> int:
    """Shelf layers of the hall's close-packed lattice in ``z_range``."""
    return int(math.floor(hall.height / (hall.d_min * HCP_LAYER) + 1e-9)) + 1


def books_per_m2(hall: Hall) -> float:
    """Books per square metre of floor on the hall's lattice (all layers)."""
    return layers(hall) / (hall.d_min ** 2 * math.sqrt(3.0) / 2.0)


def block_radius(sizes, hall: Hall) -> np.ndarray:
    """Radius of the disc that holds ``sizes`` books (see the module docstring)."""
    m = np.asarray(sizes, dtype=float)
    return np.maximum(hall.d_min / 2.0, np.sqrt(m / (math.pi * books_per_m2(hall))))


def block_z(hall: Hall) -> float:
    return float(sum(hall.z_range) / 2.0)


def margins(radius: np.ndarray, hall: Hall) -> np.ndarray:
    """How far each centre must stay from the walls: ``rho - d_min / 2``."""
    return np.maximum(np.asarray(radius, dtype=float) - hall.d_min / 2.0, 0.0)


def signed_clearance(xy: np.ndarray, hall: Hall) -> tuple[np.ndarray, np.ndarray]:
    """Distance to the nearest wall, positive on the free floor and negative off it,
    with the nearest wall points."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    q, dist = hall.nearest_boundary(xy)
    inside = shapely.contains_xy(hall.floor, xy[:, 0], xy[:, 1])
    return np.where(inside, dist, -dist), q


def close_pairs(X: np.ndarray, radius: np.ndarray, slack: float = 0.0) -> np.ndarray:
    """Pairs whose centres are closer than ``(rho_i + rho_j)(1 - slack)`` (KD-tree)."""
    X = np.asarray(X, dtype=float)
    if len(X) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = cKDTree(X).query_pairs(2.0 * float(radius.max()), output_type="ndarray")
    if len(pairs) == 0:
        return pairs
    r = np.linalg.norm(X[pairs[:, 0]] - X[pairs[:, 1]], axis=1)
    need = (radius[pairs[:, 0]] + radius[pairs[:, 1]]) * (1.0 - slack)
    return pairs[r < need]


def check(X: np.ndarray, radius: np.ndarray, hall: Hall) -> dict:
    """Feasibility of a block layout with counts of what fails."""
    X = np.asarray(X, dtype=float)
    close = close_pairs(X, radius, slack=TOL)
    inside = hall.contains(X)
    sd, _ = signed_clearance(X[:, :2], hall)
    short = sd < margins(radius, hall) - TOL * hall.d_min
    return {"feasible": bool(len(close) == 0 and inside.all() and not short.any()),
            "blocks_overlapping": int(len(close)),
            "outside_hall": int((~inside | short).sum())}


def is_feasible(X: np.ndarray, radius: np.ndarray, hall: Hall) -> bool:
    return check(X, radius, hall)["feasible"]


def check_room(radius: np.ndarray, hall: Hall) -> None:
    """Fail fast when the blocks' discs cannot fit on the free floor.

    Disjoint discs that may overhang the walls by ``d_min/2`` lie in the free
    floor grown by ``d_min/2``: their areas cannot add up to more than its area,
    and the largest needs a spot ``rho - d_min/2`` from every wall.
    """
    need, have, widest, room = _room(radius, hall)
    if need > have:
        raise HallError(
            f"hall {hall.name!r} cannot hold the category blocks: their discs need "
            f"{need:.1f} m^2 and the free floor (with half a book's overhang at the walls) "
            f"has {have:.1f} m^2; enlarge the hall, or place smaller units (--level item, "
            f"or finer categories with --category-level)")
    if widest - hall.d_min / 2.0 > room:
        raise HallError(
            f"hall {hall.name!r} is too narrow for the largest category block (a disc of "
            f"radius {widest:.2f} m needs a spot {widest - hall.d_min / 2:.2f} m from every "
            f"wall; the widest spot is {room:.2f} m); widen the hall, or place smaller units "
            f"(--level item, or finer categories with --category-level)")


def room_for(radius: np.ndarray, hall: Hall, slack: float = 1.0) -> bool:
    """True when ``slack`` times the discs' area fits the grown free floor and the
    largest disc has a spot (the tests of :func:`check_room`)."""
    need, have, widest, room = _room(radius, hall)
    return slack * need <= have and widest - hall.d_min / 2.0 <= room


def _room(radius: np.ndarray, hall: Hall) -> tuple[float, float, float, float]:
    """(area of the discs, area of the free floor grown by d_min/2, largest radius,
    largest wall clearance on the floor)."""
    return (float(np.pi * np.sum(radius ** 2)), hall.floor.buffer(hall.d_min / 2.0).area,
            float(radius.max()), _inradius(hall))


def _inradius(hall: Hall) -> float:
    """Radius of the largest disc on the free floor (its pole of inaccessibility)."""
    centre = _widest_point(hall)
    _, dist = hall.nearest_boundary(centre[None, :])
    return float(dist[0])


def _widest_point(hall: Hall) -> np.ndarray:
    """The point of the free floor farthest from every wall (shapely's polylabel)."""
    from shapely.ops import polylabel

    tol = max(1e-3, math.sqrt(hall.floor.area) / 1000.0)
    pt = polylabel(hall.floor, tolerance=tol)
    return np.array([pt.x, pt.y])


def _grid(hall: Hall, step: float) -> np.ndarray:
    """A hexagonal grid of points on the free floor, ``step`` apart."""
    minx, miny, maxx, maxy = hall.floor.bounds
    xs = np.arange(minx + step / 2, maxx, step)
    ys = np.arange(miny + step / 2, maxy, step * math.sqrt(3.0) / 2.0)
    gx, gy = np.meshgrid(xs, ys)
    gx = gx + ((np.arange(len(ys)) % 2) * step / 2.0)[:, None]
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    return pts[shapely.contains_xy(hall.floor, pts[:, 0], pts[:, 1])]


# ---------------------------------------------------------------------------
# the placement machinery


class Blocks:
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
        self.cand = np.vstack([_grid(hall, step), _widest_point(hall)[None, :]])
        _, self.wall = hall.nearest_boundary(self.cand)
        self.tree = cKDTree(self.cand)
        self.failure = ""
        e = hall.entrance
        self.cand_e = np.sqrt(((self.cand - e[:2]) ** 2).sum(axis=1) + (self.z - e[2]) ** 2)

    def positions(self, xy: np.ndarray) -> np.ndarray:
        return np.column_stack([xy, np.full(len(xy), self.z)])

    def cost(self, X: np.ndarray) -> float:
        return walking_cost(X, self.problem)["total"]

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
                    pull = (p[i] * e + vals @ xy[cols]) / max(p[i] + vals.sum(), 1e-300)
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

    # --- continuous improvement ---------------------------------------------------
    def _penalised(self, mu: float, eps: float):
        pr = self.problem
        d = self.hall.d_min
        scale = self.n / d
        w = mu / d ** 2
        rho = self.rho

        def f(x):
            xy = x.reshape(-1, 2)
            X = self.positions(xy)
            fe, ge = entrance_term(X, pr.p, self.hall.entrance, eps)
            fp, gp = pair_term(X, pr.I, pr.J, pr.W, eps)
            g = scale * (ge + gp)[:, :2]
            val = scale * (fe + fp)
            pairs = close_pairs(X, rho)
            if len(pairs):
                I, J = pairs[:, 0], pairs[:, 1]
                diff = xy[I] - xy[J]
                r = np.sqrt((diff ** 2).sum(axis=1))
                short = rho[I] + rho[J] - r
                val += w * float(short @ short)
                coef = np.divide(-2.0 * short, r, out=np.zeros_like(r), where=r > 0)
                gg = diff * coef[:, None]
                for k in range(2):
                    g[:, k] += w * (np.bincount(I, gg[:, k], self.n)
                                    - np.bincount(J, gg[:, k], self.n))
            sd, q = signed_clearance(xy, self.hall)
            viol = self.margin - sd
            bad = viol > 0
            if bad.any():
                val += w * float(viol[bad] @ viol[bad])
                dist = np.abs(sd[bad])
                away = xy[bad] - q[bad]
                grad_sd = np.divide(away, dist[:, None], out=np.zeros_like(away),
                                    where=dist[:, None] > 0) * np.sign(sd[bad])[:, None]
                g[bad] += w * (-2.0 * viol[bad])[:, None] * grad_sd
            return val, g.ravel()
        return f

    def improve(self, X: np.ndarray, deadline: float, maxiter: int = 200) -> tuple:
        """L-BFGS-B with rising penalties from ``X``; returns (positions, iterations)."""
        x = np.asarray(X, dtype=float)[:, :2].ravel().copy()
        iters = 0
        for mu in STAGES:
            if time.monotonic() > deadline:
                break

            def stop(xk):
                if time.monotonic() > deadline:
                    raise StopIteration

            res = minimize(self._penalised(mu, 0.01 * self.hall.d_min), x, jac=True,
                           method="L-BFGS-B", callback=stop,
                           options={"maxiter": maxiter, "maxcor": 20})
            x = res.x
            iters += int(res.nit)
        return self.positions(x.reshape(-1, 2)), iters

    # --- swaps ------------------------------------------------------------------------
    def _costs_at(self, a: np.ndarray, pos: np.ndarray, X: np.ndarray) -> np.ndarray:
        """``p_a ||pos - e|| + sum_k W_ak ||pos - v_k||`` for blocks ``a`` at ``pos``."""
        W = self.W
        e = self.hall.entrance
        out = self.problem.p[a] * np.linalg.norm(pos - e, axis=1)
        deg = np.diff(W.indptr)[a]
        if deg.sum():
            c = np.repeat(np.arange(len(a)), deg)
            starts = np.repeat(W.indptr[a], deg)
            offs = np.arange(int(deg.sum())) - np.repeat(np.cumsum(deg) - deg, deg)
            k = W.indices[starts + offs]
            w = W.data[starts + offs]
            out = out + np.bincount(c, w * np.linalg.norm(pos[c] - X[k], axis=1), len(a))
        return out

    def swap_gains(self, X: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Exact decrease of S when blocks ``a`` and ``b`` exchange centres."""
        wab = np.asarray(self.W[a, b]).ravel()
        dab = np.linalg.norm(X[a] - X[b], axis=1)
        before = self._costs_at(a, X[a], X) + self._costs_at(b, X[b], X)
        after = self._costs_at(a, X[b], X) + self._costs_at(b, X[a], X)
        return before - after - 2.0 * wab * dab

    def _fits(self, X: np.ndarray, i: int, at: np.ndarray, skip: int, tree) -> bool:
        """Would block ``i`` centred at ``at`` clear every block but ``i`` and ``skip``
        and the walls?"""
        near = tree.query_ball_point(at, self.rho[i] + float(self.rho.max()))
        for k in near:
            if k in (i, skip):
                continue
            if np.linalg.norm(at - X[k]) < (self.rho[i] + self.rho[k]) * (1 - TOL / 2):
                return False
        sd, _ = signed_clearance(at[None, :2], self.hall)
        return bool(sd[0] >= self.margin[i] - TOL * self.hall.d_min / 2)

    def _move_gain(self, X, a, b, anchor, lam):
        """Change of ``lam * ||v - anchor||`` when blocks a and b exchange centres."""
        if anchor is None or lam == 0:
            return 0.0
        has_a = np.isfinite(anchor[a]).all(axis=1)
        has_b = np.isfinite(anchor[b]).all(axis=1)
        A = np.nan_to_num(anchor)
        da = np.linalg.norm(X[a] - A[a], axis=1) - np.linalg.norm(X[b] - A[a], axis=1)
        db = np.linalg.norm(X[b] - A[b], axis=1) - np.linalg.norm(X[a] - A[b], axis=1)
        return lam * (np.where(has_a, da, 0.0) + np.where(has_b, db, 0.0))

    def moved(self, X: np.ndarray, anchor: np.ndarray | None) -> np.ndarray:
        """Blocks with a current spot that are more than 1e-6 m away from it."""
        if anchor is None:
            return np.zeros(self.n, dtype=bool)
        has = np.isfinite(anchor).all(axis=1)
        return has & (np.linalg.norm(X - np.nan_to_num(anchor), axis=1) > 1e-6)

    def swaps(self, X: np.ndarray, deadline: float, neighbours: int = 8, *,
              anchor: np.ndarray | None = None, move_cost: float = 0.0,
              max_moves: int | None = None) -> tuple:
        """Exchange the centres of two blocks while that lowers S (plus ``move_cost``
        per metre from ``anchor``) and stays feasible, with at most ``max_moves``
        blocks off their anchor.

        Candidates: each block with its ``neighbours`` nearest blocks and with its
        co-borrowing partners; gains are exact and re-checked before each swap.
        Returns (positions, swaps made)."""
        X = np.array(X, dtype=float)
        lam = float(move_cost)
        n = self.n
        if n < 2:
            return X, 0
        coo = sp.triu(self.W, k=1).tocoo()
        made = 0
        while time.monotonic() < deadline:
            k = min(neighbours, n - 1)
            _, nn = cKDTree(X).query(X, k=k + 1)
            a = np.concatenate([np.repeat(np.arange(n), k), coo.row])
            b = np.concatenate([nn[:, 1:].ravel(), coo.col])
            lo, hi = np.minimum(a, b), np.maximum(a, b)
            pairs = np.unique(np.stack([lo, hi], axis=1), axis=0)
            pairs = pairs[pairs[:, 0] != pairs[:, 1]]
            gain = (self.swap_gains(X, pairs[:, 0], pairs[:, 1])
                     + self._move_gain(X, pairs[:, 0], pairs[:, 1], anchor, lam))
            order = np.argsort(-gain, kind="stable")
            order = order[gain[order] > 1e-12]
            if len(order) == 0:
                break
            tree = cKDTree(X)
            done_round = 0
            for c in order:
                if time.monotonic() > deadline:
                    break
                i, j = int(pairs[c, 0]), int(pairs[c, 1])
                ai, aj = np.array([i]), np.array([j])
                g = (self.swap_gains(X, ai, aj) + self._move_gain(X, ai, aj, anchor, lam))[0]
                if g <= 1e-12:
                    continue
                if not (self._fits(X, i, X[j], j, tree) and self._fits(X, j, X[i], i, tree)):
                    continue
                if max_moves is not None:
                    Y = X.copy()
                    Y[[i, j]] = Y[[j, i]]
                    if int(self.moved(Y, anchor).sum()) > max_moves:
                        continue
                X[[i, j]] = X[[j, i]]
                tree = cKDTree(X)
                done_round += 1
                if time.monotonic() > deadline:
                    break
            made += done_round
            if done_round == 0:
                break
        return X, made

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


def solve_blocks(problem, *, seed: int = 0, time_limit: float = 50.0,
                 restarts: int | None = None, progress=None):
    """A feasible block layout of low walking cost (see the module docstring).

    Starts: the attached order, popularity order and largest-first order; then
    ``restarts`` (default 20) randomised attached orders, while less than 60 % of
    ``time_limit`` is used; then block swaps on the three best layouts.
    Each start is improved continuously and repaired; the best feasible layout
    wins. Deterministic for a seed unless ``time_limit`` cuts it.
    """
    from shelfplan.solve.items import SolveResult

    t0 = time.monotonic()
    deadline = t0 + time_limit
    starts_deadline = t0 + 0.6 * time_limit
    say = progress or (lambda msg: None)
    restarts = 20 if restarts is None else int(restarts)
    geo = Blocks(problem)
    rng = np.random.default_rng(seed)
    n = problem.n
    best = {"F": np.inf, "X": None, "how": None}
    history = []
    cands = {}
    iters = swaps = 0
    stopped_by = "done"
    interrupted = False

    def offer(X, how, why="no room"):
        if X is None:
            history.append({"candidate": how, "objective": None, "feasible": False,
                            "dropped": why})
            say(f"{how}: {why} (dropped)")
            return
        F = geo.cost(X)
        ok = is_feasible(X, geo.rho, problem.hall)
        history.append({"candidate": how, "objective": F, "feasible": ok,
                        "t": round(time.monotonic() - t0, 2)})
        if ok:
            cands[how] = X.copy()
        if ok and F < best["F"]:
            best.update(F=F, X=X.copy(), how=how)
            say(f"{how}: S={F:.4f} (best so far)")      # only progress is reported
        elif not ok:
            say(f"{how}: S={F:.4f} (not feasible, dropped)")

    orders = [("attached order", geo.attached_order()),
              ("popularity order", np.lexsort((np.arange(n), -problem.p))),
              ("largest first", np.lexsort((-problem.p, -geo.rho)))]
    orders += [(f"randomised attached order {k + 1}", None) for k in range(restarts)]
    try:
        for k, (how, order) in enumerate(orders):
            # the starts get at most 60 % of the time, so the swaps always run
            if k >= 1 and time.monotonic() > starts_deadline:
                stopped_by = "time limit"
                break
            if order is None:
                order = geo.attached_order(noise=0.5, rng=rng)
            # the first greedy layout is always completed: it is the fallback
            X = geo.greedy(order, deadline=None if best["X"] is None else starts_deadline)
            offer(X, f"greedy, {how}", geo.failure)
            if X is None:
                continue
            Xi, it = geo.improve(X, starts_deadline)
            iters += it
            offer(geo.repair(Xi, deadline=deadline), f"greedy, {how}, improved",
                  "repair did not converge")
        # swaps of whole blocks on the best layouts, each followed by a continuous
        # improvement, while that helps
        ranked = sorted([h for h in history if h["feasible"]], key=lambda h: h["objective"])
        for h in ranked[:SWAP_STARTS]:
            X = cands[h["candidate"]]
            for rnd in range(1, 6):
                if time.monotonic() > deadline:
                    break
                Xs, m = geo.swaps(X, deadline)
                swaps += m
                if m == 0:
                    break
                offer(Xs, f"{h['candidate']} + {m} swaps (round {rnd})")
                Xi, it = geo.improve(Xs, deadline)
                iters += it
                Xr = geo.repair(Xi, deadline=deadline)
                offer(Xr, f"{h['candidate']} + swaps, improved (round {rnd})",
                      "repair did not converge")
                X = Xr if Xr is not None and geo.cost(Xr) < geo.cost(Xs) else Xs
        if time.monotonic() > deadline:
            stopped_by = "time limit"
    except KeyboardInterrupt:
        interrupted = True
        stopped_by = "interrupted"
        say("interrupted: keeping the best feasible layout so far")
    if best["X"] is None:
        raise HallError(
            f"no feasible block layout was found in hall {problem.hall.name!r}: the blocks "
            f"do not pack on its floor; enlarge the hall, use finer categories "
            f"(--category-level) or place items (--level item)")
    X = best["X"]
    info = {
        "method": ("category blocks: greedy placement + L-BFGS-B penalty continuation + "
                   "repair + block swaps"),
        "seed": seed,
        "best_from": best["how"],
        "iterations": iters,
        "swaps": swaps,
        "stages": list(STAGES),
        "restarts": restarts,
        "grid_step": round(geo.step, 4),
        "history": history,
        "seconds": round(time.monotonic() - t0, 3),
        "time_limit": time_limit,
        "stopped_by": stopped_by,
        "interrupted": interrupted,
    }
    return SolveResult(positions=X, cost=walking_cost(X, problem), info=info,
                       interrupted=interrupted)


def _relocations(geo: "Blocks", X: np.ndarray, anchor: np.ndarray, lam: float,
                 max_moves: int | None, deadline: float) -> tuple:
    """Move single blocks to the free spot that lowers S plus the move cost most,
    best move first, within the move budget. Returns (positions, moves made)."""
    pr, hall = geo.problem, geo.hall
    e = hall.entrance
    W = geo.W
    has = np.isfinite(anchor).all(axis=1)
    A = np.nan_to_num(anchor)
    X = np.array(X, dtype=float)
    made = 0
    rho_max = float(geo.rho.max())
    while time.monotonic() < deadline:
        moved = geo.moved(X, anchor)
        room = max_moves is None or int(moved.sum()) < max_moves
        best = (0.0, -1, None)
        tree = cKDTree(X[:, :2])
        for i in range(geo.n):
            if time.monotonic() > deadline:
                break
            if not room and not moved[i]:
                continue
            cols = W.indices[W.indptr[i]:W.indptr[i + 1]]
            vals = W.data[W.indptr[i]:W.indptr[i + 1]]
            lam_i = lam if has[i] else 0.0
            # candidate spots: nearest the pull point, plus the block's own anchor
            wsum = pr.p[i] + vals.sum() + lam_i
            pull = (pr.p[i] * e[:2] + vals @ X[cols, :2] + lam_i * A[i, :2]) / max(wsum, 1e-300)
            ok = np.flatnonzero(geo.wall >= geo.margin[i])
            limit = max(256, min(SCORE_BUDGET // max(len(cols), 1), 4096))
            if len(ok) > limit:
                d2 = ((geo.cand[ok] - pull) ** 2).sum(axis=1)
                ok = ok[np.argpartition(d2, limit)[:limit]]
            C = geo.cand[ok]
            if has[i]:
                C = np.vstack([C, A[i, :2]])
            # not the block's own spot (a sub-micrometre "move" is none)
            C = C[np.linalg.norm(C - X[i, :2], axis=1) > 1e-6]
            # free: clear of every other block (KD-tree neighbours, checked exactly)
            near = tree.query_ball_point(C, geo.rho[i] + rho_max)
            lens = np.fromiter((len(x) for x in near), dtype=np.int64, count=len(C))
            if lens.sum():
                c_idx = np.repeat(np.arange(len(C)), lens)
                j = np.concatenate([np.asarray(x, dtype=np.int64) for x in near if len(x)])
                bad = (j != i) & (np.linalg.norm(C[c_idx] - X[j, :2], axis=1)
                                  < (geo.rho[i] + geo.rho[j]) * (1 - TOL / 2))
                blocked = np.zeros(len(C), dtype=bool)
                blocked[c_idx[bad]] = True
                C = C[~blocked]
            if len(C) == 0:
                continue
            P = np.column_stack([C, np.full(len(C), geo.z)])
            new = pr.p[i] * np.linalg.norm(P - e, axis=1)
            now = pr.p[i] * np.linalg.norm(X[i] - e)
            if len(cols):
                new = new + np.sqrt(((C[:, None, :] - X[cols][None, :, :2]) ** 2).sum(axis=2)) @ vals
                now = now + np.linalg.norm(X[i, :2] - X[cols, :2], axis=1) @ vals
            if lam_i:
                new = new + lam_i * np.linalg.norm(P - A[i], axis=1)
                now = now + lam_i * np.linalg.norm(X[i] - A[i])
            k = int(np.argmin(new))
            if now - new[k] > max(best[0], 1e-9 * (1.0 + now)):
                best = (now - new[k], i, P[k])
        if best[1] < 0:
            break
        X[best[1]] = best[2]
        made += 1
    return X, made


def incremental_blocks(problem, anchor: np.ndarray, *, move_cost: float = 0.0,
                       max_moves: int | None = None, seed: int = 0, time_limit: float = 50.0,
                       restarts: int | None = None, progress=None):
    """A proposal that starts from today's blocks (``anchor``; NaN rows for categories
    without a spot, placed greedily around the others): single-block relocations
    and block swaps while they lower ``S + move_cost * sum ||v_i - anchor_i||``,
    with at most ``max_moves`` blocks off their spot. Without ``max_moves`` a
    layout from scratch is tried too."""
    from shelfplan.errors import LayoutError
    from shelfplan.solve.items import SolveResult

    t0 = time.monotonic()
    deadline = t0 + time_limit
    say = progress or (lambda msg: None)
    geo = Blocks(problem)
    hall = problem.hall
    lam = float(move_cost)
    A = np.array(anchor, dtype=float)
    has = np.isfinite(A).all(axis=1)
    A[has, 2] = geo.z
    X = np.where(has[:, None], A, 0.0)
    new = np.flatnonzero(~has)
    order = new[np.lexsort((new, -problem.p[new]))]
    if has.any() and not is_feasible(X[has], geo.rho[has], hall):
        # today's blocks no longer fit where they stand (their books grew)
        raise LayoutError(
            "the current layout's category blocks overlap or stand too near a wall at the "
            "sizes they have now (categories grew since it was made, or it was edited); fit "
            "from scratch, or give a current layout that is feasible at today's sizes")
    if len(new):
        X = geo.greedy(order, fixed=has, start=X)
        if X is None:
            raise LayoutError(f"no room for the {len(new)} categories without a current "
                              f"spot; enlarge the hall")
    best = {"F": np.inf, "X": None, "how": None}
    history = []

    def F(Y):
        return geo.cost(Y) + lam * float(np.linalg.norm(Y[has] - A[has], axis=1).sum())

    def offer(Y, how):
        f = F(Y)
        ok = is_feasible(Y, geo.rho, hall) and (
            max_moves is None or int(geo.moved(Y, A).sum()) <= max_moves)
        history.append({"candidate": how, "objective": f, "feasible": bool(ok),
                        "t": round(time.monotonic() - t0, 2)})
        if ok and f < best["F"]:
            best.update(F=f, X=Y.copy(), how=how)
        say(f"{how}: S + move cost={f:.4f}" + ("" if ok else " (not feasible, dropped)"))

    offer(X, "current layout" + (" (new categories placed greedily)" if len(new) else ""))
    total_r = total_s = 0
    interrupted = False
    try:
        for _ in range(50):
            X, r = _relocations(geo, X, A, lam, max_moves, deadline)
            X, m = geo.swaps(X, deadline, anchor=A, move_cost=lam, max_moves=max_moves)
            total_r, total_s = total_r + r, total_s + m
            if r == 0 and m == 0 or time.monotonic() > deadline:
                break
        offer(X, f"current layout + {total_r} relocations + {total_s} swaps")
        if (max_moves is None or max_moves >= problem.n) and time.monotonic() < deadline:
            res = solve_blocks(problem, seed=seed,
                               time_limit=max(1.0, deadline - time.monotonic()),
                               restarts=restarts, progress=progress)
            offer(res.positions, "from scratch")
    except KeyboardInterrupt:
        interrupted = True
        offer(X, f"current layout + {total_r} relocations + {total_s} swaps (interrupted)")
        say("interrupted: keeping the best feasible layout so far")
    X = best["X"]
    dist = np.linalg.norm(X[has] - A[has], axis=1)
    info = {
        "method": "category blocks, incremental: block relocations + block swaps",
        "seed": seed, "best_from": best["how"], "history": history,
        "seconds": round(time.monotonic() - t0, 3), "time_limit": time_limit,
        "stopped_by": ("interrupted" if interrupted else
                       "time limit" if time.monotonic() > deadline else "done"),
        "interrupted": interrupted, "move_cost": lam, "max_moves": max_moves,
        "moved": int((dist > 1e-6).sum()), "move_distance": float(dist.sum()),
        "objective_with_moves": best["F"],
    }
    return SolveResult(positions=X, cost=walking_cost(X, problem), info=info,
                       interrupted=interrupted)


def baseline_blocks(name: str, problem, seed: int = 0) -> np.ndarray:
    """Block baselines, each block at the free spot nearest the entrance: ``random``
    order, ``popularity`` (most borrowed first) or ``callnumber`` (by category name,
    today's shelving order)."""
    geo = Blocks(problem)
    n = problem.n
    if name == "random":
        order = np.random.default_rng(seed).permutation(n)
    elif name == "popularity":
        order = np.lexsort((np.arange(n), -problem.p))
    elif name == "callnumber":
        order = np.argsort(np.array([str(i) for i in problem.items]), kind="stable")
    else:
        raise ValueError(f"baseline must be random, popularity or callnumber, got {name!r}")
    X = geo.greedy(order, mode="entrance")
    if X is None:
        X = geo.greedy(np.lexsort((order.argsort(), -geo.rho)), mode="entrance")
    if X is None:
        raise HallError(f"the category blocks do not pack in hall {problem.hall.name!r}; "
                        f"enlarge the hall or use finer categories (--category-level)")
    return X
