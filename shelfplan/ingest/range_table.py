"""Ranges from a spreadsheet: one row per range or per bank (CSV or Excel).

Per range: ``id, start_x, start_y, end_x, end_y, sections`` and optionally ``faces,
shelves, books_per_shelf, depth, standoff, floor``. Per bank: ``bank, origin_x,
origin_y, ranges, length, sections`` and optionally ``angle, aisle, faces, shelves,
books_per_shelf, depth, standoff, floor``. One table may hold both kinds (a row with a
``bank`` is a bank). Column names are matched without regard to case, spaces or
dashes. Empty cells take the defaults of MODEL.md 8.1 (or of the options given).
:func:`read_range_table` returns ``{floor id or None: [stacks entries]}`` in row order,
ready for a hall file; the hall's validation (model/stacks.py) checks the values.
"""

from __future__ import annotations

import os
import re

import pandas as pd

from shelfplan.errors import HallError

__all__ = ["read_range_table", "RANGE_COLUMNS", "BANK_COLUMNS"]

RANGE_COLUMNS = ("id", "start_x", "start_y", "end_x", "end_y", "sections")
BANK_COLUMNS = ("bank", "origin_x", "origin_y", "ranges", "length", "sections")
OPTIONAL = ("faces", "shelves", "books_per_shelf", "depth", "standoff", "angle", "aisle",
            "floor")
INTEGER = {"sections", "shelves", "books_per_shelf", "ranges"}


def _normal(c) -> str:
    return re.sub(r"[\s\-]+", "_", str(c).strip().lower())


def _read(path) -> pd.DataFrame:
    path = os.fspath(path)
    if not os.path.exists(path):
        raise HallError(f"{path}: no such ranges table; check the path")
    try:
        if path.lower().endswith((".xlsx", ".xlsm", ".xls")):
            return pd.read_excel(path, dtype=str).fillna("")
        return pd.read_csv(path, dtype=str, keep_default_na=False, sep=None, engine="python")
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError, OSError) as exc:
        raise HallError(f"{path}: not a readable ranges table ({str(exc).splitlines()[0]}); "
                        f"give a CSV or Excel file with one row per range or bank") from None


def _number(v, col, line, path):
    try:
        x = float(v)
    except ValueError:
        raise HallError(f"{path}: line {line}: {col} must be a number, got {v!r}") from None
    if col in INTEGER:
        if x != int(x):
            raise HallError(f"{path}: line {line}: {col} must be a whole number, got {v!r}")
        return int(x)
    return x


def read_range_table(path, *, defaults: dict | None = None, scale: float = 1.0) -> dict:
    """{floor id (None without a floor column): [range and bank entries]}; coordinates
    and lengths times ``scale`` (metres per table unit)."""
    path = os.fspath(path)
    df = _read(path)
    df.columns = [_normal(c) for c in df.columns]
    cols = set(df.columns)
    if df.empty:
        raise HallError(f"{path}: has a header but no rows; list one range or bank per row")
    has_range, has_bank = "id" in cols, "bank" in cols
    if not (has_range or has_bank):
        raise HallError(f"{path}: no 'id' (one row per range: {', '.join(RANGE_COLUMNS)}) "
                        f"or 'bank' column (one row per bank: {', '.join(BANK_COLUMNS)}); "
                        f"found {', '.join(df.columns)}")
    known = set(RANGE_COLUMNS) | set(BANK_COLUMNS) | set(OPTIONAL)
    unknown = sorted(cols - known)
    if unknown:
        import difflib
        near = difflib.get_close_matches(unknown[0], sorted(known), n=1)
        raise HallError(f"{path}: unknown column {unknown[0]!r}"
                        + (f"; did you mean {near[0]!r}?" if near else
                           f"; the columns are {', '.join(sorted(known))}"))
    out: dict = {}
    for k, row in df.iterrows():
        line = int(k) + 2
        cells = {c: str(v).strip() for c, v in row.items() if str(v).strip() != ""}
        is_bank = bool(cells.get("bank"))
        need = BANK_COLUMNS if is_bank else RANGE_COLUMNS
        missing = [c for c in need if c not in cells]
        if missing:
            kind = "bank" if is_bank else "range"
            raise HallError(f"{path}: line {line}: a {kind} row needs {', '.join(missing)}")
        entry = dict(defaults or {})
        if is_bank:
            entry["bank"] = cells["bank"]
            entry["origin"] = [_number(cells["origin_x"], "origin_x", line, path) * scale,
                               _number(cells["origin_y"], "origin_y", line, path) * scale]
            entry["length"] = _number(cells["length"], "length", line, path) * scale
            entry["ranges"] = _number(cells["ranges"], "ranges", line, path)
        else:
            entry["id"] = cells["id"]
            for end in ("start", "end"):
                entry[end] = [_number(cells[f"{end}_x"], f"{end}_x", line, path) * scale,
                              _number(cells[f"{end}_y"], f"{end}_y", line, path) * scale]
        entry["sections"] = _number(cells["sections"], "sections", line, path)
        for col in ("shelves", "books_per_shelf", "angle"):
            if col in cells:
                entry[col] = _number(cells[col], col, line, path)
        for col in ("depth", "standoff", "aisle"):
            if col in cells:
                entry[col] = _number(cells[col], col, line, path) * scale
        if "faces" in cells:
            entry["faces"] = cells["faces"].lower()
        if not is_bank:
            for col in ("angle", "aisle"):
                if col in cells:
                    raise HallError(f"{path}: line {line}: {col} is for a bank row; a range "
                                    f"row gives start and end")
        out.setdefault(cells.get("floor"), []).append(entry)
    return out
