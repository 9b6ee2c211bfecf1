"""Unknown keys in a hall file are errors that name the nearest known key.

A typo must not pass silently: ``"obstacle"`` for ``"obstacles"`` would make the
pillars vanish, ``"stack"`` for ``"stacks"`` would turn a stacked hall into a free
one. :func:`check_keys` is called at every level of a hall file (top level, ranges
and banks, floors, connectors).
"""

from __future__ import annotations

import difflib

from shelfplan.errors import HallError

__all__ = ["check_keys", "nearest", "HALL_KEYS"]

#: the keys of a one-floor hall file
HALL_KEYS = frozenset({"name", "footprint", "obstacles", "z_range", "entrance", "d_min",
                       "stacks"})


def nearest(word: str, known) -> str | None:
    """The known key closest to ``word`` (difflib), or None when none is close."""
    close = difflib.get_close_matches(str(word), sorted(known), n=1, cutoff=0.6)
    return close[0] if close else None


def check_keys(entry: dict, known, what: str, source: str) -> None:
    """Raise a HallError naming the first unknown key of ``entry`` and the key meant."""
    extra = sorted(str(k) for k in set(entry) - set(known))
    if not extra:
        return
    key = extra[0]
    near = nearest(key, known)
    hint = (f"did you mean {near!r}?" if near else
            f"the keys are {', '.join(sorted(known))}")
    where = f"{source}: {what}" if what else source
    raise HallError(f"{where}: unknown key {key!r}; {hint} (see docs/formats.md)")
