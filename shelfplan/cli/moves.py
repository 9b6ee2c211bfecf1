"""Command moves: the saving-versus-moves curve from today's shelving plan (issue 20)."""

from __future__ import annotations

import json
import os

import click

from shelfplan.cli.options import (hall_option, holdings_option, loans_options, main,
                                   quiet_option, setup_logging)

EPILOG = """\b
Examples:
  shelfplan baseline callnumber data/loans.csv --hall data/stacked_hall.json \\
      --holdings data/holdings.csv -o today.json
  shelfplan moves today.json --loans data/loans.csv --holdings data/holdings.csv \\
      --budgets 25,50,100,150,300 -o curve.png
"""


@main.command(epilog=EPILOG)
@click.argument("today", type=click.Path(dir_okay=False))
@click.option("--loans", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="The loans (CSV) the plans are fitted to.")
@hall_option
@holdings_option
@click.option("--budgets", default="25,50,100,200,400", show_default=True,
              help="Comma-separated move budgets (books moved at most).")
@click.option("--keep-order", type=click.Choice(["none", "blocks"]), default="none",
              show_default=True, help="Free plans, or plans that move whole call-number runs.")
@click.option("--time-limit", default=20.0, show_default=True,
              help="Seconds per plan (one per budget, plus the plan from scratch).")
@click.option("--seed", default=0, show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Figure of the curve (.png, .svg or .pdf); a .json beside it holds the "
                   "numbers.")
@loans_options
@quiet_option
def moves(today, loans, hall, holdings, budgets, keep_order, time_limit, seed, output,
          read_options, quiet):
    """S_walk against books moved from TODAY (a shelving plan): one proposal per budget
    (fit --current TODAY --max-moves N) and the plan from scratch, printed as a table
    and plotted, so a committee can pick a budget."""
    from shelfplan.layout import atomic_write, check_output_path
    from shelfplan.moves import curve_table, moves_curve
    from shelfplan.present.moves_plot import write_moves_plot

    try:
        values = [int(b) for b in budgets.split(",") if b.strip()]
    except ValueError:
        raise click.BadParameter(f"expected whole numbers separated by commas, got "
                                 f"{budgets!r}", param_hint="--budgets") from None
    if output:
        ext = os.path.splitext(output)[1].lower()
        if ext not in (".png", ".svg", ".pdf"):
            raise click.UsageError(f"-o/--output: the figure must end in .png, .svg or .pdf, "
                                   f"got {ext or 'no extension'}")
        check_output_path(output)
    setup_logging(quiet)
    say = None if quiet else (lambda m: click.echo(m, err=True))
    curve = moves_curve(today, loans, budgets=values, hall=hall, holdings=holdings,
                        time_limit=time_limit, seed=seed, keep_order=keep_order,
                        read_options=read_options, progress=say)
    click.echo(curve_table(curve))
    if output:
        write_moves_plot(curve, output)
        atomic_write(os.path.splitext(output)[0] + ".json",
                     lambda fh: fh.write(json.dumps(curve, indent=1)))
        click.echo(f"curve -> {output}")
