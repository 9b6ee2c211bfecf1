"""Free plans from today's shelves within a budget of moves (MODEL.md 8.8)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import shelfplan
from shelfplan.cli import main
from shelfplan.errors import LayoutError
from shelfplan.judge.promises import check_feasible
from shelfplan.model.hall import hall_from_dict

from conftest import random_loans_csv
from test_fill import HALL


@pytest.fixture
def files(tmp_path):
    loans = tmp_path / "loans.csv"
    loans.write_text(random_loans_csv(60, 120, seed=7))
    hall = tmp_path / "hall.json"
    hall.write_text(json.dumps(HALL))
    today = tmp_path / "today.json"
    shelfplan.write_layout(shelfplan.baseline("callnumber", str(loans), hall=str(hall)),
                           str(today))
    return str(loans), str(hall), str(today)


def _where(layout):
    sh = layout.shelf
    return {str(i): (int(a), int(b), int(c)) for i, a, b, c in
            zip(layout.items, sh["loc"], sh["shelf"], sh["slot"])}


@pytest.mark.parametrize("budget", [0, 5, 20])
def test_budget_is_kept_and_unmoved_books_keep_their_slot(files, budget):
    loans, hall, today = files
    T = shelfplan.read_layout(today)
    P = shelfplan.fit(loans, hall=hall, current=today, max_moves=budget, time_limit=3)
    t, q = _where(T), _where(P)
    moved = [i for i in t if t[i][0] != q[i][0]]
    assert len(moved) <= budget and P.solver["moved"] == len(moved)
    assert all(t[i] == q[i] for i in t if t[i][0] == q[i][0])
    assert check_feasible(P) == []
    assert P.objective["total"] <= T.objective["total"] + 1e-9
    assert P.solver["objective_today"] == pytest.approx(T.objective["total"])
    if budget:
        assert P.objective["total"] < T.objective["total"]


def test_carrying_is_the_walk_between_pick_points(files):
    loans, hall, today = files
    T = shelfplan.read_layout(today)
    P = shelfplan.fit(loans, hall=hall, current=today, max_moves=10, time_limit=2)
    D = T.hall.stacks.distances()
    t, q = _where(T), _where(P)
    metres = sum(D[t[i][0] + 1, q[i][0] + 1] for i in t if t[i][0] != q[i][0])
    assert P.solver["carrying_m"] == pytest.approx(metres, abs=0.01)


def test_move_cost_carries_less(files):
    loans, hall, today = files
    free = shelfplan.fit(loans, hall=hall, current=today, max_moves=30, time_limit=2)
    dear = shelfplan.fit(loans, hall=hall, current=today, max_moves=30, move_cost=50.0,
                         time_limit=2)
    assert dear.solver["carrying_m"] < free.solver["carrying_m"] or dear.solver["moved"] == 0


def test_bad_today_or_budget(files, tmp_path):
    loans, hall, today = files
    other = dict(HALL, entrance=[3.0, 0.0, 1.0])
    with pytest.raises(LayoutError, match="same stacked hall"):
        shelfplan.fit(loans, hall=hall_from_dict(other), current=today, max_moves=5)
    fewer = tmp_path / "fewer.csv"
    fewer.write_text(random_loans_csv(30, 40, seed=1))
    with pytest.raises(LayoutError, match="books"):
        shelfplan.fit(str(fewer), hall=hall, current=today, max_moves=5)
    with pytest.raises(shelfplan.ParameterError, match="max_moves"):
        shelfplan.fit(loans, hall=hall, current=today, max_moves=-1)
    out = tmp_path / "p.json"
    r = CliRunner().invoke(main, ["fit", loans, "--hall", hall, "--current", today,
                                  "--max-moves", "-3", "-o", str(out)])
    assert r.exit_code != 0 and not out.exists()


def test_cli_summary_says_moves_and_walks(files, tmp_path):
    loans, hall, today = files
    out = tmp_path / "p.json"
    r = CliRunner().invoke(main, ["fit", loans, "--hall", hall, "--current", today,
                                  "--max-moves", "8", "--time-limit", "2", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "S_walk today" in r.output and "carried" in r.output and "moved" in r.output
    assert np.isfinite(shelfplan.read_layout(str(out)).solver["carrying_m"])


def test_moves_command_prints_and_plots_the_curve(files, tmp_path):
    loans, hall, today = files
    png = tmp_path / "curve.png"
    r = CliRunner().invoke(main, ["moves", today, "--loans", loans, "--budgets", "0,4,12",
                                  "--time-limit", "1", "-q", "-o", str(png)])
    assert r.exit_code == 0, r.output
    assert png.read_bytes()[:4] == b"\x89PNG"
    curve = json.loads((tmp_path / "curve.json").read_text())
    S = [p["S_walk"] for p in curve["points"]]
    assert [p["budget"] for p in curve["points"]] == [0, 4, 12]
    assert S[0] == pytest.approx(curve["today"]) and S[2] <= S[0]
    assert all(p["moved"] <= p["budget"] for p in curve["points"])
    assert "max moves" in r.output
    plan = tmp_path / "plan.json"
    shelfplan.write_layout(shelfplan.fit(loans, hall=hall, current=today, max_moves=4,
                                         time_limit=1), str(plan))
    page = tmp_path / "report.html"
    r = CliRunner().invoke(main, ["report", today, str(plan), "--loans", loans, "--in-sample",
                                  "-o", str(page), "--moves-curve",
                                  str(tmp_path / "curve.json"), "-q"])
    assert r.exit_code == 0, r.output
    assert "Saving against books moved" in page.read_text()
    r = CliRunner().invoke(main, ["moves", today, "--loans", loans, "--budgets", "-5",
                                  "-o", str(tmp_path / "bad.png")])
    assert r.exit_code != 0 and not (tmp_path / "bad.png").exists()
    assert len(r.output.strip().splitlines()) == 1
