"""Aggregation levels (``--level item|title|category``): titles from a title column,
categories summed into blocks whose discs grow with their books (shelfplan.solve.blocks),
and the block solver, baselines, evaluation and rendering at that level."""

from __future__ import annotations

import json
import math

import time

import numpy as np
import pytest
import scipy.sparse as sp
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon

from conftest import FIXTURES, SAMPLE_HALL, SAMPLE_LOANS, read_text_loans
from shelfplan.model import discs
from shelfplan.solve import blocks
from shelfplan.api import baseline, fit, load_problem
from shelfplan.solve.options import FitOptions
from shelfplan.cli import main
from shelfplan.errors import HallError, LayoutError, LoansError
from shelfplan.model.estimate import Estimates, estimate
from shelfplan.judge.evaluate import evaluate
from shelfplan.model.hall import hall_from_dict, load_hall
from shelfplan.layout import read_layout, write_layout
from shelfplan.ingest.loans import read_loans
from shelfplan.model.objective import walking_cost
from shelfplan.model.problem import Problem

TITLES = FIXTURES / "exports" / "koha_issues_titles.csv"
CAT = {"level": "category", "category_from": "callnumber"}


def independent_block_check(X, radius, hall_dict) -> bool:
    """Feasibility of blocks without shelfplan.solve.blocks: all pairs by brute force and
    each disc's distance to the walls with shapely."""
    X = np.asarray(X, dtype=float)
    n = len(X)
    for i in range(n):
        for j in range(i + 1, n):
            if np.linalg.norm(X[i] - X[j]) < (radius[i] + radius[j]) * (1 - 1e-3):
                return False
    floor = Polygon(hall_dict["footprint"], hall_dict.get("obstacles", []))
    d = hall_dict["d_min"]
    lo, hi = hall_dict["z_range"]
    for i in range(n):
        pt = Point(X[i, 0], X[i, 1])
        if not floor.covers(pt) or not lo - 1e-9 <= X[i, 2] <= hi + 1e-9:
            return False
        if floor.exterior.distance(pt) < radius[i] - d / 2 - 1e-3 * d:
            return False
        if any(Polygon(o).exterior.distance(pt) < radius[i] - d / 2 - 1e-3 * d
               for o in hall_dict.get("obstacles", [])):
            return False
    return True


# --- titles ---------------------------------------------------------------------------


def test_title_level_places_titles(caplog):
    caplog.set_level("INFO", logger="shelfplan.ingest.loans")
    loans = read_loans(TITLES, level="title")
    assert loans.level == "title"
    assert loans.columns["title"] == "biblionumber"   # the id beats the 'title' text
    assert "4 copies in 3 titles" in caplog.text
    est = estimate(loans)
    # visits: 101 on the 14th {900, 901} (two copies of 900 count once), 102 on the
    # 14th {901, 902}, 101 on the 15th {900}
    assert list(est.items) == ["900", "901", "902"]
    np.testing.assert_allclose(est.p, [2 / 5, 2 / 5, 1 / 5])
    assert est.cooc.toarray().tolist() == [[0, 1, 0], [1, 0, 1], [0, 1, 0]]
    assert est.summary["level"] == "title"


def test_title_col_option_and_errors(tmp_path):
    loans = read_loans(TITLES, level="title", title_col="title")
    assert sorted(set(loans.table["item"])) == ["Calculus", "Databases", "Learning Python"]
    with pytest.raises(LoansError, match="`level` title needs a title column.*`title_col`"):
        read_loans(FIXTURES / "exports" / "koha_issues.csv", level="title")
    with pytest.raises(LoansError, match="`title_col` is used only with `level` title"):
        read_loans(TITLES, title_col="biblionumber")
    with pytest.raises(LoansError, match="`level` must be one of"):
        read_loans(TITLES, level="shelf")


def test_item_level_ignores_title_columns():
    # 'biblionumber' and 'title' both present: not ambiguous unless titles are placed
    loans = read_loans(TITLES)
    assert sorted(set(loans.table["item"])) == ["5001", "5002", "5003", "5004"]


