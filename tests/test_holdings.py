"""Holdings: every book the library shelves (shelfplan.ingest.holdings)."""

from __future__ import annotations

import gzip
import io
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shelfplan.errors import HoldingsError
from shelfplan.ingest.holdings import SIERRA_ITEM_BASE, merge_holdings, read_holdings
from shelfplan.ingest.loans import read_loans

FIX = Path(__file__).parent / "fixtures"


def write(tmp_path, text: str, name: str = "h.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- each system's export, read without options ---------------------------------------


@pytest.mark.parametrize("name, columns, first", [
    ("koha_items", {"item": "itemnumber", "callnumber": "itemcallnumber", "category": "ccode",
                    "title_id": "biblionumber"}, ("5001", "005.133 LUT")),
    ("evergreen_copy", {"item": "id", "callnumber": "label", "category": "circ_modifier"},
     ("30001", "QA76.73.P98 L876 2019")),
    ("folio_items", {"item": "id", "callnumber": "effectiveCallNumberComponents.callNumber / "
                                                "itemLevelCallNumber",
                     "category": "materialType.name"}, ("a0e1-0001", "QA76.73.P98 L876")),
    ("alma_items", {"item": "Barcode", "callnumber": "Permanent Call Number",
                    "category": "Material Type", "title": "Title", "title_id": "MMS Id"},
     ("39001001", "QA76.73.P98 L876 2019")),
    ("sierra_items", {"item": "RECORD #(ITEM)", "callnumber": "CALL #(ITEM) / CALL #(BIBLIO)",
                      "title": "TITLE"}, ("i10000179", "QA76.73.P98 L876 2019")),
    ("plain", {"item": "item_id", "callnumber": "call_number", "category": "category",
               "title": "title", "width": "width_mm"}, ("B00001", "510.23 SMI")),
])
def test_each_export_is_read_without_options(name, columns, first):
    h = read_holdings(FIX / f"holdings_{name}.csv")
    assert h.columns == columns
    assert (h.items[0], h.callnumbers[0]) == first
    assert h.items.dtype == object and len(set(h.items)) == len(h)


def test_call_numbers_fall_back_row_by_row_and_evergreen_takes_the_label():
    folio = read_holdings(FIX / "holdings_folio_items.csv")
    assert list(folio.callnumbers) == ["QA76.73.P98 L876", "QA76.9.D3 D37", "PS3545.H16"]
    sierra = read_holdings(FIX / "holdings_sierra_items.csv")
    assert sierra.callnumbers[1] == "QA76.9.D3 D37 2020"     # the item's own beats the bib's
    assert sierra.titles[0] == "Learning Python / Mark Lutz."
    evergreen = read_holdings(FIX / "holdings_evergreen_copy.csv")
    assert evergreen.callnumbers[3] == "QA76.73.P98 L876 2019 c.2"   # not the id 7004


def test_koha_values_missing_shelfmark_and_alternatives():
    h = read_holdings(FIX / "holdings_koha_items.csv")
    assert list(h.items) == ["5001", "5002", "5003", "5004", "5005"]
    assert h.callnumbers[4] is None and h.categories[4] is None
    assert list(h.title_ids) == ["900", "901", "902", "900", "903"]
    assert h.titles is None and h.widths is None
    assert list(h.alternatives) == ["barcode"]
    assert h.warnings == [f"{FIX / 'holdings_koha_items.csv'}: 1 of 5 books have no call "
                          f"number or category (e.g. line 6); they have no place in "
                          f"call-number order"]


def test_widths_in_metres_from_the_unit_in_the_name(tmp_path):
    assert read_holdings(FIX / "holdings_plain.csv").widths == pytest.approx([0.032, 0.025, 0.018])
    p = write(tmp_path, "item_id,call_number,width\nA,1,0.03\nB,2,\nC,3,0,04\n".replace(
        "0,04", '"0,04"'))
    h = read_holdings(p)
    assert h.widths[0] == pytest.approx(0.03) and np.isnan(h.widths[1])
    assert h.widths[2] == pytest.approx(0.04)
    assert h.warnings == [f"{p}: 1 of 3 books have no width in 'width'"]
    p = write(tmp_path, "item_id,call_number,width_cm\nA,1,2.5\n")
    assert read_holdings(p).widths == pytest.approx([0.025])


def test_options_name_the_columns(tmp_path):
    p = write(tmp_path, "copy,shelfmark,coll,name,w\nA,510 SMI,Maths,Calculus,0.03\n"
                        "B,746 ALL,Crafts,Quilts,0.02\n")
    h = read_holdings(p, item_col="copy", callnumber_col="shelfmark", category_col="coll",
                      title_col="name", width_col="w")
    assert list(h.items) == ["A", "B"] and list(h.callnumbers) == ["510 SMI", "746 ALL"]
    assert list(h.categories) == ["Maths", "Crafts"] and list(h.titles) == ["Calculus", "Quilts"]
    assert h.widths == pytest.approx([0.03, 0.02]) and h.item_col_given
    koha = read_holdings(FIX / "holdings_koha_items.csv", item_col="barcode")
    assert koha.items[0] == "39000005001" and koha.columns["item"] == "barcode"


# --- file kinds ------------------------------------------------------------------------


def test_gzip_excel_and_a_file_object(tmp_path):
    text = (FIX / "holdings_plain.csv").read_bytes()
    gz = tmp_path / "h.csv.gz"
    gz.write_bytes(gzip.compress(text))
    assert list(read_holdings(gz).items) == ["B00001", "B00002", "B00003"]
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Items"
    for row in (["Barcode", "Permanent Call Number", "Title"], [39001001, "QA76 .L8", "Py"],
                [39001002, "QA77 .D3", "DB"]):
        sheet.append(row)
    book.save(tmp_path / "items.xlsx")
    h = read_holdings(tmp_path / "items.xlsx", sheet="Items")
    assert list(h.items) == ["39001001", "39001002"] and h.titles[1] == "DB"
    assert list(read_holdings(io.BytesIO(text)).callnumbers)[0] == "510.23 SMI"


# --- errors and warnings ---------------------------------------------------------------


def test_no_id_column_lists_the_columns_seen(tmp_path):
    p = write(tmp_path, "call_number,title\n510 SMI,Calculus\n")
    with pytest.raises(HoldingsError) as exc:
        read_holdings(p)
    assert str(exc.value) == (f"{p}: no item id column ('item_id', 'itemnumber', 'barcode', "
                              f"'id', 'RECORD #(ITEM)', ...) among the columns seen: "
                              f"call_number, title; name it with `item_col`")
    assert "--holdings-col item_id=COLUMN" in exc.value.for_cli()          # issue 22
    assert "--item-col" not in exc.value.for_cli()
    with pytest.raises(HoldingsError, match=r"no column 'copy' for the item \(found: "
                                            r"call_number, title\); name the right one "
                                            r"with `item_col`"):
        read_holdings(p, item_col="copy")


def test_duplicate_ids_are_an_error_with_lines(tmp_path):
    p = write(tmp_path, "barcode,call_number\n1,A\n2,B\n1,C\n3,D\n2,E\n")
    with pytest.raises(HoldingsError) as exc:
        read_holdings(p)
    assert str(exc.value) == (f"{p}: 2 item ids appear more than once in 'barcode' (e.g. "
                              f"'1' at lines 2 and 4); a book cannot have two places: remove "
                              f"the duplicate rows, or name a unique id column with `item_col`")


def test_empty_file_no_rows_and_not_a_table(tmp_path):
    p = write(tmp_path, "")
    with pytest.raises(HoldingsError, match=r": the file is empty; expected a CSV with a "
                                            r"header row and one book per row"):
        read_holdings(p)
    p = write(tmp_path, "item_id,call_number\n")
    with pytest.raises(HoldingsError, match=r": has a header but no books; export the rows"):
        read_holdings(p)
    png = tmp_path / "h.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    with pytest.raises(HoldingsError, match=r"h.png: not a CSV or Excel file \(binary data: "
                                            r".*\); export the holdings as CSV"):
        read_holdings(png)
    with pytest.raises(HoldingsError, match=r"no such file; check the path to the "
                                            r"holdings file"):
        read_holdings(tmp_path / "missing.csv")
    with pytest.raises(HoldingsError, match=r"`sheet` is only for Excel workbooks"):
        read_holdings(FIX / "holdings_plain.csv", sheet="Items")


@pytest.mark.parametrize("column, value, what", [
    ("width", "thin", "are not numbers"),
    ("width", "-0.01", "are not more than 0"),
    ("width_mm", "0", "are not more than 0"),
    ("width", "25", "are over 1 m"),
])
def test_bad_widths(tmp_path, column, value, what):
    p = write(tmp_path, f"item_id,call_number,{column}\nA,1,0.5\nB,2,{value}\n")
    if column == "width_mm":
        p = write(tmp_path, f"item_id,call_number,{column}\nA,1,20\nB,2,{value}\n")
    with pytest.raises(HoldingsError) as exc:
        read_holdings(p)
    assert str(exc.value) == (f"{p}: 1 widths in {column!r} {what} (e.g. {value!r} at line "
                              f"3); give widths in metres, or name the unit in the column "
                              f"(width_mm, width_cm)")


def test_empty_ids_and_missing_call_numbers_warn(tmp_path, caplog):
    p = write(tmp_path, "item_id,call_number\nA,510 SMI\n,746 ALL\nC,\nD,\n")
    with caplog.at_level(logging.WARNING, logger="shelfplan.ingest.holdings"):
        h = read_holdings(p)
    assert list(h.items) == ["A", "C", "D"]
    assert h.warnings == [
        f"{p}: dropped 1 rows with an empty or missing id in 'item_id' (e.g. line 3)",
        f"{p}: 2 of 3 books have no call number or category (e.g. line 4); they have no "
        f"place in call-number order"]
    assert [r.getMessage() for r in caplog.records] == h.warnings
    with pytest.raises(HoldingsError, match=r"1 rows have an empty or missing id in "
                                            r"'item_id' \(e.g. line 3\); fill them in or "
                                            r"drop `strict`"):
        read_holdings(p, strict=True)
    p = write(tmp_path, "item_id,title\nA,Calculus\n")
    assert read_holdings(p).warnings == [
        f"{p}: no call-number or category column (found: item_id, title); books are "
        f"shelved without call-number order; name one with `callnumber_col` or "
        f"`category_col`"]


# --- merging with the loans ------------------------------------------------------------


def test_merge_adds_borrowed_books_missing_from_the_holdings(tmp_path):
    h = read_holdings(write(tmp_path, "item_id,call_number,category\nA,510 SMI,510\n"
                                      "B,746 ALL,\nC,152 WAL,152\n"))
    loans = read_loans(write(tmp_path, "patron_id,item_id,timestamp,category\n"
                                       "p1,C,2024-01-01T10:00,152\np1,X,2024-01-01T10:01,900\n"
                                       "p2,B,2024-01-02T10:00,746\np2,X,2024-01-02T10:05,900\n",
                             "loans.csv"))
    books = merge_holdings(h, loans)
    assert list(books.items) == ["A", "B", "C", "X"]
    assert list(books.loan_index) == [2, 3, 1]           # C, X, B in order of first loan
    assert list(books.in_holdings) == [True, True, True, False]
    assert list(books.callnumbers) == ["510 SMI", "746 ALL", "152 WAL", None]
    assert list(books.categories) == ["510", "746", "152", "900"]   # holdings, else loans
    assert list(books.expand([0.5, 0.25, 0.125])) == [0.0, 0.125, 0.5, 0.25]
    assert books.n_added == 1 and books.id_col == "item_id"
    assert books.warnings == [f"{h.source}: 1 of 3 borrowed items are not in the holdings "
                              f"(e.g. 'X'); added as books without a call number"]


def test_merge_takes_the_id_column_the_loans_use():
    h = read_holdings(FIX / "holdings_koha_items.csv")
    books = merge_holdings(h, ["39000005002", "39000005003"])
    assert books.id_col == "barcode" and books.n_added == 0
    assert list(books.loan_index) == [1, 2] and books.items[0] == "39000005001"
    assert books.notes == [f"{h.source}: item ids from 'barcode': 2 of 2 borrowed items match "
                           f"it, 0 match 'itemnumber'; name the column with `item_col`"]
    pinned = merge_holdings(read_holdings(FIX / "holdings_koha_items.csv", item_col="itemnumber"),
                            ["39000005002"])
    assert pinned.id_col == "itemnumber" and pinned.n_added == 1
    assert "do the loans use the ids in 'itemnumber'? name the holdings' id column with " \
           "`item_col`" in pinned.warnings[0]
    sierra = read_holdings(FIX / "holdings_sierra_items.csv")
    rid = str(SIERRA_ITEM_BASE + 1000018)                   # i10000180: record 1000018
    books = merge_holdings(sierra, [rid])
    assert books.id_col == "RECORD #(ITEM) as item_record_id" and list(books.loan_index) == [1]


def test_merge_with_estimates_like_objects_and_bad_levels():
    class Est:
        items = np.array(["5003", "9999"], dtype=object)
        categories = np.array(["X", "Y"], dtype=object)
        summary = {"level": "item"}

    h = read_holdings(FIX / "holdings_koha_items.csv")
    books = merge_holdings(h, Est())
    assert list(books.categories) == ["COMP", "COMP", "MATH", "COMP", None, "Y"]
    Est.summary = {"level": "category"}
    with pytest.raises(HoldingsError, match=r"the loans place 'category' units; use `level` "
                                            r"item with holdings"):
        merge_holdings(h, Est())
    with pytest.raises(HoldingsError, match=r"items must be unique"):
        merge_holdings(h, ["1", "1"])


def test_sample_holdings_cover_the_sample_loans():
    root = Path(__file__).parent.parent
    h = read_holdings(root / "data" / "holdings.csv")
    books = merge_holdings(h, read_loans(root / "data" / "loans.csv"))
    assert books.n_added == 0 and 1000 < len(books) < 3360
    assert all(c is not None for c in books.callnumbers)


def test_merge_on_100k_holdings():
    n = 100_000
    ids = np.array([f"B{k:07d}" for k in range(n)], dtype=object)
    from shelfplan.ingest.holdings import Holdings
    h = Holdings(items=ids, callnumbers=ids, categories=None, titles=None, widths=None,
                 source="h.csv", alternatives={"barcode": ids + "x"})
    loans = np.random.default_rng(0).permutation(ids)[:25_000]
    loans = np.concatenate([loans, np.array([f"Z{k}" for k in range(100)], dtype=object)])
    books = merge_holdings(h, loans)            # its speed: docs/ingest.md (tests check results)
    assert len(books) == n + 100 and (books.items[books.loan_index] == loans).all()


# --- invariants ------------------------------------------------------------------------

ids_strategy = st.lists(st.text(alphabet=st.characters(whitelist_categories=("L", "N"),
                                                       max_codepoint=0x2FF),
                                min_size=1, max_size=8),
                        min_size=1, max_size=30, unique=True)


@settings(max_examples=40, deadline=None)
@given(ids=ids_strategy)
def test_ids_round_trip_in_file_order(ids):
    ids = [i for i in ids if i.lower() not in {"nan", "null", "none", "na"}] or ["x"]
    frame = pd.DataFrame({"item_id": ids, "call_number": [f"{k:03d}" for k in range(len(ids))]})
    buf = io.BytesIO(frame.to_csv(index=False).encode("utf-8"))
    h = read_holdings(buf)
    assert list(h.items) == ids
    assert list(h.callnumbers) == list(frame["call_number"])


@settings(max_examples=40, deadline=None)
@given(ids=ids_strategy, data=st.data())
def test_merge_keeps_holdings_order_and_maps_every_loan_item(ids, data):
    from shelfplan.ingest.holdings import Holdings
    h = Holdings(items=np.array(ids, dtype=object), callnumbers=None, categories=None,
                 titles=None, widths=None, source="h")
    extra = [f"new{k}" for k in range(data.draw(st.integers(0, 5)))]
    loans = data.draw(st.permutations(ids + extra))[:data.draw(st.integers(0, len(ids) + 5))]
    books = merge_holdings(h, np.array(loans, dtype=object))
    assert list(books.items[:len(ids)]) == ids
    assert list(books.items[books.loan_index]) == list(loans)
    assert len(books) == len(ids) + len(set(loans) - set(ids))
