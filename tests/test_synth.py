"""Tests of the synthetic loans generator and the bundled sample data."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from shelfplan.ingest.synth import default_n_topics, generate_loans

DATA = Path(__file__).resolve().parent.parent / "data"
COLUMNS = ["patron_id", "item_id", "timestamp", "category"]


@pytest.fixture(scope="module")
def loans() -> pd.DataFrame:
    return generate_loans(400, loans_per_item=10, seed=3)


def visits(df: pd.DataFrame):
    """Group loans into visits: one patron on one calendar date."""
    return df.groupby([df["patron_id"], df["timestamp"].str[:10]])


def test_deterministic_for_seed():
    a = generate_loans(200, loans_per_item=8, seed=11)
    b = generate_loans(200, loans_per_item=8, seed=11)
    pd.testing.assert_frame_equal(a, b)
    c = generate_loans(200, loans_per_item=8, seed=12)
    assert not a.equals(c)


def test_columns(loans):
    assert list(loans.columns[:4]) == COLUMNS
    assert set(loans.columns) <= set(COLUMNS) | {"call_number"}
    assert not loans.isna().any().any()


@pytest.mark.parametrize(("n_items", "per_item"), [(400, 10), (120, 6), (2000, 15)])
def test_loan_count_near_request(n_items, per_item):
    df = generate_loans(n_items, loans_per_item=per_item, seed=0)
    assert abs(len(df) - n_items * per_item) <= 0.2 * n_items * per_item


def test_item_count(loans):
    n = loans["item_id"].nunique()
    assert 0.9 * 400 <= n <= 400


def test_id_formats(loans):
    assert loans["item_id"].str.fullmatch(r"B\d{5}").all()
    assert loans["patron_id"].str.fullmatch(r"P\d{4,}").all()


def test_timestamps_iso_within_opening_hours(loans):
    assert loans["timestamp"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d").all()
    ts = pd.to_datetime(loans["timestamp"], format="%Y-%m-%dT%H:%M:%S")
    seconds = ts.dt.hour * 3600 + ts.dt.minute * 60 + ts.dt.second
    assert seconds.between(9 * 3600, 20 * 3600).all()
    assert ts.min() >= pd.Timestamp("2024-01-01")
    assert ts.max() < pd.Timestamp("2024-01-01") + pd.Timedelta(days=540)
    # items of one visit (patron, date) are minutes apart, not hours
    span = ts.groupby([loans["patron_id"], loans["timestamp"].str[:10]]).agg(lambda s: s.max() - s.min())
    assert (span < pd.Timedelta(hours=2)).mean() > 0.99


def test_session_sizes_vary(loans):
    sizes = visits(loans)["item_id"].nunique()
    assert (sizes == 1).any()
    assert (sizes >= 3).sum() >= 0.1 * len(sizes)
    assert 1.8 <= sizes.mean() <= 3.0
    assert sizes.max() <= 12


def test_few_duplicates(loans):
    """Repeats of an item within a visit are rare (deliberate double scans)."""
    dup = loans.assign(date=loans["timestamp"].str[:10]).duplicated(["patron_id", "date", "item_id"])
    assert 0 < dup.sum() <= 0.02 * len(loans)


def test_categories_are_three_digit_strings(loans):
    assert loans["category"].map(lambda c: isinstance(c, str) and re.fullmatch(r"\d{3}", c) is not None).all()
    assert (loans["call_number"].str[:3] == loans["category"]).all()
    assert loans["call_number"].str.fullmatch(r"\d{3}\.\d\d [A-Z]{3}").all()
    # every item has exactly one category
    assert (loans.groupby("item_id")["category"].nunique() == 1).all()


def test_sessions_are_topical(loans):
    """Items of one visit share a category far more often than random pairs."""
    df = loans.assign(date=loans["timestamp"].str[:10]).drop_duplicates(["patron_id", "date", "item_id"])
    pairs = df.merge(df, on=["patron_id", "date"])
    pairs = pairs[pairs["item_id_x"] < pairs["item_id_y"]]
    same = (pairs["category_x"] == pairs["category_y"]).mean()
    share = df["category"].value_counts(normalize=True)
    assert same > 2 * (share**2).sum()


def test_explicit_topics_and_small_inputs():
    df = generate_loans(5, loans_per_item=4, n_topics=10, seed=2)
    assert df["item_id"].nunique() <= 5
    assert len(df) > 0
    assert default_n_topics(300) == 12
    assert default_n_topics(10) == 4
    assert default_n_topics(10**7) == 60


def test_invalid_arguments():
    with pytest.raises(ValueError):
        generate_loans(0)
    with pytest.raises(ValueError):
        generate_loans(10, loans_per_item=0)


def test_sample_csv():
    df = pd.read_csv(DATA / "loans.csv", dtype=str)
    assert list(df.columns[:4]) == COLUMNS
    assert 3000 <= len(df) <= 4500
    assert df["category"].str.fullmatch(r"\d{3}").all()
    assert 250 <= df["item_id"].nunique() <= 300


def test_sample_csv_matches_generator():
    """data/loans.csv is what its documented command produces (same numpy RNG streams)."""
    df = pd.read_csv(DATA / "loans.csv", dtype=str)
    expected = generate_loans(300, loans_per_item=12, seed=7)
    pd.testing.assert_frame_equal(df, expected, check_dtype=False)


def test_sample_hall():
    hall = json.loads((DATA / "hall.json").read_text())
    assert {"name", "footprint", "obstacles", "z_range", "entrance", "d_min"} <= hall.keys()
    footprint = hall["footprint"]
    area2 = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(footprint, footprint[1:] + footprint[:1]))
    assert area2 > 0  # counter-clockwise
    assert len(hall["entrance"]) == 3
    assert len(hall["obstacles"]) == 2
