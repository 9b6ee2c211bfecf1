"""Estimates that generalise to next term's loans (options of ``fit``; issue 14).

The default estimator (MODEL.md section 2, :func:`shelfplan.model.estimate.estimate`)
trusts every co-borrowing it saw and nothing else. Loans of one term are
sparse: most pairs are seen once, many books are borrowed alone. These
options pull the estimates towards what is better supported:

* ``category`` (pseudo-sessions ``a_c``): p(j|i) towards the co-borrowing of
  i's class, ``Q_c(j|i) = sum_D p(D|C(i)) p(j|D)``: the class-level
  conditional (kept to the ``partners`` strongest classes D, the own class
  included) spread over D's ``spread`` most borrowed books by popularity;
* ``neighbours`` (``a_n``): p(j|i) towards i's call-number neighbours
  (``window`` books on each side in shelf order, weight 1/distance);
* ``popularity`` (``b``): p(i) towards the class's rate, ``p(i) ~ n_i + b m_C``
  with ``m_C`` the mean ``n`` of the books of i's class;
* ``half_life`` (days): a session ``t`` days older than the newest loan
  counts ``0.5 ** (t / half_life)`` in ``n_i`` and ``c_ij``.

The shrinkage is Bayesian in form (pseudo-counts):
``p(j|i) = (c_ij + a_c Q_c(j|i) + a_n Q_n(j|i)) / (c_i + a_c + a_n)`` (a prior
counts only where its row is non-empty), so books with much evidence keep
their own pairs and books borrowed alone borrow their class's. Classes are
the category column, or its call-number classes (level 2) when the column is
almost one value per book. Everything stays sparse: a row of ``Q_c`` has at
most ``partners * spread`` entries, of ``Q_n`` ``2 * window``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from shelfplan.errors import ParameterError

_UNITS = {"h": 1 / 24, "d": 1.0, "w": 7.0, "m": 30.4375, "y": 365.25}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([hdwmy]?)\s*$", re.I)


def parse_duration(value, name: str = "half_life") -> float:
    """Days in ``90d``, ``12w``, ``6m``, ``1y``, ``36h`` or a plain number of days."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        days = float(value)
    else:
        m = _DURATION.match(str(value))
        if not m:
            raise ParameterError(f"`{name}` must be a duration such as 90d, 12w, 6m or 1y, "
                                 f"got {value!r}")
        days = float(m[1]) * _UNITS[(m[2] or "d").lower()]
    if not np.isfinite(days) or days <= 0:
        raise ParameterError(f"`{name}` must be a positive duration such as 90d, got {value!r}")
    return days


@dataclass(frozen=True)
class Generalise:
    """Strengths of the generalising estimates; all zero / None is MODEL.md exactly."""

    category: float = 0.0
    neighbours: float = 0.0
    popularity: float = 0.0
    half_life: float | None = None     # days
    partners: int = 3
    spread: int = 10
    window: int = 2

    def __post_init__(self):
        for key in ("category", "neighbours", "popularity"):
            v = getattr(self, key)
            if not (isinstance(v, (int, float)) and np.isfinite(v) and v >= 0):
                raise ParameterError(f"`shrink_{key}` must be 0 or more, got {v!r}")
        if self.half_life is not None:
            object.__setattr__(self, "half_life", parse_duration(self.half_life))

    @classmethod
    def coerce(cls, value) -> "Generalise":
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        return cls(**dict(value))

    @property
    def is_default(self) -> bool:
        return (not self.category and not self.neighbours and not self.popularity
                and self.half_life is None)

    @property
    def needs_classes(self) -> bool:
        return bool(self.category or self.neighbours or self.popularity)

    def to_dict(self) -> dict:
        return asdict(self)

    def label(self) -> str:
        if self.is_default:
            return "MODEL.md default"
        parts = [f"{k} {getattr(self, k):g}" for k in ("category", "neighbours", "popularity")
                 if getattr(self, k)]
        if self.half_life is not None:
            parts.append(f"half-life {self.half_life:g} d")
        return ", ".join(parts)


def generalise(est, loans, opts: Generalise):
    """``est`` (item-level MODEL.md estimates of ``loans``) with p and p(i,j) replaced by
    the generalising ones; ``cooc`` and ``counts`` stay the observed counts."""
    from shelfplan.model.incidence import incidence

    X, items, _, _ = incidence(loans)
    w = session_weights(loans, opts.half_life)
    n = np.asarray(X.T @ w).ravel()
    C = (X.T @ sp.diags(w) @ X).tocsr()
    C.setdiag(0)
    C.eliminate_zeros()
    priors = []
    classes = None
    if opts.needs_classes:
        classes, raw = item_classes(est.items, loans)
        if opts.category:
            priors.append((opts.category, class_prior(C, n, classes, opts.partners, opts.spread)))
        if opts.neighbours:
            priors.append((opts.neighbours, neighbour_prior(est.items, raw, opts.window)))
    P = shrink_conditional(C, priors)
    p = shrink_popularity(n, classes, opts.popularity)
    est.p = p
    est.pair = (sp.diags(p) @ P).tocsr()
    est.summary["generalise"] = opts.to_dict()
    return est


def session_weights(loans, half_life: float | None) -> np.ndarray:
    """One weight per session (rows of :func:`incidence`): 1, or halved every ``half_life``
    days before the newest loan."""
    t = loans.table
    codes, _ = pd.factorize(t["session"], sort=False)
    k = int(codes.max()) + 1
    if half_life is None:
        return np.ones(k)
    if "timestamp" not in t:
        raise ParameterError("`half_life` needs loans with dates (a timestamp column); "
                             "drop it or name the column with --time-col")
    ts = t["timestamp"].to_numpy().astype("datetime64[ns]").astype(np.int64)
    start = np.full(k, np.iinfo(np.int64).max)
    np.minimum.at(start, codes, ts)
    age = (ts.max() - start) / 86400e9
    return 0.5 ** (age / half_life)


