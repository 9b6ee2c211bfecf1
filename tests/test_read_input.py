"""Issue 10 for reading: undated loans kept, Excel workbooks read, files that are not
text refused in one line; every such case also through the CLI (CliRunner): non-zero
exit, one error line naming the file or option, no traceback, no output file."""

from __future__ import annotations

import io
import logging
import zipfile

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, read_text_loans
from shelfplan.cli import main
from shelfplan.errors import LoansError
from shelfplan.ingest.loans import filter_until, read_loans

KOHA = FIXTURES / "exports" / "koha_issues.csv"


def sessions_of(loans) -> set[frozenset]:
    return {frozenset(g) for _, g in loans.table.groupby("session")["item"]}


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def clean_failure(result, out, *fragments) -> str:
    """Non-zero exit, one line on stderr, no traceback, nothing on stdout, no file."""
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ") and result.stdout == ""
    for text in fragments:
        assert text in lines[0], (text, lines[0])
    if out is not None:
        assert not out.exists()
        assert [p.name for p in out.parent.iterdir() if p.name.startswith(".shelfplan-")] == []
    return lines[0]


def fit_fails(tmp_path, path, *fragments, options=()):
    out = tmp_path / "out.json"
    return clean_failure(run("fit", path, "-o", out, "--time-limit", "1", *options), out,
                         *fragments)


# --- undated loans ---------------------------------------------------------------------

UNDATED = ("patron_id,item_id,timestamp\nP1,A,2024-01-01\nP1,B,\nP1,C,NaN\nP2,D,\n"
           "P2,E,2024-01-01\nP2,F,2024-01-01\n")


def test_empty_timestamps_are_undated_visits_per_patron(caplog):
    with caplog.at_level(logging.WARNING, logger="shelfplan"):
        loans = read_text_loans(UNDATED)
    assert sessions_of(loans) == {frozenset("A"), frozenset("BC"), frozenset("D"),
                                  frozenset("EF")}
    assert loans.n_loans == 6 and loans.dropped == {}
    assert loans.session_rule == "patron + calendar date"
    assert int(loans.table["timestamp"].isna().sum()) == 3
    assert caplog.text.count("empty timestamp") == 1
    assert "3 loans have an empty timestamp in 'timestamp' (e.g. line 3)" in caplog.text
    assert "one undated visit per patron" in caplog.text


def test_undated_visits_with_a_gap_rule():
    loans = read_text_loans(UNDATED, session_gap="30min")
    assert sessions_of(loans) == {frozenset("A"), frozenset("BC"), frozenset("D"),
                                  frozenset("EF")}


def test_undated_loans_without_patrons_are_visits_of_their_own():
    text = ("itemnumber,issuedate\nA,2024-01-01 10:00\nB,2024-01-01 10:00\nC,\nD,\n")
    assert sessions_of(read_text_loans(text)) == {frozenset("AB"), frozenset("C"),
                                                  frozenset("D")}


def test_undated_loans_with_a_session_column():
    text = "visit,item_id,timestamp\nv1,A,\nv1,B,2024-01-01\nv2,C,\n"
    assert sessions_of(read_text_loans(text, session_col="visit")) == {frozenset("AB"),
                                                                       frozenset("C")}


def test_undated_loans_strict():
    with pytest.raises(LoansError, match=r"3 rows have an empty timestamp in 'timestamp' "
                                         r"\(e\.g\. line 3\); fill them in, or drop `strict`"):
        read_text_loans(UNDATED, strict=True)


def test_undated_loans_are_outside_every_date_range():
    loans = read_text_loans(UNDATED)
    assert filter_until(loans, until="2030-01-01").n_loans == 3


