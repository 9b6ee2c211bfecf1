"""The free floor and the walking distance g between points of it (MODEL.md 8.3).

``F`` is the footprint minus the obstacles and range footprints (a closed shapely
polygon or multipolygon; flush neighbours are merged, so a zero-width gap is no
passage). The shortest path between two points of ``F`` is a polyline whose
inner vertices are reflex corners of ``F``; :func:`distance_table` builds the
visibility graph over those corners and the query points and runs Dijkstra.

How it stays fast for thousands of points (the loops are compiled, walk_jit.py).
Every pair of nodes (corners and query points) needs a visibility answer. Most
pairs are blocked by a range next to one of their ends, so each node first casts
``N_RAYS`` rays against its ``N_NEAR`` nearest convex pieces of the complement of
``F`` (shrunk by ``EPS``): if both rays bounding an angular sector enter the same
convex piece, every point of the sector beyond both entry points is hidden
(convexity). That rejects most pairs with a table look-up; the rest are decided
exactly: a segment is clear when it enters no convex piece (clipping against the
pieces listed in the cells of a uniform grid it crosses) and no non-convex part
(shapely ``relate``). A segment that only grazes a piece by less than ``EPS``
counts as clear. Distances then come from a Dijkstra over the corner graph from
every corner, in the depth-first order of a spanning tree, each bounded by the
rows of its done neighbours (see ``walk_jit.corner_distances``), and two
min-plus products over the sparse point-corner visibility.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import (connected_components, depth_first_order,
                                  minimum_spanning_tree)
from shapely.geometry import Polygon
from shapely.geometry.polygon import orient

from shelfplan.model import walk_jit, walk_plain

__all__ = ["free_floor", "reflex_corners", "distance_table", "visible_pairs"]

EPS = walk_jit.EPS  # convex pieces shrink by this much before they may hide anything (1e-7)
GROW = 1e-9         # blockers grow by this much: flush neighbours and walls leave no sliver
N_RAYS = 128        # angular sectors per node for the fast rejection
N_NEAR = 8          # convex pieces each node casts its rays against
N_HELPERS = 32      # done neighbours whose rows bound a corner's Dijkstra


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


def _grid(pieces) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A uniform grid over the convex pieces, about four cells a piece: (ox, oy, cell
    width, cell height, columns, rows, margin), CSR start per cell and piece ids. A piece
    is listed in every cell its bounding box, grown by the margin, overlaps."""
    if not pieces:
        return np.array([0.0, 0.0, 1.0, 1.0, 1, 1, 0.0]), np.zeros(2, np.int64), \
            np.zeros(0, np.int64)
    lo = np.array([p.min(axis=0) for p in pieces])
    hi = np.array([p.max(axis=0) for p in pieces])
    origin, span = lo.min(axis=0), hi.max(axis=0) - lo.min(axis=0)
    margin = 1e-6 * (1.0 + np.abs(np.r_[lo.ravel(), hi.ravel()]).max())
    size = np.maximum(np.full(2, np.sqrt(span[0] * span[1] / (4 * len(pieces)))), 1e-3)
    shape = np.maximum(np.ceil(span / size).astype(np.int64), 1)
    size = np.maximum(span / shape, 1e-12)
    a = np.clip(np.floor((lo - margin - origin) / size).astype(np.int64), 0, shape - 1)
    b = np.clip(np.floor((hi + margin - origin) / size).astype(np.int64), 0, shape - 1)
    cells, items = [], []
    for k in range(len(pieces)):
        ix, iy = np.meshgrid(np.arange(a[k, 0], b[k, 0] + 1), np.arange(a[k, 1], b[k, 1] + 1))
        cells.append((ix * shape[1] + iy).ravel())
        items.append(np.full(ix.size, k))
    cells, items = np.concatenate(cells), np.concatenate(items)
    order = np.argsort(cells, kind="stable")
    start = np.searchsorted(cells[order], np.arange(shape[0] * shape[1] + 1))
    grid = np.array([*origin, *size, *shape, margin], dtype=float)
    return grid, start.astype(np.int64), items[order].astype(np.int64)


def _hide_radius(nodes, pieces, kern=walk_jit) -> np.ndarray:
    """(N, N_RAYS): beyond R[i, k], sector k of node i (angles -pi + k * 2 pi / N_RAYS to
    the next) is hidden by one of the node's N_NEAR nearest convex pieces."""
    nrm, off = _half_planes(pieces)
    centre = np.array([p.mean(axis=0) for p in pieces]).reshape(-1, 2)
    radius = np.array([np.linalg.norm(p - p.mean(axis=0), axis=1).max() for p in pieces])
    return kern.hide_radius(nodes, nrm, off, centre, radius, N_NEAR, N_RAYS)


