"""Checkout timestamps as exported, to naive wall-clock ``datetime64[ns]``.

ISO 8601 / RFC 3339 (``Z`` or offsets, date-only too) go through one pass of
pandas' ISO parser; offsets are dropped keeping the wall clock; DD/MM/YYYY and
MM/DD/YYYY are read with the order the data settle (or ``dayfirst``).
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from shelfplan.errors import LoansError

OFFSET = r"(\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$"
_OFFSET_RE = re.compile(OFFSET)
_NUMERIC_DATE = re.compile(
    r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})"
    r"(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*([AaPp][Mm])?)?$")


def parse_timestamps(raw: pd.Series, *, dayfirst=None, name="", col="", lines=None,
                     ignore=None, example=None) -> np.ndarray:
    """ISO 8601 / RFC 3339 and DD/MM/YYYY or MM/DD/YYYY to naive wall-clock
    datetime64[ns]; empty and unparsable values are NaT.

    Values with a UTC offset keep their local wall-clock time, so the calendar
    date of a loan is the date the library saw. Day/month order comes from
    ``dayfirst`` or, when ``None``, from the data (an error if it stays open).
    Mixing ISO and day/month dates in one column is an error. ``ignore`` marks
    rows that do not count (dropped for other reasons); ``lines`` numbers the
    rows for messages and ``example(i)`` shows row ``i``.
    """
    n = len(raw)
    lines = np.arange(n) + 2 if lines is None else lines
    ignore = np.zeros(n, dtype=bool) if ignore is None else ignore
    values = raw.to_numpy(dtype=object)
    given = (raw != "").to_numpy()
    out = _iso(values, given)
    iso_ok = ~np.isnat(out) & ~ignore
    todo = np.isnat(out) & given
    if not todo.any():
        return out
    idx = np.flatnonzero(todo)
    m = pd.Series(values[idx]).str.extract(_NUMERIC_DATE)
    hit = m[0].notna().to_numpy()
    if not hit.any():
        return out
    idx, m = idx[hit], m.loc[hit].reset_index(drop=True)
    t_dmy, t_mdy = _numeric(m)
    counted = ~ignore[idx]
    if dayfirst is None:
        dayfirst = _day_order(t_dmy, t_mdy, counted, idx, values, lines, name, col, example)
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


def _iso(values: np.ndarray, todo: np.ndarray) -> np.ndarray:
    """The values pandas' ISO 8601 parser reads (offsets dropped); NaT elsewhere."""
    out = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[ns]")
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
    todo = todo & np.isnat(out)
    if todo.any():
        rest = pd.Series(values[todo]).str.replace(_OFFSET_RE, r"\1", regex=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pd.to_datetime(rest, format="ISO8601", errors="coerce")
        out[todo] = parsed.to_numpy(dtype="datetime64[ns]")
    return out


def _numeric(m: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The matches of :data:`_NUMERIC_DATE` read day-first and month-first."""
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

    return build(a, b), build(b, a)


def _day_order(t_dmy, t_mdy, counted, idx, values, lines, name, col, example) -> bool | None:
    """Day-first (True) or month-first (False), as the values settle it; an error when
    they mix both or leave it open."""
    ok_dmy, ok_mdy = ~np.isnat(t_dmy), ~np.isnat(t_mdy)
    only_d = ok_dmy & ~ok_mdy & counted
    only_m = ok_mdy & ~ok_dmy & counted
    if only_d.any() and only_m.any():
        i, j = idx[only_d.argmax()], idx[only_m.argmax()]
        raise LoansError(
            f"{name}: column {col!r} mixes day/month and month/day dates "
            f"({values[i]!r} at line {lines[i]}, {values[j]!r} at line {lines[j]}); "
            f"export one date format")
    if only_d.any():
        return True
    if only_m.any():
        return False
    if (ok_dmy & counted).any():
        i = idx[(ok_dmy & counted).argmax()]
        shown = example(i) if example is not None else f"line {lines[i]}: {values[i]!r}"
        raise LoansError(
            f"{name}: dates in column {col!r} can be read day/month or month/day "
            f"({shown}); pass --dayfirst (DD/MM/YYYY) or --monthfirst (MM/DD/YYYY)")
    return None
