"""Issue 22, item 9: a first ``hall check`` needs no compile. The interpreted copy of the
walk kernels (shelfplan.model.walk_plain) gives the compiled kernels' table, is used for
small tables until the compiled ones are cached, and hands over on arithmetic errors."""

from __future__ import annotations

import types

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import DATA
from shelfplan.cli import main
from shelfplan.model import walk, walk_jit, walk_plain
from shelfplan.model.hall import load_hall

STACKED = DATA / "stacked_hall.json"


@pytest.fixture(scope="module")
def hall():
    return load_hall(STACKED)


def _points(hall):
    return np.asarray(hall.stacks.pick, dtype=float)[:, :2]


def test_plain_and_compiled_tables_agree(hall):
    F, pts = hall.stacks.free_floor, _points(hall)
    a = walk.distance_table(F, pts, plain=False)
    b = walk.distance_table(F, pts, plain=True)
    assert np.array_equal(np.isfinite(a), np.isfinite(b))
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    # by hand: a point to itself is 0 and the table is symmetric
    assert np.all(np.diag(b) == 0) and np.array_equal(b, b.T)


def test_the_plain_kernels_are_not_compiled():
    k = walk_plain.kernels()
    assert isinstance(k.visible_pairs, types.FunctionType)
    assert k is not walk_jit and not isinstance(walk_jit.visible_pairs, types.FunctionType)


def _no_compiled(monkeypatch):
    def refuse(*a, **kw):
        raise AssertionError("the compiled kernels ran")
    for name in ("hide_radius", "visible_pairs", "corner_distances", "minplus",
                 "symmetric_table"):
        monkeypatch.setattr(walk_jit, name, refuse)


def test_small_tables_are_interpreted_until_compiled_ones_are_cached(hall, monkeypatch):
    expected = walk.distance_table(hall.stacks.free_floor, _points(hall), plain=False)
    monkeypatch.setattr(walk_plain, "compiled_ready", lambda: False)
    _no_compiled(monkeypatch)
    got = walk.distance_table(hall.stacks.free_floor, _points(hall))
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_cached_or_large_tables_use_the_compiled_kernels(hall, monkeypatch):
    monkeypatch.setattr(walk_plain, "compiled_ready", lambda: True)
    calls = []
    real = walk_jit.minplus
    monkeypatch.setattr(walk_jit, "minplus", lambda *a: calls.append(1) or real(*a))
    walk.distance_table(hall.stacks.free_floor, _points(hall))
    assert calls
    calls.clear()
    monkeypatch.setattr(walk_plain, "compiled_ready", lambda: False)
    monkeypatch.setattr(walk_plain, "PLAIN_NODES", 10)
    walk.distance_table(hall.stacks.free_floor, _points(hall))
    assert calls


def test_an_arithmetic_error_hands_over_to_the_compiled_kernels(hall, monkeypatch):
    plain = walk_plain.kernels()

    def divide(*a):
        raise ZeroDivisionError("float division by zero")
    monkeypatch.setattr(plain, "minplus", divide)
    got = walk.distance_table(hall.stacks.free_floor, _points(hall), plain=True)
    np.testing.assert_allclose(got, walk.distance_table(hall.stacks.free_floor, _points(hall),
                                                        plain=False), atol=1e-12)


def test_hall_check_runs_without_compiled_kernels(monkeypatch):
    monkeypatch.setattr(walk_plain, "compiled_ready", lambda: False)
    _no_compiled(monkeypatch)
    r = CliRunner().invoke(main, ["hall", "check", str(STACKED)])
    assert r.exit_code == 0, r.output
    assert "longest walk from the entrance 15.23 m" in r.stdout
