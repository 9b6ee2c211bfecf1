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
