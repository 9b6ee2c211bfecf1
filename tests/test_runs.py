"""Call-number blocks on the shelves (MODEL.md 8.5): the order of the runs."""

from __future__ import annotations

import json

import time

import numpy as np
import pytest
from click.testing import CliRunner

import shelfplan
from shelfplan.cli import main
from shelfplan.errors import LayoutError
from shelfplan.ingest.callsort import sort_keys
from shelfplan.model.hall import load_hall
from shelfplan.model.shelving import shelved_cost
from shelfplan.shelf import shelf_problem
from shelfplan.solve.options import FitOptions
from shelfplan.solve.runs import _Pricer, runs_of, coi_order, plan_from_order

from conftest import DATA, SAMPLE_LOANS

STACKED = DATA / "stacked_hall.json"
HOLDINGS = DATA / "holdings.csv"


def shelving_order(hall_json: dict) -> dict:
    """(range, face, section) -> its place in the shelving order, from MODEL.md 8.5 and
    the hall file alone (banks expanded in r order)."""
    ranges = []
    for e in hall_json["stacks"]:
        if "bank" in e:
            ranges += [(f"{e['bank']}-{r + 1}", e.get("faces", "both"), e["sections"])
                       for r in range(e["ranges"])]
        else:
            ranges.append((e["id"], e.get("faces", "both"), e["sections"]))
    order, k = {}, 0
    for rid, faces, S in ranges:
        seq = ([("left", s) for s in range(1, S + 1)] + [("right", s) for s in range(S, 0, -1)]
               if faces == "both" else [(faces, s) for s in range(1, S + 1)])
        for face, s in seq:
            order[(rid, face, s)] = k
            k += 1
    return order


def runs_are_blocks(data: dict) -> bool:
    place = shelving_order(data["hall"])
    recs = sorted(data["items"], key=lambda r: (place[(r["range"], r["face"], r["section"])],
                                                r["shelf"], r["slot"]))
    cats = [r["category"] for r in recs]
    starts = [c for k, c in enumerate(cats) if k == 0 or c != cats[k - 1]]
    if len(starts) != len(set(starts)):
        return False
    keys = sort_keys([r["call_number"] for r in recs])
    return all(keys[k] <= keys[k + 1] for k in range(len(recs) - 1) if cats[k] == cats[k + 1])


@pytest.fixture(scope="module")
def problem():
    return shelf_problem(str(SAMPLE_LOANS), load_hall(STACKED), holdings=str(HOLDINGS))[1]


def test_the_compiled_price_is_the_plans_s_walk(problem):
    blocks = runs_of(problem)
    pricer = _Pricer(problem, blocks)
    L = np.repeat(np.arange(problem.m), problem.capacity)
    rng = np.random.default_rng(0)
    for _ in range(5):
        order, lead = rng.permutation(blocks.K), int(rng.integers(0, pricer.free + 1))
        seq = plan_from_order(problem, blocks, order, lead)
        assert len(np.unique(seq)) == problem.n and seq.min() >= lead
        assert pricer(order, lead) == pytest.approx(shelved_cost(L[seq], problem)["total"],
                                                    rel=1e-12)


def test_todays_order_is_the_callnumber_baseline(problem, tmp_path):
    blocks = runs_of(problem)
    L = np.repeat(np.arange(problem.m), problem.capacity)
    today = shelved_cost(L[plan_from_order(problem, blocks, np.arange(blocks.K))], problem)
    base = shelfplan.baseline("callnumber", SAMPLE_LOANS, hall=STACKED, holdings=HOLDINGS)
    assert today["total"] == pytest.approx(base.objective["total"], rel=1e-12)


def test_blocks_fit_keeps_every_class_one_run_in_call_number_order(tmp_path):
    out = tmp_path / "blocks.json"
    r = CliRunner().invoke(main, ["fit", str(SAMPLE_LOANS), "--hall", str(STACKED),
                                  "--holdings", str(HOLDINGS), "--keep-order", "blocks",
                                  "--time-limit", "6", "-o", str(out), "-q"])
    assert r.exit_code == 0, r.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert runs_are_blocks(data)
    free = shelfplan.fit(SAMPLE_LOANS, hall=STACKED, holdings=HOLDINGS, time_limit=4)
    today = shelfplan.baseline("callnumber", SAMPLE_LOANS, hall=STACKED, holdings=HOLDINGS)
    assert runs_are_blocks(json.loads(json.dumps(today.to_dict())))
    assert not runs_are_blocks(json.loads(json.dumps(free.to_dict())))
    S = data["objective"]["total"]
    assert free.objective["total"] < S < today.objective["total"]


