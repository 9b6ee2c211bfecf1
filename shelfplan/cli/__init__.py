"""The command line: a thin Click layer over :mod:`shelfplan.api`.

Only the ``shelfplan.cli`` package imports click. This module holds the
group and the shared options; each command module registers its commands
on :data:`main` (``core``: fit, baseline, stats). Library errors (:class:`ShelfplanError`)
become one-line messages with exit status 1; nothing is written on error.
"""

from __future__ import annotations

import functools
import logging
import sys

import click

from .. import __version__
from ..errors import ShelfplanError


class _Group(click.Group):
    """Turns library errors into one clear line and a non-zero exit."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ShelfplanError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            click.echo("interrupted; nothing written", err=True)
            ctx.exit(130)


def setup_logging(quiet: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("warning: %(message)s"))
    root = logging.getLogger("shelfplan")
    root.handlers[:] = [handler]
    root.setLevel(logging.ERROR if quiet else logging.WARNING)
    root.propagate = False


def loans_options(f):
    """The options every command that reads loans shares (defined once)."""
    opts = [
        click.option("--patron-col", help="Patron column [default: patron_id]."),
        click.option("--item-col", help="Item column [default: item_id]."),
        click.option("--time-col", help="Checkout time column [default: timestamp]."),
        click.option("--category-col", help="Category / call-number column [default: category]."),
        click.option("--session-col", help="Explicit session column; overrides patron + date."),
        click.option("--strict", is_flag=True,
                     help="Fail on unparsable timestamps or empty ids instead of dropping them."),
        click.option("--encoding", default="utf-8", show_default=True,
                     help="Text encoding of the loans file."),
    ]
    for opt in reversed(opts):
        f = opt(f)

    @functools.wraps(f)
    def wrapper(*args, **kw):
        kw["read_options"] = {
            "patron_col": kw.pop("patron_col"), "item_col": kw.pop("item_col"),
            "time_col": kw.pop("time_col"), "category_col": kw.pop("category_col"),
            "session_col": kw.pop("session_col"), "strict": kw.pop("strict"),
            "encoding": kw.pop("encoding"),
        }
        return f(*args, **kw)
    return wrapper


hall_option = click.option(
    "--hall", "hall", type=click.Path(dir_okay=False),
    help="Hall file (JSON). Default: a rectangular hall sized for the items.")
out_option = click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
                          help="Layout file to write (JSON).")
quiet_option = click.option("-q", "--quiet", is_flag=True, help="No progress or warnings on stderr.")
until_option = click.option("--until", type=click.DateTime(), default=None,
                            help="Use only loans before this date (held-out evaluation).")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]},
             epilog="\b\nExample:\n  shelfplan fit data/loans.csv --hall data/hall.json -o layout.json")
@click.version_option(__version__, prog_name="shelfplan")
def main():
    """Place library books so that visits are short walks.

    Reads circulation (loan) records, learns which books are borrowed
    together, and proposes a position for every book in the hall.
    """


def summary(layout, output: str) -> str:
    o, lb = layout.objective, layout.lower_bound
    est, sol = layout.estimation, layout.solver
    lines = [
        f"loans {est.get('loans')}  sessions {est.get('sessions')}  items {layout.n}  "
        f"({est.get('session_rule')})",
        f"S = {o['total']:.4f} m  (entrance {o['entrance_term']:.4f} + pairs {o['pair_term']:.4f})",
        f"lower bound {lb['total']:.4f} m  S/LB = {o['total'] / lb['total']:.3f}"
        if lb.get("total") else "lower bound 0 (nothing to place)",
        f"min spacing {layout.min_spacing:.4f} m (d_min {layout.hall.d_min:g} m)"
        if layout.n > 1 else "one item",
        f"{sol.get('method')}  {sol.get('seconds')} s  -> {output}",
    ]
    if "moved" in sol:
        lines.insert(-1, f"moved {sol['moved']} books, {sol['move_distance']:.1f} m in all "
                         f"(move cost {sol['move_cost']:g}/m, max moves {sol['max_moves']})")
    return "\n".join(lines)


from . import core, evaluate, render  # noqa: E402,F401  (register the commands)
