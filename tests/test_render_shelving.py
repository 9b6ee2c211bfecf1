"""``render`` on shelving plans (issue 11 part 6): ranges, face strips, bookcases, hover.

A fit plan and today's shelving (``baseline callnumber``) of the sample stacked
hall with its holdings are drawn in every format; the artists are counted
against the plan (one rectangle per range, one strip per location with a book)
and a location's colour is checked against its dominant category's.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from shelfplan.api import baseline, fit
from shelfplan.cli import main
from shelfplan.layout import Layout, read_layout, write_layout
from shelfplan.model.hall import hall_from_dict
from shelfplan.model.shelving import BOOKCASE_HEIGHT, slot_positions
from shelfplan.present import geometry as geo
from shelfplan.present import render as R
from shelfplan.present.stacks_style import (EMPTY_COLOR, NO_LOANS_COLOR, book_hover,
                                            location_style)
from shelfplan.present.style import point_style

from conftest import DATA, SAMPLE_LOANS

STACKED = DATA / "stacked_hall.json"
HOLDINGS = DATA / "holdings.csv"


@pytest.fixture(scope="module")
def plans():
    return {"fit": fit(str(SAMPLE_LOANS), str(STACKED), holdings=str(HOLDINGS), time_limit=3),
            "today": baseline("callnumber", str(SAMPLE_LOANS), str(STACKED),
                              holdings=str(HOLDINGS))}


def tiny_plan(cats, loc, p, faces="both") -> Layout:
    """Books of categories ``cats`` in locations ``loc`` of one range, 2 sections."""
    hall = hall_from_dict({"name": "tiny", "footprint": [[0, 0], [6, 0], [6, 4], [0, 4]],
                           "obstacles": [], "entrance": [3, 0, 1.0],
                           "stacks": [{"id": "R", "start": [1, 2], "end": [5, 2], "sections": 2,
                                       "faces": faces, "shelves": 2, "books_per_shelf": 3}]})
    loc = np.asarray(loc)
    slot = np.zeros(len(loc), dtype=int)
    for k in range(len(loc)):          # fill each location's slots in order
        slot[k] = (loc[:k] == loc[k]).sum()
    shelf = {"loc": loc, "shelf": slot // 3 + 1, "slot": slot % 3 + 1,
             "callnumber": np.array([f"{c}.1 X" for c in cats], dtype=object)}
    n = len(loc)
    return Layout(hall=hall, items=np.array([f"B{k:05d}" for k in range(n)], dtype=object),
                  positions=slot_positions(hall.stacks, loc, shelf["shelf"], shelf["slot"]),
                  p=np.asarray(p, dtype=float), categories=np.array(cats, dtype=object),
                  shelf=shelf)


# --------------------------------------------------------------------------
# every format, both plans
# --------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["fit", "today"])
@pytest.mark.parametrize("ext", ["png", "svg", "pdf", "html"])
def test_every_format_is_written(plans, name, ext, tmp_path):
    out = tmp_path / f"plan.{ext}"
    assert R.render(plans[name], out, dpi=60) == ext
    data = out.read_bytes()
    magic = {"png": b"\x89PNG", "svg": b"<?xml", "pdf": b"%PDF", "html": b"<html"}[ext]
    assert data.lstrip()[:5].startswith(magic[:5]) or magic in data[:200]
    assert plans[name].shelved


def test_cli_renders_a_plan_file_in_each_view(plans, tmp_path):
    path = tmp_path / "plan.json"
    write_layout(plans["today"], path)
    for view in ("3d", "top", "both"):
        for color in ("category", "popularity"):
            out = tmp_path / f"{view}-{color}.png"
            r = CliRunner().invoke(main, ["render", str(path), "-o", str(out), "--view", view,
                                          "--color-by", color, "--dpi", "50"])
            assert r.exit_code == 0, r.output
            assert out.stat().st_size > 1000


# --------------------------------------------------------------------------
# what the floor plan and the 3D view hold
# --------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["fit", "today"])
def test_one_rectangle_per_range_and_one_strip_per_location_with_a_book(plans, name):
    plan = plans[name]
    stacks = plan.hall.stacks
    art = R.plot_top(plan)
    assert len(art["ranges"].get_paths()) == len(stacks.ranges)
    used = np.unique(plan.shelf["loc"])
    assert len(art["strips"].get_paths()) == len(used)
    n_empty = stacks.n_locations - len(used)
    assert (art["empty"] is None) == (n_empty == 0)
    if n_empty:
        assert len(art["empty"].get_paths()) == n_empty
        assert np.allclose(art["empty"].get_facecolor(), to_rgba(EMPTY_COLOR))
    assert art["heatmap"] is None and art["points"] is None
    assert art["entrance"] and len(art["labels"]) == len(stacks.ranges)   # all fit here
    assert {t.get_text() for t in art["labels"]} == set(stacks.range_ids())


def test_strips_lie_on_their_faces():
    plan = tiny_plan(["a"] * 4, [0, 1, 2, 3], [0.1, 0.2, 0.3, 0.4])
    q = geo.face_strips(plan.hall.stacks)
    # range R runs along +x at y = 2, depth 0.3: left face above (y in 2.036..2.3)
    assert q.shape == (4, 4, 2)
    left, right = plan.hall.stacks.loc_face == 0, plan.hall.stacks.loc_face == 1
    assert np.allclose(q[left, :, 1].min(axis=1), 2.036) and np.allclose(
        q[left, :, 1].max(axis=1), 2.3)
    assert np.allclose(q[right, :, 1].max(axis=1), 1.964) and np.allclose(
        q[right, :, 1].min(axis=1), 1.7)
    # section 1 from start: x in 1.04..2.96; the right face serpentines (S..1)
    sec = plan.hall.stacks.loc_section
    assert np.allclose(q[sec == 1, :, 0].min(axis=1), 1.04)
    assert np.allclose(q[sec == 2, :, 0].max(axis=1), 4.96)
    # every strip is counter-clockwise (positive area)
    x, y = q[..., 0], q[..., 1]
    area = 0.5 * (x * np.roll(y, -1, 1) - np.roll(x, -1, 1) * y).sum(axis=1)
    assert (area > 0).all()


def test_a_location_takes_its_dominant_categorys_colour():
    # location 0: a a b (a wins), location 1: b b a, location 2: c d (tie: the larger
    # category overall wins; c has 1 book, d 2), location 3: empty
    cats = ["a", "a", "b", "b", "b", "a", "c", "d", "d"]
    loc = [0, 0, 0, 1, 1, 1, 2, 2, 3]
    plan = tiny_plan(cats, loc, np.linspace(0.01, 0.09, 9))
    plan.shelf["loc"] = np.array([0, 0, 0, 1, 1, 1, 2, 2, 1])   # location 3 empty
    plan.positions = slot_positions(plan.hall.stacks, plan.shelf["loc"], *[
        np.array(v) for v in ([1, 1, 1, 1, 1, 1, 1, 1, 2], [1, 2, 3, 1, 2, 3, 1, 2, 1])])
    style = point_style(plan, "category")
    lut = {key: to_rgba(c) for _, c, key in style.legend}
    loc_style = location_style(plan, style)
    assert list(loc_style.dominant) == ["a", "b", "d", ""]
    assert np.allclose(loc_style.colors[0], lut["a"])
    assert np.allclose(loc_style.colors[1], lut["b"])
    assert np.allclose(loc_style.colors[2], lut["d"])
    assert np.allclose(loc_style.colors[3], to_rgba(EMPTY_COLOR))
    # and the floor plan draws exactly these colours, in location order
    art = R.plot_top(plan)
    assert np.allclose(art["strips"].get_facecolor(), loc_style.colors[:3])


def test_the_sample_plans_strips_match_their_dominant_category(plans):
    plan = plans["today"]
    style = point_style(plan, "category")
    lut = {key: to_rgba(c) for _, c, key in style.legend}
    loc_style = location_style(plan, style)
    k = int(plan.shelf["loc"][0])
    books = plan.shelf["loc"] == k
    cats, counts = np.unique(plan.categories[books].astype(str), return_counts=True)
    top = cats[np.argmax(counts)]
    key = style.labels[np.nonzero(books & (plan.categories.astype(str) == top))[0][0]]
    assert loc_style.dominant[k] == top
    assert np.allclose(loc_style.colors[k], lut[key])


def test_popularity_colours_locations_by_their_loans(plans):
    plan = tiny_plan(["a"] * 4, [0, 0, 1, 2], [0.1, 0.3, 0.0, 0.6])
    style = point_style(plan, "popularity")
    loc_style = location_style(plan, style)
    assert np.allclose(loc_style.loans, [0.4, 0.0, 0.6, 0.0])
    assert np.allclose(loc_style.colors[1], to_rgba(NO_LOANS_COLOR))
    assert np.allclose(loc_style.colors[3], to_rgba(EMPTY_COLOR))
    assert not np.allclose(loc_style.colors[0], loc_style.colors[2])
    art = R.plot_top(plan, color_by="popularity")
    assert art["colorbar"] is not None
    assert art["colorbar"].mappable.norm.vmin == pytest.approx(0.4)


def test_3d_view_has_bookcases_shelves_and_every_book(plans):
    plan = plans["fit"]
    stacks = plan.hall.stacks
    art = R.plot_3d(plan)
    art["points"].axes.get_figure().draw_without_rendering()   # 3D paths exist once drawn
    assert len(art["bookcases"].get_paths()) == 6 * len(stacks.ranges)   # a box each
    shelves = sum((r.shelves + 1 + r.sections + 1) * len(r.face_names) for r in stacks.ranges)
    assert len(art["shelves"].get_segments()) == shelves
    assert len(art["points"].get_offsets()) == plan.n
    zlo, zhi = geo.z_limits(plan)
    assert zlo == 0.0 and zhi == BOOKCASE_HEIGHT
    assert art["points"].axes.get_zlim() == (0.0, BOOKCASE_HEIGHT)


def test_many_books_are_rasterised_in_vector_output(plans, tmp_path):
    plan = plans["today"]                                 # 1,500 books > RASTERIZE_ABOVE
    out = tmp_path / "plan.svg"
    R.render(plan, out, view="3d")
    assert "<image" in out.read_text(encoding="utf-8")
    out2 = tmp_path / "vector.svg"
    R.render(plan, out2, view="3d", rasterized=False)
    assert "<image" not in out2.read_text(encoding="utf-8")


def test_labels_only_where_they_fit():
    plan = tiny_plan(["a"], [0], [1.0])
    ax = Figure(figsize=(8, 6)).add_subplot()
    assert len(R.plot_top(plan, ax)["labels"]) == 1
    ax = Figure(figsize=(0.4, 0.3)).add_subplot()        # a 4 m range in a few points
    assert R.plot_top(plan, ax)["labels"] == []


def test_a_plan_file_round_trip_draws_the_same(plans, tmp_path):
    path = tmp_path / "plan.json"
    write_layout(plans["fit"], path)
    again = read_layout(path)
    a, b = R.plot_top(plans["fit"]), R.plot_top(again)
    assert np.allclose(a["strips"].get_facecolor(), b["strips"].get_facecolor())


# --------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------
def test_hover_text_says_where_a_book_stands():
    plan = tiny_plan(["610", "610", "420"], [0, 0, 3], [0.2, 0.1, 0.7])
    text = book_hover(plan)
    # location 3 is the right face's first location in shelving order: section 1
    assert text[0] == "B00000 610.1 X - range R, left face, section 1, shelf 1, slot 1"
    assert text[1] == "B00001 610.1 X - range R, left face, section 1, shelf 1, slot 2"
    assert text[2] == "B00002 420.1 X - range R, right face, section 1, shelf 1, slot 1"


@pytest.mark.parametrize("view", ["both", "3d", "top"])
def test_html_holds_the_hover_text_of_a_book(plans, view, tmp_path):
    plan = plans["today"]
    out = tmp_path / "plan.html"
    R.render(plan, out, view=view)
    html = out.read_text(encoding="utf-8")
    k = int(np.nonzero(plan.items == "B00003")[0][0])
    st = plan.hall.stacks
    loc = int(plan.shelf["loc"][k])
    face = ("left", "right")[st.loc_face[loc]]
    expect = (f"B00003 {plan.shelf['callnumber'][k]} - range "
              f"{st.range_ids()[st.loc_range[loc]]}, {face} face, section "
              f"{st.loc_section[loc]}, shelf {plan.shelf['shelf'][k]}, slot "
              f"{plan.shelf['slot'][k]}")
    if view == "top":           # the floor plan says what each location holds
        assert f"{expect.split(' - ')[1].rsplit(', shelf', 1)[0]}: " in html
        assert expect not in html
    else:
        assert expect in html


def test_plotly_figure_of_a_plan(plans):
    plan = plans["fit"]
    fig = R.plotly_figure(plan, view="both")
    names = [t.name for t in fig.data]
    assert "bookcases" in names and "ranges" in names and "locations" in names
    books = [t for t in fig.data if t.type == "scatter3d" and t.hovertemplate
             and "text" in t.hovertemplate and t.name != "entrance"]
    assert sum(len(t.x) for t in books) == plan.n
    hover = next(t for t in fig.data if t.name == "locations")
    assert len(hover.x) == plan.hall.stacks.n_locations
    assert any(re.search(r"section \d+: \d+ books, loans", s) for s in hover.text)
    pop = R.plotly_figure(plan, view="top", color_by="popularity")
    assert any(getattr(t.marker, "showscale", None) for t in pop.data if hasattr(t, "marker"))


# --------------------------------------------------------------------------
# free-space layouts are untouched
# --------------------------------------------------------------------------
def test_free_space_layouts_still_draw_points_and_heat_map():
    plan = baseline("popularity", str(SAMPLE_LOANS), str(DATA / "hall.json"))
    assert not plan.shelved
    art = R.plot_top(plan)
    assert art["heatmap"] is not None and art["points"] is not None and "ranges" not in art
    assert "bookcases" not in R.plot_3d(plan)
    assert geo.z_limits(plan)[0] == pytest.approx(min(plan.hall.z_range[0],
                                                      plan.positions[:, 2].min(),
                                                      plan.hall.entrance[2]))
