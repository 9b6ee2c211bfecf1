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

import codecs
import csv
import gzip
import hashlib
import hmac
import io
import logging
import os
import re
import secrets
import sys
import warnings
import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from shelfplan.ingest import columns as known
from shelfplan.errors import LoansError

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

#: Sessions with more distinct items than this are dropped before estimation
#: (staff, bulk or reserve-shelf checkouts); 0 keeps every session.
MAX_SESSION_ITEMS = 50

#: what a layout places: single copies, titles, or whole categories (docs/ingest.md)
LEVELS = ("item", "title", "category")
#: files at least this large get a progress bar while they are read (when asked)
PROGRESS_BYTES = 32 << 20
#: the unit that holds items without a category at level "category"
UNCATEGORISED = "(no category)"

#: Environment variable with the salt for ``hash_patrons`` (random per run if unset).
SALT_ENV = "SHELFPLAN_PATRON_SALT"

DELIMITERS = (",", ";", "\t", "|")
_SAMPLE_BYTES = 1 << 18
_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}


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
# the file: where it is, what it is (gzip, Parquet, CSV), its encoding and delimiter


class _Source:
    """A loans file opened for pandas: ``target`` (path or buffer), kind, name."""

    def __init__(self, source):
        if source == "-":
            self.name = "<stdin>"
            raw = sys.stdin.buffer.read()
        elif hasattr(source, "read"):
            self.name = getattr(source, "name", "<stream>")
            raw = source.read()
        else:
            self.name = name = os.fspath(source)
            if not os.path.exists(name):
                raise LoansError(f"{name}: no such file; check the path to the loans file")
            if os.path.isdir(name):
                raise LoansError(f"{name}: is a directory, expected a loans CSV file")
            try:
                with open(name, "rb") as fh:
                    head = fh.read(4)
            except OSError as exc:
                raise LoansError(f"{name}: cannot be read ({exc.strerror}); check the file's "
                                 f"permissions") from None
            self.target = name
            self.text = False
            self.kind = _kind(head, name)
            return
        self.text = isinstance(raw, str)
        if self.text:
            raw = raw.encode("utf-8")
        self.target = io.BytesIO(raw)
        self.kind = _kind(raw[:4], self.name)

    def open_bytes(self):
        """A fresh binary stream of the (decompressed) content."""
        if isinstance(self.target, io.BytesIO):
            self.target.seek(0)
            fh = self.target
            if self.kind == "gzip":
                return gzip.GzipFile(fileobj=io.BytesIO(fh.getvalue()))
            return io.BytesIO(fh.getvalue())
        return gzip.open(self.target, "rb") if self.kind == "gzip" else open(self.target, "rb")

    def pandas_target(self):
        if isinstance(self.target, io.BytesIO):
            return io.BytesIO(self.target.getvalue())
        return self.target


def _kind(head: bytes, name: str) -> str:
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head[:4] == b"PAR1" or name.lower().endswith(".parquet"):
        return "parquet"
    return "csv"


def _truncated(name: str) -> LoansError:
    return LoansError(f"{name}: the gzip file is truncated or corrupt (it ends before its "
                      f"end marker); copy or export it again")


def _sample(src: _Source) -> bytes:
    try:
        with src.open_bytes() as fh:
            return fh.read(_SAMPLE_BYTES)
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError):
        raise _truncated(src.name) from None


def _choose_encoding(sample: bytes, encoding: str | None, src: _Source,
                     msgs: list) -> str:
    """The encoding to read with; ``None`` means UTF-8 (BOM or not), else cp1252."""
    if src.text:
        return "utf-8"
    explicit = encoding is not None
    enc = encoding or "utf-8"
    try:
        codecs.lookup(enc)
    except LookupError:
        raise LoansError(f"unknown encoding {enc!r}; use e.g. utf-8 or cp1252") from None
    try:
        codecs.getincrementaldecoder(enc)().decode(sample, final=len(sample) < _SAMPLE_BYTES)
    except UnicodeDecodeError as exc:
        if explicit:
            raise LoansError(
                f"{src.name}: not valid {enc} (byte 0x{sample[exc.start]:02x} at offset "
                f"{exc.start}); re-save the file as UTF-8 or pass --encoding cp1252 (or the "
                f"export's encoding)") from None
        msgs.append((logging.WARNING,
                     f"{src.name}: not valid UTF-8 (byte 0x{sample[exc.start]:02x} at offset "
                     f"{exc.start}); read as cp1252 (Windows Latin-1); pass --encoding to "
                     f"choose another"))
        return "cp1252"
    return "utf-8-sig" if codecs.lookup(enc).name == "utf-8" else enc