def test_empty_timestamp_column_is_a_file_without_timestamps(caplog):
    text = "patron_id,item_id,timestamp\nP1,A,\nP1,B,\nP2,C,\n"
    with caplog.at_level(logging.WARNING, logger="shelfplan"):
        loans = read_text_loans(text)
    assert sessions_of(loans) == {frozenset("AB"), frozenset("C")}
    assert loans.session_rule == "patron (no timestamps)"
    assert "timestamp" not in loans.table and "time" not in loans.columns
    assert "column 'timestamp' is empty in all 3 rows; read as a file without timestamps" \
        in caplog.text
    with pytest.raises(LoansError, match="need a timestamp column"):
        filter_until(loans, until="2024-01-01")
    with pytest.raises(LoansError, match="is empty in all 3 rows; fill in the checkout times, "
                                         "or drop `strict`"):
        read_text_loans(text, strict=True)
    with pytest.raises(LoansError, match=r"`session_gap` needs a timestamp column \(column "
                                         r"'timestamp' is empty\)"):
        read_text_loans(text, session_gap="1h")
    with pytest.raises(LoansError, match="is empty and there is no patron column"):
        read_text_loans("itemnumber,issuedate\nA,\nB,\n")


def test_unparsable_values_beside_empty_ones_are_still_an_error():
    with pytest.raises(LoansError, match="no value in column 'timestamp' is a timestamp"):
        read_text_loans("patron_id,item_id,timestamp\nP1,A,monday\nP1,B,\n")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from("PQR"), st.sampled_from("abcdefgh"),
                          st.sampled_from(["", "2024-01-01", "2024-01-02"])),
                min_size=1, max_size=30))
def test_every_borrowed_book_is_kept(rows):
    text = "patron_id,item_id,timestamp\n" + "".join(f"{p},{i},{t}\n" for p, i, t in rows)
    loans = read_text_loans(text)
    assert set(loans.table["item"]) == {i for _, i, _ in rows}
    assert loans.n_loans == len(rows)
    # visits: one per (patron, date), the undated loans of a patron being one more
    assert loans.table["session"].nunique() == len({(p, t) for p, _, t in rows})


def test_cli_undated_warning_and_strict(tmp_path):
    path = tmp_path / "ledger.csv"
    path.write_text(UNDATED)
    ok = run("stats", path)
    assert ok.exit_code == 0, ok.output
    assert ok.stderr.count("empty timestamp") == 1
    fit_fails(tmp_path, path, str(path), "3 rows have an empty timestamp", "--strict",
              options=["--strict"])
    empty = tmp_path / "undated.csv"
    empty.write_text("patron_id,item_id,timestamp\nP1,A,\nP1,B,\n")
    fit_fails(tmp_path, empty, str(empty), "'timestamp' is empty in all 2 rows", "--strict",
              options=["--strict"])
    fit_fails(tmp_path, empty, "--session-gap needs a timestamp column",
              options=["--session-gap", "1h"])


# --- Excel workbooks -------------------------------------------------------------------


def koha_workbook(path, *, first="Summary"):
    """The Koha fixture as a workbook: an empty first sheet, the loans on 'Loans'."""
    df = pd.read_csv(KOHA, sep=";", dtype=str, encoding="utf-8-sig")
    df["borrowernumber"] = df["borrowernumber"].astype(int)       # numbers as Excel has them
    df["issuedate"] = pd.to_datetime(df["issuedate"])              # real date cells
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        if first:
            pd.DataFrame({"note": ["loans export"]}).to_excel(xl, sheet_name=first,
                                                              index=False)
        df.to_excel(xl, sheet_name="Loans", index=False)
    return path


def test_excel_first_sheet_and_same_column_detection(tmp_path):
    path = koha_workbook(tmp_path / "issues.xlsx", first=None)
    loans, csv = read_loans(path), read_loans(KOHA)
    assert sessions_of(loans) == sessions_of(csv)
    assert loans.columns == csv.columns
    assert loans.table["timestamp"].equals(csv.table["timestamp"])


def test_excel_named_sheet_and_content_not_name(tmp_path):
    path = koha_workbook(tmp_path / "issues.xlsx")
    loans = read_loans(path, sheet="Loans")
    assert sessions_of(loans) == sessions_of(read_loans(KOHA))
    renamed = tmp_path / "issues.csv"           # an xlsx under another name: by its bytes
    renamed.write_bytes(path.read_bytes())
    assert sessions_of(read_loans(renamed, sheet="Loans")) == sessions_of(loans)
    assert sessions_of(read_loans(io.BytesIO(path.read_bytes()), sheet="Loans")) == \
        sessions_of(loans)


