"""Everything that orders books goes through shelfplan.shelf_ranks (issue 23 part 3, 5)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner

import shelfplan
from shelfplan.api import baseline
from shelfplan.cli import main
from shelfplan.ingest import callsort
from shelfplan.ingest.options import ReadOptions
from shelfplan.present.shelflist import shelf_list_rows
from shelfplan.present.signs import call_ranks, shelving_order

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
STACKED = DATA / "stacked_hall.json"


def test_the_public_api():
    assert shelfplan.shelf_ranks is callsort.shelf_ranks
    assert shelfplan.call_number_scheme is callsort.call_number_scheme
    assert {"shelf_ranks", "call_number_scheme"} <= set(shelfplan.__all__)
    assert list(shelfplan.shelf_ranks(["QA76.9", "QA76.73", None, "QA9"])) == [2, 1, 3, 0]
    assert list(shelfplan.call_number_scheme(["Y 4.ED 8/1:117-48", "823 BRO"])) == \
        ["sudoc", "dewey"]


def holdings_with_ref(tmp_path) -> Path:
    """The sample holdings with every tenth book in a REF sequence."""
    h = pd.read_csv(DATA / "holdings.csv", dtype=str)
    ref = np.arange(len(h)) % 10 == 0
    h.loc[ref, "call_number"] = "REF " + h.loc[ref, "call_number"]
    path = tmp_path / "holdings.csv"
    h.to_csv(path, index=False)
    return path


def shelf_calls(layout) -> list[str]:
    return [row[1] for row in shelf_list_rows(layout)]


def test_todays_shelving_files_prefixes_as_sequences_in_the_order_given(tmp_path):
    holdings = str(holdings_with_ref(tmp_path))
    default = baseline("callnumber", str(DATA / "loans.csv"), str(STACKED), holdings=holdings)
    calls = shelf_calls(default)
    is_ref = [c.startswith("REF ") for c in calls]
    first_ref = is_ref.index(True)
    assert not any(is_ref[:first_ref]) and all(is_ref[first_ref:])   # REF after the rest
    assert "shelf_order" not in default.estimation
    ref_first = baseline("callnumber", str(DATA / "loans.csv"), str(STACKED), holdings=holdings,
                         read_options=ReadOptions(prefix_order="REF,-"))
    calls2 = shelf_calls(ref_first)
    n_ref = sum(is_ref)
    assert all(c.startswith("REF ") for c in calls2[:n_ref])
    assert not any(c.startswith("REF ") for c in calls2[n_ref:])
    # behind its prefix a call number keeps its place: the REF books in the same order
    assert calls2[:n_ref] == calls[first_ref:]
    assert ref_first.estimation["shelf_order"] == {"scheme": "auto", "prefix_order": ["REF", "-"]}
    # the signs and the stack map read the plan's order: along the shelving it never drops
    for lay in (default, ref_first):
        rank = call_ranks(lay)[shelving_order(lay)]
        assert (np.diff(rank) >= 0).all()


def test_cli_prefix_order_reaches_the_shelf_list(tmp_path):
    holdings = holdings_with_ref(tmp_path)
    out, shelf_list = tmp_path / "plan.json", tmp_path / "shelf.csv"
    res = CliRunner().invoke(main, ["baseline", "callnumber", str(DATA / "loans.csv"),
                                    "--hall", str(STACKED), "--holdings", str(holdings),
                                    "--prefix-order", "REF,-", "-o", str(out),
                                    "--shelf-list", str(shelf_list), "-q"])
    assert res.exit_code == 0, res.output
    with open(shelf_list, newline="", encoding="utf-8") as fh:
        calls = [row["call_number"] for row in csv.DictReader(fh)]
    assert calls[0].startswith("REF ") and not calls[-1].startswith("REF ")
    res = CliRunner().invoke(main, ["baseline", "callnumber", str(DATA / "loans.csv"),
                                    "--hall", str(STACKED), "--holdings", str(holdings),
                                    "--prefix-order", "REF,ref", "-o", str(out), "-q"])
    assert res.exit_code != 0 and "names 'REF' twice" in res.output
    assert "Traceback" not in res.output
