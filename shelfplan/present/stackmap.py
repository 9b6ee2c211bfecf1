"""The stack map of a shelving plan: a searchable HTML page and a printable floor plan.

:func:`write_stack_map` writes, by the output's extension:

* ``.html``: ONE self-contained page (no network, no external file: it works
  from a USB stick): the floor plan in plain SVG (footprint, obstacles, the
  entrance, ranges labelled with their id and each face's call-number range,
  one shape per location) and a search box in vanilla JavaScript. A query is
  an item id, a call number (exact, a prefix such as ``823.3``, or any call
  number: the page says where it would stand in library order), or title
  words; the answer reads "range A-3, left face, section 3, shelf 2" and the
  location is highlighted. The books ship in library order
  (:func:`shelfplan.ingest.callsort.shelf_ranks`), so exact and prefix matches
  follow the library's order exactly; a call number that no book has is placed
  by a binary search with a simpler comparator in JavaScript (class letters,
  whole numbers, decimals as fractions, cutters), see docs/render.md.
* ``.png``, ``.svg``, ``.pdf``: the empty floor plan of
  :func:`shelfplan.present.hall_plan.plot_plan` with each face's call-number
  range written beside it, for printing.
"""

from __future__ import annotations

import html
import json
import math
import os

import numpy as np
from matplotlib.figure import Figure

from shelfplan.ingest.callsort import order_options, prefix_sequences
from shelfplan.layout import SHELF_FACES, Layout, atomic_write, check_output_path
from shelfplan.present.signs import (call_ranks, call_text, face_signs, plan_in_order,
                                     require_plan,
                                     shelving_order)
from shelfplan.present.stackmap_page import PAGE_CSS, PAGE_JS
from shelfplan.present.style import RenderError

__all__ = ["write_stack_map", "map_data", "stack_map_html", "plot_stack_map", "with_titles",
           "MAP_FORMATS", "where"]

MAP_FORMATS = ("html", "png", "svg", "pdf")
PAD = 0.6                 # metres of margin around the footprint in the SVG
FONT = 0.17               # metres: text beside the faces


def map_format(path) -> str:
    ext = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
    ext = "html" if ext == "htm" else ext
    if ext not in MAP_FORMATS:
        raise RenderError(f"{os.fspath(path)}: a stack map is written as .html, .png, .svg or "
                          f".pdf, got {'.' + ext if ext else 'no extension'}; rename the output")
    return ext


def where(layout: Layout, k: int) -> str:
    """"range A-3, left face, section 3, shelf 2" for book k."""
    st, sh = layout.hall.stacks, layout.shelf
    loc = int(sh["loc"][k])
    floor = ("" if layout.hall.building is None else
             f"floor {layout.hall.building.floors[st.loc_floor[loc]].id}, ")
    return (floor + f"range {st.ranges[st.loc_range[loc]].id}, "
            f"{SHELF_FACES[st.loc_face[loc]]} face, "
            f"section {int(st.loc_section[loc])}, shelf {int(sh['shelf'][k])}")


def _titles(layout: Layout) -> list | None:
    t = layout.shelf.get("titles")
    if t is None:
        return None
    return [None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
            for v in t]


def map_data(layout: Layout, rank: np.ndarray | None = None) -> dict:
    """What the page's script needs: ranges, locations and the books in library order
    (ties in shelving order), each book's location index and shelf (``rank``:
    :func:`~shelfplan.present.signs.call_ranks`, computed when not given)."""
    require_plan(layout, "a stack map")
    st, sh = layout.hall.stacks, layout.shelf
    calls = call_text(layout)
    shelving = np.empty(layout.n, dtype=np.int64)
    shelving[shelving_order(layout)] = np.arange(layout.n)
    order = np.lexsort((shelving, call_ranks(layout) if rank is None else rank))
    titles = _titles(layout)
    b = layout.hall.building
    return {
        **({} if b is None else {"floors": [f.id for f in b.floors],
                                 "locFloor": [int(v) for v in st.loc_floor]}),
        "ranges": [str(r.id) for r in st.ranges],
        "locs": [[int(st.loc_range[k]), int(st.loc_face[k]), int(st.loc_section[k])]
                 for k in range(st.n_locations)],
        "id": [str(layout.items[k]) for k in order],
        "call": [calls[k] for k in order],
        "title": None if titles is None else [titles[k] for k in order],
        "loc": [int(sh["loc"][k]) for k in order],
        "shelf": [int(sh["shelf"][k]) for k in order],
        # the prefix sequences (REF, FOLIO; "" none) in filing order, for the script
        "prefixes": prefix_sequences([c for c in calls if c is not None],
                                     **order_options(layout.estimation.get("shelf_order"))),
        "ordered": plan_in_order(layout, call_ranks(layout) if rank is None else rank),
    }


