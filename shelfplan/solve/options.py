"""How to fit: :class:`FitOptions`, every option of ``fit`` in one validated object.

The constraints of each option are declared once, in :data:`CONSTRAINTS` (the
way scikit-learn declares ``_parameter_constraints``), and checked once, when
the object is made: a bad value raises :class:`~shelfplan.errors.ParameterError`
naming the parameter (the CLI writes it as its flag). The object is frozen and
passed down whole, from the command line or :func:`shelfplan.fit` to the
search engine; nothing below re-reads keyword lists.

Time: one absolute ``deadline`` (``time.monotonic()``), made from ``started``
(when the command or call started: reading the loans and loading the solver's
kernels come out of the limit) and ``time_limit``:

* ``time_limit=None`` (the default): the search stops by itself when it
  converges (adaptive stops), and at :data:`DEFAULT_TIME_LIMIT` seconds at most;
* ``time_limit=T``: the search uses the time it is given, improving until the
  deadline, unless it reaches a documented optimality signal first (S equal
  to the certified lower bound, or a problem too small to improve).
"""

from __future__ import annotations

import datetime
import numbers
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from shelfplan.errors import ParameterError
from shelfplan.ingest.options import coerce_options
from shelfplan.model.shrink import Generalise
from shelfplan.model.visit_weights import Objective
from shelfplan.solve.fill import ShelvingOptions

__all__ = ["FitOptions", "Anchor", "CONSTRAINTS", "DEFAULT_TIME_LIMIT", "Interval", "OneOf"]

#: seconds at most when no time limit is given (the search stops when it converges)
DEFAULT_TIME_LIMIT = 50.0
#: seconds of the limit kept back from the search for the bound and writing the layout
RESERVE = 1.0


@dataclass(frozen=True)
class Interval:
    """A number in a range: ``kind`` int or real; ``low``/``high`` None for unbounded;
    ``open_low``: the low end excluded."""

    kind: str
    low: float | None = None
    high: float | None = None
    open_low: bool = False

    def accepts(self, v) -> bool:
        if isinstance(v, bool):
            return False
        if self.kind == "int":
            if not isinstance(v, numbers.Integral):
                return False
        elif not isinstance(v, numbers.Real) or not np.isfinite(v):
            return False
        if self.low is not None and (v < self.low or (self.open_low and v == self.low)):
            return False
        return self.high is None or v <= self.high

    def __str__(self) -> str:
        what = "an integer" if self.kind == "int" else "a number"
        if self.low is not None and self.high is not None:
            return f"{what} in {'(' if self.open_low else '['}{self.low:g}, {self.high:g}]"
        if self.low is not None:
            return f"{what} {'>' if self.open_low else '>='} {self.low:g}"
        return what


@dataclass(frozen=True)
class OneOf:
    """One of a few strings."""

    values: tuple

    def accepts(self, v) -> bool:
        return isinstance(v, str) and v in self.values

    def __str__(self) -> str:
        return "one of " + ", ".join(self.values)


class _Type:
    def __init__(self, types, name):
        self.types, self.name = types, name

    def accepts(self, v) -> bool:
        return isinstance(v, self.types) and not (self.types is not bool and isinstance(v, bool)
                                                  and bool not in self.types)

    def __str__(self) -> str:
        return self.name


_NONE = _Type(type(None), "None")
_GEN = _Type((np.random.Generator,), "a numpy.random.Generator")

#: every option's allowed values (any one of the list), declared once
CONSTRAINTS: dict[str, list] = {
    "seed": [Interval("int", 0), _GEN],
    "time_limit": [_NONE, Interval("real", 0, open_low=True)],
    "init": [OneOf(("auto", "popularity", "spectral"))],
    "kicks": [_NONE, Interval("int", 0)],
    "method": [OneOf(("constrained", "sne", "tsne", "skipgram"))],
    "until": [_NONE, _Type((str, datetime.date, np.datetime64), "a date such as 2024-01-31")],
    "move_cost": [Interval("real", 0)],
    "max_moves": [_NONE, Interval("int", 0)],
    "generalise": [_NONE, _Type((Generalise,), "a Generalise")],
    "tune": [_Type((bool,), "True or False")],
    "tune_time": [Interval("real", 0, open_low=True)],
    "tune_folds": [Interval("int", 1)],
    "keep_order": [OneOf(("none", "blocks"))],
    "display": [_NONE, _Type((Mapping,), "a mapping {'books': N, 'ranges': [...]}")],
    "progress": [_NONE, _Type((Callable,), "a callable")],
    "started": [_NONE, Interval("real")],
    "converge": [_NONE, _Type((bool,), "True or False")],
    "objective": [_Type((Objective,), "walk or visits")],
    "shelving": [_NONE, _Type((ShelvingOptions,), "a ShelvingOptions (growth space, shift plan)")],
}


