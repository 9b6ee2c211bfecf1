"""Command group ``hall``: ``shelfplan hall check HALL [-o plan.png]``."""

from __future__ import annotations

import click

from shelfplan.cli.options import main, setup_logging


@main.group("hall", epilog="\b\nExample:\n  shelfplan hall check data/stacked_hall.json "
                           "-o plan.png")
def hall_group():
    """Hall files: check one and say what it holds."""


@hall_group.command("check", epilog="\b\nExample:\n  shelfplan hall check "
                                    "data/stacked_hall.json -o plan.png")
@click.argument("hall_file", metavar="HALL", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Also draw the empty floor plan (PNG, SVG or PDF, by extension).")
@click.option("-q", "--quiet", is_flag=True,
              help="Print nothing when the hall is valid (the exit status says it); errors "
                   "still go to stderr.")
def check(hall_file, output, quiet):
    """Validate HALL and print what it holds.

    With stacks: ranges, locations, slots, free-floor area and the longest walk
    from the entrance (on foot, around the ranges). Without: floor area and
    lattice sites. Errors are one line, exit status 1, nothing written.
    """
    from shelfplan.model.hall import load_hall
    from shelfplan.model.stacks import format_facts, hall_facts

    setup_logging(quiet)
    if output:
        from shelfplan.layout import check_output_path
        from shelfplan.present.hall_plan import PLAN_FORMATS
        if not output.lower().endswith(tuple("." + f for f in PLAN_FORMATS)):
            raise click.UsageError("-o/--output must end in .png, .svg or .pdf")
        check_output_path(output)
    hall = load_hall(hall_file)
    facts = hall_facts(hall)
    if output:
        from shelfplan.present.hall_plan import write_plan
        write_plan(hall, output)
    if not quiet:
        click.echo(format_facts(facts) + (f"\nplan -> {output}" if output else ""))


def _layers(values) -> dict:
    from shelfplan.ingest.dxf_hall import LAYERS

    out = {}
    for v in values:
        role, sep, name = v.partition("=")
        role = role.strip().lower()
        if not sep or not name.strip() or role not in LAYERS:
            raise click.BadParameter(f"{v!r}: write ROLE=NAME with ROLE one of "
                                     f"{', '.join(LAYERS)}, e.g. ranges=STACKS",
                                     param_hint="--layer")
        out[role] = name.strip()
    return out


@hall_group.command("import", epilog="\b\nExamples:\n  shelfplan hall import plan.dxf -o hall.json "
                                     "--plan plan.png\n  shelfplan hall import --floor G g.dxf "
                                     "--floor 1 first.dxf -o building.json\n  shelfplan hall "
                                     "import --ranges ranges.csv --shell shell.json -o hall.json")
@click.argument("dxf", metavar="[DXF]", required=False, type=click.Path(dir_okay=False))
@click.option("--floor", "floors", nargs=2, multiple=True, metavar="ID FILE",
              help="One floor of a building and its DXF plan (repeat, bottom to top).")
@click.option("--ranges", "table", type=click.Path(dir_okay=False), default=None,
              help="A ranges table (CSV or Excel): one row per range or per bank.")
@click.option("--shell", type=click.Path(dir_okay=False), default=None,
              help="With --ranges: JSON with footprint, obstacles and entrance (or a "
                   "building's floors, entrance_floor and connectors).")
@click.option("--footprint", type=click.Path(dir_okay=False), default=None,
              help="With --ranges: take footprint, obstacles and entrance from this DXF.")
@click.option("--layer", "layers", multiple=True, metavar="ROLE=NAME",
              help="Read a role from another layer: footprint, obstacles, ranges, entrance, "
                   "stairs, lifts (repeatable), e.g. --layer ranges=STACKS.")
@click.option("--section-width", type=click.FloatRange(min=0.05, max=10.0), default=0.9,
              show_default=True, help="Width of one bay (m): sections = round(length / it).")
@click.option("--shelves", type=click.IntRange(min=1, max=50), default=None,
              help="Shelves per bay of every range [default: 6, or the table's].")
@click.option("--books-per-shelf", type=click.IntRange(min=1, max=1000), default=None,
              help="Books per shelf of every range [default: 30, or the table's].")
@click.option("--units", type=click.Choice(["mm", "cm", "m", "in", "ft"]), default=None,
              help="Units of the drawing (overrides $INSUNITS) or of the table [default: "
                   "the drawing's $INSUNITS; metres for a table].")
@click.option("--entrance-floor", default=None, metavar="ID",
              help="The floor with the entrance [default: the first with one drawn].")
@click.option("--name", default=None, help="The hall's name [default: the file's].")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="The hall file to write (JSON).")
@click.option("--plan", type=click.Path(dir_okay=False), default=None,
              help="Also draw the imported hall (PNG, SVG or PDF), as hall check -o.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def import_(dxf, floors, table, shell, footprint, layers, section_width, shelves,
            books_per_shelf, units, entrance_floor, name, output, plan, quiet):
    """Make a hall file from a DXF floor plan (or one per floor) or a ranges table.

    \b
    DXF layers: FOOTPRINT (closed polyline), OBSTACLES (closed polylines),
    RANGES (closed rectangles, a text inside names the range), ENTRANCE
    (a point, block or circle), STAIRS and LIFTS (points; the same place
    on two floors is one connector). Units from $INSUNITS. A rectangle
    thinner than 0.45 m is a single-faced range facing the wider aisle.
    Says what each layer held; writes nothing when the hall is invalid.
    """
    from shelfplan.layout import check_output_path
    from shelfplan.model.hall_import import import_hall, write_hall_file
    from shelfplan.model.stacks import format_facts, hall_facts

    if (shell or footprint) and not table:
        raise click.UsageError("--shell and --footprint go with --ranges TABLE")
    if shell and footprint:
        raise click.UsageError("give --shell or --footprint, not both")
    if plan:
        from shelfplan.present.hall_plan import PLAN_FORMATS
        if not plan.lower().endswith(tuple("." + f for f in PLAN_FORMATS)):
            raise click.UsageError("--plan must end in .png, .svg or .pdf")
        check_output_path(plan)
    check_output_path(output)
    shelving = {k: v for k, v in (("shelves", shelves), ("books_per_shelf", books_per_shelf))
                if v is not None}
    data, hall, reports = import_hall(
        dxf=dxf, floors=tuple(floors), table=table, shell=shell, footprint=footprint,
        layers=_layers(layers), section_width=section_width, shelving=shelving,
        units=units, name=name, entrance_floor=entrance_floor)
    write_hall_file(data, output)
    if plan:
        from shelfplan.present.hall_plan import write_plan
        write_plan(hall, plan)
    if not quiet:
        for line in reports:
            click.echo(line, err=True)
        click.echo(format_facts(hall_facts(hall)))
        click.echo(f"hall -> {output}" + (f"\nplan -> {plan}" if plan else
                                           f"\ncheck it: shelfplan hall check {output} -o "
                                           f"plan.png"))
