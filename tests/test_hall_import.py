"""``shelfplan hall import``: DXF plans (drawn here with ezdxf from known hall files) and
ranges tables give back the same ranges, locations and slots; bad input is one line."""

from __future__ import annotations

import json
import os

import ezdxf
import numpy as np
import pytest
from click.testing import CliRunner
from shapely.geometry import Polygon

from conftest import SAMPLE_HALL
from shelfplan.cli import main
from shelfplan.errors import HallError
from shelfplan.model.hall import load_hall
from shelfplan.model.hall_import import import_hall

DATA = os.path.dirname(SAMPLE_HALL)
STACKED = os.path.join(DATA, "stacked_hall.json")
BUILDING = os.path.join(DATA, "building.json")
UNIT_CODE = {"mm": (4, 1000.0), "m": (6, 1.0), "cm": (5, 100.0), "ft": (2, 1 / 0.3048)}


def draw(path, footprint, obstacles, ranges, entrance=None, unit="mm", layers=None,
         stairs=(), lifts=()):
    """A DXF of one floor, ranges as rectangles labelled with their id."""
    code, k = UNIT_CODE[unit]
    names = {"footprint": "FOOTPRINT", "obstacles": "OBSTACLES", "ranges": "RANGES",
             "entrance": "ENTRANCE", "stairs": "STAIRS", "lifts": "LIFTS", **(layers or {})}
    doc = ezdxf.new()
    doc.header["$INSUNITS"] = code
    msp = doc.modelspace()
    sc = lambda pts: [tuple(np.asarray(p, float) * k) for p in pts]  # noqa: E731
    if footprint is not None:
        msp.add_lwpolyline(sc(footprint), close=True, dxfattribs={"layer": names["footprint"]})
    for ob in obstacles:
        msp.add_lwpolyline(sc(ob), close=True, dxfattribs={"layer": names["obstacles"]})
    for r in ranges:
        rect = r.footprint()
        msp.add_lwpolyline(sc(rect), close=True, dxfattribs={"layer": names["ranges"]})
        msp.add_text(r.id, dxfattribs={"layer": names["ranges"],
                                       "insert": tuple(rect.mean(axis=0) * k)})
    if entrance is not None:
        msp.add_point(tuple(np.asarray(entrance[:2]) * k), dxfattribs={"layer": names["entrance"]})
    for p, label in stairs:
        msp.add_circle(tuple(np.asarray(p) * k), 0.3 * k, dxfattribs={"layer": names["stairs"]})
        msp.add_text(label, dxfattribs={"layer": names["stairs"],
                                        "insert": tuple((np.asarray(p) + 0.4) * k)})
    for p, label in lifts:
        msp.add_point(tuple(np.asarray(p) * k), dxfattribs={"layer": names["lifts"]})
        msp.add_text(label, dxfattribs={"layer": names["lifts"],
                                        "insert": tuple((np.asarray(p) + 0.4) * k)})
    doc.saveas(path)
    return path


def draw_hall(path, hall, **kw):
    return draw(path, hall.footprint, hall.obstacles, hall.stacks.ranges, hall.entrance, **kw)


def same_stacks(a, b):
    """Same range ids and footprints, the same pick points and capacity per range."""
    ra = {r.id: r for r in a.ranges}
    rb = {r.id: r for r in b.ranges}
    assert list(ra) == list(rb)
    for rid in ra:
        pa, pb = Polygon(ra[rid].footprint()), Polygon(rb[rid].footprint())
        assert pa.symmetric_difference(pb).area < 1e-9, rid
        picks = lambda r: sorted(map(tuple, np.round(np.vstack([r.pick_points(f)  # noqa: E731
                                                              for f in r.face_names]), 6)))
        assert picks(ra[rid]) == picks(rb[rid]), rid
        assert ra[rid].sections == rb[rid].sections
    assert a.n_locations == b.n_locations and a.n_slots == b.n_slots
    assert sorted(a.capacity) == sorted(b.capacity)