# --- categories: sums of items --------------------------------------------------------

THREE = ("patron_id,item_id,timestamp,category\n"
         "A,a,2024-03-01,X\nA,b,2024-03-01,X\nA,c,2024-03-01,Y\n"
         "B,a,2024-03-01,X\nB,c,2024-03-01,Y\n"
         "C,b,2024-03-01,X\n")


def test_category_estimates_are_sums_of_items():
    est = estimate(read_text_loans(THREE, level="category"))
    # items: n = 2, 2, 2 so p = 1/3 each; c_ab = 1, c_ac = 2, c_bc = 1
    # p(a,c) = 1/3 * 2/3, p(b,c) = 1/3 * 1/2, p(c,a) = 1/3 * 2/3, p(c,b) = 1/3 * 1/3
    assert list(est.items) == ["X", "Y"]
    assert est.sizes.tolist() == [2, 1]
    np.testing.assert_allclose(est.p, [2 / 3, 1 / 3])
    np.testing.assert_allclose(est.pair.toarray(), [[0, 2 / 9 + 1 / 6], [2 / 9 + 1 / 9, 0]])
    assert est.cooc.toarray().tolist() == [[0, 3], [3, 0]]
    assert est.counts.tolist() == [4, 2]
    assert est.summary["items_in_units"] == 3


def test_items_without_a_category_form_one_block():
    text = THREE + "D,d,2024-03-02,\nD,a,2024-03-02,X\n"
    est = estimate(read_text_loans(text, level="category"))
    assert list(est.items) == ["(no category)", "X", "Y"]
    assert est.sizes.tolist() == [1, 2, 1]
    assert est.p.sum() == pytest.approx(1.0)


def test_category_level_needs_categories():
    with pytest.raises(LoansError, match="`level` category needs a category column"):
        read_text_loans("patron_id,item_id\nA,1\nA,2\n", level="category")


# --- block geometry ---------------------------------------------------------------------


def test_block_radius_by_hand():
    hall = load_hall(SAMPLE_HALL)     # d_min 0.3, z 0.3 to 1.8: 7 layers 0.245 m apart
    assert discs.layers(hall) == 7
    sigma = 7 / (0.3 ** 2 * math.sqrt(3) / 2)                 # 89.8 books per m^2
    assert discs.books_per_m2(hall) == pytest.approx(sigma)
    r = discs.block_radius([1, 10, 100], hall)
    assert r[0] == pytest.approx(0.15)                        # one book: d_min / 2
    assert r[1] == pytest.approx(math.sqrt(10 / (math.pi * sigma)))   # 0.188 m
    assert r[2] == pytest.approx(math.sqrt(100 / (math.pi * sigma)))
    assert r[2] == pytest.approx(0.5954, abs=1e-4)


def test_block_radius_ten_books():
    hall = load_hall(SAMPLE_HALL)
    sigma = discs.books_per_m2(hall)
    expect = max(0.15, math.sqrt(10 / (math.pi * sigma)))
    assert discs.block_radius([10], hall)[0] == pytest.approx(expect)
    assert expect == pytest.approx(0.1883, abs=1e-4)


def test_block_feasibility_by_hand():
    hall_d = json.loads(SAMPLE_HALL.read_text())
    hall = hall_from_dict(hall_d)
    r = np.array([0.5, 0.5])
    z = discs.block_z(hall)
    apart = np.array([[3.0, 3.0, z], [4.0, 3.0, z]])
    assert discs.is_feasible(apart, r, hall)
    close = np.array([[3.0, 3.0, z], [3.98, 3.0, z]])
    out = discs.check(close, r, hall)
    assert not out["feasible"] and out["blocks_overlapping"] == 1
    # a disc of radius 0.5 needs its centre 0.35 m from a wall (half a book may overhang)
    near_wall = np.array([[3.0, 0.36, z], [6.0, 3.0, z]])
    assert discs.is_feasible(near_wall, r, hall)
    too_near = np.array([[3.0, 0.30, z], [6.0, 3.0, z]])
    assert discs.check(too_near, r, hall)["outside_hall"] == 1
    for X in (apart, close, near_wall, too_near):
        assert discs.is_feasible(X, r, hall) == independent_block_check(X, r, hall_d)


