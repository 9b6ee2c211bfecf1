"""Read a table of where books stand today: ``item_id,x,y,z`` (metres, in the
hall's coordinates; an optional ``category`` column is kept).
:func:`shelfplan.judge.current.import_positions` turns it into a layout.

* Errors (nothing is built): unreadable file, missing columns, empty ids,
  non-numeric or non-finite positions.
* Warnings (real shelves are not perfect; the layout is still built and the
  problems are recorded in ``layout.solver["checks"]``): an item listed more
  than once (the first row is kept), positions outside the hall, books
  closer than ``d_min``.

Without loans, ``p`` is 0 for every book and the layout has no objective or
lower bound. With loans, ``p`` and the objective ``S`` are estimated from the
loans restricted to the imported books (as :mod:`shelfplan.judge.evaluate` does),
and the lower bound of MODEL.md section 6 is added.
"""

from __future__ import annotations

import io
import os

import numpy as np
import pandas as pd

from shelfplan.errors import LayoutError

COLUMNS = ("item_id", "x", "y", "z")


def read_positions(source) -> tuple[pd.DataFrame, list[str]]:
    """Read and validate a positions CSV: ``(table, warnings)``.

    ``table`` has columns item_id (str), x, y, z (float) and category when
    the file has one, one row per item (first occurrence kept).
    """
    name = os.fspath(source) if not hasattr(source, "read") else getattr(source, "name", "<stream>")
    if isinstance(source, (str, os.PathLike)):
        if not os.path.exists(name):
            raise LayoutError(f"{name}: no such file; check the path to the positions CSV")
        if os.path.isdir(name):
            raise LayoutError(f"{name}: is a directory, expected a positions CSV file")
        try:
            with open(name, encoding="utf-8-sig") as fh:
                text = fh.read()
        except UnicodeDecodeError:
            raise LayoutError(f"{name}: not a UTF-8 text file; save the positions table as "
                              f"UTF-8 CSV") from None
    else:
        text = source.read()
        if isinstance(text, bytes):
            text = text.decode("utf-8-sig")
    if not text.strip():
        raise LayoutError(f"{name}: the file is empty; expected a CSV with the header "
                          f"item_id,x,y,z")
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                         skipinitialspace=True)
    except pd.errors.ParserError as exc:
        msg = str(exc).strip().splitlines()[-1]
        raise LayoutError(f"{name}: not a readable CSV ({msg}); check the delimiter and "
                          f"quoting") from None
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise LayoutError(f"{name}: missing column{'s' if len(missing) > 1 else ''} "
                          f"{', '.join(missing)} (found: {', '.join(df.columns)}); the table "
                          f"needs the header item_id,x,y,z (metres, hall coordinates)")
    if df.empty:
        raise LayoutError(f"{name}: has a header but no rows; list one book per row")
    ids = df["item_id"].str.strip()
    if (ids == "").any():
        line = int(np.nonzero((ids == "").to_numpy())[0][0]) + 2
        raise LayoutError(f"{name}: empty item_id at line {line}; every row needs an id")
    out = pd.DataFrame({"item_id": ids})
    for c in ("x", "y", "z"):
        raw = df[c].str.strip()
        val = pd.to_numeric(raw, errors="coerce")
        bad = val.isna() | ~np.isfinite(val.fillna(0.0))
        if bad.any():
            k = int(np.nonzero(bad.to_numpy())[0][0])
            raise LayoutError(f"{name}: column {c} must be a number of metres, got "
                              f"{raw.iloc[k]!r} at line {k + 2} ({int(bad.sum())} such rows); "
                              f"fix the value")
        out[c] = val.astype(float)
    if "category" in df.columns:
        cat = df["category"].str.strip().to_numpy(dtype=object)
        out["category"] = pd.Series(np.where(cat == "", None, cat), dtype=object)
    warnings = []
    dup = out["item_id"].duplicated(keep="first")
    if dup.any():
        first = out.loc[dup, "item_id"].iloc[0]
        lines = (np.nonzero((out["item_id"] == first).to_numpy())[0] + 2).tolist()
        warnings.append(f"{name}: {int(dup.sum())} rows repeat an item_id already listed (e.g. "
                        f"{first!r} at lines {', '.join(map(str, lines[:3]))}); kept the first "
                        f"row of each")
        out = out.loc[~dup].reset_index(drop=True)
    return out, warnings
