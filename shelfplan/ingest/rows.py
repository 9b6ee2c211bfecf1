"""Which rows are loans, and their values: checkouts by transaction type, rows with
missing ids, the checkout time of each row (unparsable: dropped; empty: kept as
an undated loan), and each loan's category.

Every function reports through a :class:`Report` (warnings and notes, logged
only when the whole read succeeds; counts of dropped rows by reason).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from shelfplan.errors import LoansError
from shelfplan.ingest import columns as known
from shelfplan.ingest.timestamps import parse_timestamps

#: Id values that mean "no id" (compared in lower case): empty, and how spreadsheets
#: and pandas write a missing value. Such rows are dropped (an error with ``strict``);
#: such timestamps make an undated loan.
MISSING_IDS = frozenset({"", "nan", "-nan", "null", "none", "na", "n/a", "#n/a", "<na>"})


@dataclass
class Report:
    """What a read says: ``msgs`` (level, text), ``notes`` and ``dropped`` rows by reason."""

    name: str
    msgs: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    dropped: dict = field(default_factory=dict)

    def warn(self, text: str) -> None:
        self.msgs.append((logging.WARNING, text))


def strip(s: pd.Series) -> pd.Series:
    return s.str.strip()


def line_of(df: pd.DataFrame, i: int) -> int:
    """The file's line number of row ``i`` (the header is line 1)."""
    return int(df.index[i]) + 2


def example_row(df: pd.DataFrame, i: int, chosen: dict) -> str:
    """Line ``i`` of the file for a message, with the patron column left out."""
    hidden = {chosen.get("patron")}
    parts = [f"{c}={df[c].iloc[i]!r}" for c in df.columns if c not in hidden]
    return f"line {line_of(df, i)}: " + ", ".join(parts)


def keep_checkouts(df, chosen: dict, rep: Report, explicit: bool) -> pd.DataFrame:
    """Only the checkout rows, by the transaction-type column (others counted)."""
    col, name = chosen["type"], rep.name
    codes, uniq = pd.factorize(strip(df[col]), sort=False)
    kinds = np.array([known.transaction_kind(u) for u in uniq], dtype=object)
    if not any(k is not None for k in kinds):
        if explicit:
            raise LoansError(f"{name}: no value in column {col!r} is a known transaction type "
                             f"(e.g. {uniq[0]!r}); expected checkout codes like issue, o or "
                             f"checkedout")
        rep.notes.append(f"{name}: column {col!r} holds no transaction types (e.g. "
                         f"{uniq[0]!r}); not used")
        chosen.pop("type")
        return df
    kind = kinds[codes]
    keep = kind == "checkout"
    if not keep.any():
        raise LoansError(f"{name}: no checkouts in column {col!r} (found: "
                         f"{', '.join(map(repr, uniq[:5]))}); shelfplan needs checkout rows")
    counts = pd.Series(np.where(pd.isna(kind), "unknown type", kind)[~keep]).value_counts()
    for k, v in counts.items():
        rep.dropped[str(k)] = int(v)
    if len(counts):
        unknown = [u for u, k in zip(uniq, kinds) if k is None]
        what = ", ".join(f"{v} {k}" for k, v in counts.items())
        rep.notes.append(f"{name}: kept {int(keep.sum())} checkouts of {len(df)} rows by "
                         f"{col!r}; dropped {what}"
                         + (f" (unknown codes: {', '.join(map(repr, unknown[:5]))})"
                            if unknown else ""))
    return df.loc[keep]


def ids(df, chosen: dict, level: str, strict: bool, rep: Report):
    """(items, visit key or None, bad): the unit ids, the session/patron ids, and the
    rows with an empty or missing id (dropped with a warning; an error with ``strict``)."""
    item_c = chosen["title"] if level == "title" else chosen["item"]
    key_c = chosen.get("session") or chosen.get("patron")
    items = strip(df[item_c])
    bad = items.str.lower().isin(MISSING_IDS).to_numpy()
    key = None
    key_missing = np.zeros(len(df), dtype=bool)
    if key_c is not None:
        key = strip(df[key_c])
        key_missing = key.str.lower().isin(MISSING_IDS).to_numpy()
    bad_any = bad | key_missing
    if bad_any.any():
        k = int(bad_any.sum())
        which = key_c if key_missing.any() else item_c
        first = int(bad_any.nonzero()[0][0])
        line = line_of(df, first)
        # a missing id is shown as it is written (empty, NaN, ...): never a real patron id
        shown = key.iloc[first] if key_missing[first] else items.iloc[first]
        if strict:
            raise LoansError(f"{rep.name}: {k} rows have an empty or missing id in {which!r} "
                             f"(e.g. {shown!r} at line {line}); fill them in or drop "
                             f"`strict` to skip them")
        rep.warn(f"{rep.name}: dropped {k} rows with an empty or missing id "
                 f"(e.g. {shown!r} at line {line})")
        rep.dropped["empty id"] = k
    if level == "title":
        copies = ""
        if chosen.get("item") not in (None, item_c):
            copies = f"{strip(df[chosen['item']])[~bad_any].nunique()} copies in "
        rep.notes.append(f"{rep.name}: placing titles from {item_c!r}: {copies}"
                         f"{items[~bad_any].nunique()} titles")
    return items, key, bad_any


