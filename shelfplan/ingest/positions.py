"""Today's shelving as a layout (``shelfplan import-positions``).

Reads a table ``item_id,x,y,z`` (metres, in the hall's coordinates; an
optional ``category`` column is kept) and builds a :class:`Layout`.

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
import logging
import os

import numpy as np
import pandas as pd

from shelfplan.model.bound import lower_bound
from shelfplan.errors import LayoutError
from shelfplan.model.estimate import estimate
from shelfplan.judge.evaluate import coverage, feasibility, prepare_loans, restrict
from shelfplan.model.hall import Hall, load_hall
from shelfplan.layout import Layout
from shelfplan.model.objective import min_spacing

log = logging.getLogger(__name__)

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


def check_positions(X: np.ndarray, ids: np.ndarray, hall: Hall, name: str = "positions"
                    ) -> tuple[dict, list[str]]:
    """Feasibility counts and warnings for imported positions (spacing, hall)."""
    tmp = Layout(hall=hall, items=ids, positions=X, p=np.zeros(len(ids)))
    checks = feasibility(tmp)
    warnings = []
    if checks["outside_hall"]:
        out = np.nonzero(~hall.contains(X))[0]
        k = out[0]
        warnings.append(f"{name}: {checks['outside_hall']} books are outside the hall "
                        f"{hall.name!r} (e.g. {ids[k]} at ({X[k, 0]:g}, {X[k, 1]:g}, "
                        f"{X[k, 2]:g})); check the coordinates and the hall file")
    if checks["pairs_too_close"]:
        warnings.append(f"{name}: {checks['pairs_too_close']} pairs of books are closer than "
                        f"d_min={hall.d_min:g} m (smallest spacing {checks['min_spacing']:.3f} m)")
    return checks, warnings


def import_positions(source, hall, *, loans=None, since=None, until=None,
                     read_options: dict | None = None) -> tuple[Layout, list[str]]:
    """Build a :class:`Layout` from a positions CSV in ``hall`` (path or :class:`Hall`).

    Returns ``(layout, warnings)``; the warnings are also logged. With
    ``loans`` (path, ``-`` or :class:`~shelfplan.ingest.loans.Loans`), ``p``, the
    objective and the lower bound are filled from the loans in ``[since, until)``.

        >>> layout, warnings = import_positions("shelves.csv", "hall.json", loans="loans.csv")
    """
    if not isinstance(hall, Hall):
        hall = load_hall(hall)
    name = os.fspath(source) if not hasattr(source, "read") else getattr(source, "name", "<stream>")
    table, warnings = read_positions(source)
    ids = table["item_id"].to_numpy(dtype=object)
    X = table[["x", "y", "z"]].to_numpy(dtype=float)
    checks, more = check_positions(X, ids, hall, name)
    warnings += more
    cats = None
    if "category" in table:
        cats = np.array([None if pd.isna(c) else str(c) for c in table["category"]], dtype=object)
    p = np.zeros(len(ids))
    objective, lb, estimation = {}, {}, {}
    if loans is not None:
        data = prepare_loans(loans, since=since, until=until, read_options=read_options)
        cov = coverage(data, ids)
        if cov["items_missing"]:
            warnings.append(f"{data.source}: {cov['items_missing']} borrowed items "
                            f"({100 * cov['share_loans_missing']:.1f} % of loans) are not in "
                            f"{name}; left out of p and the objective")
        if cov["loans_missing"] == cov["loans"]:
            raise LayoutError(f"{name}: none of its items appears in {data.source}; check that "
                              f"both use the same item ids")
        est = estimate(restrict(data, ids))
        index = pd.Index(ids).get_indexer(est.items)
        p[index] = est.p
        e = hall.entrance
        ent = float(p @ np.linalg.norm(X - e, axis=1))
        pair = est.pair.tocoo()
        Xe = X[index]
        pr = float(pair.data @ np.linalg.norm(Xe[pair.row] - Xe[pair.col], axis=1))
        objective = {"total": ent + pr, "entrance_term": ent, "pair_term": pr}
        lb = lower_bound(est.p, est.pair, hall.d_min, hall.height)
        estimation = dict(est.summary)
        estimation["coverage"] = cov
        if cats is None and est.categories is not None:
            cats = np.full(len(ids), None, dtype=object)
            cats[index] = est.categories
    for w in warnings:
        log.warning("%s", w)
    layout = Layout(hall=hall, items=ids, positions=X, p=p, categories=cats,
                    objective=objective, lower_bound=lb, min_spacing=min_spacing(X),
                    estimation=estimation,
                    solver={"method": "import-positions", "source": name,
                            "checks": checks, "warnings": warnings})
    return layout, warnings
