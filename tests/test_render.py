"""Tests of shelfplan.present.render and ``shelfplan render``: every view and format, the
library API (ax=None, artists returned), legibility at scale, and bad input."""

from __future__ import annotations

import copy
import json
import logging
import os
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from PIL import Image

from shelfplan.present import render as R
from shelfplan.api import baseline
from shelfplan.cli import main
from shelfplan.errors import ShelfplanError
from shelfplan.layout import read_layout, write_layout

ROOT = Path(__file__).resolve().parent.parent
LOANS = ROOT / "data" / "loans.csv"
HALL = ROOT / "data" / "hall.json"


# --------------------------------------------------------------------------
# fixtures and helpers
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def layout():
    """The sample layout: 297 books in the L-shaped hall with two obstacles."""
    return baseline("popularity", str(LOANS), str(HALL))


@pytest.fixture(scope="module")
def layout_file(layout, tmp_path_factory):
    path = tmp_path_factory.mktemp("layout") / "layout.json"
    write_layout(layout, path)
    return path


@pytest.fixture(scope="module")
def big_layout(tmp_path_factory):
    """A synthetic collection large enough to be rasterised in vector formats."""
    from shelfplan.ingest.synth import generate_loans

    csv = tmp_path_factory.mktemp("big") / "loans.csv"
    generate_loans(1500, loans_per_item=10, seed=5).to_csv(csv, index=False)
    return baseline("popularity", str(csv))


def pixels(path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"), dtype=float)


def assert_not_blank(rgb: np.ndarray) -> None:
    """Real content: not one flat colour, and a fair share of non-white pixels."""
    assert rgb.std() > 20, f"image looks flat (std {rgb.std():.1f})"
    non_white = (rgb.min(axis=2) < 240).mean()
    assert non_white > 0.03, f"only {non_white:.1%} of the pixels are not white"
    assert len(np.unique(rgb.reshape(-1, 3)[::7], axis=0)) > 50, "too few colours"


def share_near(rgb: np.ndarray, colour, tol: float = 40.0) -> float:
    target = np.array(to_rgb(colour)) * 255
    return float((np.abs(rgb - target).max(axis=2) < tol).mean())


def no_leftovers(directory) -> None:
    left = [p for p in os.listdir(directory) if p.startswith(".shelfplan-")]
    assert not left, f"temp files left behind: {left}"


def one_line_error(result) -> str:
    assert result.exit_code != 0, result.output
    lines = [ln for ln in result.output.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ")
    return lines[0]


# --------------------------------------------------------------------------
# every view and format
# --------------------------------------------------------------------------
@pytest.mark.parametrize("view", ["3d", "top", "both"])
def test_png_every_view(layout, tmp_path, view):
    out = tmp_path / f"plan_{view}.png"
    assert R.render(layout, out, view=view, dpi=80) == "png"
    fig = R.plan_figure(layout, view=view)
    w, h = fig.get_size_inches() * 80
    with Image.open(out) as im:
        assert im.format == "PNG"
        assert abs(im.size[0] - w) <= 1 and abs(im.size[1] - h) <= 1
    rgb = pixels(out)
    assert_not_blank(rgb)
    assert share_near(rgb, R.ENTRANCE_COLOR) > 1e-4, "entrance not visible"
    assert share_near(rgb, R.OBSTACLE_FACE, tol=12) > 1e-4, "obstacles not visible"
    no_leftovers(tmp_path)


def test_png_dpi_sets_the_size(layout, tmp_path):
    R.render(layout, tmp_path / "a.png", view="top", dpi=50)
    R.render(layout, tmp_path / "b.png", view="top", dpi=100)
    with Image.open(tmp_path / "a.png") as a, Image.open(tmp_path / "b.png") as b:
        assert abs(b.size[0] - 2 * a.size[0]) <= 2 and abs(b.size[1] - 2 * a.size[1]) <= 2


@pytest.mark.parametrize("view", ["3d", "top", "both"])
def test_svg_every_view(layout, tmp_path, view):
    out = tmp_path / "plan.svg"
    assert R.render(layout, out, view=view) == "svg"
    root = ET.parse(out).getroot()
    assert root.tag.endswith("svg")
    w, h = R.plan_figure(layout, view=view).get_size_inches() * 72
    assert float(root.get("width").removesuffix("pt")) == pytest.approx(w, abs=1)
    assert float(root.get("height").removesuffix("pt")) == pytest.approx(h, abs=1)
    # 297 books are drawn as vector markers (no raster image but the heat map)
    n_paths = sum(1 for el in root.iter() if el.tag.endswith(("path", "use")))
    assert n_paths > layout.n


@pytest.mark.parametrize("view", ["3d", "top", "both"])
def test_pdf_every_view(layout, tmp_path, view):
    out = tmp_path / "plan.pdf"
    assert R.render(layout, out, view=view) == "pdf"
    data = out.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    box = re.search(rb"/MediaBox \[ *0 0 ([\d.]+) ([\d.]+) *\]", data)
    w, h = R.plan_figure(layout, view=view).get_size_inches() * 72
    assert float(box.group(1)) == pytest.approx(w, abs=1)
    assert float(box.group(2)) == pytest.approx(h, abs=1)
    assert len(data) > 10_000


def test_pdf_page_is_not_blank(layout, tmp_path):
    import shutil
    import subprocess

    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm (poppler-utils) not installed; PDF structure checked elsewhere")
    R.render(layout, tmp_path / "plan.pdf", view="both")
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-singlefile", str(tmp_path / "plan.pdf"),
                    str(tmp_path / "page")], check=True)
    assert_not_blank(pixels(tmp_path / "page.png"))


