"""Commands evaluate, compare, import-positions, report.

Each command is one library call (:mod:`shelfplan.judge.evaluate`,
:mod:`shelfplan.judge.compare`, :mod:`shelfplan.ingest.positions`,
:mod:`shelfplan.present.report`) plus formatting.
"""

from __future__ import annotations

import json

import click

from shelfplan.cli.options import loans_options, main, quiet_option, setup_logging, until_option

since_option = click.option("--since", type=click.DateTime(), default=None,
                            help="Use only loans on or after this date (held-out evaluation: "
                                 "the date given to fit --until).")
json_option = click.option("--json", "as_json", is_flag=True,
                           help="Print machine-readable JSON instead of the table.")
loans_required = click.option("--loans", "loans", required=True,
                              type=click.Path(dir_okay=False, allow_dash=True),
                              help="Loans CSV to judge the layouts on ('-' for stdin).")
different_halls_option = click.option(
    "--allow-different-halls", is_flag=True,
    help="Compare layouts made for different halls (refused by default).")
move_tol_option = click.option(
    "--move-tol", default=1e-3, show_default=True, type=click.FloatRange(min=0.0),
    help="A book counts as moved when its position changes by more than this (metres).")
in_sample_option = click.option(
    "--in-sample", is_flag=True,
    help="Judge on all the loans, those the layouts were fitted on included (the figures "
         "before held-out judging became the default).")
holdout_option = click.option(
    "--holdout", type=click.FloatRange(min=0.0, max=1.0, min_open=True, max_open=True),
    default=0.2, show_default=True,
    help="Without --since/--until: share of the loans' period that is judged when no "
         "layout records its fit period (fit --until).")
top_option = click.option("--top", default=5, show_default=True, type=click.IntRange(min=0),
                          help="How many books that gain / lose the most walking to list.")


def _dump(data) -> None:
    click.echo(json.dumps(data, indent=1, allow_nan=False))


@main.command(epilog="""\b
Examples:
  shelfplan evaluate layout.json data/loans.csv
  shelfplan fit data/loans.csv --until 2025-01-01 -o past.json
  shelfplan evaluate past.json data/loans.csv --since 2025-01-01 --json
""")
@click.argument("layout", type=click.Path(dir_okay=False))
@click.argument("loans", type=click.Path(dir_okay=False, allow_dash=True))
@since_option
@until_option
@json_option
@loans_options
@quiet_option
def evaluate(layout, loans, since, until, as_json, read_options, quiet):
    """Walking cost of LAYOUT on the visits in LOANS.

    Reports first the mean, median and 90th percentile of a visit's walk
    (entrance, the visit's books nearest-first, back to the entrance; MODEL.md
    8.10), then the walking cost S with its entrance and pair terms and S /
    lower bound, p(i) and p(i,j) re-estimated from LOANS (only the books the
    layout places; loans of other books are counted and left out), and the
    feasibility checks.
    """
    from shelfplan.judge.evaluate import evaluate as run
    from shelfplan.present.report import evaluation_text

    setup_logging(quiet)
    ev = run(layout, loans, since=since, until=until, read_options=read_options)
    if as_json:
        _dump(ev.to_dict())
    else:
        click.echo(evaluation_text(ev))


@main.command(epilog="""\b
Examples:
  shelfplan compare current.json proposed.json --loans data/loans.csv
  shelfplan compare current.json a.json b.json --loans data/loans.csv \\
      --since 2025-01-01 -o compare.png
""")
@click.argument("current", type=click.Path(dir_okay=False))
@click.argument("proposed", type=click.Path(dir_okay=False))
@click.argument("more", nargs=-1, type=click.Path(dir_okay=False))
@loans_required
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Also write a figure (PNG): floor plans side by side, moves as arrows.")
@since_option
@until_option
@json_option
@in_sample_option
@holdout_option
@different_halls_option
@move_tol_option
@top_option
@loans_options
@quiet_option
def compare(current, proposed, more, loans, output, since, until, as_json, in_sample, holdout,
            allow_different_halls, move_tol, top, read_options, quiet):
    """Compare CURRENT with PROPOSED (and MORE) layouts on the same loans.

    For each layout: the figures of 'evaluate' and their change against
    CURRENT in %, how many books move and how far (total, 90th percentile),
    and the books whose walking grows or shrinks the most. All layouts are
    judged on the loans of books that every layout places.

    Held out by default: when the loans have dates and no --since/--until
    is given, only the loans since the layouts' fit period ends (fit --until)
    are judged, else the last --holdout of the period; a layout fitted on
    those loans is labelled in sample, and the figures on all loans follow.
    """
    from shelfplan.judge.compare import compare as run

    setup_logging(quiet)
    cmp = run([current, proposed, *more], loans, since=since, until=until,
              read_options=read_options, allow_different_halls=allow_different_halls,
              move_tolerance=move_tol, top=top, in_sample=in_sample, holdout=holdout)
    if output:
        from shelfplan.present.report import compare_figure, save_png
        save_png(compare_figure(cmp), output)
    if as_json:
        _dump(cmp.to_dict())
    else:
        from shelfplan.present.report import comparison_text
        click.echo(comparison_text(cmp))
        if output and not quiet:
            click.echo(f"figure -> {output}", err=True)


