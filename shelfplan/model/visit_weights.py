"""The ``visits`` objective: S_walk's form with weights from how visits really are.

``S_walk`` (MODEL.md 8.4) walks every borrowed book as "from the entrance to i,
then to j": its entrance and pair terms weigh the same. A visit of k books
walks from the entrance, to its books and back. Averaged over the orders in
which its books could be picked, each of the two entrance legs ends at any of
its books with chance 1/k, and each of the k - 1 legs between books joins any
of its k (k - 1) / 2 pairs with chance 2/k, so a visit ``V`` of size k walks
on average

    sum_{i in V} (2/k) g(e,i)  +  sum_{i<j in V} (2/k) g(i,j)

(exact for k <= 2: 2 g(e,i) for one book, g(e,i) + g(i,j) + g(j,e) for two).
Summed over the N visits of the loans and divided by N this is the mean visit
walk of a random picking order, of the decomposable form

    V(plan) = sum_i a_i g(e,i) + sum_{i != j} b_ij g(i,j)

with ``a_i = (2/N) sum_{V ni i} 1/|V|`` and ``b_ij = (1/N) sum_{V ni i,j} 1/|V|``.
Written with the estimates of MODEL.md section 2 (``p(i) = n_i / sum n``,
``p(i,j) = p(i) p(j|i)``), ``K`` the mean visit size and ``u_i`` the mean of
``1/|V|`` over the visits that hold i:

    a_i = 2 K u_i p(i),        b_ij = lam K (1 - u_i) p(i,j)

(``b`` uses p(j|i) for how i's co-borrowings spread over its partners, so the
shrinkage of :mod:`shelfplan.model.shrink` applies unchanged). A book mostly
borrowed alone (``u_i`` near 1) pulls to the entrance only; one borrowed with
others pulls to its partners as much as their shared trips make it walk. ``u_i``
from few visits is noisy and is shrunk towards the loans' ``1/K`` with
``PSEUDO_VISITS`` pseudo-visits. ``lam`` (``pairs``, 1 by default) scales the
pair term for ``fit --tune``. The weights sum to 2 (entrance) and to ``lam
(K - 1)`` (pairs), so ``V`` is in metres per visit.

:func:`visit_estimates` returns estimates whose ``p`` and ``pair`` are ``a``
and ``b``: every search engine that takes entrance weights and pair weights
optimises ``V`` unchanged, with its exact deltas.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from shelfplan.errors import ParameterError
from shelfplan.model.estimate import Estimates
from shelfplan.model.incidence import incidence

__all__ = ["Objective", "OBJECTIVES", "split_options", "visit_stats", "visit_estimates",
           "unseen_weights"]

#: The objectives ``fit`` offers: ``walk`` is S_walk (MODEL.md 8.4, the contract's
#: default), ``visits`` the mean visit walk of a random picking order (above).
OBJECTIVES = ("walk", "visits")
#: Pseudo-visits of size ``K`` (the loans' mean) added to each book's visits for ``u_i``.
PSEUDO_VISITS = 2.0


@dataclass(frozen=True)
class Objective:
    """Which objective a plan minimises; ``pairs`` scales the visits objective's pair term."""

    name: str = "walk"
    pairs: float = 1.0
    unseen: float = 0.0

    def __post_init__(self):
        if self.name not in OBJECTIVES:
            raise ParameterError(f"`objective` must be one of {', '.join(OBJECTIVES)}, got "
                                 f"{self.name!r}")
        if not (isinstance(self.pairs, (int, float)) and np.isfinite(self.pairs)
                and self.pairs >= 0):
            raise ParameterError(f"`visit_pairs` must be 0 or more, got {self.pairs!r}")
        if not (isinstance(self.unseen, (int, float)) and np.isfinite(self.unseen)
                and self.unseen >= 0):
            raise ParameterError(f"`visit_unseen` must be 0 or more, got {self.unseen!r}")
        if self.name == "walk" and (self.pairs != 1.0 or self.unseen != 0.0):
            raise ParameterError("`visit_pairs` and `visit_unseen` go with `objective` visits")

    @classmethod
    def coerce(cls, value) -> "Objective":
        """From None (walk), a name, a dict (``name``, ``pairs``) or an Objective."""
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            return cls(name=value)
        if isinstance(value, dict):
            return cls(**value)
        raise ParameterError(f"`objective` must be one of {', '.join(OBJECTIVES)}, got "
                             f"{value!r}")

    @property
    def label(self) -> str:
        if self.name == "walk":
            return "S_walk (MODEL.md 8.4)"
        lam = "" if self.pairs == 1.0 else f", pair term x{self.pairs:g}"
        new = "" if self.unseen == 0.0 else f", unborrowed books x{self.unseen:g} of their class"
        return f"visits (mean visit walk of a random picking order, MODEL.md 8.10{lam}{new})"