@pytest.mark.parametrize("view", ["3d", "top", "both"])
def test_html_is_self_contained(layout, tmp_path, view):
    out = tmp_path / "plan.html"
    assert R.render(layout, out, view=view, edges=10) == "html"
    html = out.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<html") or "<!doctype html" in html[:200].lower()
    assert len(html) > 1_000_000, "plotly.js should be inlined"
    assert not re.search(r"<script[^>]+src=", html), "must not load scripts from elsewhere"
    assert "B00001" in html and "hovertemplate" in html
    assert "category %{customdata[1]}" in html and "p = %{customdata[2]}" in html
    no_leftovers(tmp_path)


def test_html_figure_traces(layout):
    fig = R.plotly_figure(layout, view="both", edges=5)
    kinds = [t.type for t in fig.data]
    assert "scatter3d" in kinds and "mesh3d" in kinds and "heatmap" in kinds
    books3 = [t for t in fig.data if t.type == "scatter3d" and t.customdata is not None]
    assert sum(len(t.x) for t in books3) == layout.n
    ids = {row[0] for t in books3 for row in t.customdata}
    assert ids == {str(i) for i in layout.items}
    assert fig.layout.scene.aspectmode == "data"
    obstacles = [t for t in fig.data if t.type == "mesh3d" and t.name == "obstacle"]
    assert len(obstacles) == len(layout.hall.obstacles) == 2


def test_html_popularity(layout):
    fig = R.plotly_figure(layout, view="3d", color_by="popularity")
    books = [t for t in fig.data if t.customdata is not None]
    assert len(books) == 1 and books[0].marker.colorbar is not None


def test_layout_path_accepted(layout_file, tmp_path):
    R.render(str(layout_file), tmp_path / "p.png", view="top", dpi=40)
    assert (tmp_path / "p.png").stat().st_size > 1000