def times(df, chosen: dict, bad: np.ndarray, dayfirst, strict: bool, rep: Report):
    """(timestamps or None, bad): each row's checkout time (NaT: undated, kept); rows
    with an unparsable time join ``bad``. An entirely empty time column is taken as
    none at all (``chosen`` loses it)."""
    time_c = chosen.get("time")
    if time_c is None:
        return None, bad
    date = strip(df[time_c])
    empty = _missing(date)
    if not (~empty & ~bad).any():
        _no_times(len(df), time_c, chosen, strict, rep)
        return None, bad
    raw = date
    if "clock" in chosen:
        clock = strip(df[chosen["clock"]])
        raw = raw.where(clock == "", raw + " " + clock)
    if empty.any():
        raw = raw.where(~empty, "")
    ts = parse_timestamps(raw, dayfirst=dayfirst, name=rep.name, col=time_c,
                          lines=df.index.to_numpy() + 2, ignore=bad | empty,
                          example=lambda i: example_row(df, i, chosen))
    bad_ts = np.isnat(ts) & ~bad & ~empty
    if bad_ts.any():
        _unparsable(df, raw, bad_ts, int((~bad & ~empty).sum()), time_c, strict, rep)
    undated = empty & ~bad
    if undated.any():
        _undated(df, undated, time_c, chosen, strict, rep)
    return ts, bad | bad_ts


def _missing(values: pd.Series) -> np.ndarray:
    """Which values are a missing marker (:data:`MISSING_IDS`); only short values are
    compared, so a column of timestamps costs one length pass."""
    short = (values.str.len() <= max(map(len, MISSING_IDS))).to_numpy()
    out = np.zeros(len(values), dtype=bool)
    if short.any():
        out[short] = values[short].str.lower().isin(MISSING_IDS).to_numpy()
    return out


def _no_times(n: int, time_c: str, chosen: dict, strict: bool, rep: Report) -> None:
    name = rep.name
    if strict:
        raise LoansError(f"{name}: column {time_c!r} is empty in all {n} rows; fill in the "
                         f"checkout times, or drop `strict` to read the file without "
                         f"timestamps")
    if "patron" not in chosen and "session" not in chosen:
        raise LoansError(f"{name}: column {time_c!r} is empty and there is no patron "
                         f"column; name the patron column with `patron_col` or a visit id "
                         f"with `session_col`")
    rep.warn(f"{name}: column {time_c!r} is empty in all {n} rows; read as a file without "
             f"timestamps (one visit per patron)")
    chosen.pop("time")
    chosen.pop("clock", None)


def _unparsable(df, raw, bad_ts, n_dated: int, time_c: str, strict: bool, rep: Report):
    name, k = rep.name, int(bad_ts.sum())
    first = int(bad_ts.nonzero()[0][0])
    example, line = raw.iloc[first], line_of(df, first)
    if k == n_dated:
        raise LoansError(
            f"{name}: no value in column {time_c!r} is a timestamp (e.g. {example!r} "
            f"at line {line}); use ISO 8601 like 2024-03-01T10:15:00, or "
            f"`time_col` for another column")
    if strict:
        raise LoansError(f"{name}: {k} unparsable timestamps in {time_c!r}, e.g. "
                         f"{example!r} at line {line}; fix them or drop "
                         f"`strict` to skip those rows")
    rep.warn(f"{name}: dropped {k} rows with an unparsable timestamp, e.g. "
             f"{example!r} at line {line}")
    rep.dropped["bad timestamp"] = k


def _undated(df, undated, time_c: str, chosen: dict, strict: bool, rep: Report) -> None:
    name, k = rep.name, int(undated.sum())
    line = line_of(df, int(undated.nonzero()[0][0]))
    if strict:
        raise LoansError(f"{name}: {k} rows have an empty timestamp in {time_c!r} (e.g. "
                         f"line {line}); fill them in, or drop `strict` to keep them as "
                         f"undated loans")
    how = ("their visits come from the session column" if "session" in chosen
           else "each one a visit of its own (no patron column)" if "patron" not in chosen
           else "one undated visit per patron")
    rep.warn(f"{name}: {k} loans have an empty timestamp in {time_c!r} (e.g. line {line}); "
             f"kept as undated loans, {how}")


def categories(df, chosen: dict, explicit: dict, keep, category_from: str, scheme: str,
               category_level: int, rep: Report):
    """(labels or None, the column as named in the mapping, how categories were made)."""
    cat_c = chosen.get("category") or chosen.get("callnumber")
    if cat_c is None:
        return None, None, None
    given = explicit.get("category") or explicit.get("callnumber")
    cat = strip(df[cat_c])[keep].str.strip('"').str.strip()
    if category_from != "callnumber":
        src = {"category_from": "column", **({"category_col": given} if given else {})}
        return cat.where(cat != "", None).to_numpy(dtype=object), cat_c, src
    from shelfplan.ingest.callnumber import parse
    labels, used, n_other = parse(cat.to_numpy(dtype=object), scheme, category_level)
    rep.notes.append(f"{rep.name}: categories from call numbers in {cat_c!r}: {used.upper()} "
                     f"level {category_level}; {n_other} loans with a call number that "
                     f"does not parse are in the group 'other'")
    src = {"category_from": "callnumber", "scheme": used,
           "category_level": int(category_level)}
    if given:
        src["category_col"] = given
    return labels, f"{cat_c} ({used} level {category_level})", src
