"""Commands signs and stack-map: what patrons read on a shelving plan (issue 12).

``signs`` writes the range-end signs (first and last call number of every
face) as a CSV or a printable PDF; ``stack-map`` writes the searchable HTML
stack map or a printable floor plan with the call-number ranges.
"""

from __future__ import annotations

import os

import click

from shelfplan.cli.options import holdings_reading, main, quiet_option, setup_logging

EPILOG_SIGNS = """\b
Examples:
  shelfplan signs plan.json -o signs.csv
  shelfplan signs plan.json -o signs.pdf --paper letter --per-page 1
"""

EPILOG_MAP = """\b
Examples:
  shelfplan stack-map plan.json -o map.html
  shelfplan stack-map plan.json -o map.html --titles data/holdings.csv
  shelfplan stack-map plan.json -o map.pdf

\b
.html is one self-contained page (no network: it works from a USB stick) with a
search box; .png, .svg and .pdf are a floor plan for printing.
"""


def _check_ext(output: str, allowed: tuple, what: str) -> None:
    ext = os.path.splitext(output)[1].lower().lstrip(".")
    if ext not in allowed:
        raise click.UsageError(f"-o/--output: {what} must end in "
                               f"{', '.join('.' + a for a in allowed)}, got "
                               f"{'.' + ext if ext else 'no extension'} ({output}); rename it")


@main.command(epilog=EPILOG_SIGNS)
@click.argument("plan", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(),
              help="File to write: .csv (one row per face) or .pdf (labels to print).")
@click.option("--paper", type=click.Choice(["a4", "letter"], case_sensitive=False),
              default="a4", show_default=True, help="Paper size of the PDF.")
@click.option("--per-page", type=click.IntRange(1, 4), default=2, show_default=True,
              help="Labels per PDF page.")
@quiet_option
def signs(plan, output, paper, per_page, quiet):
    """Range-end signs of PLAN (a shelving plan): for every face of every range, the
    first and last call number it holds in shelving order ("empty" without books).
    Nothing is written on error."""
    from shelfplan.layout import read_layout
    from shelfplan.present.signs import SIGN_FORMATS, face_signs, write_signs

    setup_logging(quiet)
    _check_ext(output, SIGN_FORMATS, "signs")
    layout = read_layout(plan)
    fmt = write_signs(layout, output, paper=paper.lower(), per_page=per_page)
    if not quiet:
        n = len(face_signs(layout))
        click.echo(f"wrote {output} ({fmt.upper()}, {n} faces)", err=True)


@main.command("stack-map", epilog=EPILOG_MAP)
@click.argument("plan", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(),
              help="File to write: .html (searchable), or .png, .svg, .pdf (to print).")
@click.option("--titles", "titles", type=click.Path(dir_okay=False, allow_dash=True),
              default=None, metavar="HOLDINGS",
              help="Holdings CSV whose title column makes titles searchable (matched by "
                   "item id) [default: the titles the plan carries, if any].")
@holdings_reading("titles", "--titles")
@quiet_option
def stack_map(plan, output, titles, quiet):
    """A stack map of PLAN (a shelving plan): the floor plan with every range's
    call-number ranges, and in HTML a search box for an item id, a call number or
    title words that highlights the range and face and says "range A-3, left
    face, section 3, shelf 2". Nothing is written on error."""
    from shelfplan.layout import read_layout
    from shelfplan.present.stackmap import MAP_FORMATS, with_titles, write_stack_map

    setup_logging(quiet)
    _check_ext(output, MAP_FORMATS + ("htm",), "a stack map")
    layout = read_layout(plan)
    if titles is not None:
        layout = with_titles(layout, titles)
    fmt = write_stack_map(layout, output)
    if not quiet:
        click.echo(f"wrote {output} ({fmt.upper()}, {layout.n:,} books)", err=True)
