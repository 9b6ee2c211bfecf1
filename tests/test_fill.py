"""Growth space (MODEL.md 8.7): exact fills, room between runs, checked independently."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from fractions import Fraction

import numpy as np
import pytest
from click.testing import CliRunner

import shelfplan
from shelfplan.cli import main
from shelfplan.errors import HallError, LayoutError
from shelfplan.judge.promises import check_blocks_kept, check_feasible, check_fill
from shelfplan.model.hall import hall_from_dict
from shelfplan.shelf import shelf_problem
from shelfplan.solve.fill import (FillRule, ShelvingOptions, as_fill, block_need, growth_table,
                                  location_room, read_fill_table)
from shelfplan.solve.gaps import GapPricer
from shelfplan.solve.runs import Runs

from conftest import random_loans_csv

#: two double-faced ranges of 3 sections, 2 shelves of 5: 12 locations, 120 slots
HALL = {"name": "tiny stacks", "footprint": [[0, 0], [8, 0], [8, 6], [0, 6]],
        "entrance": [4.0, 0.0, 1.0],
        "stacks": [{"bank": "A", "origin": [2.0, 2.0], "ranges": 2, "length": 3.0,
                    "sections": 3, "shelves": 2, "books_per_shelf": 5}]}


@pytest.fixture
def loans(tmp_path):
    path = tmp_path / "loans.csv"
    path.write_text(random_loans_csv(40, 60, seed=5))
    return str(path)


def test_fills_are_exact_fractions():
    assert as_fill("0.7") == Fraction(7, 10)
    assert block_need([21, 17], [Fraction(7, 10), Fraction(17, 20)]).tolist() == [30, 20]
    assert location_room(np.array([30, 7]), Fraction(17, 20)).tolist() == [25, 5]
    for bad in ("0", "1.5", "-0.2", "abc"):
        with pytest.raises(LayoutError, match=r"must be"):
            as_fill(bad)


def test_fill_table(tmp_path, caplog):
    path = tmp_path / "fill.csv"
    path.write_text("category,fill\n100,0.5\n900,0.8\n")
    assert read_fill_table(str(path)) == {"100": Fraction(1, 2), "900": Fraction(4, 5)}
    rule = FillRule.build(None, str(path), ["100", "200"])
    assert "900" in caplog.text and rule.of("100") == Fraction(1, 2) and rule.of("200") == 1
    path.write_text("category,fill\n100,lots\n")
    with pytest.raises(LayoutError, match="line 2"):
        read_fill_table(str(path))


def test_growth_table_gives_room_for_the_years():
    # class a: 10 books, 4 added in a 2-year window -> 2 a year -> 6 years = 12 more slots
    cats = ["a"] * 10 + ["b"] * 5
    recent = [True] * 4 + [False] * 6 + [False] * 5
    table = growth_table(None, cats, recent, 2.0, 6)
    assert table == {"a": Fraction(10, 22), "b": Fraction(1)}


def test_slack_dp_matches_brute_force(loans):
    """Without pairs between runs the DP is exact: it finds the best of every x."""
    hall = hall_from_dict(HALL)
    _, problem = shelf_problem(loans, hall)
    problem.I = problem.J = np.zeros(0, dtype=np.int64)
    problem.W = np.zeros(0)
    blocks = Runs(problem, problem.categories)
    need = block_need(blocks.sizes, [Fraction(3, 4)] * blocks.K)
    pricer = GapPricer(problem, blocks, need)
    order = np.arange(blocks.K)
    x = pricer.place_slack(order, pricer.x_end(0), grid_size=pricer.E + 1)
    best = min(pricer(order, np.array(list(c) + [pricer.E - sum(c)]))
               for c in itertools.product(range(pricer.E + 1), repeat=blocks.K)
               if sum(c) <= pricer.E)
    assert x.sum() == pricer.E and (x >= 0).all()
    assert pricer(order, x) == pytest.approx(best)


@pytest.mark.parametrize("fill", ["0.75", "1"])
def test_blocks_with_fill_keep_their_promises(loans, fill):
    lay = shelfplan.fit(loans, hall=hall_from_dict(HALL), keep_order="blocks", time_limit=3,
                        shelving=ShelvingOptions(fill=fill))
    assert check_feasible(lay) == [] and check_blocks_kept(lay) == []
    assert check_fill(lay, blocks=True, fill=(Fraction(fill), {})) == []


def test_free_plan_with_fill_table(loans, tmp_path):
    table = tmp_path / "fill.csv"
    table.write_text("category,fill\n100,0.5\n200,0.9\n")
    lay = shelfplan.fit(loans, hall=hall_from_dict(HALL), time_limit=3,
                        shelving=ShelvingOptions(fill="0.8", fill_table=str(table)))
    assert check_feasible(lay) == []
    rec = (Fraction(4, 5), {"100": Fraction(1, 2), "200": Fraction(9, 10)})
    assert check_fill(lay, blocks=False, fill=rec) == []
    # the checker does catch a plan made without the room
    plain = shelfplan.fit(loans, hall=hall_from_dict(HALL), time_limit=2)
    assert check_fill(plain, blocks=False, fill=(Fraction(1, 10), {})) != []


def test_baseline_callnumber_with_fill(loans):
    lay = shelfplan.baseline("callnumber", loans, hall=hall_from_dict(HALL),
                             shelving=ShelvingOptions(fill="0.5"))
    assert check_blocks_kept(lay) == [] and check_fill(lay, blocks=True) == []


def test_too_few_slots_say_how_many(loans):
    with pytest.raises(HallError, match=r"slots are missing"):
        shelfplan.fit(loans, hall=hall_from_dict(HALL), keep_order="blocks", time_limit=1,
                      shelving=ShelvingOptions(fill="0.3"))
    with pytest.raises(HallError, match=r"\d+ slots are missing"):
        shelfplan.fit(loans, hall=hall_from_dict(HALL), time_limit=1,
                      shelving=ShelvingOptions(fill="0.3"))


def test_cli_bad_fill_is_one_line_and_no_file(loans, tmp_path):
    hall = tmp_path / "hall.json"
    hall.write_text(json.dumps(HALL))
    out = tmp_path / "plan.json"
    table = tmp_path / "fill.csv"
    table.write_text("category,fill\n100,2\n")
    for extra in (["--fill", "1.5"], ["--fill", "0"], ["--fill-table", str(table)]):
        r = CliRunner().invoke(main, ["fit", loans, "--hall", str(hall), "-o", str(out),
                                      "--time-limit", "1", *extra])
        assert r.exit_code != 0 and not out.exists(), r.output
        assert "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1
    r = CliRunner().invoke(main, ["baseline", "callnumber", loans, "--hall", str(hall), "-o",
                                  str(out), "--fill", "0.8"])
    assert r.exit_code == 0, r.output
    assert check_fill(shelfplan.read_layout(str(out)), blocks=True) == []


def test_growth_years_from_acquisition_dates(loans, tmp_path):
    """Class 100 gained 6 books in a 2-year span (3 a year): 3 years of growth give it
    9 slots of room on top of its 10 books."""
    rows = ["item_id,call_number,category,date_added"]
    ids = sorted({line.split(",")[1] for line in Path(loans).read_text().splitlines()[1:]})
    for k, i in enumerate(ids):
        cat = "100" if k < 10 else "200"
        year = 2024 if (cat == "100" and k < 6) else 2022
        rows.append(f"{i},{cat} {i},{cat},{year}-05-01")
    hold = tmp_path / "holdings.csv"
    hold.write_text("\n".join(rows) + "\n")
    lay = shelfplan.fit(loans, hall=hall_from_dict(HALL), holdings=str(hold),
                        keep_order="blocks", time_limit=2,
                        shelving=ShelvingOptions(growth_years=3))
    rec = lay.solver["fill"]["table"]
    assert Fraction(rec["100"]) == Fraction(10, 10 + 9) and Fraction(rec["200"]) == 1
    assert check_fill(lay, blocks=True) == [] and check_blocks_kept(lay) == []


def test_display_zone_with_fill_keeps_the_promises_of_the_blocks(loans):
    lay = shelfplan.fit(loans, hall=hall_from_dict(HALL), keep_order="blocks", time_limit=3,
                        display={"books": 6}, shelving=ShelvingOptions(fill="0.8"))
    assert len(lay.solver["display"]["items"]) == 6
    assert check_feasible(lay) == [] and check_blocks_kept(lay) == []
    assert check_fill(lay, blocks=True) == []
