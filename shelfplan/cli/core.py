"""Commands fit, baseline and stats."""

from __future__ import annotations

import math
import sys
import time

import click

from shelfplan.cli import (hall_option, loans_options, main, out_option, quiet_option, setup_logging,
               summary, until_option)

EPILOG_FIT = """\b
Examples:
  shelfplan fit data/loans.csv --hall data/hall.json -o layout.json
  shelfplan fit data/loans.csv --current current.json --max-moves 50 -o proposal.json
"""


@main.command(epilog=EPILOG_FIT)
@click.argument("loans", type=click.Path(dir_okay=False, allow_dash=True))
@hall_option
@out_option
@click.option("--seed", default=0, show_default=True, help="Seed for the solver's randomness.")
@click.option("--time-limit", default=50.0, show_default=True,
              help="Cap on the solver's seconds (the run is shorter when its work is done).")
@click.option("--kicks", type=click.IntRange(min=0), default=None,
              help="Kicks of the iterated search after it converges [default: until they "
                   "stop paying; 300 with --current]; more can lower S, at the cost of time.")
@click.option("--init", type=click.Choice(["auto", "popularity", "spectral"]), default="auto",
              show_default=True, help="Starting layout(s) for the solver.")
@until_option
@click.option("--current", type=click.Path(dir_okay=False),
              help="Today's layout (a layout file): propose changes to it.")
@click.option("--move-cost", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="With --current: cost added per metre a book moves (same unit as S).")
@click.option("--max-moves", type=click.IntRange(min=0), default=None,
              help="With --current: at most this many books move; the rest stay put.")
@loans_options
@quiet_option
def fit(loans, hall, output, seed, time_limit, kicks, init, until, current, move_cost,
        max_moves, read_options, quiet):
    """Fit an optimised layout for the books in LOANS (CSV, '-' for stdin).

    Estimates p(i) and p(j|i) from the loans, minimises the expected walk
    (entrance distance plus distance between books borrowed together) under
    the spacing and hall constraints, and writes a feasible layout file.
    Ctrl-C stops early and still writes the best feasible layout so far.
    """
    from shelfplan.api import fit as fit_layout
    from shelfplan.layout import check_output_path, write_layout

    if (move_cost or max_moves is not None) and not current:
        raise click.UsageError("--move-cost and --max-moves need --current LAYOUT")
    check_output_path(output)
    setup_logging(quiet)
    say = None if quiet else FitProgress()
    try:
        layout = fit_layout(loans, hall, seed=seed, time_limit=time_limit, init=init,
                            kicks=kicks, until=until, read_options=read_options,
                            current=current, move_cost=move_cost, max_moves=max_moves,
                            progress=say)
    finally:
        if say is not None:
            say.close()
    write_layout(layout, output)
    click.echo(summary(layout, output))


class FitProgress:
    """The solver's progress on stderr: its one-line messages, and on a terminal a
    status line redrawn in place (stage, best S so far, seconds left) once the run
    has taken more than ``after`` seconds. Not a terminal: the messages only."""

    def __init__(self, stream=None, after: float = 2.0, tty: bool | None = None):
        self.stream = stream or sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.tty = bool(isatty and isatty()) if tty is None else tty
        self.t0, self.after, self.width = time.monotonic(), after, 0

    def __call__(self, message: str) -> None:
        self.close()
        click.echo(message, file=self.stream)

    def status(self, stage: str, best: float, left: float) -> None:
        if not self.tty or time.monotonic() - self.t0 < self.after:
            return
        shown = f"{best:.4f}" if math.isfinite(best) else "-"
        line = f"fit: {stage} | best S={shown} | {max(0.0, left):.0f} s left"
        self.stream.write("\r" + line.ljust(self.width))
        self.stream.flush()
        self.width = len(line)

    def close(self) -> None:
        """Clear the status line."""
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0


@main.command(epilog="\b\nExample:\n  shelfplan baseline callnumber data/loans.csv "
                     "--hall data/hall.json -o current.json")
@click.argument("name", type=click.Choice(["random", "popularity", "callnumber"]))
@click.argument("loans", type=click.Path(dir_okay=False, allow_dash=True))
@hall_option
@out_option
@click.option("--seed", default=0, show_default=True, help="Seed for the random baseline.")
@until_option
@loans_options
@quiet_option
def baseline(name, loans, hall, output, seed, until, read_options, quiet):
    """Write a baseline layout: random, popularity-first, or call-number order.

    'callnumber' lays the books sorted by category along the shelving in
    serpentine order from the entrance, as libraries shelve today.
    """
    from shelfplan.api import baseline as make_baseline
    from shelfplan.layout import check_output_path, write_layout

    check_output_path(output)
    setup_logging(quiet)
    layout = make_baseline(name, loans, hall, seed=seed, until=until, read_options=read_options)
    write_layout(layout, output)
    click.echo(summary(layout, output))


@main.command(epilog="\b\nExample:\n  shelfplan stats data/loans.csv --top 10")
@click.argument("loans", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--top", default=10, show_default=True, help="How many items and pairs to list.")
@loans_options
@quiet_option
def stats(loans, top, read_options, quiet):
    """Summarise LOANS: counts, session sizes, most borrowed items, strongest pairs."""
    from shelfplan.judge.stats import loan_stats

    setup_logging(quiet)
    click.echo(loan_stats(loans, top=top, read_options=read_options))
