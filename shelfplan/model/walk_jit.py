"""Compiled inner loops of the walking-distance table (numba; see walk.py, MODEL.md 8.3).

Pure float64 arithmetic on arrays; the geometry (free floor, corners, convex pieces
as half-planes) is prepared in walk.py. Every kernel gives the same answer as the
numpy formulation it replaces; only the order of the work differs.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

if globals().get("PLAIN"):          # walk_plain.kernels(): this source, interpreted
    def njit(*args, **kwargs):      # noqa: F811
        return (lambda f: f) if not args or not callable(args[0]) else args[0]

EPS = 1e-7           # the tolerance of walk.py (grazing, tangent test)


# --- per-node hidden sectors -------------------------------------------------------------

@njit(cache=True)
def _entry(x, y, dx, dy, nrm, off, k):
    """Where the ray (x, y) + t (dx, dy), t >= 0, enters shrunk convex piece k (inf: never)."""
    t_in, t_out = -np.inf, np.inf
    for h in range(nrm.shape[1]):
        nx, ny = nrm[k, h, 0], nrm[k, h, 1]
        rhs = off[k, h] - (nx * x + ny * y)
        nd = nx * dx + ny * dy
        if nd < 0:
            t_in = max(t_in, rhs / nd)
        elif nd > 0:
            t_out = min(t_out, rhs / nd)
        elif rhs < 0:
            return np.inf
    if t_in <= t_out and t_out >= 0:
        return max(t_in, 0.0)
    return np.inf


@njit(cache=True)
def hide_radius(nodes, nrm, off, centre, radius, n_near, n_rays):
    """(N, n_rays): beyond R[i, k] sector k of node i (angles -pi + k 2 pi / n_rays to the
    next) is hidden by one of the node's n_near nearest convex pieces."""
    N, B = nodes.shape[0], nrm.shape[0]
    R = np.full((N, n_rays), np.inf)
    if B == 0:
        return R
    K = min(n_near, B)
    cs = np.empty(n_rays)
    sn = np.empty(n_rays)
    for a in range(n_rays):
        phi = -np.pi + a * (2 * np.pi / n_rays)
        cs[a], sn[a] = math.cos(phi), math.sin(phi)
    bound = np.empty(B)
    entry = np.empty(n_rays)
    for i in range(N):
        x, y = nodes[i, 0], nodes[i, 1]
        for b in range(B):
            bound[b] = math.hypot(x - centre[b, 0], y - centre[b, 1]) - radius[b]
        near = np.argsort(bound)[:K]
        for k in near:
            for a in range(n_rays):
                entry[a] = _entry(x, y, cs[a], sn[a], nrm, off, k)
            for a in range(n_rays):
                both = max(entry[a], entry[(a + 1) % n_rays])
                if both < R[i, a]:
                    R[i, a] = both
    return R


# --- exact segment test ------------------------------------------------------------------

@njit(cache=True)
def _enters(px, py, dx, dy, nrm, off, k):
    """Does the segment (px, py) + t (dx, dy), t in [0, 1], meet shrunk convex piece k?"""
    t_in, t_out = 0.0, 1.0
    for h in range(nrm.shape[1]):
        nx, ny = nrm[k, h, 0], nrm[k, h, 1]
        rhs = off[k, h] - (nx * px + ny * py)
        nd = nx * dx + ny * dy
        if nd < 0:
            t_in = max(t_in, rhs / nd)
        elif nd > 0:
            t_out = min(t_out, rhs / nd)
        elif rhs < 0:
            return False
    return t_in <= t_out


