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


#: Holdings (one row per book shelved): role -> known names, in order of preference
#: (the first present wins; several id columns are normal in a holdings export).
#: The item id prefers what the same system's loans export uses: Koha issues carry
#: ``itemnumber``, Evergreen circulations ``target_copy`` = ``asset.copy.id``, FOLIO
#: loans ``itemId`` = the item record's ``id``, Alma loan reports the ``Barcode``,
#: Sierra ``circ_trans`` the item record (``RECORD #(ITEM)``); a barcode otherwise.
HOLDINGS: dict[str, tuple[str, ...]] = {
    "item": ("item_id", "itemnumber", "itemId", "item_record_id", "target_copy", "copy_id",
             "id", "RECORD #(ITEM)", "barcode", "Item ID", "Physical Item Id", "Item PID",
             "hrid"),
    # item-level call numbers first; a row whose first one is empty takes the next
    "callnumber": ("call_number_label", "label", "call_number", "itemcallnumber",
                   "callnumber", "Call Number", "Permanent Call Number",
                   "effectiveCallNumberComponents.callNumber", "itemLevelCallNumber",
                   "CALL #(ITEM)", "CALL #(BIBLIO)", "cn_sort"),
    "category": ("category", "ccode", "collection", "circ_modifier", "materialType.name",
                 "materialType", "Material Type", "itype", "Item Type"),
    "title": ("title", "title_text", "245$a"),
    "title_id": ("title_id", "biblionumber", "biblio_id", "bib_id", "bib_record_id",
                 "instanceId", "instance_id", "MMS Id", "mms_id", "RECORD #(BIBLIO)"),
    "width": ("width", "width_m", "width_cm", "width_mm", "thickness_mm", "thickness_cm"),
}


def find_all(names, columns) -> list[str]:
    """The columns that are one of ``names``, in the order of ``names`` (one per name)."""
    by_normal: dict[str, str] = {}
    for c in columns:
        by_normal.setdefault(normal(c), c)
    return [by_normal[n] for n in dict.fromkeys(normal(x) for x in names) if n in by_normal]
