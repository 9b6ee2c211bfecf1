"""Read a holdings export: every book the library shelves, borrowed or not (MODEL.md 8.4).

One row per book (copy): an item id, a call number or a category, and optionally a
title, a title id and a width. The file is read with the loans reader's care
(:mod:`shelfplan.ingest.source`, :mod:`shelfplan.ingest.tables`): CSV in any of
the usual delimiters and encodings, gzip, Excel ``.xlsx``, Parquet; column names of
Koha ``items``, Evergreen ``asset.copy``, FOLIO item records, Alma physical-item
reports and Sierra item records are recognised (:data:`shelfplan.ingest.columns.HOLDINGS`).

Which id is the item id: the first known id column present, in the order of
``HOLDINGS["item"]``, which prefers the id the same system's loans export uses
(Koha ``itemnumber``, Evergreen/FOLIO ``id``, Sierra ``RECORD #(ITEM)``, Alma
``Barcode``); ``item_col`` overrides. The other unique id columns are kept
(:attr:`Holdings.alternatives`) so :func:`merge_holdings` can switch to the one the loans actually use. A book cannot have two places:
duplicate ids are an error.
"""

from __future__ import annotations

import contextlib
import logging
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from shelfplan.errors import HoldingsError, LoansError
from shelfplan.ingest import columns as known
from shelfplan.ingest.rows import MISSING_IDS, Report, strip
from shelfplan.ingest.source import Source, choose_encoding, header, sample
from shelfplan.ingest.tables import (parquet_columns, read_csv, read_excel, read_parquet,
                                      sheet_hint)

__all__ = ["Holdings", "Books", "read_holdings", "merge_holdings", "SIERRA_ITEM_BASE",
           "ROLES"]

log = logging.getLogger(__name__)

#: Sierra's database id of item record number r is ``SIERRA_ITEM_BASE + r``
#: (record type ``i`` = 105, shifted 32 bits): ``circ_trans.item_record_id``.
SIERRA_ITEM_BASE = 105 << 32
_SIERRA_RECORD = re.compile(r"^\.?i(\d{6,9})[\dx]$")
#: the option that names each holdings role's column
OPTIONS = {"item": "item_col", "callnumber": "callnumber_col", "category": "category_col",
           "title": "title_col", "title_id": "title_id_col", "width": "width_col"}
#: the roles as the command line names them (``--holdings-col ROLE=NAME``) -> the role
ROLES = {"item_id": "item", "call_number": "callnumber", "category": "category",
         "title": "title", "title_id": "title_id", "width": "width"}
#: widths in a column without a unit in its name are metres, and at most this
MAX_WIDTH_M = 1.0


@dataclass
class Holdings:
    """Every book the library shelves, in file order.

    ``items`` (object array of str ids, unique); ``callnumbers``, ``categories``,
    ``titles``, ``title_ids`` (object arrays, ``None`` where a row has none; the
    attribute is ``None`` when the file has no such column); ``widths`` (float
    metres, NaN where a row has none; ``None`` without a width column).
    ``columns`` says which column was taken for what; ``alternatives`` holds the
    other unique id columns (column -> ids, row-aligned with ``items``);
    ``notes`` and ``warnings`` what the read found (both also logged).
    """

    items: np.ndarray
    callnumbers: np.ndarray | None
    categories: np.ndarray | None
    titles: np.ndarray | None
    widths: np.ndarray | None
    source: str
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    title_ids: np.ndarray | None = None
    alternatives: dict[str, np.ndarray] = field(default_factory=dict)
    item_col_given: bool = False

    def __len__(self) -> int:
        return len(self.items)


@contextlib.contextmanager
def _as_holdings():
    """The shared readers speak of "the loans": say "the holdings" instead."""
    try:
        yield
    except LoansError as exc:
        text = re.sub(r"\bloans\b", "holdings", str(exc)).replace("one loan per", "one book per")
        raise HoldingsError(text) from None


