"""Incremental proposals: ``fit --current`` with ``--move-cost`` and ``--max-moves``.

Today's shelving is the call-number baseline of the sample data (books in
call-number order along the shelves). Every check of a result is independent
of the solver: moves are counted from the positions, feasibility is checked
with the conftest KD-tree and shapely checker plus ``Hall.contains``, costs
by brute-force loops.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import (SAMPLE_HALL, SAMPLE_LOANS, assert_feasible, brute_force_cost,
                      random_problem)
from shelfplan.api import baseline, fit
from shelfplan.cli import main
from shelfplan.judge.compare import compare
from shelfplan.layout import read_layout, write_layout
from shelfplan.model.objective import move_term
from shelfplan.solve.items import _budgets, _Objective

#: A book counts as moved when its position changes by more than this (metres).
MOVED = 1e-6
#: Solver work for every fit here: few kicks, so the file runs in seconds.
FAST = {"kicks": 10, "time_limit": 20.0, "converge": True}
LOANS, HALL = str(SAMPLE_LOANS), str(SAMPLE_HALL)


# ---------------------------------------------------------------------------
# helpers and shared fits


def aligned(layout, reference):
    """``layout``'s positions in the item order of ``reference`` (same ids required)."""
    where = layout.index()
    assert sorted(where) == sorted(reference.index())
    return layout.positions[[where[str(i)] for i in reference.items]]


def moved_books(layout, current) -> np.ndarray:
    """Boolean per book of ``current``: is it more than 1e-6 m from where it stood?"""
    return np.linalg.norm(aligned(layout, current) - current.positions, axis=1) > MOVED


def check_feasible(layout) -> None:
    assert_feasible(layout.positions, layout.hall.to_dict())
    assert layout.hall.contains(layout.positions).all()


@pytest.fixture(scope="module")
def current_path(tmp_path_factory):
    """The call-number baseline ("how libraries shelve today"), written and read back."""
    path = tmp_path_factory.mktemp("incremental") / "current.json"
    write_layout(baseline("callnumber", LOANS, HALL), path)
    return path


@pytest.fixture(scope="module")
def current(current_path):
    return read_layout(current_path)


@pytest.fixture(scope="module")
def proposals(current_path):
    """``fit --current --max-moves K`` for several K, each fitted once (K=None: all books)."""
    cache = {}

    def get(k):
        if k not in cache:
            n = read_layout(current_path).n
            cache[k] = fit(LOANS, HALL, seed=0, current=str(current_path),
                           max_moves=n if k is None else k, **FAST)
        return cache[k]
    return get


# ---------------------------------------------------------------------------
# --max-moves


def test_max_moves_zero_returns_the_current_layout_exactly(current, proposals):
    lay = proposals(0)
    assert np.array_equal(aligned(lay, current), current.positions)
    assert lay.solver["moved"] == 0
    assert lay.solver["move_distance"] == 0.0
    # the file stores positions to 1e-6 m, its objective was computed before rounding
    assert lay.objective["total"] == pytest.approx(current.objective["total"], rel=1e-6)


@pytest.mark.parametrize("k", [1, 5, 25])
def test_max_moves_is_respected_and_reported(current, proposals, k):
    lay = proposals(k)
    moved = moved_books(lay, current)
    assert moved.sum() <= k
    assert lay.solver["moved"] == int(moved.sum())
    assert lay.solver["max_moves"] == k
    dist = np.linalg.norm(aligned(lay, current) - current.positions, axis=1)
    assert lay.solver["move_distance"] == pytest.approx(dist.sum(), abs=1e-5)
    check_feasible(lay)


def test_a_budget_of_five_or_more_is_used(current, proposals):
    """The sample's call-number order is far from optimal: a few moves must help."""
    for k in (5, 25):
        lay = proposals(k)
        assert 1 <= lay.solver["moved"] <= k
        assert lay.objective["total"] < current.objective["total"] - 1e-3


def test_walking_cost_does_not_grow_with_the_budget(current, proposals):
    ks = [0, 1, 2, 5, 6, 10, 25, 50, 100, None]
    S = [proposals(k).objective["total"] for k in ks]
    assert S[0] == pytest.approx(current.objective["total"], rel=1e-6)
    for (k0, s0), (k1, s1) in zip(zip(ks, S), zip(ks[1:], S[1:])):
        assert s1 <= s0 + 1e-9, f"S grew from {s0:.6f} (K={k0}) to {s1:.6f} (K={k1})"
    for k in ks:
        check_feasible(proposals(k))


