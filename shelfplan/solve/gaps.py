"""Call-number blocks with room between them (MODEL.md 8.5 and 8.7).

Each block b is one run of the shelving order needing ``need[b]`` slots (its
``n_b`` books, or ``ceil(n_b / f_b)`` with a fill); the ``E`` slots no run needs
may stand before any run (``x[q]`` extra free slots before run q, the rest
after the last run). A plan is (order of the runs, x). The search:

* order moves (swaps, insertions, reversals of blocks, :mod:`shelfplan.solve.runs`)
  with the slack kept by position, each priced by the exact S_walk (compiled);
* the slack placed by dynamic programming for a fixed order: with the runs in
  a fixed order, run q's cost depends only on how much slack comes before it
  (its entrance term and its inner pairs exactly; its pairs with other runs
  with those where they stand now), and the slack before the runs is
  nondecreasing along the order, so a DP over (run, slack used so far) on a grid
  of slack values places it; the result is kept only when the exact S_walk,
  recomputed, is lower;
* random reversals of a stretch of blocks as kicks, kept only when they pay.

Starts: call-number order (slack at the end) and class-based storage (COI).
"""

from __future__ import annotations

import time

import numpy as np

from shelfplan.errors import HallError
from shelfplan.model.shelving import ShelfProblem, cost_label
from shelfplan.solve import gaps_kernel as kernel
from shelfplan.solve.engine import drive
from shelfplan.solve.record import Record, as_rng, seed_info
from shelfplan.solve.runs import RunMoves, Runs, _Pricer, coi_order, order_pass

__all__ = ["GapPricer", "solve_gapped_runs", "GRID"]

#: slack values the dynamic programme considers per run (plus today's)
GRID = 256


class GapPricer(_Pricer):
    """Exact S_walk of (order, x) and the slack DP for one problem (the runs' slots,
    weights and books as :class:`~shelfplan.solve.runs._Pricer`'s)."""

    def __init__(self, problem: ShelfProblem, blocks: Runs, need=None, zone=None,
                 fixed_loc=None):
        super().__init__(problem, blocks, zone, fixed_loc)
        self.need = (blocks.sizes.copy() if need is None
                     else np.asarray(need, dtype=np.int64))
        self.E = int(len(self.slot_loc) - self.need.sum())
        if self.E < 0:
            raise HallError(f"{problem.hall.name}: the call-number blocks need "
                            f"{int(self.need.sum())} slots but the shelving "
                            f"{'outside the display zone ' if zone is not None else ''}"
                            f"holds {len(self.slot_loc)}; {-self.E} slots are missing: raise "
                            f"the fill (--fill, --fill-table) or add ranges, sections or "
                            f"shelves to the hall file")
        inb = self.books[blocks.block[self.books] >= 0]
        inb = inb[np.argsort(blocks.block[inb], kind="stable")]
        self.members = inb
        self.ptr = np.concatenate([[0], np.cumsum(np.bincount(blocks.block[inb],
                                                              minlength=blocks.K))])

    @property
    def free(self) -> int:
        return self.E

    def x_end(self, lead: int = 0) -> np.ndarray:
        x = np.zeros(self.blocks.K + 1, dtype=np.int64)
        x[0] = lead
        x[-1] = self.E - lead
        return x

    def starts(self, order, x) -> np.ndarray:
        return kernel.starts_of(np.asarray(order, dtype=np.int64), self.need,
                                np.asarray(x, dtype=np.int64))

    def __call__(self, order, x) -> float:
        self.evals += 1
        b, W = self.blocks, self.W
        return kernel.cost_at_starts(self.starts(order, x), self.books, b.block, b.rank,
                                     self.slot_loc, self.D, self.p, W.indptr, W.indices,
                                     W.data, self.fixed_loc)

    def place_slack(self, order, x, grid_size: int = GRID) -> np.ndarray:
        """The DP's slack (x) for ``order``, from the runs' current starts."""
        order = np.asarray(order, dtype=np.int64)
        used = np.cumsum(x[:-1])
        grid = np.unique(np.concatenate([np.linspace(0, self.E, min(grid_size, self.E + 1))
                                         .round().astype(np.int64), used]))
        b, W = self.blocks, self.W
        C = kernel.run_cost_table(order, self.need, grid, self.starts(order, x), self.ptr,
                                  self.members, b.block, b.rank, self.slot_loc, self.D, self.p,
                                  W.indptr, W.indices, W.data, self.fixed_loc)
        _, pick = kernel.place_slack(C, grid)
        u = grid[pick]
        new = np.empty(len(x), dtype=np.int64)
        new[0] = u[0]
        new[1:-1] = np.diff(u)
        new[-1] = self.E - u[-1]
        return new

    def sequence(self, order, x) -> np.ndarray:
        """Each block book's slot in the whole shelving order (-1 outside the blocks)."""
        b = self.blocks
        start = self.starts(order, x)
        out = np.full(len(b.block), -1, dtype=np.int64)
        out[b.inside] = self.slot_index[start[b.block[b.inside]] + b.rank[b.inside]]
        return out


