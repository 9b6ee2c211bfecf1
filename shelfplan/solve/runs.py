"""Call-number blocks on the shelves (MODEL.md 8.5): the order of the runs.

Each category is one contiguous run of the shelving order, its books in
call-number order; the plan is then fixed by the order of the K runs and by
where the free slots go (``lead`` free slots before the first run, the rest
after the last). :func:`solve_runs` searches that order: a quadratic
assignment over K blocks of different lengths, by swaps of two blocks,
insertions of a block elsewhere and reversals of a stretch of blocks, plus
shifts of the lead, each priced by the exact S_walk of the resulting plan
(:func:`shelfplan.solve.runs_kernel.order_cost`, compiled), first
improvement, from the better of today's order and a class-based (COI) order;
random reversals kick it once it converges, kept only when they pay.
"""

from __future__ import annotations

import time

import numpy as np

from shelfplan.model.shelving import ShelfProblem, cost_label
from shelfplan.solve import runs_kernel as kernel
from shelfplan.solve.engine import drive
from shelfplan.solve.record import Record, as_rng, seed_info
from shelfplan.solve.shelving import active_books

__all__ = ["Runs", "runs_of", "solve_runs", "coi_order", "plan_from_order"]


class Runs:
    """Books grouped into call-number blocks: ``block`` (n,) block of each book,
    ``rank`` (n,) its place in the block's call-number order, ``sizes`` (K,),
    ``names`` (K,), blocks numbered in call-number order of their first book."""

    def __init__(self, problem: ShelfProblem, categories, outside=None):
        cats = np.array(["\uffff(none)" if c is None else str(c) for c in categories],
                        dtype=object) if categories is not None else \
            np.full(problem.n, "\uffff(none)", dtype=object)
        inside = np.ones(problem.n, dtype=bool)
        if outside is not None:
            inside[outside] = False                 # books of a display zone: no block
        self.inside = inside
        key = problem.order_key[inside]
        names, inv = np.unique(cats[inside], return_inverse=True)
        first = np.full(len(names), np.iinfo(np.int64).max)
        np.minimum.at(first, inv, key)
        by_call = np.argsort(first, kind="stable")
        relabel = np.empty(len(names), dtype=np.int64)
        relabel[by_call] = np.arange(len(names))
        block = relabel[inv]
        self.names = np.array([None if str(x).startswith("\uffff") else x
                               for x in names[by_call]], dtype=object)
        self.sizes = np.bincount(block, minlength=len(names)).astype(np.int64)
        order = np.lexsort((key, block))
        start = np.concatenate([[0], np.cumsum(self.sizes)[:-1]])
        rank = np.empty(len(block), dtype=np.int64)
        rank[order] = np.arange(len(block)) - start[block[order]]
        self.block = np.full(problem.n, -1, dtype=np.int64)
        self.rank = np.full(problem.n, -1, dtype=np.int64)
        self.block[inside], self.rank[inside] = block, rank

    @property
    def K(self) -> int:
        return len(self.sizes)


def runs_of(problem: ShelfProblem) -> Runs:
    return Runs(problem, problem.categories)


class _Pricer:
    """Exact S_walk of (order, lead) for one problem, compiled."""

    def __init__(self, problem: ShelfProblem, blocks: Runs, zone=None, fixed_loc=None):
        self.blocks = blocks
        all_loc = np.repeat(np.arange(problem.m), problem.capacity).astype(np.int64)
        keep = np.ones(len(all_loc), dtype=bool) if zone is None else ~np.isin(all_loc, zone)
        self.slot_index = np.nonzero(keep)[0]         # the runs' slots, in shelving order
        self.slot_loc = all_loc[keep]
        self._free = int(len(self.slot_loc) - blocks.inside.sum())
        self.fixed_loc = (np.full(problem.n, -1, dtype=np.int64) if fixed_loc is None
                          else np.asarray(fixed_loc, dtype=np.int64))
        W = problem.symmetric_weights()
        W.sort_indices()
        self.W, self.D, self.p = W, np.ascontiguousarray(problem.D), problem.p
        self.books = active_books(problem).astype(np.int64)
        self.evals = 0

    @property
    def free(self) -> int:
        """Free slots of the runs' stretch of shelving (the lead may take any of them)."""
        return self._free

    def __call__(self, order: np.ndarray, lead: int) -> float:
        self.evals += 1
        b, W = self.blocks, self.W
        return kernel.order_cost(np.asarray(order, dtype=np.int64), b.sizes, int(lead),
                                 self.books, b.block, b.rank, self.slot_loc, self.D, self.p,
                                 W.indptr, W.indices, W.data, self.fixed_loc)

    def sequence(self, order: np.ndarray, lead: int) -> np.ndarray:
        """Each block book's slot in the whole shelving order (0-based; -1 for books
        outside the blocks) for (order, lead)."""
        b = self.blocks
        start = kernel.starts(np.asarray(order, dtype=np.int64), b.sizes, int(lead))
        out = np.full(len(b.block), -1, dtype=np.int64)
        out[b.inside] = self.slot_index[start[b.block[b.inside]] + b.rank[b.inside]]
        return out

    def locations(self, order: np.ndarray, lead: int) -> np.ndarray:
        """Location of every block book for (order, lead) (the fixed ones elsewhere)."""
        seq = self.sequence(order, lead)
        loc = self.fixed_loc.copy()
        loc[seq >= 0] = self.slot_loc_all[seq[seq >= 0]]
        return loc

    @property
    def slot_loc_all(self) -> np.ndarray:
        out = np.empty(self.slot_index.max() + 1 if len(self.slot_index) else 0,
                       dtype=np.int64)
        out[self.slot_index] = self.slot_loc
        return out


