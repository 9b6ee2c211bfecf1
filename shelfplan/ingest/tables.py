"""Reading the loans table: CSV (pandas' C parser, with a progress count for large
files), Parquet (pyarrow) and Excel workbooks (openpyxl). Every reader gives a
DataFrame of stripped column names and text values (empty string = missing).
"""

from __future__ import annotations

import contextlib
import gzip
import io
import logging
import os
import zipfile
import zlib

import pandas as pd

from shelfplan.errors import HoldingsError, LoansError
from shelfplan.ingest.source import SAMPLE_BYTES, Source, truncated


class Counting(io.RawIOBase):
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


def _open_for_pandas(src: Source, progress, progress_bytes: int):
    """(target, compression) for pandas; with ``progress`` and a file on disk of at least
    ``progress_bytes``, a stream that reports the bytes read."""
    compression = "gzip" if src.kind == "gzip" else None
    if progress is None or not src.on_disk or os.path.getsize(src.target) < progress_bytes:
        return src.pandas_target(), compression
    raw = io.BufferedReader(Counting(src.target, progress), buffer_size=1 << 20)
    return (gzip.GzipFile(fileobj=raw) if compression else raw), None


def read_csv(src: Source, usecols: list[str], encoding: str, delimiter: str, msgs: list,
             all_used: bool, progress=None, progress_bytes: int = 0) -> pd.DataFrame:
    """The columns ``usecols`` of a CSV file as text."""
    kw = dict(sep=delimiter, dtype=str, keep_default_na=False, na_filter=False,
              skipinitialspace=True, engine="c")
    if not all_used:    # fewer columns held in memory; pandas then skips extra fields
        kw["usecols"] = lambda c: str(c).strip() in usecols
    compression = "gzip" if src.kind == "gzip" else None
    try:
        try:
            target, comp = _open_for_pandas(src, progress, progress_bytes)
            try:
                df = pd.read_csv(target, encoding=encoding, compression=comp, **kw)
            finally:
                if hasattr(target, "close"):
                    target.close()
        except UnicodeDecodeError as exc:
            if encoding not in ("utf-8-sig",) or src.text:
                raise LoansError(f"{src.name}: not valid {encoding} ({exc.reason}); pass "
                                 f"`encoding` with the export's encoding") from None
            msgs.append((logging.WARNING,
                         f"{src.name}: not valid UTF-8 past the first "
                         f"{SAMPLE_BYTES // 1024} KiB; read as cp1252 (Windows Latin-1); "
                         f"pass --encoding to choose another"))
            df = pd.read_csv(src.pandas_target(), encoding="cp1252", compression=compression,
                             **kw)
    except pd.errors.ParserError as exc:
        msg = str(exc).strip().splitlines()[-1]
        raise LoansError(f"{src.name}: not a readable CSV ({msg}); check the delimiter "
                         f"and quoting") from None
    except (EOFError, gzip.BadGzipFile, zlib.error):
        raise truncated(src.name) from None
    except OSError as exc:
        if src.kind == "gzip":
            raise truncated(src.name) from None
        raise LoansError(f"{src.name}: cannot be read ({exc}); check the file") from None
    df.columns = [str(c).strip() for c in df.columns]
    return df


# --- Parquet ---------------------------------------------------------------------------


def _pyarrow_parquet(name: str):
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise LoansError(f"{name}: reading Parquet needs pyarrow; install the extra with "
                         f"pip install 'shelfplan[parquet]', or export CSV") from None
    return pq


def parquet_columns(src: Source) -> list[str]:
    pq = _pyarrow_parquet(src.name)
    try:
        return list(pq.read_schema(src.pandas_target()).names)
    except Exception as exc:  # pyarrow raises several types for a bad file
        raise LoansError(f"{src.name}: not a readable Parquet file ({exc}); export it "
                         f"again or as CSV") from None


def read_parquet(src: Source, usecols: list[str]) -> pd.DataFrame:
    pq = _pyarrow_parquet(src.name)
    try:
        df = pq.read_table(src.pandas_target(), columns=usecols).to_pandas()
    except Exception as exc:
        raise LoansError(f"{src.name}: not a readable Parquet file ({exc}); export it "
                         f"again or as CSV") from None
    out = pd.DataFrame(index=df.index)
    for c in df.columns:
        s = df[c]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            s = s.dt.tz_localize(None)     # keep the wall clock, as for text timestamps
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            s = s.dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
        out[str(c)] = s.astype(object).where(s.notna(), "").astype(str)
    return out


# --- Excel -----------------------------------------------------------------------------


def read_excel(src: Source, sheet: str | None) -> pd.DataFrame:
    """One sheet of an .xlsx workbook (the first unless ``sheet`` names one), as text:
    date cells become ISO 8601 text, empty cells empty strings."""
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        raise LoansError(f"{src.name}: reading Excel workbooks needs openpyxl; pip install "
                         f"openpyxl, or export CSV") from None
    try:
        with pd.ExcelFile(src.pandas_target(), engine="openpyxl") as book:
            names = list(book.sheet_names)
            if sheet is not None and sheet not in names:
                raise LoansError(f"{src.name}: no sheet {sheet!r} (sheets: "
                                 f"{', '.join(map(repr, names))}); name one with `sheet`")
            if not names:
                raise LoansError(f"{src.name}: the workbook has no sheets; export the loans "
                                 f"again")
            df = pd.read_excel(book, sheet_name=sheet or names[0], dtype=str,
                               keep_default_na=False, na_filter=False)
    except LoansError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise LoansError(f"{src.name}: not a readable Excel workbook ({exc}); save it again "
                         f"as .xlsx or export CSV") from None
    if len(df.columns) == 0:
        raise LoansError(f"{src.name}: sheet {sheet or names[0]!r} is empty; name the sheet "
                         f"with the loans with `sheet` (sheets: {', '.join(map(repr, names))})")
    df.columns = [str(c).strip() for c in df.columns]
    df.attrs["sheets"], df.attrs["sheet"] = names, sheet or names[0]
    return df


@contextlib.contextmanager
def sheet_hint(whole):
    """Around finding the columns of a table read by :func:`read_excel`: a column error
    on a workbook with several sheets also says which sheet was read and lists the
    others (the first sheet is often a summary, not the loans)."""
    try:
        yield
    except (LoansError, HoldingsError) as exc:
        names = [] if whole is None else whole.attrs.get("sheets", [])
        if len(names) < 2:
            raise
        raise type(exc)(f"{exc}; this is sheet {whole.attrs['sheet']!r} of the workbook "
                         f"(sheets: {', '.join(map(repr, names))}): name the one with the "
                         f"rows with `sheet`") from None