def read_holdings(source, *, item_col=None, callnumber_col=None, category_col=None,
                  title_col=None, width_col=None, encoding=None, sheet=None,
                  strict=False, title_id_col=None) -> Holdings:
    """Read a holdings export (CSV, gzip CSV, Excel ``.xlsx`` or Parquet; a path, ``-``
    or a file object) into :class:`Holdings` (docs/ingest.md, "Holdings").

    Columns left ``None`` are found by name; an option always wins. Rows with an
    empty id are dropped with a warning (an error with ``strict``); rows with
    neither a call number nor a category are kept, with a warning.
    """
    explicit = {"item": item_col, "callnumber": callnumber_col, "category": category_col,
                "title": title_col, "width": width_col, "title_id": title_id_col}
    explicit = {k: v for k, v in explicit.items() if v}
    with _as_holdings():
        src = Source(source)
        rep = Report(src.name)
        cols, delimiter, enc, whole = _columns(src, encoding, sheet)
        with sheet_hint(whole):
            found = _roles(cols, explicit, src.name)
        used = list(dict.fromkeys(c for cs in found.values() for c in cs))
        df = _table(src, used, cols, enc, delimiter, whole, rep)
    return _holdings(df, found, explicit, src.name, strict, rep)


def _columns(src: Source, encoding, sheet):
    """(column names, delimiter, encoding, the whole table when it had to be read)."""
    if sheet is not None and src.kind != "excel":
        raise HoldingsError(f"{src.name}: `sheet` is only for Excel workbooks, this is a "
                            f"{src.kind.replace('csv', 'text')} file; drop `sheet`")
    if src.kind == "parquet":
        return parquet_columns(src), None, None, None
    if src.kind == "excel":
        df = read_excel(src, sheet)
        return list(df.columns), None, None, df
    data = sample(src)
    msgs: list = []
    enc = choose_encoding(data, encoding, src, msgs)
    if not data.decode(enc, errors="replace").lstrip("\ufeff").strip():
        raise HoldingsError(f"{src.name}: the file is empty; expected a CSV with a header "
                            f"row and one book per row (item id, call number)")
    cols, delimiter = header(data, enc, src.name)
    for _, text in msgs:
        log.warning("%s", text)
    return cols, delimiter, enc, None


def _roles(cols: list[str], explicit: dict, name: str) -> dict[str, list[str]]:
    """role -> the columns found for it, best first (an explicit option: that one only)."""
    shown = ", ".join(cols)
    found: dict[str, list[str]] = {}
    for role, names in known.HOLDINGS.items():
        col = explicit.get(role)
        if col is not None and col not in cols:
            raise HoldingsError(f"{name}: no column {col!r} for the {role} (found: {shown}); "
                                f"name the right one with `{OPTIONS[role]}`")
        cands = [col] if col is not None else known.find_all(names, cols)
        if role == "callnumber" and {"label", "callnumberlabel"} & {known.normal(c) for c in cands}:
            # Evergreen: asset.copy's call_number is the id of the asset.call_number row
            cands = [c for c in cands if known.normal(c) != "callnumber"]
        if cands:
            found[role] = cands
    if "item" not in found:
        raise HoldingsError(f"{name}: no item id column ('item_id', 'itemnumber', 'barcode', "
                            f"'id', 'RECORD #(ITEM)', ...) among the columns seen: {shown}; "
                            f"name it with `item_col`")
    return found


def _table(src, used, cols, enc, delimiter, whole, rep) -> pd.DataFrame:
    if whole is not None:
        df = whole[used]
    elif src.kind == "parquet":
        df = read_parquet(src, used)
    else:
        df = read_csv(src, used, enc, delimiter, rep.msgs, len(used) == len(cols))
    if df.empty:
        raise HoldingsError(f"{src.name}: has a header but no books; export the rows too "
                            f"(one book per row)")
    return df


