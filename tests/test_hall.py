"""Hall files: one small test per validation rule, capacity, and the geometry helpers."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from conftest import SAMPLE_HALL, SAMPLE_LOANS, SMALL_HALL, assert_feasible
from shelfplan.errors import HallError
from shelfplan.model.hall import check_capacity, default_hall, hall_from_dict, load_hall

BASE = {
    "name": "box",
    "footprint": [[0, 0], [4, 0], [4, 3], [0, 3]],
    "obstacles": [[[1.6, 1.2], [2.2, 1.2], [2.2, 1.8], [1.6, 1.8]]],
    "z_range": [0.3, 1.2],
    "entrance": [2, 0, 1.0],
    "d_min": 0.3,
}


def hall_with(**changes):
    return hall_from_dict({**BASE, **changes}, source="test.json")


def test_valid_hall_round_trips():
    h = hall_with()
    assert h.name == "box" and h.d_min == 0.3 and h.z_range == (0.3, 1.2)
    again = hall_from_dict(h.to_dict())
    np.testing.assert_allclose(again.footprint, h.footprint)
    assert again.to_dict() == h.to_dict()


def test_sample_hall_loads():
    h = load_hall(SAMPLE_HALL)
    assert h.name == "Sample reading room" and len(h.obstacles) == 2
    assert h.floor.area == pytest.approx(14 * 5.5 + 8 * 3.5 - 0.36 - 1.6)


def test_clockwise_footprint_is_accepted():
    h = hall_with(footprint=BASE["footprint"][::-1])
    assert h.floor.area == pytest.approx(12 - 0.36)


def test_closed_ring_is_accepted():
    h = hall_with(footprint=BASE["footprint"] + [BASE["footprint"][0]])
    assert len(h.footprint) == 4


# --- validation rules ------------------------------------------------------------------


def test_self_intersecting_footprint():
    with pytest.raises(HallError, match="footprint is not a simple polygon"):
        hall_with(footprint=[[0, 0], [4, 3], [4, 0], [0, 3]])


def test_entrance_far_outside():
    with pytest.raises(HallError, match=r"entrance \(2, -5\) is 5.00 m from the hall"):
        hall_with(entrance=[2, -5, 1.0])


def test_entrance_just_outside_the_wall_is_fine():
    assert hall_with(entrance=[2, -0.5, 1.0]).entrance[1] == -0.5


def test_obstacle_outside_footprint():
    with pytest.raises(HallError, match="obstacle 1 is not inside the footprint"):
        hall_with(obstacles=[[[5, 1], [6, 1], [6, 2], [5, 2]]])


def test_obstacle_crossing_the_wall():
    with pytest.raises(HallError, match="obstacle 1 is not inside the footprint"):
        hall_with(obstacles=[[[3.5, 1], [4.5, 1], [4.5, 2], [3.5, 2]]])


def test_obstacle_touching_the_wall():
    with pytest.raises(HallError, match="touches the footprint's wall"):
        hall_with(obstacles=[[[0, 1], [1, 1], [1, 2], [0, 2]]])


def test_overlapping_obstacles():
    with pytest.raises(HallError, match="obstacles 1 and 2 overlap"):
        hall_with(obstacles=[[[1, 1], [2, 1], [2, 2], [1, 2]],
                             [[1.5, 1.5], [2.5, 1.5], [2.5, 2.5], [1.5, 2.5]]])


@pytest.mark.parametrize("d_min", [0, -0.3, float("nan")])
def test_non_positive_d_min(d_min):
    with pytest.raises(HallError, match="d_min must be positive"):
        hall_with(d_min=d_min)


def test_d_min_not_a_number():
    with pytest.raises(HallError, match="d_min must be a number"):
        hall_with(d_min="wide")


def test_reversed_z_range():
    with pytest.raises(HallError, match=r"z_range is reversed \(\[1.8, 0.3\]\)"):
        hall_with(z_range=[1.8, 0.3])


@pytest.mark.parametrize("z", [[0.3], [0.3, 1, 2], "high", [0.3, float("inf")]])
def test_malformed_z_range(z):
    with pytest.raises(HallError, match="z_range must be"):
        hall_with(z_range=z)


@pytest.mark.parametrize("entrance", [[2, 0], [2, 0, "x"], None, [2, 0, float("nan")]])
def test_malformed_entrance(entrance):
    with pytest.raises(HallError, match=r"entrance must be \[x, y, z\]"):
        hall_with(entrance=entrance)


@pytest.mark.parametrize("footprint", [[[0, 0], [1, 0]], [[0, 0], [1, 0], [0, 0]], "room",
                                       [[0, 0, 0], [1, 0, 0], [1, 1, 0]]])
def test_footprint_needs_three_corners(footprint):
    with pytest.raises(HallError, match="footprint must"):
        hall_with(footprint=footprint)


def test_repeated_corner_is_harmless():
    h = hall_with(footprint=[[0, 0], [4, 0], [4, 0], [4, 3], [0, 3]])
    assert len(h.footprint) == 4
    _, dist = h.nearest_boundary(np.array([[2.0, -1.0]]))
    assert dist[0] == pytest.approx(1.0)


@pytest.mark.parametrize("key", ["footprint", "z_range", "entrance", "d_min"])
def test_missing_key(key):
    data = {k: v for k, v in BASE.items() if k != key}
    with pytest.raises(HallError, match=f"missing {key}"):
        hall_from_dict(data, source="test.json")


def test_not_an_object():
    with pytest.raises(HallError, match="must be a JSON object"):
        hall_from_dict([1, 2, 3])


def test_not_json(tmp_path):
    path = tmp_path / "hall.json"
    path.write_text("{'footprint': oops}", encoding="utf-8")
    with pytest.raises(HallError, match=r"not valid JSON \(.* at line 1, column 2\)"):
        load_hall(path)


def test_hall_file_missing(tmp_path):
    with pytest.raises(HallError, match="no such hall file"):
        load_hall(tmp_path / "nope.json")


def test_hall_file_is_a_directory(tmp_path):
    with pytest.raises(HallError, match="cannot be read"):
        load_hall(tmp_path)


def test_hall_file_not_utf8(tmp_path):
    path = tmp_path / "hall.json"
    path.write_bytes(b'{"name": "Salle \xe9"}')
    with pytest.raises(HallError, match="not a UTF-8"):
        load_hall(path)


# --- capacity ----------------------------------------------------------------------------


def test_capacity_check_gives_the_numbers():
    h = hall_with()
    cap = h.volume_capacity()
    check_capacity(h, cap)   # exactly at the bound is allowed
    with pytest.raises(HallError) as exc:
        check_capacity(h, cap + 1)
    msg = str(exc.value)
    assert f"cannot hold {cap + 1} items at d_min=0.3 m" in msg
    assert f"at most {cap} fit" in msg and "11.6 m^2 x 0.90 m" in msg


def test_volume_capacity_by_hand():
    h = hall_with(obstacles=[])
    # free floor grown by d/2: 4 x 3 plus a d/2 band and quarter discs at the corners
    d = 0.3
    grown = 12 + 2 * (4 + 3) * d / 2 + math.pi * (d / 2) ** 2
    expected = math.floor(grown * (0.9 + d) / (math.pi * d ** 3 / 6))
    assert abs(h.volume_capacity() - expected) <= 1   # buffer approximates the discs


def test_capacity_fails_fast_before_solving(tmp_path):
    from shelfplan.api import fit

    path = tmp_path / "closet.json"
    path.write_text(json.dumps({**BASE, "footprint": [[0, 0], [1, 0], [1, 1], [0, 1]],
                                "obstacles": [], "entrance": [0.5, 0, 1.0]}))
    import shelfplan.solve.solver as api_mod

    calls = []
    real = api_mod.solve
    api_mod.solve = lambda *a, **k: calls.append(1) or real(*a, **k)
    try:
        with pytest.raises(HallError, match=r"cannot hold 297 items.*at most \d+ fit"):
            fit(str(SAMPLE_LOANS), hall=str(path), time_limit=30, converge=True)
    finally:
        api_mod.solve = real
    assert not calls                          # the check comes before any solving


@pytest.mark.parametrize("n", [1, 2, 17, 297, 2000])
def test_default_hall_holds_the_items(n):
    h = default_hall(n)
    check_capacity(h, n)
    sites = h.sites()
    assert len(sites) >= 2 * n
    assert_feasible(sites, h.to_dict())
    assert h.entrance[1] == 0.0 and h.contains(h.entrance[None, :])[0]


# --- geometry ---------------------------------------------------------------------------


def test_contains_and_obstacles():
    h = load_hall(SMALL_HALL)
    pts = np.array([[1.0, 1.0, 0.5],     # free floor
                    [1.9, 1.5, 0.5],     # inside the pillar
                    [5.0, 1.0, 0.5],     # outside the room
                    [1.0, 1.0, 1.5],     # above the top shelf
                    [4.0, 1.0, 0.3]])    # on the wall, on the lowest shelf
    np.testing.assert_array_equal(h.contains(pts), [True, False, False, False, True])


def test_nearest_boundary_by_hand():
    h = load_hall(SMALL_HALL)
    q, d = h.nearest_boundary(np.array([[5.0, 1.0], [1.7, 1.5], [-1.0, -1.0], [1.0, 2.5]]))
    np.testing.assert_allclose(q, [[4.0, 1.0], [1.6, 1.5], [0.0, 0.0], [1.0, 3.0]])
    np.testing.assert_allclose(d, [1.0, 0.1, math.sqrt(2), 0.5])


def test_project_moves_everything_inside():
    h = load_hall(SMALL_HALL)
    rng = np.random.default_rng(1)
    pts = np.column_stack([rng.uniform(-2, 6, 200), rng.uniform(-2, 5, 200),
                           rng.uniform(-1, 3, 200)])
    pts[:5, :2] = [[1.9, 1.5], [1.6, 1.2], [0, 0], [4, 3], [2.2, 1.79]]
    moved = h.project(pts)
    assert h.contains(moved).all()
    assert_feasible(moved[:1], h.to_dict())
    inside = h.contains(pts)
    np.testing.assert_array_equal(moved[inside], pts[inside])   # inside points stay put


@pytest.mark.parametrize("path", [SMALL_HALL, SAMPLE_HALL])
def test_sites_are_feasible(path):
    h = load_hall(path)
    sites = h.sites()
    assert len(sites) > 0
    assert_feasible(sites, json.loads(path.read_text()))
    assert sites[:, 2].min() == pytest.approx(h.z_range[0])


def test_entrance_wall():
    h = load_hall(SMALL_HALL)
    u, nrm = h.entrance_wall()
    np.testing.assert_allclose(np.abs(u), [1, 0])
    np.testing.assert_allclose(nrm, [0, 1])   # inward, into the room