def coi_order(problem: ShelfProblem, blocks: Runs, pricer: _Pricer) -> tuple[np.ndarray, int]:
    """Class-based storage by COI: blocks by loans per book, the densest laid at the point
    of the shelving order nearest the entrance, the next ones on alternate sides."""
    inside = blocks.inside
    mass = np.bincount(blocks.block[inside], weights=problem.p[inside], minlength=blocks.K)
    dense = np.argsort(-mass / blocks.sizes, kind="stable")
    left, right = [], []
    for k, b in enumerate(dense[1:]):
        (right if k % 2 == 0 else left).append(b)
    order = np.array(left[::-1] + [dense[0]] + right, dtype=np.int64)
    d = problem.D[0, pricer.slot_loc + 1]
    target = int(np.argmin(d))
    before = int(blocks.sizes[left].sum()) + int(blocks.sizes[dense[0]]) // 2
    lead = int(np.clip(target - before, 0, pricer.free))
    return order, lead


def _moves(K: int, q: int, rng, width: int):
    """Candidate moves of the block at position q: ('swap'|'insert'|'reverse', t)."""
    if K <= width:
        ts = np.arange(K)
    else:
        ts = np.unique(np.concatenate([rng.choice(K, width, replace=False),
                                       np.clip(q + np.arange(-3, 4), 0, K - 1)]))
    ts = ts[ts != q]
    for t in ts:
        yield "swap", int(t)
        yield "insert", int(t)
        if abs(int(t) - q) > 1:
            yield "reverse", int(t)


def _apply(order: np.ndarray, kind: str, q: int, t: int) -> np.ndarray:
    new = order.copy()
    if kind == "swap":
        new[q], new[t] = order[t], order[q]
    elif kind == "insert":
        b = order[q]
        rest = np.delete(order, q)
        new = np.insert(rest, t, b)
    else:
        a, z = min(q, t), max(q, t)
        new[a:z + 1] = order[a:z + 1][::-1]
    return new


def order_pass(pricer, order, extra, S, rng, deadline, width=48, allowed=None):
    """One pass of first-improvement block moves (each block in random order takes the
    first swap, insertion or reversal that lowers the exact S_walk, the free slots
    ``extra`` kept); ``(order, S, improved, out of time)``."""
    K = len(order)
    improved = False
    for b in rng.permutation(K):
        q = int(np.nonzero(order == b)[0][0])
        for kind, t in _moves(K, q, rng, width):
            new = _apply(order, kind, q, t)
            c = pricer(new, extra)
            if c < S - 1e-12 * max(1.0, S) and (allowed is None or allowed(new, extra)):
                order, S, improved = new, c, True
                break
        if time.monotonic() > deadline:
            return order, S, improved, True
    return order, S, improved, False


def _descend(pricer: _Pricer, order, lead, S, rng, deadline, width=48, allowed=None,
             shift_lead: bool = True):
    """First-improvement descent over block swaps, insertions and reversals (and shifts
    of the lead when ``shift_lead``); ``allowed(order, lead)`` may refuse a plan (a
    move budget)."""
    improved = True
    while improved and time.monotonic() < deadline:
        order, S, improved, out = order_pass(pricer, order, lead, S, rng, deadline, width,
                                             allowed)
        if out:
            return order, lead, S
        if not shift_lead:
            continue
        for step in (1, 5, 30, 150, 750):
            for cand in (lead - step, lead + step):
                if 0 <= cand <= pricer.free:
                    c = pricer(order, cand)
                    if c < S - 1e-12 * max(1.0, S) and (allowed is None
                                                        or allowed(order, cand)):
                        lead, S, improved = cand, c, True
    return order, lead, S


