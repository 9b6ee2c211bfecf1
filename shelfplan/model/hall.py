"""The hall: floor polygon, obstacles, shelf heights, entrance and spacing.

A hall file is JSON::

    {"name": "Reading room",
     "footprint": [[0, 0], [12, 0], [12, 8], [0, 8]],
     "obstacles": [[[5, 3], [5.6, 3], [5.6, 3.6], [5, 3.6]]],
     "z_range": [0.3, 1.8],
     "entrance": [6, 0, 1.2],
     "d_min": 0.3}

This module validates halls (with shapely), answers geometric questions in
vectorised numpy (containment, nearest boundary points for the penalty and
the repair), builds a dense lattice of feasible sites, and bounds capacity.
"""

from __future__ import annotations

import copy
import json
import math
import os
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import Point, Polygon
from shapely.validation import explain_validity

from shelfplan.errors import HallError
from shelfplan.model.keys import HALL_KEYS, check_keys
from shelfplan.model.rings import _as_ring, _ccw
from shelfplan.model.stacks import Stacks, stacks_from_list

#: Layer spacing of a hexagonal close packing with nearest-neighbour distance 1.
HCP_LAYER = math.sqrt(2.0 / 3.0)


@dataclass
class Hall:
    """A validated hall. Build with :func:`hall_from_dict` or :func:`load_hall`."""

    footprint: np.ndarray                 # (m, 2), counter-clockwise, not closed
    obstacles: list[np.ndarray] = field(default_factory=list)
    z_range: tuple[float, float] = (0.3, 1.8)
    entrance: np.ndarray = field(default_factory=lambda: np.zeros(3))
    d_min: float = 0.3
    name: str = "hall"
    stacks: "Stacks | None" = None       # ranges and banks (MODEL.md 8), None without
    given: frozenset = frozenset({"z_range", "d_min"})   # optional keys the file had
    building: "object | None" = None     # floors and connectors (MODEL.md 8.9), building.py

    def __post_init__(self):
        self._poly = Polygon(self.footprint, [o for o in self.obstacles])
        segs = [_segments(self.footprint)] + [_segments(o) for o in self.obstacles]
        self._seg_a = np.concatenate([s[0] for s in segs])
        self._seg_b = np.concatenate([s[1] for s in segs])

    # --- serialisation -------------------------------------------------
    def to_dict(self) -> dict:
        if self.building is not None:
            return {"name": self.name, **self.building.to_dict()}
        out = {
            "name": self.name,
            "footprint": self.footprint.tolist(),
            "obstacles": [o.tolist() for o in self.obstacles],
            "z_range": [float(self.z_range[0]), float(self.z_range[1])],
            "entrance": [float(v) for v in self.entrance],
            "d_min": float(self.d_min),
        }
        if self.stacks is not None:      # z_range and d_min only when the file had them
            out = {k: v for k, v in out.items() if k not in {"z_range", "d_min"} - self.given}
            out["stacks"] = copy.deepcopy(self.stacks.spec)
        return out

    # --- geometry ------------------------------------------------------
    @property
    def floor(self) -> Polygon:
        """The free floor: footprint minus obstacles (a shapely polygon)."""
        return self._poly

    @property
    def height(self) -> float:
        return float(self.z_range[1] - self.z_range[0])

    def inside_xy(self, xy: np.ndarray, tol: float = 0.0) -> np.ndarray:
        """True where (x, y) is on the free floor (within ``tol`` of it)."""
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        inside = shapely.contains_xy(self._poly, xy[:, 0], xy[:, 1])
        if tol > 0:
            _, dist = self.nearest_boundary(xy)
            inside |= dist <= tol
        return inside

    def contains(self, pos: np.ndarray, tol: float = 1e-6) -> np.ndarray:
        """True where a 3D position is inside the hall (MODEL.md section 4)."""
        pos = np.asarray(pos, dtype=float).reshape(-1, 3)
        z_ok = (pos[:, 2] >= self.z_range[0] - tol) & (pos[:, 2] <= self.z_range[1] + tol)
        return z_ok & self.inside_xy(pos[:, :2], tol=tol)

    def nearest_boundary(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Closest point on any wall (footprint or obstacle edge) and its distance.

        Vectorised over points and edges: O(n * edges) memory, edges are few.
        """
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        a, b = self._seg_a, self._seg_b
        ab = b - a                                        # (E, 2)
        denom = np.einsum("ij,ij->i", ab, ab)
        best_q = np.empty_like(xy)
        best_d = np.full(len(xy), np.inf)
        chunk = max(1, 2_000_000 // max(len(a), 1))
        for s in range(0, len(xy), chunk):
            p = xy[s:s + chunk, None, :]                   # (c, 1, 2)
            t = np.clip(np.einsum("cej,ej->ce", p - a, ab) / denom, 0.0, 1.0)
            q = a + t[..., None] * ab                      # (c, E, 2)
            d2 = np.einsum("cej,cej->ce", p - q, p - q)
            k = np.argmin(d2, axis=1)
            rows = np.arange(len(k))
            best_q[s:s + chunk] = q[rows, k]
            best_d[s:s + chunk] = np.sqrt(d2[rows, k])
        return best_q, best_d

    def outside_xy(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mask of points off the free floor, their nearest wall points)."""
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        out = ~shapely.contains_xy(self._poly, xy[:, 0], xy[:, 1])
        q = np.empty((int(out.sum()), 2))
        if out.any():
            q, _ = self.nearest_boundary(xy[out])
        return out, q

    def project(self, pos: np.ndarray, margin: float = 1e-6) -> np.ndarray:
        """Move every position into the hall (onto the nearest wall, ``margin`` inside)."""
        pos = np.array(pos, dtype=float).reshape(-1, 3)
        pos[:, 2] = np.clip(pos[:, 2], *self.z_range)
        out, q = self.outside_xy(pos[:, :2])
        if out.any():
            # step from the wall point towards the interior, then verify
            inward = q - pos[out, :2]
            norm = np.linalg.norm(inward, axis=1, keepdims=True)
            inward = np.divide(inward, norm, out=np.zeros_like(inward), where=norm > 0)
            cand = q + inward * margin
            ok = shapely.contains_xy(self._poly, cand[:, 0], cand[:, 1])
            if not ok.all():  # corners: pull towards a representative interior point
                rp = np.asarray(self._poly.representative_point().coords[0])
                for f in (1e-5, 1e-4, 1e-3, 1e-2):
                    c2 = q[~ok] + (rp - q[~ok]) * f
                    good = shapely.contains_xy(self._poly, c2[:, 0], c2[:, 1])
                    idx = np.nonzero(~ok)[0][good]
                    cand[idx] = c2[good]
                    ok[idx] = True
                    if ok.all():
                        break
            pos[np.nonzero(out)[0], :2] = cand
        return pos

    def sites(self, spacing: float | None = None) -> np.ndarray:
        """A hexagonal close packing of feasible sites, nearest neighbours ``spacing`` apart.

        Defaults to ``d_min``. Sites lie on the free floor and within z_range;
        consecutive layers are offset as in an HCP stack (density 0.74).
        """
        d = float(spacing or self.d_min) * (1.0 + 1e-9)
        lo, hi = self.z_range
        n_layers = int(math.floor((hi - lo) / (d * HCP_LAYER) + 1e-9)) + 1
        zs = lo + np.arange(n_layers) * d * HCP_LAYER
        if n_layers > 1:  # spread the layers to use the full height
            zs = np.linspace(lo, hi, n_layers) if (hi - lo) / (n_layers - 1) >= d * HCP_LAYER else zs
        minx, miny, maxx, maxy = self._poly.bounds
        row_h = d * math.sqrt(3.0) / 2.0
        xs = np.arange(minx - d, maxx + d, d)
        ys = np.arange(miny - d, maxy + d, row_h)
        out = []
        for k, z in enumerate(zs):
            ox = (k % 2) * d / 2.0
            oy = (k % 2) * row_h / 3.0
            gx, gy = np.meshgrid(xs, ys)
            gx = gx + ((np.arange(len(ys)) % 2) * d / 2.0)[:, None] + ox
            gy = gy + oy
            pts = np.column_stack([gx.ravel(), gy.ravel()])
            pts = pts[shapely.contains_xy(self._poly, pts[:, 0], pts[:, 1])]
            out.append(np.column_stack([pts, np.full(len(pts), z)]))
        return np.concatenate(out) if out else np.zeros((0, 3))

    def volume_capacity(self) -> int:
        """Upper bound on how many books fit (MODEL.md section 6 on the hall's volume).

        Disjoint balls of radius d_min/2 centred in the hall lie in the free
        floor grown by d_min/2, times the height plus d_min.
        """
        d = self.d_min
        grown = self._poly.buffer(d / 2.0).area
        return int(math.floor(grown * (self.height + d) / (math.pi * d ** 3 / 6.0)))

    def entrance_wall(self) -> tuple[np.ndarray, np.ndarray]:
        """(unit direction along the wall nearest the entrance, unit inward normal)."""
        a, b = _segments(self.footprint)
        e = self.entrance[:2]
        ab = b - a
        t = np.clip(np.einsum("ej,ej->e", e - a, ab) / np.einsum("ej,ej->e", ab, ab), 0, 1)
        q = a + t[:, None] * ab
        k = int(np.argmin(np.linalg.norm(q - e, axis=1)))
        u = ab[k] / np.linalg.norm(ab[k])
        nrm = np.array([-u[1], u[0]])  # left normal: inward for a CCW polygon
        return u, nrm


def _segments(ring: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return ring, np.roll(ring, -1, axis=0)


def hall_from_dict(data, source: str = "hall") -> Hall:
    """Validate a hall mapping; every problem is a :class:`HallError` with the fix."""
    if not isinstance(data, dict):
        raise HallError(f"{source}: a hall must be a JSON object with footprint, z_range, "
                        f"entrance and d_min")
    if "floors" in data:                 # a building (MODEL.md 8.9)
        from shelfplan.model.building import building_from_dict
        b, stacks = building_from_dict(data, source)
        first = b.floors[b.entrance_floor]
        return Hall(footprint=first.footprint, obstacles=list(first.obstacles),
                    entrance=np.array([*b.entrance_xy, 0.0]), name=str(data.get("name", source)),
                    stacks=stacks, given=frozenset(), building=b)
    check_keys(data, HALL_KEYS | {"floors", "connectors", "entrance_floor"}, "", source)
    for key in ("connectors", "entrance_floor"):
        if key in data:
            raise HallError(f"{source}: {key!r} belongs to a building; list the floors under "
                            f"'floors' (docs/buildings.md) or remove {key!r}")
    stacked = "stacks" in data
    needed = ("footprint", "entrance") if stacked else ("footprint", "z_range", "entrance", "d_min")
    missing = [k for k in needed if k not in data]
    if missing:
        raise HallError(f"{source}: missing {', '.join(missing)}; see docs/formats.md for "
                        f"the hall file")
    foot = _ccw(_as_ring(data["footprint"], "footprint", source))
    fpoly = Polygon(foot)
    if not fpoly.is_valid:
        raise HallError(f"{source}: footprint is not a simple polygon ({explain_validity(fpoly)}); "
                        f"list its corners in order around the room without crossings")
    if fpoly.area <= 0:
        raise HallError(f"{source}: footprint has zero area")
    given = frozenset(k for k in ("z_range", "d_min") if k in data)
    data = {"z_range": [0.3, 1.8], "d_min": 0.3, **data}
    try:
        d_min = float(data["d_min"])
    except (TypeError, ValueError):
        raise HallError(f"{source}: d_min must be a number of metres, got {data['d_min']!r}") from None
    if not (d_min > 0 and math.isfinite(d_min)):
        raise HallError(f"{source}: d_min must be positive, got {d_min}; use the spacing "
                        f"between books in metres, e.g. 0.3")
    try:
        z_lo, z_hi = (float(v) for v in data["z_range"])
    except (TypeError, ValueError):
        raise HallError(f"{source}: z_range must be [lo, hi] in metres, got "
                        f"{data['z_range']!r}") from None
    if not (math.isfinite(z_lo) and math.isfinite(z_hi)):
        raise HallError(f"{source}: z_range must be two finite heights in metres, got "
                        f"{data['z_range']!r}")
    if z_lo > z_hi:
        raise HallError(f"{source}: z_range is reversed ([{z_lo}, {z_hi}]); write it as "
                        f"[lowest shelf, highest shelf], e.g. [0.3, 1.8]")
    try:
        entrance = np.asarray(data["entrance"], dtype=float)
    except (TypeError, ValueError):
        entrance = np.zeros(0)
    if stacked and entrance.shape == (2,):       # with stacks the entrance's z plays no part
        entrance = np.append(entrance, 0.0)
    if entrance.shape != (3,) or not np.isfinite(entrance).all():
        raise HallError(f"{source}: entrance must be [x, y, z] in metres, got "
                        f"{data['entrance']!r}")
    obstacles = []
    for k, ob in enumerate(data.get("obstacles") or []):
        ring = _ccw(_as_ring(ob, f"obstacle {k + 1}", source))
        opoly = Polygon(ring)
        if not opoly.is_valid or opoly.area <= 0:
            raise HallError(f"{source}: obstacle {k + 1} is not a simple polygon "
                            f"({explain_validity(opoly)}); list its corners in order")
        if not fpoly.contains(opoly):
            raise HallError(f"{source}: obstacle {k + 1} is not inside the footprint; move it "
                            f"inside the room or remove it")
        for j, other in enumerate(obstacles):
            if Polygon(other).intersects(opoly):
                raise HallError(f"{source}: obstacles {j + 1} and {k + 1} overlap or touch; "
                                f"merge them into one polygon")
        obstacles.append(ring)
    free = Polygon(foot, obstacles)
    if not free.is_valid:
        raise HallError(f"{source}: an obstacle touches the footprint's wall "
                        f"({explain_validity(free)}); leave a gap between them or cut the "
                        f"obstacle out of the footprint polygon")
    ent_dist = free.distance(Point(entrance[:2]))
    limit = max(1.0, 3 * d_min)
    if not stacked and ent_dist > limit:
        raise HallError(f"{source}: entrance ({entrance[0]:g}, {entrance[1]:g}) is {ent_dist:.2f} m "
                        f"from the hall; put it on or just inside the footprint's wall")
    name = str(data.get("name", os.path.basename(source) if source else "hall"))
    stacks = (stacks_from_list(data["stacks"], foot, obstacles, entrance[:2], source)
              if stacked else None)
    return Hall(footprint=foot, obstacles=obstacles, z_range=(z_lo, z_hi),
                entrance=entrance, d_min=d_min, name=name, stacks=stacks, given=given)


def load_hall(path) -> Hall:
    """Read and validate a hall JSON file."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise HallError(f"{path}: no such hall file; check the path or omit --hall for a "
                        f"default hall")
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except json.JSONDecodeError as exc:
        raise HallError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}, column "
                        f"{exc.colno}); fix the hall file") from None
    except UnicodeDecodeError:
        raise HallError(f"{path}: not a UTF-8 text file; a hall file is JSON") from None
    except OSError as exc:
        raise HallError(f"{path}: cannot be read ({exc.strerror}); pass a hall JSON file") from None
    return hall_from_dict(data, source=path)


def default_hall(n_items: int, d_min: float = 0.3, headroom: float = 2.0,
                 z_range=(0.3, 1.8), entrance_z: float = 1.2) -> Hall:
    """A rectangular hall (3:2) that holds ``n_items`` at ``d_min`` with headroom.

    Sized so that ``headroom * n_items`` fit on the hexagonal lattice; the
    entrance is in the middle of one long wall (y = 0) at 1.2 m.
    """
    lo, hi = z_range
    layers = int(math.floor((hi - lo) / (d_min * HCP_LAYER) + 1e-9)) + 1
    per_area = 1.0 / (d_min ** 2 * math.sqrt(3.0) / 2.0)   # sites per m^2 in one layer
    area = headroom * max(n_items, 1) / (layers * per_area)
    w = max(math.sqrt(area * 1.5), 4 * d_min)
    h = max(area / w, 4 * d_min)
    w, h = math.ceil(w * 10) / 10 + d_min, math.ceil(h * 10) / 10 + d_min
    hall = hall_from_dict({
        "name": f"default hall for {n_items} items",
        "footprint": [[0, 0], [w, 0], [w, h], [0, h]],
        "z_range": list(z_range),
        "entrance": [w / 2, 0.0, entrance_z],
        "d_min": d_min,
    }, source="default hall")
    # the lattice loses sites at the walls: grow until it really fits
    while len(hall.sites()) < headroom * n_items:
        w, h = w * 1.1, h * 1.1
        hall = hall_from_dict({**hall.to_dict(), "footprint": [[0, 0], [w, 0], [w, h], [0, h]],
                               "entrance": [w / 2, 0.0, entrance_z]}, source="default hall")
    return hall


def check_capacity(hall: Hall, n_items: int) -> None:
    """Fail fast when the hall cannot hold the items at d_min (MODEL.md section 6)."""
    cap = hall.volume_capacity()
    if n_items > cap:
        raise HallError(
            f"hall {hall.name!r} cannot hold {n_items} items at d_min={hall.d_min:g} m: at "
            f"most {cap} fit in its {hall.floor.area:.1f} m^2 x {hall.height:.2f} m; enlarge "
            f"the footprint, widen z_range or lower d_min"
        )
