"""The loans file itself: where it is, what it is, its encoding and its header.

What a file is comes from its first bytes, not its name: gzip, Parquet, an
Excel workbook (a zip with ``xl/workbook.xml``), or text. Bytes that are none of
these (an image, an old ``.xls``, a zip of something else, random data) are a
one-line "not a CSV or Excel file" error. For text, the encoding is chosen
(UTF-8, else cp1252 with a warning) and the delimiter and column names are
sniffed from the first lines.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import logging
import os
import sys
import zipfile
import zlib

from shelfplan.errors import LoansError

DELIMITERS = (",", ";", "\t", "|")
SAMPLE_BYTES = 1 << 18
#: how a delimiter is named in a note
DELIMITER_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}
#: control bytes a text export does not hold (all of C0 but tab, LF, FF, CR; and DEL)
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13)) + b"\x7f"


class Source:
    """A loans file opened for reading: ``target`` (path or buffer), ``kind``, ``name``.

    ``kind`` is ``"gzip"``, ``"parquet"``, ``"excel"`` or ``"csv"``.
    """

    def __init__(self, source):
        if source == "-":
            self.name = "<stdin>"
            raw = sys.stdin.buffer.read()
        elif hasattr(source, "read"):
            self.name = getattr(source, "name", "<stream>")
            raw = source.read()
        else:
            self._open_path(os.fspath(source))
            return
        self.text = isinstance(raw, str)
        if self.text:
            raw = raw.encode("utf-8")
        self.target = io.BytesIO(raw)
        self.kind = kind(raw[:8], self.name, self.target)

    def _open_path(self, name: str) -> None:
        self.name = name
        if not os.path.exists(name):
            raise LoansError(f"{name}: no such file; check the path to the loans file")
        if os.path.isdir(name):
            raise LoansError(f"{name}: is a directory, expected a loans CSV file")
        try:
            with open(name, "rb") as fh:
                head = fh.read(8)
        except OSError as exc:
            raise LoansError(f"{name}: cannot be read ({exc.strerror}); check the file's "
                             f"permissions") from None
        self.target = name
        self.text = False
        self.kind = kind(head, name, name)

    @property
    def on_disk(self) -> bool:
        return not isinstance(self.target, io.BytesIO)

    def open_bytes(self):
        """A fresh binary stream of the (decompressed) content."""
        if not self.on_disk:
            data = self.target.getvalue()
            return gzip.GzipFile(fileobj=io.BytesIO(data)) if self.kind == "gzip" \
                else io.BytesIO(data)
        return gzip.open(self.target, "rb") if self.kind == "gzip" else open(self.target, "rb")

    def pandas_target(self):
        """A path or a fresh buffer for pandas (or pyarrow, openpyxl)."""
        return self.target if self.on_disk else io.BytesIO(self.target.getvalue())


def kind(head: bytes, name: str, target) -> str:
    """What the file is, from its first bytes (and ``.parquet`` in its name)."""
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head[:4] == b"PAR1" or name.lower().endswith(".parquet"):
        return "parquet"
    if head[:4] == b"PK\x03\x04":
        return _zip_kind(name, target)
    if head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise not_text(name, "an old Excel .xls workbook or a password-protected one",
                       "save it as .xlsx (Excel 2007+) or CSV")
    return "csv"


def _zip_kind(name: str, target) -> str:
    try:
        with zipfile.ZipFile(target) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, EOFError):
        raise not_text(name, "a damaged zip archive", "export the loans again") from None
    finally:
        if hasattr(target, "seek"):
            target.seek(0)
    if "xl/workbook.xml" in names:
        return "excel"
    if "shelfplan-estimates.json" in names:
        raise LoansError(f"{name}: is a shelfplan estimates file (counts, not loans); this "
                         f"step needs the loans themselves (fit and baseline take "
                         f"estimates with --estimates)")
    what = ("an OpenDocument spreadsheet (.ods)" if "content.xml" in names
            else "a Word document" if "word/document.xml" in names else "a zip archive")
    raise not_text(name, what, "save the loans as .xlsx or CSV")


def not_text(name: str, found: str, fix: str = "export the loans as CSV (or .xlsx)"):
    return LoansError(f"{name}: not a CSV or Excel file ({found}); {fix}")


def truncated(name: str) -> LoansError:
    return LoansError(f"{name}: the gzip file is truncated or corrupt (it ends before its "
                      f"end marker); copy or export it again")


def sample(src: Source) -> bytes:
    """The first :data:`SAMPLE_BYTES` of the (decompressed) content."""
    try:
        with src.open_bytes() as fh:
            return fh.read(SAMPLE_BYTES)
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError):
        raise truncated(src.name) from None


def check_text(data: bytes, name: str, encoding: str | None) -> None:
    """Refuse bytes that are not text: NUL bytes or many control bytes (a UTF-16 file
    is text only when its encoding is given)."""
    if encoding is not None and codecs.lookup(encoding).name.startswith("utf-16"):
        return
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise LoansError(f"{name}: the file is UTF-16 text; pass `encoding` utf-16 or "
                         f"re-save it as UTF-8")
    head = data[:1 << 16]
    n_control = len(head) - len(head.translate(None, _CONTROL))
    if b"\x00" in head or n_control > max(2, len(head) // 100):
        raise not_text(name, f"binary data: {n_control} control bytes in its first "
                             f"{len(head)} bytes")


def choose_encoding(data: bytes, encoding: str | None, src: Source, msgs: list) -> str:
    """The encoding to read with; ``None`` means UTF-8 (BOM or not), else cp1252."""
    if src.text:
        return "utf-8"
    explicit = encoding is not None
    enc = encoding or "utf-8"
    try:
        codecs.lookup(enc)
    except LookupError:
        raise LoansError(f"`encoding`: unknown encoding {enc!r}; use e.g. utf-8 or "
                         f"cp1252") from None
    check_text(data, src.name, encoding)
    try:
        codecs.getincrementaldecoder(enc)().decode(data, final=len(data) < SAMPLE_BYTES)
    except UnicodeDecodeError as exc:
        if explicit:
            raise LoansError(
                f"{src.name}: not valid {enc} (byte 0x{data[exc.start]:02x} at offset "
                f"{exc.start}); re-save the file as UTF-8 or pass `encoding` cp1252 (or the "
                f"export's encoding)") from None
        msgs.append((logging.WARNING,
                     f"{src.name}: not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset "
                     f"{exc.start}); read as cp1252 (Windows Latin-1); pass --encoding to "
                     f"choose another"))
        return "cp1252"
    return "utf-8-sig" if codecs.lookup(enc).name == "utf-8" else enc


def header(data: bytes, encoding: str, name: str) -> tuple[list[str], str]:
    """Column names and the delimiter, sniffed from the first lines."""
    text = data.decode(encoding, errors="replace").lstrip("\ufeff")
    if not text.strip():
        raise LoansError(f"{name}: the file is empty; expected a CSV with a header row "
                         f"and one loan per row")
    try:
        return _sniff(text, name)
    except csv.Error as exc:
        raise LoansError(f"{name}: not a readable CSV ({exc}); check the delimiter and "
                         f"quoting, or export the loans as CSV") from None


def _sniff(text: str, name: str) -> tuple[list[str], str]:
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
    cols = [c.strip() for c in fields(first, best)]
    body = text.lstrip("\r\n")
    if len(body) >= SAMPLE_BYTES - 4:          # the sample's last line may be cut
        body = body[:body.rfind("\n")]
    for k, row in enumerate(csv.reader(io.StringIO(body, newline=""), delimiter=best,
                                       skipinitialspace=True)):
        if len(row) > len(cols):
            raise LoansError(f"{name}: not a readable CSV (expected {len(cols)} fields in "
                             f"line {k + 1}, saw {len(row)}); check the delimiter and quoting")
    return cols, best
