"""Engines that turn loans files into counts (n_i, c_ij and the reading summary).

* ``duckdb`` (the default): DuckDB, out of core with bounded memory;
* ``pandas``: the reader of :mod:`shelfplan.ingest.loans` and the estimator of
  :mod:`shelfplan.model.estimate`, in memory (faster on small files, and the only
  one for the options listed in docs/scale.md);
* ``dask``: a ``dask.distributed`` cluster (``scheduler``: its address; without
  one a local cluster), for data that outgrow one machine.

``auto`` takes pandas for small inputs and DuckDB otherwise. Every engine gives
the same counts for the same files and options; :func:`count_loans` is the one
entry point (``shelfplan estimate``).
"""

from __future__ import annotations

import logging
import os

import numpy as np
import scipy.sparse as sp

from shelfplan.errors import LoansError
from shelfplan.ingest.options import ReadOptions
from shelfplan.model.engines.plan import Unsupported, expand, make_plan
from shelfplan.model.estimates_file import Counts

__all__ = ["ENGINES", "SMALL_BYTES", "count_loans", "count_pandas", "options_record",
           "estimate_to_file"]

log = logging.getLogger(__name__)

ENGINES = ("auto", "duckdb", "pandas", "dask")
#: inputs smaller than this (bytes, all files) are read with pandas by ``auto``
SMALL_BYTES = 8 << 20


def count_pandas(paths, options=None, *, until=None, since=None) -> Counts:
    """The counts of the pandas reader and estimator (the reference)."""
    from shelfplan.ingest.loans import filter_until, read_loans
    from shelfplan.model.estimate import estimate_items

    loans = filter_until(read_loans(list(paths), options), until=until, since=since)
    est = estimate_items(loans)
    upper = sp.triu(est.cooc, k=1).tocoo()
    order = np.lexsort((upper.col, upper.row))
    summary = {k: v for k, v in est.summary.items() if k != "co_borrowed_pairs"}
    meta = {"level": loans.level}
    if loans.category_source:
        meta["category_source"] = dict(loans.category_source)
    if loans.title_col:
        meta["title_col"] = loans.title_col
    return Counts(items=est.items, counts=est.counts, pair_i=upper.row[order].astype(np.int32),
                  pair_j=upper.col[order].astype(np.int32),
                  pair_c=upper.data[order].astype(np.int64), categories=est.categories,
                  summary=summary, meta=meta)


def options_record(options) -> dict:
    """The read options that were given, as JSON values (for the estimates file)."""
    opts = ReadOptions.coerce(options)
    return {k: (str(v) if k == "session_gap" else v) for k, v in opts.items()
            if v not in (None, False) and k != "progress"}


def _plan_meta(plan) -> dict:
    meta = {"level": plan.level}
    if plan.level == "title":
        meta["title_col"] = plan.opts.title_col
    if plan.chosen.get("category"):
        given = plan.explicit.get("category")
        meta["category_source"] = {"category_from": "column",
                                   **({"category_col": given} if given else {})}
    return meta


def count_loans(sources, options=None, *, engine: str = "auto", scheduler: str | None = None,
                until=None, since=None, memory_limit: str | None = None,
                temp_dir: str | None = None, workers: int | None = None) -> Counts:
    """Count the loans of ``sources`` (paths or glob patterns; several files are read as
    one table of their rows) with ``engine`` (:data:`ENGINES`), keeping loans before
    ``until`` and from ``since``. Options the streaming engines do not cover fall back
    to pandas, with a note in the log."""
    if engine not in ENGINES:
        raise LoansError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if scheduler and engine != "dask":
        raise LoansError("`scheduler` is for the dask engine; add engine dask")
    paths = expand(sources)
    opts = ReadOptions.coerce(options)
    used = engine
    if engine == "auto":
        size = sum(os.path.getsize(p) for p in paths if os.path.isfile(p))
        used = "pandas" if size < SMALL_BYTES or "-" in paths else "duckdb"
    counts = None
    if used != "pandas":
        try:
            plan = make_plan(paths, opts)
        except Unsupported as why:
            log.warning("the %s engine does not stream %s; reading with pandas instead "
                        "(in memory)", used, why)
            used = "pandas"
        else:
            for text in (m for _, m in plan.msgs):
                log.info("%s", text)
            if used == "duckdb":
                from shelfplan.model.engines.tally import count_duckdb
                counts = count_duckdb(plan, until=until, since=since,
                                      memory_limit=memory_limit, temp_dir=temp_dir)
            else:
                from shelfplan.model.engines.distributed import count_dask
                counts = count_dask(plan, scheduler=scheduler, until=until, since=since,
                                    workers=workers)
            counts.meta = _plan_meta(plan)
    if counts is None:
        counts = count_pandas(paths, opts, until=until, since=since)
    counts.meta.update({"engine": used, "sources": [os.fspath(p) for p in paths],
                        "read_options": options_record(opts),
                        "until": None if until is None else str(until),
                        "since": None if since is None else str(since)})
    return counts


def estimate_to_file(sources, output, read_options=None, *, engine: str = "auto",
                     scheduler: str | None = None, until=None, since=None,
                     memory_limit: str | None = None, temp_dir: str | None = None,
                     workers: int | None = None) -> Counts:
    """Count the loans of ``sources`` (:func:`count_loans`) and write the estimates file
    ``output`` (:mod:`shelfplan.model.estimates_file`); returns the counts."""
    from shelfplan.model.estimates_file import write_estimates

    out_dir = os.path.dirname(os.path.abspath(os.fspath(output)))
    if not os.path.isdir(out_dir):
        raise LoansError(f"{output}: directory {out_dir} does not exist; create it or choose "
                         f"another output path")
    counts = count_loans(sources, read_options, engine=engine, scheduler=scheduler,
                         until=until, since=since, memory_limit=memory_limit,
                         temp_dir=temp_dir, workers=workers)
    write_estimates(counts, output)
    return counts
