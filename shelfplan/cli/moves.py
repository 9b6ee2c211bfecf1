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
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=20.0,
              show_default=True,
              help="Seconds per plan (one per budget, plus the plan from scratch).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
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


@main.command("shift-plan", epilog="""\b
Example:
  shelfplan shift-plan today.json plan.json -o shift.csv --carts 2 --cart-capacity 40 \\
      --crew-sheet crew.html
""")
@click.argument("today", type=click.Path(dir_okay=False))
@click.argument("plan", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="The shift plan to write (CSV, one row per book movement).")
@click.option("--carts", type=click.IntRange(min=0), default=1, show_default=True,
              help="Book carts the crew has.")
@click.option("--cart-capacity", type=click.IntRange(min=0), default=60, show_default=True,
              help="Books one cart holds.")
@click.option("--crew-sheet", type=click.Path(dir_okay=False), default=None,
              help="Also write the printable crew sheet (HTML).")
@quiet_option
def shift_plan(today, plan, output, carts, cart_capacity, crew_sheet, quiet):
    """The shift plan from TODAY to PLAN (two shelving plans of the same hall and books,
    e.g. a plan from scratch): the per-book CSV of MODEL.md 8.8, executable from TODAY
    with the carts given, rows grouped into trips, and the crew sheet."""
    from shelfplan.cli.shelving_options import write_shift
    from shelfplan.layout import check_output_path, read_layout
    from shelfplan.solve.fill import ShelvingOptions

    for path in (output, crew_sheet):
        if path:
            check_output_path(path)
    setup_logging(quiet)
    opts = ShelvingOptions(shift_plan=output, carts=carts, cart_capacity=cart_capacity,
                           crew_sheet=crew_sheet)
    click.echo(write_shift(read_layout(today), read_layout(plan), opts))
