"""Issue 22, item 9: ``compare -q`` and ``hall check -q`` are quiet, an Excel file whose
first sheet is not the loans names --sheet and lists the sheets, and the docs'
``stack-map --titles`` example runs on the sample (its holdings have titles)."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import DATA, SAMPLE_HALL, SAMPLE_LOANS
from shelfplan.api import baseline
from shelfplan.layout import write_layout
from shelfplan.cli import main


@pytest.fixture(scope="module")
def two(tmp_path_factory):
    d = tmp_path_factory.mktemp("small")
    out = []
    for kind in ("callnumber", "popularity"):
        out.append(d / f"{kind}.json")
        write_layout(baseline(kind, SAMPLE_LOANS, SAMPLE_HALL), out[-1])
    return out


def test_compare_quiet_writes_nothing_on_stderr(two, tmp_path):
    png = tmp_path / "c.png"
    r = CliRunner().invoke(main, ["compare", *map(str, two), "--loans", str(SAMPLE_LOANS),
                                  "-o", str(png), "-q"])
    assert r.exit_code == 0, r.output
    assert r.stderr == "" and png.exists() and "walking cost S" in r.stdout
    r = CliRunner().invoke(main, ["compare", *map(str, two), "--loans", str(SAMPLE_LOANS),
                                  "-o", str(png)])
    assert f"figure -> {png}" in r.stderr


def test_hall_check_quiet(tmp_path):
    r = CliRunner().invoke(main, ["hall", "check", str(DATA / "stacked_hall.json"), "-q"])
    assert r.exit_code == 0 and r.output == "", r.output
    bad = tmp_path / "bad.json"
    bad.write_text('{"footprint": [[0, 0], [1, 0]]}', encoding="utf-8")
    r = CliRunner().invoke(main, ["hall", "check", str(bad), "-q"])
    assert r.exit_code == 1 and r.stderr.startswith("Error: ") and r.stdout == ""


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    path = tmp_path_factory.mktemp("xl") / "export.xlsx"
    loans = pd.read_csv(SAMPLE_LOANS, dtype=str).head(40)
    with pd.ExcelWriter(path) as w:
        pd.DataFrame({"report": ["loans 2024"], "rows": ["40"]}).to_excel(
            w, sheet_name="Summary", index=False)
        loans.to_excel(w, sheet_name="Loans", index=False)
    return path


def test_excel_whose_first_sheet_is_not_the_loans(workbook):
    r = CliRunner().invoke(main, ["stats", str(workbook)])
    assert r.exit_code == 1
    line = r.stderr.strip()
    assert "\n" not in line
    assert "sheet 'Summary'" in line and "'Summary', 'Loans'" in line and "--sheet" in line
    r = CliRunner().invoke(main, ["stats", str(workbook), "--sheet", "Loans", "-q"])
    assert r.exit_code == 0 and "loans           40" in r.stdout, r.output


def test_holdings_workbook_names_its_sheets(tmp_path):
    from shelfplan.errors import HoldingsError
    from shelfplan.ingest.holdings import read_holdings

    path = tmp_path / "items.xlsx"
    with pd.ExcelWriter(path) as w:
        pd.DataFrame({"report": ["items"]}).to_excel(w, sheet_name="About", index=False)
        pd.read_csv(DATA / "holdings.csv", dtype=str).head(30).to_excel(
            w, sheet_name="Books", index=False)
    with pytest.raises(HoldingsError, match=r"sheets: 'About', 'Books'"):
        read_holdings(path)
    assert len(read_holdings(path, sheet="Books")) == 30


def test_the_titles_example_runs_on_the_sample(tmp_path):
    plan = tmp_path / "plan.json"
    r = CliRunner().invoke(main, ["baseline", "callnumber", str(SAMPLE_LOANS), "--hall",
                                  str(DATA / "stacked_hall.json"), "-o", str(plan), "-q"])
    assert r.exit_code == 0, r.output
    out = tmp_path / "map.html"
    r = CliRunner().invoke(main, ["stack-map", str(plan), "-o", str(out), "--titles",
                                  str(DATA / "holdings.csv")])
    assert r.exit_code == 0, r.output
    assert "A Short History of" in out.read_text(encoding="utf-8")
    head = (DATA / "holdings.csv").read_text(encoding="utf-8").splitlines()[0]
    assert head == "item_id,call_number,category,title"


def test_generate_holdings_is_deterministic(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "h.csv"
    subprocess.run([sys.executable, str(DATA / "generate_holdings.py"), str(SAMPLE_LOANS),
                    "--books", "1500", "--seed", "7", "-o", str(out)], check=True,
                   capture_output=True)
    assert out.read_bytes() == (DATA / "holdings.csv").read_bytes()
