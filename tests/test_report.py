"""shelfplan.present.report and ``shelfplan report``: text tables, figures, the one-page report."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from shelfplan.api import baseline
from shelfplan.cli import main
from shelfplan.judge.compare import compare
from shelfplan.errors import ShelfplanError
from shelfplan.judge.evaluate import evaluate
from shelfplan.layout import write_layout
from shelfplan.present.report import (compare_figure, comparison_text, evaluation_text, floor_plan,
                              walks_figure, write_report)

DATA = Path(__file__).resolve().parent.parent / "data"
LOANS = DATA / "loans.csv"
HALL = DATA / "hall.json"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("rep")
    out = {}
    for name in ("callnumber", "popularity"):
        out[name] = d / f"{name}.json"
        write_layout(baseline(name, LOANS, HALL, until="2025-01-01"), out[name])
    return out


@pytest.fixture(scope="module")
def cmp(files):
    return compare([files["callnumber"], files["popularity"]], LOANS, since="2025-01-01")


def test_evaluation_text(files):
    text = evaluation_text(evaluate(files["popularity"], LOANS, since="2025-01-01"))
    assert "since 2025-01-01" in text and "not in the layout" in text and "S / LB" in text


def test_comparison_text(cmp):
    text = comparison_text(cmp)
    assert "books moved" in text and "move distance, 90th pct (m)" in text
    assert re.search(r"\(-\d+\.\d %\)", text)            # a change in %
    assert "missing from at least one layout" in text   # items first borrowed in 2025


def test_figures_draw(cmp):
    fig = compare_figure(cmp)
    # two plans, the flows between grid cells (many books move: issue 22) and a colour bar
    assert len(fig.axes) == 4
    assert len(fig.axes[0].collections) >= 2             # books, unborrowed books
    assert "books change zone" in fig.axes[2].get_title()
    walks_figure(cmp)
    art = floor_plan(cmp.layouts[0])
    assert art.get_offsets().shape == (cmp.layouts[0].n, 2)


def test_html_report_is_self_contained(cmp, tmp_path):
    out = tmp_path / "report.html"
    assert write_report(cmp, out) == [str(out)]
    page = out.read_text(encoding="utf-8")
    imgs = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page)
    assert len(imgs) == 2 and all(base64.b64decode(i)[:8] == PNG for i in imgs)
    for text in ("<table>", "walking cost S (m)", "books moved", "Method", "held-out",
                 "Books most affected"):
        assert text in page
    assert len(re.findall(r"<h2>Method</h2>\s*<p>.*?</p>\s*<p>.*?</p>", page, re.S)) == 1
    assert list(tmp_path.iterdir()) == [out]


def test_markdown_report_writes_pngs_beside_it(cmp, tmp_path):
    out = tmp_path / "report.md"
    written = write_report(cmp, out, title="Committee")
    assert sorted(Path(p).name for p in written) == ["report-walks.png", "report.md",
                                                     "report.png"]
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Committee") and "![Floor plans](report.png)" in text
    assert "| walking cost S (m) |" in text and "<b>" not in text
    assert (tmp_path / "report.png").read_bytes()[:8] == PNG


def test_other_extensions_are_refused(cmp, tmp_path):
    with pytest.raises(ShelfplanError, match="must end in .html or .md"):
        write_report(cmp, tmp_path / "report.pdf")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------- CLI

def test_cli_report(files, tmp_path):
    out = tmp_path / "r.html"
    r = CliRunner().invoke(main, ["report", str(files["callnumber"]), str(files["popularity"]),
                                  "--loans", str(LOANS), "--since", "2025-01-01", "-q",
                                  "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert out.exists() and str(out) in r.stdout


@pytest.mark.parametrize("extra, message", [
    (["-o", "{tmp}/r.pdf"], "must end in .html or .md"),
    (["-o", "{tmp}/r.html", "--since", "2031-01-01"], "no loans left in the date range"),
    (["-o", "{tmp}/missing-dir/r.html"], "does not exist"),
])
def test_cli_bad_input_is_one_line_and_writes_nothing(files, tmp_path, extra, message):
    extra = [e.format(tmp=tmp_path) for e in extra]
    r = CliRunner().invoke(main, ["report", str(files["callnumber"]), str(files["popularity"]),
                                  "--loans", str(LOANS), "-q", *extra])
    assert r.exit_code == 1
    assert message in r.output and len(r.output.strip().splitlines()) == 1, r.output
    assert list(tmp_path.iterdir()) == []


def test_cli_help_has_example():
    r = CliRunner().invoke(main, ["report", "--help"])
    assert r.exit_code == 0 and "-o report.html" in r.output