@njit(cache=True)
def _clear(px, py, qx, qy, nrm, off, grid, cell_start, cell_items, stamp, tag):
    """No shrunk convex piece meets segment p-q; candidates from the uniform grid
    (ox, oy, cw, ch, nx, ny, margin), column by column along the segment."""
    ox, oy, cw, ch = grid[0], grid[1], grid[2], grid[3]
    gx, gy, margin = int(grid[4]), int(grid[5]), grid[6]
    dx, dy = qx - px, qy - py
    xa, xb = min(px, qx), max(px, qx)
    ya, yb = min(py, qy), max(py, qy)
    ix0 = min(max(int(math.floor((xa - margin - ox) / cw)), 0), gx - 1)
    ix1 = min(max(int(math.floor((xb + margin - ox) / cw)), 0), gx - 1)
    for ix in range(ix0, ix1 + 1):
        u0 = max(xa, ox + ix * cw - margin)
        u1 = min(xb, ox + (ix + 1) * cw + margin)
        if dx != 0.0 and u0 <= u1:
            y0 = py + (u0 - px) * (dy / dx)
            y1 = py + (u1 - px) * (dy / dx)
            lo, hi = max(min(y0, y1), ya), min(max(y0, y1), yb)
        else:
            lo, hi = ya, yb
        iy0 = min(max(int(math.floor((lo - margin - oy) / ch)), 0), gy - 1)
        iy1 = min(max(int(math.floor((hi + margin - oy) / ch)), 0), gy - 1)
        for iy in range(iy0, iy1 + 1):
            cell = ix * gy + iy
            for e in range(cell_start[cell], cell_start[cell + 1]):
                k = cell_items[e]
                if stamp[k] == tag:
                    continue
                stamp[k] = tag
                if _enters(px, py, dx, dy, nrm, off, k):
                    return False
    return True


@njit(cache=True)
def _useful(cx, cy, bx, by, x, y):
    """One neighbour's part of walk's tangent test for edge x - c: (reject, side)."""
    vx, vy = cx - x, cy - y
    length = math.hypot(vx, vy)
    wx, wy = bx - cx, by - cy
    cross = vx * wy - vy * wx
    along = -(vx * wx + vy * wy)
    wl = math.hypot(wx, wy)
    flat = abs(cross) <= EPS * wl + 1e-9 * length * wl
    reject = flat and along > 0 and length > wl * (1 + 1e-9)
    side = 0.0 if flat else (1.0 if cross > 0 else (-1.0 if cross < 0 else 0.0))
    return reject, side


@njit(cache=True)
def _tangent(c, prv, nxt, a, x, y):
    """walk._useful for corner a and the point (x, y)."""
    r0, s0 = _useful(c[a, 0], c[a, 1], prv[a, 0], prv[a, 1], x, y)
    r1, s1 = _useful(c[a, 0], c[a, 1], nxt[a, 0], nxt[a, 1], x, y)
    return not (r0 or r1) and s0 * s1 >= 0