def _header(sample: bytes, encoding: str, name: str) -> tuple[list[str], str]:
    """Column names and the delimiter, sniffed from the first lines."""
    text = sample.decode(encoding, errors="replace").lstrip("\ufeff")
    if not text.strip():
        raise LoansError(f"{name}: the file is empty; expected a CSV with a header row "
                         f"and one loan per row")
    lines = text.lstrip("\r\n").splitlines()
    first, second = lines[0], (lines[1] if len(lines) > 1 else None)

    def fields(line, d):
        return next(csv.reader([line], delimiter=d), [])

    best, score = ",", (0, 0)
    for d in DELIMITERS:
        n = len(fields(first, d))
        agree = second is None or len(fields(second, d)) == n
        if (agree, n) > score and n > 1:
            best, score = d, (agree, n)
    header = [c.strip() for c in fields(first, best)]
    body = text.lstrip("\r\n")
    if len(body) >= _SAMPLE_BYTES - 4:          # the sample's last line may be cut
        body = body[:body.rfind("\n")]
    for k, row in enumerate(csv.reader(io.StringIO(body), delimiter=best,
                                       skipinitialspace=True)):
        if len(row) > len(header):
            raise LoansError(f"{name}: not a readable CSV (expected {len(header)} fields in "
                             f"line {k + 1}, saw {len(row)}); check the delimiter and quoting")
    return header, best


# --------------------------------------------------------------------------------------
# which column is which


def _resolve(cols: list[str], explicit: dict, name: str, category_from: str,
             level: str = "item") -> dict:
    """role -> column; explicit options win; two candidates for one role is an error."""
    found = ", ".join(cols)
    chosen: dict[str, str] = {}
    for role, col in explicit.items():
        if col is None:
            continue
        if col not in cols:
            what = "call number" if role == "callnumber" else role
            raise LoansError(f"{name}: no column {col!r} for the {what} (found: {found}); "
                             f"name the right one with {known.OPTION[role]}")
        chosen[role] = col
    for role in known.ALIASES:
        if role in known.ON_DEMAND and not (role == "title" and level == "title"):
            continue
        if role in chosen or (role == "callnumber" and "category" in chosen
                              and category_from != "callnumber"):
            continue
        cands = known.find(role, cols)
        if len(cands) > 1:
            opt = known.OPTION[role]
            raise LoansError(
                f"{name}: two columns could be the {role}: {cands[0]!r} and {cands[1]!r}; "
                f"name the one to use with {opt}, e.g. {opt} {cands[0]!r}")
        if cands:
            chosen[role] = cands[0]
    if category_from == "callnumber" and "category" in chosen and "category" not in explicit:
        chosen.pop("category")     # derive from the call number, not a ready-made category
    if level == "title" and "title" not in chosen:
        raise LoansError(f"{name}: --level title needs a title column ('title_id', "
                         f"'biblionumber', 'instanceId', 'bib_record_id', 'MMS Id', 'title', "
                         f"...) but found: {found}; name it with --title-col")
    if level == "title" and "item" not in chosen:
        chosen["item"] = chosen["title"]      # copies are not needed: titles are placed
    if "item" not in chosen:
        msg = (f"{name}: no column 'item_id' or other known name for the item (found: "
               f"{found}); name the right one with --item-col")
        if not any(r in chosen for r in ("patron", "time", "session")):
            msg += ("; these columns match no known export (Koha, Evergreen, FOLIO, Alma, "
                    "Sierra): name them with --item-col, --patron-col and --time-col "
                    "(or --session-col)")
        raise LoansError(msg)
    if "session" not in chosen and "patron" not in chosen and "time" not in chosen:
        raise LoansError(f"{name}: no column 'patron_id' or other known name for the patron "
                         f"(found: {found}); name the right one with --patron-col, or a "
                         f"visit id with --session-col")
    return chosen


# --------------------------------------------------------------------------------------
# reading


class _Counting(io.RawIOBase):
    """A binary file that reports how many of its bytes were read (for a progress bar)."""

    def __init__(self, path: str, progress):
        self._fh = open(path, "rb")
        self.total = os.fstat(self._fh.fileno()).st_size
        self.done = 0
        self._progress = progress
        self._shown = -1

    def readable(self) -> bool:
        return True

    def readinto(self, buf) -> int:
        n = self._fh.readinto(buf)
        self.done += n or 0
        step = self.done * 100 // max(self.total, 1)
        if step != self._shown:          # at most 100 updates
            self._shown = step
            self._progress(self.done, self.total)
        return n

    def close(self) -> None:
        self._fh.close()
        super().close()


