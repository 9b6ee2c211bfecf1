"""The command-line group and the options its commands share (defined once).

:data:`main` is the group; its :class:`_Group` turns library errors
(:class:`ShelfplanError`) into one line on stderr (parameters written as
flags, :meth:`ShelfplanError.for_cli`) and exit status 1. Command modules
(:mod:`shelfplan.cli.core`, ...) import :data:`main` and the option
decorators from here and register themselves on it.
"""


from __future__ import annotations

import functools
import logging
import sys

import click

from shelfplan import __version__
from shelfplan.cli.holdings_opts import holdings_option, holdings_reading  # noqa: F401
from shelfplan.errors import HOLDINGS_FLAGS, ParameterError, ShelfplanError, as_flags
from shelfplan.ingest.options import ReadOptions


class _Group(click.Group):
    """Turns library errors into one clear line and a non-zero exit: a bad parameter
    (:class:`ParameterError`) exits 2 like click's own usage errors, bad data 1."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ParameterError as exc:          # a value or a combination of flags
            raise click.UsageError(exc.for_cli(), ctx=None) from None
        except ShelfplanError as exc:
            raise click.ClickException(exc.for_cli()) from None
        except KeyboardInterrupt:
            click.echo("interrupted; nothing written", err=True)
            ctx.exit(130)


class _FlagFormatter(logging.Formatter):
    """Warnings name parameters as the command line's flags (as errors do), the
    holdings reader's as --holdings-col / --holdings-sheet."""

    def format(self, record) -> str:
        holdings = record.name.startswith("shelfplan.ingest.holdings")
        return as_flags(super().format(record), HOLDINGS_FLAGS if holdings else None)


def setup_logging(quiet: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_FlagFormatter("warning: %(message)s"))
    root = logging.getLogger("shelfplan")
    root.handlers[:] = [handler]
    root.setLevel(logging.ERROR if quiet else logging.WARNING)
    root.propagate = False


class _LoansNotes(logging.Handler):
    """While a command runs: the loans reader's INFO notes (column mapping, filters) go
    to stderr as ``note: ...`` (not with --quiet); its warnings go on to the
    ``shelfplan`` handler as usual."""

    def __init__(self, quiet: bool):
        super().__init__(logging.DEBUG)
        self.quiet = quiet

    def emit(self, record):
        if record.levelno < logging.WARNING:
            if not self.quiet:
                click.echo(f"note: {record.getMessage()}", err=True)
            return
        parent = logging.getLogger("shelfplan")
        if parent.isEnabledFor(record.levelno):
            parent.handle(record)


