"""Range-end signs (issue 12 part 4): first and last call number of every face."""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from shelfplan.api import baseline
from shelfplan.cli import main
from shelfplan.layout import layout_from_dict, read_layout, write_layout
from shelfplan.present.shelflist import shelf_list_rows
from shelfplan.present.signs import face_signs, write_signs
from shelfplan.present.style import RenderError

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
STACKED = DATA / "stacked_hall.json"

#: One double-faced range R (2 sections, 1 shelf of 2 slots: 8 slots) and a
#: single-faced range S that stays empty.
TINY_HALL = {
    "name": "tiny stacks", "footprint": [[0, 0], [6, 0], [6, 5], [0, 5]],
    "obstacles": [], "entrance": [3.0, 0.0, 1.2],
    "stacks": [{"id": "R", "start": [1.0, 2.5], "end": [4.0, 2.5], "sections": 2,
                "shelves": 1, "books_per_shelf": 2},
               {"id": "S", "start": [5.5, 1.0], "end": [5.5, 4.0], "sections": 1,
                "faces": "left", "shelves": 1, "books_per_shelf": 2}]}
#: (id, face, section, slot, call number, title). Shelving order: R left 1, R left 2,
#: R right 2, R right 1 (serpentine), then S.
TINY_BOOKS = [("b1", "left", 1, 2, "100 B", "Gardens of Rome"),
              ("b2", "left", 1, 1, "100 A", "River songs"),
              ("b3", "left", 2, 1, "200 C", "The war at sea"),
              ("b4", "right", 1, 1, "400 E", "Stars"),
              ("b5", "right", 2, 2, "300 D", None)]


def tiny_plan(books=TINY_BOOKS, calls=True, titles=True):
    items = []
    for i, face, sec, slot, call, title in books:
        rec = {"id": i, "p": 0.1, "range": "R", "face": face, "section": sec, "shelf": 1,
               "slot": slot}
        if calls:
            rec["call_number"] = call
        if titles and title is not None:
            rec["title"] = title
        items.append(rec)
    return layout_from_dict({"format": "shelfplan.layout", "version": 1,
                             "hall": TINY_HALL, "items": items})


@pytest.fixture(scope="module")
def today():
    return baseline("callnumber", str(DATA / "loans.csv"), str(STACKED),
                    holdings=str(DATA / "holdings.csv"))


@pytest.fixture(scope="module")
def scattered():
    return baseline("popularity", str(DATA / "loans.csv"), str(STACKED),
                    holdings=str(DATA / "holdings.csv"))


def test_signs_by_hand():
    signs = face_signs(tiny_plan())
    got = [(s.range, s.face, s.books, s.first, s.last, s.in_order) for s in signs]
    assert got == [("R", "left", 3, "100 A", "200 C", True),
                   ("R", "right", 2, "300 D", "400 E", True),
                   ("S", "left", 0, None, None, True)]
    assert signs[0].label == "Range R \u00b7 left face \u00b7 100 A \u2013 200 C"
    assert signs[2].label == "Range S \u00b7 left face \u00b7 empty"
    # swap the right face's books: it is no longer in call-number order
    books = [b if b[0] not in ("b4", "b5") else (b[0], "right", 3 - b[2], b[3], *b[4:])
             for b in TINY_BOOKS]
    right = face_signs(tiny_plan(books))[1]
    assert (right.first, right.last, right.in_order) == ("400 E", "300 D", False)


def test_signs_need_call_numbers():
    with pytest.raises(RenderError, match="no call numbers.*--holdings"):
        face_signs(tiny_plan(calls=False))


def read_csv(path):
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("which", ["today", "scattered"])
def test_csv_agrees_with_the_shelf_list(which, request, tmp_path):
    layout = request.getfixturevalue(which)
    out = tmp_path / "signs.csv"
    assert write_signs(layout, out) == "csv"
    rows = read_csv(out)
    st = layout.hall.stacks
    assert [(r["range"], r["face"]) for r in rows] == [
        (r.id, f) for r in st.ranges for f in r.face_names]
    shelf = shelf_list_rows(layout)
    for r in rows:
        on_face = [s for s in shelf if (s[3], s[4]) == (r["range"], r["face"])]
        assert int(r["books"]) == len(on_face)
        if on_face:
            assert (r["first_call_number"], r["last_call_number"]) == (on_face[0][1],
                                                                      on_face[-1][1])
            assert (r["first_item"], r["last_item"]) == (on_face[0][0], on_face[-1][0])
            classes = sorted({s[2] for s in on_face})
            if which == "today":
                assert r["label"].endswith(f"{on_face[0][1]} \u2013 {on_face[-1][1]}")
            else:       # not in call-number order: the classes on the face (issue 22)
                assert r["classes"].split() == classes
                shown = ", ".join(classes[:6]) + (f" +{len(classes) - 6} more"
                                                  if len(classes) > 6 else "")
                assert r["label"].endswith(f"\u00b7 classes {shown}"), r["label"]
        else:
            assert r["label"].endswith("\u00b7 empty") and r["first_call_number"] == ""
    assert sum(int(r["books"]) for r in rows) == layout.n
    # today's shelving is in call-number order on every face
    if which == "today":
        assert {r["in_order"] for r in rows} == {"yes"}
        assert rows[0]["first_call_number"] == "004.54 LEW"


def pdf_pages(path) -> list[tuple[float, float]]:
    """The MediaBox (width, height in points) of every page, read from the PDF text."""
    raw = Path(path).read_bytes()
    assert raw.startswith(b"%PDF-")
    # matplotlib writes one /MediaBox per page object
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", raw)
    return [(float(w), float(h)) for w, h in boxes]


