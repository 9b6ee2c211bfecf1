"""Every command on the sample building (data/building.json), and unknown keys in hall
files refused with the nearest known key (issue 22), through click's CliRunner."""

from __future__ import annotations

import csv
import json
import logging
import os

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import SAMPLE_HALL
from shelfplan.cli import main
from shelfplan.errors import HallError
from shelfplan.layout import read_layout
from shelfplan.model.hall import hall_from_dict
from test_building import independent

DATA = os.path.dirname(SAMPLE_HALL)
BUILDING = os.path.join(DATA, "building.json")
STACKED = os.path.join(DATA, "stacked_hall.json")
LOANS = os.path.join(DATA, "loans.csv")
HOLDINGS = os.path.join(DATA, "holdings.csv")


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def plans(tmp_path_factory):
    """A free plan and today's call-number shelving of the sample building (the CLI's
    logging set-up undone afterwards, as conftest does for each test)."""
    logger = logging.getLogger("shelfplan")
    saved = (logger.handlers[:], logger.level, logger.propagate)
    d = tmp_path_factory.mktemp("building")
    r = invoke("fit", LOANS, "--hall", BUILDING, "--holdings", HOLDINGS, "-o", d / "plan.json",
               "--shelf-list", d / "list.csv", "--time-limit", 2, "-q")
    assert r.exit_code == 0, r.output
    r = invoke("baseline", "callnumber", LOANS, "--hall", BUILDING, "--holdings", HOLDINGS,
               "-o", d / "today.json")
    logger.handlers[:], logger.level, logger.propagate = saved
    assert r.exit_code == 0, r.output
    return d


def test_hall_check_names_floors_and_connectors(tmp_path):
    out = tmp_path / "plan.png"
    r = invoke("hall", "check", BUILDING, "-o", out)
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0] == "hall 'Sample library building (three floors)': 2 obstacles"
    assert lines[1].startswith("3 floors (entrance on floor G), 3 connectors: stairs W "
                               "(stairs, floors G/1/2, 15 m a floor)")
    assert lines[2:5] == ["floor G: ranges 4  locations 30  slots 1200",
                          "floor 1: ranges 8  locations 64  slots 4800",
                          "floor 2: ranges 4  locations 31  slots 2325"]
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_reported_s_walk_equals_an_independent_recomputation(plans):
    """S_walk of MODEL.md 8.4 from the layout file alone: p and pairs from the loans,
    distances from a graph built straight from 8.9 (test_building.independent)."""
    from shelfplan.ingest.loans import read_loans
    from shelfplan.model.estimate import estimate

    lay = read_layout(plans / "plan.json")
    with open(BUILDING) as fh:
        D = independent(json.load(fh))
    est = estimate(read_loans(LOANS))
    index = {str(i): k for k, i in enumerate(lay.items)}
    k = np.array([index[str(i)] for i in est.items])
    loc = lay.shelf["loc"][k] + 1
    I, J, W = est.symmetric_pairs()
    S = float(est.p @ D[0, loc]) + float(W @ D[loc[I], loc[J]])
    assert lay.objective["total"] == pytest.approx(S, rel=1e-9)