# --------------------------------------------------------------------------
# the hall: non-rectangular, obstacles, entrance
# --------------------------------------------------------------------------
def test_l_shaped_hall_with_obstacles_top_view(layout):
    """Pixels of the floor plan: obstacles grey, the L's notch outside, the floor inside."""
    hall = layout.hall
    assert len(hall.footprint) == 6 and len(hall.obstacles) == 2
    fig = Figure(figsize=(7, 5), dpi=100)
    ax = fig.add_subplot()
    art = R.plot_top(layout, ax, colorbar=False, points=False)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())[..., :3].astype(float)
    height = rgba.shape[0]

    def px(x, y):
        u, v = ax.transData.transform((x, y))
        return rgba[int(round(height - v)), int(round(u))]

    grey = np.array(to_rgb(R.OBSTACLE_FACE)) * 255
    for ob in hall.obstacles:
        centre = ob.mean(axis=0)
        assert np.abs(px(*centre) - grey).max() < 15, "obstacle not drawn solid"
    assert np.abs(px(11.0, 7.5) - 255).max() < 3, "the notch of the L must stay outside"
    floor = np.array(to_rgb(R.HEAT_UNDER)) * 255
    assert np.abs(px(1.3, 7.3) - floor).max() < 12, "empty floor colour expected"
    hot = px(*layout.hall.entrance[:2] + np.array([0.0, 0.3]))
    assert hot[2] < 150, "the heat map should be hot next to the entrance"
    assert len(art["obstacles"]) == 2 and art["heatmap"] is not None


def drawn(art: dict) -> dict:
    """Draw the artists' figure (3D collections project their paths when drawn)."""
    FigureCanvasAgg(art["points"].axes.get_figure()).draw()
    return art


def test_l_shaped_hall_3d_artists(layout):
    art = drawn(R.plot_3d(layout))
    assert len(art["obstacles"]) == 2
    # walls: one vertical face per footprint edge
    assert len(art["walls"].get_paths()) == len(layout.hall.footprint)
    # obstacles are solid prisms: sides + two caps
    assert len(art["obstacles"][0].get_paths()) == len(layout.hall.obstacles[0]) + 2
    assert art["obstacles"][0].get_facecolor()[0][3] == 1.0
    assert art["entrance"]


def test_triangulation_covers_non_convex_polygon(layout):
    ring = layout.hall.footprint
    tris = R._triangles(ring)
    area = 0.0
    for a, b, c in ring[tris]:
        area += abs((b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1])) / 2
    from shapely import Polygon

    assert area == pytest.approx(Polygon(ring).area)


# --------------------------------------------------------------------------
# library API: ax=None, artists returned, composition
# --------------------------------------------------------------------------
def test_plot_3d_makes_its_own_figure(layout):
    art = R.plot_3d(layout)
    ax = art["points"].axes
    assert ax.name == "3d" and isinstance(ax.get_figure(), Figure)
    assert len(art["points"].get_offsets()) == layout.n
    assert art["legend"] is not None
    labels = [t.get_text() for t in art["legend"].get_texts()]
    assert labels[0].startswith("610") and labels[-1].startswith("other:")
    title = ax.get_title()
    assert "297 books" in title and "S = " in title and "S/LB = " in title
    # axes in metres with equal aspect: box proportional to the hall
    (x0, y0), (x1, y1) = layout.hall.footprint.min(0), layout.hall.footprint.max(0)
    bx, by, _ = ax.get_box_aspect()
    assert bx / by == pytest.approx((x1 - x0) / (y1 - y0), rel=1e-6)
    assert ax.get_xlabel() == "x (m)"


def test_plots_compose_on_user_axes(layout):
    fig = Figure(figsize=(12, 5))
    ax3 = fig.add_subplot(1, 3, 1, projection="3d")
    axt = fig.add_subplot(1, 3, 2)
    other = fig.add_subplot(1, 3, 3)
    other.plot([0, 1], [0, 1])
    a3 = R.plot_3d(layout, ax3, legend=False, title=False, elev=60, azim=10)
    at = R.plot_top(layout, axt, heatmap=False, title="mine")
    assert a3["points"].axes is ax3 and at["points"].axes is axt
    assert ax3.elev == 60 and ax3.azim == 10
    assert at["heatmap"] is None and axt.get_title() == "mine"
    FigureCanvasAgg(fig).draw()


def test_color_by_popularity(layout):
    art = R.plot_3d(layout, color_by="popularity")
    assert art["colorbar"] is not None and art["legend"] is None
    colours = art["points"].get_facecolor()
    assert len(np.unique(np.round(colours[:, :3], 3), axis=0)) > 10
    # most popular drawn last and largest
    sizes = art["points"].get_sizes()
    assert sizes[-1] == sizes.max()


