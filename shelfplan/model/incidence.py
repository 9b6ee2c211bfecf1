"""The session-by-item incidence matrix X of MODEL.md section 2 (C = X^T X off the diagonal)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from shelfplan.ingest.loans import Loans

__all__ = ["incidence"]


def incidence(loans: Loans, units: bool = False,
              ) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, int]:
    """Session-by-item 0/1 matrix; returns (X, item ids, session sizes, duplicates).

    With ``units``, columns are what the loans' level places (categories at
    level ``"category"``, see :meth:`Loans.units`) instead of items.
    """
    t = loans.table
    s_codes, _ = pd.factorize(t["session"], sort=False)
    i_codes, items = pd.factorize(loans.units() if units else t["item"], sort=True)
    pairs = np.unique(np.stack([s_codes, i_codes], axis=1), axis=0)
    n_dupes = len(t) - len(pairs)
    n_sessions = int(s_codes.max()) + 1
    X = sp.csr_matrix(
        (np.ones(len(pairs), dtype=np.int32), (pairs[:, 0], pairs[:, 1])),
        shape=(n_sessions, len(items)),
    )
    sizes = np.diff(X.indptr)
    return X, np.asarray(items, dtype=object), sizes, n_dupes
