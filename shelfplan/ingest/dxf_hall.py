"""A floor of a hall file from a DXF floor plan (read with ezdxf).

The layers (names overridable, case-insensitive):

==============  ==========================================================================
``FOOTPRINT``   closed polylines: the largest is the floor's outline (others ignored)
``OBSTACLES``   closed polylines: pillars, desks, stairwells
``RANGES``      closed rectangles: range footprints; a text inside one names it
``ENTRANCE``    a point, a block insert or a circle: the entrance (its centre)
``STAIRS``      points, inserts or circles: stairs (the same place on several floors
``LIFTS``       is one connector; a text beside one names it)
==============  ==========================================================================

Coordinates are converted to metres from ``$INSUNITS`` (mm, cm, m, in, ft; a drawing
without units is taken as metres unless ``units`` says otherwise). A rectangle less
than :data:`SINGLE_FACED_BELOW` deep is a single-faced range whose books face the
wider aisle; a deeper one is double-faced, ``depth`` half its width. Sections are
``round(length / section_width)`` bays. :func:`read_dxf_floor` returns the floor as a
plain dict (footprint, obstacles, stacks, entrance, connector points) and a report of
what each layer held: recognised and ignored entities by type.
"""

from __future__ import annotations

import os
from collections import Counter

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon

from shelfplan.errors import HallError

__all__ = ["read_dxf_floor", "LAYERS", "UNITS", "SINGLE_FACED_BELOW", "format_report"]

#: Default layer names by role.
LAYERS = {"footprint": "FOOTPRINT", "obstacles": "OBSTACLES", "ranges": "RANGES",
          "entrance": "ENTRANCE", "stairs": "STAIRS", "lifts": "LIFTS"}
#: $INSUNITS code -> (name, metres per unit); 0 (unitless) is handled apart.
UNITS = {1: ("in", 0.0254), 2: ("ft", 0.3048), 4: ("mm", 0.001), 5: ("cm", 0.01),
         6: ("m", 1.0)}
UNIT_NAMES = {name: scale for name, scale in UNITS.values()}
SINGLE_FACED_BELOW = 0.45      # metres: a thinner rectangle is a single-faced range
POINTS = ("POINT", "INSERT", "CIRCLE")
RIGHT_ANGLE_TOL = 1e-3         # |cos| of a rectangle's corner angle at most this


def _open(path):
    import ezdxf

    path = os.fspath(path)
    if not os.path.exists(path):
        raise HallError(f"{path}: no such DXF file; check the path")
    try:
        return ezdxf.readfile(path)
    except IOError as exc:
        raise HallError(f"{path}: cannot be read ({exc}); pass a DXF floor plan") from None
    except ezdxf.DXFStructureError as exc:
        raise HallError(f"{path}: not a valid DXF file ({exc}); export the floor plan as "
                        f"DXF from the CAD program") from None


def drawing_units(doc, path, units: str | None) -> tuple[str, float]:
    """(unit name, metres per drawing unit) from ``units`` or the drawing's $INSUNITS."""
    if units is not None:
        if units not in UNIT_NAMES:
            raise HallError(f"`units` must be one of {', '.join(UNIT_NAMES)}, got {units!r}")
        return units, UNIT_NAMES[units]
    code = int(doc.header.get("$INSUNITS", 0) or 0)
    if code == 0:
        return "m (drawing has no units)", 1.0
    if code not in UNITS:
        raise HallError(f"{path}: $INSUNITS {code} is not mm, cm, m, in or ft; pass --units "
                        f"with the unit the plan is drawn in")
    return UNITS[code]


def _ring(e) -> np.ndarray | None:
    """The corners of a closed LWPOLYLINE/POLYLINE (bulges ignored), else None."""
    kind = e.dxftype()
    if kind == "LWPOLYLINE" and e.closed:
        pts = np.array([(p[0], p[1]) for p in e.get_points("xy")], dtype=float)
    elif kind == "POLYLINE" and e.is_closed and not e.is_3d_polyline:
        pts = np.array([(v.dxf.location.x, v.dxf.location.y) for v in e.vertices], dtype=float)
    else:
        return None
    if len(pts) > 1 and np.allclose(pts[0], pts[-1]):
        pts = pts[:-1]
    return pts if len(pts) >= 3 else None


