"""The discrete search core: places, exact sparse deltas, pull points, best-first moves.

Every discrete solver of shelfplan assigns *books* (units: single books or
category blocks) to *places* and lowers

    S = sum_i p_i g(e, v_i) + sum_{i<j} W_ij g(v_i, v_j)

by swaps, moves to free places and kicks. What a problem family provides is a
small interface, a *places* object:

* ``xyz`` (m, d): coordinates of the places, used only to find candidates
  (nearest places, pull points); never to price a move;
* ``to_entrance(s)``: distance g(e, place s) for an index array ``s``;
* ``between(s, t)``: distance g(place s[k], place t[k]) elementwise;
* ``nearest(points, k)``: indices of the ``k`` places nearest each point.

plus the weights: ``p`` (entrance weights) and the symmetric sparse pair
matrix ``W`` (CSR, :meth:`Problem.symmetric_weights`), and a feasibility
hook where not every move is feasible. :class:`Places` is the Euclidean
implementation (books on lattice sites, category discs); a family with a
walking-distance table (books in shelf locations, MODEL.md section 8) keeps
``xyz`` as the pick points' coordinates and looks ``to_entrance`` and
``between`` up in its table g. Free places are places no book occupies (the
item search gives them "empty books" with p = 0 and no partners; a capacity
per place is a feasibility hook).

The functions: :func:`expand` (CSR row ranges, vectorised), :func:`pull_points`
(where a book's attractions pull it: the weighted centre of the entrance and
its partners), :func:`swap_gains` (exact decrease of S for many swaps at once),
:func:`point_costs` and :func:`spot_costs` (a book's part of S at candidate points), and
:func:`best_first` (apply moves one at a time, re-priced and checked, for
families whose moves need a feasibility check). :mod:`shelfplan.solve.search`
holds the swap search and kicks built on them.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

#: partner terms evaluated at once by :func:`swap_gains` (bounds its peak memory)
GAIN_CHUNK = 250_000
#: smallest gain that counts as an improvement
MIN_GAIN = 1e-12


def dist(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Row-wise Euclidean distance."""
    d = u - v
    return np.sqrt(np.einsum("ij,ij->i", d, d))


class Places:
    """Euclidean places: coordinates ``xyz`` and the entrance ``e`` (see the module
    docstring for the interface a distance table implements instead)."""

    def __init__(self, xyz: np.ndarray, entrance: np.ndarray):
        self.xyz = np.asarray(xyz, dtype=float)
        self.e = np.asarray(entrance, dtype=float)
        self.tree = cKDTree(self.xyz)

    def __len__(self) -> int:
        return len(self.xyz)

    def to_entrance(self, s: np.ndarray) -> np.ndarray:
        return dist(self.xyz[s], self.e[None, :])

    def between(self, s: np.ndarray, t: np.ndarray) -> np.ndarray:
        return dist(self.xyz[s], self.xyz[t])

    def nearest(self, points: np.ndarray, k: int) -> np.ndarray:
        return self.tree.query(points, k=k)[1]


def expand(indptr: np.ndarray, rows: np.ndarray):
    """For each k in rows, the index range indptr[k]:indptr[k+1], flattened, with the
    position in ``rows`` it belongs to: ``(owner, idx)``."""
    deg = indptr[rows + 1] - indptr[rows]
    owner = np.repeat(np.arange(len(rows)), deg)
    idx = np.repeat(indptr[rows], deg) + (np.arange(deg.sum()) - np.repeat(np.cumsum(deg) - deg, deg))
    return owner, idx


def pull_points(V: np.ndarray, p: np.ndarray, e: np.ndarray, W: sp.csr_matrix,
                books: np.ndarray, *, lam: np.ndarray | None = None,
                anchor: np.ndarray | None = None, fallback: np.ndarray | None = None):
    """Where each of ``books`` is pulled: the mean of the entrance (weight p_i), its
    partners at ``V`` (weights W_ij) and, with ``lam``, its ``anchor`` (weight lam_i).

    ``V`` holds every book's position (rows of ``W`` index it); ``e`` may be 2-D or
    3-D like ``V``. A book with no weight at all gets ``fallback`` (its row), or
    the zero vector when ``fallback`` is None.
    """
    books = np.asarray(books)
    owner, idx = expand(W.indptr, books)
    w = W.data[idx]
    vk = V[W.indices[idx]]
    tot = p[books] + np.bincount(owner, w, len(books))
    acc = p[books, None] * e[None, :]
    for d in range(V.shape[1]):
        acc[:, d] += np.bincount(owner, w * vk[:, d], len(books))
    if lam is not None:
        acc += lam[:, None] * anchor
        tot = tot + lam
    if fallback is None:
        tot = np.where(tot > 0, tot, 1.0)
        return acc / tot[:, None]
    return np.divide(acc, tot[:, None], out=np.array(fallback, dtype=float),
                     where=tot[:, None] > 0)


