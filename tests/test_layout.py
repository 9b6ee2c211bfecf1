"""The layout file: contents, round trip, validation on read, atomic writes."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SMALL_HALL, TINY_LOANS
from shelfplan.api import fit
from shelfplan.errors import LayoutError, ShelfplanError
from shelfplan.model.hall import load_hall
from shelfplan.layout import (FORMAT, VERSION, Layout, atomic_write, layout_from_dict,
                              read_layout, write_layout)

TOP_KEYS = {"format", "version", "hall", "items", "objective", "lower_bound", "min_spacing",
            "estimation", "solver"}


@pytest.fixture(scope="module")
def tiny_layout_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("layout") / "layout.json"
    write_layout(fit(str(TINY_LOANS), hall=str(SMALL_HALL), seed=0, time_limit=1), path)
    return path


def test_file_has_every_section(tiny_layout_file):
    data = json.loads(tiny_layout_file.read_text(encoding="utf-8"))
    assert TOP_KEYS <= set(data)
    assert data["format"] == "shelfplan.layout" and data["version"] == 1
    assert set(data["hall"]) >= {"footprint", "obstacles", "z_range", "entrance", "d_min"}
    assert set(data["objective"]) == {"total", "entrance_term", "pair_term"}
    assert set(data["lower_bound"]) == {"total", "entrance_term", "pair_term"}
    assert data["min_spacing"] >= 0.3 * (1 - 1e-3)
    assert data["estimation"]["session_rule"] == "patron + calendar date"
    assert data["estimation"]["duplicate_loans"] == 1
    assert data["solver"]["seed"] == 0 and "method" in data["solver"]
    items = {r["id"]: r for r in data["items"]}
    assert set(items) == {"A", "B", "C", "D"}
    assert items["B"] == {"id": "B", "position": items["B"]["position"], "p": 0.375,
                          "category": "100"}
    assert all(len(r["position"]) == 3 for r in items.values())


def test_file_reads_back(tiny_layout_file):
    lay = read_layout(tiny_layout_file)
    assert list(lay.items) == ["A", "B", "C", "D"]
    np.testing.assert_allclose(lay.p, [0.25, 0.375, 0.25, 0.125])
    assert list(lay.categories) == ["100", "100", "200", "300"]
    assert lay.objective["total"] > lay.lower_bound["total"] > 0
    assert lay.hall.to_dict() == load_hall(SMALL_HALL).to_dict()


@pytest.mark.parametrize("change,message", [
    ({"format": "geojson"}, "not a shelfplan layout (format 'geojson'"),
    ({"version": 99}, "layout version 99 is not supported (this shelfplan reads version 1)"),
    ({"version": None}, "layout version None is not supported"),
    ({"items": []}, "'items' must be a non-empty list"),
    ({"items": [{"id": "a"}]}, "every item needs 'id' and a numeric 'position'"),
    ({"items": [{"id": "a", "position": [0, 0]}]}, "three finite numbers"),
    ({"items": [{"id": "a", "position": [1, 1, 1]}, {"id": "a", "position": [2, 1, 1]}]},
     "item ids repeat"),
    ({"hall": {"footprint": [[0, 0], [1, 0], [1, 1], [0, 1]]}}, "(hall): missing z_range"),
])
def test_invalid_layouts_are_clear_errors(tiny_layout_file, tmp_path, change, message):
    data = json.loads(tiny_layout_file.read_text(encoding="utf-8"))
    data.update(change)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(LayoutError) as exc:
        read_layout(path)
    assert message in str(exc.value)
    assert str(path) in str(exc.value)


def test_not_a_layout_at_all(tmp_path):
    path = tmp_path / "list.json"
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(LayoutError, match="not a shelfplan layout"):
        read_layout(path)
    path.write_text("{oops", encoding="utf-8")
    with pytest.raises(LayoutError, match="not valid JSON"):
        read_layout(path)
    with pytest.raises(LayoutError, match="no such layout file"):
        read_layout(tmp_path / "missing.json")


def test_write_into_missing_directory(tmp_path):
    lay = random_layout(3, 0)
    with pytest.raises(ShelfplanError, match="does not exist"):
        write_layout(lay, tmp_path / "nope" / "layout.json")
    assert not (tmp_path / "nope").exists()


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old", encoding="utf-8")

    def boom(fh):
        fh.write("partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, boom)
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_non_finite_and_numpy_values_are_json_safe(tmp_path):
    lay = random_layout(2, 1)
    lay.min_spacing = float("inf")
    lay.solver = {"iterations": np.int64(3), "converged": np.bool_(True),
                  "history": [np.float64("nan"), 1.5], "arr": np.arange(2)}
    path = tmp_path / "x.json"
    write_layout(lay, path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["min_spacing"] is None
    assert data["solver"] == {"iterations": 3, "converged": True, "history": [None, 1.5],
                              "arr": [0, 1]}
    assert math.isnan(read_layout(path).min_spacing)


# --- round trip (hypothesis) ------------------------------------------------------------


def random_layout(n: int, seed: int, ids=None, cats=None) -> Layout:
    rng = np.random.default_rng(seed)
    hall = load_hall(SMALL_HALL)
    p = rng.dirichlet(np.ones(n))
    return Layout(hall=hall, items=np.array(ids or [f"I{k}" for k in range(n)], dtype=object),
                  positions=rng.uniform(0, 3, (n, 3)), p=p,
                  categories=None if cats is None else np.array(cats, dtype=object),
                  objective={"total": 1.5, "entrance_term": 1.0, "pair_term": 0.5},
                  lower_bound={"total": 0.5, "entrance_term": 0.25, "pair_term": 0.25},
                  min_spacing=0.31, estimation={"loans": n, "session_rule": "x"},
                  solver={"seed": seed}, pairs=[])


ids = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)


@settings(max_examples=50, deadline=None, database=None)
@given(data=st.data(), n=st.integers(1, 15), seed=st.integers(0, 2 ** 31))
def test_layout_round_trips(tmp_path_factory, data, n, seed):
    item_ids = data.draw(st.lists(ids, min_size=n, max_size=n, unique=True))
    cats = data.draw(st.one_of(st.none(), st.lists(st.one_of(st.none(), ids), min_size=n,
                                                   max_size=n)))
    lay = random_layout(n, seed, ids=item_ids, cats=cats)
    if n >= 2:
        lay.pairs = [(item_ids[0], item_ids[1], 0.25)]
    path = tmp_path_factory.mktemp("rt") / "layout.json"
    write_layout(lay, path)
    back = read_layout(path)
    assert list(back.items) == item_ids
    np.testing.assert_allclose(back.positions, lay.positions, atol=1e-6, rtol=0)
    np.testing.assert_array_equal(back.p, lay.p)
    want_cats = [None] * n if cats is None else cats
    got_cats = [None] * n if back.categories is None else list(back.categories)
    assert got_cats == want_cats
    assert back.hall.to_dict() == lay.hall.to_dict()
    for key in ("objective", "lower_bound", "estimation", "solver"):
        assert getattr(back, key) == getattr(lay, key)
    assert back.min_spacing == lay.min_spacing
    assert back.pairs == lay.pairs
    # and writing what was read gives the same file
    again = path.with_name("again.json")
    write_layout(back, again)
    assert json.loads(again.read_text(encoding="utf-8")) == json.loads(
        path.read_text(encoding="utf-8"))


def test_layout_from_dict_accepts_what_to_dict_gives():
    lay = random_layout(4, 2, cats=["a", None, "b", "a"])
    back = layout_from_dict(lay.to_dict())
    assert list(back.categories) == ["a", None, "b", "a"]
    assert FORMAT == "shelfplan.layout" and VERSION == 1