@dataclass(frozen=True)
class FitOptions:
    """Every option of ``fit`` (docs/cli.md); see the module docstring for the time.

    ``generalise`` may be given as a dict (:class:`~shelfplan.model.shrink.Generalise`
    fields); ``display`` as ``{"books": N, "ranges": [...]}``; ``started`` defaults to
    the moment the options are made. ``converge``: True, the search stops when it
    converges and the limit only caps it; False, it uses the whole limit; None (the
    default), True without a ``time_limit`` and False with one. ``objective``: ``walk``
    (S_walk, MODEL.md 8.4) or ``visits`` (:mod:`shelfplan.model.visit_weights`), or an
    :class:`~shelfplan.model.visit_weights.Objective`. ``shelving``: growth space and the
    shift plan's carts (:class:`~shelfplan.solve.fill.ShelvingOptions`, MODEL.md 8.7-8.8).
    """

    seed: object = 0
    time_limit: float | None = None
    init: str = "auto"
    kicks: int | None = None
    method: str = "constrained"
    until: object = None
    move_cost: float = 0.0
    max_moves: int | None = None
    generalise: Generalise | None = None
    tune: bool = False
    tune_time: float = 10.0
    tune_folds: int = 2
    keep_order: str = "none"
    display: Mapping | None = None
    progress: Callable | None = None
    started: float | None = None
    converge: bool | None = None
    objective: object = "walk"
    shelving: object = None

    def __post_init__(self):
        object.__setattr__(self, "objective", Objective.coerce(self.objective))
        if self.generalise is not None and not isinstance(self.generalise, Generalise):
            object.__setattr__(self, "generalise", Generalise.coerce(self.generalise))
        if isinstance(self.seed, np.integer):
            object.__setattr__(self, "seed", int(self.seed))
        for name, allowed in CONSTRAINTS.items():
            value = getattr(self, name)
            if not any(c.accepts(value) for c in allowed):
                kinds = " or ".join(str(c) for c in allowed if c is not _NONE)
                none = " (or not given)" if _NONE in allowed else ""
                raise ParameterError(f"`{name}` must be {kinds}{none}, got {value!r}")
        if self.display is not None and self.keep_order != "blocks":
            raise ParameterError("`display_books` and `display_ranges` (a display zone) go with "
                                 "`keep_order` blocks: the rest of the books stay in blocks")
        if self.started is None:
            object.__setattr__(self, "started", time.monotonic())

    # -- construction ------------------------------------------------------------
    @classmethod
    def coerce(cls, obj=None, **overrides) -> FitOptions:
        """``obj`` (None, a dict or FitOptions) with ``overrides`` on top; an unknown
        name is an error that names it."""
        return coerce_options(cls, obj, overrides, ParameterError, "fit")

    def replace(self, **changes) -> FitOptions:
        """A copy with ``changes`` (validated again)."""
        return FitOptions.coerce(self, **changes)

    # -- time --------------------------------------------------------------------
    @property
    def use_all_time(self) -> bool:
        """True when the search improves until the deadline (a time limit was given and
        ``converge`` is not True)."""
        return not self.converge if self.converge is not None else self.time_limit is not None

    @property
    def limit(self) -> float:
        """The seconds of the whole call (the given limit, or the default cap)."""
        return DEFAULT_TIME_LIMIT if self.time_limit is None else float(self.time_limit)

    @property
    def deadline(self) -> float:
        """The absolute deadline (``time.monotonic()``) of the whole call."""
        return self.started + self.limit

    @property
    def search_deadline(self) -> float:
        """When the search must stop: :attr:`deadline` less :data:`RESERVE`, but at
        least a second after now."""
        return max(self.deadline - RESERVE, time.monotonic() + 1.0)

    def left(self) -> float:
        """Seconds left until :attr:`deadline`."""
        return self.deadline - time.monotonic()

    def restarted(self) -> FitOptions:
        """The same options with the clock started now (after a separate stage, such as
        ``tune``, that has its own budget)."""
        return self.replace(started=time.monotonic())

    def record(self) -> dict:
        """The options as a layout file's solver record shows them."""
        return {"time_limit": self.time_limit,
                "time_use": "until the deadline" if self.use_all_time else
                            f"until converged (at most {self.limit:g} s)"}


@dataclass(frozen=True)
class Anchor:
    """Today's positions of an incremental proposal (NaN rows: no spot today), with the
    cost per metre a unit moves and the budget of units moved (None: no budget)."""

    positions: np.ndarray | None = None
    move_cost: float = 0.0
    max_moves: int | None = None