class RunMoves:
    """The call-number runs' moves for the engine (:func:`shelfplan.solve.engine.drive`):
    the state is a block order and where the free slots stand (``extra``: the lead
    before the first run, or with growth space the slack before each run,
    :mod:`shelfplan.solve.gaps`). ``settle``: the family's descent (``descend(order,
    extra, S, deadline)``: block swaps, insertions and reversals, each priced by the
    exact S_walk, and the free slots placed), then kicks (a random stretch of blocks
    reversed, descent, kept only when better) until ``patience`` in a row fail;
    ``restart``: one more kick from the best. ``allowed(order, extra)`` may refuse
    plans (a move budget)."""

    def __init__(self, pricer, order, extra, rng, descend, *, patience: int = 50,
                 allowed=None):
        self.pricer, self.rng, self.descend = pricer, rng, descend
        self.patience, self.allowed = patience, allowed
        self.order = np.asarray(order, dtype=np.int64).copy()
        self.extra = extra.copy() if isinstance(extra, np.ndarray) else int(extra)
        self.S = pricer(self.order, self.extra)
        self.kicks = 0

    def settle(self, deadline: float) -> None:
        self.order, self.extra, self.S = self.descend(self.order, self.extra, self.S, deadline)
        failed = 0
        while failed < self.patience and len(self.order) > 3 and time.monotonic() < deadline:
            failed = 0 if self._kick(deadline) else failed + 1

    def restart(self, rng, deadline: float, round_: int) -> None:
        if len(self.order) > 3:
            self._kick(deadline)

    def _kick(self, deadline: float) -> bool:
        self.kicks += 1
        a, z = sorted(self.rng.choice(len(self.order), 2, replace=False))
        kicked = self.order.copy()
        kicked[a:z + 1] = kicked[a:z + 1][::-1]
        if self.allowed is not None and not self.allowed(kicked, self.extra):
            return False
        o2, e2, S2 = self.descend(kicked, self.extra, self.pricer(kicked, self.extra),
                                  deadline)
        if S2 < self.S - 1e-12 * max(1.0, self.S):
            self.order, self.extra, self.S = o2, e2, S2
            return True
        return False

    def cost(self) -> float:
        return self.S

    def plan(self) -> np.ndarray:
        return np.concatenate([self.order, np.atleast_1d(self.extra)]).astype(np.int64)


def solve_runs(problem: ShelfProblem, blocks: Runs, options, deadline: float, *,
               patience: int = 50, zone=None, fixed_loc=None):
    """The block order of lowest S_walk found by ``deadline`` (``options``: ``seed``,
    ``progress``, the time use); ``(seq, order, lead, info)`` with ``seq`` every block
    book's slot in the shelving order. ``zone`` (locations) is left to the books
    outside the blocks, which stand at ``fixed_loc``."""
    pricer = _Pricer(problem, blocks, zone, fixed_loc)
    rng = as_rng(options.seed)
    # a candidate is the block order with the lead appended
    record = Record(lambda x: pricer(x[:-1], x[-1]), lambda x: True, deadline=deadline,
                    say=options.progress, label=cost_label(problem))
    pack = lambda order, lead: np.append(order, lead).astype(np.int64)  # noqa: E731
    moves, engine = None, {}
    with record.stage():
        record.offer(pack(np.arange(blocks.K), 0), "call-number order")
        record.offer(pack(*coi_order(problem, blocks, pricer)), "class-based storage (COI)")
        best = record.best("internal: no block order")
        descend = lambda o, ld, S, dl: _descend(pricer, o, ld, S, rng, dl)  # noqa: E731
        moves = RunMoves(pricer, best[:-1], int(best[-1]), rng, descend, patience=patience)
        engine = drive(moves, record, options, how="block search + kicks", seed=rng,
                       movable=blocks.K > 1, tick=lambda: record.tick("restarts from the best"))
    record.time_up()
    best = record.best("internal: no block order")
    order, lead = best[:-1], int(best[-1])
    info = {"method": "shelving: call-number blocks", "seed": seed_info(options.seed),
            "blocks": int(blocks.K), "block_order": [None if blocks.names[b] is None
                                                     else str(blocks.names[b]) for b in order],
            "lead_free_slots": int(lead), "evaluations": int(pricer.evals),
            "kicks": 0 if moves is None else moves.kicks, "stopped_by": record.stopped_by,
            "history": record.history, "engine": engine, **options.record(),
            "seconds": round(time.monotonic() - record.t0, 3)}
    return pricer.sequence(order, lead), order, lead, info


def plan_from_order(problem: ShelfProblem, blocks: Runs, order, lead: int = 0) -> np.ndarray:
    """Every book's slot in the shelving order for a block order (baselines, tests)."""
    return _Pricer(problem, blocks).sequence(np.asarray(order, dtype=np.int64), int(lead))