def test_excel_errors(tmp_path):
    path = koha_workbook(tmp_path / "issues.xlsx")
    with pytest.raises(LoansError, match=r"no sheet 'Issues' \(sheets: 'Summary', 'Loans'\); "
                                         r"name one with `sheet`"):
        read_loans(path, sheet="Issues")
    with pytest.raises(LoansError, match="found: note"):
        read_loans(path)                         # the first sheet holds no loans
    with pytest.raises(LoansError, match="`sheet` is only for Excel workbooks"):
        read_loans(KOHA, sheet="Loans")


def test_cli_excel(tmp_path):
    path = koha_workbook(tmp_path / "issues.xlsx")
    ok = run("stats", path, "--sheet", "Loans")
    assert ok.exit_code == 0, ok.output
    assert "sessions        3" in ok.stdout
    fit_fails(tmp_path, path, str(path), "no sheet 'Issues'", "'Summary', 'Loans'", "--sheet",
              options=["--sheet", "Issues"])
    fit_fails(tmp_path, KOHA, "--sheet is only for Excel workbooks", options=["--sheet", "X"])


# --- files that are not text -----------------------------------------------------------


def random_bytes(n=4000, seed=0):
    return np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()


def zip_of(name: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(name, "hello")
    return buf.getvalue()


NOT_TEXT = {
    "random.csv": (random_bytes(), "binary data"),
    "random2.csv": (b"patron_id,item_id\n" + random_bytes(seed=1), "binary data"),
    "picture.png": (b"\x89PNG\r\n\x1a\n" + random_bytes(200, seed=2), "binary data"),
    "old.xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "an old Excel .xls"),
    "loans.zip": (zip_of("loans.csv"), "a zip archive"),
    "sheet.ods": (zip_of("content.xml"), "an OpenDocument spreadsheet"),
    "broken.xlsx": (b"PK\x03\x04" + random_bytes(100, seed=3), "a damaged zip archive"),
}


@pytest.mark.parametrize("fname", sorted(NOT_TEXT))
def test_not_a_csv_or_excel_file(tmp_path, fname):
    data, what = NOT_TEXT[fname]
    path = tmp_path / fname
    path.write_bytes(data)
    with pytest.raises(LoansError, match=f"not a CSV or Excel file \\({what}"):
        read_loans(path)
    fit_fails(tmp_path, path, f"{path}: not a CSV or Excel file", what)


def test_utf16_text_needs_its_encoding(tmp_path):
    path = tmp_path / "unicode.txt"
    path.write_bytes("patron_id\titem_id\nP1\tA\nP1\tB\n".encode("utf-16"))
    fit_fails(tmp_path, path, "UTF-16 text; pass --encoding utf-16")
    loans = read_loans(path, encoding="utf-16")
    assert sessions_of(loans) == {frozenset("AB")}


def test_bare_carriage_returns_are_read_or_refused_in_one_line(tmp_path):
    path = tmp_path / "mac.csv"
    path.write_bytes(b"patron_id,item_id\rP1,A\rP1,B\r")
    assert sessions_of(read_loans(path)) == {frozenset("AB")}
    quoted = tmp_path / "quoted.csv"
    quoted.write_bytes(b'patron_id,item_id\nP1,"A\rB\nP2,C\n')
    out = tmp_path / "out.json"
    result = run("fit", quoted, "-o", out, "--time-limit", "1")
    if result.exit_code != 0:
        clean_failure(result, out, str(quoted))


def test_cli_bad_option_value_is_a_usage_error(tmp_path):
    out = tmp_path / "out.json"
    result = run("fit", KOHA, "-o", out, "--max-session-items", "-3")
    assert result.exit_code == 2 and "Traceback" not in result.output and not out.exists()
    assert "Invalid value for '--max-session-items': -3" in result.stderr
