"""Read and validate a loans CSV into a tidy table of (session, item, category).

This module's one job is to turn a file a library system exported into a
DataFrame with a session key per loan, following MODEL.md section 1:

* an explicit session column, when given, defines the sessions;
* otherwise all loans of one patron on one calendar date form a session;
* with no timestamp column, all loans of one patron form one session.

DataFrames stop at the estimator (:mod:`shelfplan.estimate`).
"""

from __future__ import annotations

import io
import logging
import os
import sys
from dataclasses import dataclass, field

import pandas as pd

from .errors import LoansError

log = logging.getLogger(__name__)

DEFAULT_COLUMNS = {
    "patron": "patron_id",
    "item": "item_id",
    "time": "timestamp",
    "category": "category",
}

#: Id values that mean "no id" (compared in lower case): empty, and how spreadsheets
#: and pandas write a missing value. Such rows are dropped (an error with ``strict``).
MISSING_IDS = frozenset({"", "nan", "-nan", "null", "none", "na", "n/a", "#n/a", "<na>"})


@dataclass
class Loans:
    """Loans with a session key, ready for estimation.

    ``table`` has the columns ``session`` (str), ``item`` (str), ``category``
    (str or missing) and ``timestamp`` (datetime64, only when a time column
    was used). Patron ids are never kept: the session key is enough.
    """

    table: pd.DataFrame
    session_rule: str
    source: str
    n_rows_read: int
    dropped: dict[str, int] = field(default_factory=dict)
    has_category: bool = False
    n_patrons: int | None = None

    @property
    def n_loans(self) -> int:
        return len(self.table)


def _read_text(source, encoding: str) -> tuple[str, str]:
    """Return (text, display name); ``source`` is a path, ``-`` or a file object."""
    if source == "-":
        name = "<stdin>"
        raw = sys.stdin.buffer.read()
    elif hasattr(source, "read"):
        name = getattr(source, "name", "<stream>")
        raw = source.read()
    else:
        name = os.fspath(source)
        if not os.path.exists(name):
            raise LoansError(f"{name}: no such file; check the path to the loans CSV")
        if os.path.isdir(name):
            raise LoansError(f"{name}: is a directory, expected a loans CSV file")
        try:
            with open(name, "rb") as fh:
                raw = fh.read()
        except OSError as exc:
            raise LoansError(f"{name}: cannot be read ({exc.strerror}); check the file's "
                             f"permissions") from None
    if isinstance(raw, str):
        return raw, name
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode(encoding), name
    except UnicodeDecodeError as exc:
        raise LoansError(
            f"{name}: not valid {encoding} (byte 0x{raw[exc.start]:02x} at offset "
            f"{exc.start}); re-save the file as UTF-8 or pass --encoding cp1252 (or "
            f"the export's encoding)"
        ) from None
    except LookupError:
        raise LoansError(f"unknown encoding {encoding!r}; use e.g. utf-8 or cp1252") from None


