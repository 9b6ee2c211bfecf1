"""Which column of a library export holds what: names of Koha, Evergreen, FOLIO,
Alma and Sierra exports, and the transaction-type codes that mark a checkout.

Names are compared after :func:`normal` (lower case, letters and digits only),
so ``userId``, ``user_id`` and ``User ID`` are one name. The first name of each
role is the canonical one shelfplan has always used; when it is present it is
taken without looking at the others (so ``category`` beside ``call_number`` is
not ambiguous).
"""

from __future__ import annotations

import re

#: role -> known names (first one canonical), each system's spelling as exported.
ALIASES: dict[str, tuple[str, ...]] = {
    "patron": ("patron_id", "borrowernumber", "cardnumber", "usr", "userId", "user_id",
               "patron_record_id", "patron"),
    "item": ("item_id", "itemnumber", "barcode", "target_copy", "itemId", "item_record_id",
             "Item ID", "Barcode"),
    "time": ("timestamp", "issuedate", "datetime", "xact_start", "loanDate", "loan_date",
             "Loan Date", "transaction_gmt", "checkout_time"),
    "clock": ("Loan Time", "loan_time", "loanTime"),
    # the title (bibliographic record) a copy belongs to: only looked for with --level title
    "title": ("title_id", "biblionumber", "biblio_id", "bib_id", "bib_record_id",
              "instanceId", "instance_id", "MMS Id", "mms_id", "title"),
    "category": ("category",),
    "callnumber": ("call_number", "itemcallnumber", "Call Number", "cn_sort", "callnumber"),
    "type": ("type", "op_code", "action"),
    "branch": ("branch", "branchcode", "circ_lib", "servicePointId", "library",
               "Library Code", "stat_group_code_num"),
}

#: the CLI option that names each role's column
OPTION = {
    "patron": "`patron_col`", "item": "`item_col`", "time": "`time_col`",
    "clock": "`clock_col`", "category": "`category_col`", "callnumber": "`category_col`",
    "type": "`type_col`", "branch": "`branch_col`", "session": "`session_col`",
    "title": "`title_col`",
}

#: roles looked for only when an option asks for them
ON_DEMAND = frozenset({"title"})

#: What a transaction-type value means (after :func:`normal`). Koha statistics
#: ``type`` (issue, renew, return, localuse), Sierra ``op_code`` (o checkout,
#: r renewal, i checkin, n/h holds, f filled hold, b booking, u use count),
#: FOLIO loan ``action`` (checkedout, renewed, checkedin, ...), and plain words.
TRANSACTION: dict[str, str] = {
    **dict.fromkeys(("issue", "checkout", "checkedout", "o", "loan", "charge",
                     "checkedoutthroughoverride"), "checkout"),
    **dict.fromkeys(("renew", "renewal", "renewed", "r", "renewedthroughoverride",
                     "recallrequested"), "renewal"),
    **dict.fromkeys(("return", "checkin", "checkedin", "i", "discharge",
                     "declaredlost", "claimedreturned", "closedloan"), "return"),
    **dict.fromkeys(("localuse", "inhouse", "inhouseuse", "u", "browse"), "in-house use"),
    **dict.fromkeys(("n", "h", "f", "hold", "reserve", "holdrequested", "b", "booking"),
                    "hold"),
    **dict.fromkeys(("writeoff", "payment", "fine", "dueDateChanged".lower(),
                     "patroninfoadded", "staffinfoadded", "itemagedtolost"), "other"),
}


def normal(name: str) -> str:
    """``"User ID"`` -> ``"userid"``: lower case, letters and digits only."""
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


def find(role: str, columns) -> list[str]:
    """Columns of the file that are known names for ``role`` (canonical first if present)."""
    names = ALIASES[role]
    canonical = normal(names[0])
    known = {normal(n) for n in names}
    exact = [c for c in columns if normal(c) == canonical]
    if exact:
        return exact[:1]
    found = [c for c in columns if normal(c) in known]
    if role == "title" and len(found) > 1:
        # an id (biblionumber, instanceId, ...) beats the title text
        found = [c for c in found if normal(c) != "title"] or found
    return found


def transaction_kind(value: str) -> str | None:
    """``"checkout"``, ``"renewal"``, ``"return"``, ... or None when unknown."""
    return TRANSACTION.get(normal(value))
