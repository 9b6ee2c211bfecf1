"""What every solver keeps while it runs: the best feasible layout so far.

:class:`Record` is offered candidates (a layout and how it was made), keeps the
best feasible one, one history row per candidate and why the run stopped
(``stopped_by``: ``done``, ``time limit`` or ``interrupted``). Its
:meth:`Record.stage` turns Ctrl-C during a stage into "keep the best so far".
:func:`as_rng` is the one place a ``seed`` (int or ``numpy.random.Generator``)
becomes a generator.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from shelfplan.errors import LayoutError, ShelfplanError

#: seconds between two progress ticks
TICK = 0.25


@dataclass
class SolveResult:
    """What every solver returns: the plan, its cost and the solver's record.

    ``plan`` is ``(n, 3)`` positions for a free-space layout (``kind
    "positions"``), each book's location for a shelving plan (``"locations"``)
    or each book's slot in the shelving order (``"sequence"``).
    """

    plan: np.ndarray
    cost: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)
    interrupted: bool = False
    kind: str = "positions"

    @property
    def positions(self) -> np.ndarray:
        if self.kind != "positions":
            raise AttributeError(f"a {self.kind} plan has no positions")
        return self.plan


def as_rng(seed) -> np.random.Generator:
    """A generator for ``seed``: an int seeds a fresh one (the same stream every call),
    a ``numpy.random.Generator`` is used as it is (one stream shared by the stages)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return np.random.default_rng(int(seed))
    raise ShelfplanError(f"seed must be an int >= 0 or a numpy.random.Generator, got {seed!r}")


def seed_info(seed):
    """The seed as a layout file records it (None for a generator)."""
    return int(seed) if isinstance(seed, (int, np.integer)) else None


class StopAt:
    """An optimiser callback that ends the run at ``deadline`` (``time.monotonic``);
    ``tick()`` is called every iteration (a progress display)."""

    def __init__(self, deadline: float, tick=None):
        self.deadline = deadline
        self.tick = tick

    def __call__(self, xk):
        if self.tick is not None:
            self.tick()
        if time.monotonic() > self.deadline:
            raise StopIteration


class Record:
    """Best-so-far bookkeeping of one solver run, until ``deadline`` (``time.monotonic()``).

    ``objective(X)`` and ``feasible(X)`` judge a candidate; ``say`` receives one-line
    progress messages (every candidate, or with ``only_best`` only the improvements
    and the dropped ones); ``label`` names the objective in them. When ``say`` has
    a ``status(stage, best, seconds_left)`` method, :meth:`tick` calls it (a
    progress display; at most every ``TICK`` seconds). With ``keep`` the
    feasible candidates are kept by name in :attr:`kept`.
    """

    def __init__(self, objective, feasible, *, deadline: float, say=None, label: str = "S",
                 only_best: bool = False, keep: bool = False):
        self.objective, self.feasible = objective, feasible
        self.t0 = time.monotonic()
        self.deadline = float(deadline)
        self.say = say or (lambda msg: None)
        self.label, self.only_best, self.keep = label, only_best, keep
        self.F, self.X, self.how = np.inf, None, None
        self.history: list = []
        self.kept: dict = {}
        self.stopped_by = "done"
        self.interrupted = False
        self.status = getattr(say, "status", None)
        self._ticked = -np.inf

    def offer(self, X, how: str, why: str = "no room") -> float | None:
        """Judge candidate ``X`` (None: a construction that failed, for ``why``)."""
        if X is None:
            self.history.append({"candidate": how, "objective": None, "feasible": False,
                                 "dropped": why})
            self.say(f"{how}: {why} (dropped)")
            return None
        F = self.objective(X)
        ok = bool(self.feasible(X))
        self.history.append({"candidate": how, "objective": F, "feasible": ok,
                             "t": round(time.monotonic() - self.t0, 2)})
        if ok and self.keep:
            self.kept[how] = X.copy()
        better = ok and F < self.F
        if better:
            self.F, self.X, self.how = F, X.copy(), how
        if not ok:
            self.say(f"{how}: {self.label}={F:.4f} (not feasible, dropped)")
        elif not self.only_best:
            self.say(f"{how}: {self.label}={F:.4f}")
        elif better:
            self.say(f"{how}: {self.label}={F:.4f} (best so far)")
        return F

    def tick(self, stage: str) -> None:
        """Show ``stage``, the best objective so far and the time left (rate-limited)."""
        now = time.monotonic()
        if self.status is not None and now - self._ticked >= TICK:
            self._ticked = now
            self.status(stage, self.F, self.deadline - now)

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def time_up(self) -> bool:
        """True past the deadline (and ``stopped_by`` says so)."""
        if time.monotonic() > self.deadline:
            if not self.interrupted:
                self.stopped_by = "time limit"
            return True
        return False

    @contextmanager
    def stage(self, on_interrupt=None):
        """Run a block of stages; Ctrl-C ends it and the best so far is kept."""
        try:
            yield self
        except KeyboardInterrupt:
            self.interrupted = True
            self.stopped_by = "interrupted"
            if on_interrupt is not None:
                on_interrupt()
            self.say("interrupted: keeping the best feasible layout so far")

    def best(self, failure: str) -> np.ndarray:
        """The best feasible layout; :class:`LayoutError` (``failure``) when there is none."""
        if self.X is None:
            raise LayoutError(failure)
        return self.X