def _block_problem(n, seed, hall=None, sizes=None):
    rng = np.random.default_rng(seed)
    hall = hall or load_hall(SAMPLE_HALL)
    p = rng.random(n) + 0.05
    p /= p.sum()
    C = sp.random(n, n, density=0.4, random_state=seed, format="csr")
    C = sp.triu(C + C.T, k=1)
    C = (C + C.T).tocsr()
    rows = np.asarray(C.sum(axis=1)).ravel()
    pair = sp.diags(np.divide(p, rows, out=np.zeros(n), where=rows > 0)) @ C
    sizes = rng.integers(1, 60, n) if sizes is None else np.asarray(sizes)
    est = Estimates(items=np.array([f"C{i:02d}" for i in range(n)], dtype=object),
                    categories=None, counts=np.ones(n, dtype=np.int64), p=p, cooc=C,
                    pair=sp.csr_matrix(pair), sizes=sizes)
    return Problem.from_estimates(est, hall)


def test_penalised_gradient_matches_finite_differences():
    pr = _block_problem(8, seed=3)
    geo = blocks.Discs(pr)
    rng = np.random.default_rng(0)
    # crowded near the entrance and one block through a wall: every term is active
    x = np.column_stack([7 + rng.normal(0, 0.4, 8), 0.6 + np.abs(rng.normal(0, 0.4, 8))])
    x[0] = [7.0, -0.1]
    f = geo._penalised(100.0, 0.01)
    val, g = f(x.ravel())
    assert val > 0
    num = np.zeros_like(g)
    h = 1e-6
    for k in range(len(g)):
        e = np.zeros_like(g)
        e[k] = h
        num[k] = (f(x.ravel() + e)[0] - f(x.ravel() - e)[0]) / (2 * h)
    np.testing.assert_allclose(g, num, rtol=1e-4, atol=1e-4 * np.abs(num).max())


def test_swap_gains_are_exact():
    pr = _block_problem(12, seed=5)
    geo = blocks.Discs(pr)
    X = geo.greedy(np.arange(12))
    a, b = np.triu_indices(12, k=1)
    gains = geo.swap_gains(X, a, b)
    S = walking_cost(X, pr)["total"]
    for i, j, g in zip(a, b, gains):
        Y = X.copy()
        Y[[i, j]] = Y[[j, i]]
        assert g == pytest.approx(S - walking_cost(Y, pr)["total"], abs=1e-12)


def test_block_swaps_lower_S_and_stay_feasible():
    import time

    pr = _block_problem(20, seed=2, sizes=np.full(20, 10))   # equal blocks: any swap fits
    geo = blocks.Discs(pr)
    X = geo.greedy(np.random.default_rng(0).permutation(20), mode="entrance")
    Y, m = geo.swaps(X, time.monotonic() + 60)
    assert m > 0
    assert walking_cost(Y, pr)["total"] < walking_cost(X, pr)["total"]
    assert independent_block_check(Y, pr.radius, pr.hall.to_dict())
    # no improving feasible swap is left among the candidates
    Z, m2 = geo.swaps(Y, time.monotonic() + 60)
    assert m2 == 0 and np.array_equal(Y, Z)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(2, 12), seed=st.integers(0, 10_000))
def test_greedy_and_repair_give_feasible_blocks(n, seed):
    pr = _block_problem(n, seed)
    geo = blocks.Discs(pr)
    hall_d = pr.hall.to_dict()
    order = np.random.default_rng(seed).permutation(n)
    for mode in ("cost", "entrance"):
        X = geo.greedy(order, mode=mode)
        assert X is not None
        assert independent_block_check(X, pr.radius, hall_d)
    # repair turns a crowded layout into a feasible one, or says it could not
    rng = np.random.default_rng(seed)
    crowded = geo.positions(np.column_stack([7 + rng.normal(0, 0.3, n),
                                             1.0 + rng.normal(0, 0.3, n)]))
    fixed = geo.repair(crowded, rounds=5)      # few push rounds: the re-seating finishes
    assert fixed is not None
    assert independent_block_check(fixed, pr.radius, hall_d)