def _lines(index, mask, k: int = 2) -> str:
    """The file lines (the header is line 1) of the first ``k`` rows in ``mask``."""
    lines = (np.asarray(index)[np.asarray(mask)][:k] + 2).tolist()
    return " and ".join(map(str, lines))


def _text(df: pd.DataFrame, cols: list[str]) -> pd.Series:
    """Per row the first non-empty value of ``cols`` (stripped), NaN when all are empty."""
    out = None
    for c in cols:
        s = strip(df[c].astype(str))
        s = s.where(~s.str.lower().isin(MISSING_IDS))
        out = s if out is None else out.fillna(s)
    return out


def _holdings(df, found, explicit, name, strict, rep) -> Holdings:
    item_c = found["item"][0]
    items = strip(df[item_c].astype(str))
    empty = items.str.lower().isin(MISSING_IDS).to_numpy()
    if empty.any():
        k = int(empty.sum())
        what = f"an empty or missing id in {item_c!r} (e.g. line {_lines(df.index, empty, 1)})"
        if strict:
            raise HoldingsError(f"{name}: {k} rows have {what}; fill them in or drop `strict` "
                                f"to skip them")
        rep.warn(f"{name}: dropped {k} rows with {what}")
        df, items = df.loc[~empty], items[~empty]
    _unique(items, item_c, name)
    columns = {"item": item_c}
    values = {}
    for role in ("callnumber", "category", "title", "title_id"):
        if role in found:
            cs = found[role] if role == "callnumber" else found[role][:1]
            values[role] = _text(df, cs)
            columns[role] = " / ".join(cs)
    if "callnumber" not in values and "category" not in values:
        rep.warn(f"{name}: no call-number or category column (found: "
                 f"{', '.join(df.columns)}); books are shelved without call-number order; "
                 f"name one with `callnumber_col` or `category_col`")
    else:
        shelfmark = pd.Series(np.nan, index=df.index, dtype=object)
        for role in ("callnumber", "category"):
            if role in values:
                shelfmark = shelfmark.fillna(values[role])
        n_none = int(shelfmark.isna().sum())
        if n_none:
            rep.warn(f"{name}: {n_none} of {len(df)} books have no call number or category "
                     f"(e.g. line {_lines(df.index, shelfmark.isna(), 1)}); they have no "
                     f"place in call-number order")
    widths = None
    if "width" in found:
        columns["width"] = found["width"][0]
        widths = _widths(df, found["width"][0], name, rep)
    shown = ", ".join(f"{r}={c!r}" for r, c in columns.items())
    rep.notes.append(f"{name}: {len(df)} books; columns {shown}")
    for lvl, text in rep.msgs:
        log.log(lvl, "%s", text)
    for text in rep.notes:
        log.info("%s", text)

    def arr(role):
        s = values.get(role)
        return None if s is None else s.astype(object).where(s.notna(), None).to_numpy()

    return Holdings(items=items.to_numpy(dtype=object), callnumbers=arr("callnumber"),
                    categories=arr("category"), titles=arr("title"), widths=widths,
                    source=name, notes=rep.notes,
                    warnings=[t for lvl, t in rep.msgs if lvl >= logging.WARNING],
                    columns=columns, title_ids=arr("title_id"),
                    alternatives=_alternatives(df, found["item"]),
                    item_col_given="item" in explicit)


def _unique(items: pd.Series, col: str, name: str) -> None:
    dup = items.duplicated(keep=False).to_numpy()
    if not dup.any():
        return
    first = items[dup].iloc[0]
    k = int(items[dup].nunique())
    at = _lines(items.index, (items == first).to_numpy(), 3)
    raise HoldingsError(f"{name}: {k} item ids appear more than once in {col!r} (e.g. "
                        f"{first!r} at lines {at}); a book cannot have two places: remove "
                        f"the duplicate rows, or name a unique id column with `item_col`")


