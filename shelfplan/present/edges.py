"""Co-borrowed pairs drawn as lines: where they come from, which books they join."""

from __future__ import annotations

import logging
import math

import numpy as np

from shelfplan.layout import Layout
from shelfplan.present.style import RenderError

log = logging.getLogger(__name__)


def pairs_from_loans(loans, k: int, *, read_options: dict | None = None) -> list:
    """The ``k`` strongest co-borrowed pairs in ``loans`` as ``[(id_a, id_b, p_pair)]``.

    ``loans`` is a path, ``-`` or a :class:`shelfplan.ingest.loans.Loans`.
    """
    from shelfplan.model.estimate import estimate
    from shelfplan.ingest.loans import Loans, read_loans

    if not isinstance(loans, Loans):
        loans = read_loans(loans, **(read_options or {}))
    top = estimate(loans).top_pairs(int(k))
    return list(zip(top["item_a"], top["item_b"], top["p_pair"]))


def _is_count(edges) -> bool:
    return isinstance(edges, (int, np.integer)) and not isinstance(edges, bool)


def _stored_pairs(layout: Layout, k: int) -> list:
    """The ``k`` strongest pairs stored in the layout file."""
    if k < 0:
        raise RenderError(f"edges must be a number of pairs >= 0, got {k}")
    if not layout.pairs:
        raise RenderError("the layout has no stored co-borrowed pairs to draw as edges; "
                          "pass the loans file (--loans LOANS) or re-create the layout "
                          "with this shelfplan's fit or baseline")
    try:
        return [(str(a), str(b), float(w)) for a, b, w in list(layout.pairs)[:int(k)]]
    except (TypeError, ValueError):
        raise RenderError("the layout's stored pairs are not [id_a, id_b, weight] "
                          "triples; pass the loans file (--loans LOANS)") from None


def _given_pairs(edges) -> list:
    try:
        pairs = [(str(a), str(b), float(w)) for a, b, w in edges]
    except (TypeError, ValueError):
        raise RenderError("edges must be a number of pairs or a list of (id_a, id_b, "
                          "weight)") from None
    if not pairs:
        raise RenderError("no co-borrowed pairs to draw as edges: the loans have no "
                          "session with two or more books")
    return pairs


def resolve_edges(layout: Layout, edges) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Edges as item indices ``(ia, ib, weight)``.

    ``edges`` is ``None`` or ``0`` (no edges), an int ``k`` (the ``k`` strongest
    pairs stored in the layout file) or a list of ``(id_a, id_b, weight)``
    (e.g. from :func:`pairs_from_loans`). Pairs naming items that are not in
    the layout are left out.
    """
    if edges is None or (_is_count(edges) and edges == 0):
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int), np.zeros(0)
    pairs = _stored_pairs(layout, edges) if _is_count(edges) else _given_pairs(edges)
    index = layout.index()
    ia, ib, w = [], [], []
    for a, b, wt in pairs:
        i, j = index.get(str(a)), index.get(str(b))
        if i is not None and j is not None:
            ia.append(i)
            ib.append(j)
            w.append(float(wt))
    if not ia:
        raise RenderError(f"none of the {len(pairs)} co-borrowed pairs names a book of this "
                          f"layout; pass the loans the layout was made from")
    if len(ia) < len(pairs):
        log.warning("%d of %d pairs name books that are not in the layout; drawing the other %d",
                    len(pairs) - len(ia), len(pairs), len(ia))
    return np.array(ia), np.array(ib), np.nan_to_num(np.array(w))


def edge_widths(w: np.ndarray) -> np.ndarray:
    """Line widths (pt) by pair strength, thinner when many pairs are drawn."""
    top = w.max() if w.size and w.max() > 0 else 1.0
    return (0.4 + 2.0 * w / top) * min(1.0, math.sqrt(50.0 / max(len(w), 1)))