@pytest.mark.parametrize("unit", ["mm", "m", "ft"])
def test_dxf_drawn_from_the_sample_gives_the_same_stacks(tmp_path, unit):
    hall = load_hall(STACKED)
    path = draw_hall(str(tmp_path / "plan.dxf"), hall, unit=unit)
    data, got, report = import_hall(dxf=path, shelving={"shelves": 4, "books_per_shelf": 15})
    same_stacks(hall.stacks, got.stacks)
    key = {tuple(np.round(p, 6)): k for k, p in enumerate(hall.stacks.pick)}
    perm = np.r_[0, 1 + np.array([key[tuple(np.round(p, 6))] for p in got.stacks.pick])]
    np.testing.assert_allclose(got.stacks.distances(),
                               hall.stacks.distances()[np.ix_(perm, perm)], atol=1e-6)
    assert report[0].startswith(f"{path} ({unit}): FOOTPRINT: 1 LWPOLYLINE; OBSTACLES: 2 "
                                f"LWPOLYLINE; RANGES: 8 LWPOLYLINE, 8 TEXT; ENTRANCE: 1 POINT")
    by_id = {r["id"]: r for r in data["stacks"]}
    assert by_id["N"]["faces"] == "right" and by_id["A-1"].get("faces") is None
    assert by_id["W"]["faces"] == "right"         # facing the room, away from the wall


def test_thin_rectangle_faces_the_wider_aisle(tmp_path):
    foot = [[0, 0], [10, 0], [10, 8], [0, 8]]
    ranges = load_hall(STACKED).stacks.ranges[:0]
    path = str(tmp_path / "thin.dxf")
    doc_ranges = []
    from shelfplan.model.stacks import Range
    doc_ranges.append(Range(id="T", start=np.array([2.0, 3.0]), end=np.array([6.0, 3.0]),
                            sections=4, faces="left", depth=0.3))
    draw(path, foot, [], ranges + doc_ranges, [5, 0], unit="m")
    data, hall, _ = import_hall(dxf=path)
    r = data["stacks"][0]
    # 3 m of aisle below (y 0..3), 4.7 m above (3.3..8): the books face up (+y, the left)
    assert r["faces"] == "left" and r["start"] == [2.0, 3.0] and r["depth"] == 0.3
    assert r["sections"] == 4     # 4 m / 0.9 m = 4.4 -> 4 bays


def test_layer_override_and_ignored_entities(tmp_path):
    hall = load_hall(STACKED)
    path = draw_hall(str(tmp_path / "plan.dxf"), hall, layers={"ranges": "STACKS"})
    doc = ezdxf.readfile(path)
    msp = doc.modelspace()
    msp.add_lwpolyline([(0, 0), (100, 0), (50, 80)], close=True, dxfattribs={"layer": "STACKS"})
    msp.add_line((0, 0), (1, 1), dxfattribs={"layer": "FURNITURE"})
    doc.saveas(path)
    with pytest.raises(HallError, match="no rectangles on the ranges layer"):
        import_hall(dxf=path)
    data, got, report = import_hall(dxf=path, layers={"ranges": "stacks"})
    assert len(got.stacks.ranges) == 8
    assert "STACKS: 8 LWPOLYLINE, 8 TEXT (ignored: 1 LWPOLYLINE (not a rectangle))" in report[0]
    assert report[0].endswith("other layers ignored: FURNITURE (1)")


def test_building_from_one_dxf_per_floor(tmp_path):
    b = load_hall(BUILDING)
    with open(BUILDING) as fh:
        spec = json.load(fh)
    floors = []
    for f in b.building.floors:
        stairs = [(c.at[f.id], c.id) for c in b.building.connectors
                  if c.kind == "stairs" and f.id in c.at]
        lifts = [(c.at[f.id], c.id) for c in b.building.connectors
                 if c.kind == "lift" and f.id in c.at]
        ent = b.building.entrance_xy if f.index == b.building.entrance_floor else None
        floors.append((f.id, draw(str(tmp_path / f"{f.id}.dxf"), f.footprint, f.obstacles,
                                  f.stacks.ranges, ent, stairs=stairs, lifts=lifts)))
    data, got, report = import_hall(floors=floors, shelving=None)
    assert [f["id"] for f in data["floors"]] == ["G", "1", "2"]
    assert {c["id"]: (c["kind"], c["at"]) for c in data["connectors"]} == {
        c["id"]: (c["kind"], c["at"]) for c in spec["connectors"]}
    assert got.stacks.n_locations == b.stacks.n_locations
    assert data["entrance_floor"] == "G"


# --- ranges tables ----------------------------------------------------------------------------

