"""Reading loans and forming sessions (MODEL.md section 1), one rule per test."""

from __future__ import annotations

import io
import logging

import pandas as pd
import pytest

from conftest import SAMPLE_LOANS, TINY_LOANS, read_text_loans
from shelfplan.errors import LoansError
from shelfplan.ingest.loans import filter_until, read_loans


def sessions_of(loans) -> set[frozenset]:
    """The sessions as sets of distinct items (what the estimator sees)."""
    return {frozenset(g) for _, g in loans.table.groupby("session")["item"]}


def test_patron_and_date_rule():
    loans = read_loans(TINY_LOANS)
    assert loans.session_rule == "patron + calendar date"
    assert sessions_of(loans) == {
        frozenset("ABC"),   # P1 on 1 Jan (A twice)
        frozenset("AB"),    # P1 on 2 Jan
        frozenset("BD"),    # P2 on 1 Jan
        frozenset("C"),     # P3 on 1 Jan
    }
    assert loans.n_loans == 9 and loans.n_rows_read == 9 and loans.n_patrons == 3
    assert loans.has_category


def test_no_timestamp_column_one_session_per_patron():
    text = "patron_id,item_id\nP1,A\nP1,B\nP2,A\nP1,C\n"
    loans = read_text_loans(text)
    assert loans.session_rule == "patron (no timestamp column)"
    assert sessions_of(loans) == {frozenset("ABC"), frozenset("A")}
    assert "timestamp" not in loans.table


def test_explicit_session_column_overrides_patron_and_date():
    text = ("visit,patron_id,item_id,timestamp\n"
            "v1,P1,A,2024-01-01T10:00\n"
            "v1,P2,B,2024-01-05T10:00\n"      # another patron and day, same visit id
            "v2,P1,C,2024-01-01T10:30\n")     # same patron and day, another visit
    loans = read_text_loans(text, session_col="visit")
    assert loans.session_rule == "session column 'visit'"
    assert sessions_of(loans) == {frozenset("AB"), frozenset("C")}


def test_session_column_needs_no_patron_column():
    loans = read_text_loans("basket,item_id\n1,A\n1,B\n2,A\n", session_col="basket")
    assert sessions_of(loans) == {frozenset("AB"), frozenset("A")}
    assert loans.n_patrons is None


def test_calendar_date_is_the_local_wall_clock_date():
    # 23:30 at +02:00 is still 1 January where the library is
    text = ("patron_id,item_id,timestamp\n"
            "P1,A,2024-01-01T23:30:00+02:00\n"
            "P1,B,2024-01-01T08:00:00Z\n"
            "P1,C,2024-01-02\n")
    loans = read_text_loans(text)
    assert sessions_of(loans) == {frozenset("AB"), frozenset("C")}


def test_custom_column_names():
    text = "reader,book,when,shelf\nR1,X,2024-03-01,5\nR1,Y,2024-03-01,5\n"
    loans = read_text_loans(text, patron_col="reader", item_col="book", time_col="when",
                            category_col="shelf")
    assert sessions_of(loans) == {frozenset("XY")}
    assert list(loans.table["category"]) == ["5", "5"]


def test_ids_and_categories_are_text_and_stripped():
    text = "patron_id,item_id,category\n 007 , 0012 ,005\n007,0012 ,005\n"
    loans = read_text_loans(text)
    assert list(loans.table["item"]) == ["0012", "0012"]
    assert list(loans.table["category"]) == ["005", "005"]
    assert loans.n_patrons == 1
    assert len(sessions_of(loans)) == 1


def test_utf8_bom_is_ignored():
    raw = "\ufeffpatron_id,item_id\nP1,A\n".encode("utf-8")
    loans = read_loans(io.BytesIO(raw))
    assert list(loans.table["item"]) == ["A"]


def test_other_encoding_falls_back_to_cp1252_with_a_warning(caplog):
    raw = "patron_id,item_id\nP1,Gödel\n".encode("cp1252")
    with caplog.at_level(logging.WARNING, logger="shelfplan"):
        loans = read_loans(io.BytesIO(raw))
    assert list(loans.table["item"]) == ["Gödel"]
    assert "not valid UTF-8" in caplog.text and "read as cp1252" in caplog.text


def test_explicit_encoding_is_used_and_strict():
    raw = "patron_id,item_id\nP1,Gödel\n".encode("cp1252")
    with pytest.raises(LoansError, match="not valid utf-8.*`encoding`"):
        read_loans(io.BytesIO(raw), encoding="utf-8")
    loans = read_loans(io.BytesIO(raw), encoding="cp1252")
    assert list(loans.table["item"]) == ["Gödel"]


