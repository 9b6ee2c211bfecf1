"""Read and validate a library's loans export into a tidy table of (session, item, category).

This module's one job is to turn a file a library system exported into a
DataFrame with a session key per loan, following MODEL.md section 1:

* an explicit session column, when given, defines the sessions;
* otherwise all loans of one patron on one calendar date form a session;
* with no timestamp column, all loans of one patron form one session.

Other visit rules are options (``session_gap``; same checkout timestamp when an
export has no patron ids). Exports of Koha, Evergreen, FOLIO, Alma and Sierra
are read as they come (:mod:`shelfplan.ingest.columns` has the names): delimiter,
encoding, gzip, Parquet, date order and transaction types are recognised, and
what was taken for what is reported (``Loans.notes``, logged at INFO).

Patron ids never leave this module: sessions are numbered, error and log
messages name lines and columns, never a patron's id (docs/ingest.md).
DataFrames stop at the estimator (:mod:`shelfplan.model.estimate`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from shelfplan.errors import LoansError
from shelfplan.ingest import sessions as visits
from shelfplan.ingest.options import ReadOptions
from shelfplan.ingest.roles import choose, explicit_columns, mapping_note
from shelfplan.ingest.rows import MISSING_IDS, Report, categories, ids, keep_checkouts, strip, times
from shelfplan.ingest.sessions import SALT_ENV
from shelfplan.ingest.source import DELIMITERS, Source, choose_encoding, header, sample
from shelfplan.ingest.tables import (parquet_columns, read_csv, read_excel, read_parquet,
                                      sheet_hint)

__all__ = ["Loans", "ReadOptions", "read_loans", "filter_until", "LEVELS", "UNCATEGORISED"]

log = logging.getLogger(__name__)

DEFAULT_COLUMNS = {
    "patron": "patron_id",
    "item": "item_id",
    "time": "timestamp",
    "category": "category",
}

#: The default cap on a session's distinct items: none (MODEL.md counts every
#: session). ``max_session_items=N`` drops larger sessions (bulk checkouts).
MAX_SESSION_ITEMS = None

#: what a layout places: single copies, titles, or whole categories (docs/ingest.md)
LEVELS = ("item", "title", "category")
#: files at least this large get a progress bar while they are read (when asked)
PROGRESS_BYTES = 32 << 20
#: the unit that holds items without a category at level "category"
UNCATEGORISED = "(no category)"

# re-exported for callers of the one-module reader
__all__ += ["sources_list", "sources_name", "file_columns", "DEFAULT_COLUMNS", "DELIMITERS", "MISSING_IDS", "SALT_ENV", "MAX_SESSION_ITEMS",
            "PROGRESS_BYTES"]


@dataclass
class Loans:
    """Loans with a session key, ready for estimation.

    ``table`` has the columns ``session`` (int64 session number), ``item`` (str),
    ``category`` (str or missing, when there is a category) and ``timestamp``
    (datetime64, only when a time column was used); with ``hash_patrons`` also
    ``patron`` (a salted hash). Patron ids are never kept.
    ``notes`` says which column was taken for what and what was filtered.
    ``level`` is what gets placed (:data:`LEVELS`): with ``"title"`` the ``item``
    column holds title ids; with ``"category"`` it holds copies, which
    :func:`shelfplan.model.estimate.estimate` sums into one unit per category.
    """

    table: pd.DataFrame
    session_rule: str
    source: str
    n_rows_read: int
    dropped: dict[str, int] = field(default_factory=dict)
    has_category: bool = False
    n_patrons: int | None = None
    notes: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    level: str = "item"
    category_source: dict | None = None   # how categories were made (for re-reading)
    title_col: str | None = None          # the title column, when it was named explicitly
    _item_categories: pd.Series | None = field(default=None, init=False, repr=False,
                                               compare=False)

    @property
    def n_loans(self) -> int:
        return len(self.table)

    def item_categories(self) -> pd.Series:
        """Each item's category: its most frequent one (ties: alphabetically first);
        items without any are absent."""
        if not self.has_category:
            return pd.Series(dtype=object)
        if self._item_categories is None:     # a group-by over every loan: once per table
            counts = (self.table.dropna(subset=["category"])
                      .groupby(["item", "category"], sort=True).size().reset_index(name="k"))
            counts = counts.sort_values(["item", "k"], ascending=[True, False], kind="stable")
            self._item_categories = counts.drop_duplicates("item").set_index("item")["category"]
        return self._item_categories

    def units(self) -> pd.Series:
        """What each row places: the item, or with level ``"category"`` its category
        (:data:`UNCATEGORISED` for items without one)."""
        if self.level != "category":
            return self.table["item"]
        return self.table["item"].map(self.item_categories()).fillna(UNCATEGORISED)


# --------------------------------------------------------------------------------------
# reading: one step per function


def read_loans(source, options: ReadOptions | dict | None = None, **overrides) -> Loans:
    """Read a loans export (CSV, gzip CSV, Excel .xlsx or Parquet; a path, ``-`` or a
    file object; or a list of them, read as one table of their rows in order, each
    with the same columns) into :class:`Loans`.

    ``options`` (a :class:`ReadOptions` or a dict of its fields) and keyword
    ``overrides`` say how (docs/ingest.md). Columns left as ``None`` are found by
    name (:mod:`shelfplan.ingest.columns`); an option always wins. ``encoding``
    ``None``: UTF-8 with or without BOM, else cp1252 with a warning. ``dayfirst``
    settles 03/04/2024 (an error when the dates leave it open). ``session_gap``
    (a pandas Timedelta or a string like ``"30min"``) starts a new visit after
    that long without a loan, instead of the calendar date. ``max_session_items``
    drops larger sessions (``None`` or 0, the default: none, as MODEL.md).
    ``category_from="callnumber"`` derives categories with
    :func:`shelfplan.ingest.callnumber.parse` (``scheme``, ``category_level``);
    ``"column"`` takes them as written; ``None`` (default) is ``"column"``, except
    at level ``"category"`` when the only category column is a call number.
    ``scheme`` and ``prefix_order`` also say how a shelving plan files the call numbers
    (:func:`shelfplan.ingest.callsort.shelf_ranks`).
    ``hash_patrons`` keeps a salted hash of the patron id as ``table["patron"]``
    (salt ``patron_salt``, else ``$SHELFPLAN_PATRON_SALT``, else random).
    Rows with an unparsable timestamp or an empty id are dropped with a warning;
    rows with an empty timestamp are kept as undated loans (one visit per
    patron), and a time column that is empty throughout is read as no time
    column, with a warning; ``strict`` makes each of these an error. ``level``
    (:data:`LEVELS`) says what is placed: ``"title"`` takes the title column
    (``title_col`` or found by name) as the unit, ``"category"`` needs a
    category. ``sheet`` names the sheet of an Excel workbook (default: the
    first). ``progress(done_bytes, total_bytes)`` is called while a large CSV
    file (:data:`PROGRESS_BYTES` or more) is parsed.
    """
    opts = ReadOptions.coerce(options, **overrides)
    level, category_from, gap = check_options(opts)
    srcs = [Source(s) for s in sources_list(source)]
    rep = Report(sources_name([src.name for src in srcs]))
    explicit = explicit_columns(opts, category_from)
    frames, chosen, first = [], None, None
    for src in srcs:
        cols, delimiter, enc, whole = file_columns(src, opts, rep)
        with sheet_hint(whole):
            mine, category_from = choose(cols, explicit, src.name, category_from,
                                         opts.category_from, level, gap, rep.msgs)
        if chosen is None:
            chosen, first = mine, (src.name, delimiter)
        elif mine != chosen:
            raise LoansError(f"{src.name}: its columns are taken as {_shown(mine)} but those "
                             f"of {first[0]} as {_shown(chosen)}; give the files the same "
                             f"columns, or read them one at a time")
        frames.append(_table(src, chosen, cols, enc, delimiter, whole, opts, rep))
    df = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    del frames
    n_read = len(df)
    note = mapping_note(chosen, explicit, first[1], first[0])
    rep.notes.extend([note] if note else [])
    if "type" in chosen:
        df = keep_checkouts(df, chosen, rep, "type" in explicit)
    items, key, bad = ids(df, chosen, level, opts.strict, rep)
    time_c = chosen.get("time")
    ts, bad = times(df, chosen, bad, opts.dayfirst, opts.strict, rep)
    if gap is not None and ts is None:
        what = (f"column {time_c!r} is empty" if time_c else f"found: {', '.join(cols)}")
        raise LoansError(f"{src.name}: `session_gap` needs a timestamp column ({what}); "
                         f"name it with `time_col` or drop `session_gap`")
    keep = ~bad
    if not keep.any():
        raise LoansError(f"{src.name}: no usable loans left after dropping bad rows; check "
                         f"the id and timestamp columns")
    t_ns = ts[keep].astype("datetime64[ns]") if ts is not None else None
    out, rule, pcode, n_patrons = _sessions(df, chosen, items[keep], key, keep, t_ns, gap,
                                            opts, rep, undated_rule=time_c is not None)
    labels, cat_c, cat_src = categories(df, chosen, explicit, keep, category_from,
                                        opts.scheme or "auto", opts.category_level or 1, rep)
    if labels is not None:
        out["category"] = labels
    if "patron" in out:
        out["patron"] = out.pop("patron")       # last, as it always was
    return _finish(out, pcode, n_patrons, rule, chosen, cat_c, cat_src, level, n_read,
                   opts, rep)


def check_options(opts: ReadOptions):
    """(level, category_from, session gap), each checked."""
    level = opts.level or "item"
    category_from = opts.category_from or "column"
    if level not in LEVELS:
        raise LoansError(f"`level` must be one of {', '.join(LEVELS)}, got {level!r}")
    if opts.title_col and level != "title":
        raise LoansError("`title_col` is used only with `level` title; add `level` title")
    if category_from not in ("column", "callnumber"):
        raise LoansError(f"`category_from` must be column or callnumber, got {category_from!r}")
    cap = opts.max_session_items
    try:
        bad_cap = cap is not None and int(cap) < 0
    except (TypeError, ValueError):
        bad_cap = True
    if bad_cap:
        raise LoansError(f"`max_session_items` must be 0 or more, got {cap!r}; leave it out "
                         f"to keep every session")
    return level, category_from, visits.parse_gap(opts.session_gap)


def sources_list(source) -> list:
    """One loans source or several (a list or tuple of paths): always a list."""
    out = list(source) if isinstance(source, (list, tuple)) else [source]
    if not out:
        raise LoansError("no loans files given; name at least one")
    return out


def sources_name(names: list[str]) -> str:
    """How messages and summaries name the loans: the file, or the first and a count."""
    if len(names) == 1:
        return names[0]
    return f"{names[0]} and {len(names) - 1} more file{'s' if len(names) > 2 else ''}"


def _shown(chosen: dict) -> str:
    return ", ".join(f"{r}={c!r}" for r, c in chosen.items())


def file_columns(src: Source, opts: ReadOptions, rep: Report):
    """(column names, delimiter, encoding, the whole table when it had to be read)."""
    if opts.sheet is not None and src.kind != "excel":
        raise LoansError(f"{src.name}: `sheet` is only for Excel workbooks, this is a "
                         f"{src.kind.replace('csv', 'text')} file; drop `sheet`")
    if src.kind == "parquet":
        return parquet_columns(src), None, None, None
    if src.kind == "excel":
        df = read_excel(src, opts.sheet)
        return list(df.columns), None, None, df
    data = sample(src)
    enc = choose_encoding(data, opts.encoding, src, rep.msgs)
    cols, delimiter = header(data, enc, src.name)
    return cols, delimiter, enc, None


def _table(src, chosen, cols, enc, delimiter, whole, opts, rep) -> pd.DataFrame:
    """The rows of the used columns, as text."""
    usecols = list(dict.fromkeys(chosen.values()))
    if whole is not None:
        df = whole[usecols]
    elif src.kind == "parquet":
        df = read_parquet(src, usecols)
    else:
        df = read_csv(src, usecols, enc, delimiter, rep.msgs, len(usecols) == len(cols),
                      opts.progress, PROGRESS_BYTES)
    if df.empty:
        raise LoansError(f"{src.name}: has a header but no loans; export the rows too")
    return df


def _sessions(df, chosen, items, key, keep, t_ns, gap, opts, rep, undated_rule: bool):
    """(table with session and item [and timestamp], rule, patron codes, patron count)."""
    session_c, patron_c = chosen.get("session"), chosen.get("patron")
    pcode = n_patrons = patron_keys = None
    if patron_c is not None:
        pk = strip(df[patron_c])[keep] if session_c else key[keep]
        codes, uniq = pd.factorize(pk, sort=False)
        pcode, n_patrons = codes.astype(np.int64), len(uniq)
        if opts.hash_patrons:
            patron_keys = visits.hash_ids(uniq, opts.patron_salt)
    if session_c is not None:
        rule = f"session column {session_c!r}"
        session = pd.factorize(key[keep], sort=False)[0].astype(np.int64)
    elif pcode is None:
        branch_c = chosen.get("branch")
        branch = (pd.factorize(strip(df[branch_c])[keep])[0].astype(np.int64)
                  if branch_c is not None else None)
        session = visits.timestamp_sessions(t_ns, branch)
        rule = ("same checkout timestamp" + (" + branch" if branch_c else "")
                + " (approximation: no patron column)")
        rep.notes.append(f"{rep.name}: no patron column: loans with the same checkout "
                         f"timestamp" + (f" and {branch_c!r}" if branch_c else "")
                         + " form one visit, an approximation")
    elif gap is not None:
        session = visits.gap_sessions(pcode, t_ns, gap)
        rule = f"patron + gap {visits.fmt_gap(gap)}"
    elif t_ns is not None:
        session = visits.day_sessions(pcode, t_ns)
        rule = "patron + calendar date"
    else:
        session = pcode
        rule = "patron (no timestamps)" if undated_rule else "patron (no timestamp column)"
    out = pd.DataFrame({"session": session, "item": items.to_numpy(dtype=object)})
    if t_ns is not None:
        out["timestamp"] = t_ns
    if patron_keys is not None:
        out["patron"] = patron_keys[pcode]
    return out, rule, pcode, n_patrons


def _finish(out, pcode, n_patrons, rule, chosen, cat_c, cat_src, level, n_read, opts, rep):
    """The session cap, the last checks, the log, and the :class:`Loans`."""
    name = rep.name
    if pcode is not None:
        out["_p"] = pcode
    if opts.max_session_items:
        out = visits.cap_sessions(out, int(opts.max_session_items), name, rep.dropped,
                                  rep.msgs)
    if out.empty:
        raise LoansError(f"{name}: no usable loans left after dropping bad rows; check the "
                         f"id and timestamp columns")
    if pcode is not None:
        n_patrons = int(np.count_nonzero(np.bincount(out["_p"].to_numpy())))
        out = out.drop(columns="_p")
    if level == "category" and not out["category"].notna().any():
        raise LoansError(f"{name}: `level` category needs categories, but column {cat_c!r} "
                         f"is empty; name another with `category_col`")
    for lvl, text in rep.msgs:
        log.log(lvl, "%s", text)
    for text in rep.notes:
        log.info("%s", text)
    mapping = dict(chosen)
    if cat_c is not None:
        mapping["category"] = cat_c
        mapping.pop("callnumber", None)
    return Loans(table=out, session_rule=rule, source=name, n_rows_read=n_read,
                 dropped=rep.dropped,
                 has_category=cat_c is not None and bool(out["category"].notna().any()),
                 n_patrons=n_patrons, notes=rep.notes, columns=mapping, level=level,
                 category_source=cat_src,
                 title_col=opts.title_col if level == "title" else None)


def filter_until(loans: Loans, until=None, since=None) -> Loans:
    """Keep loans strictly before ``until`` and/or at or after ``since``."""
    if until is None and since is None:
        return loans
    if "timestamp" not in loans.table:
        raise LoansError(f"{loans.source}: `until`/`since` need a timestamp column")
    t = loans.table["timestamp"]
    keep = pd.Series(True, index=t.index)
    if until is not None:
        keep &= t < pd.Timestamp(until)
    if since is not None:
        keep &= t >= pd.Timestamp(since)
    if not keep.any():
        span = f"{t.min():%Y-%m-%d} to {t.max():%Y-%m-%d}"
        raise LoansError(f"{loans.source}: no loans left in the date range (loans span "
                         f"{span}); choose a date inside it")
    return Loans(table=loans.table.loc[keep].reset_index(drop=True),
                 session_rule=loans.session_rule, source=loans.source,
                 n_rows_read=loans.n_rows_read, dropped=dict(loans.dropped),
                 has_category=loans.has_category, n_patrons=loans.n_patrons,
                 notes=list(loans.notes), columns=dict(loans.columns),
                 level=loans.level, category_source=loans.category_source,
                 title_col=loans.title_col)