def test_range_table_per_range_and_per_bank_give_the_sample(tmp_path):
    hall = load_hall(STACKED)
    shell = tmp_path / "shell.json"
    shell.write_text(json.dumps({"footprint": hall.footprint.tolist(),
                                 "obstacles": [o.tolist() for o in hall.obstacles],
                                 "entrance": [10, 0]}))
    rows = ["id,start_x,start_y,end_x,end_y,sections,faces,shelves,books_per_shelf,depth"]
    for r in hall.stacks.ranges:
        rows.append(f"{r.id},{r.start[0]},{r.start[1]},{r.end[0]},{r.end[1]},{r.sections},"
                    f"{r.faces},{r.shelves},{r.books_per_shelf},{r.depth}")
    table = tmp_path / "ranges.csv"
    table.write_text("\n".join(rows) + "\n")
    _, got, _ = import_hall(table=str(table), shell=str(shell))
    same_stacks(hall.stacks, got.stacks)
    assert list(got.stacks.loc_section) == list(hall.stacks.loc_section)
    banks = tmp_path / "banks.xlsx"
    import pandas as pd
    pd.DataFrame([
        {"Bank": "A", "Origin X": 2.5, "Origin Y": 5, "Ranges": 3, "Length": 2.7,
         "Sections": 3, "Shelves": 4, "Books per shelf": 15},
        {"Bank": "B", "Origin X": 7.0, "Origin Y": 5, "Ranges": 3, "Length": 2.7,
         "Sections": 3, "Shelves": 4, "Books per shelf": 15},
        {"ID": "N", "Start X": 2, "Start Y": 14, "End X": 11, "End Y": 14, "Sections": 10,
         "Faces": "right", "Shelves": 4, "Books per shelf": 15},
        {"ID": "W", "Start X": 0, "Start Y": 12, "End X": 0, "End Y": 3, "Sections": 10,
         "Faces": "left", "Shelves": 4, "Books per shelf": 15}]).to_excel(banks, index=False)
    _, got2, _ = import_hall(table=str(banks), shell=str(shell))
    assert got2.to_dict()["stacks"] == hall.to_dict()["stacks"]     # the sample's own list
    np.testing.assert_allclose(got2.stacks.pick, hall.stacks.pick)
    assert got2.stacks.n_slots == hall.stacks.n_slots == 3360


def test_range_table_with_footprint_from_a_dxf(tmp_path):
    hall = load_hall(STACKED)
    plan = draw(str(tmp_path / "room.dxf"), hall.footprint, hall.obstacles, [],
                hall.entrance, unit="cm")
    table = tmp_path / "ranges.csv"
    table.write_text("bank,origin_x,origin_y,ranges,length,sections\nA,250,500,3,270,3\n")
    _, got, _ = import_hall(table=str(table), footprint=plan, units="cm")
    np.testing.assert_allclose(got.stacks.pick, hall.stacks.pick[:18])


# --- the command and bad input ----------------------------------------------------------------

def run(args):
    return CliRunner().invoke(main, ["hall", "import", *args])


def test_cli_writes_the_hall_and_the_plan(tmp_path):
    hall = load_hall(STACKED)
    path = draw_hall(str(tmp_path / "plan.dxf"), hall)
    out, png = tmp_path / "hall.json", tmp_path / "plan.png"
    r = run([path, "-o", str(out), "--plan", str(png), "--shelves", "4",
             "--books-per-shelf", "15", "--layer", "ranges=RANGES"])
    assert r.exit_code == 0, r.output
    assert "ranges 8  locations 56  slots 3360" in r.output
    assert load_hall(out).stacks.n_slots == 3360
    assert png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("case, message", [
    ("nofoot", "no closed polyline on layer 'FOOTPRINT' (the floor's outline)"),
    ("mixed", "the drawings use mixed units"),
    ("scale", "the units look wrong (mixed units?)"),
    ("layer", "Invalid value for --layer: 'rangesSTACKS': write ROLE=NAME"),
    ("inside", "connector 'lift': its point"),
])
def test_bad_input_is_one_line_nonzero_and_no_file(tmp_path, case, message):
    hall = load_hall(STACKED)
    out = tmp_path / "hall.json"
    if case == "nofoot":
        args = [draw(str(tmp_path / "a.dxf"), None, [], hall.stacks.ranges, [10, 0])]
    elif case == "scale":            # drawn in mm, but the header says metres
        p = draw(str(tmp_path / "a.dxf"), hall.footprint * 1000, [], [], [10000, 0], unit="m")
        args = [p]
    elif case == "layer":
        args = [draw_hall(str(tmp_path / "a.dxf"), hall), "--layer", "rangesSTACKS"]
    else:
        b = load_hall(BUILDING)
        args = []
        for f in b.building.floors:
            unit = "m" if (case == "mixed" and f.index == 1) else "mm"
            lift = [(c.at[f.id], c.id) for c in b.building.connectors if c.kind == "lift"]
            if case == "inside" and f.id == "1":
                lift = [([3.0, 3.0], "lift")]     # inside range A-1 on floor 1
            ent = b.building.entrance_xy if f.index == 0 else None
            args += ["--floor", f.id, draw(str(tmp_path / f"{f.id}.dxf"), f.footprint,
                                           f.obstacles, f.stacks.ranges, ent, unit=unit,
                                           lifts=lift)]
    r = run([*args, "-o", str(out)])
    assert r.exit_code != 0
    lines = r.output.strip().splitlines()
    assert message in lines[-1], r.output
    assert len(lines) == 1 or (case == "layer" and lines[0].startswith("Usage:")), r.output
    assert "Traceback" not in r.output and not out.exists()


