"""Draw a hall file as DXF floor plans (one per floor for a building), the layers that
``shelfplan hall import`` reads: FOOTPRINT, OBSTACLES, RANGES (rectangles labelled with
their id), ENTRANCE, STAIRS and LIFTS. For trying the import without a CAD program::

    python data/draw_dxf.py data/stacked_hall.json sample.dxf          # one file
    python data/draw_dxf.py data/building.json plan.dxf                # plan-G.dxf, ...

Coordinates are written in millimetres ($INSUNITS 4), as most CAD plans are.
"""

from __future__ import annotations

import os
import sys

import ezdxf
import numpy as np

from shelfplan.model.hall import load_hall

MM = 1000.0


def draw(path, footprint, obstacles, ranges, entrance=None, connectors=()):
    doc = ezdxf.new()
    doc.header["$INSUNITS"] = 4
    msp = doc.modelspace()
    mm = lambda pts: [tuple(p) for p in np.asarray(pts, dtype=float) * MM]  # noqa: E731
    msp.add_lwpolyline(mm(footprint), close=True, dxfattribs={"layer": "FOOTPRINT"})
    for ob in obstacles:
        msp.add_lwpolyline(mm(ob), close=True, dxfattribs={"layer": "OBSTACLES"})
    for r in ranges:
        rect = r.footprint()
        msp.add_lwpolyline(mm(rect), close=True, dxfattribs={"layer": "RANGES"})
        msp.add_text(r.id, height=150, dxfattribs={"layer": "RANGES",
                                                   "insert": tuple(rect.mean(axis=0) * MM)})
    if entrance is not None:
        msp.add_point(tuple(np.asarray(entrance[:2]) * MM), dxfattribs={"layer": "ENTRANCE"})
    for c, xy in connectors:
        layer = "STAIRS" if c.kind == "stairs" else "LIFTS"
        msp.add_circle(tuple(np.asarray(xy) * MM), 300, dxfattribs={"layer": layer})
        msp.add_text(c.id, height=150, dxfattribs={"layer": layer,
                                                   "insert": tuple((np.asarray(xy) + 0.4) * MM)})
    doc.saveas(path)
    print(path)


def main(hall_path, out):
    hall = load_hall(hall_path)
    b = hall.building
    if b is None:
        draw(out, hall.footprint, hall.obstacles, hall.stacks.ranges, hall.entrance)
        return
    stem, ext = os.path.splitext(out)
    for f in b.floors:
        conns = [(c, c.at[f.id]) for c in b.connectors if f.id in c.at]
        draw(f"{stem}-{f.id}{ext}", f.footprint, f.obstacles, f.stacks.ranges,
             b.entrance_xy if f.index == b.entrance_floor else None, conns)


if __name__ == "__main__":
    main(*sys.argv[1:3])
