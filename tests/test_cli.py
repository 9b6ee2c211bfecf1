"""The command line through click's CliRunner: the happy paths and every bad input.

A bad input must end with a non-zero exit, exactly one line on stderr (no
traceback: ``result.exception`` is the ``SystemExit`` click raises) and no
output file.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import (SAMPLE_HALL, SAMPLE_LOANS, SMALL_HALL, TINY_LOANS, assert_feasible,
                      random_loans_csv)
from shelfplan import __version__
from shelfplan.cli import main
from shelfplan.layout import read_layout

FAST = ["--time-limit", "1"]


@pytest.fixture
def runner():
    return CliRunner()


def invoke(runner, *args, **kw):
    return runner.invoke(main, [str(a) for a in args], **kw)


def assert_ok(result):
    assert result.exit_code == 0, result.output
    assert result.exception is None


def assert_clean_failure(result, out=None, *fragments):
    """Non-zero exit, one error line on stderr, nothing on stdout, no file written."""
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    assert result.stdout == ""
    for text in fragments:
        assert text in lines[0], (text, lines[0])
    if out is not None:
        assert not out.exists()
        assert [p.name for p in out.parent.iterdir() if p.name.startswith(".shelfplan-")] == []
    return lines[0]


def write(tmp_path, name, text, encoding="utf-8"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding=encoding)
    return path


# --- the happy paths on the sample ------------------------------------------------------


def test_fit_on_the_sample(runner, tmp_path):
    out = tmp_path / "layout.json"
    result = invoke(runner, "fit", SAMPLE_LOANS, "--hall", SAMPLE_HALL, "-o", out,
                    "--time-limit", "1")
    assert_ok(result)
    assert "S = " in result.stdout and "S/LB = " in result.stdout
    assert "min spacing 0.3" in result.stdout and str(out) in result.stdout
    assert "penalty" in result.stderr            # progress goes to stderr
    lay = read_layout(out)
    assert lay.n == 297
    assert_feasible(lay.positions, SAMPLE_HALL)
    assert lay.objective["total"] >= lay.lower_bound["total"]


@pytest.mark.parametrize("name", ["popularity", "callnumber", "random"])
def test_baseline_on_the_sample(runner, tmp_path, name):
    out = tmp_path / f"{name}.json"
    result = invoke(runner, "baseline", name, SAMPLE_LOANS, "--hall", SAMPLE_HALL, "-o", out)
    assert_ok(result)
    lay = read_layout(out)
    assert lay.solver["method"] == f"baseline:{name}"
    assert_feasible(lay.positions, SAMPLE_HALL)


def test_stats_on_the_sample(runner):
    result = invoke(runner, "stats", SAMPLE_LOANS, "--top", "3")
    assert_ok(result)
    out = result.stdout
    assert "items           297" in out and "loans           3618" in out
    assert "patron + calendar date" in out
    assert "most borrowed (top 3)" in out and "strongest co-borrowed pairs (top 3)" in out
    assert result.stderr == ""


def test_version(runner):
    result = invoke(runner, "--version")
    assert_ok(result)
    assert result.stdout.strip() == f"shelfplan, version {__version__}"


def test_help_of_the_group_shows_an_example(runner):
    result = invoke(runner, "--help")
    assert_ok(result)
    assert "Example:" in result.stdout and "shelfplan fit" in result.stdout


@pytest.mark.parametrize("command", sorted(main.commands))
def test_help_of_every_command_shows_an_example(runner, command):
    result = runner.invoke(main, [command, "--help"], prog_name="shelfplan")
    assert_ok(result)
    assert f"Usage: shelfplan {command}" in result.stdout
    head, sep, example = result.stdout.partition("Example")   # "Example:" or "Examples:"
    assert sep, f"shelfplan {command} --help has no example"
    assert f"shelfplan {command} " in example


# --- bad input: one line, non-zero exit, no file ---------------------------------------


def test_missing_loans_file(runner, tmp_path):
    out = tmp_path / "out.json"
    result = invoke(runner, "fit", tmp_path / "nope.csv", "-o", out)
    assert_clean_failure(result, out, "nope.csv: no such file")


def test_empty_loans_file(runner, tmp_path):
    out = tmp_path / "out.json"
    result = invoke(runner, "fit", write(tmp_path, "e.csv", ""), "-o", out)
    assert_clean_failure(result, out, "e.csv: the file is empty")


def test_header_only(runner, tmp_path):
    out = tmp_path / "out.json"
    result = invoke(runner, "fit", write(tmp_path, "h.csv", "patron_id,item_id\n"), "-o", out)
    assert_clean_failure(result, out, "has a header but no loans")


def test_missing_required_column_lists_the_columns_found(runner, tmp_path):
    out = tmp_path / "out.json"
    path = write(tmp_path, "c.csv", "reader,book,when\nR1,X,2024-01-01\n")
    result = invoke(runner, "fit", path, "-o", out)
    assert_clean_failure(result, out, "no column 'item_id'", "found: reader, book, when",
                         "--item-col")


BAD_TIMES = ("patron_id,item_id,timestamp\nP1,A,2024-01-01T10:00\nP1,B,2024-01-01T10:05\n"
             "P2,A,31/02/2024\nP2,C,2024-01-03\nP3,B,soon\n")


def test_unparsable_timestamps_strict(runner, tmp_path):
    out = tmp_path / "out.json"
    path = write(tmp_path, "t.csv", BAD_TIMES)
    result = invoke(runner, "fit", path, "-o", out, "--strict")
    assert_clean_failure(result, out, "2 unparsable timestamps", "'31/02/2024' at line 4",
                         "--strict")


def test_unparsable_timestamps_dropped_with_a_warning(runner, tmp_path):
    out = tmp_path / "out.json"
    path = write(tmp_path, "t.csv", BAD_TIMES)
    result = invoke(runner, "fit", path, "-o", out, "--hall", SMALL_HALL, *FAST)
    assert_ok(result)
    assert ("warning: " + str(path) + ": dropped 2 rows with an unparsable timestamp, e.g. "
            "'31/02/2024' at line 4") in result.stderr
    lay = read_layout(out)
    assert sorted(lay.items) == ["A", "B", "C"]
    assert lay.estimation["dropped_rows"] == {"bad timestamp": 2}


def test_unparsable_timestamps_quiet(runner, tmp_path):
    out = tmp_path / "out.json"
    path = write(tmp_path, "t.csv", BAD_TIMES)
    result = invoke(runner, "fit", path, "-o", out, "--hall", SMALL_HALL, "-q", *FAST)
    assert_ok(result)
    assert result.stderr == ""


@pytest.mark.parametrize("bad", ["", "NaN"])
def test_missing_ids_strict(runner, tmp_path, bad):
    out = tmp_path / "out.json"
    path = write(tmp_path, "i.csv", f"patron_id,item_id\nP1,A\nP1,{bad}\nP2,B\n")
    result = invoke(runner, "fit", path, "-o", out, "--strict")
    assert_clean_failure(result, out, "1 rows have an empty or missing id in 'item_id'",
                         "line 3")


@pytest.mark.parametrize("bad", ["", "NaN", "nan", "NULL"])
def test_missing_ids_dropped_with_a_warning(runner, tmp_path, bad):
    out = tmp_path / "out.json"
    path = write(tmp_path, "i.csv", f"patron_id,item_id\nP1,A\nP1,{bad}\n{bad},C\nP2,B\n")
    result = invoke(runner, "fit", path, "-o", out, "--hall", SMALL_HALL, *FAST)
    assert_ok(result)
    assert "dropped 2 rows with an empty or missing id" in result.stderr
    assert sorted(read_layout(out).items) == ["A", "B"]


def test_only_missing_ids(runner, tmp_path):
    out = tmp_path / "out.json"
    path = write(tmp_path, "i.csv", "patron_id,item_id\nP1,NaN\nP2,\n")
    result = invoke(runner, "fit", path, "-o", out, "-q")
    assert_clean_failure(result, out, "no usable loans left")


def test_not_utf8_falls_back_to_cp1252_with_a_warning(runner, tmp_path):
    out = tmp_path / "out.json"
    path = write(tmp_path, "l.csv", "patron_id,item_id\nP1,Gödel\nP1,Escher\n".encode("cp1252"))
    result = invoke(runner, "fit", path, "-o", out, "--hall", SMALL_HALL, *FAST)
    assert_ok(result)
    assert "not valid UTF-8 (byte 0xf6" in result.stderr and "read as cp1252" in result.stderr
    assert sorted(read_layout(out).items) == ["Escher", "Gödel"]


def test_explicit_encoding_is_strict(runner, tmp_path):
    out = tmp_path / "out.json"
    path = write(tmp_path, "l.csv", "patron_id,item_id\nP1,Gödel\nP1,Escher\n".encode("cp1252"))
    result = invoke(runner, "fit", path, "-o", out, "--encoding", "utf-8")
    assert_clean_failure(result, out, "not valid utf-8", "--encoding")
    result = invoke(runner, "fit", path, "-o", out, "--encoding", "cp1252", "--hall",
                    SMALL_HALL, *FAST)
    assert_ok(result)
    assert sorted(read_layout(out).items) == ["Escher", "Gödel"]


def test_unknown_encoding(runner, tmp_path):
    out = tmp_path / "out.json"
    result = invoke(runner, "stats", TINY_LOANS, "--encoding", "klingon")
    assert_clean_failure(result, out, "unknown encoding 'klingon'")


def test_hall_not_json(runner, tmp_path):
    out = tmp_path / "out.json"
    hall = write(tmp_path, "hall.json", "footprint: [[0, 0], [1, 0]]\n")
    result = invoke(runner, "fit", TINY_LOANS, "--hall", hall, "-o", out)
    assert_clean_failure(result, out, "hall.json: not valid JSON")


def test_hall_fails_validation(runner, tmp_path):
    out = tmp_path / "out.json"
    data = json.loads(SMALL_HALL.read_text())
    data["z_range"] = [1.8, 0.3]
    hall = write(tmp_path, "hall.json", json.dumps(data))
    result = invoke(runner, "fit", TINY_LOANS, "--hall", hall, "-o", out)
    assert_clean_failure(result, out, "hall.json: z_range is reversed")


def test_hall_missing(runner, tmp_path):
    out = tmp_path / "out.json"
    result = invoke(runner, "baseline", "random", TINY_LOANS, "--hall",
                    tmp_path / "nohall.json", "-o", out)
    assert_clean_failure(result, out, "no such hall file")


def test_hall_too_small(runner, tmp_path):
    out = tmp_path / "out.json"
    data = {**json.loads(SMALL_HALL.read_text()), "obstacles": [],
            "footprint": [[0, 0], [1, 0], [1, 1], [0, 1]], "entrance": [0.5, 0, 1.0]}
    hall = write(tmp_path, "closet.json", json.dumps(data))
    result = invoke(runner, "fit", SAMPLE_LOANS, "--hall", hall, "-o", out)
    assert_clean_failure(result, out, "cannot hold 297 items at d_min=0.3 m", "at most")


def test_output_in_a_missing_directory(runner, tmp_path):
    out = tmp_path / "no" / "such" / "dir" / "out.json"
    result = invoke(runner, "fit", TINY_LOANS, "--hall", SMALL_HALL, "-o", out, "-q", *FAST)
    assert_clean_failure(result, None, "does not exist")
    assert not (tmp_path / "no").exists()


def test_output_in_a_missing_directory_baseline(runner, tmp_path):
    out = tmp_path / "missing" / "out.json"
    result = invoke(runner, "baseline", "popularity", TINY_LOANS, "-o", out)
    assert_clean_failure(result, None, "does not exist")
    assert not (tmp_path / "missing").exists()


def test_usage_errors_exit_2(runner, tmp_path):
    result = invoke(runner, "fit", TINY_LOANS)             # no -o
    assert result.exit_code == 2 and "Missing option '-o'" in result.stderr
    result = invoke(runner, "baseline", "alphabetical", TINY_LOANS, "-o", tmp_path / "x.json")
    assert result.exit_code == 2 and not (tmp_path / "x.json").exists()


# --- inputs that are odd but fine -------------------------------------------------------


def test_single_item(runner, tmp_path):
    out = tmp_path / "out.json"
    path = write(tmp_path, "one.csv", "patron_id,item_id\nP1,B1\nP2,B1\n")
    result = invoke(runner, "fit", path, "-o", out, *FAST)
    assert_ok(result)
    lay = read_layout(out)
    assert list(lay.items) == ["B1"] and lay.p.tolist() == [1.0]
    assert_feasible(lay.positions, lay.hall.to_dict())


def test_no_co_borrowing(runner, tmp_path):
    out = tmp_path / "out.json"
    rows = "".join(f"P{k},I{k % 7},2024-01-{1 + k:02d}\n" for k in range(20))
    path = write(tmp_path, "lone.csv", "patron_id,item_id,timestamp\n" + rows)
    result = invoke(runner, "fit", path, "--hall", SMALL_HALL, "-o", out, *FAST)
    assert_ok(result)
    lay = read_layout(out)
    assert lay.n == 7 and lay.estimation["co_borrowed_pairs"] == 0
    assert lay.objective["pair_term"] == 0.0
    assert lay.objective["total"] == pytest.approx(lay.objective["entrance_term"])
    assert_feasible(lay.positions, SMALL_HALL)


def test_duplicate_loans_count_once(runner, tmp_path):
    text = TINY_LOANS.read_text(encoding="utf-8")
    dup = text + text.splitlines()[1] + "\n"        # A again on P1's first visit
    path = write(tmp_path, "dup.csv", dup)
    result = invoke(runner, "stats", path)
    assert_ok(result)
    assert "duplicates 2" in result.stdout
    out = tmp_path / "out.json"
    assert_ok(invoke(runner, "baseline", "popularity", path, "--hall", SMALL_HALL, "-o", out))
    lay = read_layout(out)
    assert dict(zip(lay.items, lay.p)) == {"A": 0.25, "B": 0.375, "C": 0.25, "D": 0.125}
    assert lay.estimation["duplicate_loans"] == 2


def test_stdin(runner, tmp_path):
    out = tmp_path / "out.json"
    text = random_loans_csv(12, 20, seed=3)
    result = invoke(runner, "fit", "-", "--hall", SMALL_HALL, "-o", out, *FAST, input=text)
    assert_ok(result)
    lay = read_layout(out)
    assert lay.n == len({line.split(",")[1] for line in text.splitlines()[1:]})
    assert lay.estimation["source"] == "<stdin>"
    result = invoke(runner, "stats", "-", input=text)
    assert_ok(result)
    assert "source          <stdin>" in result.stdout


def test_stdin_empty(runner, tmp_path):
    result = invoke(runner, "stats", "-", input="")
    assert_clean_failure(result, None, "<stdin>: the file is empty")


def test_column_options(runner, tmp_path):
    out = tmp_path / "out.json"
    path = write(tmp_path, "c.csv", "visit,book,shelf\nv1,X,500\nv1,Y,500\nv2,Z,600\n")
    result = invoke(runner, "baseline", "callnumber", path, "--session-col", "visit",
                    "--item-col", "book", "--category-col", "shelf", "-o", out)
    assert_ok(result)
    lay = read_layout(out)
    assert lay.estimation["session_rule"] == "session column 'visit'"
    assert dict(zip(lay.items, lay.categories)) == {"X": "500", "Y": "500", "Z": "600"}


def test_until(runner, tmp_path):
    out = tmp_path / "out.json"
    result = invoke(runner, "baseline", "popularity", TINY_LOANS, "--until", "2024-01-02",
                    "-o", out)
    assert_ok(result)
    lay = read_layout(out)
    assert lay.estimation["loans"] == 7 and lay.estimation["until"].startswith("2024-01-02")
    result = invoke(runner, "baseline", "popularity", TINY_LOANS, "--until", "2020-01-01",
                    "-o", out.with_name("early.json"))
    assert_clean_failure(result, out.with_name("early.json"), "no loans left in the date range")


def test_layout_file_sections(runner, tmp_path):
    out = tmp_path / "out.json"
    assert_ok(invoke(runner, "fit", TINY_LOANS, "--hall", SMALL_HALL, "-o", out, *FAST))
    data = json.loads(out.read_text(encoding="utf-8"))
    for key in ("format", "version", "hall", "items", "objective", "lower_bound",
                "min_spacing", "estimation", "solver"):
        assert key in data
    assert {"id", "position", "p", "category"} == set(data["items"][0])
    assert data["solver"]["seed"] == 0


def test_ctrl_c_during_fit_still_writes_a_feasible_layout(runner, tmp_path, monkeypatch):
    import shelfplan.solve.items as solve_mod

    def interrupted(*args, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(solve_mod, "minimize", interrupted)
    out = tmp_path / "out.json"
    result = invoke(runner, "fit", TINY_LOANS, "--hall", SMALL_HALL, "-o", out, *FAST)
    assert_ok(result)
    assert "interrupted" in result.stderr
    lay = read_layout(out)
    assert lay.solver["interrupted"] is True
    assert_feasible(lay.positions, SMALL_HALL)


def test_ctrl_c_while_reading_writes_nothing(runner, tmp_path, monkeypatch):
    import shelfplan.ingest.loans as loans_mod

    def interrupted(*args, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(loans_mod, "read_loans", interrupted)
    out = tmp_path / "out.json"
    result = invoke(runner, "fit", TINY_LOANS, "-o", out)
    assert result.exit_code == 130
    assert "nothing written" in result.stderr and not out.exists()


def test_fit_output_is_deterministic(runner, tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    for out in (a, b):   # four books; no time limit: the search stops when it converges
        assert_ok(invoke(runner, "fit", TINY_LOANS, "--hall", SMALL_HALL, "-o", out,
                         "--seed", "4", "--kicks", "5"))
    pa, pb = read_layout(a).positions, read_layout(b).positions
    np.testing.assert_array_equal(pa, pb)


def test_output_in_a_missing_directory_fails_before_solving(runner, tmp_path, monkeypatch):
    import shelfplan.api as api_mod

    calls = []
    real_fit = api_mod.fit

    def recording_fit(*args, **kw):
        calls.append(1)
        return real_fit(*args, **kw)

    monkeypatch.setattr(api_mod, "fit", recording_fit)
    out = tmp_path / "missing" / "out.json"
    result = invoke(runner, "fit", TINY_LOANS, "--hall", SMALL_HALL, "-o", out, "-q", *FAST)
    assert_clean_failure(result, None, "does not exist")
    assert calls == [], "the solver ran before the output path was checked"