def test_shelf_list_has_a_floor_column_and_imports_back(plans, tmp_path):
    with open(plans / "list.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[:5] == ["item_id", "call_number", "category", "floor", "range"]
    assert {r["floor"] for r in rows} >= {"G", "1"}
    out = tmp_path / "back.json"
    r = invoke("import-positions", plans / "list.csv", "--hall", BUILDING, "--loans", LOANS,
               "-o", out)
    assert r.exit_code == 0, r.output
    a, b = read_layout(plans / "plan.json"), read_layout(out)
    assert b.objective["total"] == pytest.approx(a.objective["total"])
    rows[0]["floor"] = "2"
    bad = tmp_path / "bad.csv"
    with open(bad, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    r = invoke("import-positions", bad, "--hall", BUILDING, "-o", tmp_path / "x.json")
    assert r.exit_code == 1 and not (tmp_path / "x.json").exists()
    assert f"book {rows[0]['item_id']!r} is listed on floor '2' but range" in r.output


def test_blocks_moves_evaluate_compare_report(plans, tmp_path):
    r = invoke("fit", LOANS, "--hall", BUILDING, "--holdings", HOLDINGS, "--keep-order",
               "blocks", "--current", plans / "today.json", "--max-moves", 300, "-o",
               tmp_path / "moved.json", "--time-limit", 2, "-q")
    assert r.exit_code == 0, r.output
    moved = read_layout(tmp_path / "moved.json")
    today = read_layout(plans / "today.json")
    assert moved.objective["total"] <= today.objective["total"] + 1e-9
    r = invoke("evaluate", plans / "plan.json", LOANS)
    assert r.exit_code == 0, r.output
    r = invoke("compare", plans / "today.json", plans / "plan.json", "--loans", LOANS)
    assert r.exit_code == 0, r.output
    r = invoke("report", plans / "today.json", plans / "plan.json", "--loans", LOANS, "-o",
               tmp_path / "report.html")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "report.html").stat().st_size > 1000


def test_views_one_panel_per_floor(plans, tmp_path):
    from PIL import Image

    r = invoke("render", plans / "plan.json", "-o", tmp_path / "plan.png")
    assert r.exit_code == 0, r.output
    with Image.open(tmp_path / "plan.png") as im:
        w, h = im.size
    assert w > h                   # three floor panels, two a row
    r = invoke("stack-map", plans / "plan.json", "-o", tmp_path / "map.html")
    assert r.exit_code == 0, r.output
    page = (tmp_path / "map.html").read_text()
    assert page.count('class="floor-map"') == 3 and '<nav id="floors"' in page
    assert page.count("<svg ") == 3 and "stairs W: to 1, 2" in page
    r = invoke("signs", plans / "plan.json", "-o", tmp_path / "signs.csv")
    assert r.exit_code == 0, r.output
    head = (tmp_path / "signs.csv").read_text().splitlines()[0]
    assert head.startswith("floor,range,face,books")
    r = invoke("render", plans / "plan.json", "-o", tmp_path / "plan.html")
    assert r.exit_code == 0, r.output
    page = (tmp_path / "plan.html").read_text()
    assert page.count('<section id="floor-') == 3


# --- unknown keys (issue 22, item 2) ------------------------------------------------------

@pytest.mark.parametrize("typo, key, meant", [
    ("obstacles", "obstacle", "obstacles"),
    ("stacks", "stack", "stacks"),
    ("entrance", "entrence", "entrance"),
])
def test_typo_at_the_top_level(tmp_path, typo, key, meant):
    with open(STACKED) as fh:
        data = json.load(fh)
    data[key] = data.pop(typo)
    path = tmp_path / "typo.json"
    path.write_text(json.dumps(data))
    r = invoke("hall", "check", path)
    assert r.exit_code == 1
    assert r.output.strip().splitlines() == [
        f"Error: {path}: unknown key {key!r}; did you mean {meant!r}? (see docs/formats.md)"]
    with pytest.raises(HallError, match=f"unknown key '{key}'; did you mean '{meant}'"):
        hall_from_dict(data, source="x")


def test_typo_in_a_range_a_bank_and_a_free_hall(tmp_path):
    with open(STACKED) as fh:
        data = json.load(fh)
    data["stacks"][0]["rangez"] = 3
    path = tmp_path / "typo.json"
    path.write_text(json.dumps(data))
    r = invoke("hall", "check", path)
    assert r.exit_code == 1 and ("bank 'A': unknown key 'rangez'; did you mean 'ranges'?"
                                 in r.output)
    with open(SAMPLE_HALL) as fh:
        free = json.load(fh)
    free["dmin"] = free.pop("d_min")
    with pytest.raises(HallError, match="unknown key 'dmin'; did you mean 'd_min'"):
        hall_from_dict(free, source="x")
    free = {**free, "d_min": 0.3, "colour": "red"}
    free.pop("dmin")
    with pytest.raises(HallError, match="unknown key 'colour'; the keys are connectors, d_min"):
        hall_from_dict(free, source="x")


def test_building_keys_in_a_one_floor_hall():
    with open(STACKED) as fh:
        data = json.load(fh)
    with pytest.raises(HallError, match="'entrance_floor' belongs to a building"):
        hall_from_dict({**data, "entrance_floor": "G"}, source="x")