def swap_gains(places, slot: np.ndarray, p: np.ndarray, W: sp.csr_matrix,
               a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """S(before) - S(after) when books a[k] and b[k] exchange places (each swap alone).

    ``slot[i]`` is the place of book ``i`` (books with p = 0 and no partners
    stand for free places).
    """
    deg = (W.indptr[a + 1] - W.indptr[a]) + (W.indptr[b + 1] - W.indptr[b])
    if len(a) > 1 and int(deg.sum()) > GAIN_CHUNK:
        # popular books have thousands of partners and appear in many candidate
        # swaps: evaluate in chunks of about GAIN_CHUNK partner terms
        cut = np.searchsorted(np.cumsum(deg), np.arange(GAIN_CHUNK, int(deg.sum()),
                                                         GAIN_CHUNK), side="right")
        bounds = np.unique(np.concatenate([[0], cut, [len(a)]]))
        return np.concatenate([swap_gains(places, slot, p, W, a[s:t], b[s:t])
                               for s, t in zip(bounds[:-1], bounds[1:]) if t > s])
    sa, sb = slot[a], slot[b]
    gain = (p[a] - p[b]) * (places.to_entrance(sa) - places.to_entrance(sb))
    for src, other, old, new in ((a, b, sa, sb), (b, a, sb, sa)):
        owner, idx = expand(W.indptr, src)
        k = W.indices[idx]
        keep = k != other[owner]        # the swapped pair keeps its distance
        owner, k, w = owner[keep], k[keep], W.data[idx][keep]
        sk = slot[k]
        d_old = places.between(old[owner], sk)
        d_new = places.between(new[owner], sk)
        gain += np.bincount(owner, w * (d_old - d_new), len(src))
    return gain


def point_costs(P: np.ndarray, books: np.ndarray, V: np.ndarray, p: np.ndarray,
                e: np.ndarray, W: sp.csr_matrix) -> np.ndarray:
    """``p_a ||P_k - e|| + sum_j W_aj ||P_k - v_j||`` for book ``a = books[k]`` put at
    point ``P[k]`` while its partners stay at ``V`` (the move of one book, priced
    exactly over its sparse partner list)."""
    out = p[books] * np.linalg.norm(P - e, axis=1)
    owner, idx = expand(W.indptr, books)
    if len(idx):
        out = out + np.bincount(owner, W.data[idx] * np.linalg.norm(P[owner] - V[W.indices[idx]],
                                                                     axis=1), len(books))
    return out


def spot_costs(P: np.ndarray, i: int, V: np.ndarray, p: np.ndarray, e: np.ndarray,
               W: sp.csr_matrix, plane: bool = False) -> np.ndarray:
    """:func:`point_costs` for one book ``i`` at many points ``P`` (a dense
    points x partners product: callers bound the number of points); with ``plane``
    the pair distances use the first two coordinates only."""
    cols = W.indices[W.indptr[i]:W.indptr[i + 1]]
    vals = W.data[W.indptr[i]:W.indptr[i + 1]]
    out = p[i] * np.linalg.norm(P - e, axis=1)
    if len(cols):
        d = 2 if plane else P.shape[1]
        out = out + np.sqrt(((P[:, None, :d] - V[cols][None, :, :d]) ** 2).sum(axis=2)) @ vals
    return out


def best_first(gain: np.ndarray, regain, allowed, apply, deadline: float) -> int:
    """Apply candidate moves one at a time, largest ``gain`` first: each is re-priced
    (``regain(c)``, the layout has changed) and checked (``allowed(c)``) before
    ``apply(c)``. Returns how many were applied."""
    order = np.argsort(-gain, kind="stable")
    order = order[gain[order] > MIN_GAIN]
    done = 0
    for c in order:
        if time.monotonic() > deadline:
            break
        if regain(c) <= MIN_GAIN or not allowed(c):
            continue
        apply(c)
        done += 1
        if time.monotonic() > deadline:
            break
    return done
