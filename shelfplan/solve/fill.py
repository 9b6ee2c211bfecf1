"""Growth space on the shelves (MODEL.md 8.7): fill ratios as exact fractions.

A fill ``f`` (0 < f <= 1) is kept as a :class:`fractions.Fraction` (0.85 is
17/20), so that 21 books at 0.7 need exactly 30 slots. :class:`ShelvingOptions`
carries every shelving option of ``fit`` (fill, fill table, growth years, the
shift plan and its carts) through the layers as one object.

* free plans: a location holds at most ``floor(f * capacity)`` books, or with a
  per-category table books with ``sum 1 / f_c(i) <= capacity``
  (:func:`location_room`, :func:`book_weights`);
* plans that keep call-number blocks: category c's stretch holds at least
  ``ceil(n_c / f_c)`` slots (:func:`block_need`).
"""

from __future__ import annotations

import csv
import logging
import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from shelfplan.errors import HallError, LayoutError

log = logging.getLogger(__name__)

__all__ = ["ShelvingOptions", "as_fill", "read_fill_table", "FillRule", "location_room",
           "block_need", "book_weights", "missing_slots_error"]


@dataclass(frozen=True)
class ShelvingOptions:
    """The shelving options of ``fit`` (one object through cli -> api -> shelf).

    ``fill`` (a number in (0, 1]), ``fill_table`` (a CSV path ``category,fill`` or a
    dict), ``growth_years`` (derive each class's fill from its additions per year in
    the holdings), ``move_cost`` (metres of walking saved per metre carried),
    ``shift_plan`` (a CSV path), ``carts`` and ``cart_capacity`` (its carts),
    ``crew_sheet`` (an HTML path).
    """

    fill: float | str | Fraction | None = None
    fill_table: object = None
    growth_years: float | None = None
    shift_plan: str | None = None
    carts: int = 0
    cart_capacity: int = 0
    crew_sheet: str | None = None

    @property
    def has_fill(self) -> bool:
        return (self.fill is not None and as_fill(self.fill) != 1) or \
            self.fill_table is not None or self.growth_years is not None


def as_fill(value, what: str = "`fill`") -> Fraction:
    """A fill ratio as an exact fraction; outside (0, 1] is an error."""
    try:
        f = value if isinstance(value, Fraction) else Fraction(str(value).strip())
    except (ValueError, ZeroDivisionError):
        raise LayoutError(f"{what} must be a number in (0, 1], got {value!r}") from None
    if not 0 < f <= 1:
        raise LayoutError(f"{what} must be in (0, 1] (a share of each shelf's slots that "
                          f"books may fill), got {value}")
    return f


def read_fill_table(source) -> dict:
    """``category,fill`` rows (a CSV path or a dict) -> {category: Fraction}."""
    if isinstance(source, dict):
        return {str(k): as_fill(v, f"the fill of {k!r}") for k, v in source.items()}
    try:
        with open(source, newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except OSError as exc:
        raise LayoutError(f"{source}: cannot read the fill table ({exc.strerror}); give a CSV "
                          f"with the columns category,fill") from None
    if not rows or [c.strip().lower() for c in rows[0][:2]] != ["category", "fill"]:
        raise LayoutError(f"{source}: the fill table needs the header category,fill")
    out = {}
    for k, row in enumerate(rows[1:], start=2):
        if not row or not "".join(row).strip():
            continue
        if len(row) < 2:
            raise LayoutError(f"{source}, line {k}: expected category,fill, got {row!r}")
        cat = row[0].strip()
        if cat in out:
            raise LayoutError(f"{source}, line {k}: category {cat!r} is listed twice")
        out[cat] = as_fill(row[1], f"{source}, line {k}: the fill of {cat!r}")
    return out


@dataclass
class FillRule:
    """The fill of every book of a plan: ``default`` and per-category ``table``."""

    default: Fraction = Fraction(1)
    table: dict = field(default_factory=dict)

    @classmethod
    def build(cls, fill=None, table=None, categories=None, source="the fill table"):
        rule = cls(as_fill(fill) if fill is not None else Fraction(1),
                   read_fill_table(table) if table is not None else {})
        if categories is not None and rule.table:
            known = {str(c) for c in categories if c is not None}
            unknown = sorted(set(rule.table) - known)
            if unknown:
                log.warning("%s names %d categories the books do not have (e.g. %r); their "
                            "fill plays no part", source, len(unknown), unknown[0])
        return rule

    @property
    def trivial(self) -> bool:
        return self.default == 1 and all(f == 1 for f in self.table.values())

    @property
    def uniform(self) -> bool:
        return all(f == self.default for f in self.table.values())

    def of(self, category) -> Fraction:
        return self.table.get(None if category is None else str(category), self.default)

    def per_book(self, categories, n: int) -> list:
        if categories is None:
            return [self.default] * n
        return [self.of(c) for c in categories]

    def record(self) -> dict:
        """For the layout's solver record (exact, as strings)."""
        return {"default": str(self.default),
                "table": {k: str(v) for k, v in sorted(self.table.items())}}


def location_room(capacity: np.ndarray, f: Fraction) -> np.ndarray:
    """``floor(f * capacity)`` per location, exactly."""
    return np.array([(int(c) * f.numerator) // f.denominator for c in capacity],
                    dtype=np.int64)


def block_need(sizes: np.ndarray, fills: list) -> np.ndarray:
    """``ceil(n_c / f_c)`` slots per block, exactly."""
    return np.array([-((-int(n) * f.denominator) // f.numerator) for n, f in zip(sizes, fills)],
                    dtype=np.int64)


def book_weights(fills: list) -> tuple[np.ndarray, int]:
    """Integer weights ``scale / f`` per book and the ``scale`` (a location of capacity
    c holds books of total weight <= c * scale)."""
    nums = {f.numerator for f in fills} or {1}
    scale = math.lcm(*nums)
    w = np.array([f.denominator * (scale // f.numerator) for f in fills], dtype=np.int64)
    return w, scale


def missing_slots_error(hall_name: str, need: int, have: int, what: str) -> HallError:
    return HallError(f"{hall_name}: {what} need {need} slots but the stacks hold {have}; "
                     f"{need - have} slots are missing: raise the fill (--fill, --fill-table) "
                     f"or add ranges, sections or shelves to the hall file")


def growth_table(items, categories, recent, window_years: float, years: float,
                 sizes: dict | None = None) -> dict:
    """Each category's fill from its additions per year: a category of ``n_c`` books
    that gained ``a_c`` books a year (``recent``: books added in the last
    ``window_years``, a boolean per item) gets ``f_c = n_c / (n_c + ceil(a_c * years))``,
    so its stretch has room for ``years`` more years of growth."""
    cats = ["\uffff" if c is None else str(c) for c in categories]
    n, added = {}, {}
    for c, r in zip(cats, recent):
        n[c] = n.get(c, 0) + 1
        added[c] = added.get(c, 0) + bool(r)
    out = {}
    for c, nc in n.items():
        grow = math.ceil(Fraction(added[c]) / Fraction(window_years).limit_denominator(1000)
                         * Fraction(years).limit_denominator(1000))
        f = Fraction(nc, nc + grow)
        out[None if c == "\uffff" else c] = f
    return out