def _open_for_pandas(src: _Source, progress):
    """(target, compression) for pandas; with ``progress`` and a large file on disk, a
    stream that reports the bytes read."""
    compression = "gzip" if src.kind == "gzip" else None
    if (progress is None or isinstance(src.target, io.BytesIO)
            or os.path.getsize(src.target) < PROGRESS_BYTES):
        return src.pandas_target(), compression
    raw = io.BufferedReader(_Counting(src.target, progress), buffer_size=1 << 20)
    return (gzip.GzipFile(fileobj=raw) if compression else raw), None


def _read_table(src: _Source, usecols: list[str], encoding: str, delimiter: str,
                msgs: list, all_used: bool, progress=None) -> pd.DataFrame:
    kw = dict(sep=delimiter, dtype=str, keep_default_na=False, na_filter=False,
              skipinitialspace=True, engine="c")
    if not all_used:    # fewer columns held in memory; pandas then skips extra fields
        kw["usecols"] = lambda c: str(c).strip() in usecols
    try:
        try:
            target, compression = _open_for_pandas(src, progress)
            try:
                df = pd.read_csv(target, encoding=encoding, compression=compression, **kw)
            finally:
                if hasattr(target, "close"):
                    target.close()
        except UnicodeDecodeError as exc:
            if encoding not in ("utf-8-sig",) or src.text:
                raise LoansError(f"{src.name}: not valid {encoding} ({exc.reason}); pass "
                                 f"--encoding with the export's encoding") from None
            msgs.append((logging.WARNING,
                         f"{src.name}: not valid UTF-8 past the first "
                         f"{_SAMPLE_BYTES // 1024} KiB; read as cp1252 (Windows Latin-1); "
                         f"pass --encoding to choose another"))
            df = pd.read_csv(src.pandas_target(), encoding="cp1252",
                             compression="gzip" if src.kind == "gzip" else None, **kw)
    except pd.errors.ParserError as exc:
        msg = str(exc).strip().splitlines()[-1]
        raise LoansError(f"{src.name}: not a readable CSV ({msg}); check the delimiter "
                         f"and quoting") from None
    except (EOFError, gzip.BadGzipFile, zlib.error):
        raise _truncated(src.name) from None
    except OSError as exc:
        if src.kind == "gzip":
            raise _truncated(src.name) from None
        raise LoansError(f"{src.name}: cannot be read ({exc}); check the file") from None
    df.columns = [str(c).strip() for c in df.columns]
    return df


def _parquet_columns(src: _Source) -> list[str]:
    pq = _pyarrow_parquet(src.name)
    try:
        return list(pq.read_schema(src.pandas_target()).names)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise LoansError(f"{src.name}: not a readable Parquet file ({exc})") from None


def _pyarrow_parquet(name: str):
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise LoansError(f"{name}: reading Parquet needs pyarrow; install the extra with "
                         f"pip install 'shelfplan[parquet]', or export CSV") from None
    return pq


def _read_parquet(src: _Source, usecols: list[str]) -> pd.DataFrame:
    pq = _pyarrow_parquet(src.name)
    try:
        df = pq.read_table(src.pandas_target(), columns=usecols).to_pandas()
    except Exception as exc:
        raise LoansError(f"{src.name}: not a readable Parquet file ({exc})") from None
    out = pd.DataFrame(index=df.index)
    for c in df.columns:
        s = df[c]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            s = s.dt.tz_localize(None)     # keep the wall clock, as for text timestamps
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            s = s.dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
        out[str(c)] = s.astype(object).where(s.notna(), "").astype(str)
    return out


