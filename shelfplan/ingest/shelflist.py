"""Read a shelf list a library already has: where each book stands today on the stacks.

Columns ``item_id, range, face, section, shelf`` and optionally ``slot``,
``call_number``, ``category`` (names matched without case; ``barcode`` or
``item`` for the id, ``side`` for the face, ``bay`` for the section are
understood too). :func:`shelfplan.judge.current.import_positions` turns it into
a shelving plan on a stacked hall.

Errors (one line, nothing built): unreadable file, missing columns, empty
ids, a face other than left/right, section/shelf/slot that are not whole
numbers >= 1, an item listed twice.
"""

from __future__ import annotations

import io
import os

import numpy as np
import pandas as pd

from shelfplan.errors import LayoutError

__all__ = ["SHELF_COLUMNS", "is_shelf_list", "read_shelf_list"]

SHELF_COLUMNS = ("item_id", "range", "face", "section", "shelf")
ALIASES = {"barcode": "item_id", "item": "item_id", "itemnumber": "item_id", "id": "item_id",
           "side": "face", "bay": "section", "callnumber": "call_number",
           "call number": "call_number"}


def _normal(name: str) -> str:
    key = str(name).strip().lower()
    return ALIASES.get(key, key)


def is_shelf_list(columns) -> bool:
    """True when a header names the shelf-list columns (range, face, section, shelf)."""
    got = {_normal(c) for c in columns}
    return {"range", "face", "section", "shelf"} <= got


def _text(source) -> tuple[str, str]:
    name = os.fspath(source) if not hasattr(source, "read") else getattr(source, "name", "<stream>")
    if hasattr(source, "read"):
        data = source.read()
        return (data if isinstance(data, str) else data.decode("utf-8-sig")), name
    if not os.path.isfile(name):
        raise LayoutError(f"{name}: no such file; check the path to the shelf list")
    try:
        with open(name, encoding="utf-8-sig") as fh:
            return fh.read(), name
    except UnicodeDecodeError:
        raise LayoutError(f"{name}: not a UTF-8 text file; save the shelf list as CSV "
                          f"(UTF-8)") from None


def read_shelf_list(source) -> pd.DataFrame:
    """The shelf list as a table with the normalised column names, checked."""
    text, name = _text(source)
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=None,
                         engine="python")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise LayoutError(f"{name}: not a readable CSV ({str(exc).splitlines()[0]}); give a "
                          f"shelf list with the columns {', '.join(SHELF_COLUMNS)}") from None
    df.columns = [_normal(c) for c in df.columns]
    missing = [c for c in SHELF_COLUMNS if c not in df.columns]
    if missing:
        raise LayoutError(f"{name}: missing column{'s' if len(missing) > 1 else ''} "
                          f"{', '.join(missing)} (found {', '.join(map(str, df.columns))}); a "
                          f"shelf list needs {', '.join(SHELF_COLUMNS)}[, slot]")
    if df.empty:
        raise LayoutError(f"{name}: has a header but no rows; list one book per row")
    ids = df["item_id"].str.strip()
    if (ids == "").any():
        line = int(np.argmax((ids == "").to_numpy())) + 2
        raise LayoutError(f"{name}: empty item_id at line {line}; every row needs an id")
    dup = ids.duplicated()
    if dup.any():
        first = ids[dup].iloc[0]
        lines = (np.nonzero((ids == first).to_numpy())[0] + 2).tolist()
        raise LayoutError(f"{name}: item {first!r} is listed {len(lines)} times (lines "
                          f"{', '.join(map(str, lines[:3]))}); a book stands in one place")
    out = pd.DataFrame({"item_id": ids, "range": df["range"].str.strip(),
                        "face": df["face"].str.strip().str.lower()})
    bad = ~out["face"].isin(["left", "right"])
    if bad.any():
        k = int(np.argmax(bad.to_numpy()))
        raise LayoutError(f"{name}: face must be left or right, got {df['face'].iloc[k]!r} at "
                          f"line {k + 2}")
    for col in ("section", "shelf", "slot"):
        if col not in df.columns:
            continue
        val = pd.to_numeric(df[col].str.strip(), errors="coerce")
        bad = val.isna() | (val < 1) | (val != np.floor(val.fillna(0)))
        if bad.any():
            k = int(np.argmax(bad.to_numpy()))
            raise LayoutError(f"{name}: {col} must be a whole number from 1, got "
                              f"{df[col].iloc[k]!r} at line {k + 2}")
        out[col] = val.astype(np.int64)
    for col in ("call_number", "category"):
        if col in df.columns:
            out[col] = df[col].where(df[col].str.strip() != "", None)
    if "floor" in df.columns:            # a building's shelf list (MODEL.md 8.9)
        out["floor"] = df["floor"].str.strip()
    return out