def read_loans(
    source,
    *,
    patron_col: str | None = None,
    item_col: str | None = None,
    time_col: str | None = None,
    category_col: str | None = None,
    session_col: str | None = None,
    strict: bool = False,
    encoding: str = "utf-8",
) -> Loans:
    """Read a loans CSV (path, ``-`` for stdin, or a file object).

    Column options left as ``None`` take the defaults (``patron_id``,
    ``item_id``, ``timestamp``, ``category``); the time and category columns
    are optional unless named explicitly. With ``strict``, rows with an
    unparsable timestamp or an empty id are an error; otherwise they are
    dropped with a warning.
    """
    text, name = _read_text(source, encoding)
    if not text.strip():
        raise LoansError(f"{name}: the file is empty; expected a CSV with a header row "
                         f"and one loan per row")
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                         skipinitialspace=True)
    except pd.errors.ParserError as exc:
        msg = str(exc).strip().splitlines()[-1]
        raise LoansError(f"{name}: not a readable CSV ({msg}); check the delimiter "
                         f"and quoting") from None
    df.columns = [str(c).strip() for c in df.columns]
    if df.empty:
        raise LoansError(f"{name}: has a header but no loans; export the rows too")

    explicit = {
        "patron": patron_col, "item": item_col, "time": time_col,
        "category": category_col, "session": session_col,
    }
    found = ", ".join(df.columns)

    def pick(role: str, required: bool, option: str) -> str | None:
        col = explicit.get(role) or DEFAULT_COLUMNS.get(role)
        if col is None:
            return None
        if col in df.columns:
            return col
        if required or explicit.get(role):
            raise LoansError(
                f"{name}: no column {col!r} for the {role} (found: {found}); "
                f"name the right one with {option}"
            )
        return None

    item = pick("item", True, "--item-col")
    session = pick("session", False, "--session-col")
    patron = pick("patron", session is None, "--patron-col")
    time = pick("time", False, "--time-col") if session is None else (
        pick("time", False, "--time-col"))
    category = pick("category", False, "--category-col")

    n_read = len(df)
    dropped: dict[str, int] = {}
    out = pd.DataFrame(index=df.index)
    out["item"] = df[item].str.strip()
    key_col = session if session is not None else patron
    key = df[key_col].str.strip()

    # an id that is empty or a spreadsheet/pandas spelling of "missing" (NaN, NULL, ...)
    key_missing = key.str.lower().isin(MISSING_IDS)
    bad_ids = out["item"].str.lower().isin(MISSING_IDS) | key_missing
    if bad_ids.any():
        k = int(bad_ids.sum())
        which = key_col if key_missing.any() else item
        first = int(bad_ids.to_numpy().nonzero()[0][0])
        example = first + 2
        shown = key.iloc[first] if key_missing.iloc[first] else out["item"].iloc[first]
        if strict:
            raise LoansError(f"{name}: {k} rows have an empty or missing id in {which!r} "
                             f"(e.g. {shown!r} at line {example}); fill them in or drop "
                             f"--strict to skip them")
        log.warning("%s: dropped %d rows with an empty or missing id (e.g. %r at line %d)",
                    name, k, shown, example)
        dropped["empty id"] = k

    ts = None
    if time is not None:
        raw_ts = df[time].str.strip()
        ts = _parse_timestamps(raw_ts)
        bad_ts = ts.isna() & ~bad_ids
        if bad_ts.any():
            k = int(bad_ts.sum())
            first = int(bad_ts.to_numpy().nonzero()[0][0])
            example = raw_ts.iloc[first]
            if k == int((~bad_ids).sum()):
                raise LoansError(
                    f"{name}: no value in column {time!r} is a timestamp (e.g. {example!r} "
                    f"at line {first + 2}); use ISO 8601 like 2024-03-01T10:15:00, or "
                    f"--time-col for another column"
                )
            if strict:
                raise LoansError(f"{name}: {k} unparsable timestamps in {time!r}, e.g. "
                                 f"{example!r} at line {first + 2}; fix them or drop "
                                 f"--strict to skip those rows")
            log.warning("%s: dropped %d rows with an unparsable timestamp, e.g. %r at line %d",
                        name, k, example, first + 2)
            dropped["bad timestamp"] = k
        bad_ids = bad_ids | ts.isna()

    if session is not None:
        rule = f"session column {session!r}"
        out["session"] = key
    elif ts is not None:
        rule = "patron + calendar date"
        day = ts.dt.strftime("%Y-%m-%d")
        out["session"] = key + "\x1f" + day.fillna("")
    else:
        rule = "patron (no timestamp column)"
        out["session"] = key
    if ts is not None:
        out["timestamp"] = ts
    if category is not None:
        cat = df[category].str.strip().str.strip('"').str.strip()
        out["category"] = cat.where(cat != "", None)
    out = out.loc[~bad_ids].reset_index(drop=True)
    if out.empty:
        raise LoansError(f"{name}: no usable loans left after dropping bad rows; check the "
                         f"id and timestamp columns")
    return Loans(
        table=out,
        session_rule=rule,
        source=name,
        n_rows_read=n_read,
        dropped=dropped,
        has_category=category is not None and bool(out["category"].notna().any()),
        n_patrons=(int(df.loc[~bad_ids, patron].str.strip().nunique())
                   if patron is not None else None),
    )


def _parse_timestamps(raw: pd.Series) -> pd.Series:
    """Parse ISO 8601 timestamps (date-only too) to naive wall-clock datetimes.

    Values with a UTC offset keep their local wall-clock time, so the calendar
    date of a loan is the date the library saw. Unparsable values become NaT.
    """
    s = raw.where(raw != "", None)
    # Drop a trailing offset / Z: the wall clock is what defines the calendar date.
    wall = s.str.replace(r"(Z|[+-]\d{2}:?\d{2})$", "", regex=True)
    return pd.to_datetime(wall, errors="coerce", format="ISO8601")


def filter_until(loans: Loans, until=None, since=None) -> Loans:
    """Keep loans strictly before ``until`` and/or at or after ``since``."""
    if until is None and since is None:
        return loans
    if "timestamp" not in loans.table:
        raise LoansError(f"{loans.source}: --until/--since need a timestamp column")
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
                 has_category=loans.has_category, n_patrons=loans.n_patrons)
