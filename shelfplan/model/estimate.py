"""Estimate p(i), c_ij and p(i,j) from loans (MODEL.md section 2), all sparse.

``X`` is the session-by-item incidence matrix (one per distinct item in a
session), ``n_i`` its column sums and ``C = X^T X`` without the diagonal the
co-borrow counts. Nothing here is ``n x n`` dense.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from shelfplan.errors import LoansError
from shelfplan.ingest.loans import UNCATEGORISED, Loans
from shelfplan.model.incidence import incidence


@dataclass
class Estimates:
    """Everything downstream needs from the loans, as numpy/scipy objects."""

    items: np.ndarray            # (n,) item ids, str objects
    categories: np.ndarray | None  # (n,) category per item (None where unknown)
    counts: np.ndarray           # (n,) n_i, sessions containing item i
    p: np.ndarray                # (n,) p(i)
    cooc: sp.csr_matrix          # (n, n) c_ij, symmetric, zero diagonal
    pair: sp.csr_matrix          # (n, n) p(i,j) = p(i) p(j|i), not symmetric
    summary: dict = field(default_factory=dict)
    sizes: np.ndarray | None = None  # (n,) items per unit at level "category", else None

    @property
    def n(self) -> int:
        return len(self.items)

    def conditional(self) -> sp.csr_matrix:
        """p(j|i) as a sparse row-stochastic matrix (zero rows for lone items)."""
        rows = np.asarray(self.cooc.sum(axis=1)).ravel().astype(float)
        inv = np.divide(1.0, rows, out=np.zeros_like(rows), where=rows > 0)
        return sp.diags(inv) @ self.cooc

    def symmetric_pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(I, J, W) with I < J and W = p(i,j) + p(j,i): the pair term's weights."""
        w = sp.triu(self.pair + self.pair.T, k=1).tocoo()
        order = np.lexsort((w.col, w.row))
        return (w.row[order].astype(np.int64), w.col[order].astype(np.int64),
                w.data[order].astype(float))

    def with_items(self, ids, categories=None, sizes=None) -> "Estimates":
        """These estimates plus items never borrowed (p = 0, no pairs), in the given order
        after the existing ones; ids already present are skipped. For category blocks
        ``sizes`` gives the new units' books (default 1)."""
        known = set(self.items.tolist())
        cats = {} if categories is None else dict(zip(ids, categories))
        new = [i for i in dict.fromkeys(ids) if i not in known]
        if not new:
            return self
        k = len(new)
        n = self.n + k
        grow = lambda M: sp.csr_matrix((M.data, M.indices, np.concatenate(  # noqa: E731
            [M.indptr, np.full(k, M.indptr[-1])])), shape=(n, n))
        old_cats = self.categories if self.categories is not None else np.full(self.n, None)
        new_cats = np.array([cats.get(i) for i in new], dtype=object)
        all_cats = np.concatenate([old_cats, new_cats])
        new_sizes = None
        if self.sizes is not None:
            known_sizes = {} if sizes is None else dict(zip(ids, sizes))
            new_sizes = np.concatenate([self.sizes, np.array([int(known_sizes.get(i, 1))
                                                              for i in new], dtype=np.int64)])
        return Estimates(
            sizes=new_sizes,
            items=np.concatenate([self.items, np.array(new, dtype=object)]),
            categories=None if all(c is None for c in all_cats) else all_cats,
            counts=np.concatenate([self.counts, np.zeros(k, dtype=self.counts.dtype)]),
            p=np.concatenate([self.p, np.zeros(k)]),
            cooc=grow(self.cooc.tocsr()), pair=grow(self.pair.tocsr()),
            summary={**self.summary, "items_not_in_loans": k},
        )

    def top_pairs(self, k: int) -> pd.DataFrame:
        """The k strongest co-borrowed pairs by c_ij (ties by p(i,j) + p(j,i))."""
        c = sp.triu(self.cooc, k=1).tocoo()
        if c.nnz == 0:
            return pd.DataFrame(columns=["item_a", "item_b", "sessions", "p_pair"])
        w = sp.triu(self.pair + self.pair.T, k=1).tocsr()
        wv = np.asarray(w[c.row, c.col]).ravel()
        order = np.lexsort((-wv, -c.data))[:k]
        return pd.DataFrame({
            "item_a": self.items[c.row[order]],
            "item_b": self.items[c.col[order]],
            "sessions": c.data[order],
            "p_pair": wv[order],
        })


