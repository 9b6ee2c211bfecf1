"""Issue 22, item 5: a free-space plan whose books fill a corner of the hall gets a zoom
inset with the most borrowed books labelled; no two texts of a plan collide; the HTML
3D view shows the whole hall and an entrance label that books cannot cover."""

from __future__ import annotations

import os

import numpy as np
import pytest
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg

from conftest import DATA, SAMPLE_HALL, SAMPLE_LOANS
from shelfplan.api import baseline
from shelfplan.present.render import plan_figure, plotly_figure
from shelfplan.present.zoom import label_columns, occupied_box, overlapping_texts


@pytest.fixture(scope="module")
def by_the_door():
    """The sample: 297 books in a half-dome by the door of a 14 x 9 m hall."""
    return baseline("popularity", SAMPLE_LOANS, SAMPLE_HALL)


@pytest.fixture(scope="module")
def stacked():
    return baseline("callnumber", SAMPLE_LOANS, DATA / "stacked_hall.json",
                    holdings=DATA / "holdings.csv")


def drawn(layout, view):
    fig = plan_figure(layout, view=view)
    FigureCanvasAgg(fig)
    fig.canvas.draw()
    return fig


def zoom_of(fig):
    insets = [c for ax in fig.axes for c in ax.child_axes if c.texts]
    return insets[0] if insets else None


@pytest.mark.parametrize("view", ["top", "both"])
def test_the_occupied_corner_is_zoomed_and_the_top_books_named(by_the_door, view):
    box = occupied_box(by_the_door)
    assert box is not None
    xy = by_the_door.positions[:, :2]
    assert (xy >= box[0]).all() and (xy <= box[1]).all()
    fig = drawn(by_the_door, view)
    ins = zoom_of(fig)
    assert ins is not None and "zoom: 297 books" in ins.get_title()
    named = [t.get_text().split()[1] for t in ins.texts]
    assert [t.get_text().split()[0] for t in ins.texts] == ["1", "2", "3", "4", "5", "6"]
    top = [str(by_the_door.items[k]) for k in np.argsort(-by_the_door.p, kind="stable")[:6]]
    assert named == top
    (x0, x1), (y0, y1) = ins.get_xlim(), ins.get_ylim()
    assert x0 <= box[0, 0] and x1 >= box[1, 0] and y0 <= box[0, 1] and y1 >= box[1, 1]
    assert (x1 - x0) < 0.55 * 14                   # a real zoom of the 14 m hall
    # the inset hides no book of the plan
    plan = fig.axes[0] if view == "top" else fig.axes[1]
    corners = (ins.get_position().get_points() @ np.diag(plan.figure.get_size_inches())
               * plan.figure.dpi)
    to_data = plan.transData.inverted()
    (a0, b0), (a1, b1) = to_data.transform(corners)
    inside = (xy[:, 0] > a0) & (xy[:, 0] < a1) & (xy[:, 1] > b0) & (xy[:, 1] < b1)
    assert not inside.any()


def test_a_plan_that_fills_its_hall_has_no_zoom(stacked):
    assert occupied_box(stacked) is None
    assert zoom_of(drawn(stacked, "top")) is None


@pytest.mark.parametrize("which", ["by_the_door", "stacked"])
@pytest.mark.parametrize("view", ["both", "top", "3d"])
def test_no_two_texts_collide(request, which, view):
    assert overlapping_texts(drawn(request.getfixturevalue(which), view)) == []


def test_the_collision_check_sees_a_collision(by_the_door):
    fig = drawn(by_the_door, "top")
    ax = fig.axes[0]
    ax.text(0.5, 0.5, "one label", transform=ax.transAxes)
    ax.text(0.5, 0.5, "another", transform=ax.transAxes)
    fig.canvas.draw()
    assert ("one label", "another") in overlapping_texts(fig)


def test_label_columns_by_hand():
    pts = np.array([[0.0, 0.0], [0.1, 0.05], [2.0, 1.0], [-0.5, 3.0]])
    out = label_columns(pts, centre_x=1.0, left_x=-1.0, right_x=3.0, step=0.5)
    assert out[2].tolist() == [3.0, 1.0]                     # alone on the right: level
    left = out[[0, 1, 3], 1]
    assert (out[[0, 1, 3], 0] == -1.0).all()
    assert np.all(np.diff(left) >= 0.5 - 1e-12)              # a line apart, order kept
    assert left.mean() == pytest.approx(pts[[0, 1, 3], 1].mean())


def test_the_html_entrance_label_stands_outside_the_hall(by_the_door):
    pytest.importorskip("plotly")
    fig = plotly_figure(by_the_door, view="both")
    labels = [t for t in fig.data if getattr(t, "mode", None) == "text"
              and "Entrance" in str(t.text[0])]
    assert {t.type for t in labels} == {"scatter3d", "scatter"}
    floor = shapely.Polygon(by_the_door.hall.footprint)
    for t in labels:
        assert not floor.contains(shapely.Point(t.x[0], t.y[0]))


CHROMIUM_TESTS = pytest.mark.skipif(not os.path.exists("/usr/bin/chromium"),
                                    reason="no Chromium")


@CHROMIUM_TESTS
def test_the_3d_view_shows_the_whole_hall(by_the_door, tmp_path):
    from chromium import DevTools
    from test_render_html_browser import FLAGS, PROJECT, load
    from shelfplan.present.render import render

    out = tmp_path / "plan.html"
    render(by_the_door, out, view="both")
    dt = DevTools(tmp_path / "profile", FLAGS, window="1400,900")
    try:
        page = next(t for t in dt.send("Target.getTargets")["targetInfos"]
                    if t["type"] == "page")
        dt.session = dt.send("Target.attachToTarget", {"targetId": page["targetId"],
                                                       "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            dt.send(f"{domain}.enable")
        load(dt, out)
        rect = dt.js("""(() => { const s = document.querySelector('.js-plotly-plot')
            ._fullLayout.scene._scene.container.getBoundingClientRect();
            return [s.left, s.top, s.right, s.bottom]; })()""")
        hall = by_the_door.hall
        (x0, y0), (x1, y1) = hall.footprint.min(axis=0), hall.footprint.max(axis=0)
        z0, z1 = hall.z_range
        label = [t for t in plotly_figure(by_the_door).data
                 if t.type == "scatter3d" and t.mode == "text"][0]
        points = [(x, y, z) for x in (x0, x1) for y in (y0, y1) for z in (z0, z1)]
        points.append((label.x[0], label.y[0], label.z[0]))
        for p in points:
            sx, sy = dt.js(PROJECT % tuple(float(v) for v in p))
            assert rect[0] + 5 < sx < rect[2] - 5 and rect[1] + 5 < sy < rect[3] - 5, (p, rect)
    finally:
        dt.close()
