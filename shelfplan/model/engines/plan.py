"""What the streaming engines read: the files (globs expanded), each file's kind and
columns, and which column is which field, decided by the same rules as
:func:`shelfplan.ingest.loans.read_loans` (:mod:`shelfplan.ingest.roles`).

Options that the engines do not stream (listed in docs/scale.md) raise
:class:`Unsupported`; :func:`shelfplan.model.engines.count_loans` then reads
with pandas and says why.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field

from shelfplan.errors import LoansError
from shelfplan.ingest.loans import check_options, file_columns, sources_name
from shelfplan.ingest.options import ReadOptions
from shelfplan.ingest.roles import choose, explicit_columns
from shelfplan.ingest.rows import Report
from shelfplan.ingest.source import Source

__all__ = ["Unsupported", "FilePlan", "ReadPlan", "expand", "make_plan", "WHITESPACE"]

#: what Python's ``str.strip()`` removes (the pandas reader strips every value)
WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())


class Unsupported(Exception):
    """The engine does not stream this input or option; the message says which."""


@dataclass
class FilePlan:
    """One input file: ``path``, ``kind`` (csv, gzip, parquet, excel), its column names,
    delimiter and encoding (text files)."""

    path: str
    kind: str
    columns: list[str]
    delimiter: str | None = None
    encoding: str | None = None


@dataclass
class ReadPlan:
    """The files and the field -> column mapping they share."""

    files: list[FilePlan]
    opts: ReadOptions
    level: str
    category_from: str
    chosen: dict
    explicit: dict
    msgs: list = field(default_factory=list)

    @property
    def name(self) -> str:
        return sources_name([f.path for f in self.files])

    @property
    def unit_col(self) -> str:
        return self.chosen["title"] if self.level == "title" else self.chosen["item"]


def expand(patterns) -> list[str]:
    """Paths and glob patterns to a list of files (each pattern's matches sorted); a
    pattern that matches nothing is an error naming it."""
    out: list[str] = []
    for pat in ([patterns] if isinstance(patterns, (str, os.PathLike)) else patterns):
        pat = os.fspath(pat)
        if pat != "-" and any(ch in pat for ch in "*?[") and not os.path.exists(pat):
            found = sorted(glob.glob(pat, recursive=True))
            if not found:
                raise LoansError(f"{pat}: no file matches this pattern; check the path")
            out.extend(found)
        else:
            out.append(pat)
    if not out:
        raise LoansError("no loans files given; name at least one")
    return list(dict.fromkeys(out))


def make_plan(paths: list[str], options=None) -> ReadPlan:
    """The read plan of ``paths``; raises :class:`Unsupported` for what only the pandas
    reader does, and the reader's own errors (naming the file) for bad files."""
    opts = ReadOptions.coerce(options)
    level, category_from, gap = check_options(opts)
    for flag, why in ((gap is not None, "`session_gap` visits"),
                      (opts.strict, "`strict` reading"),
                      (opts.hash_patrons, "`hash_patrons`"),
                      (category_from == "callnumber", "categories from call numbers")):
        if flag:
            raise Unsupported(why)
    explicit = explicit_columns(opts, category_from)
    files, chosen, msgs = [], None, []
    for path in paths:
        if path == "-":
            raise Unsupported("reading standard input")
        src = Source(path)
        rep = Report(src.name)
        cols, delimiter, enc, _ = file_columns(src, opts, rep)
        msgs.extend(rep.msgs)
        mine, category_from = choose(cols, explicit, src.name, category_from,
                                     opts.category_from, level, gap, msgs)
        if category_from == "callnumber":
            raise Unsupported("categories from call numbers")
        if chosen is None:
            chosen = mine
        elif mine != chosen:
            shown = lambda c: ", ".join(f"{r}={v!r}" for r, v in c.items())  # noqa: E731
            raise LoansError(f"{src.name}: its columns are taken as {shown(mine)} but those "
                             f"of {files[0].path} as {shown(chosen)}; give the files the "
                             f"same columns, or read them one at a time")
        if enc not in (None, "utf-8", "utf-8-sig"):
            raise Unsupported(f"the {enc} encoding of {src.name}")
        files.append(FilePlan(src.name, src.kind, cols, delimiter, enc))
    if "clock" in chosen:
        raise Unsupported("a separate clock column")
    if "patron" not in chosen and "session" not in chosen:
        raise Unsupported("visits by checkout timestamp (no patron column)")
    return ReadPlan(files, opts, level, category_from, chosen, explicit, msgs)
