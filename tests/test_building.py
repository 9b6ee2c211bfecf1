"""Buildings with several floors (MODEL.md 8.9): walking distances by hand, against an
independent graph and a fine grid, and one small test per validation rule."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from shelfplan.errors import HallError
from shelfplan.model.hall import hall_from_dict, load_hall

ROOM = [[0, 0], [10, 0], [10, 10], [0, 10]]


def floor(fid, *ranges, **extra):
    return {"id": fid, "footprint": ROOM, "stacks": list(ranges), **extra}


def corner(rid):
    """A one-section right-faced range at the top right: pick point (8.5, 7.2)."""
    return {"id": rid, "start": [8, 8], "end": [9, 8], "sections": 1, "faces": "right"}


#: floor 2's range: footprint [4, 6] x [5.7, 6], pick point (5, 5.2)
R2 = {"id": "R2", "start": [4, 6], "end": [6, 6], "sections": 1, "faces": "right"}


def building(lift_cost=None, lift=True, **top):
    conns = [{"id": "S1", "kind": "stairs", "at": {"0": [1, 1], "1": [1, 1]}},
             {"id": "S2", "kind": "stairs", "at": {"1": [9, 1], "2": [9, 1]}}]
    if lift:
        conns.append({"id": "L", "kind": "lift", "at": {"0": [5, 4], "2": [5, 4]},
                      **({} if lift_cost is None else {"cost": lift_cost})})
    data = {"name": "b", "floors": [floor("0", corner("R0")), floor("1", corner("R1")),
                                     floor("2", R2)],
            "entrance": [5, 0], "entrance_floor": "0", "connectors": conns, **top}
    return data


def hall(data):
    return hall_from_dict(data, source="b.json")


STAIRS = math.hypot(4, 1) + 15 + 8 + 15 + math.hypot(4, 4.2)     # e -> S1 -> S2 -> R2


def test_locations_floors_first_and_pick_points():
    s = hall(building()).stacks
    assert s.n_locations == 3 and list(s.loc_floor) == [0, 1, 2]
    assert list(s.range_ids()) == ["R0", "R1", "R2"]
    np.testing.assert_allclose(s.pick, [[8.5, 7.2], [8.5, 7.2], [5, 5.2]])
    assert s.describe(2) == "floor '2' range 'R2' right face section 1"
    assert s.floor_of_range("R1") == "1"


def test_walk_that_changes_stairs_on_an_intermediate_floor():
    D = hall(building(lift=False)).stacks.distances()
    assert D[0, 3] == pytest.approx(STAIRS, abs=1e-9)
    assert D[0, 1] == pytest.approx(math.hypot(3.5, 7.2), abs=1e-9)        # same floor: g
    assert D[0, 2] == pytest.approx(math.hypot(4, 1) + 15 + math.hypot(7.5, 6.2), abs=1e-9)
    assert D[1, 3] == pytest.approx(math.hypot(7.5, 6.2) + 15 + 8 + 15 + math.hypot(4, 4.2),
                                    abs=1e-9)
    np.testing.assert_allclose(D, D.T)


def test_a_cheap_lift_beats_the_stairs_and_a_dear_one_does_not():
    cheap = hall(building(lift_cost=10)).stacks.distances()
    assert cheap[0, 3] == pytest.approx(4 + 10 * 2 + 1.2, abs=1e-9)        # two floors passed
    assert cheap[1, 3] == pytest.approx(math.hypot(3.5, 3.2) + 20 + 1.2, abs=1e-9)
    dear = hall(building()).stacks.distances()                             # lift: 25 a floor
    assert dear[0, 3] == pytest.approx(STAIRS, abs=1e-9)
    assert dear[0, 3] < 4 + 50 + 1.2


def test_round_trip_and_one_floor_file_unchanged():
    data = building()
    h = hall(data)
    again = hall_from_dict(h.to_dict(), source="again")
    np.testing.assert_allclose(again.stacks.distances(), h.stacks.distances())
    assert h.to_dict()["floors"] == data["floors"]


# --- against an independent graph and a fine grid ------------------------------------------

def independent(data) -> np.ndarray:
    """Entrance and pick points straight from the contract: every point and connector
    point of a floor joined by its g (walk.distance_table), connectors by cost * floors,
    then scipy's Dijkstra over the whole graph."""
    from shelfplan.model import walk
    from shelfplan.model.stacks import stacks_from_list

    nodes, edges, targets = [], [], []
    index = {f["id"]: k for k, f in enumerate(data["floors"])}
    conn_node = {}
    for f in data["floors"]:
        obs = [np.array(o, float) for o in f.get("obstacles", [])]
        st = stacks_from_list(f["stacks"], np.array(f["footprint"], float), obs, None, "x")
        pts = [tuple(p) for p in st.pick]
        ids = [("pick", f["id"], k) for k in range(len(pts))]
        if f["id"] == data["entrance_floor"]:
            pts.append(tuple(data["entrance"]))
            ids.append(("entrance",))
        for c in data["connectors"]:
            if f["id"] in c["at"]:
                pts.append(tuple(c["at"][f["id"]]))
                ids.append(("conn", c["id"], f["id"]))
        base = len(nodes)
        nodes.extend(ids)
        g = walk.distance_table(st.free_floor, np.array(pts, float))
        for a in range(len(pts)):
            for b in range(len(pts)):
                if a != b and np.isfinite(g[a, b]):
                    edges.append((base + a, base + b, g[a, b]))
        for k, n in enumerate(ids):
            if n[0] == "conn":
                conn_node[n[1:]] = base + k
    for c in data["connectors"]:
        cost = c.get("cost", {"stairs": 15, "lift": 25}[c["kind"]])
        for fa in c["at"]:
            for fb in c["at"]:
                if fa != fb:
                    edges.append((conn_node[(c["id"], fa)], conn_node[(c["id"], fb)],
                                  cost * abs(index[fa] - index[fb])))
    a, b, w = (np.array(v) for v in zip(*edges))
    G = coo_matrix((w + 1e-300, (a, b)), shape=(len(nodes),) * 2).tocsr()
    order = [nodes.index(("entrance",))] + [k for k, n in enumerate(nodes) if n[0] == "pick"]
    return dijkstra(G, indices=order)[:, order]