def test_walking_cost_matches_brute_force(sample_problem, proposals):
    est, problem = sample_problem
    lay = proposals(25)
    assert list(lay.items) == list(problem.items)
    S = brute_force_cost(lay.positions, problem.p, est.pair.toarray(), problem.hall.entrance)
    assert lay.objective["total"] == pytest.approx(S, rel=1e-10)


def test_books_missing_from_the_current_layout_are_placed_not_counted(tmp_path, current_path):
    """New books (in the loans, not on today's shelves) go on free sites; with
    --max-moves 0 every book that has a place keeps it."""
    data = json.loads(current_path.read_text(encoding="utf-8"))
    dropped = [rec["id"] for rec in data["items"][:3]]
    data["items"] = data["items"][3:]
    path = tmp_path / "current-minus-3.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    cur = read_layout(path)
    lay = fit(LOANS, HALL, seed=0, current=str(path), max_moves=0, **FAST)
    where = lay.index()
    assert set(dropped) <= set(where)
    kept = lay.positions[[where[str(i)] for i in cur.items]]
    assert np.array_equal(kept, cur.positions)
    assert lay.solver["moved"] == 0
    check_feasible(lay)


def test_budgets_grow_to_the_cap():
    assert _budgets(None) == [None]
    assert _budgets(0) == [0]
    assert _budgets(1) == [1]
    for k in (2, 3, 10, 25, 297, 936):
        b = _budgets(k)
        assert b[0] == 1 and b[-1] == k
        assert all(x < y for x, y in zip(b, b[1:]))


# ---------------------------------------------------------------------------
# --move-cost


def central_gradient(f, X, h=1e-6):
    G = np.zeros_like(X)
    for idx in np.ndindex(*X.shape):
        up, down = X.copy(), X.copy()
        up[idx] += h
        down[idx] -= h
        G[idx] = (f(up) - f(down)) / (2 * h)
    return G


def test_move_term_value_and_gradient():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(7, 3))
    anchor = X + rng.normal(scale=0.5, size=X.shape)
    anchor[[1, 4]] = np.nan                          # books without a current position
    anchor[5] = X[5]                                 # a book on its own spot
    lam, eps = 0.7, 1e-2
    val, grad = move_term(X, anchor, lam, eps)
    has = np.isfinite(anchor).all(axis=1)
    by_hand = lam * sum(np.sqrt(((X[i] - anchor[i]) ** 2).sum() + eps ** 2)
                        for i in range(len(X)) if has[i])
    assert val == pytest.approx(by_hand, rel=1e-12)
    num = central_gradient(lambda Y: move_term(Y, anchor, lam, eps)[0], X)
    np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-8)
    assert (grad[~has] == 0).all()
    # exact cost (eps = 0): the plain sum of distances; no term without an anchor or lam
    exact, _ = move_term(X, anchor, lam, 0.0)
    assert exact == pytest.approx(lam * np.linalg.norm((X - anchor)[has], axis=1).sum())
    assert move_term(X, anchor, 0.0, eps)[0] == 0.0
    assert move_term(X, np.full_like(X, np.nan), lam, eps)[0] == 0.0


def test_solver_objective_with_move_cost_has_a_consistent_gradient():
    problem, _, _ = random_problem(9, seed=5)
    hall = problem.hall
    rng = np.random.default_rng(0)
    sites = hall.sites()
    X = sites[rng.choice(len(sites), problem.n, replace=False)]
    X = X + rng.normal(scale=0.05, size=X.shape)    # some pairs closer than d_min
    anchor = sites[rng.choice(len(sites), problem.n, replace=False)]
    anchor[2] = np.nan
    eps = 0.01 * hall.d_min
    obj = _Objective(problem, eps=eps, anchor=anchor, move_cost=0.4)
    obj.mu = 30.0
    plain = _Objective(problem, eps=eps)
    plain.mu = 30.0
    f, g = obj(X.ravel())
    f0, g0 = plain(X.ravel())
    # the move term enters scaled like S
    fm, gm = move_term(X, anchor, 0.4, eps)
    assert f - f0 == pytest.approx(obj.scale * fm, rel=1e-9)
    np.testing.assert_allclose(g - g0, obj.scale * gm.ravel(), rtol=1e-9, atol=1e-9)
    num = central_gradient(lambda Y: obj(Y.ravel())[0], X, h=1e-7).ravel()
    scale = np.abs(num).max()
    np.testing.assert_allclose(g, num, rtol=1e-4, atol=1e-5 * scale)