@njit(cache=True)
def visible_pairs(nodes, R, c, prv, nxt, nrm, off, grid, cell_start, cell_items):
    """All pairs i < j of nodes that see each other: (i, j, distance), as walk.py's
    visible_pairs (the first len(c) nodes are corners)."""
    N, C, A = nodes.shape[0], c.shape[0], R.shape[1]
    cap = 1 << 16
    oi, oj = np.empty(cap, np.int64), np.empty(cap, np.int64)
    od = np.empty(cap)
    n = 0
    stamp = np.full(nrm.shape[0], -1, np.int64)
    tag = 0
    scale = A / (2 * np.pi)
    for i in range(N):
        x, y = nodes[i, 0], nodes[i, 1]
        for j in range(i + 1, N):
            dx, dy = nodes[j, 0] - x, nodes[j, 1] - y
            d = math.hypot(dx, dy)
            k = int(math.floor((math.atan2(dy, dx) + np.pi) * scale)) % A
            if d > R[i, k] or d > R[j, (k + A // 2) % A]:
                continue
            if i < C and not _tangent(c, prv, nxt, i, nodes[j, 0], nodes[j, 1]):
                continue
            if j < C and not _tangent(c, prv, nxt, j, x, y):
                continue
            if d > 1e-12:
                tag += 1
                if not _clear(x, y, nodes[j, 0], nodes[j, 1], nrm, off, grid,
                              cell_start, cell_items, stamp, tag):
                    continue
            if n == cap:
                cap *= 2
                oi, oj, od = _grow(oi, n, cap), _grow(oj, n, cap), _grow(od, n, cap)
            oi[n], oj[n], od[n] = i, j, d
            n += 1
    return oi[:n].copy(), oj[:n].copy(), od[:n].copy()


@njit(cache=True)
def _grow(a, n, cap):
    b = np.empty(cap, a.dtype)
    b[:n] = a[:n]
    return b


# --- shortest paths ----------------------------------------------------------------------

@njit(cache=True)
def _sift_up(heap, pos, key, at):
    v = heap[at]
    while at > 0:
        up = (at - 1) >> 1
        if key[heap[up]] <= key[v]:
            break
        heap[at] = heap[up]
        pos[heap[at]] = at
        at = up
    heap[at] = v
    pos[v] = at


@njit(cache=True)
def _sift_down(heap, pos, key, size):
    at, v = 0, heap[0]
    while True:
        child = 2 * at + 1
        if child >= size:
            break
        if child + 1 < size and key[heap[child + 1]] < key[heap[child]]:
            child += 1
        if key[heap[child]] >= key[v]:
            break
        heap[at] = heap[child]
        pos[heap[at]] = at
        at = child
    heap[at] = v
    pos[v] = at


@njit(cache=True)
def minplus(right, starts, cols, w):
    """out[g, :] = min over entries e in starts[g]:starts[g+1] of w[e] + right[cols[e], :]."""
    G, M = len(starts) - 1, right.shape[1]
    out = np.full((G, M), np.inf)
    for g in range(G):
        row = out[g]
        for e in range(starts[g], starts[g + 1]):
            src, we = right[cols[e]], w[e]
            for t in range(M):
                v = src[t] + we
                if v < row[t]:
                    row[t] = v
    return out



@njit(cache=True)
def corner_distances(indptr, indices, weights, order, n_helpers):
    """(n, n) shortest-path lengths over the CSR graph (non-negative weights, undirected:
    every edge listed both ways; inf where unreachable), one Dijkstra per node r in
    ``order``. Each run starts from the bound b(v) = min over up to ``n_helpers`` done
    neighbours s of w(r, s) + d(s, v) (lengths of real paths) and expands only the nodes
    it improves on b: from a node u at b(u) = w(r, s) + d(s, u), every edge gives
    w(r, s) + d(s, u) + w(u, v) >= w(r, s) + d(s, v) >= b(v), nothing new."""
    n = len(indptr) - 1
    out = np.full((n, n), np.inf)
    done = np.zeros(n, np.bool_)
    b = np.empty(n)
    heap = np.empty(n, np.int64)
    pos = np.empty(n, np.int64)        # place in the heap; -1 not queued, -2 settled
    nb_w = np.empty(n)
    nb_s = np.empty(n, np.int64)
    for r in order:
        b[:] = np.inf
        m = 0
        for e in range(indptr[r], indptr[r + 1]):
            if done[indices[e]] and indices[e] != r:
                nb_w[m], nb_s[m] = weights[e], indices[e]
                m += 1
        for h in np.argsort(nb_w[:m])[:n_helpers]:
            ws, row = nb_w[h], out[nb_s[h]]
            for v in range(n):
                b[v] = min(b[v], ws + row[v])
        b[r] = np.inf
        key = out[r]
        key[:] = b
        key[r] = 0.0
        pos[:] = -1
        heap[0], pos[r], size = r, 0, 1
        while size:
            u = heap[0]
            pos[u] = -2
            size -= 1
            if size:
                heap[0] = heap[size]
                pos[heap[0]] = 0
                _sift_down(heap, pos, key, size)
            ku = key[u]
            if ku >= b[u]:
                continue
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                nk = ku + weights[e]
                if nk < key[v]:
                    key[v] = nk
                    if pos[v] == -1:
                        heap[size], pos[v] = v, size
                        size += 1
                    _sift_up(heap, pos, key, pos[v])
        done[r] = True
    return out


@njit(cache=True)
def symmetric_table(D, inv):
    """out[a, b] = min(D[inv[a], inv[b]], D[inv[b], inv[a]]), 0 on the diagonal (D is
    made symmetric in place first, in tiles, so that both passes read memory in order)."""
    P, T = D.shape[0], 64
    for s in range(0, P, T):
        for t in range(s, P, T):
            for a in range(s, min(s + T, P)):
                for b in range(max(t, a + 1), min(t + T, P)):
                    v = min(D[a, b], D[b, a])
                    D[a, b] = v
                    D[b, a] = v
    for a in range(P):
        D[a, a] = 0.0
    k = len(inv)
    out = np.empty((k, k))
    for a in range(k):
        ra, oa = D[inv[a]], out[a]
        for b in range(k):
            oa[b] = ra[inv[b]]
    return out
