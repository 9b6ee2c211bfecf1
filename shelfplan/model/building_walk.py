"""The walking distance in a building (MODEL.md 8.9): per-floor ``g`` plus the connectors.

On one floor the distance is ``g`` of 8.3 on that floor's free floor. Between floors it
is the shortest path through the graph whose nodes are the connectors' points (one node
per connector and floor it serves), with edges ``g`` between two nodes on one floor and
``cost * |k_A - k_B|`` along a connector between two floors it serves::

    d(a on A, b on B) = min over nodes p on A, q on B of g_A(a, p) + D(p, q) + g_B(q, b)

``D`` (all pairs over the connector nodes, a few dozen) comes from Floyd-Warshall; the
blocks of the table are min-plus products, one pass per connector node, vectorised over
the locations. Two points of one floor in different parts of its free floor (no path on
that floor, ``g`` infinite) are joined through the connectors the same way.
"""

from __future__ import annotations

import numpy as np

from shelfplan.model import walk

__all__ = ["building_distances", "connector_graph", "floor_tables"]


def floor_tables(b) -> list[dict]:
    """Per floor: ``g`` between its connector nodes, the entrance (entrance floor only)
    and its pick points, with the node ids and the rows of the targets."""
    out = []
    nid = 0
    for f in b.floors:
        nodes = [(c, c.at[f.id]) for c in b.connectors if f.id in c.at]
        pts = [p for _, p in nodes]
        ent = f.index == b.entrance_floor
        if ent:
            pts.append(b.entrance_xy)
        pts = np.vstack([np.asarray(pts, dtype=float).reshape(-1, 2), f.stacks.pick])
        g = walk.distance_table(f.stacks.free_floor, pts)
        c = len(nodes)
        out.append({"g": g, "nodes": np.arange(nid, nid + c), "conn": [n[0] for n in nodes],
                    "targets": np.arange(c, len(pts)), "entrance": ent})
        nid += c
    return out


def connector_graph(b, tables) -> np.ndarray:
    """All-pairs shortest paths between connector nodes (N, N)."""
    N = sum(len(t["nodes"]) for t in tables)
    D = np.full((N, N), np.inf)
    np.fill_diagonal(D, 0.0)
    where = {}
    for f, t in zip(b.floors, tables):
        nd = t["nodes"]
        c = len(nd)
        D[np.ix_(nd, nd)] = np.minimum(D[np.ix_(nd, nd)], t["g"][:c, :c])
        for node, conn in zip(nd, t["conn"]):
            where.setdefault(conn.id, []).append((node, f.index, conn.cost))
    for served in where.values():
        for a, ka, cost in served:
            for q, kb, _ in served:
                if a != q:
                    D[a, q] = min(D[a, q], cost * abs(ka - kb))
    for k in range(N):                                   # Floyd-Warshall, N is small
        D = np.minimum(D, D[:, k, None] + D[None, k, :])
    return D


def _via(HA, HB, Dn) -> np.ndarray:
    """min over p, q of HA[a, p] + Dn[p, q] + HB[b, q]: (len(HA), len(HB))."""
    out = np.full((HA.shape[0], HB.shape[0]), np.inf)
    if HA.shape[1] == 0 or HB.shape[1] == 0:
        return out
    M = np.full((HA.shape[0], HB.shape[1]), np.inf)      # a -> node q on B
    for p in range(HA.shape[1]):
        np.minimum(M, HA[:, p, None] + Dn[p][None, :], out=M)
    for q in range(HB.shape[1]):
        np.minimum(out, M[:, q, None] + HB[None, :, q], out=out)
    return out


def building_distances(b) -> np.ndarray:
    """The building's table (m + 1, m + 1): index 0 the entrance, k + 1 location k
    (locations numbered floors first, as BuildingStacks)."""
    tables = floor_tables(b)
    Dn = connector_graph(b, tables)
    m = sum(f.stacks.n_locations for f in b.floors)
    out = np.full((m + 1, m + 1), np.inf)
    idx = []
    for f, t in zip(b.floors, tables):
        glob = f.offset + 1 + np.arange(f.stacks.n_locations)
        idx.append(np.r_[0, glob] if t["entrance"] else glob)
    for A, tA in enumerate(tables):
        cA = len(tA["nodes"])
        HA = tA["g"][np.ix_(tA["targets"], np.arange(cA))]
        for B, tB in enumerate(tables):
            if B < A:
                continue
            cB = len(tB["nodes"])
            HB = tB["g"][np.ix_(tB["targets"], np.arange(cB))]
            via = _via(HA, HB, Dn[np.ix_(tA["nodes"], tB["nodes"])])
            if A == B:
                g = tA["g"][np.ix_(tA["targets"], tA["targets"])]
                via = np.where(np.isfinite(g), g, via)
            out[np.ix_(idx[A], idx[B])] = via
            out[np.ix_(idx[B], idx[A])] = via.T
    np.fill_diagonal(out, 0.0)
    return out