@pytest.mark.parametrize("paper, per_page, size", [("a4", 2, (595.44, 841.68)),
                                                   ("letter", 3, (612.0, 792.0)),
                                                   ("a4", 1, (595.44, 841.68))])
def test_pdf_pages_and_paper(today, tmp_path, paper, per_page, size):
    out = tmp_path / "signs.pdf"
    assert write_signs(today, out, paper=paper, per_page=per_page) == "pdf"
    pages = pdf_pages(out)
    faces = len(face_signs(today))                      # 14 faces in the sample hall
    assert faces == 14
    assert len(pages) == -(-faces // per_page)
    assert all(p == pytest.approx(size, abs=0.01) for p in pages)
    assert len(re.findall(rb"/Type\s*/Page[^s]", out.read_bytes())) == len(pages)


@pytest.mark.skipif(not shutil.which("pdftoppm"), reason="pdftoppm (poppler-utils) missing")
def test_pdf_page_renders_with_large_type(today, tmp_path):
    out = tmp_path / "signs.pdf"
    write_signs(today, out, paper="a4", per_page=2)
    subprocess.run(["pdftoppm", "-r", "30", "-png", "-f", "1", "-l", "1", str(out),
                    str(tmp_path / "page")], check=True, timeout=60)
    png = next(tmp_path.glob("page*.png"))
    with Image.open(png) as im:
        w, h = im.size
        ink = np.asarray(im.convert("L")) < 128
    assert h / w == pytest.approx(841.68 / 595.44, rel=0.02)
    # two labels: ink in both halves, and large type (a dark band over 2% of the height)
    assert ink[: h // 2].mean() > 0.01 and ink[h // 2:].mean() > 0.01
    rows = np.nonzero(ink.any(axis=1))[0]
    assert len(rows) > 0.2 * h


def test_cli_writes_csv_and_pdf(today, tmp_path):
    plan = tmp_path / "plan.json"
    write_layout(today, plan)
    runner = CliRunner()
    r = runner.invoke(main, ["signs", str(plan), "-o", str(tmp_path / "s.csv")])
    assert r.exit_code == 0, r.output
    assert "14 faces" in r.output
    assert len(read_csv(tmp_path / "s.csv")) == 14
    r = runner.invoke(main, ["signs", str(plan), "-o", str(tmp_path / "s.pdf"), "--paper",
                             "Letter", "--per-page", "4", "-q"])
    assert r.exit_code == 0, r.output
    assert len(pdf_pages(tmp_path / "s.pdf")) == 4


def test_titles_round_trip(tmp_path):
    plan = tiny_plan()
    write_layout(plan, tmp_path / "p.json")
    data = json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))
    assert [r.get("title") for r in data["items"]] == [b[5] for b in TINY_BOOKS]
    back = read_layout(tmp_path / "p.json")
    assert list(back.shelf["titles"]) == [b[5] for b in TINY_BOOKS]
    assert read_layout_without_titles(tmp_path).shelf["titles"] is None


def read_layout_without_titles(tmp_path):
    write_layout(tiny_plan(titles=False), tmp_path / "q.json")
    assert '"title"' not in (tmp_path / "q.json").read_text(encoding="utf-8")
    return read_layout(tmp_path / "q.json")


# --- bad input -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def free_layout(tmp_path_factory):
    path = tmp_path_factory.mktemp("free") / "free.json"
    write_layout(baseline("popularity", str(DATA / "loans.csv"), str(DATA / "hall.json")), path)
    return path


def test_a_free_space_layout_is_refused(free_layout, tmp_path):
    out = tmp_path / "signs.csv"
    r = CliRunner().invoke(main, ["signs", str(free_layout), "-o", str(out)])
    assert r.exit_code == 1
    assert r.output.count("\n") == 1, r.output
    assert "must be a shelving plan (a hall with stacks) for range signs" in r.output
    assert not out.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, text", [
    (["--paper", "a3"], "'a3' is not one of 'a4', 'letter'"),
    (["--per-page", "9"], "9 is not in the range 1<=x<=4"),
])
def test_bad_options_are_usage_errors(today, tmp_path, args, text):
    plan = tmp_path / "plan.json"
    write_layout(today, plan)
    out = tmp_path / "signs.pdf"
    r = CliRunner().invoke(main, ["signs", str(plan), "-o", str(out), *args])
    assert r.exit_code == 2 and text in r.output, r.output
    assert not out.exists()


def test_an_unsupported_extension_is_refused(today, tmp_path):
    plan = tmp_path / "plan.json"
    write_layout(today, plan)
    out = tmp_path / "signs.txt"
    r = CliRunner().invoke(main, ["signs", str(plan), "-o", str(out)])
    assert r.exit_code == 2 and "must end in .csv, .pdf, got .txt" in r.output, r.output
    assert not out.exists()
    with pytest.raises(RenderError, match=r"signs are written as \.csv or \.pdf, got \.txt"):
        write_signs(today, out)
    with pytest.raises(RenderError, match="`paper` must be one of a4, letter, got 'a5'"):
        write_signs(today, tmp_path / "s.pdf", paper="a5")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json"]


def test_a_plan_out_of_call_number_order_lists_classes_by_hand():
    """Issue 22, item 7: b3 (200 C) moved after b4 and b5: the plan is not in
    call-number order, so no face shows a range; the classes come from the call
    numbers (no categories in the plan)."""
    books = [b if b[0] != "b3" else ("b3", "right", 1, 2, "200 C", None) for b in TINY_BOOKS]
    signs = face_signs(tiny_plan(books))
    assert [s.ordered for s in signs] == [False] * 3
    assert [s.classes for s in signs] == [("100",), ("200", "300", "400"), ()]
    assert [s.span for s in signs] == ["classes 100", "classes 200, 300, 400", "empty"]
    assert all(s.ordered for s in face_signs(tiny_plan()))