def _alternatives(df: pd.DataFrame, cols: list[str]) -> dict[str, np.ndarray]:
    """The id columns after the first that are complete and unique (and Sierra record
    numbers as ``circ_trans.item_record_id``), row-aligned with the items."""
    out = {}
    for k, c in enumerate(cols):
        s = strip(df[c].astype(str))
        if k and not s.str.lower().isin(MISSING_IDS).any() and not s.duplicated().any():
            out[c] = s.to_numpy(dtype=object)
        m = s.str.lower().str.extract(_SIERRA_RECORD, expand=False)
        if known.normal(c) == "recorditem" and m.notna().all():
            ids = (m.astype(np.int64) + SIERRA_ITEM_BASE).astype(str)
            out[f"{c} as item_record_id"] = ids.to_numpy(dtype=object)
    return out


def _widths(df: pd.DataFrame, col: str, name: str, rep: Report) -> np.ndarray:
    """Widths in metres (NaN where empty); the unit comes from the column name."""
    raw = strip(df[col].astype(str))
    empty = raw.str.lower().isin(MISSING_IDS)
    num = pd.to_numeric(raw.str.replace(",", ".", regex=False).where(~empty), errors="coerce")
    unit = known.normal(col)
    scale = 1e-3 if unit.endswith("mm") else 1e-2 if unit.endswith("cm") else 1.0
    w = num.to_numpy(dtype=float) * scale
    fix = "give widths in metres, or name the unit in the column (width_mm, width_cm)"
    for bad, what in (((num.isna() & ~empty).to_numpy(), "are not numbers"),
                      (w <= 0, "are not more than 0"),
                      ((w > MAX_WIDTH_M) & (scale == 1.0), f"are over {MAX_WIDTH_M:g} m")):
        if bad.any():
            i = int(bad.nonzero()[0][0])
            raise HoldingsError(f"{name}: {int(bad.sum())} widths in {col!r} {what} (e.g. "
                                f"{raw.iloc[i]!r} at line {int(df.index[i]) + 2}); {fix}")
    if empty.any():
        rep.warn(f"{name}: {int(empty.sum())} of {len(df)} books have no width in {col!r}")
    return w


# --------------------------------------------------------------------------------------
# the books of a shelving problem: holdings + borrowed books missing from them


@dataclass
class Books:
    """The books of a shelving problem (MODEL.md 8.4), in order: the holdings in file
    order, then the borrowed items the holdings lack, in the loans' order.

    ``callnumbers``, ``categories``, ``titles``: object arrays (``None`` where
    unknown); a category comes from the holdings, else from the loans.
    ``in_holdings`` marks the books of the holdings file. ``loan_index[k]`` is the
    position in ``items`` of the loans' k-th item (:meth:`expand` uses it).
    ``id_col`` is the holdings column the ids came from.
    """

    items: np.ndarray
    callnumbers: np.ndarray
    categories: np.ndarray
    titles: np.ndarray
    in_holdings: np.ndarray
    loan_index: np.ndarray
    id_col: str
    n_added: int = 0
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.items)

    def expand(self, values, fill=0.0) -> np.ndarray:
        """Per-book values from per-loan-item ones (e.g. p(i)); ``fill`` (p = 0) for
        books never borrowed."""
        values = np.asarray(values)
        out = np.full(len(self.items), fill, dtype=np.result_type(values, type(fill)))
        out[self.loan_index] = values
        return out


def _loan_items(loans):
    """(unique item ids in the loans' order, their categories or None) of
    :class:`~shelfplan.model.estimate.Estimates`, :class:`~shelfplan.ingest.loans.Loans`
    or a sequence of ids."""
    level = getattr(loans, "level", None) or (getattr(loans, "summary", None) or {}).get("level")
    if level not in (None, "item"):
        raise HoldingsError(f"holdings list single books, but the loans place {level!r} "
                            f"units; use `level` item with holdings, or drop the holdings")
    if hasattr(loans, "table"):
        items = pd.Index(pd.unique(loans.table["item"].to_numpy(dtype=object)), dtype=object)
        cats = loans.item_categories() if getattr(loans, "has_category", False) else None
        return items, (None if cats is None else cats.reindex(items).to_numpy(dtype=object))
    ids = getattr(loans, "items", loans)
    items = pd.Index(np.asarray(ids, dtype=object), dtype=object)
    if items.has_duplicates:
        raise HoldingsError("the loans' items must be unique, got repeated ids; pass "
                            "Estimates, Loans or distinct ids")
    cats = getattr(loans, "categories", None)
    return items, (None if cats is None else np.asarray(cats, dtype=object))


