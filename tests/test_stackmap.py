"""The stack map (issue 12 part 5): the page's data, self-containment, the printable plan."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from shelfplan.cli import main
from shelfplan.layout import write_layout
from shelfplan.present.stackmap import (map_data, stack_map_html, where, with_titles,
                                        write_stack_map)
from shelfplan.present.style import RenderError
from test_signs import DATA, TINY_BOOKS, tiny_plan  # noqa: F401  (shared fixtures)
from test_signs import free_layout, today  # noqa: F401


def page_data(page: str) -> dict:
    m = re.search(r'<script id="data" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(m.group(1))


def test_map_data_by_hand():
    d = map_data(tiny_plan())
    # library order: 100 A, 100 B, 200 C, 300 D, 400 E
    assert d["id"] == ["b2", "b1", "b3", "b5", "b4"]
    assert d["call"] == ["100 A", "100 B", "200 C", "300 D", "400 E"]
    assert d["title"] == ["River songs", "Gardens of Rome", "The war at sea", None, "Stars"]
    assert d["ranges"] == ["R", "S"]
    # locations in shelving order: R left 1, 2; R right 2, 1; S left 1
    assert d["locs"] == [[0, 0, 1], [0, 0, 2], [0, 1, 2], [0, 1, 1], [1, 0, 1]]
    assert d["loc"] == [0, 0, 1, 2, 3] and d["shelf"] == [1] * 5


def test_where_reads_like_a_sign():
    plan = tiny_plan()
    assert where(plan, 3) == "range R, right face, section 1, shelf 1"


def test_the_page_is_self_contained(today):
    page = stack_map_html(today)
    assert not re.search(r"https?://", page, re.I), "the page must not name any URL"
    assert not re.search(r"<(script|img|iframe)[^>]*\ssrc=|<link\b|@import|url\(", page, re.I)
    d = page_data(page)
    assert len(d["id"]) == today.n and sorted(d["id"]) == sorted(map(str, today.items))
    st = today.hall.stacks
    assert len(re.findall(r'<polygon class="loc" id="loc-\d+"', page)) == st.n_locations
    assert len(d["pick"]) == st.n_locations
    for r in st.ranges:
        assert f'data-range="{r.id}"' in page
    # every face's call-number range is written on the plan
    assert ">004.54 LEW \u2013 294.12 CAM</text>" in page
    assert page.count(">empty</text>") == 5
    assert len(d["title"]) == today.n    # the sample holdings have titles (issue 22)
    assert d["title"][0] == "Notes on Computing"


def test_script_and_data_cannot_close_their_tags():
    books = [(*b[:5], "</script><b>x") if b[0] == "b1" else b for b in TINY_BOOKS]
    page = stack_map_html(tiny_plan(books))
    assert page.count("</script>") == 2
    assert page_data(page)["title"][1] == "</script><b>x"


def test_titles_from_a_holdings_file(today, tmp_path):
    lines = [ln.rsplit(",", 1)[0] for ln in
             (DATA / "holdings.csv").read_text(encoding="utf-8").splitlines()]  # no title
    assert lines[0] == "item_id,call_number,category"
    (tmp_path / "plain.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = [lines[0] + ",title"] + [f"{ln},Title {k}" for k, ln in enumerate(lines[1:10])]
    (tmp_path / "h.csv").write_text("\n".join(rows + lines[10:]) + "\n", encoding="utf-8")
    plan = with_titles(today, tmp_path / "h.csv")
    titles = dict(zip(map(str, plan.items), plan.shelf["titles"]))
    assert titles["B00001"] == "Title 0" and titles["B00009"] == "Title 8"
    assert titles["B00010"] is None
    assert today.shelf["titles"][0] == "The Art of Satire"        # the input is kept
    with pytest.raises(RenderError, match="no title column"):
        with_titles(today, tmp_path / "plain.csv")
    sample = with_titles(today, DATA / "holdings.csv")           # the sample has titles
    assert all(isinstance(t, str) and t for t in sample.shelf["titles"])


@pytest.mark.parametrize("ext", ["png", "pdf", "svg"])
def test_printable_floor_plan(today, tmp_path, ext):
    out = tmp_path / f"map.{ext}"
    assert write_stack_map(today, out) == ext
    raw = out.read_bytes()
    assert raw.startswith({"png": b"\x89PNG", "pdf": b"%PDF-", "svg": b"<?xml"}[ext])
    if ext == "png":
        with Image.open(out) as im:
            rgb = np.asarray(im.convert("RGB"), dtype=float)
        assert rgb.std() > 15
        # the range bodies (burlywood) and the red entrance are drawn
        assert ((abs(rgb - [222, 184, 135]).max(axis=2)) < 12).mean() > 0.002


def test_cli_writes_the_page_and_the_plan(today, tmp_path):
    plan = tmp_path / "plan.json"
    write_layout(today, plan)
    runner = CliRunner()
    r = runner.invoke(main, ["stack-map", str(plan), "-o", str(tmp_path / "map.html")])
    assert r.exit_code == 0, r.output
    assert "wrote" in r.output and "1,500 books" in r.output
    assert page_data((tmp_path / "map.html").read_text(encoding="utf-8"))["call"][0] == \
        "004.54 LEW"
    r = runner.invoke(main, ["stack-map", str(plan), "-o", str(tmp_path / "map.pdf"), "-q"])
    assert r.exit_code == 0 and r.output == "", r.output


def test_cli_refuses_bad_input_and_writes_nothing(today, free_layout, tmp_path):  # noqa: F811
    plan = tmp_path / "plan.json"
    write_layout(today, plan)
    runner = CliRunner()
    r = runner.invoke(main, ["stack-map", str(free_layout), "-o", str(tmp_path / "m.html")])
    assert r.exit_code == 1 and r.output.count("\n") == 1, r.output
    assert "must be a shelving plan (a hall with stacks) for a stack map" in r.output
    r = runner.invoke(main, ["stack-map", str(plan), "-o", str(tmp_path / "m.docx")])
    assert r.exit_code == 2
    assert "must end in .html, .png, .svg, .pdf, .htm, got .docx" in r.output, r.output
    plain = tmp_path / "plain.csv"
    plain.write_text("item_id,call_number\nB00001,823.30 BRO\n", encoding="utf-8")
    r = runner.invoke(main, ["stack-map", str(plan), "-o", str(tmp_path / "m.html"),
                             "--titles", str(plain)])
    assert r.exit_code == 1 and "no title column" in r.output, r.output
    r = runner.invoke(main, ["stack-map", str(tmp_path / "nope.json"), "-o",
                             str(tmp_path / "m.html")])
    assert r.exit_code == 1 and "no such layout file" in r.output
    with pytest.raises(RenderError, match=r"stack map is written as .*got \.txt"):
        write_stack_map(today, tmp_path / "m.txt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.csv", "plan.json"]
