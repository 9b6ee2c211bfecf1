"""Real library exports read as they come (docs/ingest.md): one small fixture in the
shape of each system's export, read with no options, giving the same visits and
estimates; then dialects (gzip, Parquet, dates), visit rules, and privacy.

Every fixture holds the same five checkouts: patron A takes items 1 and 2 on
14 March and item 1 again on 15 March, patron B takes items 2 and 3 on 14 March
(plus renewals, returns and in-house use where the export has a type column).
"""

from __future__ import annotations

import gzip
import io
import logging
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import FIXTURES, read_text_loans
from shelfplan.cli import main
from shelfplan.errors import LoansError
from shelfplan.model.estimate import estimate
from shelfplan.layout import read_layout
from shelfplan.ingest.loans import read_loans

EXPORTS = FIXTURES / "exports"

#: file -> (items 1, 2, 3 as the export names them, columns expected, rows dropped)
SYSTEMS = {
    "koha_issues.csv": (("5001", "5002", "5003"),
                        {"patron": "borrowernumber", "item": "itemnumber",
                         "time": "issuedate", "category": "itemcallnumber"}, {}),
    "koha_statistics.csv": (("5001", "5002", "5003"),
                            {"patron": "borrowernumber", "item": "itemnumber",
                             "time": "datetime", "type": "type"},
                            {"in-house use": 1, "renewal": 1, "return": 1}),
    "evergreen_circ.csv": (("30001", "30002", "30003"),
                           {"patron": "usr", "item": "target_copy", "time": "xact_start"}, {}),
    "folio_loans.csv": (("a0e1-0001", "a0e1-0002", "a0e1-0003"),
                        {"patron": "userId", "item": "itemId", "time": "loanDate",
                         "type": "action"}, {"renewal": 1, "return": 1}),
    "alma_loans.tsv": (("39001001", "39001002", "39001003"),
                       {"patron": "User ID", "item": "Barcode", "time": "Loan Date",
                        "clock": "Loan Time", "category": "Call Number"}, {}),
    "sierra_circ_trans.csv": (("450971001", "450971002", "450971003"),
                              {"patron": "patron_record_id", "item": "item_record_id",
                               "time": "transaction_gmt", "type": "op_code"},
                              {"renewal": 1, "return": 1, "hold": 1}),
}


def sessions_of(loans) -> set[frozenset]:
    return {frozenset(g) for _, g in loans.table.groupby("session")["item"]}


def check_estimates(loans, items):
    one, two, three = items
    assert sessions_of(loans) == {frozenset({one, two}), frozenset({two, three}),
                                  frozenset({one})}
    est = estimate(loans)
    p = dict(zip(est.items, est.p))
    assert p == pytest.approx({one: 0.4, two: 0.4, three: 0.2})
    idx = {k: i for i, k in enumerate(est.items)}
    pair = est.pair.toarray()
    assert pair[idx[one], idx[two]] == pytest.approx(0.4)     # 1 is only ever with 2
    assert pair[idx[two], idx[one]] == pytest.approx(0.2)     # 2 splits between 1 and 3
    assert pair[idx[two], idx[three]] == pytest.approx(0.2)
    assert pair[idx[three], idx[two]] == pytest.approx(0.2)
    assert est.summary["sessions"] == 3 and est.summary["patrons"] == 2


@pytest.mark.parametrize("fname", sorted(SYSTEMS))
def test_each_system_reads_with_no_options(fname, caplog):
    items, columns, dropped = SYSTEMS[fname]
    with caplog.at_level(logging.INFO, logger="shelfplan"):
        loans = read_loans(EXPORTS / fname)
    assert loans.session_rule == "patron + calendar date"
    for role, col in columns.items():
        assert loans.columns[role] == col, (role, loans.columns)
    assert loans.dropped == dropped
    assert loans.n_loans == 5
    check_estimates(loans, items)
    assert "columns " in caplog.text          # the column mapping is reported
    if dropped:
        assert "kept 5 checkouts" in caplog.text


def test_koha_details(caplog):
    with caplog.at_level(logging.INFO, logger="shelfplan"):
        loans = read_loans(EXPORTS / "koha_issues.csv")
    assert "delimiter ';'" in caplog.text
    assert set(loans.table["category"]) == {"005.133 LUT", "005.74 DAT", "510.2 KNU"}