def _hits(ids, loan_items: pd.Index) -> int:
    """How many loan items are among ``ids`` (a hash join; ``Index.isin`` is slow on
    pyarrow strings)."""
    return int((pd.Index(ids, dtype=object).get_indexer(loan_items) >= 0).sum())


def _id_column(holdings: Holdings, loan_items: pd.Index, notes: list):
    """(column, ids): the holdings id column that matches most loan items (the chosen
    one unless another matches more and `item_col` was not given)."""
    col, ids = holdings.columns.get("item", "item_id"), holdings.items
    if holdings.item_col_given or not holdings.alternatives or not len(loan_items):
        return col, ids
    first = best = _hits(ids, loan_items)
    if first == len(loan_items):
        return col, ids
    for alt, alt_ids in holdings.alternatives.items():
        hits = _hits(alt_ids, loan_items)
        if hits > best:
            col, ids, best = alt, alt_ids, hits
    if best > first:
        notes.append(f"{holdings.source}: item ids from {col!r}: {best} of {len(loan_items)} "
                     f"borrowed items match it, {first} match {holdings.columns['item']!r}; "
                     f"name the column with `item_col`")
    return col, ids


def merge_holdings(holdings: Holdings, loans) -> Books:
    """The books to shelve: every holdings item (p = 0 when never borrowed) and the
    borrowed items missing from the holdings, added with one warning.

    ``loans``: :class:`~shelfplan.model.estimate.Estimates` (``.items``,
    ``.categories``), :class:`~shelfplan.ingest.loans.Loans` (its items in order of
    first loan) or distinct item ids. Vectorised (hash joins of pandas Indexes).
    """
    loan_items, loan_cats = _loan_items(loans)
    notes: list[str] = []
    warnings: list[str] = []
    col, ids = _id_column(holdings, loan_items, notes)
    pos = pd.Index(ids, dtype=object).get_indexer(loan_items)
    missing = pos < 0
    n_h, n_add = len(ids), int(missing.sum())
    pos[missing] = n_h + np.arange(n_add)
    if n_add:
        eg = ", ".join(map(repr, loan_items[missing][:3]))
        text = (f"{holdings.source}: {n_add} of {len(loan_items)} borrowed items are not in "
                f"the holdings (e.g. {eg}); added as books without a call number")
        if n_add > len(loan_items) / 2:
            text += (f"; do the loans use the ids in {col!r}? name the holdings' id column "
                     f"with `item_col`")
        warnings.append(text)
        log.warning("%s", text)

    def column(values, extra=None):
        out = np.full(n_h + n_add, None, dtype=object)
        if values is not None:
            out[:n_h] = values
        if extra is not None:
            fill = np.full(n_h + n_add, None, dtype=object)
            fill[pos] = extra
            out = np.where(pd.isna(out), fill, out)
        return out

    for text in notes:
        log.info("%s", text)
    return Books(items=np.concatenate([np.asarray(ids, dtype=object),
                                       loan_items[missing].to_numpy(dtype=object)]),
                 callnumbers=column(holdings.callnumbers),
                 categories=column(holdings.categories, loan_cats),
                 titles=column(holdings.titles),
                 in_holdings=np.arange(n_h + n_add) < n_h, loan_index=pos.astype(np.int64),
                 id_col=col, n_added=n_add, notes=notes, warnings=warnings)
