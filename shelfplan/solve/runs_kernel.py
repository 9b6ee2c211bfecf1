"""Compiled cost of a block order (numba): S_walk when call-number blocks follow each
other along the shelving order in a given order.

Block ``order[q]`` is the q-th run; its books take the slots after the runs
before it, in call-number order (``rank`` is a book's place inside its block),
so book i stands in slot ``start[block[i]] + rank[i]`` and location
``slot_loc[...]``. Only the books that cost anything (``books``) are priced.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from shelfplan.solve.gaps_kernel import cost_at_starts


@njit(cache=True)
def starts(order, sizes, lead):
    """First slot of each block for the block order, ``lead`` free slots before the
    first run (the other free slots follow the last run)."""
    start = np.empty(len(sizes), dtype=np.int64)
    s = lead
    for q in range(len(order)):
        b = order[q]
        start[b] = s
        s += sizes[b]
    return start


@njit(cache=True)
def order_cost(order, sizes, lead, books, block, rank, slot_loc, D, p, indptr, indices, data,
               fixed_loc):
    """S_walk of the plan given by the block order (each pair counted once); books
    outside every block (``block`` -1) stand at ``fixed_loc``."""
    return cost_at_starts(starts(order, sizes, lead), books, block, rank, slot_loc, D, p,
                          indptr, indices, data, fixed_loc)