def with_titles(layout: Layout, holdings) -> Layout:
    """The plan with titles taken from a holdings file (path or Holdings), matched by
    item id; books the holdings miss keep the title they had (or none)."""
    from dataclasses import replace

    from shelfplan.ingest.holdings import Holdings, read_holdings

    require_plan(layout, "a stack map")
    if not isinstance(holdings, Holdings):
        holdings = read_holdings(holdings)
    if holdings.titles is None:
        raise RenderError(f"{holdings.source}: the holdings have no title column; add one "
                          f"(title) or leave out --titles")
    by_id = dict(zip((str(i) for i in holdings.items), holdings.titles))
    old = _titles(layout) or [None] * layout.n
    titles = np.array([by_id.get(str(i), t) for i, t in zip(layout.items, old)], dtype=object)
    return replace(layout, shelf={**layout.shelf, "titles": titles})


# --- SVG --------------------------------------------------------------------------------

class _Frame:
    """Hall metres to SVG user units (metres, y down, a margin)."""

    def __init__(self, hall):
        minx, miny, maxx, maxy = hall.floor.bounds
        self.x0, self.y1 = minx - PAD, maxy + PAD
        self.w, self.h = maxx - minx + 2 * PAD, maxy - miny + 2 * PAD

    def pts(self, xy) -> str:
        xy = np.atleast_2d(np.asarray(xy, dtype=float))
        return " ".join(f"{x - self.x0:.3f},{self.y1 - y:.3f}" for x, y in xy)

    def xy(self, p) -> tuple[float, float]:
        return float(p[0] - self.x0), float(self.y1 - p[1])


def _angle(u) -> float:
    """Text angle (SVG degrees, y down) along direction u, kept readable (not upside down)."""
    a = -math.degrees(math.atan2(u[1], u[0]))
    return a - 180 if a > 90 else a + 180 if a <= -90 else a


def _text(fr: _Frame, at, text: str, size: float, angle: float, cls: str, room: float) -> str:
    x, y = fr.xy(at)
    fit = ""
    if len(text) * size * 0.58 > room:                 # squeeze long labels to the range
        fit = f' textLength="{room:.3f}" lengthAdjust="spacingAndGlyphs"'
    return (f'<text class="{cls}" x="{x:.3f}" y="{y:.3f}" font-size="{size:.3f}"{fit} '
            f'transform="rotate({angle:.2f} {x:.3f} {y:.3f})">{html.escape(text)}</text>')


def _location_shape(r, face: str, section: int) -> np.ndarray:
    t0, t1 = (section - 1) / r.sections, section / r.sections
    a = r.start + t0 * (r.end - r.start)
    b = r.start + t1 * (r.end - r.start)
    off = r.n * r.depth * (1.0 if face == "left" else -1.0)
    return np.array([a, b, b + off, a + off])


def _views(layout: Layout) -> list:
    """[(floor or None, hall to draw, range indices, location indices)]: one for a hall,
    one per floor for a building (indices into the building's ranges and locations)."""
    hall, st = layout.hall, layout.hall.stacks
    if hall.building is None:
        return [(None, hall, range(len(st.ranges)), range(st.n_locations))]
    from shelfplan.present.building_draw import floor_hall

    out, r0 = [], 0
    for f in hall.building.floors:
        nr, m = len(f.stacks.ranges), f.stacks.n_locations
        out.append((f, floor_hall(hall, f), range(r0, r0 + nr), range(f.offset, f.offset + m)))
        r0 += nr
    return out