def test_block_solver_is_feasible_deterministic_and_beats_its_starts():
    pr = _block_problem(15, seed=1)
    a = blocks.solve_blocks(pr, FitOptions(seed=4, kicks=3), time.monotonic() + 60)
    b = blocks.solve_blocks(pr, FitOptions(seed=4, kicks=3), time.monotonic() + 60)
    assert a.info["engine"]["ended"] == "converged"
    np.testing.assert_array_equal(a.positions, b.positions)
    assert independent_block_check(a.positions, pr.radius, pr.hall.to_dict())
    starts = [h["objective"] for h in a.info["history"]
              if h["candidate"].startswith("greedy") and "improved" not in h["candidate"]
              and h["objective"] is not None]
    assert a.cost["total"] <= min(starts) + 1e-12
    for name in ("random", "popularity", "callnumber"):
        Xb = blocks.baseline_blocks(name, pr, seed=0)
        assert independent_block_check(Xb, pr.radius, pr.hall.to_dict())
        assert a.cost["total"] < walking_cost(Xb, pr)["total"]


def test_blocks_that_do_not_fit_are_a_clear_error():
    small = load_hall(FIXTURES / "small_hall.json")    # 4 x 3 m
    pr = _block_problem(3, seed=0, hall=small, sizes=[5000, 10, 10])
    with pytest.raises(HallError, match="cannot hold the category blocks.*--category-level"):
        blocks.solve_blocks(pr, FitOptions(kicks=0), time.monotonic() + 60)


# --- end to end: the sample at category level -------------------------------------------


@pytest.fixture(scope="module")
def category_fit():
    return fit(SAMPLE_LOANS, SAMPLE_HALL, read_options={**CAT, "category_level": 2},
               kicks=5, time_limit=60, converge=True)


def test_category_fit_on_the_sample(category_fit):
    lay = category_fit
    assert lay.level == "category"
    assert lay.n == 39 and int(lay.sizes.sum()) == 297
    assert independent_block_check(lay.positions, lay.radius, lay.hall.to_dict())
    est, pr = load_problem(SAMPLE_LOANS, SAMPLE_HALL,
                           read_options={**CAT, "category_level": 2})
    assert lay.objective["total"] == pytest.approx(walking_cost(lay.positions, pr)["total"])
    for name in ("random", "popularity", "callnumber"):
        b = baseline(name, SAMPLE_LOANS, SAMPLE_HALL, read_options={**CAT, "category_level": 2})
        assert b.level == "category"
        assert lay.objective["total"] < b.objective["total"]
    # the item-level bound still holds for blocks (they are at least d_min apart)
    assert lay.lower_bound["total"] <= lay.objective["total"]


def test_category_layout_round_trip_and_evaluate(category_fit, tmp_path):
    path = tmp_path / "cat.json"
    write_layout(category_fit, path)
    back = read_layout(path)
    np.testing.assert_allclose(back.radius, category_fit.radius, atol=1e-6)
    assert back.sizes.tolist() == category_fit.sizes.tolist()
    # evaluate reads the loans at the layout's level and with its categories
    ev = evaluate(path, SAMPLE_LOANS)
    assert ev.cost["total"] == pytest.approx(category_fit.objective["total"], rel=1e-5)
    assert ev.feasibility["feasible"]
    assert ev.coverage["items_missing"] == 0
    with pytest.raises(LayoutError, match="places 'category' units but `level` item"):
        evaluate(path, SAMPLE_LOANS, read_options={"level": "item"})