def test_blocks_beat_class_based_storage(problem):
    from shelfplan.solve.runs import solve_runs

    blocks = runs_of(problem)
    pricer = _Pricer(problem, blocks)
    coi = pricer(*coi_order(problem, blocks, pricer))
    options = FitOptions(seed=0, time_limit=3)
    seq, order, lead, info = solve_runs(problem, blocks, options, time.monotonic() + 3)
    assert info["engine"]["ended"] == "time limit"
    assert pricer(order, lead) <= coi
    assert sorted(order.tolist()) == list(range(blocks.K))


def test_keep_order_needs_stacks():
    with pytest.raises(LayoutError, match="needs a hall with stacks"):
        shelfplan.fit(SAMPLE_LOANS, hall=DATA / "hall.json", keep_order="blocks")
    with pytest.raises(shelfplan.ParameterError, match="`keep_order` must be one of none, blocks"):
        shelfplan.fit(SAMPLE_LOANS, hall=STACKED, keep_order="runs")


def display_books_out_of_order(data, k):
    """The k most borrowed books stand in the display ranges; every other category
    is one run in call-number order once the display books are set aside."""
    shown = sorted(data["items"], key=lambda r: -r["p"])[:k]
    ranges = set(data["solver"]["display"]["ranges"])
    rest = [r for r in data["items"] if r["id"] not in {s["id"] for s in shown}]
    return all(r["range"] in ranges for r in shown), runs_are_blocks({**data, "items": rest})


def test_a_display_zone_of_the_most_borrowed_books(tmp_path):
    out = tmp_path / "display.json"
    r = CliRunner().invoke(main, ["fit", str(SAMPLE_LOANS), "--hall", str(STACKED),
                                  "--holdings", str(HOLDINGS), "--keep-order", "blocks",
                                  "--display-books", "40", "--time-limit", "5", "-o", str(out),
                                  "-q"])
    assert r.exit_code == 0, r.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["solver"]["display"]["books"] == 40
    in_zone, blocks = display_books_out_of_order(data, 40)
    assert in_zone and blocks


def test_display_zone_errors(tmp_path):
    out = tmp_path / "x.json"
    r = CliRunner().invoke(main, ["fit", str(SAMPLE_LOANS), "--hall", str(STACKED),
                                  "--keep-order", "blocks", "--display-ranges", "Q-7",
                                  "-o", str(out)])
    assert r.exit_code == 1 and "the display zone names no range 'Q-7'" in r.output
    assert not out.exists()
    r = CliRunner().invoke(main, ["fit", str(SAMPLE_LOANS), "--hall", str(STACKED),
                                  "--display-books", "5", "-o", str(out)])
    assert r.exit_code == 2 and "go with --keep-order blocks" in r.output


def test_the_report_names_the_price_of_findability(tmp_path):
    runner = CliRunner()
    files = {}
    for name, extra in {"today": ["baseline", "callnumber"], "blocks": ["fit"],
                        "free": ["fit"]}.items():
        files[name] = tmp_path / f"{name}.json"
        args = [*extra, str(SAMPLE_LOANS), "--hall", str(STACKED), "--holdings", str(HOLDINGS),
                "-o", str(files[name]), "-q"]
        if name != "today":
            args += ["--time-limit", "4"] + (["--keep-order", "blocks"] if name == "blocks"
                                             else [])
        assert runner.invoke(main, args).exit_code == 0
    out = tmp_path / "report.html"
    r = runner.invoke(main, ["report", str(files["today"]), str(files["blocks"]),
                             str(files["free"]), "--loans", str(SAMPLE_LOANS), "-o", str(out),
                             "-q"])
    assert r.exit_code == 0, r.output
    page = out.read_text(encoding="utf-8")
    assert "The price of findability" in page and "walked in the aisles" in page
    assert "alt='stack map'" in page and f"Stack map: {files['free']}" in page