def test_sample_building_matches_an_independent_graph():
    import json
    with open("data/building.json") as fh:
        data = json.load(fh)
    D = load_hall("data/building.json").stacks.distances()
    np.testing.assert_allclose(D, independent(data), atol=1e-9)


def _grid(F, h, size=10.0):
    xs = np.arange(0, size + h / 2, h)
    gx, gy = np.meshgrid(xs, xs, indexing="ij")
    nodes = np.column_stack([gx.ravel(), gy.ravel()])
    inside = shapely.covers(F, shapely.points(nodes))
    n = len(xs)
    a_all, b_all = [], []
    for di, dj in [(1, 0), (0, 1), (1, 1), (1, -1), (2, 1), (1, 2), (2, -1), (1, -2)]:
        i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        ok = (i + di < n) & (j + dj >= 0) & (j + dj < n)
        a_all.append((i * n + j)[ok])
        b_all.append(((i + di) * n + j + dj)[ok])
    a, b = np.concatenate(a_all), np.concatenate(b_all)
    keep = inside[a] & inside[b]
    a, b = a[keep], b[keep]
    ok = shapely.covers(F, shapely.linestrings(np.stack([nodes[a], nodes[b]], axis=1)))
    return a[ok], b[ok], np.linalg.norm(nodes[a[ok]] - nodes[b[ok]], axis=1), n


def test_against_a_fine_grid_across_floors():
    """Three 16-connected grids (spacing 0.1 m), one per floor, joined at the connector
    points: its distances are paths in the building (never shorter than the table) and
    at most a few per cent longer."""
    h = 0.1
    data = building(lift_cost=12)
    hl = hall(data)
    s = hl.stacks
    A, B, W, size = [], [], [], 0
    for f in s.floors:
        a, b, w, n = _grid(f.stacks.free_floor, h)
        A.append(a + f.index * n * n)
        B.append(b + f.index * n * n)
        W.append(w)
        size = n
    def cell(k, xy):
        return k * size * size + int(round(xy[0] / h)) * size + int(round(xy[1] / h))
    for c in hl.building.connectors:
        pts = [(hl.building.floor_index(fid), p) for fid, p in c.at.items()]
        for ka, pa in pts:
            for kb, pb in pts:
                if ka < kb:
                    A.append(np.array([cell(ka, pa)]))
                    B.append(np.array([cell(kb, pb)]))
                    W.append(np.array([c.cost * (kb - ka)]))
    a, b, w = np.concatenate(A), np.concatenate(B), np.concatenate(W)
    G = coo_matrix((w, (a, b)), shape=(3 * size * size,) * 2).tocsr()
    src = [cell(0, [5, 0])] + [cell(int(s.loc_floor[k]), s.pick[k]) for k in range(3)]
    grid = dijkstra(G, directed=False, indices=src)[:, src]
    D = s.distances()
    assert np.all(D <= grid + 1e-6)
    assert np.all(grid <= D * 1.03 + 4 * h)


# --- validation: one small test per rule ----------------------------------------------------

def fails(data, match):
    with pytest.raises(HallError, match=match):
        hall(data)


def test_entrance_floor_that_does_not_exist():
    fails(building(entrance_floor="9"),
          r"b.json: entrance_floor '9' is not a floor of the building \(floors: 0, 1, 2\)")


def test_floor_id_in_at_that_does_not_exist():
    data = building()
    data["connectors"][0]["at"]["3"] = [1, 1]
    fails(data, r"connector 'S1': floor '3' in 'at' is not a floor of the building")


