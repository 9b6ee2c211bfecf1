"""Polygon rings of a hall file: parsed, checked and oriented (shared by hall.py and
building.py)."""

from __future__ import annotations

import numpy as np

from shelfplan.errors import HallError

__all__ = ["_as_ring", "_ccw"]


def _as_ring(coords, what: str, source: str) -> np.ndarray:
    try:
        a = np.asarray(coords, dtype=float)
    except (TypeError, ValueError):
        raise HallError(f"{source}: {what} must be a list of [x, y] pairs of numbers") from None
    if a.ndim != 2 or a.shape[1] != 2 or len(a) < 3:
        raise HallError(f"{source}: {what} must be a list of at least 3 [x, y] points, "
                        f"got shape {list(a.shape)}")
    if not np.isfinite(a).all():
        raise HallError(f"{source}: {what} has a non-finite coordinate")
    # drop repeated consecutive corners (and the closing corner): a zero-length
    # wall would divide by zero in nearest_boundary
    keep = np.any(a != np.roll(a, 1, axis=0), axis=1)
    a = a[keep] if keep.any() else a[:1]
    if len(a) < 3:
        raise HallError(f"{source}: {what} must have at least 3 distinct corners, got {len(a)}")
    return a


def _ccw(ring: np.ndarray) -> np.ndarray:
    x, y = ring[:, 0], ring[:, 1]
    area2 = np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)
    return ring if area2 > 0 else ring[::-1].copy()