def _point(e) -> np.ndarray | None:
    kind = e.dxftype()
    if kind == "POINT":
        p = e.dxf.location
    elif kind == "INSERT":
        p = e.dxf.insert
    elif kind == "CIRCLE":
        p = e.dxf.center
    else:
        return None
    return np.array([p.x, p.y], dtype=float)


def _rectangle(ring: np.ndarray) -> np.ndarray | None:
    """Four corners with right angles (a repeated fifth dropped), else None."""
    if len(ring) != 4:
        return None
    for k in range(4):
        a, b, c = ring[k - 1], ring[k], ring[(k + 1) % 4]
        u, v = a - b, c - b
        nu, nv = np.linalg.norm(u), np.linalg.norm(v)
        if nu == 0 or nv == 0 or abs(u @ v) / (nu * nv) > RIGHT_ANGLE_TOL:
            return None
    return ring


def _clearance(mid, normal, free, limit=1000.0) -> float:
    """How far one can walk from ``mid`` (a side of a range) along ``normal`` on the free
    floor ``free`` (0 when the side is flush with a wall or another range)."""
    q = mid + 0.01 * normal
    if not free.contains(Point(q)):
        return 0.0
    hit = LineString([q, q + limit * normal]).intersection(free.boundary)
    return limit if hit.is_empty else 0.01 + float(Point(q).distance(hit))


def _range_from_rect(rect, rid, section_width, others) -> dict:
    """A range spec (MODEL.md 8.1) whose footprint is this rectangle."""
    e1, e2 = rect[1] - rect[0], rect[2] - rect[1]
    long_, short = (e1, e2) if np.linalg.norm(e1) >= np.linalg.norm(e2) else (e2, e1)
    length, width = float(np.linalg.norm(long_)), float(np.linalg.norm(short))
    u = long_ / length
    if u[0] < -1e-9 or (abs(u[0]) <= 1e-9 and u[1] < 0):     # canonical: along +x, or +y
        u = -u
    n = np.array([-u[1], u[0]])
    centre = rect.mean(axis=0)
    sections = max(1, int(round(length / section_width)))
    if width >= SINGLE_FACED_BELOW:
        start = centre - 0.5 * length * u
        spec = {"id": rid, "start": start, "end": start + length * u, "sections": sections,
                "depth": width / 2}
    else:                               # single-faced: the books face the wider aisle
        left = _clearance(centre + 0.5 * width * n, n, others)
        right = _clearance(centre - 0.5 * width * n, -n, others)
        face = "left" if left >= right else "right"
        sign = -1.0 if face == "left" else 1.0          # the spine is the back edge
        start = centre - 0.5 * length * u + sign * 0.5 * width * n
        spec = {"id": rid, "start": start, "end": start + length * u, "sections": sections,
                "faces": face, "depth": width}
    spec["start"] = [round(float(v), 6) for v in spec["start"]]
    spec["end"] = [round(float(v), 6) for v in spec["end"]]
    spec["depth"] = round(float(spec["depth"]), 6)
    return spec


def _role_of(layers: dict) -> dict:
    return {name.upper(): role for role, name in layers.items()}


