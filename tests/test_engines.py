"""The estimate engines (duckdb, pandas, dask) and the estimates file: the same counts
as the pandas reader and estimator, hand-checked, and clear errors on bad input."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SAMPLE_LOANS, TINY_LOANS
from shelfplan.errors import LoansError
from shelfplan.ingest.loans import read_loans
from shelfplan.model.engines import count_loans, estimate_to_file
from shelfplan.model.estimate import estimate_loans, read_estimates
from shelfplan.model.estimates_file import HEADER, VERSION, read_counts, write_estimates

#: tiny_loans.csv by hand: P1 on 1 Jan {A, B, C} (A twice), P1 on 2 Jan {A, B},
#: P2 on 1 Jan {B, D}, P3 on 1 Jan {C}
TINY_N = {"A": 2, "B": 3, "C": 2, "D": 1}
TINY_C = {("A", "B"): 2, ("A", "C"): 1, ("B", "C"): 1, ("B", "D"): 1}


def pairs(counts) -> dict:
    it = counts.items
    return {(it[i], it[j]): int(c) for i, j, c in zip(counts.pair_i, counts.pair_j,
                                                     counts.pair_c)}


def assert_same(a, b) -> None:
    assert list(a.items) == list(b.items)
    np.testing.assert_array_equal(a.counts, b.counts)
    assert pairs(a) == pairs(b)
    assert a.summary == b.summary
    ca = None if a.categories is None else list(a.categories)
    cb = None if b.categories is None else list(b.categories)
    assert ca == cb


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_tiny_counts_by_hand(engine):
    c = count_loans([TINY_LOANS], engine=engine)
    assert dict(zip(c.items, c.counts.tolist())) == TINY_N
    assert pairs(c) == TINY_C
    s = c.summary
    assert (s["sessions"], s["loans"], s["duplicate_loans"], s["patrons"],
            s["multi_item_sessions"]) == (4, 9, 1, 3, 3)
    assert list(c.categories) == ["100", "100", "200", "300"]
    assert c.meta["engine"] == engine


def test_duckdb_equals_pandas_on_the_sample():
    assert_same(count_loans([SAMPLE_LOANS], engine="duckdb"),
                count_loans([SAMPLE_LOANS], engine="pandas"))


def _write(df: pd.DataFrame, path) -> str:
    df.to_csv(path, index=False)
    return str(path)


@st.composite
def loans_tables(draw):
    n = draw(st.integers(1, 40))
    patron = draw(st.lists(st.sampled_from(["p1", "p2", " p3", "P4", ""]), min_size=n,
                           max_size=n))
    item = draw(st.lists(st.sampled_from(["a", "b", "c ", "D", "é", "nan", "10", "9"]),
                         min_size=n, max_size=n))
    time = draw(st.lists(st.sampled_from(["2024-01-01T10:00:00", "2024-01-01 23:59",
                                          "2024-01-02", "2024-01-02T00:00:01+05:00",
                                          "2024-01-01T22:00:00Z", "", "not a date"]),
                         min_size=n, max_size=n))
    cat = draw(st.lists(st.sampled_from(["x", "y", "", '"z"']), min_size=n, max_size=n))
    return pd.DataFrame({"patron_id": patron, "item_id": item, "timestamp": time,
                         "category": cat})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(df=loans_tables(), cap=st.sampled_from([None, 2]),
       until=st.sampled_from([None, "2024-01-02"]))
def test_duckdb_equals_pandas_on_messy_loans(tmp_path, df, cap, until):
    path = _write(df, tmp_path / "messy.csv")
    opts = {"max_session_items": cap}
    try:
        want = count_loans([path], opts, engine="pandas", until=until)
    except LoansError:
        with pytest.raises(LoansError):
            count_loans([path], opts, engine="duckdb", until=until)
        return
    assert_same(count_loans([path], opts, engine="duckdb", until=until), want)


def test_day_first_dates_session_column_and_types(tmp_path):
    df = pd.DataFrame({"visit": ["v1", "v1", "v2", "v2", "v3"],
                       "item_id": ["A", "B", "A", "C", "B"],
                       "date": ["13/01/2024", "13/01/2024", "02/03/2024", "", "05/04/2024"],
                       "type": ["issue", "issue", "issue", "return", "issue"]})
    path = _write(df, tmp_path / "dmy.csv")
    opts = {"session_col": "visit", "time_col": "date"}
    duck = count_loans([path], opts, engine="duckdb")
    assert_same(duck, count_loans([path], opts, engine="pandas"))
    assert duck.summary["dropped_rows"] == {"return": 1}
    assert pairs(duck) == {("A", "B"): 1}


def test_several_files_and_a_glob_are_one_table(tmp_path):
    df = pd.read_csv(TINY_LOANS, dtype=str)
    paths = [_write(df.iloc[:4], tmp_path / "part-1.csv"),
             _write(df.iloc[4:], tmp_path / "part-2.csv")]
    with open(paths[1], "rb") as src, gzip.open(tmp_path / "part-2.csv.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    df.iloc[4:].to_parquet(tmp_path / "part-3.parquet", index=False)
    for second in (paths[1], str(tmp_path / "part-2.csv.gz"), str(tmp_path / "part-3.parquet")):
        for engine in ("pandas", "duckdb"):
            c = count_loans([paths[0], second], engine=engine)
            assert dict(zip(c.items, c.counts.tolist())) == TINY_N and pairs(c) == TINY_C
    c = count_loans([str(tmp_path / "part-*.csv")], engine="duckdb")
    assert pairs(c) == TINY_C and c.summary["source"].endswith("and 1 more file")


def test_parquet_timestamps_keep_the_wall_clock(tmp_path):
    t = pd.to_datetime(["2024-01-01 23:30", "2024-01-01 23:50", "2024-01-02 00:10"])
    df = pd.DataFrame({"patron_id": ["p", "p", "p"], "item_id": ["A", "B", "C"],
                       "timestamp": t.tz_localize("Europe/Berlin")})
    df.to_parquet(tmp_path / "tz.parquet", index=False)
    duck = count_loans([tmp_path / "tz.parquet"], engine="duckdb")
    assert_same(duck, count_loans([tmp_path / "tz.parquet"], engine="pandas"))
    assert pairs(duck) == {("A", "B"): 1}       # 23:30 and 23:50 Berlin: one day


def test_an_unsupported_option_falls_back_to_pandas(caplog):
    c = count_loans([TINY_LOANS], {"session_gap": "30min"}, engine="duckdb")
    assert c.meta["engine"] == "pandas"
    assert "does not stream `session_gap` visits" in caplog.text
    assert c.summary["session_rule"] == "patron + gap 30 min"


def test_unreadable_file_among_many_is_named(tmp_path):
    good = _write(pd.read_csv(TINY_LOANS, dtype=str), tmp_path / "a.csv")
    bad = tmp_path / "b.parquet"
    bad.write_bytes(b"PAR1 this is not parquet")
    for engine in ("pandas", "duckdb"):
        with pytest.raises(LoansError, match="b.parquet: not a readable Parquet file"):
            count_loans([good, str(bad)], engine=engine)
    with pytest.raises(LoansError, match="nothing-.*: no file matches"):
        count_loans([str(tmp_path / "nothing-*.csv")])


# --------------------------------------------------------------------------------------
# the estimates file


@pytest.mark.parametrize("level", ["item", "category"])
def test_file_gives_the_estimates_of_the_loans(tmp_path, level):
    path = tmp_path / "tiny.est"
    estimate_to_file([TINY_LOANS], path, {"level": level}, engine="duckdb")
    got = read_estimates(path)
    want = estimate_loans(TINY_LOANS, read_options={"level": level})
    assert list(got.items) == list(want.items)
    np.testing.assert_array_equal(got.p, want.p)
    for a, b in ((got.cooc, want.cooc), (got.pair, want.pair)):
        assert (a != b).nnz == 0 and a.dtype == b.dtype
    assert got.summary == want.summary
    assert estimate_loans(path).summary == want.summary      # the shared entry point


def test_file_from_another_version_or_truncated(tmp_path):
    import json
    import zipfile

    path = tmp_path / "tiny.est"
    counts = count_loans([TINY_LOANS])
    write_estimates(counts, path)
    data = path.read_bytes()
    (tmp_path / "cut.est").write_bytes(data[: len(data) // 2])
    with pytest.raises(LoansError, match="cut.est: the estimates file is damaged"):
        read_counts(tmp_path / "cut.est")
    newer = tmp_path / "newer.est"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(newer, "w") as dst:
        for name in src.namelist():
            raw = src.read(name)
            if name == HEADER:
                raw = json.dumps({**json.loads(raw), "version": VERSION + 1}).encode()
            dst.writestr(name, raw)
    with pytest.raises(LoansError, match=f"format version {VERSION + 1}.*reads version "
                                         f"{VERSION}"):
        read_counts(newer)
    with pytest.raises(LoansError, match="is a shelfplan estimates file"):
        read_loans(path)


def test_period_must_match(tmp_path):
    path = tmp_path / "past.est"
    estimate_to_file([TINY_LOANS], path, engine="duckdb", until="2024-01-02")
    est = read_estimates(path, until=pd.Timestamp("2024-01-02"))
    assert est.summary["sessions"] == 3 and est.summary["until"] == "2024-01-02"
    with pytest.raises(LoansError, match="written with --until 2024-01-02, not --until"):
        read_estimates(path, until="2024-02-01")
    with pytest.raises(LoansError, match="need the loans themselves"):
        estimate_loans(path, generalise={"category": 1.0})


# --------------------------------------------------------------------------------------
# dask


dask_distributed = pytest.importorskip("dask.distributed")


def test_dask_equals_duckdb_on_a_local_cluster(tmp_path):
    df = pd.read_csv(SAMPLE_LOANS, dtype=str)
    paths = [_write(df.iloc[k::3], tmp_path / f"part-{k}.csv") for k in range(3)]
    opts = {"max_session_items": 3}
    want = count_loans(paths, opts, engine="duckdb", until="2024-06-01")
    got = count_loans(paths, opts, engine="dask", workers=2, until="2024-06-01")
    assert got.meta["engine"] == "dask"
    assert_same(got, want)


def test_a_scheduler_that_does_not_answer():
    with pytest.raises(LoansError, match="no dask scheduler answers at tcp://127.0.0.1:9"):
        count_loans([TINY_LOANS], engine="dask", scheduler="tcp://127.0.0.1:9")


def test_files_with_other_columns_are_named(tmp_path):
    a = _write(pd.read_csv(TINY_LOANS, dtype=str), tmp_path / "a.csv")
    b = _write(pd.DataFrame({"patron_id": ["v"], "item_id": ["A"]}), tmp_path / "b.csv")
    for engine in ("pandas", "duckdb"):
        with pytest.raises(LoansError, match="b.csv: its columns are taken as"):
            count_loans([a, b], engine=engine)
    with pytest.raises(LoansError, match="directory .* does not exist"):
        estimate_to_file([a], tmp_path / "no" / "x.est")
