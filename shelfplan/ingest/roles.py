"""Which column of the file is which field (patron, item, time, ...): the options
name columns, the rest are found by name (:mod:`shelfplan.ingest.columns`), and
combinations that cannot work are errors that name the option to fix them.
"""

from __future__ import annotations

import logging

from shelfplan.errors import LoansError
from shelfplan.ingest import columns as known
from shelfplan.ingest.source import DELIMITER_NAMES


def explicit_columns(opts, category_from: str) -> dict:
    """role -> column named by an option."""
    explicit = {"patron": opts.patron_col, "item": opts.item_col, "time": opts.time_col,
                "category": opts.category_col, "session": opts.session_col,
                "clock": opts.clock_col, "type": opts.type_col, "branch": opts.branch_col,
                "title": opts.title_col}
    explicit = {k: v for k, v in explicit.items() if v}
    if category_from == "callnumber" and "category" in explicit:
        explicit["callnumber"] = explicit.pop("category")
    return explicit


def choose(cols: list[str], explicit: dict, name: str, category_from: str,
           category_from_given, level: str, gap, msgs: list) -> tuple[dict, str]:
    """(role -> column, category_from) for the file's columns ``cols``."""
    chosen = resolve(cols, explicit, name, category_from, level)
    found = ", ".join(cols)
    if (level == "category" and category_from_given is None and "callnumber" in chosen
            and "category" not in chosen):
        # whole categories from a call-number column: group the call numbers into
        # classes, not one block per call number
        category_from = "callnumber"
        msgs.append((logging.INFO, f"{name}: --level category: grouping the call numbers in "
                                   f"{chosen['callnumber']!r} into classes (--category-from "
                                   f"callnumber); --category-from column takes each call "
                                   f"number as a category"))
    if level == "category" and not (chosen.get("category") or chosen.get("callnumber")):
        raise LoansError(f"{name}: `level` category needs a category column ('category', "
                         f"or a call number with `category_from` callnumber) but found: "
                         f"{found}; name it with `category_col`")
    if "clock" in chosen and "time" not in chosen:
        chosen.pop("clock")
    if category_from == "callnumber" and "callnumber" not in chosen:
        raise LoansError(f"{name}: `category_from` callnumber needs a call-number column "
                         f"(found: {found}); name it with `category_col`")
    if "session" in chosen and gap is not None:
        raise LoansError("`session_gap` cannot be used with `session_col`: the session "
                         "column already defines the visits")
    return chosen, category_from


def resolve(cols: list[str], explicit: dict, name: str, category_from: str,
            level: str = "item") -> dict:
    """role -> column; explicit options win; two candidates for one role is an error."""
    found = ", ".join(cols)
    chosen: dict[str, str] = {}
    for role, col in explicit.items():
        if col not in cols:
            what = "call number" if role == "callnumber" else role
            raise LoansError(f"{name}: no column {col!r} for the {what} (found: {found}); "
                             f"name the right one with {known.OPTION[role]}")
        chosen[role] = col
    for role in known.ALIASES:
        if role in known.ON_DEMAND and not (role == "title" and level == "title"):
            continue
        if role in chosen or (role == "callnumber" and "category" in chosen
                              and category_from != "callnumber"):
            continue
        cands = known.find(role, cols)
        if len(cands) > 1:
            opt = known.OPTION[role]
            raise LoansError(
                f"{name}: two columns could be the {role}: {cands[0]!r} and {cands[1]!r}; "
                f"name the one to use with {opt}, e.g. {opt} {cands[0]!r}")
        if cands:
            chosen[role] = cands[0]
    if category_from == "callnumber" and "category" in chosen and "category" not in explicit:
        chosen.pop("category")     # derive from the call number, not a ready-made category
    _check_units(chosen, name, found, level)
    return chosen


def _check_units(chosen: dict, name: str, found: str, level: str) -> None:
    """The unit column (item or title) and a visit key (patron, time or session)."""
    if level == "title" and "title" not in chosen:
        raise LoansError(f"{name}: `level` title needs a title column ('title_id', "
                         f"'biblionumber', 'instanceId', 'bib_record_id', 'MMS Id', 'title', "
                         f"...) but found: {found}; name it with `title_col`")
    if level == "title" and "item" not in chosen:
        chosen["item"] = chosen["title"]      # copies are not needed: titles are placed
    if "item" not in chosen:
        msg = (f"{name}: no column 'item_id' or other known name for the item (found: "
               f"{found}); name the right one with `item_col`")
        if not any(r in chosen for r in ("patron", "time", "session")):
            msg += ("; these columns match no known export (Koha, Evergreen, FOLIO, Alma, "
                    "Sierra): name them with `item_col`, `patron_col` and `time_col` "
                    "(or `session_col`)")
        raise LoansError(msg)
    if "session" not in chosen and "patron" not in chosen and "time" not in chosen:
        raise LoansError(f"{name}: no column 'patron_id' or other known name for the patron "
                         f"(found: {found}); name the right one with `patron_col`, or a "
                         f"visit id with `session_col`")


def mapping_note(chosen: dict, explicit: dict, delimiter, name: str) -> str | None:
    """A note saying which column was taken for what, when any was found under another
    name than the canonical one or the delimiter is not a comma."""
    auto = {r: c for r, c in chosen.items() if r not in explicit}
    if not (any(known.normal(c) != known.normal(known.ALIASES[r][0]) for r, c in auto.items())
            or delimiter not in (None, ",")):
        return None
    shown = ", ".join(f"{r}={c!r}" for r, c in chosen.items())
    how = f"; delimiter {DELIMITER_NAMES[delimiter]}" if delimiter not in (None, ",") else ""
    return f"{name}: columns {shown}{how}"
