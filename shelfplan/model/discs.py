"""Category blocks as discs on the floor (``--level category``): their geometry.

A category placed as one unit is a block of shelving. It holds ``m`` books
(its items in the loans) at the hall's close-packed density and stands from
the bottom to the top of ``z_range``, so on the floor plan it is a disc of radius

    rho(m) = max(d_min / 2, sqrt(m / (pi * sigma))),
    sigma  = layers / (sqrt(3) / 2 * d_min^2)

``sigma`` being the books per m^2 of floor on the hall's hexagonal lattice
(``layers`` shelf layers in ``z_range``, as in :meth:`Hall.sites`). A single
book is a disc of radius ``d_min / 2`` (MODEL.md's spacing), but a block fills
the full height, so blocks are never stacked. A block's position is its centre
at mid-height. A block layout is feasible when

* every two centres are at least ``rho_i + rho_j`` apart (discs do not
  overlap), within MODEL.md's ``1e-3`` tolerance, and
* every disc is on the free floor up to half a book: the centre is in the
  hall and at least ``rho_i - d_min / 2`` from every wall and obstacle edge.

This module is the model layer's part (radii, margins, clearance, the
feasibility check, the room checks); the block solver is
:mod:`shelfplan.solve.blocks`. Pairs are found with a KD-tree; nothing is ``n x n``.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from scipy.spatial import cKDTree

from shelfplan.errors import HallError
from shelfplan.model.hall import HCP_LAYER, Hall

#: relative tolerance of the disc spacing and wall margins (MODEL.md's 1e-3)
TOL = 1e-3


def layers(hall: Hall) -> int:
    """Shelf layers of the hall's close-packed lattice in ``z_range``."""
    return int(math.floor(hall.height / (hall.d_min * HCP_LAYER) + 1e-9)) + 1


def books_per_m2(hall: Hall) -> float:
    """Books per square metre of floor on the hall's lattice (all layers)."""
    return layers(hall) / (hall.d_min ** 2 * math.sqrt(3.0) / 2.0)


def block_radius(sizes, hall: Hall) -> np.ndarray:
    """Radius of the disc that holds ``sizes`` books (see the module docstring)."""
    m = np.asarray(sizes, dtype=float)
    return np.maximum(hall.d_min / 2.0, np.sqrt(m / (math.pi * books_per_m2(hall))))


def block_z(hall: Hall) -> float:
    return float(sum(hall.z_range) / 2.0)


def margins(radius: np.ndarray, hall: Hall) -> np.ndarray:
    """How far each centre must stay from the walls: ``rho - d_min / 2``."""
    return np.maximum(np.asarray(radius, dtype=float) - hall.d_min / 2.0, 0.0)


def signed_clearance(xy: np.ndarray, hall: Hall) -> tuple[np.ndarray, np.ndarray]:
    """Distance to the nearest wall, positive on the free floor and negative off it,
    with the nearest wall points."""
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    q, dist = hall.nearest_boundary(xy)
    inside = shapely.contains_xy(hall.floor, xy[:, 0], xy[:, 1])
    return np.where(inside, dist, -dist), q


def close_pairs(X: np.ndarray, radius: np.ndarray, slack: float = 0.0) -> np.ndarray:
    """Pairs whose centres are closer than ``(rho_i + rho_j)(1 - slack)`` (KD-tree)."""
    X = np.asarray(X, dtype=float)
    if len(X) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = cKDTree(X).query_pairs(2.0 * float(radius.max()), output_type="ndarray")
    if len(pairs) == 0:
        return pairs
    r = np.linalg.norm(X[pairs[:, 0]] - X[pairs[:, 1]], axis=1)
    need = (radius[pairs[:, 0]] + radius[pairs[:, 1]]) * (1.0 - slack)
    return pairs[r < need]


def check(X: np.ndarray, radius: np.ndarray, hall: Hall) -> dict:
    """Feasibility of a block layout with counts of what fails."""
    X = np.asarray(X, dtype=float)
    close = close_pairs(X, radius, slack=TOL)
    inside = hall.contains(X)
    sd, _ = signed_clearance(X[:, :2], hall)
    short = sd < margins(radius, hall) - TOL * hall.d_min
    return {"feasible": bool(len(close) == 0 and inside.all() and not short.any()),
            "blocks_overlapping": int(len(close)),
            "outside_hall": int((~inside | short).sum())}


def is_feasible(X: np.ndarray, radius: np.ndarray, hall: Hall) -> bool:
    return check(X, radius, hall)["feasible"]


def check_room(radius: np.ndarray, hall: Hall) -> None:
    """Fail fast when the blocks' discs cannot fit on the free floor.

    Disjoint discs that may overhang the walls by ``d_min/2`` lie in the free
    floor grown by ``d_min/2``: their areas cannot add up to more than its area,
    and the largest needs a spot ``rho - d_min/2`` from every wall.
    """
    need, have, widest, room = _room(radius, hall)
    if need > have:
        raise HallError(
            f"hall {hall.name!r} cannot hold the category blocks: their discs need "
            f"{need:.1f} m^2 and the free floor (with half a book's overhang at the walls) "
            f"has {have:.1f} m^2; enlarge the hall, or place smaller units (--level item, "
            f"or finer categories with --category-level)")
    if widest - hall.d_min / 2.0 > room:
        raise HallError(
            f"hall {hall.name!r} is too narrow for the largest category block (a disc of "
            f"radius {widest:.2f} m needs a spot {widest - hall.d_min / 2:.2f} m from every "
            f"wall; the widest spot is {room:.2f} m); widen the hall, or place smaller units "
            f"(--level item, or finer categories with --category-level)")


def room_for(radius: np.ndarray, hall: Hall, slack: float = 1.0) -> bool:
    """True when ``slack`` times the discs' area fits the grown free floor and the
    largest disc has a spot (the tests of :func:`check_room`)."""
    need, have, widest, room = _room(radius, hall)
    return slack * need <= have and widest - hall.d_min / 2.0 <= room


def _room(radius: np.ndarray, hall: Hall) -> tuple[float, float, float, float]:
    """(area of the discs, area of the free floor grown by d_min/2, largest radius,
    largest wall clearance on the floor)."""
    return (float(np.pi * np.sum(radius ** 2)), hall.floor.buffer(hall.d_min / 2.0).area,
            float(radius.max()), _inradius(hall))


def _inradius(hall: Hall) -> float:
    """Radius of the largest disc on the free floor (its pole of inaccessibility)."""
    centre = widest_point(hall)
    _, dist = hall.nearest_boundary(centre[None, :])
    return float(dist[0])


def widest_point(hall: Hall) -> np.ndarray:
    """The point of the free floor farthest from every wall (shapely's polylabel)."""
    from shapely.ops import polylabel

    tol = max(1e-3, math.sqrt(hall.floor.area) / 1000.0)
    pt = polylabel(hall.floor, tolerance=tol)
    return np.array([pt.x, pt.y])


def grid(hall: Hall, step: float) -> np.ndarray:
    """A hexagonal grid of points on the free floor, ``step`` apart."""
    minx, miny, maxx, maxy = hall.floor.bounds
    xs = np.arange(minx + step / 2, maxx, step)
    ys = np.arange(miny + step / 2, maxy, step * math.sqrt(3.0) / 2.0)
    gx, gy = np.meshgrid(xs, ys)
    gx = gx + ((np.arange(len(ys)) % 2) * step / 2.0)[:, None]
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    return pts[shapely.contains_xy(hall.floor, pts[:, 0], pts[:, 1])]