def test_alma_dates_are_day_first_from_the_data():
    loans = read_loans(EXPORTS / "alma_loans.tsv")
    t = loans.table["timestamp"]
    assert str(t.min()) == "2024-03-14 10:15:00" and str(t.max()) == "2024-03-15 09:05:00"


def test_folio_and_sierra_keep_the_wall_clock():
    loans = read_loans(EXPORTS / "sierra_circ_trans.csv")
    assert str(loans.table["timestamp"].min()) == "2024-03-14 10:15:00"
    loans = read_loans(EXPORTS / "folio_loans.csv")
    assert str(loans.table["timestamp"].max()) == "2024-03-15 09:05:00"


@pytest.mark.parametrize("fname", sorted(SYSTEMS))
def test_each_system_through_the_cli(fname, tmp_path):
    runner = CliRunner()
    out = tmp_path / "layout.json"
    result = runner.invoke(main, ["baseline", "popularity", str(EXPORTS / fname), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "note: " in result.stderr and "columns " in result.stderr
    lay = read_layout(out)
    assert sorted(lay.items) == sorted(SYSTEMS[fname][0])
    assert lay.estimation["sessions"] == 3
    quiet = runner.invoke(main, ["stats", str(EXPORTS / fname), "-q"])
    assert quiet.exit_code == 0 and quiet.stderr == ""


# --- columns --------------------------------------------------------------------------


def test_explicit_column_options_win():
    text = "borrowernumber,itemnumber,barcode,issuedate\n1,10,B10,2024-01-01\n1,11,B11,2024-01-01\n"
    with pytest.raises(LoansError) as exc:
        read_text_loans(text)
    msg = str(exc.value)
    assert "'itemnumber' and 'barcode'" in msg and "`item_col`" in msg
    loans = read_text_loans(text, item_col="barcode")
    assert set(loans.table["item"]) == {"B10", "B11"}


def test_canonical_name_is_not_ambiguous_with_an_alias():
    loans = read_text_loans("patron_id,cardnumber,item_id\nP1,C1,A\nP1,C1,B\n")
    assert loans.columns["patron"] == "patron_id" and loans.notes == []


def test_columns_matching_no_export():
    with pytest.raises(LoansError) as exc:
        read_text_loans("reader,book,when\nR1,X,2024-01-01\n")
    msg = str(exc.value)
    assert "found: reader, book, when" in msg and "match no known export" in msg
    for opt in ("`item_col`", "`patron_col`", "`time_col`"):
        assert opt in msg


def test_a_type_column_without_transaction_codes_is_ignored():
    loans = read_text_loans("patron_id,item_id,type\nP1,A,BOOK\nP1,B,DVD\n")
    assert loans.n_loans == 2 and "type" not in loans.columns
    assert any("holds no transaction types" in n for n in loans.notes)


def test_no_checkouts_at_all():
    with pytest.raises(LoansError, match="no checkouts in column 'op_code'"):
        read_text_loans("patron_record_id,item_record_id,op_code\n1,2,i\n1,3,r\n")


# --- dialects -------------------------------------------------------------------------


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_delimiters(sep):
    text = sep.join(["patron_id", "item_id", "timestamp"]) + "\n" + "\n".join(
        sep.join(r) for r in [("P1", "A", "2024-01-01"), ("P1", "B", "2024-01-01")]) + "\n"
    loans = read_text_loans(text)
    assert sessions_of(loans) == {frozenset("AB")}


def test_gzip_is_read_directly(tmp_path):
    raw = (EXPORTS / "koha_issues.csv").read_bytes()
    path = tmp_path / "koha.csv.gz"
    path.write_bytes(gzip.compress(raw))
    check_estimates(read_loans(path), ("5001", "5002", "5003"))
    check_estimates(read_loans(io.BytesIO(gzip.compress(raw))), ("5001", "5002", "5003"))


def truncated_gzip(tmp_path) -> Path:
    rows = "".join(f"P{k % 97},I{k % 1013},2024-01-{1 + k % 28:02d}\n" for k in range(20000))
    data = gzip.compress(("patron_id,item_id,timestamp\n" + rows).encode())
    path = tmp_path / "loans.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    return path


def test_truncated_gzip(tmp_path):
    with pytest.raises(LoansError, match="gzip file is truncated"):
        read_loans(truncated_gzip(tmp_path))


def test_parquet(tmp_path):
    pytest.importorskip("pyarrow")
    import pandas as pd

    df = pd.read_csv(EXPORTS / "folio_loans.csv", dtype=str)
    df["loanDate"] = pd.to_datetime(df["loanDate"], format="ISO8601")
    path = tmp_path / "loans.parquet"
    df.to_parquet(path)
    loans = read_loans(path)
    check_estimates(loans, ("a0e1-0001", "a0e1-0002", "a0e1-0003"))


def test_parquet_without_pyarrow_names_the_extra(tmp_path, monkeypatch):
    import builtins

    path = tmp_path / "loans.parquet"
    path.write_bytes(b"PAR1 not really")
    real = builtins.__import__

    def no_pyarrow(name, *args, **kw):
        if name.startswith("pyarrow"):
            raise ImportError(name)
        return real(name, *args, **kw)

    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    with pytest.raises(LoansError, match=r"needs pyarrow.*shelfplan\[parquet\]"):
        read_loans(path)


def test_rfc3339_offsets_and_date_only():
    text = ("patron_id,item_id,timestamp\nP1,A,2024-01-01T23:30:00+0200\n"
            "P1,B,2024-01-01T08:00:00.000Z\nP1,C,2024-01-02\nP1,D,2024-01-02T10:00:00-05:00\n")
    loans = read_text_loans(text)
    assert sessions_of(loans) == {frozenset("AB"), frozenset("CD")}


def test_ambiguous_day_month_needs_an_option():
    text = "patron_id,item_id,timestamp\nSECRET-P1,A,03/04/2024\nSECRET-P1,B,05/04/2024\n"
    with pytest.raises(LoansError) as exc:
        read_text_loans(text)
    msg = str(exc.value)
    assert "day/month or month/day" in msg and "--dayfirst" in msg and "--monthfirst" in msg
    assert "line 2: item_id='A', timestamp='03/04/2024'" in msg
    assert "SECRET-P1" not in msg
    first = read_text_loans(text, dayfirst=True).table["timestamp"]
    assert str(first.iloc[0].date()) == "2024-04-03"
    assert str(read_text_loans(text, dayfirst=False).table["timestamp"].iloc[0].date()) == \
        "2024-03-04"


def test_day_month_order_from_the_data_and_times():
    text = ("patron_id,item_id,timestamp\nP1,A,01/02/2024 10:00\nP1,B,25/02/2024 2:30 PM\n")
    t = read_text_loans(text).table["timestamp"]
    assert [str(x) for x in t] == ["2024-02-01 10:00:00", "2024-02-25 14:30:00"]


def test_mixed_date_formats_count_and_example():
    text = ("patron_id,item_id,timestamp\nP1,A,2024-01-05\nP1,B,2024-01-05\nP2,C,2024-01-06\n"
            "P2,D,25/01/2024\n")
    with pytest.raises(LoansError) as exc:
        read_text_loans(text)
    msg = str(exc.value)
    assert "mixes date formats" in msg and "3 values like '2024-01-05'" in msg
    assert "1 like '25/01/2024' (line 5)" in msg


# --- visits ---------------------------------------------------------------------------


def test_session_gap_across_midnight():
    text = ("patron_id,item_id,timestamp\nP1,A,2024-01-01T23:50\nP1,B,2024-01-02T00:10\n"
            "P1,C,2024-01-02T09:00\nP2,D,2024-01-02T09:00\n")
    loans = read_text_loans(text, session_gap="30min")
    assert sessions_of(loans) == {frozenset("AB"), frozenset("C"), frozenset("D")}
    assert loans.session_rule == "patron + gap 30 min"
    default = read_text_loans(text)
    assert sessions_of(default) == {frozenset("A"), frozenset("BC"), frozenset("D")}


def test_no_patron_column_same_timestamp_and_branch():
    text = ("itemnumber,issuedate,branch\nA,2024-01-01 10:00:00,N\nB,2024-01-01 10:00:00,N\n"
            "C,2024-01-01 10:00:00,S\nD,2024-01-01 10:05:00,N\n")
    loans = read_text_loans(text)
    assert sessions_of(loans) == {frozenset("AB"), frozenset("C"), frozenset("D")}
    assert "approximation" in loans.session_rule and "branch" in loans.session_rule
    assert loans.n_patrons is None


def test_big_sessions_are_kept_by_default_and_dropped_with_a_cap(caplog):
    rows = "".join(f"P1,I{k},2024-01-01\n" for k in range(60)) + "P2,A,2024-01-01\nP2,B,2024-01-01\n"
    text = "patron_id,item_id,timestamp\n" + rows
    with caplog.at_level(logging.WARNING, logger="shelfplan"):
        every = read_text_loans(text)          # MODEL.md: every session counts
    assert len(sessions_of(every)) == 2 and every.dropped == {} and caplog.text == ""
    assert every.n_patrons == 2
    with caplog.at_level(logging.WARNING, logger="shelfplan"):
        loans = read_text_loans(text, max_session_items=50)
    assert sessions_of(loans) == {frozenset("AB")}
    assert loans.dropped == {"session over 50 items": 60}
    assert loans.n_patrons == 1
    assert "dropped 1 sessions with more than 50 items" in caplog.text
    assert len(sessions_of(read_text_loans(text, max_session_items=0))) == 2
    assert len(sessions_of(read_text_loans(text, max_session_items=60))) == 2


# --- categories from call numbers -----------------------------------------------------


def test_categories_from_call_numbers():
    loans = read_loans(EXPORTS / "koha_issues.csv", category_from="callnumber",
                       category_level=2)
    cats = dict(zip(loans.table["item"], loans.table["category"]))
    assert cats == {"5001": "000", "5002": "000", "5003": "510"}
    loans = read_loans(EXPORTS / "alma_loans.tsv", category_from="callnumber",
                       category_level=2)
    assert set(loans.table["category"]) == {"QA76", "QA9"}
    assert loans.columns["category"] == "Call Number (lcc level 2)"


def test_call_numbers_beside_a_category_column(tmp_path):
    # a ready-made 'category' column must not hide the call numbers when they are asked for
    f = tmp_path / "both.csv"
    f.write_text("patron_id,item_id,timestamp,category,call_number\n"
                 "A,1,2024-03-14,Fiction,510.2 BAR\n"
                 "A,2,2024-03-14,Fiction,005.133 LUT\n")
    loans = read_loans(f, category_from="callnumber")
    assert loans.columns["category"] == "call_number (dewey level 1)"
    assert set(loans.table["category"]) == {"000", "500"}
    assert set(read_loans(f).table["category"]) == {"Fiction"}


def test_category_from_callnumber_cli(tmp_path):
    out = tmp_path / "l.json"
    result = CliRunner().invoke(main, ["baseline", "callnumber", str(EXPORTS / "koha_issues.csv"),
                                       "--category-from", "callnumber", "--scheme", "dewey",
                                       "--category-level", "3", "-o", str(out)])
    assert result.exit_code == 0, result.output
    lay = read_layout(out)
    assert dict(zip(lay.items, lay.categories)) == {"5001": "005", "5002": "005", "5003": "510"}


# --- privacy --------------------------------------------------------------------------

SECRET = "PATRON-7c1e9"


def privacy_cases():
    ok_with_warnings = ("patron_id,item_id,timestamp\n"
                        f"{SECRET},A,2024-01-01\n{SECRET},,2024-01-01\n{SECRET},B,soon\n"
                        f"{SECRET},C,2024-01-01\nOTHER,A,2024-01-02\n")
    bad_strict = f"patron_id,item_id,timestamp\n{SECRET},A,2024-01-01\n{SECRET},B,whenever\n"
    ambiguous = f"patron_id,item_id,timestamp\n{SECRET},A,03/04/2024\n{SECRET},B,05/04/2024\n"
    return ok_with_warnings, bad_strict, ambiguous


def test_patron_ids_never_leave_the_process(tmp_path):
    ok, bad, ambiguous = privacy_cases()
    runner = CliRunner()
    texts = []
    for k, (text, extra) in enumerate([(ok, []), (ok, ["--hash-patrons"]), (bad, ["--strict"]),
                                       (ambiguous, [])]):
        path = tmp_path / f"in{k}.csv"
        path.write_text(text)
        out = tmp_path / f"out{k}.json"
        for args in (["baseline", "popularity", str(path), "-o", str(out)],
                     ["stats", str(path)],
                     ["evaluate", str(out), str(path)] if out.exists() else ["stats", str(path)]):
            result = runner.invoke(main, args + extra)
            texts += [result.stdout, result.stderr]
        if out.exists():
            texts.append(out.read_text())
    assert any("dropped" in t for t in texts) and any("Error" in t for t in texts)
    assert not any(SECRET in t for t in texts)


def test_loans_table_holds_no_patron_id():
    ok, _, _ = privacy_cases()
    loans = read_text_loans(ok)
    assert not loans.table.astype(str).apply(lambda c: c.str.contains(SECRET)).any().any()
    hashed = read_text_loans(ok, hash_patrons=True, patron_salt="s3")
    assert hashed.table["patron"].nunique() == 2
    assert SECRET not in "".join(hashed.table["patron"])
    again = read_text_loans(ok, hash_patrons=True, patron_salt="s3")
    assert list(again.table["patron"]) == list(hashed.table["patron"])   # stable per salt
    other = read_text_loans(ok, hash_patrons=True, patron_salt="another")
    assert not np.intersect1d(other.table["patron"], hashed.table["patron"]).size


# --- bad input through the CLI: one line, non-zero exit, no output file -------------------


def one_line_failure(result, out, *fragments):
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ")
    for text in fragments:
        assert text in lines[0], (text, lines[0])
    assert not out.exists()


def test_cli_truncated_gzip(tmp_path):
    out = tmp_path / "out.json"
    result = CliRunner().invoke(main, ["fit", str(truncated_gzip(tmp_path)), "-o", str(out)])
    one_line_failure(result, out, "loans.csv.gz: the gzip file is truncated")


def test_cli_unknown_columns(tmp_path):
    out = tmp_path / "out.json"
    path = tmp_path / "x.csv"
    path.write_text("reader;book;when\nR1;X;2024-01-01\n")
    result = CliRunner().invoke(main, ["fit", str(path), "-o", str(out)])
    one_line_failure(result, out, "found: reader, book, when", "--item-col", "--patron-col")


def test_cli_mixed_dates(tmp_path):
    out = tmp_path / "out.json"
    path = tmp_path / "x.csv"
    path.write_text("borrowernumber;itemnumber;issuedate\n1;A;2024-01-05\n1;B;13/01/2024\n")
    result = CliRunner().invoke(main, ["fit", str(path), "-o", str(out)])
    one_line_failure(result, out, "mixes date formats", "1 values like '2024-01-05'",
                     "'13/01/2024' (line 3)")


# --- progress while reading a large file -------------------------------------------------


@pytest.mark.parametrize("name", ["koha_issues.csv", "koha_issues.csv.gz"])
def test_progress_reports_bytes_read(tmp_path, monkeypatch, name):
    import shelfplan.ingest.loans as loans_mod

    src = EXPORTS / "koha_issues.csv"
    path = tmp_path / name
    data = src.read_bytes()
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    calls = []
    monkeypatch.setattr(loans_mod, "PROGRESS_BYTES", 0)
    loans = read_loans(path, progress=lambda done, total: calls.append((done, total)))
    assert loans.n_loans == 5
    assert calls and calls[-1][0] == calls[-1][1] == path.stat().st_size
    assert all(a[0] <= b[0] for a, b in zip(calls, calls[1:]))


def test_small_files_get_no_progress_bar():
    calls = []
    read_loans(EXPORTS / "koha_issues.csv", progress=lambda d, t: calls.append(d))
    assert calls == []


def test_cli_progress_bar_on_stderr_only(tmp_path, monkeypatch):
    import shelfplan.ingest.loans as loans_mod

    monkeypatch.setattr(loans_mod, "PROGRESS_BYTES", 0)
    r = CliRunner().invoke(main, ["stats", str(EXPORTS / "koha_issues.csv")])
    assert r.exit_code == 0, r.output
    assert "reading loans" in r.stderr and "reading loans" not in r.stdout
    r = CliRunner().invoke(main, ["stats", str(EXPORTS / "koha_issues.csv"), "-q"])
    assert "reading loans" not in r.output
