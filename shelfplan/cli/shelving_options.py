"""The shelving options of fit and baseline (issue 20), defined once: growth space
(MODEL.md 8.7) and the shift plan's carts (8.8). They reach the command as one
``shelving`` (:class:`shelfplan.solve.fill.ShelvingOptions`)."""

from __future__ import annotations

import functools

import click

__all__ = ["shelving_options", "fill_option", "write_shift"]

_FILL = [
    click.option("--fill", default=None, metavar="F",
                 help="Growth space on a hall with stacks: books fill at most this share of "
                      "each location (free plans) or of each class's stretch (--keep-order "
                      "blocks), 0 < F <= 1, e.g. 0.85 [default: 1, no room kept]."),
    click.option("--fill-table", type=click.Path(dir_okay=False), default=None, metavar="CSV",
                 help="A fill per category: a CSV with the columns category,fill (classes it "
                      "does not list take --fill)."),
]
_MORE = [
    click.option("--growth-years", type=click.FloatRange(min=0, min_open=True), default=None,
                 metavar="N",
                 help="Each class's fill from its additions per year (the holdings' "
                      "date_added / dateaccessioned / created column): room for N years of "
                      "growth."),
    click.option("--carts", type=click.IntRange(min=0), default=1, show_default=True,
                 help="With --shift-plan: book carts the crew has."),
    click.option("--cart-capacity", type=click.IntRange(min=0), default=60, show_default=True,
                 help="With --shift-plan: books one cart holds."),
    click.option("--crew-sheet", type=click.Path(dir_okay=False), default=None,
                 help="With --shift-plan: also write a printable crew sheet (HTML: step, "
                      "from, to, books, first and last call number)."),
]


def _wrap(f, opts, names):
    for opt in reversed(opts):
        f = opt(f)

    @functools.wraps(f)
    def wrapper(*args, **kw):
        from shelfplan.solve.fill import ShelvingOptions

        given = {k: kw.pop(k) for k in names}
        kw["shelving"] = ShelvingOptions(shift_plan=kw.get("shift_plan"), **given)
        return f(*args, **kw)
    return wrapper


def shelving_options(f):
    """--fill, --fill-table, --growth-years, --carts, --cart-capacity, --crew-sheet."""
    return _wrap(f, _FILL + _MORE, ("fill", "fill_table", "growth_years", "carts",
                                    "cart_capacity", "crew_sheet"))


def fill_option(f):
    """--fill and --fill-table (baseline callnumber: today's order with that room)."""
    return _wrap(f, _FILL, ("fill", "fill_table"))


def write_shift(today, plan, shelving) -> str:
    """The shift plan from TODAY to ``plan`` (CSV, and the crew sheet when asked); the
    line to print. Nothing is written when it cannot be ordered."""
    from shelfplan.judge.shift import shift_plan, write_shift_csv
    from shelfplan.layout import read_layout

    today = today if not isinstance(today, str) else read_layout(today)
    shift = shift_plan(today, plan, carts=shelving.carts, cart_capacity=shelving.cart_capacity)
    if shelving.crew_sheet:
        from shelfplan.present.crew_sheet import write_crew_sheet
        write_crew_sheet(shift, shelving.crew_sheet)
    write_shift_csv(shift, shelving.shift_plan)
    sheet = f", crew sheet -> {shelving.crew_sheet}" if shelving.crew_sheet else ""
    return (f"shift plan -> {shelving.shift_plan}: {shift.books_moved} books in "
            f"{shift.trips} trips ({shelving.carts} carts of {shelving.cart_capacity}){sheet}")
