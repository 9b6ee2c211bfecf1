"""The interactive HTML in a real headless browser (Debian's Chromium).

Two ways in: Chromium's own ``--screenshot`` (the page renders offline and is
not blank, no uncaught errors in its log), and the DevTools protocol over
``--remote-debugging-pipe`` (no console errors or exceptions, the plot is
built, and moving the mouse onto a book shows its id, category and p).
Skipped only where no Chromium is installed (``.ci/run`` installs it).
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from shelfplan.present import render as R
from shelfplan.api import baseline

from chromium import CHROMIUM, DevTools, problems

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason=f"{CHROMIUM} not installed (apt-get install -y chromium; .ci/run does this)")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         # plotly's 3D scene needs WebGL: software rendering, opted in explicitly
         "--enable-unsafe-swiftshader", "--use-angle=swiftshader"]


@pytest.fixture(scope="module")
def layout():
    return baseline("popularity", str(ROOT / "data" / "loans.csv"),
                    str(ROOT / "data" / "hall.json"))


@pytest.fixture(scope="module")
def html_file(layout, tmp_path_factory):
    out = tmp_path_factory.mktemp("html") / "plan.html"
    R.render(layout, out, view="both", edges=30)
    return out


def not_blank(png: Path, size=None) -> np.ndarray:
    with Image.open(png) as im:
        if size:
            assert im.size == size
        rgb = np.asarray(im.convert("RGB"), dtype=float)
    assert rgb.std() > 15, f"screenshot looks blank (std {rgb.std():.1f})"
    assert (rgb.min(axis=2) < 230).mean() > 0.02, "screenshot is almost all white"
    return rgb


def test_screenshot_offline(html_file, tmp_path):
    shot = tmp_path / "shot.png"
    cmd = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
           "--enable-logging=stderr", "--v=0", f"--screenshot={shot}",
           "--window-size=1000,800", "--virtual-time-budget=15000",
           html_file.resolve().as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    errors = [ln for ln in proc.stderr.splitlines()
              if "Uncaught" in ln or ("CONSOLE" in ln and re.search(r"error", ln, re.I))]
    assert not errors, "\n".join(errors)
    rgb = not_blank(shot, size=(1000, 800))
    # the red entrance and the heat map's reds are on screen
    red = (rgb[..., 0] > 180) & (rgb[..., 1] < 80) & (rgb[..., 2] < 80)
    assert red.mean() > 1e-4


@pytest.fixture
def browser(tmp_path):
    dt = DevTools(tmp_path / "profile", FLAGS)
    try:
        targets = dt.send("Target.getTargets")["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        dt.session = dt.send("Target.attachToTarget", {"targetId": page["targetId"],
                                                       "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            dt.send(f"{domain}.enable")
        yield dt
    finally:
        dt.close()


def load(browser: DevTools, html: Path) -> None:
    browser.send("Page.navigate", {"url": html.resolve().as_uri()})
    browser.wait_event("Page.loadEventFired", timeout=60)
    deadline = time.monotonic() + 60
    while not browser.js("!!(document.querySelector('.js-plotly-plot') || {})._fullLayout"):
        assert time.monotonic() < deadline, "plotly never drew the figure"
        time.sleep(0.2)
    browser.drain(1.5)


def hover_text(browser: DevTools, x: float, y: float) -> str:
    browser.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y})
    time.sleep(0.15)
    return browser.js("Array.from(document.querySelectorAll('.hovertext'))"
                      ".map(e => e.textContent).join(' | ')") or ""


def test_no_console_errors_and_plot_built(browser, html_file, layout, tmp_path):
    load(browser, html_file)
    info = browser.js("""(() => {
        const gd = document.querySelector('.js-plotly-plot');
        const books = gd._fullData.filter(t => t.customdata);
        return {traces: gd._fullData.length,
                types: [...new Set(gd._fullData.map(t => t.type))],
                books3d: books.filter(t => t.type === 'scatter3d')
                              .reduce((s, t) => s + t._length, 0),
                webgl: !!document.querySelector('#scene canvas, .gl-container canvas'),
                scripts: Array.from(document.scripts).filter(s => s.src).length};
    })()""")
    assert info["books3d"] == layout.n
    assert {"scatter3d", "mesh3d", "heatmap", "scattergl"} <= set(info["types"])
    assert info["webgl"], "no WebGL canvas: the 3D scene did not start"
    assert info["scripts"] == 0, "the page must not load scripts from elsewhere"
    found = problems(browser.events)
    assert not found, "\n".join(found)
    shot = browser.send("Page.captureScreenshot", {"format": "png"})["data"]
    png = tmp_path / "cdp.png"
    png.write_bytes(base64.b64decode(shot))
    not_blank(png)


#: Screen position of a data point (x, y, z) in plotly's 3D scene (gl-plot3d camera).
PROJECT = """(() => {
    const s = document.querySelector('.js-plotly-plot')._fullLayout.scene._scene;
    const c = s.glplot.cameraParams, ds = s.dataScale;
    const mul = (m, v) => [0, 1, 2, 3].map(r => m[r] * v[0] + m[4 + r] * v[1]
                                               + m[8 + r] * v[2] + m[12 + r] * v[3]);
    let v = [%%r * ds[0], %%r * ds[1], %%r * ds[2], 1];
    v = mul(c.projection, mul(c.view, mul(c.model, v)));
    const r = s.glplot.canvas.getBoundingClientRect();
    return [r.left + (v[0] / v[3] + 1) / 2 * r.width, r.top + (1 - v[1] / v[3]) / 2 * r.height];
})()""".replace("%%r", "%r")


def test_hover_shows_id_category_and_p(browser, html_file, layout):
    load(browser, html_file)
    # the floor plan: put the mouse on the most popular book
    k = int(np.argmax(layout.p))
    x, y = layout.positions[k, :2]
    sx, sy = browser.js(f"""(() => {{
        const gd = document.querySelector('.js-plotly-plot');
        const fl = gd._fullLayout, r = gd.getBoundingClientRect();
        return [r.left + fl.xaxis._offset + fl.xaxis.l2p({x}),
                r.top + fl.yaxis._offset + fl.yaxis.l2p({y})];
    }})()""")
    text = hover_text(browser, sx, sy)
    cat = str(layout.categories[k])
    assert any(f"category {c}" in text for c in {cat}), text
    assert "p = " in text and re.search(r"B\d{5}", text), text
    # the 3D scene: project books to the screen with the scene's own camera and put
    # the mouse on them (popular ones first, not hidden behind the entrance marker)
    assert hover_text(browser, 2, 2) == "", "the floor plan's label should be gone"
    far = np.linalg.norm(layout.positions[:, :2] - layout.hall.entrance[:2], axis=1) > 0.8
    hit = ""
    for k in [int(i) for i in np.argsort(-layout.p) if far[i]][:15]:
        sx, sy = browser.js(PROJECT % tuple(float(v) for v in layout.positions[k]))
        t = hover_text(browser, sx, sy)
        if "category" in t and "p = " in t:
            hit = t
            break
    assert hit, "no hover label over the books of the 3D scene"
    assert re.search(r"B\d{5}", hit).group(0) in set(layout.items)
    found = problems(browser.events)
    assert not found, "\n".join(found)


# --------------------------------------------------------------------------
# a shelving plan (issue 11): books on their shelves say where they stand
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shelved_plan():
    return baseline("callnumber", str(ROOT / "data" / "loans.csv"),
                    str(ROOT / "data" / "stacked_hall.json"),
                    holdings=str(ROOT / "data" / "holdings.csv"))


def test_shelving_plan_hover_says_range_face_section_shelf_slot(browser, shelved_plan,
                                                                tmp_path):
    plan = shelved_plan
    html = tmp_path / "shelved.html"
    R.render(plan, html, view="both")
    load(browser, html)
    info = browser.js("""(() => {
        const gd = document.querySelector('.js-plotly-plot');
        return {books: gd._fullData.filter(t => t.type === 'scatter3d' && t.text
                                                && t.name !== 'entrance')
                                   .reduce((s, t) => s + t._length, 0),
                names: gd._fullData.map(t => t.name)};
    })()""")
    assert info["books"] == plan.n
    assert {"bookcases", "ranges", "locations"} <= set(info["names"])
    # the floor plan: a location's strip says what it holds
    k = int(np.argmax(plan.p))
    loc = int(plan.shelf["loc"][k])
    from shelfplan.present.geometry import face_strips
    cx, cy = face_strips(plan.hall.stacks)[loc].mean(axis=0)
    sx, sy = browser.js(f"""(() => {{
        const gd = document.querySelector('.js-plotly-plot');
        const fl = gd._fullLayout, r = gd.getBoundingClientRect();
        return [r.left + fl.xaxis._offset + fl.xaxis.l2p({cx}),
                r.top + fl.yaxis._offset + fl.yaxis.l2p({cy})];
    }})()""")
    text = hover_text(browser, sx, sy)
    assert re.search(r"range \S+, (left|right) face, section \d+: \d+ books?, loans", text), text
    # the 3D scene: a book's label names its range, face, section, shelf and slot
    assert hover_text(browser, 2, 2) == ""
    far = np.linalg.norm(plan.positions[:, :2] - plan.hall.entrance[:2], axis=1) > 0.8
    hit = ""
    for k in [int(i) for i in np.argsort(-plan.p) if far[i]][:20]:
        sx, sy = browser.js(PROJECT % tuple(float(v) for v in plan.positions[k]))
        t = hover_text(browser, sx, sy)
        if "shelf" in t:
            hit = t
            break
    assert re.search(r"B\d{5} \S+ \S+ - range \S+, (left|right) face, section \d+, "
                     r"shelf \d+, slot \d+", hit), hit
    found = problems(browser.events)
    assert not found, "\n".join(found)
