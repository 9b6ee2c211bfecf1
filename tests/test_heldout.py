"""Held-out judging (shelfplan.judge.heldout), compare's held-out default, fit --tune, CLI."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import SAMPLE_HALL, SAMPLE_LOANS, TINY_LOANS
from shelfplan.api import baseline, fit
from shelfplan.cli import main
from shelfplan.errors import LoansError
from shelfplan.ingest.loans import read_loans
from shelfplan.judge.compare import compare
from shelfplan.judge.heldout import (beats, coverage_share, judge_start, rolling_splits,
                                     saw_judge_period, split_date, time_split, tune)
from shelfplan.layout import read_layout, write_layout

LOANS = SAMPLE_LOANS
HALL = SAMPLE_HALL


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
    assert "figures: held out: judged on the loans since 2025-01-01" in r.stdout
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
    assert r.exit_code == 1, r.output
    assert message in r.output and len(r.output.strip().splitlines()) == 1, r.output
    assert list(out.parent.iterdir()) == []
