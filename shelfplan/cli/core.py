"""Commands fit, baseline and stats."""

from __future__ import annotations

import time

import click

from shelfplan.cli.estimate import estimates_option
from shelfplan.cli.options import (hall_option, holdings_option, loans_options, main, out_option,
                                   quiet_option, setup_logging, shelf_list_option, summary,
                                   until_option)
from shelfplan.cli.progress import FitProgress
from shelfplan.cli.shelving_options import fill_option, shelving_options, write_shift

EPILOG_FIT = """\b
Examples:
  shelfplan fit data/loans.csv --hall data/hall.json -o layout.json
  shelfplan fit data/loans.csv --current current.json --max-moves 50 -o proposal.json
  shelfplan fit data/loans.csv --tune -o layout.json      # estimates that generalise
  shelfplan fit data/loans.csv --method skipgram -o w2v.json   # word2vec as the layout
  shelfplan fit data/loans.csv --shrink-category 0.5 --half-life 180d -o layout.json
  shelfplan fit data/loans.csv --hall data/stacked_hall.json --holdings data/holdings.csv \\
      -o plan.json --shelf-list shelflist.csv              # a shelving plan
"""


@main.command(epilog=EPILOG_FIT)
@click.argument("loans", type=click.Path(dir_okay=False, allow_dash=True), required=False)
@estimates_option
@hall_option
@out_option
@click.option("--seed", default=0, show_default=True, help="Seed for the solver's randomness.")
@click.option("--time-limit", type=float, default=None,
              help="Seconds for the whole run, reading included: the search keeps improving "
                   "until then (or stops early at the certified lower bound) [default: stop "
                   "when the search converges, at most 50 s].")
@click.option("--kicks", type=click.IntRange(min=0), default=None,
              help="Kicks of the iterated search after it converges [default: until they "
                   "stop paying; 300 with --current]; more can lower S, at the cost of time.")
@click.option("--init", type=click.Choice(["auto", "popularity", "spectral"]), default="auto",
              show_default=True, help="Starting layout(s) for the solver.")
@click.option("--method", type=click.Choice(["constrained", "sne", "tsne", "skipgram"]),
              default="constrained", show_default=True,
              help="constrained: the solver (MODEL.md 3-5); sne, tsne, skipgram: an embedding "
                   "of the loans seated in the hall (MODEL.md 7, docs/embeddings.md; tsne and "
                   "skipgram need pip install \"shelfplan[embed]\").")
@until_option
@click.option("--current", type=click.Path(dir_okay=False),
              help="Today's layout (a layout file): propose changes to it.")
@click.option("--move-cost", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="With --current: cost added per metre a book moves (same unit as S).")
@click.option("--max-moves", type=click.IntRange(min=0), default=None,
              help="With --current: at most this many books move; the rest stay put.")
@click.option("--shrink-category", type=click.FloatRange(min=0), default=0.0,
              help="Pull p(j|i) towards the co-borrowing of i's class (pseudo-sessions) "
                   "[default: 0, MODEL.md].")
@click.option("--shrink-neighbours", type=click.FloatRange(min=0), default=0.0,
              help="Pull p(j|i) towards i's call-number neighbours (pseudo-sessions) "
                   "[default: 0].")
@click.option("--shrink-popularity", type=click.FloatRange(min=0), default=0.0,
              help="Pull p(i) towards its class's rate (pseudo-counts of the class mean) "
                   "[default: 0].")
@click.option("--half-life", default=None,
              help="Weight recent loans more: a visit this long before the last loan counts "
                   "half (e.g. 90d, 12w, 6m, 1y) [default: all equal].")
@click.option("--tune", is_flag=True,
              help="Pick the estimation options by time-based cross-validation on the loans "
                   "(held-out S of a quick layout per candidate, on stderr).")
@click.option("--tune-time", type=click.FloatRange(min=0, min_open=True), default=10.0,
              show_default=True,
              help="With --tune: seconds at most per quick layout (each stops when converged).")
@click.option("--tune-folds", type=click.IntRange(min=1), default=2, show_default=True,
              help="With --tune: rolling time splits of the last 20 % of the period.")
@click.option("--objective", type=click.Choice(["walk", "visits"]), default="walk",
              show_default=True,
              help="With a hall with stacks: 'walk' minimises S_walk (MODEL.md 8.4); 'visits' "
                   "the walk of visits as the loans hold them (most borrow one book; "
                   "docs/model.md); with --tune its knobs are tuned on the held-out visit "
                   "walk.")
@holdings_option
@shelf_list_option
@click.option("--keep-order", type=click.Choice(["none", "blocks"]), default="none",
              show_default=True,
              help="With a hall with stacks: 'blocks' keeps each category (--category-from "
                   "gives them) one run in call-number order and optimises the order of the "
                   "runs (MODEL.md 8.5).")
@click.option("--display-books", type=click.IntRange(min=1), default=None,
              help="With --keep-order blocks: the N most borrowed books stand out of order "
                   "in a display zone nearest the entrance (or in --display-ranges).")
@click.option("--display-ranges", default=None,
              help="With --keep-order blocks: comma-separated range ids that form the display "
                   "zone (the most borrowed books that fit, or --display-books of them).")
@click.option("--shift-plan", type=click.Path(dir_okay=False),
              help="With --current TODAY on a hall with stacks: write the shift plan, one row "
                   "per book moved (CSV, MODEL.md 8.8), executable from TODAY with --carts.")