def test_table_without_shell_and_unknown_column(tmp_path):
    table = tmp_path / "r.csv"
    table.write_text("id,start_x,start_y,end_x,end_y,sections,shelfs\nR,1,1,3,1,2,4\n")
    r = run(["--ranges", str(table), "-o", str(tmp_path / "h.json")])
    assert r.exit_code == 1 and "needs the room around it: pass --shell" in r.output
    shell = tmp_path / "s.json"
    shell.write_text(json.dumps({"footprint": [[0, 0], [5, 0], [5, 4], [0, 4]],
                                 "entrance": [2, 0]}))
    r = run(["--ranges", str(table), "--shell", str(shell), "-o", str(tmp_path / "h.json")])
    assert r.exit_code == 1 and "unknown column 'shelfs'; did you mean 'shelves'?" in r.output


def test_old_polylines_block_entrance_and_unitless_drawing(tmp_path):
    doc = ezdxf.new()                      # no $INSUNITS: read as metres
    doc.header["$INSUNITS"] = 0
    blk = doc.blocks.new(name="DOOR")
    blk.add_line((0, 0), (1, 0))
    msp = doc.modelspace()
    msp.add_polyline2d([(0, 0), (8, 0), (8, 6), (0, 6)], close=True,
                       dxfattribs={"layer": "footprint"})
    msp.add_polyline2d([(2, 3), (5, 3), (5, 3.6), (2, 3.6)], close=True,
                       dxfattribs={"layer": "ranges"})
    msp.add_blockref("DOOR", (4, 0), dxfattribs={"layer": "entrance"})
    path = str(tmp_path / "old.dxf")
    doc.saveas(path)
    data, hall, report = import_hall(dxf=path, section_width=1.0)
    assert data["entrance"] == [4.0, 0.0]
    assert data["stacks"] == [{"id": "R1", "start": [2.0, 3.3], "end": [5.0, 3.3],
                               "sections": 3, "depth": 0.3}]
    assert report[0].startswith(f"{path} (m (drawing has no units)): FOOTPRINT: 1 POLYLINE")
    assert "ENTRANCE: 1 INSERT" in report[0]


def test_range_table_on_a_building_shell(tmp_path):
    with open(BUILDING) as fh:
        spec = json.load(fh)
    rows = ["floor,bank,id,origin_x,origin_y,start_x,start_y,end_x,end_y,ranges,length,"
            "sections,faces,shelves,books_per_shelf"]
    shell = {k: v for k, v in spec.items() if k != "floors"}
    shell["floors"] = []
    for f in spec["floors"]:
        shell["floors"].append({k: v for k, v in f.items() if k != "stacks"})
        for e in f["stacks"]:
            if "bank" in e:
                rows.append(f"{f['id']},{e['bank']},,{e['origin'][0]},{e['origin'][1]},,,,,"
                            f"{e['ranges']},{e['length']},{e['sections']},,{e['shelves']},"
                            f"{e['books_per_shelf']}")
            else:
                rows.append(f"{f['id']},,{e['id']},,,{e['start'][0]},{e['start'][1]},"
                            f"{e['end'][0]},{e['end'][1]},,,{e['sections']},{e['faces']},"
                            f"{e['shelves']},{e['books_per_shelf']}")
    (tmp_path / "shell.json").write_text(json.dumps(shell))
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n")
    _, got, _ = import_hall(table=str(tmp_path / "t.csv"), shell=str(tmp_path / "shell.json"))
    want = load_hall(BUILDING)
    np.testing.assert_allclose(got.stacks.distances(), want.stacks.distances())
    assert list(got.stacks.loc_floor) == list(want.stacks.loc_floor)
    (tmp_path / "t.csv").write_text("\n".join(rows).replace("\n2,", "\n9,") + "\n")
    with pytest.raises(HallError, match=r"floor '9': the shell's floors are G, 1, 2"):
        import_hall(table=str(tmp_path / "t.csv"), shell=str(tmp_path / "shell.json"))