def test_category_cli_fit_evaluate_compare_render(tmp_path):
    runner = CliRunner()
    out, pop, png = tmp_path / "c.json", tmp_path / "p.json", tmp_path / "c.png"
    opts = ["--hall", str(SAMPLE_HALL), "--level", "category", "--category-from", "callnumber"]
    r = runner.invoke(main, ["fit", str(SAMPLE_LOANS), *opts, "-o", str(out), "--kicks", "2",
                             "-q"])
    assert r.exit_code == 0, r.output
    assert "category blocks 10 (297 books)" in r.output
    r = runner.invoke(main, ["baseline", "popularity", str(SAMPLE_LOANS), *opts, "-o", str(pop),
                             "-q"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, ["evaluate", str(out), str(SAMPLE_LOANS), "--json"])
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert got["cost"]["total"] == pytest.approx(read_layout(out).objective["total"], rel=1e-5)
    r = runner.invoke(main, ["compare", str(pop), str(out), "--loans", str(SAMPLE_LOANS)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(main, ["render", str(out), "-o", str(png), "--edges", "5", "--loans",
                             str(SAMPLE_LOANS)])
    assert r.exit_code == 0, r.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "10 category blocks, 297 books" in r.output


def test_category_cli_errors(tmp_path):
    runner = CliRunner()
    out = tmp_path / "x.json"
    tiny = tmp_path / "t.csv"
    tiny.write_text("patron_id,item_id\nA,1\nA,2\n")
    r = runner.invoke(main, ["fit", str(tiny), "--level", "category", "-o", str(out)])
    assert r.exit_code != 0 and not out.exists()
    assert "--level category needs a category column" in r.output
    assert "Traceback" not in r.output
    r = runner.invoke(main, ["fit", str(SAMPLE_LOANS), "--level", "category", "--category-from",
                             "callnumber", "--current", str(out), "-o", str(out)])
    assert r.exit_code != 0 and not out.exists()


def test_current_layout_must_match_the_level(tmp_path):
    cur = tmp_path / "items.json"
    write_layout(baseline("callnumber", TITLES), cur)
    with pytest.raises(LayoutError, match="places 'item' units but the loans are read at "
                                          "`level` title"):
        fit(TITLES, current=cur, read_options={"level": "title"}, max_moves=1)


def test_title_cli_fit(tmp_path):
    out = tmp_path / "t.json"
    r = CliRunner().invoke(main, ["fit", str(TITLES), "--level", "title", "-o", str(out),
                                  "--kicks", "2"])
    assert r.exit_code == 0, r.output
    assert "titles 3" in r.output
    lay = read_layout(out)
    assert sorted(lay.items) == ["900", "901", "902"] and lay.level == "title"
    assert lay.radius is None


def test_block_layout_drawn_to_scale(category_fit, tmp_path):
    from matplotlib.collections import PatchCollection

    from shelfplan.present import render as R

    art = R.plot_top(category_fit)
    discs = art["points"]
    assert isinstance(discs, PatchCollection) and len(discs.get_paths()) == category_fit.n
    assert "category blocks" in R.plan_title(category_fit)
    fig = R.plotly_figure(category_fit, view="both")
    meshes = [t for t in fig.data if t.type == "mesh3d" and t.hoverinfo == "skip"]
    assert meshes, "blocks should be cylinders in the 3D view"
    circles = [s for s in fig.layout.shapes if s.type == "circle"]
    assert len(circles) == category_fit.n
    # the circles have the blocks' radii
    r = sorted(round((c.x1 - c.x0) / 2, 6) for c in circles)
    np.testing.assert_allclose(r, np.sort(category_fit.radius), atol=1e-6)


# --- review fixes: room, time, levels of current layouts, category sources -------------


def test_one_large_block_in_a_small_hall(tmp_path):
    # the widest point of the floor is a candidate: a single 297-book block fits a
    # 2 x 2 m room although no grid point is far enough from the walls
    hall = {"name": "2 m room", "footprint": [[0, 0], [2, 0], [2, 2], [0, 2]],
            "z_range": [0.3, 1.8], "entrance": [1, 0, 1.2], "d_min": 0.3}
    (tmp_path / "h.json").write_text(json.dumps(hall))
    text = "patron_id,item_id,timestamp,category\n" + "".join(
        f"P{k % 40},B{k},2024-03-{1 + k % 20:02d},X\n" for k in range(297))
    (tmp_path / "one.csv").write_text(text)
    lay = fit(tmp_path / "one.csv", tmp_path / "h.json", read_options={"level": "category"})
    assert lay.n == 1 and lay.sizes.tolist() == [297]
    assert independent_block_check(lay.positions, lay.radius, hall)


def test_too_narrow_hall_names_the_width(tmp_path):
    hall = hall_from_dict({"name": "corridor", "footprint": [[0, 0], [40, 0], [40, 1.2],
                                                             [0, 1.2]],
                           "z_range": [0.3, 1.8], "entrance": [0, 0.6, 1.2], "d_min": 0.3})
    pr = _block_problem(2, seed=0, hall=hall, sizes=[297, 3])
    with pytest.raises(HallError, match="too narrow for the largest category block"):
        blocks.Discs(pr)


def test_greedy_stops_at_its_deadline():
    geo = blocks.Discs(_block_problem(40, seed=0, sizes=np.ones(40, dtype=int)))
    assert geo.greedy(np.arange(40), deadline=0.0) is None
    assert geo.failure == "time limit"


def test_call_numbers_alone_are_grouped_into_classes_at_category_level(tmp_path, caplog):
    caplog.set_level("INFO", logger="shelfplan.ingest.loans")
    f = tmp_path / "cn.csv"
    f.write_text("patron_id,item_id,timestamp,call_number\n"
                 "A,1,2024-03-01,510.2 BAR\nA,2,2024-03-01,512.7 KNU\nB,3,2024-03-01,005.1 LUT\n")
    loans = read_loans(f, level="category")
    assert set(loans.table["category"]) == {"500", "000"}
    assert "grouping the call numbers in 'call_number' into classes" in caplog.text
    assert loans.category_source["category_from"] == "callnumber"
    # asked for explicitly, each call number is its own category
    raw = read_loans(f, level="category", category_from="column")
    assert raw.table["category"].nunique() == 3


def test_fit_with_current_takes_the_level_of_loans_objects_and_current_layouts(tmp_path):
    cur = tmp_path / "titles.json"
    write_layout(baseline("callnumber", TITLES, read_options={"level": "title"}), cur)
    # no --level given: the loans are read at the current layout's level (titles)
    lay = fit(TITLES, current=cur, max_moves=1, kicks=2)
    assert lay.level == "title"
    with pytest.raises(LayoutError, match="places 'title' units but the loans are read "
                                          "at `level` category"):
        fit(read_loans(SAMPLE_LOANS, level="category", category_from="callnumber"),
            current=cur)
    with pytest.raises(LayoutError, match="places 'title' units but the loans are read "
                                          "at `level` item"):
        fit(read_loans(TITLES), current=cur)


def test_category_layouts_from_different_sources_do_not_compare(tmp_path):
    from shelfplan.judge.compare import compare

    a, b = tmp_path / "col.json", tmp_path / "cn.json"
    write_layout(baseline("popularity", SAMPLE_LOANS, SAMPLE_HALL,
                          read_options={"level": "category"}), a)
    write_layout(baseline("popularity", SAMPLE_LOANS, SAMPLE_HALL, read_options=CAT), b)
    with pytest.raises(LayoutError, match="categories were made differently"):
        compare([a, b], SAMPLE_LOANS)


def test_named_columns_are_remembered_for_evaluation(tmp_path):
    f = tmp_path / "two.csv"
    f.write_text("patron_id,item_id,timestamp,category,shelf,work\n"
                 "A,1,2024-03-01,X,S1,W1\nA,2,2024-03-01,X,S2,W1\nB,3,2024-03-01,Y,S1,W2\n"
                 "B,1,2024-03-01,X,S1,W1\n")
    shelf = tmp_path / "shelf.json"
    write_layout(fit(f, read_options={"level": "category", "category_col": "shelf"},
                     kicks=1), shelf)
    assert read_layout(shelf).estimation["category_source"]["category_col"] == "shelf"
    ev = evaluate(shelf, f)
    assert sorted(ev.items) == ["S1", "S2"]
    work = tmp_path / "work.json"
    write_layout(fit(f, read_options={"level": "title", "title_col": "work"}, kicks=1), work)
    ev = evaluate(work, f)
    assert sorted(ev.items) == ["W1", "W2"]


# --- incremental proposals with category blocks ------------------------------------------

DIV = {**CAT, "category_level": 2}


@pytest.fixture(scope="module")
def block_current(tmp_path_factory):
    path = tmp_path_factory.mktemp("cur") / "current.json"
    write_layout(baseline("callnumber", SAMPLE_LOANS, SAMPLE_HALL, read_options=DIV), path)
    return path


def test_block_proposals_respect_the_move_budget(block_current):
    cur = read_layout(block_current)
    for k in (0, 1, 4):
        lay = fit(SAMPLE_LOANS, current=block_current, max_moves=k, time_limit=60, converge=True)
        assert lay.level == "category" and lay.n == cur.n
        assert lay.solver["moved"] <= k
        assert independent_block_check(lay.positions, lay.radius, lay.hall.to_dict())
        # (the file rounds positions to 1e-6 m)
        assert lay.objective["total"] <= cur.objective["total"] + 1e-5
        if k == 0:
            np.testing.assert_allclose(lay.positions, cur.positions, atol=1e-6)
    assert lay.objective["total"] < cur.objective["total"]      # 4 moves gain something


def test_block_proposal_with_a_move_cost_and_the_cli(block_current, tmp_path):
    out = tmp_path / "p.json"
    r = CliRunner().invoke(main, ["fit", str(SAMPLE_LOANS), "--current", str(block_current),
                                  "--max-moves", "2", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "category blocks" in r.output and "moved" in r.output
    lay = read_layout(out)
    assert lay.solver["moved"] <= 2 and lay.level == "category"


def test_block_current_layout_that_no_longer_fits_is_a_clear_error(block_current, tmp_path):
    cur = read_layout(block_current)
    # squeeze two blocks onto each other: not feasible at today's sizes
    cur.positions[1] = cur.positions[0] + np.array([0.01, 0.0, 0.0])
    path = tmp_path / "bad.json"
    write_layout(cur, path)
    with pytest.raises(LayoutError, match="overlap or stand too near a wall"):
        fit(SAMPLE_LOANS, current=path, max_moves=3)


def test_block_proposals_keep_the_current_categories(block_current, tmp_path):
    # other category options than the current layout's: a clear error, not a mix
    with pytest.raises(LayoutError, match="`category_level` 3 differs from the layout's"):
        fit(SAMPLE_LOANS, current=block_current, max_moves=2,
            read_options={"category_level": 3})
    # few loans (one week) do not shrink today's blocks below the books they hold
    cur = read_layout(block_current)
    lay = fit(SAMPLE_LOANS, current=block_current, max_moves=3, until="2024-01-08")
    at = cur.index()
    rows = [at[str(i)] for i in lay.items]
    assert (lay.sizes >= cur.sizes[rows]).all()
    assert independent_block_check(lay.positions, cur.radius[rows], cur.hall.to_dict())


@pytest.mark.slow
def test_a_budget_for_every_block_is_as_good_as_none(block_current):
    n = read_layout(block_current).n
    free = fit(SAMPLE_LOANS, current=block_current, time_limit=60, converge=True)
    capped = fit(SAMPLE_LOANS, current=block_current, max_moves=n, time_limit=60, converge=True)
    assert capped.objective["total"] == pytest.approx(free.objective["total"], rel=1e-9)


@pytest.mark.parametrize("books", [-5, 0, 1e30, "many"])
def test_bad_block_sizes_in_a_layout_file_are_refused(block_current, tmp_path, books):
    data = json.loads(block_current.read_text())
    data["items"][0]["books"] = books
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(LayoutError, match="books"):
        read_layout(path)
