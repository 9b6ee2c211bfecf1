"""``shelfplan estimate`` and ``fit``/``baseline --estimates``: the file stands for the
loans, with the same layout for the same seed; clear one-line errors."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import SAMPLE_HALL, SAMPLE_LOANS, SMALL_HALL, TINY_LOANS
from shelfplan.cli import main
from shelfplan.layout import read_layout
from shelfplan.model.estimates_file import read_counts


@pytest.fixture
def runner():
    return CliRunner()


def invoke(runner, *args):
    return runner.invoke(main, [str(a) for a in args])


def assert_ok(result):
    assert result.exit_code == 0, result.output
    assert result.exception is None


def assert_one_line_error(result, *fragments):
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    for frag in fragments:
        assert frag in result.stderr, result.stderr


@pytest.mark.parametrize("engine", ["pandas", "duckdb", "dask"])
def test_fit_from_estimates_gives_the_same_layout(runner, tmp_path, engine):
    est = tmp_path / "tiny.est"
    r = invoke(runner, "estimate", TINY_LOANS, "-o", est, "--engine", engine)
    assert_ok(r)
    assert "loans 9  sessions 4  items 4  pairs 4  multi-item sessions 3" in r.stdout
    assert read_counts(est).meta["engine"] == engine
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    fit = ("--hall", SMALL_HALL, "--seed", "4", "--kicks", "5")     # converges: no limit
    assert_ok(invoke(runner, "fit", TINY_LOANS, "-o", a, *fit))
    assert_ok(invoke(runner, "fit", "--estimates", est, "-o", b, *fit))
    la, lb = read_layout(a), read_layout(b)
    np.testing.assert_array_equal(la.positions, lb.positions)
    assert la.estimation == lb.estimation


def test_baseline_from_estimates(runner, tmp_path):
    est = tmp_path / "sample.est"
    assert_ok(invoke(runner, "estimate", SAMPLE_LOANS, "-o", est, "--engine", "duckdb"))
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    assert_ok(invoke(runner, "baseline", "popularity", SAMPLE_LOANS, "--hall", SAMPLE_HALL,
                     "-o", a))
    assert_ok(invoke(runner, "baseline", "popularity", "--estimates", est, "--hall",
                     SAMPLE_HALL, "-o", b))
    np.testing.assert_array_equal(read_layout(a).positions, read_layout(b).positions)
    assert read_layout(a).objective == read_layout(b).objective


def test_until_goes_through_the_file(runner, tmp_path):
    est = tmp_path / "past.est"
    assert_ok(invoke(runner, "estimate", TINY_LOANS, "--until", "2024-01-02", "-o", est))
    out = tmp_path / "l.json"
    assert_ok(invoke(runner, "fit", "--estimates", est, "--until", "2024-01-02", "-o", out,
                     "--hall", SMALL_HALL))
    assert read_layout(out).estimation["sessions"] == 3
    r = invoke(runner, "fit", "--estimates", est, "--until", "2024-03-01", "-o", out)
    assert_one_line_error(r, "written with --until 2024-01-02", "shelfplan estimate --until")


def test_usage_errors(runner, tmp_path):
    est = tmp_path / "tiny.est"
    assert_ok(invoke(runner, "estimate", TINY_LOANS, "-o", est, "-q"))
    out = tmp_path / "x.json"
    r = invoke(runner, "fit", TINY_LOANS, "--estimates", est, "-o", out)
    assert r.exit_code == 2 and "not both" in r.output
    r = invoke(runner, "fit", "-o", out)
    assert r.exit_code == 2 and "LOANS" in r.output
    r = invoke(runner, "estimate", TINY_LOANS, "-o", out, "--scheduler", "tcp://x:1")
    assert r.exit_code == 2 and "--engine dask" in r.output
    r = invoke(runner, "fit", "--estimates", est, "--tune", "-o", out)
    assert_one_line_error(r, "is a shelfplan estimates file", "needs the loans")
    assert not out.exists()


def test_bad_inputs_are_one_line(runner, tmp_path):
    cut = tmp_path / "cut.est"
    assert_ok(invoke(runner, "estimate", TINY_LOANS, "-o", tmp_path / "whole.est"))
    data = (tmp_path / "whole.est").read_bytes()
    cut.write_bytes(data[:200])
    out = tmp_path / "x.json"
    assert_one_line_error(invoke(runner, "fit", "--estimates", cut, "-o", out),
                          "cut.est: the estimates file is damaged")
    bad = tmp_path / "b.csv.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00 not really gzip")
    r = invoke(runner, "estimate", TINY_LOANS, bad, "-o", tmp_path / "e.est",
               "--engine", "duckdb")
    assert_one_line_error(r, "b.csv.gz")
    assert not (tmp_path / "e.est").exists()
    r = invoke(runner, "estimate", TINY_LOANS, "-o", tmp_path / "e.est", "--engine", "dask",
               "--scheduler", "tcp://127.0.0.1:9")
    assert_one_line_error(r, "no dask scheduler answers at tcp://127.0.0.1:9")
