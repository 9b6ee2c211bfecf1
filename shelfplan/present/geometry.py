"""Shapes shared by the matplotlib and plotly views: rings, prisms, the door.

Pure numpy/shapely; nothing here draws. Rings are ``(m, 2)`` arrays of
floor points without the closing point.
"""

from __future__ import annotations

import numpy as np
import shapely

from shelfplan.layout import Layout

CIRCLE_SIDES = 24
DOOR_WIDTH = 1.2   # metres, only for drawing the entrance


def circle(centre: np.ndarray, r: float) -> np.ndarray:
    """A block's disc as a ring of ``CIRCLE_SIDES`` points."""
    t = np.linspace(0.0, 2.0 * np.pi, CIRCLE_SIDES, endpoint=False)
    return np.column_stack([centre[0] + r * np.cos(t), centre[1] + r * np.sin(t)])


def closed(ring: np.ndarray) -> np.ndarray:
    """The ring with its first point repeated at the end (for drawing lines)."""
    return np.vstack([ring, ring[:1]])


def z_limits(layout: Layout) -> tuple[float, float]:
    """The height range to show: the shelves, the entrance and every book."""
    lo, hi = layout.hall.z_range
    lo = min(lo, float(layout.hall.entrance[2]), float(layout.positions[:, 2].min()))
    hi = max(hi, float(layout.hall.entrance[2]), float(layout.positions[:, 2].max()))
    if hi - lo < 1e-6:
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi


def door(layout: Layout) -> np.ndarray:
    """Two floor points: a door DOOR_WIDTH wide on the wall at the entrance."""
    hall = layout.hall
    u, _ = hall.entrance_wall()
    e = hall.entrance[:2]
    half = min(DOOR_WIDTH, 0.5 * max(np.ptp(hall.footprint, axis=0))) / 2.0
    return np.array([e - half * u, e + half * u])


def hall_span(hall) -> float:
    """The larger side of the hall's bounding box (m)."""
    return float(max(np.ptp(hall.footprint, axis=0)))


def prism_faces(ring: np.ndarray, z0: float, z1: float, caps: bool = True) -> list:
    """The faces of a prism over ``ring`` from ``z0`` to ``z1`` as lists of (x, y, z)."""
    faces = []
    nxt = np.roll(ring, -1, axis=0)
    for a, b in zip(ring, nxt):
        faces.append([(a[0], a[1], z0), (b[0], b[1], z0), (b[0], b[1], z1), (a[0], a[1], z1)])
    if caps:
        faces.append([(x, y, z1) for x, y in ring])
        faces.append([(x, y, z0) for x, y in ring])
    return faces


def triangles(ring: np.ndarray) -> np.ndarray:
    """Triangles (k, 3) of vertex indices covering a simple polygon."""
    poly = shapely.Polygon(ring)
    if hasattr(shapely, "constrained_delaunay_triangles"):
        tris = shapely.constrained_delaunay_triangles(poly)
    else:  # shapely < 2.1: Delaunay of the corners, keep triangles inside
        tris = shapely.delaunay_triangles(poly)
    out = []
    for t in shapely.get_parts(tris):
        if not t.is_empty and poly.contains(t.representative_point()):
            pts = np.asarray(t.exterior.coords)[:3]
            out.append([int(np.argmin(np.linalg.norm(ring - q, axis=1))) for q in pts])
    return np.array(out, dtype=int).reshape(-1, 3)


def mesh_prism(ring: np.ndarray, z0: float, z1: float, caps: bool = True):
    """Vertices (x, y, z) and triangles (i, j, k) of a prism over ``ring``."""
    m = len(ring)
    x = np.concatenate([ring[:, 0], ring[:, 0]])
    y = np.concatenate([ring[:, 1], ring[:, 1]])
    z = np.concatenate([np.full(m, z0), np.full(m, z1)])
    a = np.arange(m)
    b = (a + 1) % m
    tri = [np.stack([a, b, b + m], 1), np.stack([a, b + m, a + m], 1)]
    if caps:
        cap = triangles(ring)
        tri += [cap, cap + m]
    t = np.concatenate(tri)
    return x, y, z, t[:, 0], t[:, 1], t[:, 2]
