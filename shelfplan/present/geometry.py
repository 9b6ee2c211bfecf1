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
    """The height range to show: the shelves (a shelving plan's: the floor to the
    bookcases' top), the entrance and every book."""
    lo, hi = shelved_z() if layout.shelved else layout.hall.z_range
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


# --------------------------------------------------------------------------
# stacks (shelving plans): range rectangles, face strips, bookcase lines
# --------------------------------------------------------------------------
STRIP_INSET = 0.12   # a face strip starts this share of the depth off the spine
STRIP_GAP = 0.04     # and leaves this share of a bay free between bays


def shelved_z() -> tuple[float, float]:
    """The height range of a shelving plan's drawing: the floor to the bookcases' top."""
    from shelfplan.model.shelving import BOOKCASE_HEIGHT

    return 0.0, float(BOOKCASE_HEIGHT)


def range_rects(stacks) -> np.ndarray:
    """(ranges, 4, 2): every range's footprint rectangle."""
    return np.array([r.footprint() for r in stacks.ranges], dtype=float).reshape(-1, 4, 2)


def _range_arrays(stacks):
    rs = stacks.ranges
    start = np.array([r.start for r in rs], dtype=float).reshape(-1, 2)
    end = np.array([r.end for r in rs], dtype=float).reshape(-1, 2)
    u = (end - start) / np.linalg.norm(end - start, axis=1)[:, None]
    n = np.stack([-u[:, 1], u[:, 0]], axis=1)
    depth = np.array([r.depth for r in rs], dtype=float)
    sections = np.array([r.sections for r in rs], dtype=float)
    return start, end, n, depth, sections


def face_strips(stacks) -> np.ndarray:
    """(m, 4, 2): for every location a strip along its face of its bay, from
    STRIP_INSET of the depth off the spine to the face, counter-clockwise."""
    start, end, n, depth, sections = _range_arrays(stacks)
    r = stacks.loc_range
    sign = np.where(stacks.loc_face == 0, 1.0, -1.0)
    s = stacks.loc_section.astype(float)
    t0 = (s - 1 + STRIP_GAP / 2) / sections[r]
    t1 = (s - STRIP_GAP / 2) / sections[r]
    a = start[r] + t0[:, None] * (end[r] - start[r])
    b = start[r] + t1[:, None] * (end[r] - start[r])
    near = (sign * depth[r] * STRIP_INSET)[:, None] * n[r]
    far = (sign * depth[r])[:, None] * n[r]
    quad = np.stack([a + near, b + near, b + far, a + far], axis=1)
    flip = sign < 0                      # keep every strip counter-clockwise
    quad[flip] = quad[flip][:, ::-1]
    return quad


def bookcase_lines(stacks, height: float) -> np.ndarray:
    """(k, 2, 3) segments: every face's shelf boards (bottom to top) and bay uprights."""
    start, end, n, depth, sections = _range_arrays(stacks)
    segs = []
    for k, rg in enumerate(stacks.ranges):
        for face in rg.face_names:
            off = (1.0 if face == "left" else -1.0) * depth[k] * n[k]
            a, b = start[k] + off, end[k] + off
            z = height * np.arange(rg.shelves + 1) / rg.shelves
            segs.append(np.stack([np.column_stack([np.repeat(a[None], len(z), 0), z]),
                                  np.column_stack([np.repeat(b[None], len(z), 0), z])], 1))
            t = np.arange(rg.sections + 1) / rg.sections
            foot = a + t[:, None] * (b - a)
            segs.append(np.stack([np.column_stack([foot, np.zeros(len(t))]),
                                  np.column_stack([foot, np.full(len(t), height)])], 1))
    return np.concatenate(segs).reshape(-1, 2, 3)
