"""Visits (sessions): which loans form one visit (MODEL.md section 1), the optional
rules (a gap between loans; the same checkout timestamp when there are no patron
ids), the optional cap on a visit's size, and salted patron hashes.

Session keys are integers built from factorised patron codes and day numbers.
Undated loans (an empty timestamp) form one visit per patron, the rule for
files without dates; without patron ids each undated loan is a visit of its own.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets

import numpy as np
import pandas as pd

from shelfplan.errors import LoansError

#: Environment variable with the salt for ``hash_patrons`` (random per run if unset).
SALT_ENV = "SHELFPLAN_PATRON_SALT"


def group(parts: list[np.ndarray]) -> np.ndarray:
    """One int64 group number per distinct combination of the integer arrays."""
    if len(parts) == 1:
        return pd.factorize(parts[0], sort=False)[0].astype(np.int64)
    a, b = parts
    a = pd.factorize(a, sort=False)[0].astype(np.int64)
    b_codes = pd.factorize(b, sort=False)[0].astype(np.int64)
    combined = a * (int(b_codes.max()) + 1) + b_codes
    return pd.factorize(combined, sort=False)[0].astype(np.int64)


def parse_gap(value) -> pd.Timedelta | None:
    """``session_gap`` as a positive Timedelta (``None``, ``""`` or 0: no gap rule)."""
    if value is None or value == "" or value == 0:
        return None
    try:
        gap = pd.Timedelta(value)
    except (ValueError, TypeError):
        raise LoansError(f"`session_gap` must be a duration like 30min or 2h, got "
                         f"{value!r}") from None
    if gap <= pd.Timedelta(0):
        raise LoansError(f"`session_gap` must be positive, got {value!r}")
    return gap


def fmt_gap(gap: pd.Timedelta) -> str:
    return f"{gap.total_seconds() / 60:g} min"


def gap_sessions(pcode: np.ndarray, t: np.ndarray, gap: pd.Timedelta) -> np.ndarray:
    """A new visit when the patron changes or after more than ``gap`` without a loan;
    a patron's undated loans (NaT) are one visit."""
    undated = np.isnat(t)
    tt_all = t.view(np.int64)
    order = np.lexsort((tt_all, ~undated, pcode))       # per patron: undated first
    p, tt, u = pcode[order], tt_all[order], undated[order]
    new = np.ones(len(order), dtype=bool)
    with np.errstate(over="ignore"):
        step = np.diff(tt)
    new[1:] = (p[1:] != p[:-1]) | (u[1:] != u[:-1]) | (~u[1:] & (step > gap.value))
    session = np.empty(len(order), dtype=np.int64)
    session[order] = np.cumsum(new) - 1
    return session


def timestamp_sessions(t: np.ndarray, branch: np.ndarray | None) -> np.ndarray:
    """No patron ids: loans with one checkout timestamp (and branch) are one visit;
    each undated loan is a visit of its own."""
    parts = [t.view(np.int64)] + ([branch] if branch is not None else [])
    session = group(parts)
    undated = np.isnat(t)
    if undated.any():
        dated = group([p[~undated] for p in parts]) if (~undated).any() else session[:0]
        session = np.empty(len(t), dtype=np.int64)
        session[~undated] = dated
        start = int(dated.max()) + 1 if len(dated) else 0
        session[undated] = start + np.arange(int(undated.sum()))
    return session


def day_sessions(pcode: np.ndarray, t: np.ndarray) -> np.ndarray:
    """One visit per patron and calendar date; a patron's undated loans are one visit
    (NaT is one value of its own)."""
    day = t.astype("datetime64[D]").view(np.int64)
    return group([pcode, day])


def hash_ids(ids, salt: str | None) -> np.ndarray:
    """Salted SHA-256 (HMAC) of each id, 16 hex digits: stable for one salt, not reversible."""
    salt = salt or os.environ.get(SALT_ENV) or secrets.token_hex(16)
    key = salt.encode("utf-8")
    return np.array([hmac.new(key, str(i).encode("utf-8"), hashlib.sha256).hexdigest()[:16]
                     for i in ids], dtype=object)


def cap_sessions(out: pd.DataFrame, cap: int, name: str, dropped: dict, msgs: list):
    """Drop sessions with more than ``cap`` distinct items (a filter before estimation)."""
    s = out["session"].to_numpy()
    rows = np.bincount(s)
    if rows.max() <= cap:
        return out
    suspect = rows > cap
    sel = suspect[s]
    icode = pd.factorize(out["item"].to_numpy()[sel])[0].astype(np.int64)
    pairs = np.unique(s[sel] * (int(icode.max()) + 1) + icode)
    distinct = np.bincount(pairs // (int(icode.max()) + 1), minlength=len(rows))
    big = distinct > cap
    if not big.any():
        return out
    drop = big[s]
    k_rows, k_sessions = int(drop.sum()), int(big.sum())
    dropped[f"session over {cap} items"] = k_rows
    msgs.append((logging.WARNING,
                 f"{name}: dropped {k_sessions} sessions with more than {cap} items "
                 f"({k_rows} loans; bulk or staff checkouts?); without --max-session-items "
                 f"every session is kept"))
    return out.loc[~drop].reset_index(drop=True)
