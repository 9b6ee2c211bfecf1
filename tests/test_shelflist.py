"""Importing a shelf list (today's shelving on the stacks) as a shelving plan."""

from __future__ import annotations

import csv
import json

import pytest
from click.testing import CliRunner

from shelfplan.cli import main
from shelfplan.errors import LayoutError
from shelfplan.judge.current import import_positions

from conftest import DATA, SAMPLE_LOANS

STACKED = DATA / "stacked_hall.json"


@pytest.fixture(scope="module")
def today(tmp_path_factory):
    out = tmp_path_factory.mktemp("today")
    plan, shelf = out / "today.json", out / "today.csv"
    r = CliRunner().invoke(main, ["baseline", "callnumber", str(SAMPLE_LOANS), "--hall",
                                  str(STACKED), "--holdings", str(DATA / "holdings.csv"),
                                  "-o", str(plan), "--shelf-list", str(shelf), "-q"])
    assert r.exit_code == 0, r.output
    return (json.loads(plan.read_text(encoding="utf-8")),
            list(csv.reader(shelf.read_text(encoding="utf-8").splitlines())))


def write_list(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_a_shelf_list_without_slots_round_trips_through_the_cli(today, tmp_path):
    plan, rows = today
    src = write_list(tmp_path / "shelves.csv", ["Barcode", "Range", "Side", "Bay", "Shelf",
                                                "Call Number"],
                     [[r[0], r[3], r[4], r[5], r[6], r[1]] for r in rows[1:]])
    out = tmp_path / "imported.json"
    r = CliRunner().invoke(main, ["import-positions", str(src), "--hall", str(STACKED),
                                  "--loans", str(SAMPLE_LOANS), "-o", str(out)])
    assert r.exit_code == 0, r.output
    got = json.loads(out.read_text(encoding="utf-8"))
    where = lambda d: {x["id"]: (x["range"], x["face"], x["section"], x["shelf"], x["slot"])  # noqa: E731
                       for x in d["items"]}
    assert where(got) == where(plan)
    assert got["objective"]["total"] == pytest.approx(plan["objective"]["total"], rel=1e-12)


def test_shelf_list_errors_are_one_line(today, tmp_path):
    _, rows = today
    header = ["item_id", "range", "face", "section", "shelf"]
    body = [[r[0], r[3], r[4], r[5], r[6]] for r in rows[1:]]
    cases = {
        "missing column": (["item_id", "range", "face", "section"], [b[:4] for b in body],
                           "missing column shelf"),
        "bad face": (header, [[body[0][0], body[0][1], "front", *body[0][3:]]] + body[1:],
                     "face must be left or right, got 'front'"),
        "twice": (header, body + [body[0]], f"item {body[0][0]!r} is listed 2 times"),
        "no range": (header, [[body[0][0], "Z-9", *body[0][2:]]] + body[1:],
                     "names a range, face or section the hall's stacks do not have"),
        "overfull": (header, [[b[0], "A-1", "left", "1", "1"] for b in body[:40]],
                     "lists more than its 15 books"),
    }
    for what, (head, data, message) in cases.items():
        src = write_list(tmp_path / f"{what}.csv", head, data)
        with pytest.raises(LayoutError, match=message):
            import_positions(src, str(STACKED))
        out = tmp_path / f"{what}.json"
        r = CliRunner().invoke(main, ["import-positions", str(src), "--hall", str(STACKED),
                                      "-o", str(out)])
        assert r.exit_code == 1 and not out.exists(), (what, r.output)
        assert len(r.output.strip().splitlines()) == 1 and "Traceback" not in r.output