def test_connector_point_inside_a_range():
    data = building()
    data["connectors"][2]["at"]["2"] = [5, 5.8]
    fails(data, r"connector 'L': its point \(5, 5.8\) on floor '2' is not on the free floor "
                r"\(inside range 'R2'\)")


def test_floor_without_a_connector_is_unreachable():
    data = building(lift=False)
    data["connectors"] = data["connectors"][:1]
    fails(data, r"b.json: floor '2': range 'R2' right face section 1: its pick point "
                r"cannot be reached from the entrance; add stairs or a lift")


def test_other_rules():
    fails(building(entrance=[8.5, 7.9]), r"entrance \(8.5, 7.9\) is not on the free floor "
                                         r"of floor '0'")
    data = building()
    data["floors"][1]["stacks"] = [corner("R0")]
    fails(data, r"range id 'R0' is on floor '0' and floor '1'")
    data = building()
    data["floors"][1]["id"] = "0"
    fails(data, r"floor id '0' is used twice")
    data = building()
    data["connectors"][0]["at"] = {"0": [1, 1]}
    fails(data, r"connector 'S1': 'at' must map at least two floor ids")
    data = building()
    data["connectors"][1]["kind"] = "escalator"
    fails(data, r"connector 'S2': kind must be \"stairs\" or \"lift\"")
    data = building()
    data["connectors"][1]["id"] = "S1"
    fails(data, r"connector id 'S1' is used twice")
    data = building()
    data["floors"][2]["stacks"][0] = dict(R2, start=[4, 10.5], end=[6, 10.5])
    fails(data, r"floor '2': range 'R2': its footprint leaves the hall's footprint")


def test_unknown_keys_name_the_nearest():
    data = building()
    data["floors"][0]["obstacle"] = []
    fails(data, r"floor '0': unknown key 'obstacle'; did you mean 'obstacles'\?")
    data = building()
    data["connectors"][0]["costs"] = 3
    fails(data, r"connector 'S1': unknown key 'costs'; did you mean 'cost'\?")
    fails(building(conectors=[]), r"unknown key 'conectors'; did you mean 'connectors'\?")
    fails(building(footprint=ROOM), r"'footprint' belongs inside each floor of a building")
    data = copy.deepcopy(building())
    data["floors"][2]["stacks"][0]["section"] = 1
    fails(data, r"floor '2': range 'R2': unknown key 'section'; did you mean 'sections'\?")


def test_a_floor_cut_in_two_is_joined_through_another_floor():
    """A range from wall to wall cuts floor 0 in two; its far side is reached up one
    stair, across floor 1 and down another (no path on floor 0 itself)."""
    wall = {"id": "X", "start": [0, 5], "end": [10, 5], "sections": 10}
    data = {"floors": [floor("0", wall), floor("1", corner("R1"))], "entrance": [5, 0],
            "entrance_floor": "0",
            "connectors": [{"id": "S1", "kind": "stairs", "at": {"0": [1, 1], "1": [1, 1]}},
                           {"id": "S3", "kind": "stairs", "at": {"0": [1, 9], "1": [1, 9]}}]}
    s = hall(data).stacks
    D = s.distances()
    near = int(np.flatnonzero((s.loc_face == 1) & (s.loc_section == 1))[0])   # (0.5, 4.2)
    far = int(np.flatnonzero((s.loc_face == 0) & (s.loc_section == 1))[0])    # (0.5, 5.8)
    assert D[0, near + 1] == pytest.approx(math.hypot(4.5, 4.2), abs=1e-9)
    assert D[0, far + 1] == pytest.approx(math.hypot(4, 1) + 15 + 8 + 15 + math.hypot(0.5, 3.2),
                                          abs=1e-9)
    assert D[near + 1, far + 1] == pytest.approx(
        math.hypot(0.5, 3.2) + 30 + 8 + math.hypot(0.5, 3.2), abs=1e-9)
    np.testing.assert_allclose(D, independent(data), atol=1e-9)
    del data["connectors"][1]
    fails(data, r"floor '0': range 'X' left face section 1: its pick point cannot be reached")


def test_seat_points_stand_at_the_walking_distance_in_the_floor_direction():
    """Embedding seating works in the plane: a building's stand-ins for the pick points
    are as far from the entrance as the walk (stairs included), in the same direction."""
    s = hall(building(lift=False)).stacks
    q = s.seat_points()
    e = np.array([5.0, 0.0])
    np.testing.assert_allclose(np.linalg.norm(q - e, axis=1), s.distances()[0, 1:])
    v, w = q - e, s.pick - e
    cos = np.einsum("ij,ij->i", v, w) / np.linalg.norm(v, axis=1) / np.linalg.norm(w, axis=1)
    np.testing.assert_allclose(cos, 1.0)
    assert np.linalg.norm(q[2] - e) == pytest.approx(STAIRS)