def split_options(options: dict | None, objective) -> tuple[dict, Objective]:
    """Tuned options to (estimation options, objective): ``visit_pairs`` and
    ``visit_unseen`` are the visits objective's, the rest
    :class:`~shelfplan.model.shrink.Generalise`'s."""
    options = dict(options or {})
    objective = Objective.coerce(objective)
    pairs = float(options.pop("visit_pairs", objective.pairs))
    unseen = float(options.pop("visit_unseen", objective.unseen))
    return options, Objective(objective.name, pairs, unseen)


def visit_stats(loans) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(unit ids, n_i visits holding each, h_i = sum of 1/|V| over them, N visits) of
    ``loans`` at the level they place; sparse, one pass."""
    X, items, sizes, _ = incidence(loans, units=True)
    inv = np.divide(1.0, sizes, out=np.zeros(len(sizes)), where=sizes > 0)
    n = np.asarray(X.sum(axis=0)).ravel().astype(float)
    h = np.asarray(X.T @ inv).ravel()
    return items, n, h, int((sizes > 0).sum())


def visit_estimates(est: Estimates, loans, pairs: float = 1.0, unseen: float = 0.0,
                    ) -> Estimates:
    """``est`` with ``p`` and ``pair`` replaced by the visits objective's weights ``a``
    and ``b`` (module docstring); ``loans`` are the loans ``est`` was made from. Books
    of ``est`` never borrowed in them (holdings) get ``a = unseen`` times the mean ``a``
    of the borrowed books of their class (:func:`unseen_weights`), no pairs."""
    ids, n, h, N = visit_stats(loans)
    if N == 0 or n.sum() == 0:
        return est
    K = n.sum() / N
    u_all = (h + PSEUDO_VISITS / K) / (n + PSEUDO_VISITS)
    where = {str(i): k for k, i in enumerate(ids)}
    rows = np.array([where.get(str(i), -1) for i in est.items], dtype=np.int64)
    u = np.where(rows >= 0, u_all[np.maximum(rows, 0)], 1.0 / K)
    a = 2.0 * K * u * est.p
    if unseen > 0:
        a = a + unseen * unseen_weights(a, est.counts == 0, est.categories)
    b = (sp.diags(pairs * K * (1.0 - u)) @ sp.csr_matrix(est.pair)).tocsr()
    summary = {**est.summary, "objective": {"name": "visits", "pairs": float(pairs),
                                            "unseen": float(unseen),
                                            "mean_visit_size": float(K), "visits": N}}
    return replace(est, p=a, pair=b, summary=summary)


def unseen_weights(a: np.ndarray, unseen: np.ndarray, classes) -> np.ndarray:
    """For each book in ``unseen`` (never borrowed): the mean ``a`` over all the books of
    its class, the unborrowed ones counting 0 (over all books where the class is
    unknown); 0 for the others. The classification is the prior for how a book will be
    borrowed, and a class whose books mostly stay unborrowed lends its new ones little."""
    out = np.zeros(len(a))
    if not unseen.any() or unseen.all():
        return out
    overall = float(a.sum() / len(a))
    if classes is None:
        out[unseen] = overall
        return out
    cls = np.array(["" if c is None else str(c) for c in classes], dtype=object)
    codes, _ = pd.factorize(cls)
    total = np.bincount(codes, weights=np.where(unseen, 0.0, a))
    count = np.bincount(codes)
    mean = total / count
    known = np.array([c is not None for c in classes])
    out[unseen] = np.where(known, mean[codes], overall)[unseen]
    return out