@pytest.mark.parametrize("lam,k", [(0.01, 25), (0.002, None)])
def test_objective_with_moves_is_S_plus_lambda_times_distance(current, sample_problem, lam, k):
    est, problem = sample_problem
    lay = fit(LOANS, HALL, seed=0, current=current, move_cost=lam, max_moves=k,
              kicks=10, time_limit=8.0, converge=True)
    pos, cur = aligned(lay, current), current.positions
    dist = 0.0
    for i in range(len(cur)):                        # brute force, book by book
        dist += float(np.sqrt(((pos[i] - cur[i]) ** 2).sum()))
    S = brute_force_cost(lay.positions, problem.p, est.pair.toarray(), problem.hall.entrance)
    assert lay.solver["move_cost"] == lam
    assert lay.solver["move_distance"] == pytest.approx(dist, rel=1e-9, abs=1e-9)
    assert lay.solver["objective_with_moves"] == pytest.approx(S + lam * dist, rel=1e-9)
    assert lay.solver["objective_with_moves"] <= current.objective["total"] + 1e-12
    if k is not None:
        assert lay.solver["moved"] <= k
    check_feasible(lay)


def test_a_huge_move_cost_keeps_every_book_in_place(current):
    lay = fit(LOANS, HALL, seed=0, current=current, move_cost=1e3, kicks=10, time_limit=5.0, converge=True)
    assert lay.solver["moved"] == 0
    assert np.array_equal(aligned(lay, current), current.positions)


def test_a_move_cost_moves_fewer_metres_than_none(current, proposals):
    free = proposals(50)
    costly = fit(LOANS, HALL, seed=0, current=current, move_cost=0.01, max_moves=50, **FAST)
    assert costly.solver["move_distance"] < free.solver["move_distance"]
    assert costly.solver["objective_with_moves"] <= current.objective["total"]


# ---------------------------------------------------------------------------
# compare


def test_compare_counts_no_moves_for_max_moves_zero(tmp_path, current_path, proposals):
    write_layout(proposals(0), tmp_path / "k0.json")
    write_layout(proposals(25), tmp_path / "k25.json")
    cmp = compare([current_path, tmp_path / "k0.json", tmp_path / "k25.json"], LOANS)
    d = cmp.to_dict()
    k0, k25 = d["layouts"][1], d["layouts"][2]
    assert k0["moves"]["books_moved"] == 0
    assert k0["moves"]["total_m"] == 0.0
    assert k0["change_pct"]["S"] == pytest.approx(0.0, abs=1e-9)
    # a move is at least d_min, so compare's 1 mm tolerance counts what the solver counts
    assert k25["moves"]["books_moved"] == proposals(25).solver["moved"]
    assert k25["moves"]["total_m"] == pytest.approx(proposals(25).solver["move_distance"],
                                                    abs=1e-4)
    assert k25["change_pct"]["S"] < 0


# ---------------------------------------------------------------------------
# the command line


@pytest.fixture
def runner():
    return CliRunner()


def invoke(runner, *args):
    return runner.invoke(main, [str(a) for a in args])


def one_error_line(result, out=None) -> str:
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("Error: ")
    if out is not None:
        assert not out.exists()
        assert [p.name for p in out.parent.iterdir() if p.name.startswith(".shelfplan-")] == []
    return lines[-1]


def test_cli_fit_with_max_moves(runner, tmp_path, current_path, current):
    out = tmp_path / "step1.json"
    r = invoke(runner, "fit", LOANS, "--hall", HALL, "--current", current_path,
               "--max-moves", 5, "--kicks", 10, "-q", "-o", out)
    assert r.exit_code == 0, r.output
    moved = [line for line in r.stdout.splitlines() if line.startswith("moved ")]
    assert len(moved) == 1, r.stdout
    lay = read_layout(out)
    n_moved = int(moved_books(lay, current).sum())
    assert n_moved <= 5
    assert moved[0].startswith(f"moved {n_moved} books, ")
    assert "max moves 5" in moved[0]
    check_feasible(lay)