def test_category_legend_is_capped(layout):
    labels, legend = R.category_key(layout, max_categories=3)
    assert len(legend) == 4 and legend[-1][2] == "other"
    assert set(labels) == {legend[0][2], legend[1][2], legend[2][2], "other"}
    assert "54 more categories" in legend[-1][0]
    with pytest.raises(R.RenderError, match="max_categories"):
        R.category_key(layout, max_categories=0)


def test_layout_without_categories_falls_back(layout, caplog):
    plain = copy.copy(layout)
    plain.categories = None
    with caplog.at_level(logging.WARNING, logger="shelfplan"):
        style = R.point_style(plain, "category")
    assert style.color_by == "popularity"
    assert "no categories" in caplog.text


def test_dollar_signs_are_not_mathtext(layout, tmp_path):
    odd = copy.copy(layout)
    odd.categories = np.array(["$1 shelf$"] * layout.n, dtype=object)
    odd.hall = copy.copy(layout.hall)
    odd.hall.name = "$room$ 1"
    R.render(odd, tmp_path / "odd.png", dpi=40)
    R.render(odd, tmp_path / "odd.svg")
    assert (tmp_path / "odd.png").exists()


def test_sizes_and_alpha_shrink_with_n():
    p = np.linspace(0.001, 0.01, 10)
    assert R.point_sizes(p, 20_000).max() < R.point_sizes(p, 300).max()
    assert R.point_alpha(20_000) < R.point_alpha(300) <= 0.9
    assert R.point_sizes(np.zeros(3)).min() > 0


# --------------------------------------------------------------------------
# edges
# --------------------------------------------------------------------------
def test_edges_from_the_layout(layout):
    art = drawn(R.plot_3d(layout, edges=25))
    assert len(art["edges"].get_segments()) == 25
    art = R.plot_top(layout, edges=7)
    assert len(art["edges"].get_segments()) == 7
    assert R.plot_top(layout)["edges"] is None


def test_edges_from_loans(layout):
    pairs = R.pairs_from_loans(str(LOANS), 12)
    assert len(pairs) == 12 and all(len(p) == 3 for p in pairs)
    ia, ib, w = R.resolve_edges(layout, pairs)
    assert len(ia) == 12 and (w > 0).all()
    stored = [(str(a), str(b)) for a, b, _ in layout.pairs[:12]]
    assert [(str(a), str(b)) for a, b, _ in pairs] == stored


def test_edges_without_pair_data(layout, tmp_path):
    bare = copy.copy(layout)
    bare.pairs = []
    with pytest.raises(R.RenderError, match="no stored co-borrowed pairs.*--loans"):
        R.render(bare, tmp_path / "x.png", edges=5)
    assert not (tmp_path / "x.png").exists()
    R.render(bare, tmp_path / "ok.png", view="top", dpi=30)   # no edges asked: fine


def test_malformed_stored_pairs(layout):
    odd = copy.copy(layout)
    odd.pairs = [("B00001",)]
    with pytest.raises(R.RenderError, match="stored pairs are not"):
        R.resolve_edges(odd, 3)


def test_edges_naming_unknown_books(layout):
    with pytest.raises(R.RenderError, match="none of the 1 co-borrowed pairs"):
        R.resolve_edges(layout, [("nope", "nada", 1.0)])
    with pytest.raises(R.RenderError, match=">= 0"):
        R.resolve_edges(layout, -1)


# --------------------------------------------------------------------------
# legible at scale
# --------------------------------------------------------------------------
def test_many_books_are_rasterised_in_vector_formats(big_layout, tmp_path):
    assert big_layout.n > R.RASTERIZE_ABOVE
    R.render(big_layout, tmp_path / "big.svg", edges=50)
    svg = (tmp_path / "big.svg").read_text()
    assert svg.count("<image") >= 2          # heat map + rasterised books (3D and top)
    assert len(svg) < 3_000_000
    R.render(big_layout, tmp_path / "big.png", dpi=60)
    assert_not_blank(pixels(tmp_path / "big.png"))
    labels, legend = R.category_key(big_layout)
    assert len(legend) <= R.DEFAULT_MAX_CATEGORIES + 1


