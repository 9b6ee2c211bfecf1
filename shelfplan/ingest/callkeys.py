"""Shelf-order keys of single call numbers, one function per scheme (docs/ingest.md).

Each ``*_key`` function takes one normalised call number (:func:`normalise`: NFKC,
every script's digits as ASCII digits, upper case, single spaces) without its
shelving prefix and returns a string key, or ``None`` when the value is not of that
scheme. Comparing two keys as strings compares the call numbers as libraries file
them. Keys are built from *elements*; each element starts with a class character
and ends with :data:`END` (below every character a key holds), so that "nothing
comes before something" holds everywhere: a call number that stops sorts before one
that goes on.

Elements after the class number (LC and Dewey), in filing order at one position:

====  ===========================================================================
``1``  a number: dates, ordinals, volume numbers (``1929``, ``4TH``, ``1902V``), as
       whole numbers (``2ND`` < ``20TH``), then the letters glued to it
``2``  a word: work letters glued to a cutter or date (``.A101M``, ``1927Q``),
       trailing words (``EXTRA``); months file as numbers (``JAN`` < ``FEB``)
``3``  a cutter: letters, then its digits as a decimal (``.B365`` < ``.B37``),
       letters alone (``.L`` < ``L299``, a single letter ``M``), several letters
       (``.A1`` < ``.AA1``); a caption with its number (``V.2``, ``NO.1``,
       ``K.240``; ``VOLUME``/``VOL`` file as ``V``) files with the cutters of its
       letters, before them, its number as a whole number (``V.2`` < ``V.10``)
``4``  (LC, first position only) a word standing where the first cutter goes
       (``BF1999 C78`` < ``BF1999 AARONS``)
====  ===========================================================================
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["END", "normalise", "lcc_key", "dewey_key", "sudoc_key", "udc_key", "text_key",
           "fits", "lc_class"]

END = "\x01"      # ends every element
_GAP = "\x02"     # between the words of natural text

# -- normalisation -----------------------------------------------------------------
_NON_ASCII_DIGIT = re.compile(r"[^\x00-\x7f]")


def _ascii_digit(m: re.Match) -> str:
    c = m[0]
    d = unicodedata.decimal(c, None)
    return c if d is None else str(d)


def normalise(value) -> str:
    """NFKC (full-width forms), every script's decimal digits as ASCII digits (Arabic-
    Indic, Devanagari...), upper case, runs of spaces as one; letters of every script
    are kept."""
    s = str(value)
    if not s.isascii():
        s = _NON_ASCII_DIGIT.sub(_ascii_digit, unicodedata.normalize("NFKC", s))
    return " ".join(s.upper().split())


# -- the elements after the class number (LC, Dewey) -------------------------------
_ELEM = re.compile(r"(\.)?(\s*)(?:([^\W\d_]+)(\.\s?(?=\d))?(\d+)?|(\d+)([^\W\d_]*))")
_WORDS = {"VOLUME": "V", "VOL": "V", "VOLS": "V", "NUMBER": "NO", "NOS": "NO", "NR": "NO",
          "PART": "PT", "PTS": "PT", "COPY": "C", "COP": "C", "EDITION": "ED", "EDN": "ED",
          "SUPPLEMENT": "SUPPL", "SUPP": "SUPPL", "BAND": "BD", "TEIL": "T"}
_MONTHS = {m: i for i, names in enumerate(
    [("JAN", "JANUARY"), ("FEB", "FEBRUARY"), ("MAR", "MARCH"), ("APR", "APRIL"), ("MAY",),
     ("JUN", "JUNE"), ("JUL", "JULY"), ("AUG", "AUGUST"), ("SEP", "SEPT", "SEPTEMBER"),
     ("OCT", "OCTOBER"), ("NOV", "NOVEMBER"), ("DEC", "DECEMBER")], start=1) for m in names}
_CAPTION = "\x02"   # a caption files before the cutter of its letters (K.240 < K2)


def _num(digits: str) -> str:
    """A whole number that compares as a number: its length, then its digits."""
    if digits[0] == "0":
        digits = digits.lstrip("0") or "0"
    n = len(digits)
    return (chr(0x30 + n) if n < 0xFFFF else "\uffff") + digits


def _elements(rest: str, first_word: str) -> str:
    """Key of what follows the class number; ``first_word`` is the element class of a
    word in the first position (``4`` LC: after the cutters; ``3`` Dewey: a cutter of
    letters, as ``LUT``)."""
    out = []
    add = out.append
    first = True
    glue = False        # the previous element ended in a digit: letters glued to it
    found = _ELEM_ASCII(rest) if rest.isascii() else _ELEM_FINDALL(rest)
    for dot, space, let, cap, dig, num, suf in found:
        if num:
            if num[0] == "0":
                num = num.lstrip("0") or "0"
            n = len(num)
            add("1" + (chr(0x30 + n) if n < 0xFFFF else "\uffff") + num + suf + END)
        elif cap:                      # V.2, NO.1, OP.7, K.240: a caption, its number
            add("3" + _WORDS.get(let, let) + END + _CAPTION + _num(dig) + END)
        elif dig:                      # a cutter: letters, digits as a decimal
            add("3" + let + END + dig + END)
        elif glue and not dot and not space:
            add("2" + let + END)                        # work letters: .A101M, 1927Q
        elif dot or len(let) == 1 or (first and first_word == "3"):
            add("3" + let + END + END)                  # a cutter of letters alone
        elif first:
            add(first_word + let + END)
        elif let in _MONTHS:
            add("1" + _num(str(_MONTHS[let])) + END)
        else:
            add("2" + _WORDS.get(let, let) + END)
        first = False
        glue = bool(dig or num)
    return "".join(out)


_ELEM_FINDALL = _ELEM.findall
_ELEM_ASCII = re.compile(r"(\.)?( *)(?:([A-Z]+)(\. ?(?=\d))?(\d+)?|(\d+)([A-Z]*))").findall


# -- LC ------------------------------------------------------------------------------
# class letters (never I, O, X, Y; W is NLM, filed alike), a class number 0-9999 with
# its decimal, then the elements
_LCC = re.compile(r"([A-HJ-NP-WZ][A-Z]{0,2}) ?(0|[1-9]\d{0,3})(?:\.(\d+))?"
                  r"(?=[ .,;/(]|$|[^\W\d_])(.*)")


# the classes and subclasses of the LC outline (and NLM's QS-QZ, W), for telling a class
# from a shelving prefix when a value reads both ways
_LC_CLASS = re.compile(
    r"(?:A[CEGIMNPSYZ]?|B[CDFHJLMPQRSTVX]?|C[BCDEJNRST]?|D(?:AW|JK|[A-HJ-LP-UX])?|[EF]"
    r"|G[ABCEFNRTV]?|H[A-GJMNQSTVX]?|J[ACFJKLNQSVXZ]?|K[A-Z]{0,2}|L[A-HJT]?|M[LT]?"
    r"|N[A-EKX]?|P[A-HJ-NQRSTZ]?|Q[A-EHKLMPR-Z]?|R[A-GJ-MSTVXZ]?|S[BDFHK]?"
    r"|T[ACDEFGHJKLNPRSTX]?|U[A-H]?|V[A-GKM]?|W[A-Z]?|ZA?) ?\d")


def lc_class(s: str) -> bool:
    """Whether ``s`` starts with a class of the LC outline (``QA76``, not ``DVD 800``)."""
    return _LC_CLASS.match(s) is not None


# the common shape, keyed without the element loop (the same key: tests compare them):
# class, a first cutter after a point, a second cutter, a year
_LCC_COMMON = re.compile(r"([A-HJ-NP-WZ][A-Z]{0,2}) ?(0|[1-9]\d{0,3})(?:\.(\d+))? ?\.([A-Z])(\d+)"
                         r"(?: ([A-Z])(\d+))?(?: ([1-9]\d{3}))?")


def lcc_key(s: str) -> str | None:
    m = _LCC_COMMON.fullmatch(s)
    if m is not None:
        letters, whole, dec, l1, d1, l2, d2, year = m.groups("")
        return (letters + END + _num(whole) + dec + END + "3" + l1 + END + d1 + END
                + ("3" + l2 + END + d2 + END if l2 else "")
                + ("14" + year + END if year else ""))
    return lcc_general(s)


def lcc_general(s: str) -> str | None:
    """:func:`lcc_key` of any shape, element by element."""
    m = _LCC.match(s)
    if m is None:
        return None
    letters, whole, dec, rest = m.groups("")
    return letters + END + _num(whole) + dec + END + _elements(rest, "4")


# -- Dewey ---------------------------------------------------------------------------
_SEG = re.compile(r"(?<=[\d.])[/'](?=[\d.])")
_DEWEY = re.compile(r"(\d{1,3})(?:\.(\d+))?(?=[ /]|\.(?!\d)|$|[^\W\d_])(.*)")


_DEWEY_COMMON = re.compile(r"(\d{3})(?:\.(\d+))? ([A-Z])(\d+)(?:([A-Z]+)(?= |$))?"
                           r"(?: ([1-9]\d{3}))?(?: V\.([1-9]\d{0,2}))?")


def dewey_key(s: str, whole_class: bool = False) -> str | None:
    """``whole_class``: the class must have its three digits (after a prefix)."""
    m = _DEWEY_COMMON.fullmatch(s)
    if m is not None:           # the common shape, as _LCC_COMMON
        whole, dec, let, dig, work, year, vol = m.groups("")
        return (whole + dec + END + "3" + let + END + dig + END
                + ("2" + work + END if work else "") + ("14" + year + END if year else "")
                + ("3V" + END + _CAPTION + chr(0x30 + len(vol)) + vol + END if vol else ""))
    return dewey_general(s, whole_class)


def dewey_general(s: str, whole_class: bool = False) -> str | None:
    """:func:`dewey_key` of any shape, element by element."""
    if "/" in s or "'" in s:
        s = _SEG.sub("", s)          # segmentation marks: 813/.54, 005.133/0973
    m = _DEWEY.match(s)
    if m is None:
        return None
    whole, dec, rest = m.groups("")
    if whole_class and len(whole) < 3:
        return None
    return whole.zfill(3) + dec + END + _elements(rest, "3")


# -- SuDoc ---------------------------------------------------------------------------
# agency letters, a number, the rest of the class stem, a colon, the book number
_SUDOC = re.compile(r"([A-Z]{1,5}) ?(\d+)(?:\.([A-Z0-9 /\-]*))?:(.*)")
_SUDOC_TOK = re.compile(r"(\d+)|([^\W\d_]+)")
_LETTER_DOTS = re.compile(r"(?<=[^\W\d_])\.(?=[^\W\d_])")


def _sudoc_tokens(part: str, years: bool) -> str:
    out = []
    for dig, let in _SUDOC_TOK.findall(_LETTER_DOTS.sub("", part)):
        if let:
            out.append("2" + let + END)
            continue
        n = int(dig) if len(dig) < 6 else -1
        if years and (len(dig) == 4 and 1800 <= n <= 2099 or len(dig) == 3 and n >= 900):
            out.append("1" + str(n + 1000 if n < 1000 else n))   # 998 is 1998
        else:
            out.append("3" + _num(dig))
    return "".join(out)


def sudoc_key(s: str) -> str | None:
    """Agency letters, then the stem as whole numbers (``HE 20.40`` < ``HE 20.108``),
    letters before numbers; after the colon years first, then letters, then numbers."""
    m = _SUDOC.match(s)
    if m is None:
        return None
    agency, number, stem, book = m.groups("")
    empty = "0" if book[:1] in "/-." and book else ""   # Y 1.2:/67: an empty first part
    return (agency + END + _num(number) + END + _sudoc_tokens(stem, False) + "0" + empty
            + _sudoc_tokens(book, True))


# -- UDC -----------------------------------------------------------------------------
# possessive: the main number and its auxiliaries never give back (linear on any input)
_UDC = re.compile(r"(\d{1,3}(?:\.\d+)*+(?:[(.:+/=\-\"\[<'*][\d.()\[\]:=+/\-\"'*<>A-Z]*+)?)"
                  r"(?: (.*))?$")
_UDC_DOT = re.compile(r"(?<=\d)\.(?=\d)")   # 621.39 is read as 62139, digit by digit
_UDC_PAIRS = (("(=", "\x0a"), ("(0", "\x080"), ("::", "\x06"))  # ethnic, form, order-fixing
_UDC_TABLE = str.maketrans({"+": "\x02", "/": "\x03", ":": "\x05", "=": "\x07",
                            "(": "\x09", '"': "\x0b", "-": "\x0f", "'": "\x11", "*": "\x12",
                            ")": None, "[": None, "]": None, "<": None, ">": None})
_UDC_END = "\x04"   # the end of the notation files between "/" and ":"


def udc_key(s: str) -> str | None:
    m = _UDC.match(s)
    if m is None:
        return None
    note = _UDC_DOT.sub("", m[1])
    for a, b in _UDC_PAIRS:
        if a in note:
            note = note.replace(a, b)
    return note.translate(_UDC_TABLE) + _UDC_END + END + text_key(m[2] or "")


_RUN = r"((?:[^\W\d_]{1,12}\.? |[+*#] ?){1,3})"     # up to three prefix words
_PREFIXED = {"dewey": re.compile(_RUN + r"\d{3}(?:\.\d+)?(?:[ /]|\.(?!\d)|$|[^\W\d_])"),
             "lcc": re.compile(_RUN + _LCC.pattern),
             "sudoc": re.compile(_RUN + _SUDOC.pattern)}
_PREFIX_WORD = re.compile(r"[^\W\d_]+|[+*#]")


def fits(s: str) -> tuple:
    """``(prefix, body)`` of ``s`` under Dewey, LC, SuDoc and UDC in turn (None: not of
    that scheme); a body has no prefix or one of up to three words (``REF``, ``YR DVD``,
    ``+``), Dewey's then a class of three digits. Regular expression matches only,
    cheaper than the keys."""
    if s[:1].isdigit():
        t = s if ("/" not in s and "'" not in s) else _SEG.sub("", s)
        return (("", s) if _DEWEY.match(t) else None, None, None,
                ("", s) if _UDC.match(s) else None)
    out = []
    colon = ":" in s                  # no SuDoc without one
    for name, direct in (("dewey", None), ("lcc", _LCC), ("sudoc", _SUDOC)):
        if name == "sudoc" and not colon:
            out.append(None)
            continue
        if direct is not None and direct.match(s):
            out.append(("", s))
            continue
        m = _PREFIXED[name].match(s)
        out.append(None if m is None else
                   (" ".join(_PREFIX_WORD.findall(m[1])), s[m.end(1):]))
    out.append(None)
    return tuple(out)


# -- text ----------------------------------------------------------------------------
_DIGITS = re.compile(r"\d+")
_NONWORD = re.compile(r"[\W_]+")


def _pad(m: re.Match) -> str:
    return _num(m[0])


def text_key(s: str) -> str:
    """Natural order: words in turn (every script's letters kept), digit runs as numbers."""
    if not s:
        return ""
    return _DIGITS.sub(_pad, _NONWORD.sub(_GAP, s).strip(_GAP))
