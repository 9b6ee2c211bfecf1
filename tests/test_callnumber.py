"""Categories from call numbers (shelfplan.ingest.callnumber): Dewey, LCC, UDC, and junk."""

from __future__ import annotations

import pytest

from shelfplan.ingest.callnumber import OTHER, parse
from shelfplan.errors import LoansError

REAL = ["QA76.73.P98 L876 2019", "005.133 LUT", "510(075.8)", "Internet Access", "",
        "FIC SMI", "J 005.1 SMI", "HF5548.4 .M523 2011", "821.111-31", "1984"]


@pytest.mark.parametrize("level, expected", [
    (1, ["000", "500", "000"]), (2, ["000", "510", "000"]), (3, ["005", "512", "005"])])
def test_dewey_levels(level, expected):
    labels, scheme, bad = parse(["005.133 LUT", "512.5 STR", "J 005.1 SMI"], "dewey", level)
    assert list(labels) == expected and scheme == "dewey" and bad == 0


def test_lcc_levels():
    values = ["QA76.73.P98 L876 2019", "HF5548.4 .M523 2011", "E185.86 .B37", "QA9 .K58"]
    assert list(parse(values, "lcc", 1)[0]) == ["QA", "HF", "E", "QA"]
    assert list(parse(values, "lcc", 2)[0]) == ["QA76", "HF5548", "E185", "QA9"]


def test_udc_levels():
    values = ["510(075.8)", "004.43", "821.111-31"]
    assert list(parse(values, "udc", 1)[0]) == ["5", "0", "8"]
    assert list(parse(values, "udc", 2)[0]) == ["510", "004", "821"]


def test_junk_goes_to_one_other_group_and_is_counted():
    labels, _, bad = parse(REAL, "dewey", 1)
    assert list(labels) == ["other", "000", "other", "other", "other", "other", "000",
                            "other", "other", "other"]
    assert bad == 8 and OTHER == "other"


@pytest.mark.parametrize("values, scheme", [
    (["005.133 LUT", "510.2 KNU", "Internet Access"], "dewey"),
    (["510(075.8)", "004.43", "821.111-31"], "udc"),
    (["QA76.73.P98 L876 2019", "Q335 .R86 2010", "Internet Access"], "lcc"),
])
def test_auto_picks_the_scheme(values, scheme):
    assert parse(values, "auto", 1)[1] == scheme


def test_bad_options():
    with pytest.raises(LoansError, match="`scheme`"):
        parse(["510"], "bliss", 1)
    with pytest.raises(LoansError, match="`category_level`"):
        parse(["510"], "dewey", 4)
