"""When each book joined the collection: the acquisition date column of a holdings export.

Recognised names (any case, spaces and punctuation ignored): ``date_added``,
``acquired``, ``acquisition_date``, Koha ``dateaccessioned``, Evergreen
``create_date``, FOLIO ``metadata.createdDate``, Sierra ``CREATED(ITEM)``,
Alma ``Receiving Date``, ``created``. ``--growth-years`` turns them into each
class's additions per year (:func:`shelfplan.solve.fill.growth_table`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from shelfplan.errors import HoldingsError
from shelfplan.ingest import columns as known
from shelfplan.ingest.holdings import _as_holdings, _columns, _roles, _table
from shelfplan.ingest.rows import Report
from shelfplan.ingest.source import Source

__all__ = ["ACQUIRED", "read_acquisitions"]

ACQUIRED = ("date_added", "acquired", "acquisition_date", "dateaccessioned", "create_date",
            "metadata.createdDate", "createdDate", "CREATED(ITEM)", "Receiving Date",
            "Creation Date", "created", "date_created")


def read_acquisitions(source, item_col=None) -> pd.Series:
    """Acquisition date of each book (index: item id as str; NaT where a row has none)."""
    with _as_holdings():
        src = Source(source)
        cols, delimiter, enc, whole = _columns(src, None, None)
        found = _roles(cols, {"item": item_col} if item_col else {}, src.name)
        dates = known.find_all(ACQUIRED, cols)
        if not dates:
            raise HoldingsError(f"{src.name}: no acquisition date column (date_added, "
                                f"dateaccessioned, created, ...) among {', '.join(cols)}; "
                                f"`growth_years` needs one, or give `fill` instead")
        item = found["item"][0]
        df = _table(src, [item, dates[0]], cols, enc, delimiter, whole,
                    Report(src.name))
    when = pd.to_datetime(df[dates[0]].astype(str).str.strip().replace("", None),
                          errors="coerce", utc=True, format="mixed")
    out = pd.Series(when.to_numpy(), index=df[item].astype(str).str.strip().to_numpy())
    if out.notna().sum() == 0:
        raise HoldingsError(f"{src.name}: column {dates[0]!r} holds no dates; `growth_years` "
                            f"needs acquisition dates (e.g. 2021-03-04)")
    return out[~out.index.duplicated()]


def acquired_per_year(dates: pd.Series, window_years: float = 5.0) -> tuple[pd.Series, float]:
    """Which books count as recent additions: ``(recent mask, years of the window)`` -
    those acquired in the last ``window_years`` before the newest date (the whole span
    when shorter, at least one year)."""
    t = dates.dropna()
    newest, oldest = t.max(), t.min()
    span = max(1.0, min(window_years, (newest - oldest).days / 365.25))
    cut = newest - pd.Timedelta(days=365.25 * span)
    recent = dates.notna() & (dates > cut)
    return pd.Series(np.asarray(recent), index=dates.index), span
