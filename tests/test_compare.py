"""shelfplan.judge.compare and ``shelfplan compare``: moves, halls, per-book changes, CLI."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from shelfplan.api import baseline
from shelfplan.cli import main
from shelfplan.judge.compare import compare, moves
from shelfplan.layout import hall_difference
from shelfplan.errors import LayoutError
from shelfplan.judge.evaluate import evaluate
from shelfplan.model.hall import default_hall
from shelfplan.layout import write_layout

DATA = Path(__file__).resolve().parent.parent / "data"
LOANS = DATA / "loans.csv"
HALL = DATA / "hall.json"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cmp")
    out = {}
    for name in ("callnumber", "popularity", "random"):
        out[name] = d / f"{name}.json"
        write_layout(baseline(name, LOANS, HALL), out[name])
    other = baseline("popularity", LOANS)            # the default hall, not data/hall.json
    out["other_hall"] = d / "other_hall.json"
    write_layout(other, out["other_hall"])
    return out


@pytest.fixture(scope="module")
def cmp(files):
    # all the loans (the figures were held out by default since issue 14; see test_heldout.py)
    return compare([files["callnumber"], files["popularity"], files["random"]], LOANS,
                   in_sample=True)


def test_moving_nothing_gives_zero_moves(files):
    c = compare([files["callnumber"], files["callnumber"]], LOANS)
    m = c.moves[1].to_dict()
    assert m["books_moved"] == 0 and m["total_m"] == 0 and m["p90_m"] == 0
    assert m["books_added"] == m["books_removed"] == 0
    assert (c.changes[1]["change"] == 0).all()
    assert c.change([e.cost["total"] for e in c.evaluations]) == [0.0, 0.0]
    worse, better = c.top_changes(1)
    assert worse.empty and better.empty


def test_moves_by_hand(files):
    a = baseline("callnumber", LOANS, HALL)
    b = copy.deepcopy(a)
    b.positions[0] += [0.3, 0.4, 0.0]         # 0.5 m
    b.positions[1] += [0.0, 0.0, 5e-4]        # below the 1 mm tolerance
    b.positions[2] += [0.0, 0.002, 0.0]       # 2 mm: moved
    m = moves(a, b).to_dict()
    assert m["books_moved"] == 2
    assert m["total_m"] == pytest.approx(0.502)
    assert m["max_m"] == pytest.approx(0.5)
    assert moves(a, b, tolerance=1.0).to_dict()["books_moved"] == 0


def test_moves_count_added_and_removed():
    a = baseline("callnumber", LOANS, HALL)
    b = copy.deepcopy(a)
    b.items = b.items.copy()
    b.items[0] = "NEW-BOOK"
    m = moves(a, b).to_dict()
    assert m["books_added"] == 1 and m["books_removed"] == 1
    assert m["books_common"] == a.n - 1


def test_figures_match_evaluate_and_change_is_relative(cmp, files):
    ev = evaluate(files["popularity"], LOANS)
    assert cmp.evaluations[1].cost["total"] == pytest.approx(ev.cost["total"])
    assert cmp.evaluations[1].walk == pytest.approx(ev.walk)
    s = [e.cost["total"] for e in cmp.evaluations]
    data = cmp.to_dict()
    assert data["layouts"][1]["change_pct"]["S"] == pytest.approx(100 * (s[1] - s[0]) / s[0])
    assert data["layouts"][0]["change_pct"]["S"] == 0


def test_per_book_changes_sum_to_the_change_in_S(cmp):
    d = cmp.changes[1]
    dS = cmp.evaluations[1].cost["total"] - cmp.evaluations[0].cost["total"]
    assert d["change"].sum() == pytest.approx(dS)
    assert d["change"].is_monotonic_decreasing
    worse, better = cmp.top_changes(1, 3)
    assert len(worse) == len(better) == 3
    assert (worse["change"] > 0).all() and (better["change"] < 0).all()
    assert better["change"].is_monotonic_increasing


def test_refuses_different_halls(files):
    with pytest.raises(LayoutError, match="different hall.*--allow-different-halls"):
        compare([files["callnumber"], files["other_hall"]], LOANS)
    c = compare([files["callnumber"], files["other_hall"]], LOANS, allow_different_halls=True)
    assert not c.same_hall and "footprint" in c.hall_note[0]


def test_hall_difference_ignores_the_name():
    a, b = default_hall(100), default_hall(100)
    b.name = "renamed"
    assert hall_difference(a, b) is None
    b.d_min = 0.31
    assert hall_difference(a, b) == "d_min"


def test_layouts_with_different_books_use_common_loans(files):
    a = baseline("callnumber", LOANS, HALL)
    b = baseline("popularity", LOANS, HALL)
    keep = np.arange(b.n) != int(np.argmax(b.p))       # drop the most borrowed book
    b.items, b.positions, b.p = b.items[keep], b.positions[keep], b.p[keep]
    c = compare([a, b], LOANS, names=["a", "b"])
    assert c.basis["items_left_out"] == 1
    assert 0 < c.basis["share_loans_left_out"] < 0.1
    assert c.coverage[0]["items_missing"] == 0 and c.coverage[1]["items_missing"] == 1
    assert np.array_equal(c.evaluations[0].items, c.evaluations[1].items)
    assert c.moves[1].to_dict()["books_removed"] == 1


def test_needs_two_layouts(files):
    with pytest.raises(LayoutError, match="at least two"):
        compare([files["callnumber"]], LOANS)


# --------------------------------------------------------------- CLI

def test_cli_table_and_figure(files, tmp_path):
    png = tmp_path / "compare.png"
    r = CliRunner().invoke(main, ["compare", str(files["callnumber"]), str(files["popularity"]),
                                  str(files["random"]), "--loans", str(LOANS),
                                  "--since", "2025-01-01", "-o", str(png)])
    assert r.exit_code == 0, r.output
    assert "books moved" in r.stdout and "%" in r.stdout and "most walking saved" in r.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_json(files):
    r = CliRunner().invoke(main, ["compare", str(files["callnumber"]), str(files["popularity"]),
                                  "--loans", str(LOANS), "--json", "--top", "2"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    second = data["layouts"][1]
    assert second["moves"]["books_moved"] > 0
    assert len(second["most_walking_saved"]) == 2
    assert second["change_pct"]["S"] < 0


def test_cli_refuses_different_halls(files, tmp_path):
    png = tmp_path / "x.png"
    args = ["compare", str(files["callnumber"]), str(files["other_hall"]), "--loans", str(LOANS),
            "-o", str(png)]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 1
    assert "different hall" in r.output and len(r.output.strip().splitlines()) == 1
    assert not png.exists()
    r = CliRunner().invoke(main, args + ["--allow-different-halls", "-q"])
    assert r.exit_code == 0, r.output
    assert png.exists()


def test_cli_needs_loans(files):
    r = CliRunner().invoke(main, ["compare", str(files["callnumber"]), str(files["popularity"])])
    assert r.exit_code == 2 and "--loans" in r.output


def test_cli_help_has_example():
    r = CliRunner().invoke(main, ["compare", "--help"])
    assert r.exit_code == 0 and "shelfplan compare current.json" in r.output