# --------------------------------------------------------------------------
# bad input and atomic writes (library)
# --------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["plan.gif", "plan", "plan.png.bak"])
def test_unknown_extension(layout, tmp_path, name):
    with pytest.raises(R.RenderError, match=r"unknown output format.*\.png, \.svg, \.pdf or "
                                            r"\.html"):
        R.render(layout, tmp_path / name)
    assert os.listdir(tmp_path) == []


def test_failure_while_writing_leaves_nothing(layout, tmp_path, monkeypatch):
    out = tmp_path / "plan.png"
    out.write_bytes(b"old")

    def broken(self, fh, **kw):
        fh.write(b"\x89PNG partial")
        raise RuntimeError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(RuntimeError):
        R.render(layout, out)
    assert out.read_bytes() == b"old"
    no_leftovers(tmp_path)


def test_missing_directory(layout, tmp_path):
    with pytest.raises(ShelfplanError, match="does not exist"):
        R.render(layout, tmp_path / "no" / "plan.png")


def test_plotly_missing(layout, tmp_path, monkeypatch):
    for mod in ("plotly", "plotly.graph_objects", "plotly.subplots"):
        monkeypatch.setitem(sys.modules, mod, None)
    with pytest.raises(R.RenderError, match=re.escape('pip install "shelfplan[html]"')):
        R.render(layout, tmp_path / "plan.html")
    assert os.listdir(tmp_path) == []
    R.render(layout, tmp_path / "still.png", view="top", dpi=30)   # matplotlib is enough


def test_bad_choices(layout, tmp_path):
    with pytest.raises(R.RenderError, match="view must be one of"):
        R.render(layout, tmp_path / "a.png", view="side")
    with pytest.raises(R.RenderError, match="color_by must be one of"):
        R.render(layout, tmp_path / "a.png", color_by="size")
    with pytest.raises(R.RenderError, match="dpi"):
        R.render(layout, tmp_path / "a.png", dpi=0)


# --------------------------------------------------------------------------
# the command line
# --------------------------------------------------------------------------
@pytest.mark.parametrize("ext", ["png", "svg", "pdf", "html"])
def test_cli_every_format(layout_file, tmp_path, ext):
    out = tmp_path / f"plan.{ext}"
    result = CliRunner().invoke(main, ["render", str(layout_file), "-o", str(out),
                                       "--edges", "20", "--dpi", "60"])
    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    head = out.read_bytes()[:200]
    assert {"png": b"\x89PNG", "svg": b"<?xml", "pdf": b"%PDF-",
            "html": b"<html"}[ext] in head
    no_leftovers(tmp_path)


@pytest.mark.parametrize("view", ["3d", "top", "both"])
def test_cli_views_and_options(layout_file, tmp_path, view):
    out = tmp_path / "plan.png"
    result = CliRunner().invoke(main, ["render", str(layout_file), "-o", str(out), "--view",
                                       view, "--color-by", "popularity", "--elev", "45",
                                       "--azim", "-120", "--dpi", "50", "-q"])
    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert_not_blank(pixels(out))


def test_cli_edges_from_loans(layout_file, tmp_path):
    out = tmp_path / "plan.png"
    result = CliRunner().invoke(main, ["render", str(layout_file), "-o", str(out), "--edges",
                                       "30", "--loans", str(LOANS), "--dpi", "40"])
    assert result.exit_code == 0, result.output
    assert out.exists()


def test_cli_loans_needs_edges(layout_file, tmp_path):
    result = CliRunner().invoke(main, ["render", str(layout_file), "-o",
                                       str(tmp_path / "p.png"), "--loans", str(LOANS)])
    assert result.exit_code == 2
    assert "--loans is only used to draw --edges K" in result.output
    assert os.listdir(tmp_path) == []


def test_cli_help_has_an_example():
    result = CliRunner().invoke(main, ["render", "--help"])
    assert result.exit_code == 0
    assert "shelfplan render layout.json -o plan.png" in result.output
    assert "--color-by [category|popularity]" in result.output
    assert 'pip install "shelfplan[html]"' in result.output


