"""A plain-text summary of a loans file (``shelfplan stats``)."""

from __future__ import annotations

import numpy as np

from shelfplan.model.estimate import estimate, session_size_histogram
from shelfplan.ingest.loans import Loans, read_loans


def loan_stats(loans, top: int = 10, read_options: dict | None = None) -> str:
    """Counts, the session-size histogram, top items and top co-borrowed pairs."""
    if not isinstance(loans, Loans):
        loans = read_loans(loans, **(read_options or {}))
    est = estimate(loans)
    s = est.summary
    lines = [
        f"source          {s['source']}",
        f"loans           {s['loans']}  (rows read {s['rows_read']}, duplicates "
        f"{s['duplicate_loans']}"
        + "".join(f", dropped {v} ({k})" for k, v in s["dropped_rows"].items()) + ")",
        f"patrons         {s['patrons'] if s['patrons'] is not None else 'n/a (no patron column used)'}",
        f"sessions        {s['sessions']}  ({s['session_rule']})",
        f"items           {s['items']}",
        f"co-borrowed     {s['co_borrowed_pairs']} pairs, "
        f"{s['multi_item_sessions']} sessions with 2+ items",
        "",
        "session size    sessions",
    ]
    hist = session_size_histogram(loans)
    width = 40
    big = hist.max() if len(hist) else 1
    for k, count in hist.items():
        if k >= 1:
            bar = "#" * max(1, int(round(width * count / big)))
            lines.append(f"{k:>12}    {count:>8}  {bar}")
    lines += ["", f"most borrowed (top {top})", f"{'item':<20} {'sessions':>8} {'p':>8}  category"]
    order = np.lexsort((est.items.astype(str), -est.counts))[:top]
    for i in order:
        cat = est.categories[i] if est.categories is not None else None
        lines.append(f"{str(est.items[i]):<20} {est.counts[i]:>8} {est.p[i]:>8.4f}  {cat or ''}")
    pairs = est.top_pairs(top)
    lines += ["", f"strongest co-borrowed pairs (top {top})",
              f"{'item':<20} {'item':<20} {'sessions':>8} {'p(i,j)+p(j,i)':>14}"]
    if pairs.empty:
        lines.append("(none: no session has two different items)")
    for r in pairs.itertuples():
        lines.append(f"{str(r.item_a):<20} {str(r.item_b):<20} {r.sessions:>8} {r.p_pair:>14.5f}")
    return "\n".join(lines)