def read_loans(
    source,
    *,
    patron_col: str | None = None,
    item_col: str | None = None,
    time_col: str | None = None,
    category_col: str | None = None,
    session_col: str | None = None,
    strict: bool = False,
    encoding: str | None = None,
    clock_col: str | None = None,
    type_col: str | None = None,
    branch_col: str | None = None,
    dayfirst: bool | None = None,
    session_gap=None,
    max_session_items: int = MAX_SESSION_ITEMS,
    category_from: str | None = None,
    scheme: str = "auto",
    category_level: int = 1,
    hash_patrons: bool = False,
    patron_salt: str | None = None,
    title_col: str | None = None,
    level: str = "item",
    progress=None,
) -> Loans:
    """Read a loans export (CSV, gzip CSV or Parquet; path, ``-`` or a file object).

    Columns left as ``None`` are found by name (:mod:`shelfplan.ingest.columns`); an
    option always wins. ``encoding`` ``None``: UTF-8 with or without BOM, else
    cp1252 with a warning. ``dayfirst`` settles 03/04/2024 (an error when the
    dates leave it open). ``session_gap`` (a pandas Timedelta or string like
    ``"30min"``) starts a new visit after that long without a loan, instead of
    the calendar date. ``max_session_items`` drops larger sessions (0: none).
    ``category_from="callnumber"`` derives categories with
    :func:`shelfplan.ingest.callnumber.parse` (``scheme``, ``category_level``);
    ``"column"`` takes them as written; ``None`` (default) is ``"column"``, except
    at level ``"category"`` when the only category column is a call number.
    ``hash_patrons`` keeps a salted hash of the patron id as ``table["patron"]``
    (salt ``patron_salt``, else ``$SHELFPLAN_PATRON_SALT``, else random).
    With ``strict``, rows with an unparsable timestamp or an empty id are an
    error; otherwise they are dropped with a warning. ``level`` (:data:`LEVELS`)
    says what is placed: ``"title"`` takes the title column (``title_col`` or
    found by name) as the unit, ``"category"`` needs a category.
    ``progress(done_bytes, total_bytes)`` is called while a large CSV file
    (:data:`PROGRESS_BYTES` or more) is parsed.
    """
    level = level or "item"
    category_from_given = category_from
    category_from = category_from or "column"
    scheme = scheme or "auto"
    category_level = category_level or 1
    if level not in LEVELS:
        raise LoansError(f"--level must be one of {', '.join(LEVELS)}, got {level!r}")
    if title_col and level != "title":
        raise LoansError("--title-col is used only with --level title; add --level title")
    if category_from not in ("column", "callnumber"):
        raise LoansError(f"--category-from must be column or callnumber, got {category_from!r}")
    if max_session_items is None or int(max_session_items) < 0:
        raise LoansError(f"--max-session-items must be 0 or more, got {max_session_items!r}")
    gap = _gap(session_gap)
    msgs: list[tuple[int, str]] = []       # logged only when the read succeeds
    src = _Source(source)
    name = src.name

    if src.kind == "parquet":
        cols = _parquet_columns(src)
        delimiter = None
    else:
        sample = _sample(src)
        enc = _choose_encoding(sample, encoding, src, msgs)
        cols, delimiter = _header(sample, enc, name)

    explicit = {"patron": patron_col, "item": item_col, "time": time_col,
                "category": category_col, "session": session_col, "clock": clock_col,
                "type": type_col, "branch": branch_col, "title": title_col}
    explicit = {k: v for k, v in explicit.items() if v}
    if category_from == "callnumber" and "category" in explicit:
        explicit["callnumber"] = explicit.pop("category")
    chosen = _resolve(cols, explicit, name, category_from, level)
    if (level == "category" and category_from_given is None and "callnumber" in chosen
            and "category" not in chosen):
        # whole categories from a call-number column: group the call numbers into
        # classes, not one block per call number
        category_from = "callnumber"
        msgs.append((logging.INFO, f"{name}: --level category: grouping the call numbers in "
                                   f"{chosen['callnumber']!r} into classes (--category-from "
                                   f"callnumber); --category-from column takes each call "
                                   f"number as a category"))
    if level == "category" and not (chosen.get("category") or chosen.get("callnumber")):
        raise LoansError(f"{name}: --level category needs a category column ('category', "
                         f"or a call number with --category-from callnumber) but found: "
                         f"{', '.join(cols)}; name it with --category-col")
    if "clock" in chosen and "time" not in chosen:
        chosen.pop("clock")
    if category_from == "callnumber" and "callnumber" not in chosen:
        raise LoansError(f"{name}: --category-from callnumber needs a call-number column "
                         f"(found: {', '.join(cols)}); name it with --category-col")
    if "session" in chosen:
        if gap is not None:
            raise LoansError("--session-gap cannot be used with --session-col: the session "
                             "column already defines the visits")

    usecols = list(dict.fromkeys(chosen.values()))
    df = (_read_parquet(src, usecols) if src.kind == "parquet"
          else _read_table(src, usecols, enc, delimiter, msgs, len(usecols) == len(cols),
                           progress))
    if df.empty:
        raise LoansError(f"{name}: has a header but no loans; export the rows too")
    n_read = len(df)
    dropped: dict[str, int] = {}
    notes: list[str] = []

    auto = {r: c for r, c in chosen.items() if r not in explicit}
    if (any(known.normal(c) != known.normal(known.ALIASES[r][0]) for r, c in auto.items())
            or (delimiter not in (None, ","))):
        shown = ", ".join(f"{r}={c!r}" for r, c in chosen.items())
        how = f"; delimiter {_NAMES[delimiter]}" if delimiter not in (None, ",") else ""
        notes.append(f"{name}: columns {shown}{how}")

    # --- transaction types: keep checkouts ------------------------------------------------
    if "type" in chosen:
        df = _keep_checkouts(df, chosen, name, dropped, notes, msgs, "type" in explicit)

    # --- ids --------------------------------------------------------------------------------
    item_c = chosen["title"] if level == "title" else chosen["item"]
    session_c = chosen.get("session")
    patron_c = chosen.get("patron")
    key_c = session_c or patron_c
    items = _strip(df[item_c])
    bad = items.str.lower().isin(MISSING_IDS).to_numpy()
    key = None
    if key_c is not None:
        key = _strip(df[key_c])
        key_missing = key.str.lower().isin(MISSING_IDS).to_numpy()
        bad_any = bad | key_missing
    else:
        key_missing = np.zeros(len(df), dtype=bool)
        bad_any = bad
    if bad_any.any():
        k = int(bad_any.sum())
        which = key_c if key_missing.any() else item_c
        first = int(bad_any.nonzero()[0][0])
        line = int(df.index[first]) + 2
        # a missing id is shown as it is written (empty, NaN, ...): never a real patron id
        shown = key.iloc[first] if key_missing[first] else items.iloc[first]
        if strict:
            raise LoansError(f"{name}: {k} rows have an empty or missing id in {which!r} "
                             f"(e.g. {shown!r} at line {line}); fill them in or drop "
                             f"--strict to skip them")
        msgs.append((logging.WARNING, f"{name}: dropped {k} rows with an empty or missing id "
                                      f"(e.g. {shown!r} at line {line})"))
        dropped["empty id"] = k
    bad = bad_any

    if level == "title":
        copies = ""
        if chosen.get("item") not in (None, item_c):
            n_copies = _strip(df[chosen["item"]])[~bad].nunique()
            copies = f"{n_copies} copies in "
        notes.append(f"{name}: placing titles from {item_c!r}: {copies}"
                     f"{items[~bad].nunique()} titles")

    # --- time ---------------------------------------------------------------------------------
    ts = None
    time_c = chosen.get("time")
    if time_c is not None:
        raw_ts = _strip(df[time_c])
        if "clock" in chosen:
            clock = _strip(df[chosen["clock"]])
            raw_ts = raw_ts.where(clock == "", raw_ts + " " + clock)
        ts = _parse_timestamps(raw_ts, dayfirst=dayfirst, name=name, col=time_c,
                               lines=df.index.to_numpy() + 2, ignore=bad,
                               example=lambda i: _example_row(df, i, chosen))
        bad_ts = np.isnat(ts) & ~bad
        if bad_ts.any():
            k = int(bad_ts.sum())
            first = int(bad_ts.nonzero()[0][0])
            example, line = raw_ts.iloc[first], int(df.index[first]) + 2
            if k == int((~bad).sum()):
                raise LoansError(
                    f"{name}: no value in column {time_c!r} is a timestamp (e.g. {example!r} "
                    f"at line {line}); use ISO 8601 like 2024-03-01T10:15:00, or "
                    f"--time-col for another column")
            if strict:
                raise LoansError(f"{name}: {k} unparsable timestamps in {time_c!r}, e.g. "
                                 f"{example!r} at line {line}; fix them or drop "
                                 f"--strict to skip those rows")
            msgs.append((logging.WARNING,
                         f"{name}: dropped {k} rows with an unparsable timestamp, e.g. "
                         f"{example!r} at line {line}"))
            dropped["bad timestamp"] = k
        bad = bad | np.isnat(ts)
    if gap is not None and ts is None:
        raise LoansError(f"{name}: --session-gap needs a timestamp column (found: "
                         f"{', '.join(cols)}); name it with --time-col")

    # --- sessions -------------------------------------------------------------------------------
    keep = ~bad
    if not keep.any():
        raise LoansError(f"{name}: no usable loans left after dropping bad rows; check the "
                         f"id and timestamp columns")
    items = items[keep]
    t_ns = ts[keep].astype("datetime64[ns]") if ts is not None else None
    pcode = n_patrons = patron_keys = None
    if patron_c is not None:
        codes, uniq = pd.factorize(key[keep] if key_c == patron_c else _strip(df[patron_c])[keep],
                                   sort=False)
        pcode = codes.astype(np.int64)
        n_patrons = len(uniq)
        if hash_patrons:
            patron_keys = _hash(uniq, patron_salt)
    if session_c is not None:
        rule = f"session column {session_c!r}"
        session = pd.factorize(key[keep], sort=False)[0].astype(np.int64)
    elif pcode is None:
        branch_c = chosen.get("branch")
        parts = [t_ns.view(np.int64)]
        if branch_c is not None:
            parts.append(pd.factorize(_strip(df[branch_c])[keep])[0].astype(np.int64))
        session = _group(parts)
        rule = ("same checkout timestamp" + (" + branch" if branch_c else "")
                + " (approximation: no patron column)")
        notes.append(f"{name}: no patron column: loans with the same checkout timestamp"
                     + (f" and {branch_c!r}" if branch_c else "")
                     + " form one visit, an approximation")
    elif gap is not None:
        session = _gap_sessions(pcode, t_ns.view(np.int64), gap)
        rule = f"patron + gap {_fmt_gap(gap)}"
    elif t_ns is not None:
        day = t_ns.astype("datetime64[D]").view(np.int64)
        session = _group([pcode, day])
        rule = "patron + calendar date"
    else:
        session = pcode
        rule = "patron (no timestamp column)"

    out = pd.DataFrame({"session": session, "item": items.to_numpy(dtype=object)})
    if t_ns is not None:
        out["timestamp"] = t_ns
    cat_c = chosen.get("category") or chosen.get("callnumber")
    cat_src = None
    if cat_c is not None:
        cat_src = {"category_from": "column"}
        given = explicit.get("category") or explicit.get("callnumber")
        cat = _strip(df[cat_c])[keep].str.strip('"').str.strip()
        if category_from == "callnumber":
            from shelfplan.ingest.callnumber import parse
            labels, used, n_other = parse(cat.to_numpy(dtype=object), scheme, category_level)
            out["category"] = labels
            notes.append(f"{name}: categories from call numbers in {cat_c!r}: {used.upper()} "
                         f"level {category_level}; {n_other} loans with a call number that "
                         f"does not parse are in the group 'other'")
            cat_src = {"category_from": "callnumber", "scheme": used,
                       "category_level": int(category_level)}
            if given:
                cat_src["category_col"] = given
            cat_c = f"{cat_c} ({used} level {category_level})"
        else:
            out["category"] = cat.where(cat != "", None).to_numpy(dtype=object)
            if given:
                cat_src["category_col"] = given
    if patron_keys is not None:
        out["patron"] = patron_keys[pcode]
    if pcode is not None:
        out["_p"] = pcode
    if max_session_items:
        out = _cap_sessions(out, int(max_session_items), name, dropped, msgs)
    if out.empty:
        raise LoansError(f"{name}: no usable loans left after dropping bad rows; check the "
                         f"id and timestamp columns")
    if pcode is not None:
        n_patrons = int(np.count_nonzero(np.bincount(out["_p"].to_numpy())))
        out = out.drop(columns="_p")

    if level == "category" and not out["category"].notna().any():
        raise LoansError(f"{name}: --level category needs categories, but column {cat_c!r} "
                         f"is empty; name another with --category-col")
    for lvl, text in msgs:
        log.log(lvl, "%s", text)
    for text in notes:
        log.info("%s", text)
    mapping = {r: c for r, c in chosen.items()}
    if cat_c is not None:
        mapping["category"] = cat_c
        mapping.pop("callnumber", None)
    return Loans(
        table=out,
        session_rule=rule,
        source=name,
        n_rows_read=n_read,
        dropped=dropped,
        has_category=cat_c is not None and bool(out["category"].notna().any()),
        n_patrons=n_patrons,
        notes=notes,
        columns=mapping,
        level=level,
        category_source=cat_src,
        title_col=explicit.get("title") if level == "title" else None,
    )


