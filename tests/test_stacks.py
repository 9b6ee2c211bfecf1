"""Stacks in the hall file (MODEL.md 8.1-8.5): banks, locations, pick points, shelving
order, and one small test per validation rule."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from conftest import SAMPLE_HALL
from shelfplan.errors import HallError
from shelfplan.model.hall import hall_from_dict, load_hall

ROOM = [[0, 0], [10, 0], [10, 8], [0, 8]]


def hall(stacks, **extra):
    return hall_from_dict({"footprint": ROOM, "entrance": [5, 0], "stacks": stacks, **extra},
                          source="h.json")


def one(**fields):
    return {"id": "R", "start": [2, 4], "end": [5, 4], "sections": 3, **fields}


def test_range_defaults_and_locations():
    s = hall([one()]).stacks
    r = s.ranges[0]
    assert (r.faces, r.depth, r.shelves, r.books_per_shelf, r.standoff) == ("both", 0.3, 6, 30, 0.5)
    assert s.n_locations == 6 and s.n_slots == 6 * 180
    np.testing.assert_allclose(r.footprint(), [[2, 3.7], [5, 3.7], [5, 4.3], [2, 4.3]])
    # shelving order: left face sections 1..3, then right face 3..1
    assert s.loc_face.tolist() == [0, 0, 0, 1, 1, 1]
    assert s.loc_section.tolist() == [1, 2, 3, 3, 2, 1]
    np.testing.assert_allclose(s.pick, [[2.5, 4.8], [3.5, 4.8], [4.5, 4.8],
                                        [4.5, 3.2], [3.5, 3.2], [2.5, 3.2]])


def test_single_faced_footprints_and_order():
    left = hall([one(faces="left", depth=0.4)]).stacks
    np.testing.assert_allclose(left.ranges[0].footprint(), [[2, 4], [5, 4], [5, 4.4], [2, 4.4]])
    assert left.loc_section.tolist() == [1, 2, 3] and left.loc_face.tolist() == [0, 0, 0]
    np.testing.assert_allclose(left.pick[:, 1], 4 + 0.4 + 0.5)
    right = hall([one(faces="right")]).stacks
    np.testing.assert_allclose(right.ranges[0].footprint(), [[2, 3.7], [5, 3.7], [5, 4], [2, 4]])
    assert right.loc_section.tolist() == [1, 2, 3] and right.loc_face.tolist() == [1, 1, 1]
    np.testing.assert_allclose(right.pick[:, 1], 4 - 0.8)


def test_bank_expansion_pitch_and_ids():
    s = hall([{"bank": "A", "origin": [2, 2], "ranges": 3, "length": 4, "sections": 4,
               "shelves": 5, "books_per_shelf": 20}]).stacks
    assert [r.id for r in s.ranges] == ["A-1", "A-2", "A-3"]
    pitch = 1.0 + 2 * 0.3
    for k, r in enumerate(s.ranges):
        np.testing.assert_allclose(r.start, [2, 2 + k * pitch])
        np.testing.assert_allclose(r.end, [6, 2 + k * pitch])
        assert r.shelves == 5 and r.books_per_shelf == 20 and r.bank == "A"
    assert s.capacity.tolist() == [100] * 24


def test_bank_angle_and_single_faced_pitch():
    s = hall([{"bank": "W", "origin": [9, 1], "angle": 90, "ranges": 2, "length": 5,
               "sections": 5, "faces": "right", "aisle": 1.5}]).stacks
    r1, r2 = s.ranges
    np.testing.assert_allclose(r1.end, [9, 6], atol=1e-12)
    # n = (-1, 0) for angle 90: the second range is aisle + depth to the west
    np.testing.assert_allclose(r2.start, [9 - 1.8, 1], atol=1e-12)


def test_slot_order_shelves_then_slots():
    s = hall([one(sections=1, faces="left", shelves=2, books_per_shelf=3)]).stacks
    loc, shelf, slot = s.slot_order()
    assert loc.tolist() == [0] * 6
    assert shelf.tolist() == [1, 1, 1, 2, 2, 2] and slot.tolist() == [1, 2, 3, 1, 2, 3]


def test_round_trip_keeps_stacks_as_given_and_optional_keys():
    spec = [one(shelves=4), {"bank": "B", "origin": [6.5, 1], "ranges": 2, "length": 2,
                             "sections": 2}]
    h = hall(copy.deepcopy(spec))
    d = h.to_dict()
    assert d["stacks"] == spec and "d_min" not in d and "z_range" not in d
    again = hall_from_dict(json.loads(json.dumps(d)))
    assert again.to_dict() == d and again.stacks.n_locations == h.stacks.n_locations
    with_keys = hall(spec, d_min=0.25, z_range=[0.2, 2.0]).to_dict()
    assert with_keys["d_min"] == 0.25 and with_keys["z_range"] == [0.2, 2.0]


def test_hall_without_stacks_is_unchanged():
    h = load_hall(SAMPLE_HALL)
    assert h.stacks is None and "stacks" not in h.to_dict()
    with pytest.raises(HallError, match="missing z_range, d_min"):
        hall_from_dict({"footprint": ROOM, "entrance": [5, 0, 1]})


def test_entrance_may_be_two_numbers_with_stacks():
    h = hall([one()])
    assert h.entrance.tolist() == [5, 0, 0]


def test_distance_table_shape_and_cache():
    s = hall([one()]).stacks
    D = s.distances()
    assert D.shape == (7, 7) and D.dtype == np.float64 and s.distances() is D


# --- validation rules (MODEL.md 8.3 and the fields of 8.1) ---------------------------------

def fails(stacks, match, **extra):
    with pytest.raises(HallError, match=match) as err:
        hall(stacks, **extra)
    assert "\n" not in str(err.value)
    return str(err.value)


def test_range_outside_the_footprint():
    msg = fails([one(start=[8, 4], end=[11, 4])],
                r"h.json: range 'R': its footprint leaves the hall's footprint; move it")
    assert msg.startswith("h.json: range 'R'")


def test_range_through_an_obstacle():
    fails([one()], r"range 'R': its footprint overlaps obstacle 1; move the range or the obstacle",
          obstacles=[[[3, 3.9], [3.5, 3.9], [3.5, 5], [3, 5]]])


def test_overlapping_ranges():
    fails([one(), {"id": "S", "start": [4, 4.2], "end": [7, 4.2], "sections": 2}],
          r"range 'S': its footprint overlaps range 'R'; move one of them")


def test_touching_ranges_are_fine():
    h = hall([one(faces="left"), {"id": "S", "start": [2, 4], "end": [5, 4], "sections": 3,
                                  "faces": "right"}])
    assert h.stacks.n_locations == 6


def test_pick_point_in_a_wall():
    fails([one(start=[2, 7.4], end=[5, 7.4])],
          r"range 'R' left face section 1: pick point \(2\.5, 8\.2\) is not on the free floor"
          r".*widen the aisle in front of it or lower standoff")


def test_pick_point_in_another_range():
    fails([{"bank": "A", "origin": [2, 2], "ranges": 2, "length": 3, "sections": 3,
            "aisle": 0.4}],
          r"range 'A-1' \(bank 'A'\) left face section 1: pick point .* is not on the free floor")


def test_entrance_boxed_in():
    # wall shelving across the whole south wall in front of the entrance
    msg = fails([{"id": "W", "start": [0, 0], "end": [10, 0], "sections": 10, "faces": "left"}],
                r"entrance \(5, 0\) is not on the free floor")
    assert "move it onto the floor" in msg


def test_pick_point_unreachable():
    # a closed box of ranges around the middle: the inner pick points cannot be reached
    box = [{"id": "S", "start": [3, 3], "end": [7, 3], "sections": 4, "faces": "left"},
           {"id": "N", "start": [7, 6], "end": [3, 6], "sections": 4, "faces": "left"},
           {"id": "E", "start": [7, 3.3], "end": [7, 5.7], "sections": 2, "faces": "left",
            "depth": 0.3},
           {"id": "Wst", "start": [3, 5.7], "end": [3, 3.3], "sections": 2, "faces": "left"}]
    fails(box, r"range 'S' left face section 1: its pick point cannot be reached from the "
               r"entrance .*open an aisle to it or move the range")


def test_bank_with_zero_ranges():
    fails([{"bank": "A", "origin": [2, 2], "ranges": 0, "length": 3, "sections": 3}],
          r"bank 'A': has 0 ranges; give ranges >= 1 or remove the bank")


def test_non_numeric_field():
    fails([one(depth="deep")], r"range 'R': depth must be a number, got 'deep'")
    fails([{"bank": "A", "origin": [2, 2], "ranges": "3", "length": 3, "sections": 3}],
          r"bank 'A': ranges must be a whole number, got '3'")
    fails([one(sections=2.5)], r"range 'R': sections must be a whole number, got 2.5")
    fails([one(start=[2, "x"])], r"range 'R': start must be \[x, y\] in metres")


def test_missing_field():
    spec = one()
    del spec["sections"]
    fails([spec], r"range 'R': missing 'sections'")
    fails([{"bank": "A", "origin": [2, 2], "ranges": 2, "sections": 3}],
          r"bank 'A': missing 'length'")


def test_duplicate_ids():
    fails([one(), one(start=[2, 6], end=[5, 6])], r"range 'R': id 'R' is used twice")
    fails([{"bank": "A", "origin": [1, 1], "ranges": 1, "length": 2, "sections": 2},
           {"id": "A-1", "start": [6, 6], "end": [8, 6], "sections": 2}],
          r"range 'A-1': id 'A-1' is used twice")
    bank = {"bank": "A", "origin": [1, 1], "ranges": 1, "length": 2, "sections": 2}
    fails([bank, dict(bank, origin=[6, 5])], r"bank 'A' is given twice")


def test_bad_values_and_keys():
    fails([one(faces="front")], r"faces must be \"both\", \"left\" or \"right\", got 'front'")
    fails([one(end=[2, 4])], r"range 'R': start and end are the same point")
    fails([one(depht=0.4)], r"range 'R': unknown key 'depht'; did you mean 'depth'\?")
    fails([one(shelves=0)], r"range 'R': shelves must be > 0, got 0")
    fails([{"start": [1, 1]}], r"stacks entry 1 must be an object with either \"id\"")
    fails([], r"stacks is empty")
    fails({"id": "R"}, r"stacks must be a list of ranges and banks")
