"""Shelving plans (MODEL.md section 8.4-8.6): the table search, fit, baselines, the file."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import scipy.sparse as sp
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

import shelfplan
from shelfplan.cli import main
from shelfplan.errors import HallError, LayoutError
from shelfplan.solve.shelf_search import TableSearch, greedy_fill, fill_by_entrance

from conftest import DATA, SAMPLE_LOANS

STACKED = DATA / "stacked_hall.json"


def random_table_problem(n, m, seed, cap=3):
    """Symmetric distances with zero diagonal (points on a line with detours), weights."""
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, 10, (m + 1, 2))
    D = np.abs(pts[:, None, :] - pts[None, :, :]).sum(axis=2)     # Manhattan: a metric
    p = rng.dirichlet(np.ones(n))
    A = sp.random(n, n, density=0.3, random_state=seed, data_rvs=lambda k: rng.uniform(0, 0.05, k))
    W = sp.triu(A + A.T, k=1)
    W = (W + W.T).tocsr()
    return D, p, W, np.full(m, cap, dtype=np.int64)


def brute_cost(loc, D, p, W):
    """MODEL.md 8.4 by a double loop: sum_i p_i g(e, i) + sum_{i<j} W_ij g(i, j)."""
    W = W.toarray()
    n = len(loc)
    s = sum(p[i] * D[0, loc[i] + 1] for i in range(n))
    for i in range(n):
        for j in range(i + 1, n):
            s += W[i, j] * D[loc[i] + 1, loc[j] + 1]
    return s


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 14), m=st.integers(2, 8), seed=st.integers(0, 10_000))
def test_search_tracks_the_exact_cost_and_keeps_capacities(n, m, seed):
    cap = int(np.ceil(n / m)) + 1
    D, p, W, capacity = random_table_problem(n, m, seed, cap)
    start = fill_by_entrance(np.arange(n), D, capacity, n)
    s = TableSearch(start, D, p, W, capacity, seed=seed)
    before = brute_cost(start, D, p, W)
    s.descend(np.arange(n), deadline=float("inf"))
    assert s.S == pytest.approx(brute_cost(s.loc, D, p, W), rel=1e-9, abs=1e-12)
    assert s.S <= before + 1e-12
    assert (np.bincount(s.loc, minlength=m) <= capacity).all()
    # members and where describe the same assignment
    for c in range(m):
        assert sorted(s.members[c, :s.load[c]]) == sorted(np.nonzero(s.loc == c)[0])


def test_kicks_never_lose_the_best():
    D, p, W, capacity = random_table_problem(20, 6, 3, cap=4)
    s = TableSearch(fill_by_entrance(np.arange(20), D, capacity, 20), D, p, W, capacity, seed=1)
    s.run(deadline=float("inf"), max_kicks=60)
    assert s.best_S == pytest.approx(brute_cost(s.best_loc, D, p, W), rel=1e-9)
    assert s.kicks == 60


def test_a_small_quadratic_assignment_reaches_the_brute_force_optimum():
    # QAP: p = 0, one book per place; 7! = 5,040 assignments checked by brute force
    D, _, W, _ = random_table_problem(7, 7, 11)
    p = np.zeros(7)
    best = min(brute_cost(np.array(perm), D, p, W) for perm in itertools.permutations(range(7)))
    s = TableSearch(np.arange(7), D, p, W, np.ones(7, dtype=np.int64), active=np.arange(7), seed=0)
    s.run(deadline=float("inf"), max_kicks=400, patience=400)
    assert s.best_S == pytest.approx(best, rel=1e-12)


def test_greedy_fill_respects_capacity_and_seats_partners_together():
    D = np.array([[0, 1, 5, 9], [1, 0, 4, 8], [5, 4, 0, 4], [9, 8, 4, 0]], dtype=float)
    p = np.array([0.5, 0.3, 0.2])
    W = sp.csr_matrix(np.array([[0, 0, 0], [0, 0, 1.0], [0, 1.0, 0]]))
    loc = greedy_fill(np.array([0, 1, 2]), D, np.array([1, 2, 1]), p, W, 3)
    # book 0 takes the place by the entrance; 1 and 2 share the next place
    assert loc.tolist() == [0, 1, 1]


@pytest.fixture(scope="module")
def plans(tmp_path_factory):
    out = tmp_path_factory.mktemp("plans")
    runner = CliRunner()
    files = {}
    for name, args in {"fit": ["fit", str(SAMPLE_LOANS), "--hall", str(STACKED),
                               "--time-limit", "8"],
                       "callnumber": ["baseline", "callnumber", str(SAMPLE_LOANS),
                                      "--hall", str(STACKED)],
                       "popularity": ["baseline", "popularity", str(SAMPLE_LOANS),
                                      "--hall", str(STACKED)]}.items():
        path = out / f"{name}.json"
        r = runner.invoke(main, [*args, "-o", str(path), "-q"])
        assert r.exit_code == 0, r.output
        files[name] = json.loads(path.read_text(encoding="utf-8"))
    return files


def test_every_book_has_its_own_existing_slot(plans):
    hall = json.loads(STACKED.read_text(encoding="utf-8"))
    for data in plans.values():
        recs = data["items"]
        assert len(recs) == 297 and len({r["id"] for r in recs}) == 297
        where = {(r["range"], r["face"], r["section"], r["shelf"], r["slot"]) for r in recs}
        assert len(where) == len(recs)                           # no slot holds two books
        for r in recs:
            assert 1 <= r["shelf"] <= 7 and 1 <= r["slot"] <= 40 and r["section"] >= 1
            assert r["face"] in ("left", "right")
        assert data["hall"]["stacks"] == hall["stacks"]


def test_fit_beats_todays_shelving_and_popularity_slotting(plans):
    S = {k: v["objective"]["total"] for k, v in plans.items()}
    assert S["fit"] < S["popularity"] < S["callnumber"]
    assert plans["fit"]["lower_bound"]["total"] <= S["fit"]


def test_reported_cost_is_the_cost_of_the_plan(plans):
    hall = shelfplan.load_hall(STACKED)
    st_ = hall.stacks
    ids = st_.range_ids()
    index = {(str(ids[st_.loc_range[k]]), ("left", "right")[st_.loc_face[k]],
              int(st_.loc_section[k])): k for k in range(st_.n_locations)}
    D = st_.distances()
    loans = shelfplan.read_loans(SAMPLE_LOANS)
    from shelfplan.model.estimate import estimate
    est = estimate(loans)
    for data in plans.values():
        where = {r["id"]: index[(r["range"], r["face"], r["section"])] + 1
                 for r in data["items"]}
        k = np.array([where[i] for i in est.items])
        P = est.pair.tocoo()
        S = float(est.p @ D[0, k]) + float(P.data @ D[k[P.row], k[P.col]])
        assert data["objective"]["total"] == pytest.approx(S, rel=1e-12)


def test_books_of_a_location_stand_in_call_number_order(plans):
    recs = plans["callnumber"]["items"]
    per = {r.id: r.books_per_shelf for r in shelfplan.load_hall(STACKED).stacks.ranges}
    by_loc = {}
    for r in recs:
        by_loc.setdefault((r["range"], r["face"], r["section"]), []).append(r)
    for books in by_loc.values():
        books.sort(key=lambda r: (r["shelf"], r["slot"]))
        calls = [float(r["call_number"]) for r in books]
        assert calls == sorted(calls)
        b = per[books[0]["range"]]
        assert [(r["shelf"], r["slot"]) for r in books] == [
            (1 + k // b, 1 + k % b) for k in range(len(books))]


def test_a_plan_round_trips_and_bad_slots_are_refused(plans, tmp_path):
    data = plans["fit"]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    lay = shelfplan.read_layout(path)
    assert lay.shelved and lay.n == 297
    twice = json.loads(json.dumps(data))
    a, b = twice["items"][0], twice["items"][1]
    for f in ("range", "face", "section", "shelf", "slot"):
        b[f] = a[f]
    path.write_text(json.dumps(twice), encoding="utf-8")
    with pytest.raises(LayoutError, match="share shelf .*each slot holds one book"):
        shelfplan.read_layout(path)
    high = json.loads(json.dumps(data))
    high["items"][0]["shelf"] = 7
    path.write_text(json.dumps(high), encoding="utf-8")
    with pytest.raises(LayoutError, match="is on shelf 7"):
        shelfplan.read_layout(path)
    loose = json.loads(json.dumps(data))
    loose["hall"].pop("stacks")
    loose["hall"].update(z_range=[0.3, 1.8], d_min=0.3)
    path.write_text(json.dumps(loose), encoding="utf-8")
    with pytest.raises(LayoutError, match="hall has no stacks"):
        shelfplan.read_layout(path)


def test_more_books_than_slots_says_how_many_are_missing(tmp_path):
    hall = json.loads(STACKED.read_text(encoding="utf-8"))
    for entry in hall["stacks"]:
        entry["shelves"] = 1
        entry["books_per_shelf"] = 2
    small = tmp_path / "small.json"
    small.write_text(json.dumps(hall), encoding="utf-8")
    with pytest.raises(HallError, match=r"297 books but the stacks hold 112 slots; 185 slots "
                                        r"are missing"):
        shelfplan.fit(SAMPLE_LOANS, hall=small, time_limit=2)
    out = tmp_path / "x.json"
    r = CliRunner().invoke(main, ["fit", str(SAMPLE_LOANS), "--hall", str(small), "-o",
                                  str(out)])
    assert r.exit_code == 1 and "185 slots are missing" in r.output and not out.exists()
    assert "Traceback" not in r.output


def test_options_that_do_not_apply_to_a_stacked_hall():
    with pytest.raises(LayoutError, match="`level` category is for halls without stacks"):
        shelfplan.fit(SAMPLE_LOANS, hall=STACKED, read_options={"level": "category",
                                                                 "category_from": "column"})
    with pytest.raises(LayoutError, match="`move_cost` prices free plans"):
        shelfplan.fit(SAMPLE_LOANS, hall=STACKED, current="x.json", max_moves=3,
                      keep_order="blocks", move_cost=1.0)
    with pytest.raises(LayoutError, match="need a hall with stacks"):
        shelfplan.fit(SAMPLE_LOANS, hall=DATA / "hall.json", holdings="h.csv")


def test_table_walks_by_hand():
    from shelfplan.judge.visits import table_visit_walks as table_walks

    # entrance 0, three locations on a line at 1, 2 and 5 m (a walking table)
    x = np.array([0.0, 1.0, 2.0, 5.0])
    D = np.abs(x[:, None] - x[None, :])
    loc = np.array([2, 0, 1])                   # book 0 at 5 m, book 1 at 1 m, book 2 at 2 m
    indptr = np.array([0, 3, 4, 4])
    indices = np.array([0, 1, 2, 0])
    walks = table_walks(loc, D, indptr, indices)
    # visit 0: 0 -> 1 -> 2 -> 5 -> 0 = 10 m; visit 1: 0 -> 5 -> 0; visit 2 is empty
    assert walks.tolist() == [10.0, 10.0, 0.0]


def test_holdings_shelve_every_book_and_the_shelf_list_is_in_shelving_order(tmp_path):
    plan, shelf = tmp_path / "plan.json", tmp_path / "list.csv"
    r = CliRunner().invoke(main, ["baseline", "callnumber", str(SAMPLE_LOANS), "--hall",
                                  str(STACKED), "--holdings", str(DATA / "holdings.csv"),
                                  "-o", str(plan), "--shelf-list", str(shelf), "-q"])
    assert r.exit_code == 0, r.output
    data = json.loads(plan.read_text(encoding="utf-8"))
    holdings = [line.split(",")[0] for line in
                (DATA / "holdings.csv").read_text(encoding="utf-8").splitlines()[1:]]
    assert sorted(r_["id"] for r_ in data["items"]) == sorted(holdings)
    never = [r_ for r_ in data["items"] if r_["p"] == 0]
    assert len(never) == len(holdings) - 297
    rows = [line.split(",") for line in shelf.read_text(encoding="utf-8").splitlines()]
    assert rows[0] == ["item_id", "call_number", "category", "range", "face", "section",
                       "shelf", "slot", "p"]
    assert len(rows) == len(holdings) + 1
    # today's shelving: the shelf list is in call-number order from first to last row
    from shelfplan.ingest.callsort import sort_keys
    keys = sort_keys([r_[1] for r_ in rows[1:]])
    assert (np.diff(keys) >= 0).all()


def test_evaluate_and_compare_walk_in_the_aisles(plans, tmp_path):
    paths = {}
    for name in ("fit", "callnumber"):
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps(plans[name]), encoding="utf-8")
    runner = CliRunner()
    r = runner.invoke(main, ["evaluate", str(paths["fit"]), str(SAMPLE_LOANS), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["cost"]["total"] == pytest.approx(plans["fit"]["objective"]["total"], rel=1e-12)
    assert out["feasibility"]["feasible"]
    r = runner.invoke(main, ["compare", str(paths["callnumber"]), str(paths["fit"]),
                             "--loans", str(SAMPLE_LOANS), "--in-sample"])
    assert r.exit_code == 0, r.output
    assert "walking cost S" in r.output


def test_shelf_list_needs_a_stacked_hall(tmp_path):
    out, shelf = tmp_path / "x.json", tmp_path / "list.csv"
    r = CliRunner().invoke(main, ["baseline", "random", str(SAMPLE_LOANS), "-o", str(out),
                                  "--shelf-list", str(shelf)])
    assert r.exit_code == 2 and "--shelf-list needs a hall with stacks" in r.output
    assert not out.exists() and not shelf.exists()