def estimate(loans: Loans, options=None) -> Estimates:
    """MODEL.md section 2, exactly: p(i), c_ij, p(j|i), p(i,j).

    ``options`` (a :class:`shelfplan.model.shrink.Generalise` or its dict)
    replaces p and p(i,j) by estimates that generalise; None or all-default
    options leave MODEL.md untouched. At level ``"category"`` (``loans.level``)
    the items' estimates are then summed into one unit per category
    (:func:`aggregate`).
    """
    est = estimate_items(loans)
    if options is not None:
        from shelfplan.model.shrink import Generalise, generalise
        options = Generalise.coerce(options)
        if not options.is_default:
            est = generalise(est, loans, options)
    if loans.level == "category":
        est = aggregate(est, loans)
    est.summary["level"] = loans.level
    if loans.level == "category" and loans.category_source:
        est.summary["category_source"] = dict(loans.category_source)
    if loans.level == "title" and loans.title_col:
        est.summary["title_col"] = loans.title_col
    return est


def aggregate(est: Estimates, loans: Loans | None = None) -> Estimates:
    """Item estimates summed into categories: ``p(C) = sum_{i in C} p(i)``,
    ``p(C,D) = sum_{i in C, j in D} p(i,j)`` for ``C != D`` (pairs inside one
    category drop: they are walked inside its block), ``c_CD`` likewise and
    ``n_C = sum n_i``. Items without a category form :data:`UNCATEGORISED`.
    ``sizes`` counts the items in each category. Without ``loans`` the categories
    are ``est.categories`` (each item's most frequent one, as estimated). Sparse throughout:
    ``A^T P A`` with the one-hot item-to-category matrix ``A``.
    """
    if loans is not None:
        cat = pd.Series(est.items).map(loans.item_categories()).fillna(UNCATEGORISED)
    else:           # the items' categories as estimated (an estimates file)
        cat = pd.Series(est.categories if est.categories is not None
                        else np.full(est.n, None), dtype=object).fillna(UNCATEGORISED)
    codes, units = pd.factorize(cat, sort=True)
    A = sp.csr_matrix((np.ones(est.n), (np.arange(est.n), codes)), shape=(est.n, len(units)))

    def fold(M):
        out = (A.T @ M @ A).tocsr()
        out.setdiag(0)
        out.eliminate_zeros()
        return out

    units = np.asarray(units, dtype=object)
    cooc = fold(est.cooc.astype(float)).astype(np.int64)
    summary = {**est.summary, "units": int(len(units)), "items": int(len(units)),
               "items_in_units": int(est.n),
               "co_borrowed_pairs": int(cooc.nnz // 2)}
    return Estimates(items=units, categories=units.copy(),
                     counts=np.bincount(codes, weights=est.counts).astype(np.int64),
                     p=np.bincount(codes, weights=est.p), cooc=cooc, pair=fold(est.pair),
                     summary=summary, sizes=np.bincount(codes).astype(np.int64))


def estimate_items(loans: Loans) -> Estimates:
    X, items, sizes, n_dupes = incidence(loans)
    counts = np.asarray(X.sum(axis=0)).ravel().astype(np.int64)
    C = (X.T @ X).tocsr()
    categories = None
    if loans.has_category:
        # each item's most frequent category (ties: the alphabetically first), vectorised
        categories = pd.Series(items).map(loans.item_categories()).to_numpy(dtype=object)
        categories = np.where(pd.isna(categories), None, categories)
    summary = {
        "source": loans.source,
        "rows_read": loans.n_rows_read,
        "loans": loans.n_loans,
        "duplicate_loans": int(n_dupes),
        "dropped_rows": dict(loans.dropped),
        "sessions": int(X.shape[0]),
        "items": int(len(items)),
        "patrons": loans.n_patrons,
        "session_rule": loans.session_rule,
        "multi_item_sessions": int((sizes >= 2).sum()),
    }
    if len(items) == 0:
        raise LoansError(f"{loans.source}: no items found")
    return from_counts(items, counts, C, summary, categories)


def from_counts(items: np.ndarray, counts: np.ndarray, C: sp.spmatrix, summary: dict,
                categories: np.ndarray | None = None) -> Estimates:
    """The estimates of MODEL.md section 2 from the counts: ``counts`` (n_i) and ``C``
    (c_ij; its diagonal is ignored). Every engine ends here, so the same counts give
    the same floats (C in canonical CSR form, int64)."""
    C = sp.csr_matrix(C, dtype=np.int64, copy=True)
    C.setdiag(0)
    C.eliminate_zeros()
    C.sum_duplicates()
    C.sort_indices()
    counts = np.asarray(counts, dtype=np.int64)
    p = counts / counts.sum()
    rows = np.asarray(C.sum(axis=1)).ravel().astype(float)
    scale = np.divide(p, rows, out=np.zeros_like(p), where=rows > 0)
    P = (sp.diags(scale) @ C).tocsr()
    P.sort_indices()
    summary = {**summary, "co_borrowed_pairs": int(C.nnz // 2)}
    return Estimates(items=np.asarray(items, dtype=object), categories=categories,
                     counts=counts, p=p, cooc=C, pair=P, summary=summary)


def session_size_histogram(loans: Loans) -> pd.Series:
    """Number of sessions by their count of distinct items."""
    _, _, sizes, _ = incidence(loans)
    return pd.Series(sizes).value_counts().sort_index()


def estimate_loans(loans, *, until=None, read_options=None, generalise=None) -> Estimates:
    """Loans (a path, ``-`` or :class:`Loans`) before ``until`` to their estimates
    (``generalise``: the options of :mod:`shelfplan.model.shrink`, None for MODEL.md).
    An estimates file (``shelfplan estimate``) in place of the loans is read instead
    of counting (:func:`shelfplan.model.estimates_file.from_file`)."""
    from shelfplan.ingest.loans import filter_until, read_loans

    if not isinstance(loans, Loans):
        from shelfplan.model.estimates_file import is_estimates_file
        if is_estimates_file(loans):       # counted by `shelfplan estimate`
            return from_file(loans, until=until, read_options=read_options,
                             generalise=generalise)
        loans = read_loans(loans, **(read_options or {}))
    est = estimate(filter_until(loans, until=until), generalise)
    if until is not None:
        est.summary["until"] = str(until)
    return est


# --------------------------------------------------------------------------------------
# from counts (an engine's, or an estimates file's)


def counts_estimates(counts) -> Estimates:
    """The estimates of :class:`~shelfplan.model.estimates_file.Counts` (MODEL.md
    section 2, then the level), as :func:`estimate` gives them for the same loans."""
    n = len(counts.items)
    i = np.concatenate([counts.pair_i, counts.pair_j]).astype(np.int64)
    j = np.concatenate([counts.pair_j, counts.pair_i]).astype(np.int64)
    c = np.concatenate([counts.pair_c, counts.pair_c]).astype(np.int64)
    est = from_counts(counts.items, counts.counts, sp.csr_matrix((c, (i, j)), shape=(n, n)),
                      dict(counts.summary), counts.categories)
    meta = counts.meta
    level = meta.get("level", "item")
    if level == "category":
        est = aggregate(est)
    est.summary["level"] = level
    if level == "category" and meta.get("category_source"):
        est.summary["category_source"] = dict(meta["category_source"])
    if level == "title" and meta.get("title_col"):
        est.summary["title_col"] = meta["title_col"]
    for key in ("until", "since"):
        if meta.get(key) is not None:
            est.summary[key] = str(meta[key])
    return est


def _same_time(a, b) -> bool:
    import pandas as pd
    try:
        return pd.Timestamp(a) == pd.Timestamp(b)
    except (ValueError, TypeError):
        return str(a) == str(b)


def read_estimates(path, *, until=None, since=None) -> Estimates:
    """The :class:`~shelfplan.model.estimate.Estimates` of an estimates file. ``until``
    and ``since``, when given, must be the period the file was written for."""
    from shelfplan.model.estimates_file import read_counts

    counts = read_counts(path)
    for key, want in (("until", until), ("since", since)):
        have = counts.meta.get(key)
        if want is not None and (have is None or not _same_time(have, want)):
            flag = f"--{key}"
            raise LoansError(f"{os.fspath(path)}: the estimates were written "
                             + (f"with {flag} {have}" if have is not None else f"without {flag}")
                             + f", not {flag} {want}; write them for that period with "
                             f"shelfplan estimate {flag} {want}")
    return counts_estimates(counts)


def from_file(path, *, until=None, read_options=None, generalise=None) -> Estimates:
    """An estimates file where loans were expected (:func:`estimate_loans`): the period
    and the level asked for must be the file's; estimates that generalise need the
    loans themselves."""
    name = os.fspath(path)
    if generalise is not None:
        from shelfplan.model.shrink import Generalise
        if not Generalise.coerce(generalise).is_default:
            raise LoansError(f"{name}: the --shrink-* options and --half-life need the loans "
                             f"themselves, not an estimates file; pass the loans file")
    est = read_estimates(name, until=until)
    want = (read_options or {}).get("level")
    if want is not None and want != est.summary.get("level", "item"):
        raise LoansError(f"{name}: the estimates place {est.summary.get('level')!r} units but "
                         f"`level` {want} is asked for; write them with shelfplan estimate "
                         f"--level {want}")
    return est
