"""One error hierarchy for the library; the CLI turns these into one-line messages.

Library messages name a Python parameter in backticks (```max_moves` must be 0
or more, got -1``); :meth:`ShelfplanError.for_cli` writes each such name as the
command line's flag (``--max-moves must be 0 or more, got -1``), so each
audience reads the name it typed.
"""

from __future__ import annotations

import re

__all__ = ["ShelfplanError", "LoansError", "HoldingsError", "HallError", "LayoutError", "ParameterError",
           "flag_name", "as_flags", "HOLDINGS_FLAGS"]


_PARAM = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*)`")


def flag_name(param: str) -> str:
    """The command-line flag of a library parameter: ``max_moves`` -> ``--max-moves``."""
    return "--" + param.replace("_", "-")


def as_flags(text: str, flags: dict | None = None) -> str:
    """``text`` with each backticked parameter written as its flag (``flags`` first)."""
    return _PARAM.sub(lambda m: (flags or {}).get(m[1]) or flag_name(m[1]), text)


class ShelfplanError(Exception):
    """Base class for every error a user can cause."""

    def for_cli(self, flags: dict | None = None) -> str:
        """The message with each backticked parameter written as its flag."""
        return as_flags(str(self), flags)


class LoansError(ShelfplanError):
    """The loans file cannot be read or makes no sense."""


class HoldingsError(ShelfplanError):
    """The holdings file (every book shelved) cannot be read or makes no sense.

    Its messages name ``read_holdings``' parameters (```item_col```, ...); on the
    command line these are ``--holdings-col ROLE=NAME`` and ``--holdings-sheet``
    (:data:`HOLDINGS_FLAGS`), not the loans' ``--item-col`` or ``--sheet``.
    """

    def for_cli(self, flags: dict | None = None) -> str:
        return super().for_cli({**HOLDINGS_FLAGS, **(flags or {})})


#: read_holdings' parameters as the command line spells them (ROLE names: the keys of
#: ``shelfplan.ingest.holdings.ROLES``)
HOLDINGS_FLAGS = {"item_col": "--holdings-col item_id=COLUMN",
                  "callnumber_col": "--holdings-col call_number=COLUMN",
                  "category_col": "--holdings-col category=COLUMN",
                  "title_col": "--holdings-col title=COLUMN",
                  "title_id_col": "--holdings-col title_id=COLUMN",
                  "width_col": "--holdings-col width=COLUMN",
                  "sheet": "--holdings-sheet"}


class HallError(ShelfplanError):
    """The hall file is invalid or cannot hold the items."""


class LayoutError(ShelfplanError):
    """A layout file is invalid, or no feasible layout was reached."""


class ParameterError(ShelfplanError, ValueError):
    """A parameter of a library call is out of range or does not fit the others."""