def read_dxf_floor(path, *, layers: dict | None = None, section_width: float = 0.9,
                   shelving: dict | None = None, units: str | None = None) -> tuple[dict, dict]:
    """(floor, report) from a DXF plan: floor = {footprint, obstacles, stacks, entrance
    (or None), stairs, lifts (lists of (point, label))} in metres; report = {unit,
    layers: {layer: {"recognised": Counter, "ignored": Counter}}}."""
    path = os.fspath(path)
    doc = _open(path)
    unit, scale = drawing_units(doc, path, units)
    names = {**LAYERS, **(layers or {})}
    role = _role_of(names)
    report = {"file": path, "unit": unit,
              "layers": {n.upper(): {"recognised": Counter(), "ignored": Counter()}
                         for n in names.values()}}
    found = {r: [] for r in LAYERS}
    texts = {r: [] for r in LAYERS}
    other = Counter()
    for e in doc.modelspace():
        layer = e.dxf.layer.upper() if e.dxf.hasattr("layer") else "0"
        r = role.get(layer)
        if r is None:
            other[e.dxf.layer] += 1
            continue
        rep = report["layers"][names[r].upper()]
        kind = e.dxftype()
        if kind in ("TEXT", "MTEXT") and r in ("ranges", "stairs", "lifts"):
            p = e.dxf.insert
            text = e.dxf.text if kind == "TEXT" else e.plain_text()
            texts[r].append((np.array([p.x, p.y]) * scale, text.strip()))
            rep["recognised"][kind] += 1
            continue
        got = _ring(e) if r in ("footprint", "obstacles", "ranges") else _point(e)
        if got is None or (r == "ranges" and _rectangle(got) is None):
            rep["ignored"][kind + (" (not a rectangle)" if got is not None else "")] += 1
            continue
        rep["recognised"][kind] += 1
        found[r].append(got * scale)
    report["other_layers"] = dict(other)
    if not found["footprint"]:
        raise HallError(f"{path}: no closed polyline on layer {names['footprint']!r} (the "
                        f"floor's outline); draw one there or name its layer with --layer "
                        f"footprint=NAME")
    areas = [Polygon(r).area for r in found["footprint"]]
    foot = found["footprint"][int(np.argmax(areas))]
    _check_scale(foot, path, unit)
    rects = found["ranges"]
    solid = shapely.union_all([Polygon(o) for o in found["obstacles"] + rects]).buffer(1e-9)
    free = Polygon(foot).difference(solid)
    stacks = []
    for k, rect in enumerate(rects):
        poly = Polygon(rect)
        label = [t for p, t in texts["ranges"] if t and poly.covers(Point(p))]
        rid = label[0] if label else f"R{k + 1}"
        stacks.append({**_range_from_rect(rect, rid, section_width, free), **(shelving or {})})
    ent = found["entrance"]
    floor = {"footprint": _rounded(foot), "obstacles": [_rounded(o) for o in found["obstacles"]],
             "stacks": stacks, "entrance": None if not ent else _rounded(ent[0]),
             "stairs": _labelled(found["stairs"], texts["stairs"]),
             "lifts": _labelled(found["lifts"], texts["lifts"])}
    if len(ent) > 1:
        report["layers"][names["entrance"].upper()]["ignored"]["extra entrance"] += len(ent) - 1
    return floor, report


def _check_scale(foot, path, unit):
    span = float(np.max(np.ptp(foot, axis=0)))
    if span > 2000 or span < 1:
        raise HallError(f"{path}: the floor's outline is {span:.4g} m across when read in "
                        f"{unit}; the units look wrong (mixed units?): set $INSUNITS in "
                        f"the drawing or pass --units mm|cm|m|in|ft")


def _rounded(a) -> list:
    return np.round(np.asarray(a, dtype=float), 6).tolist()


def _labelled(points, texts) -> list:
    out = []
    for p in points:
        near = [(float(np.linalg.norm(q - p)), t) for q, t in texts if t]
        near = [t for d, t in sorted(near) if d <= 2.0]
        out.append((_rounded(p), near[0] if near else None))
    return out


def format_report(report: dict) -> str:
    """'plan.dxf (mm): FOOTPRINT 1 LWPOLYLINE; RANGES 8 LWPOLYLINE, 8 TEXT (ignored: ...)'"""
    parts = []
    for layer, rep in report["layers"].items():
        rec = ", ".join(f"{n} {k}" for k, n in sorted(rep["recognised"].items())) or "nothing"
        ign = ", ".join(f"{n} {k}" for k, n in sorted(rep["ignored"].items()))
        parts.append(f"{layer}: {rec}" + (f" (ignored: {ign})" if ign else ""))
    other = report.get("other_layers") or {}
    if other:
        parts.append("other layers ignored: " + ", ".join(f"{k} ({n})" for k, n in
                                                          sorted(other.items())))
    return f"{report['file']} ({report['unit']}): " + "; ".join(parts)
