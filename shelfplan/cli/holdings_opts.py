"""The holdings options every command that reads a holdings file shares (defined once).

``--holdings-col ROLE=NAME`` (repeatable) names the column of a role
(:data:`shelfplan.ingest.holdings.ROLES`: ``item_id``, ``call_number``,
``category``, ``title``, ``title_id``, ``width``) and ``--holdings-sheet`` the
sheet of an Excel workbook, as ``read_holdings``' ``item_col=``, ..., ``sheet=``
do from Python. With either, the command reads the holdings here and hands the
library a :class:`~shelfplan.ingest.holdings.Holdings`; without, the path.
"""

from __future__ import annotations

import difflib
import functools

import click

__all__ = ["holdings_option", "holdings_reading"]


def _roles() -> dict:
    from shelfplan.ingest.holdings import OPTIONS, ROLES

    return {role: OPTIONS[key] for role, key in ROLES.items()}


def _parse(values) -> dict:
    """``ROLE=NAME`` strings -> read_holdings keyword arguments; a usage error names
    the nearest role."""
    roles = _roles()
    out = {}
    for text in values:
        role, sep, name = text.partition("=")
        role, name = role.strip(), name.strip()
        if not sep or not role or not name:
            raise click.BadParameter(f"{text!r} is not ROLE=NAME, e.g. call_number=Shelfmark",
                                     param_hint="--holdings-col")
        if role not in roles:
            near = difflib.get_close_matches(role, list(roles), n=1)
            hint = f"; did you mean {near[0]!r}?" if near else ""
            raise click.BadParameter(f"unknown role {role!r} (roles: {', '.join(roles)}){hint}",
                                     param_hint="--holdings-col")
        if roles[role] in out:
            raise click.BadParameter(f"role {role!r} given twice", param_hint="--holdings-col")
        out[roles[role]] = name
    return out


def holdings_reading(param: str, flag: str):
    """Decorator: add ``--holdings-col`` and ``--holdings-sheet`` to a command whose
    holdings file arrives in the keyword ``param`` (its option ``flag``)."""
    opts = [
        click.option("--holdings-col", "holdings_col", multiple=True, metavar="ROLE=NAME",
                     help=f"With {flag}: the column of a role (repeatable): item_id, "
                          f"call_number, category, title, title_id, width, e.g. "
                          f"--holdings-col call_number=Shelfmark [default: found by name]."),
        click.option("--holdings-sheet", default=None, metavar="NAME",
                     help=f"With {flag}: the sheet of an Excel (.xlsx) holdings file "
                          f"[default: the first]."),
    ]

    def decorate(f):
        for opt in reversed(opts):
            f = opt(f)

        @functools.wraps(f)
        def wrapper(*args, **kw):
            cols, sheet = _parse(kw.pop("holdings_col")), kw.pop("holdings_sheet")
            if (cols or sheet is not None) and kw.get(param) is None:
                raise click.UsageError(f"--holdings-col and --holdings-sheet go with {flag}")
            if cols or sheet is not None:
                from shelfplan.ingest.holdings import read_holdings
                kw[param] = read_holdings(kw[param], sheet=sheet, **cols)
            return f(*args, **kw)
        return wrapper
    return decorate


def holdings_option(f):
    """``--holdings FILE`` with its column and sheet options."""
    f = holdings_reading("holdings", "--holdings")(f)
    return click.option(
        "--holdings", type=click.Path(dir_okay=False, allow_dash=True),
        help="Holdings (CSV, gzip or Excel: every book the library shelves) for a shelving "
             "plan on a hall with stacks; books never borrowed get a slot too.")(f)