def _strip(s: pd.Series) -> pd.Series:
    return s.str.strip()


def _group(parts: list[np.ndarray]) -> np.ndarray:
    """One int64 group number per distinct combination of the integer arrays."""
    if len(parts) == 1:
        return pd.factorize(parts[0], sort=False)[0].astype(np.int64)
    a, b = parts
    a = pd.factorize(a, sort=False)[0].astype(np.int64)
    b_codes = pd.factorize(b, sort=False)[0].astype(np.int64)
    combined = a * (int(b_codes.max()) + 1) + b_codes
    return pd.factorize(combined, sort=False)[0].astype(np.int64)


def _gap(value):
    if value is None or value == "" or value == 0:
        return None
    try:
        gap = pd.Timedelta(value)
    except (ValueError, TypeError):
        raise LoansError(f"--session-gap must be a duration like 30min or 2h, got "
                         f"{value!r}") from None
    if gap <= pd.Timedelta(0):
        raise LoansError(f"--session-gap must be positive, got {value!r}")
    return gap


def _fmt_gap(gap: pd.Timedelta) -> str:
    minutes = gap.total_seconds() / 60
    return f"{minutes:g} min"


def _gap_sessions(pcode: np.ndarray, t: np.ndarray, gap: pd.Timedelta) -> np.ndarray:
    """A new visit when the patron changes or after more than ``gap`` without a loan."""
    order = np.lexsort((t, pcode))
    p, tt = pcode[order], t[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = (p[1:] != p[:-1]) | (np.diff(tt) > gap.value)
    session = np.empty(len(order), dtype=np.int64)
    session[order] = np.cumsum(new) - 1
    return session


def _hash(ids, salt: str | None) -> np.ndarray:
    """Salted SHA-256 (HMAC) of each id, 16 hex digits: stable for one salt, not reversible."""
    salt = salt or os.environ.get(SALT_ENV) or secrets.token_hex(16)
    key = salt.encode("utf-8")
    return np.array([hmac.new(key, str(i).encode("utf-8"), hashlib.sha256).hexdigest()[:16]
                     for i in ids], dtype=object)


def _cap_sessions(out: pd.DataFrame, cap: int, name: str, dropped: dict, msgs: list):
    """Drop sessions with more than ``cap`` distinct items (a filter before estimation)."""
    s = out["session"].to_numpy()
    rows = np.bincount(s)
    if rows.max() <= cap:
        return out
    suspect = rows > cap
    sel = suspect[s]
    icode = pd.factorize(out["item"].to_numpy()[sel])[0].astype(np.int64)
    pairs = np.unique(s[sel] * (int(icode.max()) + 1) + icode)
    distinct = np.bincount(pairs // (int(icode.max()) + 1), minlength=len(rows))
    big = distinct > cap
    if not big.any():
        return out
    drop = big[s]
    k_rows, k_sessions = int(drop.sum()), int(big.sum())
    dropped[f"session over {cap} items"] = k_rows
    msgs.append((logging.WARNING,
                 f"{name}: dropped {k_sessions} sessions with more than {cap} items "
                 f"({k_rows} loans; bulk or staff checkouts?); --max-session-items 0 keeps "
                 f"them"))
    return out.loc[~drop].reset_index(drop=True)


def _example_row(df: pd.DataFrame, i: int, chosen: dict) -> str:
    """Line ``i`` of the file for a message, with the patron column left out."""
    hidden = {chosen.get("patron")}
    parts = [f"{c}={df[c].iloc[i]!r}" for c in df.columns if c not in hidden]
    return f"line {int(df.index[i]) + 2}: " + ", ".join(parts)


def _keep_checkouts(df, chosen, name, dropped, notes, msgs, explicit: bool) -> pd.DataFrame:
    col = chosen["type"]
    raw = _strip(df[col])
    codes, uniq = pd.factorize(raw, sort=False)
    kinds = np.array([known.transaction_kind(u) for u in uniq], dtype=object)
    if not any(k is not None for k in kinds):
        if explicit:
            raise LoansError(f"{name}: no value in column {col!r} is a known transaction type "
                             f"(e.g. {uniq[0]!r}); expected checkout codes like issue, o or "
                             f"checkedout")
        notes.append(f"{name}: column {col!r} holds no transaction types (e.g. {uniq[0]!r}); "
                     f"not used")
        chosen.pop("type")
        return df
    kind = kinds[codes]
    keep = kind == "checkout"
    if not keep.any():
        raise LoansError(f"{name}: no checkouts in column {col!r} (found: "
                         f"{', '.join(map(repr, uniq[:5]))}); shelfplan needs checkout rows")
    counts = pd.Series(np.where(pd.isna(kind), "unknown type", kind)[~keep]).value_counts()
    for k, v in counts.items():
        dropped[str(k)] = int(v)
    if len(counts):
        unknown = [u for u, k in zip(uniq, kinds) if k is None]
        what = ", ".join(f"{v} {k}" for k, v in counts.items())
        notes.append(f"{name}: kept {int(keep.sum())} checkouts of {len(df)} rows by "
                     f"{col!r}; dropped {what}"
                     + (f" (unknown codes: {', '.join(map(repr, unknown[:5]))})"
                        if unknown else ""))
    return df.loc[keep]


# --------------------------------------------------------------------------------------
# timestamps

_OFFSET = r"(\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$"
_OFFSET_RE = re.compile(_OFFSET)
_NUMERIC_DATE = re.compile(
    r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})"
    r"(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*([AaPp][Mm])?)?$")


