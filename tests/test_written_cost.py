"""The S a layout file reports is the S of the positions it stores (issue 10.2).

The check is independent of the package: the loans are turned into sessions,
p(i) and p(j|i) with plain pandas/numpy from MODEL.md sections 1-2, the
positions come from the JSON as written, and S is summed pair by pair.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from click.testing import CliRunner

from shelfplan.cli import main
from conftest import SAMPLE_HALL, SAMPLE_LOANS


def independent_cost(layout_json: dict, loans_csv) -> float:
    df = pd.read_csv(loans_csv, dtype=str)
    day = pd.to_datetime(df["timestamp"]).dt.date.astype(str)
    df["session"] = df["patron_id"] + "|" + day
    df = df.drop_duplicates(["session", "item_id"])
    n_i = df.groupby("item_id")["session"].nunique()
    p = n_i / n_i.sum()
    pairs = df.merge(df, on="session")
    pairs = pairs[pairs["item_id_x"] != pairs["item_id_y"]]
    c = pairs.groupby(["item_id_x", "item_id_y"]).size()
    row = c.groupby(level=0).transform("sum")
    cond = c / row
    pos = {r["id"]: np.array(r["position"], dtype=float) for r in layout_json["items"]}
    e = np.array(layout_json["hall"]["entrance"], dtype=float)
    ent = sum(p[i] * np.linalg.norm(pos[i] - e) for i in p.index)
    pair = sum(p[i] * w * np.linalg.norm(pos[i] - pos[j]) for (i, j), w in cond.items())
    return float(ent + pair)


def _written(tmp_path, *args) -> dict:
    out = tmp_path / "layout.json"
    result = CliRunner().invoke(main, [*args, "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text(encoding="utf-8"))


def test_fit_reports_the_cost_of_the_written_positions(tmp_path):
    data = _written(tmp_path, "fit", str(SAMPLE_LOANS), "--hall", str(SAMPLE_HALL),
                    "--time-limit", "3", "--kicks", "0")
    S = independent_cost(data, SAMPLE_LOANS)
    assert abs(data["objective"]["total"] - S) <= 1e-12 * S


def test_baseline_reports_the_cost_of_the_written_positions(tmp_path):
    data = _written(tmp_path, "baseline", "random", str(SAMPLE_LOANS), "--hall", str(SAMPLE_HALL))
    S = independent_cost(data, SAMPLE_LOANS)
    assert abs(data["objective"]["total"] - S) <= 1e-12 * S


def test_imported_positions_report_the_cost_of_the_written_positions(tmp_path):
    # positions with more decimals than a layout file keeps
    base = _written(tmp_path, "baseline", "popularity", str(SAMPLE_LOANS),
                    "--hall", str(SAMPLE_HALL))
    rng = np.random.default_rng(0)
    rows = ["item_id,x,y,z"]
    for r in base["items"]:
        x, y, z = np.array(r["position"]) + rng.uniform(-4e-7, 4e-7, 3)
        rows.append(f"{r['id']},{x:.12f},{y:.12f},{z:.12f}")
    csv = tmp_path / "shelves.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    data = _written(tmp_path, "import-positions", str(csv), "--hall", str(SAMPLE_HALL),
                    "--loans", str(SAMPLE_LOANS))
    S = independent_cost(data, SAMPLE_LOANS)
    assert abs(data["objective"]["total"] - S) <= 1e-12 * S
