"""Call numbers in shelf order: :func:`shelf_ranks` and :func:`call_number_scheme`.

:func:`shelf_ranks` turns call numbers into int64 ranks such that sorting by the
rank lays the books as libraries shelve them (Dewey, LC, SuDoc, UDC and plain
text; the rules, with examples, are in docs/ingest.md and the keys of single
call numbers in :mod:`shelfplan.ingest.callkeys`). Everything that orders books
(the ``callnumber`` baseline, call-number blocks, the shelf list, signs and the
stack map) goes through it.

Shelving prefixes (``REF``, ``FOLIO``, ``OVERSIZE``, ``J``, ``+``) file as separate
sequences: the books without a prefix, then each prefix in the order
``prefix_order`` gives (``-`` stands for the books without one), then the other
prefixes alphabetically; behind its prefix a call number files by the rules of its
scheme, so a prefix never breaks the order of the call numbers behind it. Mixed
schemes follow each other in :data:`ORDER`; missing values (None, NaN, blank)
come last, tied.

Work is done once per distinct value (and remembered across calls, so the signs,
the stack map and the shelf list of one plan parse each call number once), then
one sort of the keys.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from shelfplan.errors import ParameterError
from shelfplan.ingest.callkeys import (dewey_key, fits, lc_class, lcc_key, normalise, sudoc_key,
                                       text_key, udc_key)

__all__ = ["SCHEMES", "ORDER", "MISSING", "shelf_ranks", "call_number_scheme", "sort_keys",
           "classify", "prefix_sequence", "prefix_sequences", "order_options"]

SCHEMES = ("auto", "dewey", "lcc", "sudoc", "udc", "text")
ORDER = ("dewey", "lcc", "sudoc", "udc", "text")  # how mixed schemes follow each other
MISSING = "missing"
_PARSED = ORDER[:-1]
_KEY = {"dewey": dewey_key, "lcc": lcc_key, "sudoc": sudoc_key, "udc": udc_key}
_INDEX = {k: i for i, k in enumerate(_PARSED)}
_DIGIT = {k: str(i) for i, k in enumerate(ORDER)}
_CACHE: dict[str, tuple] = {}       # normalised value -> what it fits
_KEYS: dict[str, dict] = {k: {} for k in _PARSED}   # scheme -> {body: key}
_CACHE_MAX = 2_000_000


def _check(scheme: str) -> None:
    if scheme not in SCHEMES:
        raise ParameterError(f"`scheme` must be one of {', '.join(SCHEMES)}, got {scheme!r}; "
                             "pick one of them or leave it at auto")


def prefix_sequence(prefix_order=None) -> tuple[str, ...]:
    """``prefix_order`` (a list or ``"REF,FOLIO,-"``) as normalised prefixes; ``-`` (or
    an empty name) stands for the call numbers without a prefix."""
    if prefix_order is None:
        return ()
    if isinstance(prefix_order, str):
        prefix_order = prefix_order.split(",")
    try:
        names = [normalise(p).rstrip(".") for p in prefix_order]
    except TypeError:
        raise ParameterError(f"`prefix_order` must be a list of prefixes or a comma-separated "
                             f"string such as 'REF,FOLIO', got {prefix_order!r}") from None
    names = ["-" if n in ("", "-") else n for n in names]
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise ParameterError(f"`prefix_order` names {twice!r} twice; name each prefix once "
                             f"(e.g. REF,FOLIO,-)")
    return tuple(names)


def _fits(s: str) -> tuple:
    """:func:`~shelfplan.ingest.callkeys.fits`, remembered across calls."""
    got = _CACHE.get(s)
    if got is None:
        got = fits(s)
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.clear()
        _CACHE[s] = got
    return got


def _distinct(values) -> tuple[np.ndarray, list[str]]:
    """Codes per value (-1 for missing or blank) and the distinct normalised strings."""
    if isinstance(values, (str, bytes)):
        raise ParameterError(f"`values` must be a list, array or Series of call numbers, got "
                             f"one string {values!r}; pass [{values!r}]")
    s = values.astype(object) if isinstance(values, pd.Series) else pd.Series(
        list(values) if not isinstance(values, np.ndarray) else values, dtype=object)
    codes, uniq = pd.factorize(s, use_na_sentinel=True)
    norm = pd.Series([normalise(x) or None for x in uniq], dtype=object)
    codes2, uniq2 = pd.factorize(norm, use_na_sentinel=True)
    codes2 = np.append(np.asarray(codes2, dtype=np.int64), -1)  # code -1 stays missing
    return codes2[codes], list(uniq2)


def _pick(parsed: list[tuple], scheme: str) -> np.ndarray:
    """The scheme each distinct value is read under (``text`` when none fits)."""
    n = len(parsed)
    if scheme == "text" or n == 0:
        return np.full(n, "text", dtype=object)
    cand = {k: np.fromiter((p[i] is not None for p in parsed), dtype=bool, count=n)
            for i, k in enumerate(_PARSED)}
    if scheme != "auto":
        return np.where(cand[scheme], scheme, "text").astype(object)
    picked = np.full(n, "text", dtype=object)
    for k in ("udc", "lcc", "dewey", "sudoc"):        # the SuDoc form is its own
        picked[cand[k]] = k
    # a value that fits two (004.43: Dewey and UDC; J 813.54: Dewey with prefix J and
    # LC class J) goes to the one of the two that more values fit without the other;
    # on a tie Dewey over UDC, and LC over a Dewey reading that needs a prefix; but
    # letters that are no LC class (YR DVD 800.1, FIC 813) make a prefix, not a class
    other = ~cand["sudoc"]
    for a, b in (("dewey", "lcc"), ("dewey", "udc"), ("lcc", "udc")):
        both = cand[a] & cand[b] & other
        if a == "dewey" and b == "lcc" and both.any():
            fake = both.copy()
            fake[both] = [not lc_class(parsed[i][1][1]) for i in np.flatnonzero(both)]
            picked[fake] = "dewey"
            both &= ~fake
        if both.any():
            a_only = int((cand[a] & ~cand[b] & other).sum())
            b_only = int((cand[b] & ~cand[a] & other).sum())
            a_wins = a_only > b_only if b == "lcc" else a_only >= b_only
            picked[both] = a if a_wins else b
    return picked


def _prefix_rank(parsed: list[tuple], picked: np.ndarray, prefix_order) -> dict[str, int]:
    """The rank of each prefix sequence ("" none): the listed ones in their order
    (``-``: none), the rest alphabetically after them."""
    order = prefix_sequence(prefix_order)
    prefixes = {p[_INDEX[k]][0] for p, k in zip(parsed, picked) if k != "text"} - {""}
    given = {name: i for i, name in enumerate(order)}
    rank = {name: len(order) + i for i, name in enumerate(sorted(prefixes - set(given)))}
    rank.update(given)
    rank[""] = given.get("-", -1)
    return rank


def prefix_sequences(values, scheme: str = "auto", prefix_order=None) -> list[str]:
    """The shelving prefixes of ``values`` in filing order, ``""`` for the call numbers
    without one (what the stack map's script needs to place a call number no book has)."""
    _check(scheme)
    _, uniq = _distinct(values)
    parsed = [_fits(s) for s in uniq]
    picked = _pick(parsed, scheme)
    rank = _prefix_rank(parsed, picked, prefix_order)
    present = {p[_INDEX[k]][0] for p, k in zip(parsed, picked) if k != "text"}
    return sorted(present | {""}, key=rank.__getitem__)


def _keys(uniq: list[str], parsed: list[tuple], picked: np.ndarray, prefix_order) -> list[str]:
    """One string per distinct value: prefix sequence, scheme, key, then the value
    without spaces (so that only equal call numbers tie)."""
    rank = _prefix_rank(parsed, picked, prefix_order)
    head = {pre: f"{r + 1:06d}" for pre, r in rank.items()}
    if sum(len(d) for d in _KEYS.values()) >= _CACHE_MAX:
        for d in _KEYS.values():
            d.clear()
    out = []
    for s, p, k in zip(uniq, parsed, picked):
        if k == "text":
            out.append(head[""] + "4" + text_key(s) + "\x00" + s.replace(" ", ""))
            continue
        prefix, body = p[_INDEX[k]]
        known = _KEYS[k]
        key = known.get(body) if not prefix else None
        if key is None:
            if not prefix:
                key = known[body] = _KEY[k](body)
            else:                      # after a prefix a Dewey class has its 3 digits
                key = dewey_key(body, True) if k == "dewey" else _KEY[k](body)
        out.append(head[prefix] + _DIGIT[k] + key + "\x00" + s.replace(" ", ""))
    return out


def _dense(keys: list[str]) -> tuple[np.ndarray, int]:
    """Dense ranks of string keys (Python's sort of str beats numpy's of objects)."""
    n = len(keys)
    if n == 0:
        return np.zeros(0, dtype=np.int64), 0
    order = sorted(range(n), key=keys.__getitem__)
    ks = [keys[i] for i in order]
    step = np.fromiter((a != b for a, b in zip(ks, ks[1:])), dtype=np.int64, count=n - 1)
    ranks = np.empty(n, dtype=np.int64)
    ranks[np.asarray(order, dtype=np.int64)] = np.concatenate([[0], np.cumsum(step)])
    return ranks, int(ranks.max()) + 1


def call_number_scheme(values, scheme: str = "auto") -> np.ndarray:
    """The scheme each value is read under: ``dewey``, ``lcc``, ``sudoc``, ``udc``,
    ``text`` (fits no scheme, or not the ``scheme`` named) or ``missing``."""
    _check(scheme)
    codes, uniq = _distinct(values)
    picked = _pick([_fits(s) for s in uniq], scheme)
    return np.append(picked, MISSING).astype(object)[codes]


def shelf_ranks(values, scheme: str = "auto", prefix_order=None) -> np.ndarray:
    """Int64 ranks of call numbers in shelf order (equal call numbers equal ranks).

    ``values`` is a list, array or pandas Series of strings; ``np.argsort(ranks,
    kind="stable")`` is the order libraries shelve them in. ``scheme`` ``auto`` reads
    each value under the scheme it fits (one that fits two, such as ``004.43`` under
    Dewey and UDC, goes to the scheme that more values fit without the other); a named
    scheme reads every value under it. Values that fit no scheme (or not the named
    one) file after the parsed ones in natural text order, and missing values (None,
    NaN, blank) last, all tied. ``prefix_order`` (``["REF", "FOLIO"]`` or
    ``"REF,FOLIO"``; ``-`` for no prefix) orders the prefixed sequences (default: none
    first, then alphabetical). Ranks are dense: 0 for the first, one more for each
    distinct call number. Case, spaces and the forms of digits and letters (NFKC) do
    not count: ``qa76.73 .p98`` ties ``QA76.73.P98``.
    """
    _check(scheme)
    codes, uniq = _distinct(values)
    parsed = [_fits(s) for s in uniq]
    keys = _keys(uniq, parsed, _pick(parsed, scheme), prefix_order)
    dense, n_distinct = _dense(keys)
    dense = np.append(dense, n_distinct)                                  # missing: last
    return dense[codes]


def order_options(options=None) -> dict:
    """``scheme`` and ``prefix_order`` for :func:`shelf_ranks` from a mapping that may
    hold them (:class:`~shelfplan.ingest.options.ReadOptions`, a dict, a layout's
    ``estimation["shelf_order"]``); missing ones are the defaults."""
    options = options or {}
    scheme = options.get("scheme") or "auto"
    prefixes = prefix_sequence(options.get("prefix_order"))
    return {"scheme": scheme, "prefix_order": list(prefixes) or None}


#: the names this module had before :func:`shelf_ranks` (kept for callers and tests)
sort_keys = shelf_ranks
classify = call_number_scheme