def test_cli_missing_layout(tmp_path):
    result = CliRunner().invoke(main, ["render", str(tmp_path / "none.json"), "-o",
                                       str(tmp_path / "p.png")])
    line = one_line_error(result)
    assert "none.json: no such layout file" in line
    assert result.exit_code == 1 and not (tmp_path / "p.png").exists()


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ('{"format": "something else"}', "not a shelfplan layout"),
    ('{"format": "shelfplan.layout", "version": 1, "hall": {}}', "missing footprint"),
])
def test_cli_invalid_layout(tmp_path, content, message):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    result = CliRunner().invoke(main, ["render", str(bad), "-o", str(tmp_path / "p.png")])
    assert message in one_line_error(result)
    assert result.exit_code == 1 and not (tmp_path / "p.png").exists()


def test_cli_unknown_extension(layout_file, tmp_path):
    result = CliRunner().invoke(main, ["render", str(layout_file), "-o",
                                       str(tmp_path / "plan.jpg")])
    line = one_line_error(result)
    assert "unknown output format ('.jpg')" in line and ".png, .svg, .pdf or .html" in line
    assert os.listdir(tmp_path) == []


def test_cli_edges_without_pairs(layout_file, tmp_path):
    data = json.loads(layout_file.read_text())
    data["pairs"] = []
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(data))
    out = tmp_path / "plan.png"
    result = CliRunner().invoke(main, ["render", str(bare), "-o", str(out), "--edges", "10"])
    line = one_line_error(result)
    assert "no stored co-borrowed pairs" in line and "--loans LOANS" in line
    assert result.exit_code == 1 and not out.exists()
    no_leftovers(tmp_path)


@pytest.mark.parametrize("where", ["missing-dir", "is-dir", "under-a-file", "proc"])
def test_cli_unwritable_output(layout_file, tmp_path, where):
    if where == "missing-dir":
        out, message = tmp_path / "nope" / "plan.png", "does not exist"
    elif where == "is-dir":
        (tmp_path / "d.png").mkdir()
        out, message = tmp_path / "d.png", "is a directory"
    elif where == "under-a-file":
        (tmp_path / "file").write_text("x")
        out, message = tmp_path / "file" / "plan.png", "does not exist"
    else:
        if not os.path.isdir("/proc/self"):
            pytest.skip("no /proc on this system")
        out, message = Path("/proc/plan.png"), "cannot write there"
    result = CliRunner().invoke(main, ["render", str(layout_file), "-o", str(out)])
    line = one_line_error(result)
    assert message in line and result.exit_code == 1
    assert not out.is_file()


def test_cli_read_only_directory(layout_file, tmp_path):
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("root can write into read-only directories; covered by /proc above")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        result = CliRunner().invoke(main, ["render", str(layout_file), "-o", str(ro / "p.png")])
        assert "cannot write there" in one_line_error(result)
        assert os.listdir(ro) == []
    finally:
        ro.chmod(0o755)


def test_cli_plotly_missing(layout_file, tmp_path, monkeypatch):
    for mod in ("plotly", "plotly.graph_objects", "plotly.subplots"):
        monkeypatch.setitem(sys.modules, mod, None)
    result = CliRunner().invoke(main, ["render", str(layout_file), "-o",
                                       str(tmp_path / "p.html")])
    line = one_line_error(result)
    assert 'pip install "shelfplan[html]"' in line and result.exit_code == 1
    assert os.listdir(tmp_path) == []


def test_round_trip_through_file_renders_the_same_items(layout, layout_file, tmp_path):
    again = read_layout(layout_file)
    a = R.plot_3d(again)["points"].get_offsets()
    assert len(a) == layout.n


def test_a_single_book_without_categories_or_loans(tmp_path):
    """The smallest layout a file can hold still draws in every format."""
    from shelfplan.model.hall import default_hall
    from shelfplan.layout import Layout

    hall = default_hall(1)
    one = Layout(hall=hall, items=np.array(["only"], dtype=object),
                 positions=np.array([[1.0, 1.0, 1.0]]), p=np.array([0.0]))
    for ext in ("png", "svg", "pdf", "html"):
        R.render(one, tmp_path / f"one.{ext}")
        assert (tmp_path / f"one.{ext}").stat().st_size > 1000
    assert "S n/a" in R.plan_title(one)