@shelving_options
@loans_options
@quiet_option
def fit(loans, hall, output, seed, time_limit, kicks, init, method, until, current, move_cost,
        max_moves, shrink_category, shrink_neighbours, shrink_popularity, half_life, tune,
        tune_time, tune_folds, objective, holdings, shelf_list, keep_order, display_books,
        display_ranges, shift_plan, shelving, read_options, quiet):
    """Fit an optimised layout for the books in LOANS (CSV, '-' for stdin).

    Estimates p(i) and p(j|i) from the loans, minimises the expected walk
    (entrance distance plus distance between books borrowed together) under
    the spacing and hall constraints, and writes a feasible layout file.
    Ctrl-C stops early and still writes the best feasible layout so far.

    The --shrink-* options, --half-life and --tune estimate p(i) and p(j|i)
    so that they hold up on later loans (docs/evaluate.md); without them the
    estimates are MODEL.md's exactly. With --tune the options given are ignored.

    A --hall with stacks (ranges of shelving) makes a shelving plan: every
    book (of --holdings, else of the loans) in a slot, walks measured in the
    aisles (S_walk, MODEL.md section 8); --shelf-list writes the list to
    shelve from.
    """
    started = time.monotonic()      # importing the solver (its compiled kernels) counts
    from shelfplan.api import fit as fit_layout
    from shelfplan.layout import check_output_path
    from shelfplan.solve.options import FitOptions

    if (shift_plan or shelving.crew_sheet) and not current:
        raise click.UsageError("--shift-plan and --crew-sheet need --current TODAY (the moves "
                               "start from it; for a plan from scratch use shelfplan "
                               "shift-plan TODAY PLAN)")
    if shelving.crew_sheet and not shift_plan:
        raise click.UsageError("--crew-sheet goes with --shift-plan")
    for path in (output, shift_plan, shelving.crew_sheet, shelf_list):
        if path:
            check_output_path(path)
    display = None
    if display_books is not None or display_ranges:
        display = {"books": display_books,
                   "ranges": [r.strip() for r in display_ranges.split(",") if r.strip()]
                   if display_ranges else None}
    setup_logging(quiet)
    say = None if quiet else FitProgress(time_limit=time_limit).start()
    generalise = None
    if shrink_category or shrink_neighbours or shrink_popularity or half_life is not None:
        generalise = {"category": shrink_category, "neighbours": shrink_neighbours,
                      "popularity": shrink_popularity, "half_life": half_life}
    try:
        options = FitOptions(seed=seed, time_limit=time_limit, init=init, kicks=kicks,
                             method=method, until=until, move_cost=move_cost,
                             max_moves=max_moves, generalise=generalise, tune=tune,
                             tune_time=tune_time, tune_folds=tune_folds, keep_order=keep_order,
                             display=display, progress=say, started=started,
                             objective=objective, shelving=shelving)
        layout = fit_layout(loans, hall, options, holdings=holdings, current=current,
                            read_options=read_options)
    finally:
        if say is not None:
            say.close()
    note = write_shift(current, layout, shelving) if shift_plan else ""
    _write(layout, output, shelf_list)
    if note:
        click.echo(note)


def _write(layout, output, shelf_list) -> None:
    from shelfplan.layout import write_layout

    if shelf_list and not layout.shelved:
        raise click.UsageError("--shelf-list needs a hall with stacks (a shelving plan)")
    if shelf_list:
        from shelfplan.present.shelflist import write_shelf_list
        write_shelf_list(layout, shelf_list)
    write_layout(layout, output)
    click.echo(summary(layout, output) + (f"\nshelf list -> {shelf_list}" if shelf_list else ""))


@main.command(epilog="\b\nExample:\n  shelfplan baseline callnumber data/loans.csv "
                     "--hall data/hall.json -o current.json")
@click.argument("name", type=click.Choice(["random", "popularity", "callnumber"]))
@click.argument("loans", type=click.Path(dir_okay=False, allow_dash=True), required=False)
@estimates_option
@hall_option
@out_option
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed for the random baseline.")
@until_option
@holdings_option
@shelf_list_option
@fill_option
@loans_options
@quiet_option
def baseline(name, loans, hall, output, seed, until, holdings, shelf_list, shelving, read_options,
             quiet):
    """Write a baseline layout: random, popularity-first, or call-number order.

    'callnumber' lays the books sorted by category along the shelving in
    serpentine order from the entrance, as libraries shelve today. On a hall
    with stacks it is today's shelving plan: the holdings in call-number order
    along the shelving order (MODEL.md section 8.5).
    """
    from shelfplan.api import baseline as make_baseline
    from shelfplan.layout import check_output_path

    check_output_path(output)
    if shelf_list:
        check_output_path(shelf_list)
    setup_logging(quiet)
    layout = make_baseline(name, loans, hall, seed=seed, until=until, read_options=read_options,
                           holdings=holdings, shelving=shelving)
    _write(layout, output, shelf_list)


@main.command(epilog="\b\nExample:\n  shelfplan stats data/loans.csv --top 10")
@click.argument("loans", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--top", type=click.IntRange(min=0), default=10, show_default=True,
              help="How many items and pairs to list.")
@loans_options
@quiet_option
def stats(loans, top, read_options, quiet):
    """Summarise LOANS: counts, session sizes, most borrowed items, strongest pairs."""
    from shelfplan.judge.stats import loan_stats

    setup_logging(quiet)
    click.echo(loan_stats(loans, top=top, read_options=read_options))