def _connectors_svg(fr: _Frame, hall, floor) -> list:
    out = []
    for c in hall.building.connectors:
        if floor.id in c.at:
            x, y = fr.xy(c.at[floor.id])
            others = ", ".join(fid for fid in c.at if fid != floor.id)
            out.append(f'<g class="connector {c.kind}"><rect x="{x - 0.2:.3f}" '
                       f'y="{y - 0.2:.3f}" width="0.4" height="0.4"/><text class="conn-label" '
                       f'x="{x:.3f}" y="{y - 0.45:.3f}" font-size="0.3">'
                       f'{html.escape(c.id)}: to {html.escape(others)}</text></g>')
    return out


def _svg(layout: Layout, signs) -> str:
    st = layout.hall.stacks
    span = {(s.range, s.face): s.span for s in signs}
    pick = [None] * st.n_locations
    svgs = []
    for k_view, (floor, hall, r_ids, l_ids) in enumerate(_views(layout)):
        fr = _Frame(hall)
        attrs = ('id="map"' if floor is None else
                 f'id="map-{k_view}" class="floor-map" data-floor="{k_view}"'
                 f'{" hidden" if floor.index != layout.hall.building.entrance_floor else ""}')
        label = "floor plan" if floor is None else f"floor plan of floor {floor.id}"
        out = [f'<svg {attrs} viewBox="0 0 {fr.w:.3f} {fr.h:.3f}" role="img" '
               f'aria-label="{html.escape(label)}">',
               f'<polygon class="floor" points="{fr.pts(hall.footprint)}"/>']
        out += [f'<polygon class="obstacle" points="{fr.pts(ob)}"/>' for ob in hall.obstacles]
        for r_idx in r_ids:
            r = st.ranges[r_idx]
            rect = r.footprint()
            out.append(f'<g class="range" id="range-{r_idx}" data-range="{html.escape(r.id)}">'
                       f'<polygon class="range-body" points="{fr.pts(rect)}"/>')
            angle = _angle(r.u)
            out.append(_text(fr, rect.mean(axis=0), r.id, min(0.3, 1.6 * r.depth), angle,
                             "range-id", 0.9 * r.length))
            for face in r.face_names:
                sign = 1.0 if face == "left" else -1.0
                edge = rect[[3, 2]] if face == "left" else rect[[0, 1]]
                out.append(f'<polyline class="face face-{face}" points="{fr.pts(edge)}"/>')
                at = (r.start + r.end) / 2 + sign * r.n * (r.depth + 0.09 + FONT / 2)
                out.append(_text(fr, at, span[(r.id, face)], FONT, angle, "span",
                                 0.95 * r.length))
            out.append("</g>")
        for k in l_ids:
            r = st.ranges[st.loc_range[k]]
            face, sec = SHELF_FACES[st.loc_face[k]], int(st.loc_section[k])
            out.append(f'<polygon class="loc" id="loc-{k}" data-range="{html.escape(r.id)}" '
                       f'data-face="{face}" data-section="{sec}" '
                       f'points="{fr.pts(_location_shape(r, face, sec))}"/>')
            x, y = fr.xy(st.pick[k])
            pick[k] = [round(x, 3), round(y, 3)]
        if floor is not None:
            out += _connectors_svg(fr, layout.hall, floor)
        if k_view == 0:
            out.append(f'<circle id="pin" r="0.22" cx="{pick[0][0]:.3f}" '
                       f'cy="{pick[0][1]:.3f}" visibility="hidden"/>')
        if np.isfinite(hall.entrance).all():
            ex, ey = fr.xy(hall.entrance)
            out.append(f'<circle class="entrance" cx="{ex:.3f}" cy="{ey:.3f}" r="0.28"/>'
                       f'<text class="entrance-label" x="{ex:.3f}" y="{ey - 0.4:.3f}" '
                       f'font-size="0.35">entrance</text>')
        svgs.append("\n".join(out) + "</svg>")
    if layout.hall.building is not None:
        ef = layout.hall.building.entrance_floor
        buttons = "".join(
            f'<button type="button" data-floor="{k}" aria-pressed="{str(k == ef).lower()}">'
            f'floor {html.escape(f.id)}</button>'
            for k, f in enumerate(layout.hall.building.floors))
        svgs.insert(0, f'<nav id="floors" aria-label="floors">{buttons}</nav>')
    return "\n".join(svgs), pick


