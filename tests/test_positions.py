"""shelfplan.ingest.positions and ``shelfplan import-positions``: one test per validation rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from shelfplan.api import baseline
from shelfplan.cli import main
from shelfplan.errors import LayoutError
from shelfplan.judge.evaluate import evaluate
from shelfplan.layout import read_layout
from shelfplan.ingest.positions import read_positions
from shelfplan.judge.current import import_positions

DATA = Path(__file__).resolve().parent.parent / "data"
LOANS = DATA / "loans.csv"
HALL = DATA / "hall.json"


@pytest.fixture(scope="module")
def current():
    return baseline("callnumber", LOANS, HALL)


@pytest.fixture
def shelves(tmp_path, current) -> Path:
    """Today's shelving as a CSV (the call-number baseline's positions)."""
    path = tmp_path / "shelves.csv"
    df = pd.DataFrame(current.positions, columns=["x", "y", "z"])
    df.insert(0, "item_id", current.items)
    df.to_csv(path, index=False)
    return path


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "s.csv"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = "item_id,x,y,z\nA,1,1,1\nB,2,1,1\nC,1,2,1.5\n"


def test_round_trip_without_loans(shelves, current):
    layout, warnings = import_positions(shelves, HALL)
    assert warnings == []
    np.testing.assert_allclose(layout.positions, current.positions)
    assert list(layout.items) == list(current.items)
    assert (layout.p == 0).all() and layout.objective == {} and layout.lower_bound == {}
    assert layout.solver["checks"]["feasible"]


def test_with_loans_fills_p_and_the_objective(shelves, current):
    layout, warnings = import_positions(shelves, HALL, loans=LOANS)
    assert warnings == []
    np.testing.assert_allclose(layout.p, current.p)
    assert layout.objective["total"] == pytest.approx(current.objective["total"], rel=1e-6)
    assert layout.lower_bound["total"] == pytest.approx(current.lower_bound["total"])
    assert layout.categories is not None


def test_with_loans_since_matches_evaluate(shelves):
    layout, _ = import_positions(shelves, HALL, loans=LOANS, since="2025-01-01")
    ev = evaluate(layout, LOANS, since="2025-01-01")
    assert layout.objective["total"] == pytest.approx(ev.cost["total"])


def test_duplicate_ids_warn_and_keep_the_first(tmp_path):
    path = write(tmp_path, GOOD + "A,5,5,1\n")
    layout, warnings = import_positions(path, HALL)
    assert layout.n == 3
    np.testing.assert_allclose(layout.positions[0], [1, 1, 1])
    assert any("repeat an item_id" in w and "'A'" in w and "lines 2, 5" in w for w in warnings)


def test_outside_the_hall_warns(tmp_path):
    path = write(tmp_path, GOOD + "D,13,8,1\nE,1,1,3\n")   # beyond the L's corner; too high
    layout, warnings = import_positions(path, HALL)
    assert layout.n == 5
    assert layout.solver["checks"]["outside_hall"] == 2
    assert any("2 books are outside the hall" in w for w in warnings)


def test_spacing_below_d_min_warns(tmp_path):
    path = write(tmp_path, GOOD + "D,1.1,1,1\n")
    layout, warnings = import_positions(path, HALL)
    assert layout.solver["checks"]["pairs_too_close"] == 1
    assert not layout.solver["checks"]["feasible"]
    assert any("closer than d_min=0.3 m" in w for w in warnings)


def test_optional_category_column_is_kept(tmp_path):
    path = write(tmp_path, "item_id,x,y,z,category\nA,1,1,1,510\nB,2,1,1,\n")
    layout, _ = import_positions(path, HALL)
    assert list(layout.categories) == ["510", None]


@pytest.mark.parametrize("text, message", [
    ("item_id,x,y\nA,1,1\n", "missing column z (found: item_id, x, y)"),
    ("id,x,y,z\nA,1,1,1\n", "missing column item_id"),
    ("item_id,x,y,z\nA,1,1,1\nB,2,one,1\n", "column y must be a number of metres, got 'one' at line 3"),
    ("item_id,x,y,z\nA,1,1,\n", "column z must be a number of metres, got '' at line 2"),
    ("item_id,x,y,z\nA,inf,1,1\n", "column x must be a number"),
    ("item_id,x,y,z\nA,nan,1,1\n", "column x must be a number"),
    ("item_id,x,y,z\n,1,1,1\n", "empty item_id at line 2"),
    ("item_id,x,y,z\n", "has a header but no rows"),
    ("", "the file is empty"),
])
def test_bad_tables_are_errors(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(LayoutError) as exc:
        read_positions(path)
    assert message in str(exc.value)


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(LayoutError, match="no such file"):
        read_positions(tmp_path / "nope.csv")


def test_loans_without_common_items_is_an_error(tmp_path):
    path = write(tmp_path, "item_id,x,y,z\nZZZ,1,1,1\n")
    with pytest.raises(LayoutError, match="none of its items"):
        import_positions(path, HALL, loans=LOANS)


# --------------------------------------------------------------- CLI

def test_cli_writes_a_readable_layout(shelves, tmp_path):
    out = tmp_path / "current.json"
    r = CliRunner().invoke(main, ["import-positions", str(shelves), "--hall", str(HALL),
                                  "--loans", str(LOANS), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "feasible" in r.stdout and "S = " in r.stdout
    layout = read_layout(out)
    assert layout.n == 297 and layout.solver["method"] == "import-positions"


def test_cli_warnings_go_to_stderr_and_the_file_is_written(tmp_path):
    path = write(tmp_path, GOOD + "D,1.1,1,1\n")
    out = tmp_path / "current.json"
    r = CliRunner().invoke(main, ["import-positions", str(path), "--hall", str(HALL),
                                  "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "closer than d_min" in r.stderr and "not feasible" in r.stdout
    assert out.exists()


@pytest.mark.parametrize("text", ["item_id,x,y\nA,1,1\n", "item_id,x,y,z\nA,1,oops,1\n"])
def test_cli_bad_input_is_one_line_and_writes_nothing(tmp_path, text):
    path = write(tmp_path, text)
    out = tmp_path / "current.json"
    r = CliRunner().invoke(main, ["import-positions", str(path), "--hall", str(HALL),
                                  "-o", str(out)])
    assert r.exit_code == 1
    assert r.output.startswith("Error: ") and len(r.output.strip().splitlines()) == 1
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [path]        # no temp file left either


def test_cli_needs_a_hall(shelves, tmp_path):
    r = CliRunner().invoke(main, ["import-positions", str(shelves), "-o", str(tmp_path / "x")])
    assert r.exit_code == 2 and "--hall" in r.output


def test_cli_since_needs_loans(shelves, tmp_path):
    r = CliRunner().invoke(main, ["import-positions", str(shelves), "--hall", str(HALL),
                                  "--since", "2025-01-01", "-o", str(tmp_path / "x.json")])
    assert r.exit_code == 2 and "--loans" in r.output


def test_cli_help_has_example():
    r = CliRunner().invoke(main, ["import-positions", "--help"])
    assert r.exit_code == 0 and "shelfplan import-positions shelves.csv" in r.output
