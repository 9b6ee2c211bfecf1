"""The free floor and the walking distance g between points of it (MODEL.md 8.3).

``F`` is the footprint minus the obstacles and range footprints (a closed shapely
polygon or multipolygon; flush neighbours are merged, so a zero-width gap is no
passage). The shortest path between two points of ``F`` is a polyline whose
inner vertices are reflex corners of ``F``; :func:`distance_table` builds the
visibility graph over those corners and the query points and runs Dijkstra.

How it stays fast for thousands of points. Every pair of nodes (corners and
query points) needs a visibility answer. Most pairs are blocked by a range next
to one of their ends, so each node first casts ``N_RAYS`` rays against its
``N_NEAR`` nearest convex pieces of the complement of ``F`` (shrunk by ``EPS``):
if both rays bounding an angular sector enter the same convex piece, every point
of the sector beyond both entry points is hidden (convexity). That rejects most
pairs with a table look-up; the rest are decided exactly: a segment is clear
when it enters no convex piece (vectorised clipping in numpy, candidates from an
STRtree of LineStrings) and no non-convex part (shapely ``relate``). A segment
that only grazes a piece by less than ``EPS`` counts as clear. Distances
then come from one Dijkstra over the corners (scipy.sparse.csgraph) and two
min-plus products over the sparse point-corner visibility.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra
from shapely.geometry import Polygon
from shapely.geometry.polygon import orient

__all__ = ["free_floor", "reflex_corners", "distance_table", "visible_pairs"]

EPS = 1e-7          # convex pieces shrink by this much before they may hide anything
GROW = 1e-9         # blockers grow by this much: flush neighbours and walls leave no sliver
N_RAYS = 128        # angular sectors per node for the fast rejection
N_NEAR = 8          # convex pieces each node casts its rays against
CHUNK = 4_000_000   # elements per vectorised block


def _parts(geom) -> list[Polygon]:
    return [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon) and not g.is_empty]


def free_floor(footprint, blockers) -> Polygon:
    """F: footprint minus the union of the blocker polygons (obstacles, range footprints)."""
    foot = Polygon(footprint)
    if not blockers:
        return foot
    solid = shapely.union_all(shapely.polygons(list(blockers)))
    solid = solid.buffer(GROW, join_style="mitre")
    parts = _parts(foot.difference(solid))
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def reflex_corners(F, neighbours: bool = False):
    """(c, 2) corners of F whose interior angle exceeds 180 degrees; with ``neighbours``
    also the previous and next corner of each on its ring, ``(corners, prev, next)``."""
    out, prv, nxt = [np.zeros((0, 2))], [np.zeros((0, 2))], [np.zeros((0, 2))]
    for poly in _parts(F):
        poly = orient(poly, 1.0)             # exterior ccw, holes cw: F on the left
        for ring in [poly.exterior, *poly.interiors]:
            c = np.asarray(ring.coords)[:-1]
            before, after = np.roll(c, 1, axis=0), np.roll(c, -1, axis=0)
            a, b = c - before, after - c
            cross = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
            scale = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
            keep = cross < -1e-9 * scale
            out.append(c[keep])
            prv.append(before[keep])
            nxt.append(after[keep])
    corners = np.concatenate(out)
    return (corners, np.concatenate(prv), np.concatenate(nxt)) if neighbours else corners


def _useful(c, prev, nxt, x) -> np.ndarray:
    """Edges x - c (c a reflex corner, prev/next its ring neighbours) that a shortest path
    may use: the line from x through c leaves both walls at c on one side (the path
    wraps around c), and the edge does not run on along a wall through the neighbour
    corner (then the path through that corner is as short)."""
    v = c - x
    length = np.hypot(v[:, 0], v[:, 1])
    keep = np.ones(len(c), dtype=bool)
    sides = []
    for nb in (prev, nxt):
        w = nb - c
        cross = v[:, 0] * w[:, 1] - v[:, 1] * w[:, 0]
        along = -(v[:, 0] * w[:, 0] + v[:, 1] * w[:, 1])      # x lies beyond nb, seen from c
        wl = np.hypot(w[:, 0], w[:, 1])
        flat = np.abs(cross) <= EPS * wl + 1e-9 * length * wl   # x within EPS of the wall's line
        keep &= ~(flat & (along > 0) & (length > wl * (1 + 1e-9)))
        sides.append(np.where(flat, 0.0, np.sign(cross)))
    return keep & (sides[0] * sides[1] >= 0)


def _complement(F) -> tuple[list[np.ndarray], list[Polygon]]:
    """The convex hull of F minus F: (convex pieces as ccw rings, non-convex parts)."""
    convex, other = [], []
    for poly in _parts(F.convex_hull.difference(F)):
        ring = np.asarray(orient(poly, 1.0).exterior.coords)[:-1]
        if not poly.interiors and poly.convex_hull.area <= poly.area * (1 + 1e-9):
            convex.append(ring)
        else:
            other.append(poly)
    return convex, other


def _half_planes(pieces) -> tuple[np.ndarray, np.ndarray]:
    """Normals (B, H, 2) and offsets (B, H) with n.x <= off - EPS inside each shrunk piece."""
    H = max((len(p) for p in pieces), default=3)
    nrm = np.zeros((len(pieces), H, 2))
    off = np.ones((len(pieces), H))           # padding: 0.x <= 1 always holds
    for k, ring in enumerate(pieces):
        e = np.roll(ring, -1, axis=0) - ring
        n = np.column_stack([e[:, 1], -e[:, 0]])
        length = np.linalg.norm(n, axis=1)
        ok = length > 0
        n = n[ok] / length[ok, None]
        nrm[k, :len(n)] = n
        off[k, :len(n)] = np.einsum("ij,ij->i", n, ring[ok]) - EPS
    return nrm, off


def _hide_radius(nodes, pieces) -> np.ndarray:
    """(N, N_RAYS): beyond R[i, k], sector k of node i (angles -pi + k * 2 pi / N_RAYS to
    the next) is hidden by one of the node's N_NEAR nearest convex pieces."""
    R = np.full((len(nodes), N_RAYS), np.inf)
    if not pieces or not len(nodes):
        return R
    nrm, off = _half_planes(pieces)
    centre = np.array([p.mean(axis=0) for p in pieces])
    radius = np.array([np.linalg.norm(p - p.mean(axis=0), axis=1).max() for p in pieces])
    K = min(N_NEAR, len(pieces))
    phi = -np.pi + np.arange(N_RAYS) * (2 * np.pi / N_RAYS)
    dirs = np.column_stack([np.cos(phi), np.sin(phi)])
    H = nrm.shape[1]
    step = max(1, CHUNK // (K * H * N_RAYS))
    for s in range(0, len(nodes), step):
        x = nodes[s:s + step]
        bound = np.linalg.norm(x[:, None, :] - centre[None], axis=2) - radius
        near = np.argpartition(bound, K - 1, axis=1)[:, :K] if K < len(pieces) else \
            np.broadcast_to(np.arange(K), (len(x), K))
        n = nrm[near]                                               # (b, K, H, 2)
        rhs = off[near] - (n[..., 0] * x[:, None, None, 0] + n[..., 1] * x[:, None, None, 1])
        nd = (n.reshape(-1, 2) @ dirs.T).reshape(n.shape[:3] + (N_RAYS,))   # (b, K, H, A)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = rhs[..., None] / nd
        t_in = np.where(nd < 0, t, -np.inf).max(axis=2)
        t_out = np.where(nd > 0, t, np.inf).min(axis=2)
        miss = ((nd == 0) & (rhs[..., None] < 0)).any(axis=2)
        hit = (t_in <= t_out) & (t_out >= 0) & ~miss
        entry = np.where(hit, np.maximum(t_in, 0.0), np.inf)         # (b, K, A)
        both = np.maximum(entry, np.roll(entry, -1, axis=2))
        R[s:s + step] = both.min(axis=1)
    return R


def _sector(dx, dy) -> np.ndarray:
    k = np.floor((np.arctan2(dy, dx) + np.pi) * (N_RAYS / (2 * np.pi))).astype(np.int64)
    return k % N_RAYS


def visible_pairs(F, nodes: np.ndarray, corners=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs i < j of nodes (points of F) that see each other: (i, j, distance).

    With ``corners = (c, prev, next)`` (see :func:`reflex_corners`), the first
    ``len(c)`` nodes are those corners, and pairs that no shortest path needs are
    left out (see :func:`_useful`).
    """
    nodes = np.asarray(nodes, dtype=float).reshape(-1, 2)
    N = len(nodes)
    C = 0 if corners is None else len(corners[0])
    convex, other = _complement(F)
    R = _hide_radius(nodes, convex)
    exact = _SegmentTest(convex, other)
    out_i, out_j, out_d = [], [], []
    rows = max(1, CHUNK // max(N, 1))
    for s in range(0, N, rows):
        i = np.arange(s, min(N, s + rows))
        jj = np.arange(s + 1, N)                    # pairs i < j only
        dx = nodes[None, jj, 0] - nodes[i, None, 0]
        dy = nodes[None, jj, 1] - nodes[i, None, 1]
        d = np.hypot(dx, dy)
        k_ij = _sector(dx, dy)
        k_ji = (k_ij + N_RAYS // 2) % N_RAYS        # the opposite direction
        cand = (jj[None, :] > i[:, None]) & (d <= R[i[:, None], k_ij])
        cand &= d <= R[jj[None, :], k_ji]
        a, b = np.nonzero(cand)
        dd = d[a, b]
        a, b = i[a], jj[b]
        if C:
            c, prv, nxt = corners
            keep = np.ones(len(a), dtype=bool)
            at_a, at_b = a < C, b < C
            keep[at_a] = _useful(c[a[at_a]], prv[a[at_a]], nxt[a[at_a]], nodes[b[at_a]])
            keep[at_b] &= _useful(c[b[at_b]], prv[b[at_b]], nxt[b[at_b]], nodes[a[at_b]])
            a, b, dd = a[keep], b[keep], dd[keep]
        same = dd <= 1e-12
        ok = ~same
        ok[ok] = exact.clear(nodes[a[ok]], nodes[b[ok]])
        ok |= same
        out_i.append(a[ok])
        out_j.append(b[ok])
        out_d.append(dd[ok])
    cat = (lambda xs, t: np.concatenate(xs).astype(t) if xs else np.zeros(0, t))
    return cat(out_i, np.int64), cat(out_j, np.int64), cat(out_d, float)


class _SegmentTest:
    """Which segments stay in F: none may enter a convex piece of the complement (shrunk
    by EPS; numpy, candidates from an STRtree) nor the interior of a non-convex part
    (shapely)."""

    def __init__(self, convex, other):
        self.nrm, self.off = _half_planes(convex)
        # the tree holds the shrunk pieces: a segment that runs along a range side does
        # not even reach the candidate test
        shrunk = shapely.buffer(shapely.polygons(convex), -EPS, join_style="mitre") \
            if convex else None
        self.tree = shapely.STRtree(shrunk) if convex else None
        self.other = np.array(other, dtype=object)
        self.other_tree = shapely.STRtree(self.other) if other else None

    def clear(self, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        ok = np.ones(len(p), dtype=bool)
        if not len(p):
            return ok
        lines = shapely.linestrings(np.stack([p, q], axis=1))
        if self.tree is not None:
            li, pi = self.tree.query(lines)
            step = max(1, CHUNK // (4 * self.nrm.shape[1]))
            for s in range(0, len(li), step):
                a, k = li[s:s + step], pi[s:s + step]
                ok[a[self._enters(p[a], q[a] - p[a], k)]] = False
        if self.other_tree is not None:
            li, pi = self.other_tree.query(lines[ok])
            idx = np.flatnonzero(ok)
            hit = shapely.relate_pattern(lines[idx[li]], self.other[pi], "T********")
            ok[idx[li[hit]]] = False
        return ok

    def _enters(self, p, d, k) -> np.ndarray:
        """Segments p -> p + d (t in [0, 1]) that meet shrunk convex piece k."""
        n = self.nrm[k]                                            # (s, H, 2)
        rhs = self.off[k] - np.einsum("shj,sj->sh", n, p)
        nd = np.einsum("shj,sj->sh", n, d)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = rhs / nd
        t_in = np.maximum(np.where(nd < 0, t, -np.inf).max(axis=1), 0.0)
        t_out = np.minimum(np.where(nd > 0, t, np.inf).min(axis=1), 1.0)
        miss = ((nd == 0) & (rhs < 0)).any(axis=1)
        return (t_in <= t_out) & ~miss


def _minplus(right: np.ndarray, group, row, w, n_groups) -> np.ndarray:
    """out[g, :] = min over entries e of group g of w[e] + right[row[e], :] (inf if none)."""
    out = np.full((n_groups, right.shape[1]), np.inf)
    if not len(group):
        return out
    order = np.argsort(group, kind="stable")
    group, row, w = group[order], row[order], w[order]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    ends = np.r_[starts[1:], len(group)]
    per = max(1, CHUNK // max(right.shape[1], 1))
    s = 0
    while s < len(starts):                          # whole groups, about ``per`` entries
        e = max(s + 1, int(np.searchsorted(ends, starts[s] + per, side="right")))
        lo, hi = starts[s], ends[e - 1]
        block = right[row[lo:hi]] + w[lo:hi, None]
        out[group[starts[s:e]]] = np.minimum.reduceat(block, starts[s:e] - lo, axis=0)
        s = e
    return out


def distance_table(F, points: np.ndarray) -> np.ndarray:
    """Geodesic distances in F between all ``points`` (k, 2): a (k, k) float64 table.

    Points must lie in F; pairs in different parts of F are ``inf`` apart.
    """
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    _, first, inv = np.unique(np.round(points, 9), axis=0, return_index=True,
                              return_inverse=True)
    uniq, inv = points[first], inv.reshape(-1)
    corners = reflex_corners(F, neighbours=True)
    C, P = len(corners[0]), len(uniq)
    i, j, d = visible_pairs(F, np.vstack([corners[0], uniq]), corners)
    cc = (i < C) & (j < C)
    graph = coo_matrix((d[cc], (i[cc], j[cc])), shape=(C, C)).tocsr()
    dcc = dijkstra(graph, directed=False) if C else np.zeros((0, 0))
    pc = (i < C) & (j >= C)                          # i a corner, j a point
    q, c, w = j[pc] - C, i[pc], d[pc]
    GT = _minplus(dcc, q, c, w, P) if C else np.full((P, 0), np.inf)   # point -> corner
    G = np.ascontiguousarray(GT.T)
    D = _minplus(G, q, c, w, P) if C else np.full((P, P), np.inf)
    pp = i >= C
    a, b = i[pp] - C, j[pp] - C
    D[a, b] = np.minimum(D[a, b], d[pp])
    D = np.minimum(D, D.T)
    np.fill_diagonal(D, 0.0)
    return D if P == len(points) and (inv == np.arange(P)).all() else D[np.ix_(inv, inv)]
