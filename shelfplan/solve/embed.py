"""Embeddings as layout methods (MODEL.md section 7): SNE, t-SNE and skip-gram.

``fit(method=...)`` with ``sne``, ``tsne`` or ``skipgram`` learns an embedding
of the borrowed books from the loans and turns it into a feasible layout:

1. **Entrance.** The embeddings know nothing of the entrance, so it becomes a
   node of its own: for SNE and t-SNE an extra row of affinities
   ``P(entrance, i) = p(i)`` next to the pairs ``p(i, j)`` (the entrance term
   of S beside its pair term); for skip-gram an entrance token that starts
   every visit (sentence), so books often borrowed sit near it.
2. **Orientation and scale.** Positions are taken relative to the entrance
   node. Their two leading principal axes give each book an angle around the
   entrance; the angles are turned so that the widest empty sector faces the
   entrance wall, then halved into the half-plane inside the wall (a book's
   angular neighbours stay neighbours). Distance from the entrance keeps its
   rank only: the k-th nearest book to the entrance node gets the distance of
   the k-th nearest site (or slot), which fits the scale to the hall.
   A third axis, when there is one, orders the books in height.
3. **Assignment.** On a free hall the targets go to the lattice with the
   step :func:`shelfplan.solve.starts.snap_to_sites` that ``fit`` uses for its
   continuous layout, on the ``n`` sites nearest the entrance. On a hall with
   stacks, most borrowed first, each book takes the location with a free slot
   whose pick point is nearest its target; books never borrowed fill the rest
   in call-number order (:func:`shelfplan.solve.shelving.fill_rest`).

No co-borrowed pair at all leaves nothing to learn: the layout is popularity
order, with a warning. There is no search after the assignment: the layout
is the embedding's, as the essay claims.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import scipy.sparse as sp

from shelfplan.errors import ParameterError
from shelfplan.solve.embed_learn import ENTRANCE_TOKEN, need, skipgram_embed, tsne_embed
from shelfplan.solve.embed_sne import sne_embed
from shelfplan.solve.record import seed_info
from shelfplan.solve.starts import nearest_free, nearest_sites, popularity_start, snap_to_sites

log = logging.getLogger(__name__)

__all__ = ["METHODS", "EMBEDDINGS", "DIMS", "check_method", "embed", "embed_positions",
           "embed_plan", "sentences"]

METHODS = ("constrained", "sne", "tsne", "skipgram")
EMBEDDINGS = METHODS[1:]
#: default dimension of each embedding (the essay: word2vec in 3 dimensions)
DIMS = {"sne": 3, "tsne": 2, "skipgram": 3}


def check_method(method: str, **given) -> None:
    """``method`` known, its extra installed, and no option given that it ignores
    (``given``: option name -> True when the caller set it)."""
    if method not in METHODS:
        raise ParameterError(f"`method` must be one of {', '.join(METHODS)}, got {method!r}")
    if method == "constrained":
        return
    extra = [k for k, v in given.items() if v]
    if extra:
        names = ", ".join(f"`{k}`" for k in extra)
        raise ParameterError(f"{names} do{'es' if len(extra) == 1 else ''} not apply to "
                             f"`method` {method} (an embedding is learnt from scratch, with no "
                             f"solver start or search); drop {names} or use `method` "
                             f"constrained")
    if method in ("tsne", "skipgram"):
        need(method)


def sentences(session: np.ndarray, item: np.ndarray, n: int) -> list[list[str]]:
    """The visits as sentences: the entrance token, then each distinct book of the
    visit (``item``: 0-based book of each loan, -1 to skip) as its index."""
    keep = item >= 0
    s, i = np.asarray(session)[keep], np.asarray(item)[keep]
    order = np.lexsort((i, s))
    s, i = s[order], i[order]
    new = np.ones(len(s), dtype=bool)
    new[1:] = (s[1:] != s[:-1]) | (i[1:] != i[:-1])
    s, i = s[new], i[new]
    cuts = np.nonzero(np.diff(s))[0] + 1
    tok = np.array([str(k) for k in range(n)], dtype=object)
    return [[ENTRANCE_TOKEN] + part.tolist() for part in np.split(tok[i], cuts)]


def _graph(p, pair, books):
    """Directed affinities over the nodes: ``books`` then the entrance (last node)."""
    A = len(books)
    sub = sp.csr_matrix(pair)[books][:, books].tocoo()
    a = np.concatenate([sub.row, np.full(A, A)])
    b = np.concatenate([sub.col, np.arange(A)])
    w = np.concatenate([sub.data, p[books]]).astype(float)
    keep = (w > 0) & (a != b)
    return a[keep], b[keep], w[keep]


def embed(method: str, p, pair, books, *, visits=None, dim=None, seed=0,
          deadline=None) -> tuple[np.ndarray, np.ndarray, dict]:
    """The embedding of ``books`` (indices): points ``(len(books), dim)``, the entrance
    node's point, and a record. ``visits``: (session, book) of each loan (skip-gram)."""
    dim = DIMS[method] if dim is None else int(dim)
    A = len(books)
    if method == "skipgram":
        where = np.full(len(p), -1)
        where[books] = np.arange(A)
        vec, info = skipgram_embed(sentences(visits[0], where[visits[1]], A), dim=dim,
                                   seed=seed, deadline=deadline)
        V = np.array([vec.get(str(k), np.zeros(dim)) for k in range(A)])
        return V, np.asarray(vec[ENTRANCE_TOKEN], dtype=float), info
    a, b, w = _graph(np.asarray(p, dtype=float), pair, books)
    if method == "sne":
        Y, info = sne_embed((a, b, w, A + 1), dim=dim, seed=seed, deadline=deadline)
    elif method == "tsne":
        P = sp.coo_matrix((w, (a, b)), shape=(A + 1, A + 1)).tocsr()
        Y, info = tsne_embed(P + P.T, dim=dim, seed=seed, deadline=deadline)
    else:
        raise ParameterError(f"`method` must be one of {', '.join(EMBEDDINGS)}, got {method!r}")
    return Y[:A], Y[A], info


