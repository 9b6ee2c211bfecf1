"""The stack map in a real headless browser (Debian's Chromium), loaded from disk.

As in tests/test_render_html_browser.py, Chromium is driven over the DevTools
protocol on ``--remote-debugging-pipe``, with the network shut off
(``Network.emulateNetworkConditions`` offline): type an item id, a call
number, title words into the search box, press Enter or click Find, read the
answer and check which location is highlighted. Skipped only where no
Chromium is installed.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from shelfplan.present.stackmap import where, write_stack_map
from chromium import CHROMIUM, DevTools, problems
from test_signs import TINY_BOOKS, tiny_plan  # noqa: F401
from test_signs import today  # noqa: F401  (the sample's call-number shelving)


pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason=f"{CHROMIUM} not installed (apt-get install -y chromium; .ci/run does this)")

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    dt = DevTools(tmp_path_factory.mktemp("profile"), FLAGS, window="1200,900")
    try:
        targets = dt.send("Target.getTargets")["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        dt.session = dt.send("Target.attachToTarget", {"targetId": page["targetId"],
                                                       "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Page", "Network"):
            dt.send(f"{domain}.enable")
        dt.send("Network.emulateNetworkConditions", {"offline": True, "latency": 0,
                                                     "downloadThroughput": -1,
                                                     "uploadThroughput": -1})
        yield dt
    finally:
        dt.close()


def load(browser: DevTools, html: Path) -> None:
    browser.events.clear()
    browser.send("Page.navigate", {"url": html.resolve().as_uri()})
    browser.wait_event("Page.loadEventFired", timeout=60)
    assert browser.js("typeof window.stackMapSearch") == "function", problems(browser.events)


def ask(browser: DevTools, text: str, how: str = "enter") -> dict:
    """Type ``text`` into the search box and press Enter (or click Find); the answer."""
    browser.js("(() => { const q = document.getElementById('q'); q.value = ''; q.focus(); })()")
    browser.send("Input.insertText", {"text": text})
    if how == "enter":
        for kind in ("keyDown", "keyUp"):
            browser.send("Input.dispatchKeyEvent", {"type": kind, "key": "Enter",
                                                    "code": "Enter", "windowsVirtualKeyCode": 13,
                                                    **({"text": "\r"} if kind == "keyDown"
                                                       else {})})
    else:
        x, y = browser.js("(() => { const r = document.getElementById('go')"
                          ".getBoundingClientRect(); return [r.x + r.width / 2,"
                          " r.y + r.height / 2]; })()")
        for kind in ("mousePressed", "mouseReleased"):
            browser.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y,
                                                      "button": "left", "clickCount": 1})
    time.sleep(0.1)
    return browser.js("""(() => {
        const hit = document.querySelector('.loc.hit'), rng = document.querySelector('.hit-range');
        return {answer: document.getElementById('answer').textContent,
                hit: hit && [hit.dataset.range, hit.dataset.face, +hit.dataset.section],
                hits: document.querySelectorAll('.loc.hit').length,
                also: document.querySelectorAll('.loc.also').length,
                range: rng && rng.dataset.range,
                listed: document.querySelectorAll('#hits li').length,
                pin: document.getElementById('pin').getAttribute('visibility')};
    })()""")


def spot(layout, k) -> list:
    st = layout.hall.stacks
    loc = int(layout.shelf["loc"][k])
    return [st.ranges[st.loc_range[loc]].id, ("left", "right")[st.loc_face[loc]],
            int(st.loc_section[loc])]


@pytest.fixture(scope="module")
def tiny_page(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny") / "map.html"
    write_stack_map(tiny_plan(), out)
    return out


def test_item_id_call_number_and_title_word(browser, tiny_page):
    load(browser, tiny_page)
    plan = tiny_plan()
    # an item id, typed in another case, found with Enter
    got = ask(browser, "B4")
    assert got["answer"] == "b4 (400 E): range R, right face, section 1, shelf 1"
    assert got["hit"] == ["R", "right", 1] and got["range"] == "R" and got["hits"] == 1
    assert got["pin"] == "visible"
    # an exact call number, with the Find button
    got = ask(browser, "200 c", how="click")
    assert got["answer"] == "b3 (200 C): range R, left face, section 2, shelf 1"
    assert got["hit"] == ["R", "left", 2]
    # a prefix: both books of class 100, the first in library order
    got = ask(browser, "100")
    assert got["answer"].startswith("2 books from 100 A to 100 B; the first, b2 (100 A): "
                                    "range R, left face, section 1, shelf 1"), got
    assert got["listed"] == 2
    # a title word (any case, the start of a word)
    got = ask(browser, "WAR")
    assert got["answer"] == ("The war at sea \u00b7 b3 (200 C): range R, left face, "
                             "section 2, shelf 1")
    assert got["hit"] == ["R", "left", 2]
    # two words must both be in the title
    assert ask(browser, "gard rom")["answer"].startswith("Gardens of Rome \u00b7 b1")
    # a call number no book has: where it would stand (before 300 D)
    got = ask(browser, "250.5 X")
    assert got["answer"] == ("No book has call number 250.5 X; it would stand by b5 (300 D): "
                             + where(plan, 4))
    assert got["hit"] == spot(plan, 4)
    # nothing: no highlight
    got = ask(browser, "zebra")
    assert got["answer"] == "Nothing found for \u201czebra\u201d." and got["hit"] is None
    assert got["pin"] == "hidden"
    found = problems(browser.events)
    assert not found, "\n".join(found)


def test_the_sample_plan_in_the_browser(browser, today, tmp_path):  # noqa: F811
    out = tmp_path / "map.html"
    write_stack_map(today, out)
    load(browser, out)
    ids = [str(i) for i in today.items]
    calls = [str(c) for c in today.shelf["callnumber"]]
    k = ids.index("B00731")
    got = ask(browser, "b00731")
    assert got["answer"] == f"B00731 ({calls[k]}): {where(today, k)}"
    assert got["hit"] == spot(today, k)
    # an exact call number that only one book has
    uniq = next(j for j, c in enumerate(calls) if calls.count(c) == 1 and j > 700)
    got = ask(browser, calls[uniq].lower(), how="click")
    assert got["answer"] == f"{ids[uniq]} ({calls[uniq]}): {where(today, uniq)}"
    assert got["hit"] == spot(today, uniq)
    # between two call numbers: by the next book in library order (today's shelving is
    # in call-number order, so that is the next book on the shelf list)
    from shelfplan.present.shelflist import shelf_list_rows
    rows = shelf_list_rows(today)
    a, b = next((r, s) for r, s in zip(rows[800:], rows[801:])
                if r[1][:3] == s[1][:3] and r[1][4:6] != s[1][4:6])
    query = f"{a[1][:6]}9"                  # e.g. 610.429: after a, before b
    assert a[1] < query < b[1], (a, b, query)
    got = ask(browser, query)
    j = ids.index(b[0])
    assert got["answer"].startswith(f"No book has call number {query}; it would stand by "), got
    assert got["answer"].endswith(where(today, j)) and got["hit"] == spot(today, j)
    found = problems(browser.events)
    assert not found, "\n".join(found)


def test_the_page_loads_nothing_from_the_network(browser, tiny_page):
    load(browser, tiny_page)
    browser.js("document.body.offsetHeight")
    requests = [ev["params"]["request"]["url"] for ev in browser.events
                if ev.get("method") == "Network.requestWillBeSent"]
    assert all(u.startswith("file:") for u in requests), requests
    assert browser.js("document.querySelectorAll('script[src], link, img').length") == 0
    assert not problems(browser.events)


@pytest.mark.parametrize("scheme, misplaced", [("dewey", 0), ("lcc", 0), ("udc", 10)])
def test_the_browser_order_against_sort_keys(browser, tiny_page, scheme, misplaced):
    """The page's simplified comparator (for call numbers no book has) against the
    library order of :func:`sort_keys` on the call numbers of tests/fixtures: the same
    for Dewey and LCC; UDC's auxiliaries (``:``, ``(075)``, ``=111``, ``+``) it does not
    know, and 10 of 33 neighbouring pairs come out the other way round (docs/render.md)."""
    import csv

    import numpy as np

    from shelfplan.ingest.callsort import sort_keys

    with open(Path(__file__).parent / "fixtures" / "call_numbers.csv", encoding="utf-8") as fh:
        calls = [r["call_number"] for r in csv.DictReader(fh) if r["scheme"] == scheme]
    load(browser, tiny_page)
    want = [calls[i] for i in np.argsort(sort_keys(calls, scheme), kind="stable")]
    got = browser.js(f"{json.dumps(calls)}.slice().sort(window.stackMapCompare)")
    wrong = [(a, b) for a, b in zip(want, want[1:])
             if browser.js(f"window.stackMapCompare({json.dumps(a)}, {json.dumps(b)})") > 0]
    assert len(wrong) == misplaced, wrong
    if not misplaced:
        assert got == want


def test_a_call_number_no_book_has_files_in_its_prefix_sequence(browser, tmp_path):
    """A plan made with --prefix-order REF,-: a REF call number no book has is placed
    among the REF books (before the others), an unprefixed one among the rest."""
    from dataclasses import replace

    # in call-number order along the shelving order (REF first), so the page places
    books = [("b1", "left", 1, 1, "REF QA76 .A1", None), ("b2", "left", 1, 2, "REF QA90 .B2", None),
             ("b3", "left", 2, 1, "QA1 .C3", None), ("b4", "right", 2, 1, "QA50 .D4", None),
             ("b5", "right", 1, 2, "QB1 .E5", None)]
    plan = replace(tiny_plan(books), estimation={"shelf_order": {"scheme": "auto",
                                                                 "prefix_order": ["REF", "-"]}})
    out = tmp_path / "map.html"
    write_stack_map(plan, out)
    load(browser, out)
    cmp = lambda a, b: browser.js(f"window.stackMapCompare({json.dumps(a)}, {json.dumps(b)})")
    assert cmp("REF QA80", "QA1 .C3") < 0 and cmp("REF QA80", "REF QA90 .B2") < 0
    assert cmp("REF QA80", "REF QA76 .A1") > 0 and cmp("QA60", "QA50 .D4") > 0
    got = ask(browser, "REF QA80")
    assert got["answer"].startswith("No book has call number REF QA80; it would stand by "), got
    assert got["answer"].endswith(where(plan, 1)), got
    assert not problems(browser.events)


def test_a_plan_out_of_order_has_no_place_for_a_new_call_number(browser, tmp_path):
    """Issue 22, item 7: on a plan not in call-number order the page does not claim a
    place; it names the books with the nearest call numbers and marks both."""
    books = [b if b[0] != "b3" else ("b3", "right", 1, 2, "200 C", None) for b in TINY_BOOKS]
    out = tmp_path / "free.html"
    write_stack_map(tiny_plan(books), out)
    load(browser, out)
    got = ask(browser, "250.5 X")
    assert got["answer"].startswith("No book has call number 250.5 X. This plan is not in "
                                    "call-number order, so it has no place for it; the nearest "
                                    "call numbers: b3 (200 C): range R, right face"), got
    assert "b5 (300 D): range R, right face, section 2" in got["answer"]
    assert "would stand" not in got["answer"]
    assert got["hits"] + got["also"] >= 1
    # the face labels on the plan are classes, not a range of call numbers
    page = out.read_text(encoding="utf-8")
    assert ">classes 200, 300, 400</text>" in page and "100 A \u2013" not in page