@main.command("import-positions", epilog="""\b
Examples:
  shelfplan import-positions shelves.csv --hall data/hall.json -o current.json
  shelfplan import-positions shelves.csv --hall data/hall.json \\
      --loans data/loans.csv -o current.json
""")
@click.argument("csv", type=click.Path(dir_okay=False))
@click.option("--hall", "hall", required=True, type=click.Path(dir_okay=False),
              help="Hall file (JSON) the coordinates refer to.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Layout file to write (JSON).")
@click.option("--loans", "loans", type=click.Path(dir_okay=False, allow_dash=True),
              help="Loans CSV to fill p(i), the walking cost and the lower bound.")
@since_option
@until_option
@loans_options
@quiet_option
def import_positions(csv, hall, output, loans, since, until, read_options, quiet):
    """Turn today's shelving, a CSV with columns item_id,x,y,z (metres), into a
    layout file.

    Books listed twice (the first row is kept), books outside the hall and
    books closer than d_min are warnings, not errors: real shelves are not
    perfect. Without --loans every p(i) is 0 and the file has no walking cost;
    'evaluate' and 'compare' re-estimate p from their own loans anyway.
    """
    from shelfplan.layout import write_layout
    from shelfplan.judge.current import import_positions as run

    setup_logging(quiet)
    if loans is None and (since or until):
        raise click.UsageError("--since/--until need --loans")
    layout, warnings = run(csv, hall, loans=loans, since=since, until=until,
                           read_options=read_options)
    write_layout(layout, output)
    checks = layout.solver["checks"]
    line = (f"{layout.n} books -> {output}  ("
            + ("feasible" if checks["feasible"] and layout.shelved else
               "feasible" if checks["feasible"] else
               f"not feasible: {checks['pairs_too_close']} pairs too close, "
               f"{checks['outside_hall']} outside the hall") + ")")
    if layout.objective:
        o, lb = layout.objective, layout.lower_bound
        line += f"\nS = {o['total']:.4f} m  (entrance {o['entrance_term']:.4f} + pairs " \
                f"{o['pair_term']:.4f}), lower bound {lb['total']:.4f} m"
    click.echo(line)


@main.command(epilog="""\b
Examples:
  shelfplan report current.json proposed.json --loans data/loans.csv -o report.html
  shelfplan report current.json proposed.json --loans data/loans.csv \\
      --since 2025-01-01 -o report.md      # also writes report.png, report-walks.png
""")
@click.argument("current", type=click.Path(dir_okay=False))
@click.argument("proposed", type=click.Path(dir_okay=False))
@click.argument("more", nargs=-1, type=click.Path(dir_okay=False))
@loans_required
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Report to write: .html (self-contained) or .md (PNGs beside it).")
@click.option("--title", help="Title of the page.")
@since_option
@until_option
@in_sample_option
@holdout_option
@different_halls_option
@move_tol_option
@top_option
@click.option("--moves-curve", type=click.Path(dir_okay=False), default=None,
              help="Add the saving-versus-moves curve: the .json that shelfplan moves -o "
                   "curve.png writes beside the figure.")
@loans_options
@quiet_option
def report(current, proposed, more, loans, output, title, since, until, in_sample, holdout,
           allow_different_halls, move_tol, top, moves_curve, read_options, quiet):
    """One page for a committee: CURRENT against PROPOSED (and MORE).

    The comparison table of 'compare', the floor plans with the moves, the
    distribution of visit walks, the books most affected, and the method in
    two paragraphs. Held-out figures by default, as in 'compare'.
    """
    import os

    from shelfplan.judge.compare import compare as run
    from shelfplan.errors import ShelfplanError
    from shelfplan.present.report import write_report

    setup_logging(quiet)
    if os.path.splitext(output)[1].lower() not in (".html", ".htm", ".md"):
        raise ShelfplanError(f"{output}: a report must end in .html or .md; e.g. -o report.html")
    cmp = run([current, proposed, *more], loans, since=since, until=until,
              read_options=read_options, allow_different_halls=allow_different_halls,
              move_tolerance=move_tol, top=top, in_sample=in_sample, holdout=holdout)
    curve = None
    if moves_curve:
        import json
        try:
            with open(moves_curve, encoding="utf-8") as fh:
                curve = json.load(fh)
            curve["points"]
        except (OSError, ValueError, KeyError, TypeError):
            raise ShelfplanError(f"{moves_curve}: not a moves curve; make one with "
                                 f"shelfplan moves TODAY --loans L -o curve.png (it writes "
                                 f"curve.json)") from None
    for path in write_report(cmp, output, title=title, moves_curve=curve):
        click.echo(path)