def test_incremental_blocks_keep_the_budget_and_the_shift_never_overflows(tmp_path):
    runner = CliRunner()
    today, plan, shift = tmp_path / "today.json", tmp_path / "plan.json", tmp_path / "shift.csv"
    assert runner.invoke(main, ["baseline", "callnumber", str(SAMPLE_LOANS), "--hall",
                                str(STACKED), "--holdings", str(HOLDINGS), "-o", str(today),
                                "-q"]).exit_code == 0
    r = runner.invoke(main, ["fit", str(SAMPLE_LOANS), "--holdings", str(HOLDINGS),
                             "--keep-order", "blocks", "--current", str(today),
                             "--max-moves", "200", "--time-limit", "5", "-o", str(plan),
                             "--shift-plan", str(shift), "-q"])
    assert r.exit_code == 0, r.output
    a = json.loads(today.read_text(encoding="utf-8"))
    b = json.loads(plan.read_text(encoding="utf-8"))
    where = lambda d: {x["id"]: (x["range"], x["face"], x["section"]) for x in d["items"]}  # noqa: E731
    wa, wb = where(a), where(b)
    moved = sum(wa[i] != wb[i] for i in wa)
    assert moved == b["solver"]["moved"] <= 200
    assert b["objective"]["total"] <= a["objective"]["total"] + 1e-12
    assert runs_are_blocks(b)
    rows = shift.read_text(encoding="utf-8").splitlines()
    assert rows[0] == "# carts=1 cart_capacity=60" and rows[1] == "step,item_id,from,to"
    from shelfplan.judge.shift import read_shift_csv, replay
    rows, carts, cap = read_shift_csv(str(shift))
    T, P = shelfplan.read_layout(str(today)), shelfplan.read_layout(str(plan))
    assert replay(T, P, rows, carts, cap) == [] and len({r[1] for r in rows}) >= moved


def test_incremental_blocks_need_a_plan_that_keeps_blocks(tmp_path):
    free = tmp_path / "free.json"
    shelfplan.write_layout(shelfplan.fit(SAMPLE_LOANS, hall=STACKED, holdings=HOLDINGS,
                                         time_limit=3), free)
    with pytest.raises(LayoutError, match="does not keep call-number blocks"):
        shelfplan.fit(SAMPLE_LOANS, holdings=HOLDINGS, keep_order="blocks", current=free,
                      max_moves=10)


def test_a_shift_plan_by_hand_never_puts_two_books_in_a_slot():
    from shelfplan.solve.runs_moves import shift_plan

    class B:                      # three runs: A (2 books), B (3), C (1); 8 slots
        K = 3
        block = np.array([0, 0, 1, 1, 1, 2])
    today = np.array([0, 1, 2, 3, 4, 5])              # A B C, then 2 free slots
    swapped = np.array([3, 4, 0, 1, 2, 5])            # B A C: A and B swap (a cycle)
    steps = shift_plan(B, today, swapped, 8)
    where = today.copy()
    for b, n, a, z, staging in steps:
        mine = np.nonzero(B.block == b)[0]
        others = np.delete(where, mine)
        target = np.arange(z, z + n)
        assert not np.isin(target, others).any()      # lands only on empty slots
        where[mine] = target
    assert (where == swapped).all()
    assert any(s[4] for s in steps)                    # the cycle needed a staging step


def test_books_without_a_category_are_counted_or_refused_with_strict(tmp_path, caplog,
                                                                     monkeypatch):
    import logging
    # a CLI test run before may have quieted the package logger and stopped it
    # propagating (setup_logging): the warning must still reach caplog
    monkeypatch.setattr(logging.getLogger("shelfplan"), "propagate", True)
    lines = HOLDINGS.read_text(encoding="utf-8").splitlines()
    head = lines[0].split(",")
    cut = [head.index(c) for c in ("category", "call_number") if c in head]
    rows = [line.split(",") for line in lines[1:]]
    for r in rows[-3:]:                                # three books never borrowed
        for c in cut:
            r[c] = ""
    bare = tmp_path / "bare.csv"
    bare.write_text("\n".join([lines[0]] + [",".join(r) for r in rows]) + "\n",
                    encoding="utf-8")
    with caplog.at_level("WARNING", logger="shelfplan"):
        lay = shelfplan.fit(SAMPLE_LOANS, hall=STACKED, holdings=bare, keep_order="blocks",
                            time_limit=2)
    assert "3 books have no category or call number" in caplog.text
    assert lay.shelved
    out = tmp_path / "x.json"
    r = CliRunner().invoke(main, ["fit", str(SAMPLE_LOANS), "--hall", str(STACKED),
                                  "--holdings", str(bare), "--keep-order", "blocks",
                                  "--strict", "-o", str(out)])
    assert r.exit_code == 1 and "3 books have no category or call number" in r.output
    last = r.output.strip().splitlines()[-1]           # warnings of the reader may come first
    assert not out.exists() and last.startswith("Error:") and "Traceback" not in r.output
