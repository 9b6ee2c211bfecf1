"""Held-out judging (shelfplan.judge.heldout), compare's held-out default, fit --tune, CLI."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import SAMPLE_HALL, SAMPLE_LOANS, TINY_LOANS
from shelfplan.api import baseline, fit
from shelfplan.cli import main
from shelfplan.errors import LoansError, ParameterError
from shelfplan.ingest.loans import read_loans
from shelfplan.judge.compare import compare
from shelfplan.judge.heldout import (beats, coverage_share, judge_start, rolling_splits,
                                     saw_judge_period, seed_noise, split_date, time_split,
                                     tune)
from shelfplan.layout import read_layout, write_layout
from shelfplan.model.hall import load_hall

LOANS = SAMPLE_LOANS
HALL = SAMPLE_HALL
STACKED = SAMPLE_HALL.parent / "stacked_hall.json"
HOLDINGS = SAMPLE_HALL.parent / "holdings.csv"


@pytest.fixture(scope="module")
def loans():
    return read_loans(LOANS)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("held")
    out = {}
    for name, kind, until in (("callnumber", "callnumber", None),
                              ("popularity", "popularity", None),
                              ("pop_until", "popularity", "2025-01-01"),
                              ("pop_late", "popularity", "2031-01-01")):
        out[name] = d / f"{name}.json"
        write_layout(baseline(kind, LOANS, HALL, until=until), out[name])
    return out


def test_split_date_is_the_midnight_of_the_last_fifth(loans):
    t = loans.table["timestamp"]
    lo, hi = t.min(), t.max()
    cut = split_date(loans, 0.2)
    assert cut == (lo + 0.8 * (hi - lo)).ceil("D") and cut == cut.normalize()
    fit_part, judge_part, c = time_split(loans)
    assert c == cut and len(fit_part.table) + len(judge_part.table) == len(loans.table)
    assert fit_part.table["timestamp"].max() < cut <= judge_part.table["timestamp"].min()


def test_rolling_splits_tile_the_last_share(loans):
    splits = rolling_splits(loans, 3, 0.3)
    cuts = [c for _, _, c in splits]
    assert cuts == sorted(cuts) and len(set(cuts)) == 3
    for (fit_part, judge_part, cut), nxt in zip(splits, cuts[1:] + [None]):
        assert fit_part.table["timestamp"].max() < cut <= judge_part.table["timestamp"].min()
        if nxt is not None:
            assert judge_part.table["timestamp"].max() < nxt
    assert sum(len(j.table) for _, j, _ in splits) == (loans.table["timestamp"] >= cuts[0]).sum()


def test_a_split_that_leaves_a_side_empty_is_one_clear_error(loans):
    with pytest.raises(LoansError, match="leaves no loans to judge on"):
        time_split(loans, until="2031-01-01")
    with pytest.raises(LoansError, match="leaves no loans to fit on"):
        time_split(loans, until="2000-01-01")
    tiny = read_loans(TINY_LOANS)      # one day and a minute: the last fifth is empty
    with pytest.raises(LoansError, match="leaves no loans to judge on"):
        time_split(tiny)


def test_judge_start_and_labels(files, loans):
    lays = [read_layout(files[k]) for k in ("callnumber", "pop_until")]
    cut, why = judge_start(lays, loans)
    assert cut == pd.Timestamp("2025-01-01") and "until" in why
    cut2, why2 = judge_start(lays[:1], loans)
    assert cut2 == split_date(loans) and "20 %" in why2
    assert saw_judge_period(lays[0], cut) and not saw_judge_period(lays[1], cut)


def test_coverage_share(loans):
    items = loans.table["item"].unique()[:10]
    share = coverage_share(loans, items)
    assert share == pytest.approx(loans.table["item"].isin(items).mean())


def test_compare_is_held_out_by_default_and_keeps_the_in_sample_figures(files):
    paths = [files["callnumber"], files["popularity"], files["pop_until"]]
    cmp = compare(paths, LOANS)
    assert cmp.mode == "held-out" and cmp.split["since"] == "2025-01-01"
    assert [cmp.label(k) for k in range(3)] == ["in sample", "in sample", "held out"]
    since = compare(paths, LOANS, since="2025-01-01")
    assert [e.cost["total"] for e in cmp.evaluations] == [e.cost["total"]
                                                         for e in since.evaluations]
    old = compare(paths, LOANS, in_sample=True)
    assert old.mode == "in-sample" and old.in_sample is None
    assert [e.cost["total"] for e in cmp.in_sample.evaluations] == [
        e.cost["total"] for e in old.evaluations]
    data = cmp.to_dict()
    assert data["mode"] == "held-out" and data["layouts"][2]["figures"] == "held out"
    assert 0.9 < data["layouts"][2]["coverage_share"] <= 1
    assert data["in_sample"]["mode"] == "in-sample"


def test_without_dates_the_figures_are_in_sample(tmp_path):
    csv = tmp_path / "nodates.csv"
    df = pd.read_csv(LOANS).drop(columns=["timestamp"])
    df.to_csv(csv, index=False)
    a, b = baseline("callnumber", csv, HALL), baseline("popularity", csv, HALL)
    cmp = compare([a, b], csv, names=["a", "b"])
    assert cmp.mode == "no-dates" and cmp.in_sample is None and cmp.label(1) == "in sample"


def test_tune_keeps_the_default_unless_a_candidate_clearly_beats_it(loans):
    base = {"options": {}, "held_out_S": 1.0, "per_split_S": [1.0, 1.0]}
    assert beats({"held_out_S": 0.95, "per_split_S": [0.9, 0.99]}, base)
    assert not beats({"held_out_S": 0.995, "per_split_S": [0.99, 1.0 - 1e-9]}, base)
    assert not beats({"held_out_S": 0.9, "per_split_S": [0.7, 1.1]}, base)
    lay = baseline("popularity", LOANS, HALL)
    seen = []

    def quick(part, options, hall, seed):      # a layout that ignores the options
        seen.append((len(part.table), dict(options)))
        return lay

    chosen, tried = tune(loans, None, quick, folds=2)
    assert chosen == {} and tried[0]["options"] == {}
    assert len(tried) == len(seen) // 2 and all("held_out_S" in r for r in tried)
    assert len({n for n, _ in seen}) == 2          # two fit periods, one per split


# --------------------------------------------------------------- fit --tune, CLI

def test_fit_records_the_options_and_the_tuning(tmp_path):
    small = read_loans(LOANS)
    lay = fit(small, HALL, time_limit=2, tune=True, tune_time=0.3, tune_folds=1,
              until="2024-06-01")
    tun = lay.solver["tuning"]
    assert tun["folds"] == 1 and len(tun["cuts"]) == 1 and tun["candidates"][0]["options"] == {}
    assert all(c["held_out_S"] > 0 for c in tun["candidates"])
    assert lay.estimation["tuning"]["chosen"] == tun["chosen"]
    out = tmp_path / "l.json"
    write_layout(lay, out)
    assert read_layout(out).solver["tuning"]["chosen"] == tun["chosen"]


def test_cli_fit_half_life_is_recorded(tmp_path):
    out = tmp_path / "l.json"
    r = CliRunner().invoke(main, ["fit", str(LOANS), "--hall", str(HALL), "--time-limit", "2",
                                  "--half-life", "90d", "--shrink-neighbours", "0.5", "-q",
                                  "-o", str(out)])
    assert r.exit_code == 0, r.output
    gen = json.loads(out.read_text())["estimation"]["generalise"]
    assert gen["half_life"] == 90 and gen["neighbours"] == 0.5 and gen["category"] == 0


def test_cli_compare_says_what_the_figures_are(files):
    r = CliRunner().invoke(main, ["compare", str(files["callnumber"]), str(files["pop_until"]),
                                  "--loans", str(LOANS)])
    assert r.exit_code == 0, r.output
    assert "figures: judged on the loans since 2025-01-01" in r.stdout
    assert "held out for " in r.stdout and "in sample for " in r.stdout
    assert "coverage (loans of placed books)" in r.stdout and "in sample (all loans)" in r.stdout
    assert "callnumber.json was fitted on loans of the judged period" in r.stdout
    r = CliRunner().invoke(main, ["compare", str(files["callnumber"]), str(files["pop_until"]),
                                  "--loans", str(LOANS), "--in-sample", "-q"])
    assert r.exit_code == 0 and "figures: in sample" in r.stdout


def _no_dates(tmp_path):
    csv = tmp_path / "nodates.csv"
    pd.read_csv(LOANS).drop(columns=["timestamp"]).to_csv(csv, index=False)
    return csv


@pytest.mark.parametrize("case, message", [
    ("half_life", "--half-life must be a duration such as 90d"),
    ("no_dates", "--tune needs loans with dates"),
    ("empty_side", "leaves no loans to judge on"),
    ("late_until", "leaves no loans to judge on"),
])
def test_cli_bad_input_is_one_line_and_writes_nothing(files, tmp_path, case, message):
    out = tmp_path / "out" / "x.json"
    out.parent.mkdir()
    if case == "half_life":
        args = ["fit", str(LOANS), "--half-life", "soon", "-o", str(out)]
    elif case == "no_dates":
        args = ["fit", str(_no_dates(tmp_path)), "--tune", "-o", str(out)]
    elif case == "empty_side":
        args = ["fit", str(TINY_LOANS), "--tune", "-o", str(out)]
    else:
        args = ["report", str(files["callnumber"]), str(files["pop_late"]), "--loans",
                str(LOANS), "-o", str(out.with_suffix(".html"))]
    r = CliRunner().invoke(main, args + ["-q"])
    assert r.exit_code == (2 if case == "half_life" else 1), r.output   # 2: a bad value
    assert message in r.output and len(r.output.strip().splitlines()) == 1, r.output
    assert list(out.parent.iterdir()) == []


# --------------------------------------------------------------- tuning's scoring

def test_every_candidate_gets_the_same_seeds_and_the_default_needs_a_clear_win(loans):
    good, bad = baseline("popularity", LOANS, HALL), baseline("callnumber", LOANS, HALL)
    t = loans.table["timestamp"]
    days = (t.max() - t.min()) / pd.Timedelta(1, "D")
    seen = []

    def quick(part, options, hall, seed):      # only a half-life of the whole period helps
        seen.append((tuple(sorted(options.items())), seed))
        return good if options.get("half_life", 0) > days / 2 else bad

    said = []
    chosen, tried = tune(loans, None, quick, folds=2, seed=5, seeds=2, progress=said.append)
    assert chosen == {"half_life": round(days, 1)}
    assert said[-1] == (f"tune: chosen half-life {round(days, 1):g}d (a candidate must beat the "
                        f"default on every split and by 1.0 %)")
    for opts in {o for o, _ in seen}:            # 2 splits x the same 2 seeds each
        assert sorted(s for o, s in seen if o == opts) == [5, 5, 6, 6]
    rec = {tuple(sorted(r["options"].items())): r for r in tried}
    assert [r["beats_default"] for r in tried].count(True) == 1
    assert all(len(row) == 2 for row in tried[0]["per_seed_S"])
    assert tried[0]["margin"] == 0.01              # the same layout for both seeds: no noise
    assert rec[tuple(chosen.items())]["held_out_S"] < tried[0]["held_out_S"]


def test_the_margin_grows_with_the_defaults_seed_noise(loans):
    lays = {0: baseline("popularity", LOANS, HALL), 1: baseline("callnumber", LOANS, HALL)}

    def quick(part, options, hall, seed):      # every candidate as noisy as the default
        return lays[seed % 2]

    chosen, tried = tune(loans, None, quick, folds=1, seeds=2)
    base = tried[0]
    assert chosen == {} and base["margin"] == pytest.approx(seed_noise(base))
    s0, s1 = base["per_seed_S"][0]
    assert base["margin"] == pytest.approx(abs(s1 - s0) / ((s0 + s1) / 2)) and base["margin"] > 0.1
    assert not any(r["beats_default"] for r in tried)


def test_bad_tune_seeds():
    with pytest.raises(ParameterError, match="`tune_seeds` must be 1 or more, got 0"):
        tune(read_loans(LOANS), None, None, seeds=0)


# --------------------------------------------------------------- fit --tune on a stacked hall

def test_tune_on_a_stacked_hall_records_the_options(tmp_path, monkeypatch):
    import shelfplan.api
    monkeypatch.setattr(shelfplan.api, "TUNE_PLAN_KICKS", 0)     # quicker quick plans
    lay = fit(LOANS, STACKED, holdings=HOLDINGS, time_limit=3, tune=True, tune_time=2,
              tune_folds=1, until="2025-03-08")
    assert lay.shelved and len(lay.items) >= 1500
    tun = lay.solver["tuning"]
    assert tun["seeds"] == [0, 1] and tun["candidates"][0]["options"] == {}
    assert all(len(c["per_seed_S"]) == 1 and len(c["per_seed_S"][0]) == 2
               for c in tun["candidates"])
    assert lay.estimation["tuning"]["chosen"] == tun["chosen"]
    won = [c for c in tun["candidates"] if c["beats_default"]]
    if tun["chosen"]:
        assert tun["chosen"] in [c["options"] for c in won]
        assert all(lay.estimation["generalise"][k] == v for k, v in tun["chosen"].items())
    else:
        assert won == []
    out = tmp_path / "plan.json"
    write_layout(lay, out)
    assert read_layout(out).solver["tuning"]["chosen"] == tun["chosen"]


def test_tune_on_a_stacked_hall_keeps_the_default_when_nothing_wins(loans):
    plan = baseline("popularity", LOANS, STACKED, holdings=HOLDINGS)

    def quick(part, options, hall, seed):      # a plan that ignores the options
        return plan

    chosen, tried = tune(loans, plan.hall, quick, folds=2, seeds=2)
    assert chosen == {} and not any(r["beats_default"] for r in tried)
    assert len({r["held_out_S"] for r in tried}) == 1


@pytest.mark.parametrize("case, message", [
    ("half_life", "--half-life must be a duration such as 90d"),
    ("no_dates", "--tune needs loans with dates"),
    ("empty_side", "leaves no loans to judge on"),
    ("blocks", "--tune on a hall with stacks is for plans from scratch"),
])
def test_cli_stacked_tune_bad_input_is_one_line(tmp_path, case, message):
    out = tmp_path / "out" / "x.json"
    out.parent.mkdir()
    loans = {"no_dates": _no_dates(tmp_path), "empty_side": TINY_LOANS}.get(case, LOANS)
    args = ["fit", str(loans), "--hall", str(STACKED), "--tune", "-o", str(out), "-q"]
    if case != "empty_side":
        args += ["--holdings", str(HOLDINGS)]
    if case == "half_life":
        args += ["--half-life", "soon"]
    if case == "blocks":
        args += ["--keep-order", "blocks"]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == (2 if case == "half_life" else 1), r.output   # 2: a bad value
    assert message in r.output and len(r.output.strip().splitlines()) == 1, r.output
    assert list(out.parent.iterdir()) == []