def item_classes(items: np.ndarray, loans) -> tuple[np.ndarray, np.ndarray]:
    """(class code per item, -1 where unknown; raw category per item or None)."""
    if not loans.has_category:
        raise ParameterError("`shrink_category`, `shrink_neighbours` and `shrink_popularity` "
                             "need categories (a category or call-number column); name it "
                             "with --category-col, or use only --half-life")
    raw = pd.Series(items).map(loans.item_categories())
    known = raw.notna().to_numpy()
    labels = raw.astype(object).where(raw.notna(), None)
    if raw.nunique() > max(3, known.sum() / 3):     # almost one per book: use its class
        from shelfplan.ingest.callnumber import OTHER, parse
        parsed, _, _ = parse(raw.fillna("").astype(str).to_numpy(), level=2)
        if (parsed[known] != OTHER).mean() >= 0.5:
            labels = pd.Series(np.where(known & (parsed != OTHER), parsed, None), dtype=object)
    codes, _ = pd.factorize(labels, sort=True)
    return np.asarray(codes, dtype=np.int64), raw.to_numpy(dtype=object)


def _onehot(classes: np.ndarray) -> sp.csr_matrix:
    ok = classes >= 0
    k = int(classes.max()) + 1 if ok.any() else 0
    return sp.csr_matrix((np.ones(ok.sum()), (np.nonzero(ok)[0], classes[ok])),
                         shape=(len(classes), k))


def _row_normalise(M: sp.spmatrix) -> sp.csr_matrix:
    M = sp.csr_matrix(M, dtype=float)
    rows = np.asarray(M.sum(axis=1)).ravel()
    return (sp.diags(np.divide(1.0, rows, out=np.zeros_like(rows), where=rows > 0)) @ M).tocsr()


def _top_per_row(M: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Keep the ``k`` largest entries of each row (a Python loop over rows of a small
    class-by-class or class-by-book matrix)."""
    M = M.tocsr()
    rows, cols, vals = [], [], []
    for r in range(M.shape[0]):
        a, b = M.indptr[r], M.indptr[r + 1]
        if b == a:
            continue
        keep = np.argsort(-M.data[a:b], kind="stable")[:k]
        rows.append(np.full(len(keep), r))
        cols.append(M.indices[a:b][keep])
        vals.append(M.data[a:b][keep])
    if not rows:
        return sp.csr_matrix(M.shape)
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                         shape=M.shape)


def class_prior(C: sp.csr_matrix, n: np.ndarray, classes: np.ndarray, partners: int,
                spread: int) -> sp.csr_matrix:
    """``Q_c(j|i) = sum_D p(D|C(i)) p(j|D)``, sparse, rows summing to 1 (or 0)."""
    A = _onehot(classes)
    cc = _top_per_row((A.T @ C @ A).tocsr(), partners)       # classes x classes, own included
    pcc = _row_normalise(cc)
    within = _top_per_row((A.T @ sp.diags(n + 1e-9)).tocsr(), spread)  # classes x books
    Q = (A @ (pcc @ _row_normalise(within))).tocsr()
    Q.setdiag(0)
    Q.eliminate_zeros()
    return _row_normalise(Q)


def neighbour_prior(items: np.ndarray, raw: np.ndarray, window: int) -> sp.csr_matrix:
    """``Q_n(j|i)``: the ``window`` books on each side of i in call-number order
    (ties by item id), weight 1/distance; books without a call number have none."""
    from shelfplan.ingest.callsort import shelf_ranks

    known = np.array([r is not None and not (isinstance(r, float) and np.isnan(r))
                      for r in raw])
    idx = np.nonzero(known)[0]
    if len(idx) < 2 or window < 1:
        return sp.csr_matrix((len(items), len(items)))
    keys = shelf_ranks([str(raw[i]) for i in idx])
    order = idx[np.lexsort((items[idx].astype(str), keys))]
    m = len(order)
    rows, cols, vals = [], [], []
    for d in range(1, window + 1):
        a, b = order[:-d], order[d:]
        rows += [a, b]
        cols += [b, a]
        vals += [np.full(m - d, 1.0 / d)] * 2
    Q = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(len(items), len(items)))
    return _row_normalise(Q)


def shrink_conditional(C: sp.csr_matrix, priors: list) -> sp.csr_matrix:
    """``(c_ij + sum_k a_k Q_k(j|i)) / (c_i + sum_k a_k [row of Q_k non-empty])``."""
    C = sp.csr_matrix(C, dtype=float)
    num = C.copy()
    den = np.asarray(C.sum(axis=1)).ravel()
    for a, Q in priors:
        num = num + a * Q
        den = den + a * (np.diff(Q.indptr) > 0)
    num = num.tocsr()
    return (sp.diags(np.divide(1.0, den, out=np.zeros_like(den), where=den > 0)) @ num).tocsr()


def shrink_popularity(n: np.ndarray, classes: np.ndarray | None, b: float) -> np.ndarray:
    """``p(i) ~ n_i + b m_C(i)`` (``m_C``: mean ``n`` in i's class; 0 without a class)."""
    n = np.asarray(n, dtype=float)
    if b and classes is not None and (classes >= 0).any():
        ok = classes >= 0
        tot = np.bincount(classes[ok], weights=n[ok])
        size = np.bincount(classes[ok])
        mean = np.zeros_like(n)
        mean[ok] = (tot / size)[classes[ok]]
        n = n + b * mean
    return n / n.sum()
