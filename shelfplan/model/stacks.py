"""Stacks: ranges and banks of shelving, their locations and pick points (MODEL.md 8.1-8.5).

A hall file's ``stacks`` key is a list of ranges (``{"id": ..., "start": ..., "end":
..., "sections": ...}``) and banks (``{"bank": ..., "origin": ..., "ranges": ...,
"length": ..., "sections": ...}``, expanded into ranges ``"<bank>-<r+1>"``).
:func:`stacks_from_list` validates the list against the hall's footprint and
obstacles and returns a :class:`Stacks`: the ranges, one row per location
(range, face, section) in shelving order with its capacity and pick point, the
free floor, and the walking-distance table (computed once, on first use).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Point, Polygon

from shelfplan.errors import HallError
from shelfplan.model import walk
from shelfplan.model.keys import check_keys

__all__ = ["Range", "Stacks", "stacks_from_list", "FACES", "RANGE_DEFAULTS"]

#: Face codes of the location arrays: 0 = left (+n), 1 = right (-n).
FACES = ("left", "right")
RANGE_DEFAULTS = {"faces": "both", "depth": 0.3, "shelves": 6, "books_per_shelf": 30,
                  "standoff": 0.5}
RANGE_KEYS = {"id", "start", "end", "sections"} | set(RANGE_DEFAULTS)
BANK_KEYS = {"bank", "origin", "angle", "ranges", "length", "sections", "aisle"} | set(RANGE_DEFAULTS)
TOL = 1e-8       # metres: on the free floor within this (blockers grow by 1e-9)


@dataclass(frozen=True)
class Range:
    """One validated range: spine ``start`` -> ``end`` and its shelving (MODEL.md 8.1)."""

    id: str
    start: np.ndarray
    end: np.ndarray
    sections: int
    faces: str = "both"
    depth: float = 0.3
    shelves: int = 6
    books_per_shelf: int = 30
    standoff: float = 0.5
    bank: str | None = None

    @property
    def length(self) -> float:
        return float(np.hypot(*(self.end - self.start)))

    @property
    def u(self) -> np.ndarray:
        return (self.end - self.start) / self.length

    @property
    def n(self) -> np.ndarray:
        u = self.u
        return np.array([-u[1], u[0]])

    @property
    def face_names(self) -> tuple[str, ...]:
        return FACES if self.faces == "both" else (self.faces,)

    @property
    def label(self) -> str:
        return f"range {self.id!r}" + (f" (bank {self.bank!r})" if self.bank else "")

    def footprint(self) -> np.ndarray:
        """The rectangle (4, 2), counter-clockwise: spine +- depth (both), spine..+depth n
        (left), spine..-depth n (right)."""
        lo, hi = {"both": (-1.0, 1.0), "left": (0.0, 1.0), "right": (-1.0, 0.0)}[self.faces]
        a, b, n = self.start, self.end, self.n * self.depth
        return np.array([a + lo * n, b + lo * n, b + hi * n, a + hi * n])

    def pick_points(self, face: str) -> np.ndarray:
        """(sections, 2): bay midpoints moved depth + standoff out along the face's normal."""
        t = (np.arange(self.sections) + 0.5) / self.sections
        mid = self.start + t[:, None] * (self.end - self.start)
        sign = 1.0 if face == "left" else -1.0
        return mid + sign * (self.depth + self.standoff) * self.n


