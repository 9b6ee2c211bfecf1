"""``fit(method="sne" | "tsne" | "skipgram")``: an embedding as the layout.

The loans are read once; the estimates give SNE and t-SNE their affinities,
the visits themselves are skip-gram's sentences. :mod:`shelfplan.solve.embed`
learns the embedding and seats the books; the layout (or shelving plan on a
hall with stacks) is written and judged like every other, S or S_walk.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from shelfplan.api import load_problem, make_layout
from shelfplan.errors import ParameterError
from shelfplan.ingest.loans import Loans, filter_until, read_loans
from shelfplan.layout import Layout
from shelfplan.solve.embed import check_method, embed_plan, embed_positions

__all__ = ["fit_embedded"]


def _visits(loans: Loans, items) -> tuple[np.ndarray, np.ndarray]:
    """(session, 0-based book) of every loan; -1 for books outside ``items``."""
    t = loans.table
    book = pd.Index(np.asarray(items, dtype=object)).get_indexer(t["item"].astype(str))
    return t["session"].to_numpy(np.int64), np.asarray(book, dtype=np.int64)


def fit_embedded(method: str, loans, hall=None, *, holdings=None, seed=0,
                 time_limit: float = 50.0, until=None, read_options=None, generalise=None,
                 dim=None, **given) -> Layout:
    """A layout from the ``method`` embedding of the loans; ``given``: the names of the
    options of the constrained solver the caller set (each an error here)."""
    t0 = time.monotonic()
    check_method(method, **given)
    if not isinstance(loans, Loans):
        loans = read_loans(loans, **(read_options or {}))
    loans = filter_until(loans, until=until)
    deadline = t0 + max(1.0, time_limit - 1.0)
    if hall is not None and hall.stacks is not None:
        from shelfplan.api import _stacked
        from shelfplan.shelf import make_plan, shelf_problem
        _stacked(hall, holdings, read_options)
        est, problem = shelf_problem(loans, hall, holdings=holdings, until=until,
                                     generalise=generalise)
        loc, info = embed_plan(method, problem, est, _visits(loans, problem.items), dim=dim,
                               seed=seed, deadline=deadline)
        return make_plan(problem, est, loc, info)
    if holdings is not None:
        from shelfplan.api import _stacked
        _stacked(hall, holdings, read_options)         # the one-line error
    est, problem = load_problem(loans, hall, until=until, generalise=generalise)
    if problem.blocks:
        raise ParameterError(f"`method` {method} places single books or titles; `level` "
                             f"category (blocks of books) needs `method` constrained")
    X, info = embed_positions(method, problem, est, _visits(loans, problem.items), dim=dim,
                              seed=seed, deadline=deadline)
    return make_layout(problem, est, X, info)