# --- errors: one test per rule -------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(LoansError, match="no such file"):
        read_loans(tmp_path / "nope.csv")


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(LoansError, match="is a directory"):
        read_loans(tmp_path)


def test_empty_file():
    with pytest.raises(LoansError, match="empty"):
        read_text_loans("")
    with pytest.raises(LoansError, match="empty"):
        read_text_loans("  \n\n")


def test_header_only():
    with pytest.raises(LoansError, match="header but no loans"):
        read_text_loans("patron_id,item_id,timestamp\n")


def test_missing_item_column_lists_found_columns():
    with pytest.raises(LoansError) as exc:
        read_text_loans("patron,book\nP1,A\n")
    msg = str(exc.value)
    assert "'item_id'" in msg and "found: patron, book" in msg and "`item_col`" in msg


def test_missing_patron_column_without_session_column():
    with pytest.raises(LoansError, match=r"'patron_id'.*found: item_id.*`patron_col`"):
        read_text_loans("item_id\nA\n")


def test_explicitly_named_optional_column_must_exist():
    with pytest.raises(LoansError, match="'when'.*`time_col`"):
        read_text_loans("patron_id,item_id\nP1,A\n", time_col="when")


def test_unreadable_csv():
    with pytest.raises(LoansError, match="not a readable CSV"):
        read_text_loans('patron_id,item_id\nP1,A\nP2,B,extra,fields\n')


def test_unparsable_timestamps_dropped_with_warning(caplog):
    text = ("patron_id,item_id,timestamp\nP1,A,2024-01-01\nP1,B,yesterday\n"
            "P2,C,2024-13-45\nP2,D,2024-01-02\n")
    with caplog.at_level(logging.WARNING, logger="shelfplan"):
        loans = read_text_loans(text)
    assert set(loans.table["item"]) == {"A", "D"}
    assert loans.dropped == {"bad timestamp": 2}
    assert "dropped 2 rows" in caplog.text and "'yesterday'" in caplog.text


def test_unparsable_timestamps_strict_says_how_many_and_shows_one():
    text = ("patron_id,item_id,timestamp\nP1,A,2024-01-01\nP1,B,yesterday\n"
            "P2,C,2024-13-45\n")
    with pytest.raises(LoansError) as exc:
        read_text_loans(text, strict=True)
    msg = str(exc.value)
    assert "2 unparsable timestamps" in msg and "'yesterday' at line 3" in msg


def test_no_timestamp_parses_at_all():
    with pytest.raises(LoansError, match="no value in column 'timestamp' is a timestamp"):
        read_text_loans("patron_id,item_id,timestamp\nP1,A,monday\nP1,B,tuesday\n")


@pytest.mark.parametrize("bad", ["", "NaN", "nan", "NULL", "None", "N/A"])
def test_missing_item_ids_dropped_with_warning(bad, caplog):
    text = f"patron_id,item_id\nP1,A\nP1,{bad}\nP2,B\n"
    with caplog.at_level(logging.WARNING, logger="shelfplan"):
        loans = read_text_loans(text)
    assert set(loans.table["item"]) == {"A", "B"}
    assert loans.dropped == {"empty id": 1}
    assert "line 3" in caplog.text


@pytest.mark.parametrize("bad", ["", "NaN"])
def test_missing_ids_strict(bad):
    with pytest.raises(LoansError, match=r"1 rows have an empty or missing id in 'patron_id'"):
        read_text_loans(f"patron_id,item_id\nP1,A\n{bad},B\n", strict=True)


def test_only_missing_ids_is_an_error():
    with pytest.raises(LoansError, match="no usable loans"):
        read_text_loans("patron_id,item_id\nP1,NaN\nP2,\n")


def test_sample_reads_cleanly(caplog):
    with caplog.at_level(logging.WARNING, logger="shelfplan"):
        loans = read_loans(SAMPLE_LOANS)
    assert caplog.text == ""
    assert loans.n_rows_read == 3618 and loans.dropped == {}
    assert loans.table["item"].nunique() == 297


def test_filter_until_and_since():
    loans = read_loans(TINY_LOANS)
    before = filter_until(loans, until="2024-01-02")
    assert set(before.table["timestamp"].dt.day) == {1}
    after = filter_until(loans, since="2024-01-02")
    assert set(after.table["item"]) == {"A", "B"} and len(after.table) == 2
    with pytest.raises(LoansError, match="no loans left.*2024-01-01 to 2024-01-02"):
        filter_until(loans, until="2023-01-01")
    no_time = read_text_loans("patron_id,item_id\nP1,A\n")
    with pytest.raises(LoansError, match="need a timestamp"):
        filter_until(no_time, until=pd.Timestamp("2024-01-01"))
