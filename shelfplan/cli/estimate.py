"""``shelfplan estimate``: loans files to an estimates file, on an engine that streams
(:func:`shelfplan.model.engines.estimate_to_file`); and ``--estimates``, the option
with which ``fit`` and ``baseline`` take that file instead of the loans."""

from __future__ import annotations

import functools

import click

from shelfplan.cli.options import loans_options, main, quiet_option, setup_logging, until_option

__all__ = ["estimate", "estimates_option"]

EPILOG = """\b
Examples:
  shelfplan estimate data/loans.csv -o loans.est
  shelfplan estimate 'exports/loans-*.parquet' -o all.est --memory-limit 2GB
  shelfplan estimate 'exports/*.csv.gz' --engine dask --scheduler tcp://10.0.0.5:8786 -o all.est
  shelfplan estimate data/loans.csv --until 2024-03-01 -o past.est
  shelfplan fit --estimates loans.est --hall data/hall.json -o layout.json
"""


@main.command(epilog=EPILOG)
@click.argument("loans", nargs=-1, required=True)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Estimates file to write (docs/formats.md).")
@click.option("--engine", type=click.Choice(["auto", "duckdb", "pandas", "dask"]),
              default="auto", show_default=True,
              help="duckdb: streams out of core, bounded memory; pandas: in memory; dask: a "
                   "dask.distributed cluster; auto: pandas for inputs under 8 MB, else duckdb.")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="With --engine dask: the scheduler, e.g. tcp://10.0.0.5:8786 [default: a "
                   "local cluster in this process].")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="With --engine dask and no --scheduler: workers of the local cluster "
                   "[default: 2].")
@click.option("--memory-limit", default=None, metavar="SIZE",
              help="With duckdb: memory it may use before it spills to disk, e.g. 2GB "
                   "[default: 1500MB].")
@click.option("--temp-dir", type=click.Path(file_okay=False), default=None,
              help="With duckdb: where it spills [default: a temporary folder].")
@until_option
@click.option("--since", type=click.DateTime(), default=None,
              help="Use only loans on or after this date.")
@loans_options
@quiet_option
def estimate(loans, output, engine, scheduler, workers, memory_limit, temp_dir, until, since,
             read_options, quiet):
    """Count the loans in LOANS (files or quoted glob patterns; CSV, gzip, Excel,
    Parquet; several files are read as one table) into an estimates file: the
    items, n_i, the co-borrowing counts c_ij, the session and reading summary
    and the options used (MODEL.md sections 1-2, exactly as fit counts them).
    `fit --estimates` and `baseline --estimates` then skip the reading.
    """
    from shelfplan.model.engines import estimate_to_file

    if scheduler and engine != "dask":
        raise click.UsageError("--scheduler goes with --engine dask")
    if workers and engine != "dask":
        raise click.UsageError("--workers goes with --engine dask")
    setup_logging(quiet)
    counts = estimate_to_file(list(loans), output, read_options, engine=engine,
                              scheduler=scheduler, until=until, since=since,
                              memory_limit=memory_limit, temp_dir=temp_dir, workers=workers)
    s = counts.summary
    click.echo(f"loans {s['loans']}  sessions {s['sessions']}  items {s['items']}  "
               f"pairs {len(counts.pair_c)}  multi-item sessions {s['multi_item_sessions']}  "
               f"({s['session_rule']}; engine {counts.meta['engine']})  -> {output}")


def estimates_option(f):
    """``--estimates FILE`` for a command whose LOANS argument is optional: the file goes
    on as the loans (:func:`shelfplan.model.estimate.estimate_loans` reads it)."""
    f = click.option("--estimates", type=click.Path(dir_okay=False, exists=True),
                     default=None,
                     help="An estimates file (shelfplan estimate) instead of LOANS: no "
                          "re-reading. --until must be the period it was written for.")(f)

    @functools.wraps(f)
    def wrapper(*args, **kw):
        estimates = kw.pop("estimates")
        if estimates is not None and kw.get("loans") is not None:
            raise click.UsageError("give LOANS or --estimates, not both")
        if estimates is None and kw.get("loans") is None:
            raise click.UsageError("Missing argument 'LOANS' (or --estimates FILE)")
        if estimates is not None:
            kw["loans"] = estimates
        return f(*args, **kw)
    return wrapper
