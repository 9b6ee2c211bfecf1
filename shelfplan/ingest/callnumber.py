"""Categories from call numbers: Dewey, Library of Congress (LCC), SuDoc and UDC classes.

* Dewey (``005.133 LUT``): level 1 class ``000``, 2 division ``000``, 3 section ``005``
* LCC (``QA76.73.P98``): 1 class letters ``QA``, 2 and 3 letters + number ``QA76``
* UDC (``510(075.8)``): 1 main class ``5``, 2 and 3 first number ``510``
* SuDoc (``HE 20.3182:C 76``): 1 agency ``HE``, 2 agency + number ``HE 20``, 3 the class
  stem ``HE 20.3182``

A shelving prefix of up to three words (``REF``, ``FOLIO``, ``J``, ``OVERSIZE``, ``+``)
before a Dewey, LC or SuDoc call number is skipped.

Values that do not parse under the scheme (``Internet Access``, ``FIC SMI``,
empty) all go to one group, :data:`OTHER`. Work is done once per distinct call
number, so millions of loans cost what the collection's size costs.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from shelfplan.errors import LoansError

OTHER = "other"
SCHEMES = ("auto", "dewey", "lcc", "sudoc", "udc")

# An optional shelving prefix of up to three words (J, REF, OVERSIZE, +; YA FIC is not
# one: no number follows).
_PREFIX = r"^(?:(?:[A-Z]{1,12}\.?|\+)\s+){0,3}"
_DEWEY = re.compile(_PREFIX + r"(\d{3})(?:\.\d+)?(?:\s|$|/)")
# LC classes never start with I, O, W (NLM), X or Y; 1-3 letters then a class number.
_LCC = re.compile(_PREFIX
                  + r"([A-HJ-NP-VZ][A-Z]{0,2})\s?([1-9]\d{0,3})(?:\.\d+)?(?:\s|\.|$|[A-Z])")
# SuDoc: agency letters, a number, the rest of the class stem, a colon
_SUDOC = re.compile(_PREFIX + r"(([A-Z]{1,5})\s?(\d+)(?:\.[A-Z0-9 /\-]*)?):")
_UDC = re.compile(r"^(\d{1,3})(?:\.\d+)*(?=$|[\s(.:+/=\-\"\[<'*])")


def parse(values, scheme: str = "auto", level: int = 1) -> tuple[np.ndarray, str, int]:
    """Class labels for call numbers: ``(labels, scheme used, number unparsable)``.

    ``values`` is a sequence of strings; ``scheme`` ``auto`` picks the scheme
    that parses most distinct values (Dewey before UDC on a tie, UDC when the
    values use its syntax: parentheses, colons, numbers shorter than 3 digits).
    """
    if scheme not in SCHEMES:
        raise LoansError(f"`scheme` must be one of {', '.join(SCHEMES)}, got {scheme!r}")
    if level not in (1, 2, 3):
        raise LoansError(f"`category_level` must be 1, 2 or 3, got {level!r}")
    codes, uniq = pd.factorize(pd.Series(values, dtype=object).fillna(""), sort=False)
    uniq = pd.Series(np.asarray(uniq, dtype=object)).astype(str).str.strip().str.upper()
    if scheme == "auto":
        scheme = _guess(uniq)
    labels = {"dewey": _dewey, "lcc": _lcc, "sudoc": _sudoc, "udc": _udc}[scheme](uniq, level)
    labels = labels.fillna(OTHER).to_numpy(dtype=object)
    out = labels[codes] if len(codes) else np.array([], dtype=object)
    n_bad = int((out == OTHER).sum())
    return out, scheme, n_bad


def _dewey(u: pd.Series, level: int) -> pd.Series:
    m = u.str.extract(_DEWEY)[0]
    digits = min(level, 3)
    return m.str[:digits].str.pad(3, side="right", fillchar="0")


def _lcc(u: pd.Series, level: int) -> pd.Series:
    m = u.str.extract(_LCC)
    return m[0] if level == 1 else m[0] + m[1].where(m[0].notna())


def _sudoc(u: pd.Series, level: int) -> pd.Series:
    m = u.str.extract(_SUDOC)
    if level == 1:
        return m[1]
    if level == 2:
        return m[1] + " " + m[2].where(m[1].notna())
    return m[0].str.replace(r"^([A-Z]+)\s?", r"\1 ", regex=True)


def _udc(u: pd.Series, level: int) -> pd.Series:
    m = u.str.extract(_UDC)[0]
    return m.str[:1] if level == 1 else m


def _guess(u: pd.Series) -> str:
    u = u[u != ""]
    def hits(rx):
        return u.str.extract(rx)[0].notna().to_numpy(dtype=bool)

    sudoc = hits(_SUDOC)
    dewey, udc, lcc = hits(_DEWEY), hits(_UDC), int((hits(_LCC) & ~sudoc).sum())
    if int(sudoc.sum()) > max(lcc, int(dewey.sum()), int(udc.sum()) - int(sudoc.sum())):
        return "sudoc"
    # every Dewey number also reads as UDC; UDC shows itself by its own syntax
    # (510(075.8), 51-7, 821.111-31, 5): values that are UDC but not Dewey
    udc_only = int((udc & ~dewey).sum())
    best, n_best = ("udc", int(udc.sum())) if udc_only > 0.05 * max(1, int(udc.sum())) \
        else ("dewey", int(dewey.sum()))
    return "lcc" if lcc > n_best else best
