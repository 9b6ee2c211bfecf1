"""The estimates file: what ``shelfplan estimate`` writes and ``fit --estimates`` reads.

One zip archive (docs/formats.md) holding a JSON header,
``shelfplan-estimates.json`` (format name and version, the reading summary, the
options used, the sources), and NumPy ``.npy`` arrays: the item ids (UTF-8
bytes and offsets, sorted as the estimator sorts them), ``n_i``, the upper
triangle of ``c_ij`` as coordinates (``pair_i < pair_j``, ``pair_c``) and each
item's category. Nothing in it is pickled. It is written to a temporary name
and renamed, so a failed run leaves no half-written file.

:class:`Counts` is what every engine computes;
:func:`shelfplan.model.estimate.read_estimates` turns a file back into the
:class:`~shelfplan.model.estimate.Estimates` that
:func:`~shelfplan.model.estimate.estimate_loans` returns for the same loans.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from shelfplan.errors import LoansError

__all__ = ["Counts", "FORMAT", "VERSION", "HEADER", "write_estimates", "read_counts",
           "is_estimates_file"]

FORMAT = "shelfplan-estimates"
#: the format version this shelfplan writes and reads
VERSION = 1
#: the archive member with the JSON header (also how the file is recognised)
HEADER = "shelfplan-estimates.json"


@dataclass
class Counts:
    """Item-level counts of MODEL.md sections 1-2, as an engine computes them.

    ``items`` sorted (the order of :func:`pandas.factorize` with ``sort=True``),
    ``counts`` n_i, the pairs ``pair_i < pair_j`` with ``pair_c`` = c_ij,
    ``categories`` each item's most frequent category (None: none) or ``None``
    without a category column; ``summary`` the reading summary
    (:func:`shelfplan.model.estimate.estimate` has the keys), ``meta`` the
    options, sources, level and period.
    """

    items: np.ndarray
    counts: np.ndarray
    pair_i: np.ndarray
    pair_j: np.ndarray
    pair_c: np.ndarray
    categories: np.ndarray | None
    summary: dict
    meta: dict = field(default_factory=dict)

    def matrix(self) -> sp.csr_matrix:
        """c_ij as a symmetric CSR matrix."""
        n = len(self.items)
        i = np.concatenate([self.pair_i, self.pair_j]).astype(np.int64)
        j = np.concatenate([self.pair_j, self.pair_i]).astype(np.int64)
        c = np.concatenate([self.pair_c, self.pair_c]).astype(np.int64)
        return sp.csr_matrix((c, (i, j)), shape=(n, n))


# --------------------------------------------------------------------------------------
# writing


def _text(values) -> tuple[np.ndarray, np.ndarray]:
    """Strings as (UTF-8 bytes, offsets)."""
    encoded = [str(v).encode("utf-8") for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets


def _untext(blob: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    raw = blob.tobytes()
    return np.array([raw[a:b].decode("utf-8") for a, b in zip(offsets[:-1], offsets[1:])],
                    dtype=object)


def write_estimates(counts: Counts, path) -> None:
    """Write ``counts`` to ``path`` (atomically: a temporary file, then a rename)."""
    path = os.fspath(path)
    arrays = {"counts": np.asarray(counts.counts, dtype=np.int64),
              "pair_i": np.asarray(counts.pair_i, dtype=np.int32),
              "pair_j": np.asarray(counts.pair_j, dtype=np.int32),
              "pair_c": np.asarray(counts.pair_c, dtype=np.int64)}
    arrays["items_utf8"], arrays["items_offsets"] = _text(counts.items)
    if counts.categories is not None:
        cats = np.asarray(counts.categories, dtype=object)
        known = np.array([c is not None for c in cats])
        names = np.array(sorted({str(c) for c in cats[known]}), dtype=object)
        codes = np.full(len(cats), -1, dtype=np.int32)
        codes[known] = np.searchsorted(names, cats[known].astype(str)) if len(names) else 0
        arrays["category_codes"] = codes
        arrays["categories_utf8"], arrays["categories_offsets"] = _text(names)
    header = {"format": FORMAT, "version": VERSION, "shelfplan": _package_version(),
              "items": int(len(counts.items)), "pairs": int(len(counts.pair_c)),
              "summary": counts.summary, **counts.meta}
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".estimates-", suffix=".tmp", dir=folder)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED,
                             compresslevel=1) as zf:
            zf.writestr(HEADER, json.dumps(header, indent=1, default=str))
            for name, arr in arrays.items():
                with zf.open(f"{name}.npy", "w", force_zip64=True) as fh:
                    np.lib.format.write_array(fh, arr, allow_pickle=False)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)     # as an ordinary new file, not mkstemp's 0600
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("shelfplan")
    except PackageNotFoundError:
        return "unknown"


# --------------------------------------------------------------------------------------
# reading


def is_estimates_file(path) -> bool:
    """Whether ``path`` is an estimates file (a zip archive with the header member)."""
    try:
        path = os.fspath(path)
    except TypeError:
        return False
    if not os.path.isfile(path):
        return False
    with open(path, "rb") as fh:
        if fh.read(4) != b"PK\x03\x04":
            return False
    try:
        with zipfile.ZipFile(path) as zf:
            return HEADER in zf.namelist()
    except (zipfile.BadZipFile, OSError, EOFError):
        # a zip that names the header in its first entry but is cut short: ours, damaged
        with open(path, "rb") as fh:
            return HEADER.encode() in fh.read(256)


def _damaged(name: str, what: str) -> LoansError:
    return LoansError(f"{name}: the estimates file is damaged ({what}); write it again with "
                      f"shelfplan estimate")


def read_counts(path) -> Counts:
    """The :class:`Counts` of an estimates file; a file of another format version,
    a truncated or damaged one is a one-line error that says so."""
    name = os.fspath(path)
    try:
        with zipfile.ZipFile(name) as zf:
            names = set(zf.namelist())
            if HEADER not in names:
                raise LoansError(f"{name}: not a shelfplan estimates file (no {HEADER}); "
                                 f"write one with shelfplan estimate")
            header = json.loads(zf.read(HEADER).decode("utf-8"))
            _check_header(header, name)
            arrays = {}
            for member in sorted(names - {HEADER}):
                with zf.open(member) as fh:
                    arrays[member[:-4]] = np.lib.format.read_array(fh, allow_pickle=False)
    except FileNotFoundError:
        raise LoansError(f"{name}: no such file; check the path to the estimates "
                         f"file") from None
    except (zipfile.BadZipFile, EOFError, zlib.error, ValueError, KeyError) as exc:
        raise _damaged(name, f"{type(exc).__name__}: {exc}") from None
    need = {"counts", "pair_i", "pair_j", "pair_c", "items_utf8", "items_offsets"}
    missing = sorted(need - set(arrays))
    if missing:
        raise _damaged(name, f"no {missing[0]}")
    items = _untext(arrays["items_utf8"], arrays["items_offsets"])
    n = len(items)
    if (len(arrays["counts"]) != n or n != header.get("items")
            or len(arrays["pair_c"]) != header.get("pairs")):
        raise _damaged(name, "its arrays do not match its header")
    categories = None
    if "category_codes" in arrays:
        names_ = _untext(arrays["categories_utf8"], arrays["categories_offsets"])
        codes = arrays["category_codes"]
        categories = np.full(n, None, dtype=object)
        categories[codes >= 0] = names_[codes[codes >= 0]]
    meta = {k: v for k, v in header.items()
            if k not in ("format", "version", "shelfplan", "items", "pairs", "summary")}
    return Counts(items=items, counts=arrays["counts"], pair_i=arrays["pair_i"],
                  pair_j=arrays["pair_j"], pair_c=arrays["pair_c"], categories=categories,
                  summary=header["summary"], meta=meta)


def _check_header(header: dict, name: str) -> None:
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise LoansError(f"{name}: not a shelfplan estimates file (format "
                         f"{header.get('format') if isinstance(header, dict) else None!r}); "
                         f"write one with shelfplan estimate")
    version = header.get("version")
    if version != VERSION:
        raise LoansError(f"{name}: estimates file format version {version} (written by "
                         f"shelfplan {header.get('shelfplan', '?')}), this shelfplan reads "
                         f"version {VERSION}; write it again with this shelfplan's "
                         f"shelfplan estimate")
