"""Buildings with several floors: floors, stairs and lifts (MODEL.md 8.9).

A hall file with a ``floors`` list describes a building::

    {"name": "Library",
     "floors": [{"id": "G", "footprint": [...], "obstacles": [...], "stacks": [...]},
                {"id": "1", "footprint": [...], "stacks": [...]}],
     "entrance": [10, 0], "entrance_floor": "G",
     "connectors": [{"id": "S1", "kind": "stairs", "at": {"G": [2, 2], "1": [2, 2]}},
                    {"id": "L", "kind": "lift", "at": {"G": [9, 2], "1": [9, 2]},
                     "cost": 20}]}

:func:`building_from_dict` validates it (each floor as 8.3, plus the connectors and the
reach from the entrance) and returns the :class:`Building` and a
:class:`BuildingStacks` (the Hall's ``stacks``): the locations of every floor in shelving order
(floors as listed, then ranges), one pick point per location in its floor's coordinates,
``loc_floor`` (floor index per location) and one walking-distance table over the
building (building_walk.py). Everything downstream (solvers, judges, layout files) sees
the same objects as for one floor.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Point, Polygon
from shapely.validation import explain_validity

from shelfplan.errors import HallError
from shelfplan.model.keys import HALL_KEYS, check_keys
from shelfplan.model.rings import _as_ring, _ccw
from shelfplan.model.stacks import TOL, Stacks, stacks_from_list

__all__ = ["Floor", "Connector", "Building", "BuildingStacks", "building_from_dict",
           "check_floor_column",
           "CONNECTOR_COST", "BUILDING_KEYS", "FLOOR_KEYS", "CONNECTOR_KEYS"]

#: metres of walking one floor of climbing is worth, by connector kind (MODEL.md 8.9)
CONNECTOR_COST = {"stairs": 15.0, "lift": 25.0}
BUILDING_KEYS = frozenset({"name", "floors", "connectors", "entrance", "entrance_floor"})
FLOOR_KEYS = frozenset({"id", "name", "footprint", "obstacles", "stacks"})
CONNECTOR_KEYS = frozenset({"id", "kind", "at", "cost"})


@dataclass
class Floor:
    """One validated floor: its geometry and its stacks (locations of this floor only)."""

    id: str
    index: int
    footprint: np.ndarray
    obstacles: list
    stacks: Stacks
    offset: int                  # its first location in the building's shelving order
    name: str = ""

    @property
    def label(self) -> str:
        return f"floor {self.id!r}"


@dataclass(frozen=True)
class Connector:
    """Stairs or a lift: its point on every floor it serves, and the cost of one floor."""

    id: str
    kind: str
    at: dict                     # floor id -> (2,) point
    cost: float


class Building:
    """Floors (bottom to top), connectors, the entrance and its floor; ``spec`` as given."""

    def __init__(self, floors, connectors, entrance_floor: int, entrance_xy, spec: dict):
        self.floors = floors
        self.connectors = connectors
        self.entrance_floor = entrance_floor
        self.entrance_xy = np.asarray(entrance_xy, dtype=float)
        self.spec = spec

    def to_dict(self) -> dict:
        return copy.deepcopy(self.spec)

    def floor_index(self, floor_id) -> int:
        return [f.id for f in self.floors].index(str(floor_id))


class BuildingStacks(Stacks):
    """The stacks of every floor as one :class:`Stacks`: locations numbered floors first
    (in the order listed), then as 8.5 within a floor; ``pick`` in each location's floor
    coordinates; ``loc_floor`` the floor index; ``distances()`` is the building's table
    (MODEL.md 8.9: per-floor ``g`` plus the connector graph)."""

    def __init__(self, building: Building):
        floors = building.floors
        ranges = [r for f in floors for r in f.stacks.ranges]
        ef = floors[building.entrance_floor]
        super().__init__(None, ranges, ef.stacks.free_floor, building.entrance_xy)
        self.building = building
        self.loc_floor = np.concatenate([np.full(f.stacks.n_locations, f.index)
                                         for f in floors]).astype(np.int64)
        self.range_floor = np.concatenate([np.full(len(f.stacks.ranges), f.index)
                                           for f in floors]).astype(np.int64)

    @property
    def floors(self):
        return self.building.floors

    @property
    def spec(self):
        return self.building.spec

    @spec.setter
    def spec(self, value):       # Stacks.__init__ assigns it; the building's spec is kept
        pass

    def describe(self, k: int) -> str:
        return f"{self.floors[self.loc_floor[k]].label} {super().describe(k)}"

    def floor_of_range(self, range_id) -> str:
        ids = self.range_ids()
        k = int(np.flatnonzero(ids == str(range_id))[0])
        return self.floors[self.range_floor[k]].id

    def seat_points(self) -> np.ndarray:
        """(m, 2) stand-ins of the pick points for heuristics that work in the plane
        (embedding seating): each location in its direction from the entrance on its
        floor plan, at its walking distance from the entrance (stairs and lifts
        included), so that a book placed by distance from the entrance goes to a
        location that far on foot, on whatever floor."""
        d = self.distances()[0, 1:]
        v = self.pick - self.entrance_xy
        norm = np.linalg.norm(v, axis=1, keepdims=True)
        v = np.divide(v, norm, out=np.tile([1.0, 0.0], (len(v), 1)), where=norm > 1e-12)
        return self.entrance_xy + d[:, None] * v

    def distances(self) -> np.ndarray:
        if self._distances is None:
            from shelfplan.model.building_walk import building_distances
            self._distances = building_distances(self.building)
        return self._distances


def check_floor_column(stacks, loc, floors, ids, source: str) -> None:
    """A shelf list's ``floor`` column must agree with each row's range (range ids are
    unique in a building, so the floor is a check, not a key)."""
    if floors is None or not isinstance(stacks, BuildingStacks):
        return
    names = np.array([f.id for f in stacks.floors], dtype=object)
    ok = loc >= 0
    want = names[stacks.loc_floor[np.maximum(loc, 0)]]
    got = np.asarray(floors, dtype=object).astype(str)
    bad = np.flatnonzero(ok & (want != got))
    if len(bad):
        k = int(bad[0])
        rid = str(stacks.range_ids()[stacks.loc_range[loc[k]]])
        rows = f" ({len(bad)} rows in all)" if len(bad) > 1 else ""
        raise HallError(f"{source}: book {str(ids[k])!r} is listed on floor {str(got[k])!r} "
                        f"but range {rid!r} is on floor {str(want[k])!r}{rows}; fix the floor "
                        f"column")


# --- parsing -----------------------------------------------------------------------------

def _name(v, what, source) -> str:
    if isinstance(v, bool) or not isinstance(v, (str, int)) or str(v) == "":
        raise HallError(f"{source}: {what} must be a non-empty name, got {v!r}")
    return str(v)


def _xy(v, what, source) -> np.ndarray:
    try:
        a = np.asarray(v, dtype=float)
    except (TypeError, ValueError):
        a = np.zeros(0)
    if a.shape not in ((2,), (3,)) or not np.isfinite(a).all():
        raise HallError(f"{source}: {what} must be [x, y] in metres, got {v!r}")
    return a[:2]


def _floor(entry, k, entrance_xy, source) -> Floor:
    if not isinstance(entry, dict):
        raise HallError(f"{source}: floors entry {k + 1} must be an object with id, "
                        f"footprint and stacks")
    fid = _name(entry.get("id"), f"floors entry {k + 1}: id", source)
    where = f"{source}: floor {fid!r}"
    check_keys(entry, FLOOR_KEYS, "", where)
    if "footprint" not in entry:
        raise HallError(f"{where}: missing 'footprint' (the floor's outline, [[x, y], ...])")
    foot = _ccw(_as_ring(entry["footprint"], "footprint", where))
    fpoly = Polygon(foot)
    if not fpoly.is_valid or fpoly.area <= 0:
        raise HallError(f"{where}: footprint is not a simple polygon "
                        f"({explain_validity(fpoly)}); list its corners in order")
    obstacles = []
    for j, ob in enumerate(entry.get("obstacles") or []):
        ring = _ccw(_as_ring(ob, f"obstacle {j + 1}", where))
        opoly = Polygon(ring)
        if not opoly.is_valid or opoly.area <= 0 or not fpoly.contains(opoly):
            raise HallError(f"{where}: obstacle {j + 1} is not a simple polygon inside the "
                            f"footprint; fix its corners or remove it")
        if any(Polygon(o).intersects(opoly) for o in obstacles):
            raise HallError(f"{where}: obstacle {j + 1} overlaps or touches another; merge "
                            f"them into one polygon")
        obstacles.append(ring)
    if not Polygon(foot, obstacles).is_valid:
        raise HallError(f"{where}: an obstacle touches the footprint's wall; leave a gap "
                        f"or cut the obstacle out of the footprint")
    if "stacks" not in entry:
        raise HallError(f"{where}: missing 'stacks' (its ranges and banks; an empty floor "
                        f"needs no entry unless a connector passes it)")
    stacks = stacks_from_list(entry["stacks"], foot, obstacles, entrance_xy, where)
    return Floor(id=fid, index=k, footprint=foot, obstacles=obstacles, stacks=stacks,
                 offset=0, name=str(entry.get("name", fid)))


def _connector(entry, k, floors, source) -> Connector:
    if not isinstance(entry, dict):
        raise HallError(f"{source}: connectors entry {k + 1} must be an object with id, kind "
                        f"and at")
    cid = _name(entry.get("id"), f"connectors entry {k + 1}: id", source)
    what = f"connector {cid!r}"
    check_keys(entry, CONNECTOR_KEYS, what, source)
    kind = entry.get("kind", "stairs")
    if kind not in CONNECTOR_COST:
        raise HallError(f"{source}: {what}: kind must be \"stairs\" or \"lift\", got {kind!r}")
    cost = entry.get("cost", CONNECTOR_COST[kind])
    if isinstance(cost, bool) or not isinstance(cost, (int, float)) or not (
            np.isfinite(cost) and cost >= 0):
        raise HallError(f"{source}: {what}: cost must be a number of metres >= 0 (walking "
                        f"one floor of climbing is worth), got {cost!r}")
    at = entry.get("at")
    if not isinstance(at, dict) or len(at) < 2:
        raise HallError(f"{source}: {what}: 'at' must map at least two floor ids to the "
                        f"[x, y] where it stands on each, e.g. {{\"G\": [2, 3], \"1\": [2, 3]}}")
    ids = [f.id for f in floors]
    points = {}
    for fid, xy in at.items():
        if str(fid) not in ids:
            raise HallError(f"{source}: {what}: floor {str(fid)!r} in 'at' is not a floor of "
                            f"the building (floors: {', '.join(ids)}); fix the id or add "
                            f"the floor")
        p = _xy(xy, f"{what}: at {fid!r}", source)
        floor = floors[ids.index(str(fid))]
        F = floor.stacks.free_floor
        if F.distance(Point(p)) > TOL:
            inside = [r.id for r in floor.stacks.ranges
                      if Polygon(r.footprint()).covers(Point(p))]
            why = (f"inside range {inside[0]!r}" if inside
                   else "in an obstacle or outside the floor")
            raise HallError(f"{source}: {what}: its point ({p[0]:g}, {p[1]:g}) on "
                            f"{floor.label} is not on the free floor ({why}); move it "
                            f"into an aisle")
        points[str(fid)] = p
    return Connector(id=cid, kind=kind, at=points, cost=float(cost))


def building_from_dict(data: dict, source: str = "hall"):
    """Validate a building (MODEL.md 8.9); every problem is one HallError line naming the
    floor, range or connector and the fix. Returns the Building and its BuildingStacks
    (hall.py makes the Hall)."""
    check_keys(data, BUILDING_KEYS | HALL_KEYS, "", source)
    stray = sorted(set(data) & (HALL_KEYS - BUILDING_KEYS))
    if stray:
        raise HallError(f"{source}: {stray[0]!r} belongs inside each floor of a building; "
                        f"move it into the floors entries (docs/buildings.md)")
    floors_spec = data["floors"]
    if not isinstance(floors_spec, list) or not floors_spec:
        raise HallError(f"{source}: floors must be a non-empty list of floors, bottom to top")
    for key in ("entrance", "entrance_floor"):
        if key not in data:
            raise HallError(f"{source}: a building needs {key!r} (the entrance [x, y] and "
                            f"the id of its floor)")
    entrance = _xy(data["entrance"], "entrance", source)
    ids = []
    for k, entry in enumerate(floors_spec):
        if isinstance(entry, dict) and "id" in entry:
            ids.append(_name(entry["id"], f"floors entry {k + 1}: id", source))
    if len(set(ids)) != len(ids):
        twice = next(i for i in ids if ids.count(i) > 1)
        raise HallError(f"{source}: floor id {twice!r} is used twice; give each floor its "
                        f"own id")
    ef_id = str(data["entrance_floor"])
    if ef_id not in ids:
        raise HallError(f"{source}: entrance_floor {ef_id!r} is not a floor of the building "
                        f"(floors: {', '.join(ids)}); name one of them")
    floors, offset = [], 0
    for k, entry in enumerate(floors_spec):
        fl = _floor(entry, k, None, source)
        fl.offset, offset = offset, offset + fl.stacks.n_locations
        floors.append(fl)
    seen = {}
    for fl in floors:
        for r in fl.stacks.ranges:
            if r.id in seen:
                raise HallError(f"{source}: range id {r.id!r} is on {seen[r.id]} and "
                                f"{fl.label}; range ids are unique in a building")
            seen[r.id] = fl.label
    conns = data.get("connectors") or []
    if not isinstance(conns, list):
        raise HallError(f"{source}: connectors must be a list of stairs and lifts")
    connectors = [_connector(c, k, floors, source) for k, c in enumerate(conns)]
    cids = [c.id for c in connectors]
    if len(set(cids)) != len(cids):
        twice = next(i for i in cids if cids.count(i) > 1)
        raise HallError(f"{source}: connector id {twice!r} is used twice; give each its own id")
    ef = ids.index(ef_id)
    if floors[ef].stacks.free_floor.distance(Point(entrance)) > TOL:
        raise HallError(f"{source}: entrance ({entrance[0]:g}, {entrance[1]:g}) is not on "
                        f"the free floor of floor {ef_id!r} (inside a range, an obstacle or "
                        f"outside the floor); move it onto the floor or the wall")
    building = Building(floors, connectors, ef, entrance, copy.deepcopy(
        {k: v for k, v in data.items() if k != "name"}))
    _check_reach(building, source)
    return building, BuildingStacks(building)


def _parts(F) -> list:
    return list(getattr(F, "geoms", [F]))


def _check_reach(b: Building, source: str) -> None:
    """Every pick point reachable from the entrance: on foot within a floor's connected
    part of the free floor, and between parts (of any floors) along connectors."""
    parts = [_parts(f.stacks.free_floor) for f in b.floors]
    base = np.cumsum([0] + [len(p) for p in parts])
    parent = list(range(int(base[-1])))

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    def part_of(k, xy):
        d = [p.distance(Point(xy)) for p in parts[k]]
        return int(base[k] + int(np.argmin(d)))

    for c in b.connectors:
        nodes = [part_of(b.floor_index(fid), p) for fid, p in c.at.items()]
        for n in nodes[1:]:
            parent[find(n)] = find(nodes[0])
    home = find(part_of(b.entrance_floor, b.entrance_xy))
    for f in b.floors:
        pts = shapely.points(f.stacks.pick)
        for j, poly in enumerate(parts[f.index]):
            if find(int(base[f.index] + j)) == home:
                continue
            inside = np.flatnonzero(shapely.distance(poly, pts) <= TOL)
            if len(inside):
                k = int(inside[0])
                hint = ("add stairs or a lift that serve it" if not any(
                    f.id in c.at for c in b.connectors) else
                    "open an aisle to it or put a connector in its part of the floor")
                raise HallError(f"{source}: {f.label}: {f.stacks.describe(k)}: its pick "
                                f"point cannot be reached from the entrance; {hint}")
