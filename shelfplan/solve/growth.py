"""Shelving plans with growth space (MODEL.md 8.7): the fill rule of a run, free plans
and today's call-number order with room.

:func:`fill_rule` turns :class:`~shelfplan.solve.fill.ShelvingOptions` (``fill``,
``fill_table``, ``growth_years``) into one :class:`~shelfplan.solve.fill.FillRule`
over the categories the plan is made with.
"""

from __future__ import annotations

import logging

import numpy as np

from shelfplan.errors import LayoutError
from shelfplan.solve.fill import FillRule, ShelvingOptions, growth_table

log = logging.getLogger(__name__)

__all__ = ["fill_rule", "callnumber_with_room"]


def fill_rule(options: ShelvingOptions | None, problem, categories, holdings=None):
    """The fill of every category for this plan, or None (no growth space asked)."""
    if options is None or not options.has_fill:
        return None
    table = options.fill_table
    if options.growth_years is not None:
        if table is not None:
            raise LayoutError("give `growth_years` or `fill_table`, not both")
        table = _growth(options.growth_years, problem, categories, holdings)
    cats = categories if categories is not None else [None] * problem.n
    rule = FillRule.build(options.fill, table, cats)
    return None if rule.trivial else rule


def _growth(years, problem, categories, holdings) -> dict:
    if not years > 0:
        raise LayoutError(f"`growth_years` must be more than 0, got {years}")
    if holdings is None or not isinstance(holdings, str):
        raise LayoutError("`growth_years` reads the acquisition dates of the holdings file; "
                          "give `holdings` as a file with a date_added (or dateaccessioned, "
                          "created, ...) column")
    from shelfplan.ingest.acquisitions import acquired_per_year, read_acquisitions

    dates = read_acquisitions(holdings)
    dates = dates.reindex([str(i) for i in problem.items])
    recent, window = acquired_per_year(dates)
    table = growth_table(problem.items, categories if categories is not None
                         else [None] * problem.n, recent.to_numpy(), window, years)
    log.info("growth space for %s years from the additions of the last %.1f years", years,
             window)
    return table


def callnumber_with_room(problem, rule: FillRule) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Today's call-number order with room (``baseline callnumber --fill``): ``(seq,
    None)`` with each category's stretch ``ceil(n_c / f_c)`` slots, one after the
    other from the first slot (MODEL.md 8.7); without categories ``(None, loc)`` with
    ``floor(f * capacity)`` books per location, in call-number order."""
    from shelfplan.solve.fill import block_need
    from shelfplan.solve.gaps import GapPricer
    from shelfplan.solve.room import with_room
    from shelfplan.solve.runs import Runs
    from shelfplan.solve.shelving import fill_rest

    if problem.categories is None:
        capped = with_room(problem, rule)
        return None, fill_rest(np.full(problem.n, -1), capped)
    blocks = Runs(problem, problem.categories)
    pricer = GapPricer(problem, blocks, block_need(blocks.sizes,
                                                   [rule.of(c) for c in blocks.names]))
    return pricer.sequence(np.arange(blocks.K), pricer.x_end(0)), None