class Stacks:
    """Validated stacks of a hall. Locations are numbered 0..m-1 in shelving order.

    Arrays (length m): ``loc_range`` (index into ``ranges``), ``loc_face`` (0 left,
    1 right), ``loc_section`` (1-based), ``capacity`` (shelves * books_per_shelf),
    ``pick`` (m, 2). ``spec`` is the list as given (for the hall file).
    """

    def __init__(self, spec: list, ranges: list[Range], free_floor, entrance_xy: np.ndarray):
        self.spec = spec
        self.ranges = ranges
        self.free_floor = free_floor
        self.entrance_xy = np.asarray(entrance_xy, dtype=float)[:2]
        rng, face, sec, pick = [], [], [], []
        for k, r in enumerate(ranges):
            for f in r.face_names:
                order = np.arange(1, r.sections + 1)
                pts = r.pick_points(f)
                if f == "right" and r.faces == "both":   # serpentine: right face S..1
                    order, pts = order[::-1], pts[::-1]
                rng.append(np.full(r.sections, k))
                face.append(np.full(r.sections, FACES.index(f)))
                sec.append(order)
                pick.append(pts)
        self.loc_range = np.concatenate(rng).astype(np.int64)
        self.loc_face = np.concatenate(face).astype(np.int8)
        self.loc_section = np.concatenate(sec).astype(np.int64)
        self.pick = np.concatenate(pick).reshape(-1, 2)
        shelves = np.array([r.shelves for r in ranges], dtype=np.int64)
        per = np.array([r.books_per_shelf for r in ranges], dtype=np.int64)
        self.loc_shelves = shelves[self.loc_range]
        self.loc_books_per_shelf = per[self.loc_range]
        self.capacity = self.loc_shelves * self.loc_books_per_shelf
        self._distances = None

    @property
    def n_locations(self) -> int:
        return len(self.loc_range)

    @property
    def n_slots(self) -> int:
        return int(self.capacity.sum())

    def range_ids(self) -> np.ndarray:
        return np.array([r.id for r in self.ranges], dtype=object)

    def describe(self, k: int) -> str:
        """'range 'A-1' left face section 3' for location k."""
        r = self.ranges[self.loc_range[k]]
        return f"{r.label} {FACES[self.loc_face[k]]} face section {self.loc_section[k]}"

    def slot_order(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every slot in shelving order: (location, shelf, slot), each (n_slots,), 1-based
        shelf and slot; within a location shelves 1..shelves, slots 1..books_per_shelf."""
        cap = self.capacity
        loc = np.repeat(np.arange(self.n_locations), cap)
        start = np.concatenate([[0], np.cumsum(cap)[:-1]])
        within = np.arange(len(loc)) - np.repeat(start, cap)
        per = self.loc_books_per_shelf[loc]
        return loc, within // per + 1, within % per + 1

    def distances(self) -> np.ndarray:
        """Walking distance g (MODEL.md 8.3), (m+1, m+1) float64: index 0 is the entrance,
        index k+1 location k. Computed on first use, then kept."""
        if self._distances is None:
            pts = np.vstack([self.entrance_xy[None, :], self.pick])
            self._distances = walk.distance_table(self.free_floor, pts)
        return self._distances


# --- parsing ---------------------------------------------------------------------------

def _fail(source: str, what: str, msg: str):
    raise HallError(f"{source}: {what}: {msg}")


def _number(entry, key, what, source, *, positive=True, integer=False, default=None):
    if key not in entry:
        if default is None:
            _fail(source, what, f"missing {key!r}; see docs/formats.md, section stacks")
        return default
    v = entry[key]
    kind = "a whole number" if integer else "a number"
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        _fail(source, what, f"{key} must be {kind}, got {v!r}; write e.g. "
                            f"{key}: {RANGE_DEFAULTS.get(key, 5)}")
    if integer and v != int(v):
        _fail(source, what, f"{key} must be {kind}, got {v!r}")
    if (positive and v <= 0) or (positive is False and v < 0):
        _fail(source, what, f"{key} must be {'> 0' if positive else '>= 0'}, got {v!r}")
    return int(v) if integer else float(v)


def _point(entry, key, what, source):
    if key not in entry:
        _fail(source, what, f"missing {key!r} ([x, y] in metres)")
    try:
        a = np.asarray(entry[key], dtype=float)
    except (TypeError, ValueError):
        a = np.zeros(0)
    if a.shape != (2,) or not np.isfinite(a).all():
        _fail(source, what, f"{key} must be [x, y] in metres, got {entry[key]!r}")
    return a


def _shelving(entry, what, source) -> dict:
    faces = entry.get("faces", "both")
    if faces not in ("both", "left", "right"):
        _fail(source, what, f"faces must be \"both\", \"left\" or \"right\", got {faces!r}")
    return {"faces": faces,
            "depth": _number(entry, "depth", what, source, default=0.3),
            "shelves": _number(entry, "shelves", what, source, integer=True, default=6),
            "books_per_shelf": _number(entry, "books_per_shelf", what, source, integer=True,
                                       default=30),
            "standoff": _number(entry, "standoff", what, source, positive=False, default=0.5)}


def _parse_range(entry, source) -> Range:
    rid = entry["id"]
    if not isinstance(rid, (str, int)) or isinstance(rid, bool) or str(rid) == "":
        _fail(source, f"range {rid!r}", "id must be a non-empty string, e.g. \"A-3\"")
    what = f"range {str(rid)!r}"
    check_keys(entry, RANGE_KEYS, what, source)
    start, end = _point(entry, "start", what, source), _point(entry, "end", what, source)
    if np.hypot(*(end - start)) <= 0:
        _fail(source, what, "start and end are the same point; the spine needs a length > 0")
    sections = _number(entry, "sections", what, source, integer=True)
    return Range(id=str(rid), start=start, end=end, sections=sections,
                 **_shelving(entry, what, source))


def _parse_bank(entry, source) -> list[Range]:
    name = entry["bank"]
    if not isinstance(name, (str, int)) or isinstance(name, bool) or str(name) == "":
        _fail(source, f"bank {name!r}", "bank must be a non-empty name, e.g. \"A\"")
    what = f"bank {str(name)!r}"
    check_keys(entry, BANK_KEYS, what, source)
    origin = _point(entry, "origin", what, source)
    if "ranges" in entry and entry["ranges"] == 0 and not isinstance(entry["ranges"], bool):
        _fail(source, what, "has 0 ranges; give ranges >= 1 or remove the bank")
    count = _number(entry, "ranges", what, source, integer=True)
    length = _number(entry, "length", what, source)
    sections = _number(entry, "sections", what, source, integer=True)
    angle = _number(entry, "angle", what, source, positive=None, default=0.0)
    aisle = _number(entry, "aisle", what, source, positive=False, default=1.0)
    shelving = _shelving(entry, what, source)
    a = math.radians(angle)
    u = np.array([math.cos(a), math.sin(a)])
    n = np.array([-u[1], u[0]])
    pitch = aisle + (2 if shelving["faces"] == "both" else 1) * shelving["depth"]
    out = []
    for r in range(count):
        start = origin + r * pitch * n
        out.append(Range(id=f"{name}-{r + 1}", start=start, end=start + length * u,
                         sections=sections, bank=str(name), **shelving))
    return out


def parse_stacks(spec, source: str = "hall") -> list[Range]:
    """The ranges of a ``stacks`` list (banks expanded in r order), fields checked."""
    if not isinstance(spec, list):
        raise HallError(f"{source}: stacks must be a list of ranges and banks, got "
                        f"{type(spec).__name__}; see docs/formats.md, section stacks")
    ranges: list[Range] = []
    banks = set()
    for k, entry in enumerate(spec):
        if not isinstance(entry, dict) or ("id" in entry) == ("bank" in entry):
            raise HallError(f"{source}: stacks entry {k + 1} must be an object with either "
                            f"\"id\" (a range) or \"bank\" (a bank of ranges)")
        if "bank" in entry:
            if str(entry["bank"]) in banks:
                raise HallError(f"{source}: bank {str(entry['bank'])!r} is given twice; "
                                f"give each bank its own name")
            banks.add(str(entry["bank"]))
            ranges.extend(_parse_bank(entry, source))
        else:
            ranges.append(_parse_range(entry, source))
    seen = set()
    for r in ranges:
        if r.id in seen:
            raise HallError(f"{source}: {r.label}: id {r.id!r} is used twice; give each "
                            f"range its own id")
        seen.add(r.id)
    if not ranges:
        raise HallError(f"{source}: stacks is empty; list at least one range or bank, or "
                        f"remove the stacks key")
    return ranges


# --- validation against the hall (MODEL.md 8.3) ----------------------------------------

def _check_placement(ranges, rects, foot: Polygon, obstacles: list[Polygon], source):
    grown = foot.buffer(TOL, join_style="mitre")
    inside = shapely.covers(grown, rects)
    for k in np.nonzero(~inside)[0]:
        raise HallError(f"{source}: {ranges[k].label}: its footprint leaves the hall's "
                        f"footprint; move it inside the room or shorten it")
    for j, ob in enumerate(obstacles):
        hit = shapely.relate_pattern(rects, ob, "T********")
        for k in np.nonzero(hit)[0]:
            raise HallError(f"{source}: {ranges[k].label}: its footprint overlaps obstacle "
                            f"{j + 1}; move the range or the obstacle")
    tree = shapely.STRtree(rects)
    a, b = tree.query(rects, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    over = shapely.relate_pattern(rects[a], rects[b], "T********")
    if over.any():
        i, j = sorted((int(a[over][0]), int(b[over][0])))
        raise HallError(f"{source}: {ranges[j].label}: its footprint overlaps "
                        f"{ranges[i].label}; move one of them (ranges may touch, not overlap)")


def _check_reach(stacks: Stacks, source):
    F = stacks.free_floor
    e = stacks.entrance_xy
    if F.distance(Point(e)) > TOL:
        raise HallError(f"{source}: entrance ({e[0]:g}, {e[1]:g}) is not on the free floor "
                        f"(inside a range, an obstacle or outside the room); move it onto the "
                        f"floor or the wall, clear of ranges")
    d = shapely.distance(F, shapely.points(stacks.pick))
    for k in np.nonzero(d > TOL)[0]:
        x, y = stacks.pick[k]
        raise HallError(f"{source}: {stacks.describe(k)}: pick point ({x:.3g}, {y:.3g}) is "
                        f"not on the free floor (in a wall, an obstacle or another range); "
                        f"widen the aisle in front of it or lower standoff")
    parts = list(getattr(F, "geoms", [F]))
    if len(parts) > 1:
        home = min(parts, key=lambda p: p.distance(Point(e)))
        d = shapely.distance(home, shapely.points(stacks.pick))
        for k in np.nonzero(d > TOL)[0]:
            raise HallError(f"{source}: {stacks.describe(k)}: its pick point cannot be "
                            f"reached from the entrance (ranges, obstacles or walls box it "
                            f"in); open an aisle to it or move the range")


def stacks_from_list(spec, footprint: np.ndarray, obstacles: list[np.ndarray],
                     entrance_xy: np.ndarray | None, source: str = "hall") -> Stacks:
    """Parse and validate ``stacks`` against the hall; every problem is one HallError line
    that names the range (or bank) and the fix. Without ``entrance_xy`` (a floor of a
    building without the entrance) the reach check is the building's (building.py)."""
    ranges = parse_stacks(spec, source)
    rects = shapely.polygons([r.footprint() for r in ranges])
    obs = [Polygon(o) for o in obstacles]
    _check_placement(ranges, rects, Polygon(footprint), obs, source)
    F = walk.free_floor(footprint, list(obstacles) + [r.footprint() for r in ranges])
    stacks = Stacks(spec, ranges, F, np.zeros(2) if entrance_xy is None else entrance_xy)
    if entrance_xy is not None:
        _check_reach(stacks, source)
    return stacks


# --- what a hall holds (``shelfplan hall check``) --------------------------------------

def hall_facts(hall) -> dict:
    """What a hall holds: with stacks ranges, locations, slots, free-floor area and the
    longest walk from the entrance; without, floor area and lattice sites."""
    facts = {"name": hall.name, "obstacles": len(hall.obstacles)}
    s = hall.stacks
    if s is None:
        facts.update(floor_area=float(hall.floor.area), sites=int(len(hall.sites())),
                     d_min=float(hall.d_min), z_range=[float(v) for v in hall.z_range])
        return facts
    walks = s.distances()[0, 1:]
    far = int(np.argmax(walks))
    facts.update(ranges=len(s.ranges), locations=s.n_locations, slots=s.n_slots,
                 free_floor_area=float(s.free_floor.area), longest_walk=float(walks[far]),
                 longest_walk_to=s.describe(far), mean_walk=float(walks.mean()))
    b = getattr(hall, "building", None)
    if b is not None:                    # a building (MODEL.md 8.9): per floor
        facts["obstacles"] = sum(len(f.obstacles) for f in b.floors)
        facts["free_floor_area"] = float(sum(f.stacks.free_floor.area for f in b.floors))
        facts["floors"] = [{"id": f.id, "ranges": len(f.stacks.ranges),
                            "locations": f.stacks.n_locations, "slots": f.stacks.n_slots}
                           for f in b.floors]
        facts["entrance_floor"] = b.floors[b.entrance_floor].id
        facts["connectors"] = [{"id": c.id, "kind": c.kind, "floors": list(c.at),
                                "cost": c.cost} for c in b.connectors]
    return facts


def format_facts(f: dict) -> str:
    """The facts as the lines ``shelfplan hall check`` prints."""
    head = f"hall {f['name']!r}: {f['obstacles']} obstacle{'s' * (f['obstacles'] != 1)}"
    if "ranges" not in f:
        return "\n".join([head + " (no stacks: books placed in free space)",
                          f"floor {f['floor_area']:.2f} m^2  lattice sites {f['sites']}  "
                          f"(d_min {f['d_min']:g} m, z {f['z_range'][0]:g}-{f['z_range'][1]:g} m)"])
    floors = [f"floor {fl['id']}: ranges {fl['ranges']}  locations {fl['locations']}  "
              f"slots {fl['slots']}" for fl in f.get("floors", [])]
    if floors:
        floors.insert(0, f"{len(floors)} floors (entrance on floor {f['entrance_floor']}), "
                         f"{len(f['connectors'])} connectors: " + ", ".join(
                             f"{c['id']} ({c['kind']}, floors {'/'.join(c['floors'])}, "
                             f"{c['cost']:g} m a floor)" for c in f["connectors"]))
    return "\n".join([
        head, *floors,
        f"ranges {f['ranges']}  locations {f['locations']}  slots {f['slots']}",
        f"free floor {f['free_floor_area']:.2f} m^2",
        f"longest walk from the entrance {f['longest_walk']:.2f} m (to "
        f"{f['longest_walk_to']}); mean {f['mean_walk']:.2f} m",
    ])
