"""Issue 22, item 6: labels that agree with themselves. The figures line of ``compare``
says in sample when the columns do; printed summaries never show ``None``; S has one
unit name (metres per borrowed book) in the docs."""

from __future__ import annotations

import copy
import re

import pytest
from click.testing import CliRunner

from conftest import ROOT, SAMPLE_HALL, SAMPLE_LOANS, SMALL_HALL, TINY_LOANS
from shelfplan.api import baseline
from shelfplan.cli import main, summary
from shelfplan.layout import read_layout, write_layout


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("labels")
    out = {}
    for name, kind, until in (("cur", "callnumber", None), ("pop", "popularity", None),
                              ("past", "popularity", "2025-01-01")):
        out[name] = d / f"{name}.json"
        write_layout(baseline(kind, SAMPLE_LOANS, SAMPLE_HALL, until=until), out[name])
    return out


def _figures(stdout: str) -> tuple[str, list[str]]:
    first = stdout.splitlines()[0]
    row = next(line for line in stdout.splitlines() if line.startswith("figures "))
    return first, re.findall(r"held out|in sample", row)


def test_all_in_sample_is_not_called_held_out(files):
    r = CliRunner().invoke(main, ["compare", str(files["cur"]), str(files["pop"]),
                                  "--loans", str(SAMPLE_LOANS)])
    assert r.exit_code == 0, r.output
    first, labels = _figures(r.stdout)
    assert labels == ["in sample", "in sample"]
    assert first.startswith("figures: in sample: judged on the loans since")
    assert "held out" not in first.split(";")[0]


def test_mixed_labels_name_each_layout(files):
    r = CliRunner().invoke(main, ["compare", str(files["cur"]), str(files["past"]),
                                  "--loans", str(SAMPLE_LOANS)])
    assert r.exit_code == 0, r.output
    first, labels = _figures(r.stdout)
    assert labels == ["in sample", "held out"]
    assert f"held out for {files['past']}" in first and f"in sample for {files['cur']}" in first


def test_report_says_every_figure_is_in_sample(files, tmp_path):
    out = tmp_path / "r.md"
    r = CliRunner().invoke(main, ["report", str(files["cur"]), str(files["pop"]),
                                  "--loans", str(SAMPLE_LOANS), "-o", str(out), "-q"])
    assert r.exit_code == 0, r.output
    text = out.read_text()
    assert "every figure is in sample" in text
    assert "Figures: held out" not in text


def test_summary_never_prints_none(tmp_path):
    cur, out = tmp_path / "cur.json", tmp_path / "new.json"
    r = CliRunner().invoke(main, ["baseline", "callnumber", str(TINY_LOANS), "--hall",
                                  str(SMALL_HALL), "-o", str(cur), "-q"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(main, ["fit", str(TINY_LOANS), "--hall", str(SMALL_HALL), "--current",
                                  str(cur), "--move-cost", "0.1", "-o", str(out),
                                  "--time-limit", "1", "-q"])
    assert r.exit_code == 0, r.output
    assert "None" not in r.stdout and "no cap on moves" in r.stdout
    lay = read_layout(out)
    for drop in ("seconds", "method", "max_moves", "move_cost"):
        other = copy.copy(lay)
        other.solver = {k: v for k, v in lay.solver.items() if k != drop}
        assert "None" not in summary(other, "x.json"), drop
    blocks = copy.copy(lay)
    blocks.solver = {"method": "shelving: call-number blocks, incremental", "moved": 3,
                     "max_moves": None, "interrupted": True}
    text = summary(blocks, "x.json")
    assert "None" not in text and "interrupted" in text and "no cap on moves" in text


def test_one_name_for_the_unit_of_s():
    texts = [p.read_text(encoding="utf-8") for p in (ROOT / "docs").glob("*.md")]
    texts.append((ROOT / "README.md").read_text(encoding="utf-8"))
    for t in texts:
        assert "metres per visit" not in t
    assert any("metres per borrowed book" in t for t in texts)


def test_ctrl_c_of_a_block_fit_prints_no_none(tmp_path, monkeypatch):
    import shelfplan.solve.blocks as blocks

    def interrupted(*args, **kw):
        raise KeyboardInterrupt
    monkeypatch.setattr(blocks, "_swap_rounds", interrupted)
    out = tmp_path / "b.json"
    r = CliRunner().invoke(main, ["fit", str(SAMPLE_LOANS), "--hall", str(SAMPLE_HALL),
                                  "--level", "category", "-o", str(out), "--time-limit", "2"])
    assert r.exit_code == 0, r.output
    assert "None" not in r.output
    assert "(interrupted: the best feasible layout so far)" in r.stdout
