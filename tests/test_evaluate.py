"""shelfplan.judge.evaluate and ``shelfplan evaluate``: brute force, hand-checked walks, CLI."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from shelfplan.api import baseline
from shelfplan.cli import main
from shelfplan.errors import LayoutError, LoansError
from shelfplan.judge.evaluate import attributable, evaluate, feasibility
from shelfplan.judge.visits import point_visit_walks as nn_walks
from shelfplan.model.hall import hall_from_dict, load_hall
from shelfplan.layout import Layout, write_layout
from shelfplan.ingest.loans import read_loans

DATA = Path(__file__).resolve().parent.parent / "data"
LOANS = DATA / "loans.csv"
HALL = DATA / "hall.json"

TINY_HALL = {"name": "tiny", "footprint": [[0, 0], [6, 0], [6, 6], [0, 6]],
             "z_range": [0.0, 2.0], "entrance": [0.0, 0.0, 0.0], "d_min": 0.3}


def tiny_layout(positions: dict) -> Layout:
    ids = np.array(list(positions), dtype=object)
    X = np.array([positions[i] for i in ids], dtype=float)
    return Layout(hall=hall_from_dict(TINY_HALL), items=ids, positions=X, p=np.zeros(len(ids)))


def write_csv(path: Path, rows) -> Path:
    pd.DataFrame(rows, columns=["patron_id", "item_id", "timestamp"]).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def past_layout(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ev") / "past.json"
    write_layout(baseline("callnumber", LOANS, HALL, until="2025-01-01"), path)
    return path


# --------------------------------------------------------------- brute force

def brute_force(layout: Layout, sessions: list[set]) -> tuple[float, float, float]:
    """MODEL.md sections 2-3 with plain loops: (S, entrance term, pair term)."""
    items = sorted(set().union(*sessions))
    n = {i: sum(i in s for s in sessions) for i in items}
    total = sum(n.values())
    p = {i: n[i] / total for i in items}
    c = {(i, j): sum(i in s and j in s for s in sessions)
         for i, j in itertools.permutations(items, 2)}
    pos = {str(k): layout.positions[i] for i, k in enumerate(layout.items)}
    e = layout.hall.entrance
    ent = sum(p[i] * math.dist(pos[i], e) for i in items)
    pair = 0.0
    for i in items:
        row = sum(c[i, k] for k in items if k != i)
        for j in items:
            if j != i and row:
                pair += p[i] * c[i, j] / row * math.dist(pos[i], pos[j])
    return ent + pair, ent, pair


def test_matches_brute_force_on_tiny_case(tmp_path):
    layout = tiny_layout({"a": [1, 1, 1], "b": [2, 1, 0.5], "c": [1, 3, 1.5],
                          "d": [4, 4, 0.3], "e": [5, 1, 1]})
    rows = [("p1", "a", "2024-01-01"), ("p1", "b", "2024-01-01"), ("p1", "c", "2024-01-01"),
            ("p2", "a", "2024-01-01"), ("p2", "d", "2024-01-01"),
            ("p1", "c", "2024-01-02"), ("p1", "d", "2024-01-02"), ("p1", "d", "2024-01-02"),
            ("p3", "b", "2024-01-03"),
            ("p4", "zz", "2024-01-03")]                      # not in the layout
    path = write_csv(tmp_path / "loans.csv", rows)
    ev = evaluate(layout, path)
    sessions = [{"a", "b", "c"}, {"a", "d"}, {"c", "d"}, {"b"}]
    S, ent, pair = brute_force(layout, sessions)
    assert ev.cost["total"] == pytest.approx(S, rel=1e-12)
    assert ev.cost["entrance_term"] == pytest.approx(ent, rel=1e-12)
    assert ev.cost["pair_term"] == pytest.approx(pair, rel=1e-12)
    assert ev.per_item.sum() == pytest.approx(S, rel=1e-12)
    assert ev.coverage["items_missing"] == 1
    assert ev.coverage["loans_missing"] == 1
    assert ev.coverage["share_loans_missing"] == pytest.approx(1 / 10)
    assert ev.coverage["sessions_dropped"] == 1
    assert ev.coverage["layout_items_unborrowed"] == 1      # "e"
    assert ev.walk["sessions"] == 4
    assert ev.lower_bound["total"] <= S


def test_p_is_reestimated_not_read_from_the_file(tmp_path):
    layout = tiny_layout({"a": [1, 1, 1], "b": [2, 1, 1]})
    layout.p = np.array([0.99, 0.01])
    path = write_csv(tmp_path / "l.csv", [("p", "a", "2024-01-01"), ("q", "b", "2024-01-01")])
    ev = evaluate(layout, path)
    np.testing.assert_allclose(ev.estimates.p, [0.5, 0.5])


# --------------------------------------------------------------- walks

def test_three_book_walk_by_hand():
    # entrance at the origin; nearest first: a (2 m), then c (1 m from a),
    # then b (sqrt(18) m from c), then back (3 m from b)
    pos = np.array([[0.0, 2, 0], [3, 0, 0], [0, 3, 0]])          # a, b, c
    out = nn_walks(pos, np.zeros(3), np.array([0, 3]), np.array([1, 2, 0]))
    assert out[0] == pytest.approx(2 + 1 + math.sqrt(18) + 3)


def test_three_book_walk_through_evaluate(tmp_path):
    layout = tiny_layout({"a": [0, 2, 0.5], "b": [3, 0, 0.5], "c": [0, 3, 0.5]})
    layout.hall.entrance = np.array([0.0, 0.0, 0.5])
    path = write_csv(tmp_path / "l.csv", [("p", i, "2024-05-05") for i in "bca"]
                     + [("q", "b", "2024-05-05")])
    ev = evaluate(layout, path)
    walks = sorted(ev.walks)
    assert walks[0] == pytest.approx(6.0)                         # q: to b and back
    assert walks[1] == pytest.approx(2 + 1 + math.sqrt(18) + 3)
    assert ev.walk["mean"] == pytest.approx((6 + 6 + math.sqrt(18)) / 2)


def loop_walk(P, e):
    cur, left, length = e, list(range(len(P))), 0.0
    while left:
        j = min(left, key=lambda k: (np.linalg.norm(P[k] - cur), k))
        length += np.linalg.norm(P[j] - cur)
        cur = P[j]
        left.remove(j)
    return length + np.linalg.norm(cur - e)


def test_vectorised_walks_match_a_loop():
    rng = np.random.default_rng(4)
    pos = rng.uniform(0, 10, size=(50, 3))
    e = np.array([5.0, 0, 1])
    sizes = rng.integers(0, 7, size=200)
    indptr = np.concatenate([[0], np.cumsum(sizes)])
    indices = np.concatenate([rng.choice(50, k, replace=False) for k in sizes])
    out = nn_walks(pos, e, indptr, indices)
    want = [loop_walk(pos[indices[a:b]], e) if b > a else 0.0
            for a, b in zip(indptr[:-1], indptr[1:])]
    np.testing.assert_allclose(out, want, rtol=1e-12)


def test_attributable_sums_to_the_cost():
    import scipy.sparse as sp
    X = np.array([[0.0, 1, 0], [1, 1, 0], [2, 2, 0]])
    p = np.array([0.5, 0.3, 0.2])
    pair = sp.csr_matrix(np.array([[0, 0.3, 0.2], [0.3, 0, 0], [0.2, 0, 0]]))
    a = attributable(X, p, pair, np.zeros(3))
    assert a[1] == pytest.approx(0.3 * math.sqrt(2) + 0.3 * 1.0)
    assert a.sum() == pytest.approx(0.5 * 1 + 0.3 * math.sqrt(2) + 0.2 * math.sqrt(8)
                                    + 0.3 + 0.4 * math.sqrt(5) + 0.3)


# --------------------------------------------------------------- checks, coverage

def test_feasibility_counts_problems():
    layout = tiny_layout({"a": [1, 1, 1], "b": [1.1, 1, 1], "c": [9, 1, 1], "d": [3, 3, 1]})
    f = feasibility(layout)
    assert f == {"feasible": False, "min_spacing": pytest.approx(0.1), "d_min": 0.3,
                 "pairs_too_close": 1, "outside_hall": 1}


def test_held_out_split_reports_unseen_items(past_layout):
    ev = evaluate(past_layout, LOANS, since="2025-01-01")
    cov = ev.coverage
    assert cov["items_missing"] > 0 and 0 < cov["share_loans_missing"] < 0.1
    assert ev.loans["since"] == "2025-01-01"
    assert ev.loans["span"][0] >= "2025-01-01"
    assert ev.feasibility["feasible"]
    assert set(ev.items) <= set(ev.layout.items)


def test_no_common_items_is_an_error(tmp_path):
    layout = tiny_layout({"a": [1, 1, 1]})
    path = write_csv(tmp_path / "l.csv", [("p", "x", "2024-01-01")])
    with pytest.raises(LayoutError, match="none of the 1 items"):
        evaluate(layout, path)


def test_empty_date_range_is_an_error(past_layout):
    with pytest.raises(LoansError, match="no loans left in the date range"):
        evaluate(past_layout, LOANS, since="2030-01-01")


def test_accepts_loans_objects_and_layouts():
    lay = baseline("popularity", LOANS, HALL)
    ev = evaluate(lay, read_loans(LOANS))
    # on its own loans with all items, the cost is the one stored by baseline
    assert ev.cost["total"] == pytest.approx(lay.objective["total"], rel=1e-9)
    assert ev.layout.hall.name == load_hall(HALL).name


# --------------------------------------------------------------- CLI

def test_cli_table(past_layout):
    r = CliRunner().invoke(main, ["evaluate", str(past_layout), str(LOANS),
                                  "--since", "2025-01-01"])
    assert r.exit_code == 0, r.output
    for text in ("walking cost S", "S / LB", "visit walk, 90th pct", "not in the layout",
                 "feasible"):
        assert text in r.stdout


def test_cli_json(past_layout):
    r = CliRunner().invoke(main, ["evaluate", str(past_layout), str(LOANS),
                                  "--until", "2025-01-01", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["coverage"]["items_missing"] == 0
    assert data["walk"]["p50"] <= data["walk"]["p90"]
    assert data["loans"]["until"] == "2025-01-01"


@pytest.mark.parametrize("args, message", [
    (["nope.json", str(LOANS)], "no such layout file"),
    (["{layout}", str(LOANS), "--since", "2031-01-01"], "no loans left in the date range"),
    (["{layout}", "missing.csv"], "no such file"),
])
def test_cli_bad_input_is_one_line(past_layout, args, message):
    args = [a.format(layout=past_layout) for a in args]
    r = CliRunner().invoke(main, ["evaluate", *args])
    assert r.exit_code != 0
    assert message in r.output
    assert len(r.output.strip().splitlines()) == 1, r.output


def test_cli_help_has_example():
    r = CliRunner().invoke(main, ["evaluate", "--help"])
    assert r.exit_code == 0 and "shelfplan evaluate" in r.output and "--since" in r.output