def directions(Y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(radius, angle in [0, pi] into the hall, height rank in [0, 1]) of points
    ``Y`` relative to the entrance node (module docstring, step 2)."""
    n, dim = Y.shape
    r = np.linalg.norm(Y, axis=1)
    if dim == 1 or n < 2:
        axes = np.eye(dim)
    else:
        axes = np.linalg.svd(Y, full_matrices=False)[2]
    Z = Y @ axes.T
    if dim == 1:
        theta = np.where(Z[:, 0] >= 0, 0.0, np.pi) - np.pi / 2
    else:
        theta = np.arctan2(Z[:, 1], Z[:, 0])
    t = np.sort(theta)
    gaps = np.diff(np.concatenate([t, [t[0] + 2 * np.pi]]))
    k = int(np.argmax(gaps))
    mid = t[k] + gaps[k] / 2                           # middle of the widest empty sector
    phi = np.mod(theta - mid, 2 * np.pi) / 2           # in (0, pi), the sector at the wall
    height = np.zeros(n)
    if dim >= 3:
        height[np.argsort(Z[:, 2], kind="stable")] = np.arange(n) / max(1, n - 1)
    return r, phi, height


def _targets(Y, e_xy, wall, r_of_rank):
    """Floor targets of the books: direction from :func:`directions`, distance the one
    of the site (slot) with the book's distance rank."""
    r, phi, height = directions(Y)
    rank = np.empty(len(r), dtype=np.int64)
    rank[np.lexsort((np.arange(len(r)), r))] = np.arange(len(r))
    u, nrm = wall
    d = np.cos(phi)[:, None] * u + np.sin(phi)[:, None] * nrm
    return e_xy + r_of_rank[rank][:, None] * d, height


def _no_pairs(W, method) -> bool:
    if W.nnz:
        return False
    log.warning("the loans have no co-borrowed pairs (no visit with two books): `method` "
                "%s has nothing to learn; the books are laid out in popularity order", method)
    return True


def _record(method, dim, seed, t0, info, assignment) -> dict:
    return {"method": f"embed:{method}", "dim": dim, "seed": seed_info(seed),
            "entrance": ("an entrance token starting every visit" if method == "skipgram"
                         else "an entrance node with affinity p(i) to every book"),
            "orientation": "principal axes around the entrance node, widest empty sector "
                           "at the entrance wall; distance by rank",
            "assignment": assignment, "embedding": info,
            "seconds": round(time.monotonic() - t0, 3)}


def embed_positions(method: str, problem, est, visits=None, *, dim=None, seed=0,
                    deadline=None) -> tuple[np.ndarray, dict]:
    """Positions on the lattice of a free hall (``problem``: :class:`Problem`)."""
    t0 = time.monotonic()
    dim = DIMS[method] if dim is None else int(dim)
    sites = nearest_sites(problem)
    if problem.n < 3 or _no_pairs(problem.symmetric_weights(), method):
        X = popularity_start(problem, sites)
        return X, _record(method, dim, seed, t0, {"fallback": "popularity order"},
                          "popularity order")
    books = np.arange(problem.n)
    V, ve, info = embed(method, problem.p, est.pair, books, visits=visits, dim=dim, seed=seed,
                        deadline=deadline)
    hall = problem.hall
    e = hall.entrance
    rs = np.sort(np.linalg.norm(sites - e, axis=1))
    T2, height = _targets(V - ve, e[:2], hall.entrance_wall(), rs)
    z_lo, z_hi = hall.z_range
    z = z_lo + height * (z_hi - z_lo) if V.shape[1] >= 3 else np.full(len(T2), e[2])
    X = snap_to_sites(np.column_stack([T2, z]), problem, sites)
    return X, _record(method, dim, seed, t0, info, "snap to the n sites nearest the entrance")


def embed_plan(method: str, problem, est, visits=None, *, dim=None, seed=0,
               deadline=None) -> tuple[np.ndarray, dict]:
    """The location of every book on a hall with stacks (``problem``:
    :class:`~shelfplan.model.shelving.ShelfProblem`)."""
    from shelfplan.solve.shelving import active_books, fill_rest, shelf_baseline

    t0 = time.monotonic()
    dim = DIMS[method] if dim is None else int(dim)
    books = active_books(problem)
    if len(books) < 3 or _no_pairs(problem.symmetric_weights(), method):
        loc = shelf_baseline("popularity", problem)
        return loc, _record(method, dim, seed, t0, {"fallback": "popularity order"},
                            "popularity slotting")
    V, ve, info = embed(method, problem.p, est.pair, books, visits=visits, dim=dim, seed=seed,
                        deadline=deadline)
    st = problem.stacks
    e = st.entrance_xy
    pick = st.seat_points() if hasattr(st, "seat_points") else st.pick   # buildings: on foot
    slot_r = np.sort(np.repeat(np.linalg.norm(pick - e, axis=1), problem.capacity))
    T, _ = _targets(V - ve, e, problem.hall.entrance_wall(), slot_r)
    loc = np.full(problem.n, -1, dtype=np.int64)
    loc[books] = seat(T, problem.p[books], pick, problem.capacity)
    return fill_rest(loc, problem), _record(method, dim, seed, t0, info,
                                            "most borrowed first, the free location whose "
                                            "pick point is nearest the target")


def learning_deadline(t0: float, time_limit: float, now: float) -> float:
    """When an embedding must stop learning: the limit counts from the call ``t0``
    (reading the loans included); kept back for the assignment, the bound and the
    layout file are a second and 1.5 times the reading and estimating took until
    ``now`` (both grow with the books and with the load of the machine: measured,
    the assignment takes about as long as the reading). At least a second to learn."""
    return t0 + max(1.0, time_limit - 1.0 - 1.5 * (now - t0))


def seat(T: np.ndarray, p: np.ndarray, pick: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Each target, most borrowed first, into the location with a free slot whose pick
    point is nearest it (``capacity`` slots per location; enough in all)."""
    return nearest_free(T, np.lexsort((np.arange(len(T)), -np.asarray(p))), pick, capacity)