def _parse_timestamps(raw: pd.Series, *, dayfirst=None, name="", col="", lines=None,
                      ignore=None, example=None) -> np.ndarray:
    """ISO 8601 / RFC 3339 (``Z`` or offsets, date-only too) and DD/MM/YYYY or
    MM/DD/YYYY to naive wall-clock datetime64[ns]; unparsable values are NaT.

    Values with a UTC offset keep their local wall-clock time, so the calendar
    date of a loan is the date the library saw. Day/month order comes from
    ``dayfirst`` or, when ``None``, from the data (an error if it stays open).
    Mixing ISO and day/month dates in one column is an error.
    """
    n = len(raw)
    lines = np.arange(n) + 2 if lines is None else lines
    ignore = np.zeros(n, dtype=bool) if ignore is None else ignore
    values = raw.to_numpy(dtype=object)
    empty = (raw == "").to_numpy()
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    todo = ~empty
    # fast path: one pass of pandas' ISO 8601 parser, unless the first values carry offsets
    sample = values[todo][:1000]
    if not any(_OFFSET_RE.search(v) for v in sample):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                parsed = pd.to_datetime(pd.Series(values[todo]), format="ISO8601",
                                        errors="coerce")
            if not isinstance(parsed.dtype, pd.DatetimeTZDtype):
                out[todo] = parsed.to_numpy(dtype="datetime64[ns]")
        except Exception:   # mixed offsets further down: the careful path below
            pass
    todo &= np.isnat(out)
    if todo.any():
        rest = pd.Series(values[todo]).str.replace(_OFFSET_RE, r"\1", regex=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pd.to_datetime(rest, format="ISO8601", errors="coerce")
        out[todo] = parsed.to_numpy(dtype="datetime64[ns]")
    iso_ok = ~np.isnat(out) & ~ignore
    todo &= np.isnat(out)
    if not todo.any():
        return out

    idx = np.flatnonzero(todo)
    m = pd.Series(values[idx]).str.extract(_NUMERIC_DATE)
    hit = m[0].notna().to_numpy()
    if not hit.any():
        return out
    idx, m = idx[hit], m.loc[hit].reset_index(drop=True)
    a, b = m[0].astype(int).to_numpy(), m[1].astype(int).to_numpy()
    year = m[2].astype(int).to_numpy()
    year = np.where(year < 100, 2000 + year, year)
    hour = m[3].fillna("0").astype(int).to_numpy()
    ampm = m[6].fillna("").str.lower().to_numpy()
    hour = np.where((ampm == "pm") & (hour < 12), hour + 12, hour)
    hour = np.where((ampm == "am") & (hour == 12), 0, hour)
    minute = m[4].fillna("0").astype(int).to_numpy()
    second = m[5].fillna("0").astype(int).to_numpy()

    def build(day, month):
        frame = pd.DataFrame({"year": year, "month": month, "day": day, "hour": hour,
                              "minute": minute, "second": second})
        bad = (month < 1) | (month > 12) | (day < 1) | (day > 31)
        frame.loc[bad, ["month", "day"]] = 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = pd.to_datetime(frame, errors="coerce").to_numpy(dtype="datetime64[ns]")
        t[bad] = np.datetime64("NaT")
        return t

    t_dmy, t_mdy = build(a, b), build(b, a)
    ok_dmy, ok_mdy = ~np.isnat(t_dmy), ~np.isnat(t_mdy)
    counted = ~ignore[idx]
    if dayfirst is None:
        only_d = ok_dmy & ~ok_mdy & counted
        only_m = ok_mdy & ~ok_dmy & counted
        if only_d.any() and only_m.any():
            i, j = idx[only_d.argmax()], idx[only_m.argmax()]
            raise LoansError(
                f"{name}: column {col!r} mixes day/month and month/day dates "
                f"({values[i]!r} at line {lines[i]}, {values[j]!r} at line {lines[j]}); "
                f"export one date format")
        if only_d.any():
            dayfirst = True
        elif only_m.any():
            dayfirst = False
        elif (ok_dmy & counted).any():
            i = idx[(ok_dmy & counted).argmax()]
            shown = example(i) if example is not None else f"line {lines[i]}: {values[i]!r}"
            raise LoansError(
                f"{name}: dates in column {col!r} can be read day/month or month/day "
                f"({shown}); pass --dayfirst (DD/MM/YYYY) or --monthfirst (MM/DD/YYYY)")
    t = t_dmy if dayfirst else t_mdy
    good = ~np.isnat(t) & counted
    if iso_ok.any() and good.any():
        i_iso = int(iso_ok.argmax())
        j = idx[good.argmax()]
        raise LoansError(
            f"{name}: column {col!r} mixes date formats: {int(iso_ok.sum())} values like "
            f"{values[i_iso]!r} (ISO 8601) and {int(good.sum())} like {values[j]!r} "
            f"(line {lines[j]}); export the column in one format")
    out[idx] = t
    return out


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
                 has_category=loans.has_category, n_patrons=loans.n_patrons,
                 notes=list(loans.notes), columns=dict(loans.columns),
                 level=loans.level, category_source=loans.category_source,
                 title_col=loans.title_col)
