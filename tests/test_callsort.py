"""Call numbers in shelf order (shelfplan.ingest.callsort): fixture, tricky pairs, invariants."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shelfplan.errors import ParameterError, ShelfplanError
from shelfplan.ingest.callsort import (MISSING, ORDER, SCHEMES, call_number_scheme, classify,
                                      shelf_ranks, sort_keys)

FIXTURE = Path(__file__).parent / "fixtures" / "call_numbers.csv"
SHELF = pd.read_csv(FIXTURE, keep_default_na=False)  # file order is shelf order


def section(scheme: str) -> list[str]:
    return list(SHELF.call_number[SHELF.scheme == scheme])


def assert_increasing(values: list[str], scheme: str) -> None:
    k = sort_keys(values, scheme)
    wrong = [(values[i], values[i + 1]) for i in range(len(values) - 1) if not k[i] < k[i + 1]]
    assert not wrong


def test_fixture_is_big_enough_and_covers_every_scheme():
    assert len(SHELF) >= 80 and set(SHELF.scheme) == set(ORDER)
    assert SHELF.call_number.is_unique


@pytest.mark.parametrize("scheme", ORDER)
@pytest.mark.parametrize("how", ["named", "auto"])
def test_each_section_of_the_fixture_is_in_shelf_order(scheme, how):
    values = section(scheme)
    assert_increasing(values, scheme if how == "named" else "auto")
    assert set(classify(values, "auto")) == {scheme}


def test_shuffled_fixture_sorts_back_to_file_order():
    # Dewey, LCC, SuDoc and text in one collection (mixed schemes sort by ORDER, the
    # prefixed sequences J, REF, YA after the call numbers without a prefix); the UDC
    # section alone (a UDC library reads 004.43 as UDC, a Dewey one as Dewey)
    rng = np.random.default_rng(7)
    mixed = [v for s in ("dewey", "lcc", "sudoc", "text") for v in section(s)]
    prefixed = [v for v in mixed if v.split()[0] in ("J", "REF", "YA")]
    mixed = [v for v in mixed if v not in prefixed] + prefixed
    for values in (mixed, section("udc")):
        shuffled = pd.Series(values).iloc[rng.permutation(len(values))]
        order = np.argsort(sort_keys(shuffled), kind="stable")
        assert list(shuffled.iloc[order]) == values


@pytest.mark.parametrize("lo, hi, scheme", [
    ("QA76.73", "QA76.9", "lcc"),            # decimals of the class number
    ("QA9", "QA76", "lcc"), ("QA76", "QA760", "lcc"),  # whole numbers as numbers
    ("QA76", "QA76 .A1", "lcc"),             # nothing before something
    ("Q335", "QA9", "lcc"), ("QA76.73.P98", "QA76.73.P98 L88", "lcc"),
    ("TR647 .W453", "TR647 .W5", "lcc"),     # cutters as decimals
    ("QA76.73.P98 L88 2019", "QA76.73.P98 L88 2019 c.2", "lcc"),
    ("513.2", "513.25", "dewey"), ("513.25", "513.3", "dewey"),
    ("813.54 S6445s 2005 v.2", "813.54 S6445s 2005 v.10", "dewey"),
    ("005.133 L96", "005.133 LUT", "dewey"), ("641.5945 B279s", "641.5945 B28", "dewey"),
    ("813/.54 S64", "813.6 A1", "dewey"),    # segmentation mark ignored
    ("005.133 LUT", "J 005.1 SMI", "dewey"),  # prefixed collections after
    ("004", "004.4", "udc"), ("004.4", "005", "udc"), ("004:378", "004.4", "udc"),
    ("622+669", "622", "udc"), ("51(075.8)", "51-7", "udc"),
    ("FIC SMITH 2", "FIC SMITH 10", "text"), ("v.2", "v.10", "text"),
])
def test_tricky_pairs(lo, hi, scheme):
    for s in (scheme, "auto"):
        k = sort_keys([hi, lo], s)
        assert k[1] < k[0], (lo, hi, s)


def test_udc_auxiliaries_file_in_the_udc_order():
    chain = ["59+63", "59/61", "59", "59:63", "59=111", "59(075)", "59(438)", "59(=411)",
             '59"19"', "59-7", "59'1", "591"]
    assert_increasing(chain, "udc")
    assert_increasing(chain, "auto")


def test_missing_values_come_last_and_tie():
    values = [None, "QA76", np.nan, "", "  ", "FIC SMITH", "510 GOW", pd.NA]
    k = sort_keys(values)
    assert list(k) == [3, 1, 3, 3, 3, 2, 0, 3]
    assert list(classify(values)) == [MISSING, "lcc", MISSING, MISSING, MISSING, "text",
                                      "dewey", MISSING]
    assert sort_keys(pd.Series([None, None])).tolist() == [0, 0]
    assert sort_keys([]).dtype == np.int64 and len(sort_keys([])) == 0


def test_case_and_spacing_do_not_matter_but_content_does():
    k = sort_keys(["QA76.73 .P98", "qa76.73  .p98", "QA76.73 .P99", "005.133 lut", "005.133 LUT"])
    assert k[0] == k[1] != k[2] and k[3] == k[4]


def test_named_scheme_sends_what_does_not_fit_to_text_after_it():
    values = ["510(075.8)", "QA76", "005.133 LUT", "FIC SMITH"]
    assert list(classify(values, "dewey")) == ["text", "text", "dewey", "text"]
    k = sort_keys(values, "dewey")
    assert k[2] == 0 and k[[0, 1, 3]].min() > 0
    assert list(sort_keys(["B10", "B9", "A"], "text")) == [2, 1, 0]


def test_ambiguous_values_follow_the_collection():
    # 004.43 reads as Dewey and as UDC: a UDC collection (auxiliaries) takes it as UDC
    assert classify(["004.43", "510(075.8)", "37.015.3"])[0] == "udc"
    assert classify(["004.43", "J 005.1 SMI", "REF 030 ENC"])[0] == "dewey"
    # J 813.54 reads as Dewey (juvenile) and as LCC class J
    assert classify(["J 813.54 ROW", "005.1 MCC", "510 GOW"])[0] == "dewey"
    assert classify(["J 813.54 ROW", "QA76 .A1", "E185.86 .B37"])[0] == "lcc"


def test_bad_scheme_is_one_clear_line():
    with pytest.raises(ParameterError, match=r"`scheme` must be one of auto, dewey, lcc, sudoc, "
                                             r"udc, text, got 'nlm'") as e:
        sort_keys(["QA76"], "nlm")
    assert isinstance(e.value, ShelfplanError) and "\n" not in str(e.value)


def test_matches_pycallnumber_on_lcc():
    # pycallnumber (optional, not a dependency) orders LCC correctly: agree with it
    pcn = pytest.importorskip("pycallnumber")
    values = section("lcc")
    theirs = [pcn.callnumber(v).for_sort() for v in values]
    assert sorted(values, key=lambda v: theirs[values.index(v)]) == values


ATOMS = st.sampled_from(list(SHELF.call_number) + ["", "QA76", "qa76", "v.2", "v.10", "0"])
TEXT = st.text(alphabet="AQJ05.:() v-/", max_size=12)
VALUES = st.lists(st.one_of(ATOMS, TEXT, st.none()), max_size=40)


@settings(max_examples=150, deadline=None)
@given(VALUES, st.randoms(use_true_random=False),
       st.sampled_from(["auto", "dewey", "lcc", "sudoc", "udc", "text"]))
def test_keys_are_a_total_preorder_stable_under_permutation(values, rnd, scheme):
    k = sort_keys(values, scheme)
    assert k.dtype == np.int64 and len(k) == len(values)
    if len(k):
        assert set(k.tolist()) == set(range(k.max() + 1))  # dense ranks
    same = {}
    for v, r in zip(values, k):  # equal strings, equal keys
        same.setdefault(v, set()).add(int(r))
    assert all(len(r) == 1 for r in same.values())
    perm = list(range(len(values)))
    rnd.shuffle(perm)
    assert list(sort_keys([values[i] for i in perm], scheme)) == list(k[perm])


@settings(max_examples=100, deadline=None)
@given(st.lists(ATOMS, min_size=2, max_size=30, unique=True),
       st.sampled_from(["dewey", "lcc", "sudoc", "udc", "text"]))
def test_a_named_scheme_orders_any_subset_as_the_whole(values, scheme):
    whole = sort_keys(values, scheme)
    half = values[: len(values) // 2 + 1]
    part = sort_keys(half, scheme)
    n = len(half)
    i, j = np.triu_indices(n, 1)
    assert np.array_equal(np.sign(part[i] - part[j]), np.sign(whole[:n][i] - whole[:n][j]))


def test_prefixes_file_as_sequences_in_the_order_given():
    values = ["FOLIO N6490 .A1", "QA76 .A1", "REF QA76.9", "REF QA76.73", "OVERSIZE QA1",
              "JUV PZ7 .R79835", "Folio N5 .B2"]
    order = lambda po: [values[i] for i in np.argsort(shelf_ranks(values, prefix_order=po),
                                                      kind="stable")]
    # default: no prefix first, then the prefixes alphabetically
    assert order(None) == ["QA76 .A1", "Folio N5 .B2", "FOLIO N6490 .A1", "JUV PZ7 .R79835",
                           "OVERSIZE QA1", "REF QA76.73", "REF QA76.9"]
    # the library's order; "-" places the books without a prefix; unnamed ones last
    assert order("REF,FOLIO,-") == ["REF QA76.73", "REF QA76.9", "Folio N5 .B2",
                                    "FOLIO N6490 .A1", "QA76 .A1", "JUV PZ7 .R79835",
                                    "OVERSIZE QA1"]
    assert order(["ref", "folio"]) == order("REF,FOLIO")


def test_a_prefix_never_breaks_the_order_behind_it():
    lc = [v for v in section("lcc")]
    plain = np.argsort(shelf_ranks(lc), kind="stable")
    for prefix in ("REF", "FOLIO", "Oversize", "+"):
        assert list(np.argsort(shelf_ranks([f"{prefix} {v}" for v in lc]), kind="stable")) \
            == list(plain)


def test_bad_prefix_order_is_one_clear_line():
    with pytest.raises(ParameterError, match="names 'REF' twice"):
        shelf_ranks(["REF QA76"], prefix_order="REF,ref")


def test_call_number_scheme_reads_sudoc():
    assert list(call_number_scheme(["Y 4.ED 8/1:117-48", "HE 20.40:", "QA76 .A1", None])) == \
        ["sudoc", "sudoc", "lcc", MISSING]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(), st.text(max_size=2000), st.none(),
                          st.builds(lambda a, b: a + " " + b, ATOMS, st.text())), max_size=20),
       st.sampled_from(list(SCHEMES)),
       st.one_of(st.none(), st.lists(st.text(max_size=8), max_size=4, unique_by=str.upper)))
def test_no_input_raises(values, scheme, prefix_order):
    try:
        r = shelf_ranks(values, scheme, prefix_order=prefix_order)
    except ParameterError as e:        # only a prefix named twice (after normalisation)
        assert "twice" in str(e)
        return
    assert r.dtype == np.int64 and len(r) == len(values)
    assert len(call_number_scheme(values, scheme)) == len(values)


def test_one_string_is_not_a_list_of_call_numbers():
    with pytest.raises(ParameterError, match=r"got one string 'QA76'; pass \['QA76'\]"):
        shelf_ranks("QA76")
    assert list(shelf_ranks(np.array([823.0, np.nan, 5.0]))) == [1, 2, 0]


def test_letters_that_are_no_lc_class_are_a_prefix():
    assert list(classify(["YR DVD 800.1", "YR DVD 900", "QA76 .A1"])) == ["dewey", "dewey", "lcc"]
    # J is LC's political science: the collection decides (see the test above)
    assert classify(["J 813.54 ROW", "QA76 .A1"])[0] == "lcc"


LC_SHAPE = st.builds(
    lambda c, n, d, sp, l1, d1, c2, y: f"{c}{n}{d}{sp}.{l1}{d1}{c2}{y}",
    st.sampled_from(["Q", "QA", "KQH", "B", "W", "Z"]), st.sampled_from(["0", "1", "76", "9999"]),
    st.sampled_from(["", ".73", ".05"]), st.sampled_from(["", " "]),
    st.sampled_from("AKPZ"), st.sampled_from(["1", "98", "05", "365"]),
    st.sampled_from(["", " L88", " A05"]), st.sampled_from(["", " 2005", " 1901", " 0123"]))
DEWEY_SHAPE = st.builds(
    lambda c, d, l1, d1, w, y, v: f"{c}{d} {l1}{d1}{w}{y}{v}",
    st.sampled_from(["005", "813", "000"]), st.sampled_from(["", ".133", ".05"]),
    st.sampled_from("ALSZ"), st.sampled_from(["96", "05", "6445"]),
    st.sampled_from(["", "A", "AB"]),
    st.sampled_from(["", " 2005", " 0123"]), st.sampled_from(["", " V.3", " V.10", " V.03"]))


@settings(max_examples=300, deadline=None)
@given(LC_SHAPE, DEWEY_SHAPE)
def test_the_common_shapes_keep_the_general_key(lc, dewey):
    from shelfplan.ingest import callkeys

    assert callkeys.lcc_key(lc) == callkeys.lcc_general(lc)
    assert callkeys.dewey_key(dewey) == callkeys.dewey_general(dewey)
    assert callkeys.dewey_key(dewey, True) == callkeys.dewey_general(dewey, True)
