"""Command render: draw a layout as a 3D view and floor plan (PNG, SVG, PDF or HTML)."""

from __future__ import annotations

import click

from shelfplan.cli.options import loans_options, main, quiet_option, setup_logging

EPILOG_RENDER = """\b
Examples:
  shelfplan render layout.json -o plan.png
  shelfplan render layout.json -o plan.pdf --view top --color-by popularity
  shelfplan render layout.json -o plan.png --edges 50 --elev 40 --azim -100
  shelfplan render layout.json -o plan.html --edges 50 --loans data/loans.csv

\b
The format follows the output's extension: .png, .svg, .pdf, or .html (a
self-contained interactive page; needs the extra: pip install "shelfplan[html]").
"""


@main.command(epilog=EPILOG_RENDER)
@click.argument("layout", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(),
              help="File to write: .png, .svg, .pdf or .html.")
@click.option("--view", type=click.Choice(["3d", "top", "both"]), default="both",
              show_default=True, help="3D view, floor plan from above, or both side by side.")
@click.option("--color-by", type=click.Choice(["category", "popularity"]), default="category",
              show_default=True, help="Colour books by category or by popularity p(i).")
@click.option("--edges", type=click.IntRange(min=0), default=0, show_default=True,
              metavar="K", help="Draw the K strongest co-borrowed pairs as lines (from --loans, "
                                "else from the pairs stored in the layout file).")
@click.option("--loans", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="Loans CSV to take the --edges pairs from ('-' for stdin).")
@click.option("--max-categories", type=click.IntRange(1, 12), default=10, show_default=True,
              help="Categories named in the legend; the rest are 'other'.")
@click.option("--elev", type=click.FloatRange(-90, 90), default=28.0, show_default=True,
              help="Camera elevation of the 3D view, degrees.")
@click.option("--azim", type=click.FloatRange(-360, 360), default=-62.0, show_default=True,
              help="Camera azimuth of the 3D view, degrees.")
@click.option("--dpi", type=click.IntRange(10, 1200), default=150, show_default=True,
              help="Resolution of PNG output (and of rasterised points in SVG/PDF).")
@loans_options
@quiet_option
def render(layout, output, view, color_by, edges, loans, max_categories, elev, azim, dpi,
           read_options, quiet):
    """Draw LAYOUT (a layout file) as a 3D view and a floor plan of the hall.

    Books are points coloured by category (or popularity) and sized by how
    often they are borrowed; the floor plan adds a popularity heat map. The
    entrance is red. Nothing is written on error.
    """
    from shelfplan.layout import read_layout
    from shelfplan.present.render import check_output, pairs_from_loans, render as render_plan

    setup_logging(quiet)
    if loans is not None and not edges:
        raise click.UsageError("--loans is only used to draw --edges K; add --edges, e.g. "
                               "--edges 50")
    check_output(output)
    plan = read_layout(layout)
    pairs = edges or None
    if loans is not None:
        from shelfplan.judge.evaluate import level_options
        pairs = pairs_from_loans(loans, edges,
                                 read_options=level_options(read_options, [plan]))
    fmt = render_plan(plan, output, view=view, color_by=color_by, edges=pairs, elev=elev,
                      azim=azim, dpi=dpi, max_categories=max_categories)
    if not quiet:
        what = (f"{plan.n:,} books" if plan.sizes is None else
                f"{plan.n:,} category blocks, {int(plan.sizes.sum()):,} books")
        click.echo(f"wrote {output} ({fmt.upper()}, {what})", err=True)