def _better(c: float, S: float) -> bool:
    return c < S - 1e-12 * max(1.0, abs(S))


def _slack(pricer: GapPricer, order, x, S, deadline, rounds: int = 4):
    """The DP's slack, repeated while the exact S_walk drops."""
    for _ in range(rounds):
        if time.monotonic() > deadline or pricer.E == 0:
            break
        nx = pricer.place_slack(order, x)
        c = pricer(order, nx)
        if not _better(c, S):
            break
        x, S = nx, c
    return x, S


def _descend(pricer: GapPricer, order, x, S, rng, deadline, width: int = 48):
    """First-improvement order moves (slack kept by position), then the slack DP, until
    neither pays."""
    while time.monotonic() < deadline:
        order, S, improved, out = order_pass(pricer, order, x, S, rng, deadline, width)
        if out:
            return order, x, S
        x2, S2 = _slack(pricer, order, x, S, deadline)
        if _better(S2, S):
            x, S, improved = x2, S2, True
        if not improved:
            break
    return order, x, S


def solve_gapped_runs(problem: ShelfProblem, blocks: Runs, need, options, deadline: float, *,
                      patience: int = 50, zone=None, fixed_loc=None):
    """The block order and slack of lowest S_walk found by ``deadline``, on the engine
    (:class:`~shelfplan.solve.runs.RunMoves` with the slack DP as its descent;
    ``options``: ``seed``, ``progress``, the time use): ``(seq, order, x, info)`` with
    ``seq`` every block book's slot in the shelving order and ``x`` the extra free slots
    before each run (``x[-1]`` after the last)."""
    pricer = GapPricer(problem, blocks, need, zone, fixed_loc)
    rng = as_rng(options.seed)
    K = blocks.K
    record = Record(lambda v: pricer(v[:K], v[K:]), lambda v: True, deadline=deadline,
                    say=options.progress, label=cost_label(problem))
    pack = lambda order, x: np.concatenate([order, x]).astype(np.int64)  # noqa: E731
    moves, engine = None, {}
    with record.stage():
        record.offer(pack(np.arange(K), pricer.x_end(0)), "call-number order")
        coi, lead = coi_order(problem, blocks, pricer)
        record.offer(pack(coi, pricer.x_end(int(np.clip(lead, 0, pricer.E)))),
                     "class-based storage (COI)")
        best = record.best("internal: no block order")
        descend = lambda o, x, S, dl: _descend(pricer, o, x, S, rng, dl)  # noqa: E731
        moves = RunMoves(pricer, best[:K], best[K:], rng, descend, patience=patience)
        engine = drive(moves, record, options, how="block search + slack DP + kicks", seed=rng,
                       movable=K > 1, tick=lambda: record.tick("restarts from the best"))
    record.time_up()
    best = record.best("internal: no block order")
    order, x = best[:K], best[K:]
    info = {"method": "shelving: call-number blocks", "seed": seed_info(options.seed),
            "blocks": int(K), "block_order": [None if blocks.names[b] is None
                                              else str(blocks.names[b]) for b in order],
            "lead_free_slots": int(x[0]), "free_slots_between_runs": int(x[1:-1].sum()),
            "free_slots_after_last_run": int(x[-1]),
            "growth_slots": int((pricer.need - blocks.sizes).sum()),
            "evaluations": int(pricer.evals), "kicks": 0 if moves is None else moves.kicks,
            "stopped_by": record.stopped_by, "history": record.history, "engine": engine,
            **options.record(), "seconds": round(time.monotonic() - record.t0, 3)}
    return pricer.sequence(order, x), order, x, info