def loans_options(f):
    """The options every command that reads loans shares (defined once).

    Their values reach the command as one ``read_options``
    (:class:`shelfplan.ingest.options.ReadOptions`) for
    :func:`shelfplan.ingest.loans.read_loans`; docs/ingest.md describes them.
    """
    opts = [
        click.option("--patron-col", help="Patron column [default: found by name: patron_id, "
                                          "borrowernumber, usr, userId, ...]."),
        click.option("--item-col", help="Item column [default: found by name: item_id, "
                                        "itemnumber, barcode, target_copy, itemId, ...]."),
        click.option("--time-col", help="Checkout time column [default: found by name: "
                                        "timestamp, issuedate, xact_start, loanDate, ...]."),
        click.option("--clock-col", help="Separate time-of-day column joined to --time-col "
                                         "[default: 'Loan Time' when present]."),
        click.option("--category-col", help="Category / call-number column [default: "
                                            "category, else itemcallnumber, call_number, ...]."),
        click.option("--session-col", help="Explicit session column; overrides patron + date."),
        click.option("--type-col", help="Transaction type column: only checkouts are kept "
                                        "[default: type, op_code or action when present]."),
        click.option("--branch-col", help="Branch column, used to group loans into visits "
                                          "when there is no patron column."),
        click.option("--strict", is_flag=True,
                     help="Fail on unparsable timestamps or empty ids instead of dropping them."),
        click.option("--encoding", default=None,
                     help="Text encoding of the loans file [default: UTF-8, with or without "
                          "BOM; cp1252 with a warning when it is not UTF-8]."),
        click.option("--dayfirst/--monthfirst", "dayfirst", default=None,
                     help="Read 03/04/2024 as 3 April (--dayfirst) or 4 March (--monthfirst) "
                          "[default: from the data; an error when it stays open]."),
        click.option("--session-gap", default=None, metavar="DURATION",
                     help="A new visit after this long without a loan, e.g. 30min (across "
                          "midnight too) [default: one visit per patron and calendar date]."),
        click.option("--max-session-items", type=click.IntRange(min=0), default=None,
                     metavar="N",
                     help="Drop sessions with more than N distinct items (bulk or staff "
                          "checkouts), e.g. 50 [default: keep every session; 0 keeps all]."),
        click.option("--sheet", default=None, metavar="NAME",
                     help="The sheet of an Excel (.xlsx) loans file [default: the first]."),
        click.option("--category-from", type=click.Choice(["column", "callnumber"]),
                     default=None,
                     help="Take categories as they are, or derive classes from call numbers "
                          "[default: column; for a category layout, what it was fitted with]."),
        click.option("--scheme", type=click.Choice(["auto", "dewey", "lcc", "sudoc", "udc"]),
                     default=None,
                     help="The classification of the call numbers, for --category-from "
                          "callnumber and for shelf order [default: auto, per value]."),
        click.option("--prefix-order", default=None, metavar="REF,FOLIO,...",
                     help="Shelving prefixes (REF, FOLIO, J, OVERSIZE, +) in the order their "
                          "sequences stand; '-' places the call numbers without one "
                          "[default: none first, then the prefixes alphabetically]."),
        click.option("--category-level", type=click.IntRange(1, 3), default=None,
                     help="With --category-from callnumber: 1 class, 2 division (LCC/UDC: "
                          "class number), 3 section (Dewey) [default: 1]."),
        click.option("--level", type=click.Choice(["item", "title", "category"]),
                     default=None,
                     help="What is placed: single copies, titles (a title_id / biblionumber "
                          "column), or whole categories as blocks sized by their books "
                          "[default: item; for an existing layout (evaluate, compare, "
                          "render --loans, fit --current), its level]."),
        click.option("--title-col", help="With --level title: the title column [default: found "
                                         "by name: title_id, biblionumber, instanceId, ...]."),
        click.option("--hash-patrons", is_flag=True,
                     help="Keep a salted hash of each patron id (salt from "
                          "$SHELFPLAN_PATRON_SALT, else random) instead of dropping it."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    names = ("patron_col", "item_col", "time_col", "clock_col", "category_col", "session_col",
             "type_col", "branch_col", "strict", "encoding", "dayfirst", "session_gap",
             "max_session_items", "category_from", "scheme", "prefix_order", "category_level",
             "hash_patrons",
             "level", "title_col", "sheet")

    @functools.wraps(f)
    def wrapper(*args, **kw):
        given = {k: kw.pop(k) for k in names}
        progress = None if kw.get("quiet") else _ReadBar()
        kw["read_options"] = ReadOptions(**given, progress=progress)
        logger = logging.getLogger("shelfplan.ingest.loans")
        saved = (logger.level, logger.propagate)
        handler = _LoansNotes(bool(kw.get("quiet")))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        try:
            return f(*args, **kw)
        finally:
            logger.removeHandler(handler)
            logger.setLevel(saved[0])
            logger.propagate = saved[1]
    return wrapper


class _ReadBar:
    """A progress bar on stderr while a large loans file is read (shelfplan.ingest.loans calls
    it with bytes done and total; small files never call it)."""

    def __init__(self):
        self.bar = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=total, label="reading loans", file=sys.stderr,
                                         show_eta=True, show_percent=True, width=30)
            self.bar.__enter__()
        self.bar.update(done - self.bar.pos)
        if done >= total:
            self.bar.__exit__(None, None, None)
            self.bar = None


hall_option = click.option(
    "--hall", "hall", type=click.Path(dir_okay=False),
    help="Hall file (JSON). Default: a rectangular hall sized for the items.")
shelf_list_option = click.option(
    "--shelf-list", type=click.Path(dir_okay=False),
    help="With a hall with stacks: also write the shelf list (CSV, one row per book in "
         "shelving order) that staff shelve from.")
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
    units = f"items {layout.n}"
    if layout.level == "title":
        units = f"titles {layout.n}"
    elif layout.sizes is not None:
        units = f"category blocks {layout.n} ({int(layout.sizes.sum())} books)"
    lines = [
        f"loans {est.get('loans')}  sessions {est.get('sessions')}  {units}  "
        f"({est.get('session_rule')})",
        f"S = {o['total']:.4f} m  (entrance {o['entrance_term']:.4f} + pairs {o['pair_term']:.4f})"
        + (f"  [objective: {o['objective']}]" if o.get("objective") else ""),
        f"lower bound {lb['total']:.4f} m  S/LB = {o['total'] / lb['total']:.3f}"
        if lb.get("total") else "lower bound 0 (nothing to place)",
        _spacing_line(layout),
        _method_line(sol, output),
    ]
    cap = ("no cap on moves" if sol.get("max_moves") is None
           else f"max moves {sol['max_moves']}")
    if "carrying_m" in sol:                                    # shelving, from today
        today = sol.get("objective_today")
        lines.insert(-1, f"moved {sol['moved']} books ({cap}), carried "
                         f"{sol['carrying_m']:.1f} m"
                         + (f"; S_walk today {today:.4f} m -> proposed {o['total']:.4f} m"
                            if today is not None else ""))
    elif "moved" in sol and "move_distance" not in sol:        # shelving blocks
        today = sol.get("objective_today")
        lines.insert(-1, f"moved {sol['moved']} books ({cap})"
                         + (f"; today's S = {today:.4f} m" if today is not None else ""))
    elif "moved" in sol:
        noun = ("category blocks" if layout.sizes is not None
                else "titles" if layout.level == "title" else "books")
        lines.insert(-1, f"moved {sol['moved']} {noun}, {sol['move_distance']:.1f} m in all "
                         f"(move cost {sol.get('move_cost') or 0:g}/m, {cap})")
    return "\n".join(lines)


def _method_line(sol: dict, output: str) -> str:
    """'<method>  <seconds> s  -> <output>', leaving out what the solver did not record
    (never a ``None``); says when Ctrl-C ended the run."""
    parts = [str(sol.get("method") or "layout")]
    if sol.get("seconds") is not None:
        parts.append(f"{sol['seconds']} s")
    if sol.get("interrupted"):
        parts.append("(interrupted: the best feasible layout so far)")
    return "  ".join(parts) + f"  -> {output}"


def _spacing_line(layout) -> str:
    if layout.shelved:
        st = layout.hall.stacks
        return (f"every book in a slot: {layout.n} books, {st.n_slots} slots in "
                f"{st.n_locations} locations of {len(st.ranges)} ranges")
    if layout.n <= 1:
        return "one item"
    return f"min spacing {layout.min_spacing:.4f} m (d_min {layout.hall.d_min:g} m)"