def _sign_table(signs) -> str:
    rows = "".join(f"<tr><td>{html.escape(s.range)}</td><td>{s.face}</td>"
                   f"<td>{html.escape(s.span)}</td><td>{s.books:,}</td></tr>" for s in signs)
    return ('<table id="signs"><thead><tr><th>range</th><th>face</th><th>call numbers</th>'
            f'<th>books</th></tr></thead><tbody>{rows}</tbody></table>')


def _json_script(data) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def stack_map_html(layout: Layout) -> str:
    """The whole page as one string."""
    rank = call_ranks(layout)
    signs = face_signs(layout, rank)
    data = map_data(layout, rank)
    svg, pick = _svg(layout, signs)
    data["pick"] = pick
    name = html.escape(layout.hall.name or "hall")
    hint = "an item id, a call number" + (" or title words" if data["title"] else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Stack map: {name}</title>
<style>{PAGE_CSS}</style></head>
<body>
<header><h1>Stack map: {name}</h1>
<form id="search" autocomplete="off"><label for="q">Find a book</label>
<input id="q" type="search" placeholder="{hint}" size="34">
<button id="go" type="submit">Find</button></form>
<p id="answer" aria-live="polite">Type {hint}, then press Enter.</p>
<ol id="hits"></ol></header>
<main>{svg}</main>
<section><h2>Signs</h2>{_sign_table(signs)}</section>
<script id="data" type="application/json">{_json_script(data)}</script>
<script>{PAGE_JS}</script>
</body></html>
"""


# --- the printable floor plan -----------------------------------------------------------

def plot_stack_map(layout: Layout, ax=None) -> list:
    """The floor plan (:func:`hall_plan.plot_plan`) with each face's call-number range
    written beside it; returns the artists."""
    from shelfplan.present.hall_plan import plot_plan

    signs = face_signs(layout)
    st = layout.hall.stacks
    if ax is None:
        ax = Figure(figsize=(12, 8)).add_subplot()
    artists = plot_plan(layout.hall, ax)
    fig = ax.figure
    minx, miny, maxx, maxy = layout.hall.floor.bounds
    metres_per_inch = (maxx - minx) / max(fig.get_figwidth() * 0.75, 1e-9)
    size = float(np.clip(FONT / metres_per_inch * 72, 3.0, 9.0))
    span = {(s.range, s.face): s.span for s in signs}
    for r in st.ranges:
        angle = -_angle(r.u)
        for face in r.face_names:
            sign = 1.0 if face == "left" else -1.0
            at = (r.start + r.end) / 2 + sign * r.n * (r.depth + 0.09 + FONT / 2)
            artists.append(ax.text(at[0], at[1], span[(r.id, face)], ha="center",
                                   va="center", fontsize=size, rotation=angle,
                                   rotation_mode="anchor", color="#202060"))
    ax.set_title(f"Stack map: {layout.hall.name}")
    return artists


def write_stack_map(layout: Layout, path) -> str:
    """Write the stack map (format by extension: html, png, svg, pdf) atomically."""
    fmt = map_format(path)
    require_plan(layout, "a stack map")
    check_output_path(path)
    if fmt == "html":
        page = stack_map_html(layout)
        atomic_write(path, lambda fh: fh.write(page))
        return fmt
    if layout.hall.building is not None:       # one panel per floor
        from shelfplan.present.building_draw import draw_connectors, floor_layouts, panel_grid
        views = floor_layouts(layout)
        fig, axes = panel_grid(len(views), layout.hall, width=8.0)
        for ax, (f, sub, _, _) in zip(axes, views):
            plot_stack_map(sub, ax)
            draw_connectors(ax, layout.hall, f)
            ax.set_title(f"Stack map: {layout.hall.name}, floor {f.id}")
    else:
        minx, miny, maxx, maxy = layout.hall.floor.bounds
        w = 14.0
        fig = Figure(figsize=(w, max(4.0, w * 0.8 * (maxy - miny) / max(maxx - minx, 1e-9))))
        plot_stack_map(layout, fig.add_subplot())
        fig.tight_layout()
    atomic_write(path, lambda fh: fig.savefig(fh, format=fmt, dpi=200), mode="wb")
    return fmt