def test_cli_current_layout_hall_is_the_default(runner, tmp_path, current_path):
    out = tmp_path / "p.json"
    r = invoke(runner, "fit", LOANS, "--current", current_path, "--max-moves", 0,
               "--kicks", 10, "-q", "-o", out)
    assert r.exit_code == 0, r.output
    assert read_layout(out).hall.to_dict() == read_layout(current_path).hall.to_dict()


@pytest.mark.parametrize("args", [["--max-moves", "5"], ["--move-cost", "0.1"]])
def test_cli_max_moves_or_move_cost_without_current_is_a_usage_error(runner, tmp_path, args):
    out = tmp_path / "x.json"
    r = invoke(runner, "fit", LOANS, "--hall", HALL, *args, "-o", out)
    assert r.exit_code == 2, r.output
    assert "need --current" in r.stderr
    assert not out.exists()


@pytest.mark.parametrize("opt,value", [("--max-moves", "-1"), ("--max-moves", "two"),
                                       ("--move-cost", "-0.5")])
def test_cli_negative_or_bad_budget_is_rejected(runner, tmp_path, current_path, opt, value):
    out = tmp_path / "x.json"
    r = invoke(runner, "fit", LOANS, "--hall", HALL, "--current", current_path, opt, value,
               "-o", out)
    assert r.exit_code == 2, r.output
    assert opt in r.stderr
    assert not out.exists()


def test_api_rejects_a_negative_budget(current_path):
    from shelfplan.errors import ParameterError

    with pytest.raises(ParameterError, match=r"`max_moves` must be an integer >= 0.*got -1"):
        fit(LOANS, HALL, current=str(current_path), max_moves=-1)
    with pytest.raises(ParameterError, match="need `current`"):
        fit(LOANS, HALL, max_moves=3)


def test_cli_current_layout_for_another_hall_is_one_clear_error(runner, tmp_path, current_path):
    hall = json.loads(SAMPLE_HALL.read_text(encoding="utf-8"))
    hall["entrance"] = [6.0, 0.0, 1.2]
    other = tmp_path / "other_hall.json"
    other.write_text(json.dumps(hall), encoding="utf-8")
    out = tmp_path / "x.json"
    r = invoke(runner, "fit", LOANS, "--hall", other, "--current", current_path,
               "--max-moves", 5, "-q", "-o", out)
    assert r.exit_code == 1, r.output
    line = one_error_line(r, out)
    assert "another hall than --hall (entrance differs)" in line
    assert len(r.stderr.strip().splitlines()) == 1


def test_cli_same_hall_under_another_name_is_accepted(runner, tmp_path, current_path):
    """Like ``compare``, the hall's name is not part of its geometry."""
    hall = json.loads(SAMPLE_HALL.read_text(encoding="utf-8"))
    hall["name"] = "Reading room (renamed)"
    renamed = tmp_path / "renamed_hall.json"
    renamed.write_text(json.dumps(hall), encoding="utf-8")
    out = tmp_path / "x.json"
    r = invoke(runner, "fit", LOANS, "--hall", renamed, "--current", current_path,
               "--max-moves", 0, "--kicks", 10, "-q", "-o", out)
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("how", ["same spot", "outside"])
def test_cli_infeasible_current_layout_is_one_clear_error(runner, tmp_path, current_path, how):
    data = json.loads(current_path.read_text(encoding="utf-8"))
    if how == "same spot":
        data["items"][1]["position"] = list(data["items"][0]["position"])
    else:
        data["items"][1]["position"] = [-5.0, -5.0, 1.0]
    bad = tmp_path / "bad_current.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "x.json"
    r = invoke(runner, "fit", LOANS, "--hall", HALL, "--current", bad, "--max-moves", 5,
               "-q", "-o", out)
    assert r.exit_code == 1, r.output
    line = one_error_line(r, out)
    assert "current layout is not feasible" in line
    assert len(r.stderr.strip().splitlines()) == 1
