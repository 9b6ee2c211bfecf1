"""Issue 22, item 4: comparison figures that can be read. Moves summarised as flows
between ranges (free floor: grid cells) with their counts, a from x to table in the
report, the stacks drawn; one arrow per book only when few move."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.patches import FancyArrowPatch

from conftest import DATA, SAMPLE_HALL, SAMPLE_LOANS
from shelfplan.api import baseline
from shelfplan.cli import main
from shelfplan.judge.compare import compare, moves
from shelfplan.layout import write_layout
from shelfplan.present.flows import FEW_ARROWS, flow_rows, region_flows
from shelfplan.present.report_figures import compare_figure
from shelfplan.present.zoom import overlapping_texts

STACKED = DATA / "stacked_hall.json"
HOLDINGS = DATA / "holdings.csv"


@pytest.fixture(scope="module")
def plans():
    today = baseline("callnumber", SAMPLE_LOANS, STACKED, holdings=HOLDINGS)
    popular = baseline("popularity", SAMPLE_LOANS, STACKED, holdings=HOLDINGS)
    return today, popular


def test_range_flows_count_every_book_once(plans):
    today, popular = plans
    mv = moves(today, popular)
    fl = region_flows(today, popular, mv)
    assert fl.kind == "range" and fl.names == [str(r.id) for r in today.hall.stacks.ranges]
    assert fl.counts.sum() == len(mv.items) == 1500
    # by hand: the range of every book in each plan, counted
    st = today.hall.stacks
    ids = {str(i): k for k, i in enumerate(popular.items)}
    ra = st.loc_range[today.shelf["loc"]]
    rb = st.loc_range[popular.shelf["loc"][[ids[str(i)] for i in today.items]]]
    expect = np.zeros_like(fl.counts)
    np.add.at(expect, (ra, rb), 1)
    assert np.array_equal(fl.counts, expect)
    assert fl.between == int((ra != rb).sum())
    assert (fl.moved <= fl.counts).all()


def test_the_table_adds_up(plans):
    today, popular = plans
    fl = region_flows(today, popular, moves(today, popular))
    rows = flow_rows(fl)
    head, body, total = rows[0], rows[1:-1], rows[-1]
    assert head[0].startswith("from \\ to") and head[-2:] == ["total", "leave"]
    n = len(head) - 3
    cells = [[int(v or 0) for v in r[1:1 + n]] for r in body]
    assert [int(r[-2]) for r in body] == [sum(c) for c in cells]
    assert [int(v) for v in total[1:1 + n]] == [sum(c[j] for c in cells) for j in range(n)]
    assert int(total[-2]) == 1500 and int(total[-1]) == fl.between
    assert [int(r[-1]) for r in body] == [sum(c) - c[i] for i, c in enumerate(cells)]


def test_a_small_table_by_hand():
    from shelfplan.present.flows import Flows

    fl = Flows(names=["A", "B", "C"], centres=np.zeros((3, 2)),
               counts=np.array([[5, 2, 0], [1, 3, 0], [0, 0, 0]]),
               moved=np.array([[1, 2, 0], [1, 0, 0], [0, 0, 0]]), kind="range",
               boxes=np.zeros((3, 2, 2)))
    assert flow_rows(fl) == [["from \\ to (range)", "A", "B", "total", "leave"],
                             ["A", "5", "2", "7", "2"], ["B", "1", "3", "4", "1"],
                             ["total", "6", "5", "11", "3"]]
    assert fl.between == 3 and fl.within.tolist() == [1, 0, 0]


def _figure(paths, tmp_path):
    cmp = compare(paths, SAMPLE_LOANS, in_sample=True)
    fig = compare_figure(cmp)
    FigureCanvasAgg(fig)
    fig.canvas.draw()
    return cmp, fig


def test_many_moves_on_stacks_are_flows_between_ranges(plans, tmp_path):
    paths = []
    for name, lay in zip(("today", "popular"), plans):
        paths.append(tmp_path / f"{name}.json")
        write_layout(lay, paths[-1])
    cmp, fig = _figure(paths, tmp_path)
    assert int(cmp.moves[1].moved.sum()) > FEW_ARROWS
    axes = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"][:3]
    assert len(axes) == 3
    flows = axes[2]
    arrows = [p for p in flows.patches if isinstance(p, FancyArrowPatch)]
    fl = region_flows(*plans, cmp.moves[1])
    assert 0 < len(arrows) <= 24
    assert "books change range" in flows.get_title()
    numbers = {t.get_text() for t in flows.texts}
    k = len(fl.names)
    off = fl.counts * (1 - np.eye(k, dtype=int))
    assert str(int(off.max())) in numbers                  # the largest flow, labelled
    # the ranges are drawn, with their ids, on every plan
    for ax in axes:
        assert {"A-1", "B-3"} <= {t.get_text() for t in ax.texts}
    assert overlapping_texts(fig) == []


def test_few_moves_are_one_arrow_each(tmp_path):
    a = baseline("callnumber", SAMPLE_LOANS, SAMPLE_HALL)
    b = baseline("callnumber", SAMPLE_LOANS, SAMPLE_HALL)
    pos = b.positions.copy()
    pos[[0, 1]] = pos[[1, 0]]                               # two books swap places
    b.positions = pos
    paths = [tmp_path / "a.json", tmp_path / "b.json"]
    write_layout(a, paths[0])
    write_layout(b, paths[1])
    cmp, fig = _figure(paths, tmp_path)
    plans = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(plans) == 2                                  # no flows panel
    assert "the 2 books that move" in plans[0].get_title()
    assert len(plans[0].collections) >= 3                   # the quiver is drawn


def test_free_floor_flows_between_grid_cells(tmp_path):
    paths = [tmp_path / "c.json", tmp_path / "p.json"]
    write_layout(baseline("callnumber", SAMPLE_LOANS, SAMPLE_HALL), paths[0])
    write_layout(baseline("popularity", SAMPLE_LOANS, SAMPLE_HALL), paths[1])
    cmp, fig = _figure(paths, tmp_path)
    fl = region_flows(cmp.evaluations[0].layout, cmp.evaluations[1].layout, cmp.moves[1])
    assert fl.kind == "zone" and fl.counts.sum() == 297 and len(fl.names) <= 9
    flows = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"][2]
    assert "books change zone" in flows.get_title()
    # the plans are zoomed on the books by the door, not the whole 14 m hall
    assert flows.get_xlim()[1] - flows.get_xlim()[0] < 7
    assert overlapping_texts(fig) == []


def test_compare_and_report_cli_on_stacks(plans, tmp_path):
    paths = []
    for name, lay in zip(("today", "popular"), plans):
        paths.append(tmp_path / f"{name}.json")
        write_layout(lay, paths[-1])
    png = tmp_path / "c.png"
    r = CliRunner().invoke(main, ["compare", *map(str, paths), "--loans", str(SAMPLE_LOANS),
                                  "-o", str(png), "-q"])
    assert r.exit_code == 0, r.output
    md = tmp_path / "r.md"
    r = CliRunner().invoke(main, ["report", *map(str, paths), "--loans", str(SAMPLE_LOANS),
                                  "-o", str(md), "-q"])
    assert r.exit_code == 0, r.output
    text = md.read_text(encoding="utf-8")
    assert "## Moves between ranges:" in text and "to (range) |" in text
    html = tmp_path / "r.html"
    r = CliRunner().invoke(main, ["report", *map(str, paths), "--loans", str(SAMPLE_LOANS),
                                  "-o", str(html), "-q"])
    assert r.exit_code == 0 and "Moves between ranges" in html.read_text(encoding="utf-8")