def visible_pairs(F, nodes: np.ndarray, corners=None,
                  kern=walk_jit) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs i < j of nodes (points of F) that see each other: (i, j, distance).

    With ``corners = (c, prev, next)`` (see :func:`reflex_corners`), the first
    ``len(c)`` nodes are those corners, and pairs that no shortest path needs are
    left out: the line from the other end through the corner must leave both walls at
    the corner on one side (the path wraps around it), and the edge must not run on
    along a wall through the neighbouring corner (then the path through that corner
    is as short). ``kern``: the kernels (walk_jit, or walk_plain's interpreted copy).
    """
    nodes = np.ascontiguousarray(nodes, dtype=float).reshape(-1, 2)
    if corners is None:
        corners = (np.zeros((0, 2)),) * 3
    c, prv, nxt = (np.ascontiguousarray(a, dtype=float).reshape(-1, 2) for a in corners)
    convex, other = _complement(F)
    nrm, off = _half_planes(convex)
    grid, start, items = _grid(convex)
    R = _hide_radius(nodes, convex, kern)
    i, j, d = kern.visible_pairs(nodes, R, c, prv, nxt, nrm, off, grid, start, items)
    if other:                      # non-convex parts of the complement: shapely
        idx = np.flatnonzero(d > 1e-12)
        lines = shapely.linestrings(np.stack([nodes[i[idx]], nodes[j[idx]]], axis=1))
        parts = np.array(other, dtype=object)
        li, pi = shapely.STRtree(parts).query(lines)
        hit = shapely.relate_pattern(lines[li], parts[pi], "T********")
        ok = np.ones(len(i), dtype=bool)
        ok[idx[li[hit]]] = False
        i, j, d = i[ok], j[ok], d[ok]
    return i, j, d


def _grouped(group, col, w, n_groups):
    """CSR form of the entries (group, col, w): starts per group, cols, weights."""
    order = np.argsort(group, kind="stable")
    starts = np.searchsorted(group[order], np.arange(n_groups + 1))
    return starts.astype(np.int64), col[order].astype(np.int64), w[order].astype(float)


def _tree_order(graph) -> np.ndarray:
    """All nodes, depth first along a minimum spanning tree of each component: most
    nodes come right after a near neighbour (walk_jit.corner_distances starts from
    the rows of done neighbours)."""
    mst = minimum_spanning_tree(graph)
    _, label = connected_components(mst, directed=False)
    roots = np.unique(label, return_index=True)[1]
    order = [depth_first_order(mst, r, directed=False, return_predecessors=False)
             for r in roots]
    order = np.concatenate(order) if order else np.zeros(0, np.int64)
    missing = np.setdiff1d(np.arange(graph.shape[0]), order)
    return np.r_[order, missing].astype(np.int64)


def distance_table(F, points: np.ndarray, plain: bool | None = None) -> np.ndarray:
    """Geodesic distances in F between all ``points`` (k, 2): a (k, k) float64 table.

    Points must lie in F; pairs in different parts of F are ``inf`` apart. ``plain``:
    interpret the kernels instead of compiling them [default: when there are at most
    ``walk_plain.PLAIN_NODES`` nodes and the compiled ones are not cached yet, where
    interpreting is faster than a first compile].
    """
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    _, first, inv = np.unique(np.round(points, 9), axis=0, return_index=True,
                              return_inverse=True)
    uniq, inv = points[first], inv.reshape(-1)
    corners = reflex_corners(F, neighbours=True)
    if plain is None:
        plain = (len(corners[0]) + len(uniq) <= walk_plain.PLAIN_NODES
                 and not walk_plain.compiled_ready())
    if plain:
        try:
            with np.errstate(divide="raise", invalid="raise", over="raise"):
                return _table(F, uniq, inv, corners, walk_plain.kernels())
        except (ArithmeticError, ValueError):      # inf/NaN the compiled code tolerates
            pass
    return _table(F, uniq, inv, corners, walk_jit)


def _table(F, uniq, inv, corners, kern) -> np.ndarray:
    C, P = len(corners[0]), len(uniq)
    i, j, d = visible_pairs(F, np.vstack([corners[0], uniq]), corners, kern)
    cc = (i < C) & (j < C)
    graph = coo_matrix((np.r_[d[cc], d[cc]], (np.r_[i[cc], j[cc]], np.r_[j[cc], i[cc]])),
                       shape=(C, C)).tocsr()
    pc = (i < C) & (j >= C)                          # i a corner, j a point
    q, c, w = j[pc] - C, i[pc], d[pc]
    dcc = kern.corner_distances(graph.indptr.astype(np.int64),
                                    graph.indices.astype(np.int64), graph.data,
                                    _tree_order(graph), N_HELPERS)
    GT = kern.minplus(dcc, *_grouped(q, c, w, P))             # point -> corner
    G = np.ascontiguousarray(GT.T)
    D = kern.minplus(G, *_grouped(q, c, w, P))                # point -> point
    pp = i >= C
    a, b = i[pp] - C, j[pp] - C
    D[a, b] = np.minimum(D[a, b], d[pp])
    return kern.symmetric_table(D, inv.astype(np.int64))
