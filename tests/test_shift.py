"""Shift plans (MODEL.md 8.8): executable from today, checked by an independent replay."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import shelfplan
from shelfplan.cli import main
from shelfplan.errors import LayoutError
from shelfplan.judge.shift import read_shift_csv, replay, shift_plan, slot_names
from shelfplan.model.hall import hall_from_dict
from shelfplan.solve.shift import order_moves

from conftest import random_loans_csv
from test_fill import HALL


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    path = tmp_path_factory.mktemp("shift") / "loans.csv"
    path.write_text(random_loans_csv(40, 60, seed=5))
    return shelfplan.baseline("callnumber", str(path), hall=hall_from_dict(HALL))


def at(layout, slots):
    """The layout with book i in global slot ``slots[i]``."""
    st_ = layout.hall.stacks
    L, S, T = st_.slot_order()
    sh = dict(layout.shelf, loc=L[slots], shelf=S[slots], slot=T[slots])
    return dataclasses.replace(layout, shelf=sh)


def test_a_cycle_needs_a_cart_or_a_free_slot():
    shelf_of = np.zeros(3, dtype=np.int64)
    with pytest.raises(LayoutError, match="no free slot and no cart"):
        order_moves(np.array([0, 1]), np.array([1, 0]), 2, shelf_of, 0, 0)
    rows = order_moves(np.array([0, 1]), np.array([1, 0]), 2, shelf_of, 1, 1)
    assert [r[2:] for r in rows] == [(0, -1), (1, 0), (-1, 1)]
    rows = order_moves(np.array([0, 1]), np.array([1, 0]), 3, shelf_of, 0, 0)
    assert [r[2:] for r in rows] == [(0, 2), (1, 0), (2, 1)]        # via the free slot


def test_a_shelf_shifted_by_one_is_one_trip():
    src = np.arange(5)
    rows = order_moves(src, src + 1, 8, np.zeros(8, dtype=np.int64), 1, 60)
    assert [r[1] for r in rows] == [4, 3, 2, 1, 0] and {r[0] for r in rows} == {1}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), carts=st.integers(0, 2), cap=st.integers(1, 3),
       keep=st.floats(0, 1))
def test_any_today_and_plan_give_an_executable_shift(base, seed, carts, cap, keep):
    rng = np.random.default_rng(seed)
    n, total = base.n, base.hall.stacks.n_slots
    today = rng.permutation(total)[:n]
    plan = rng.permutation(total)[:n]
    stay = rng.random(n) < keep
    plan[stay] = today[stay]                              # some books keep their slot ...
    clash = np.isin(plan[~stay], today[stay])             # ... so others must not land there
    free = np.setdiff1d(np.arange(total), np.concatenate([plan[stay], plan[~stay][~clash]]))
    plan[np.nonzero(~stay)[0][clash]] = rng.permutation(free)[:int(clash.sum())]
    T, P = at(base, today), at(base, plan)
    shift = shift_plan(T, P, carts=carts, cart_capacity=cap)
    assert replay(T, P, shift.rows, carts, cap) == []
    assert shift.books_moved == int((today != plan).sum())


def test_replay_catches_a_broken_plan(base):
    n = base.n
    T = at(base, np.arange(n))
    P = at(base, np.concatenate([[1, 0], np.arange(2, n)]))          # two books swap
    shift = shift_plan(T, P, carts=1, cart_capacity=1)
    assert replay(T, P, shift.rows, 1, 1) == []
    assert replay(T, P, shift.rows[1:], 1, 1)                        # skips the cart row
    assert replay(T, P, shift.rows, 1, 0)                            # cart too small
    direct = [(1, str(P.items[0]), slot_names(T.hall.stacks)[0], slot_names(T.hall.stacks)[1])]
    assert "taken" in replay(T, P, direct, 0, 0)[0]


def test_fit_writes_shift_plan_and_crew_sheet(tmp_path):
    loans = tmp_path / "loans.csv"
    loans.write_text(random_loans_csv(60, 120, seed=7))
    hall = tmp_path / "hall.json"
    hall.write_text(json.dumps(HALL))
    today, plan = tmp_path / "today.json", tmp_path / "plan.json"
    shift, sheet = tmp_path / "shift.csv", tmp_path / "crew.html"
    runner = CliRunner()
    assert runner.invoke(main, ["baseline", "callnumber", str(loans), "--hall", str(hall),
                                "-o", str(today), "-q"]).exit_code == 0
    r = runner.invoke(main, ["fit", str(loans), "--hall", str(hall), "--current", str(today),
                             "--max-moves", "15", "--time-limit", "2", "-o", str(plan),
                             "--shift-plan", str(shift), "--carts", "2", "--cart-capacity",
                             "10", "--crew-sheet", str(sheet), "-q"])
    assert r.exit_code == 0, r.output
    assert shift.read_text().splitlines()[0] == "# carts=2 cart_capacity=10"
    rows, carts, cap = read_shift_csv(str(shift))
    T, P = shelfplan.read_layout(str(today)), shelfplan.read_layout(str(plan))
    assert replay(T, P, rows, carts, cap) == []
    assert len({r[1] for r in rows}) == P.solver["moved"]
    page = sheet.read_text()
    assert "trips" in page and "first call number" in page and "trips" in r.output
    # a plan from scratch: the shift-plan command
    scratch = tmp_path / "scratch.json"
    shelfplan.write_layout(shelfplan.fit(str(loans), hall=str(hall), time_limit=2), str(scratch))
    r = runner.invoke(main, ["shift-plan", str(today), str(scratch), "-o", str(shift)])
    assert r.exit_code == 0, r.output
    rows, carts, cap = read_shift_csv(str(shift))
    assert replay(T, shelfplan.read_layout(str(scratch)), rows, carts, cap) == []
    # carts of capacity 0: one line, nothing written
    bad = tmp_path / "bad.csv"
    r = runner.invoke(main, ["shift-plan", str(today), str(scratch), "-o", str(bad),
                             "--cart-capacity", "0"])
    assert r.exit_code != 0 and not bad.exists() and len(r.output.strip().splitlines()) == 1
    r = runner.invoke(main, ["fit", str(loans), "--hall", str(hall), "--current", str(today),
                             "--max-moves", "5", "-o", str(tmp_path / "p2.json"),
                             "--shift-plan", str(bad), "--cart-capacity", "0", "-q"])
    assert r.exit_code != 0 and not bad.exists() and not (tmp_path / "p2.json").exists()
