"""``shelfplan hall import``: a hall file from what a library has.

* DXF floor plans (:mod:`shelfplan.ingest.dxf_hall`): one drawing for a hall, or one
  per floor (``floors=[(id, path), ...]``) for a building; stairs and lifts drawn at
  the same place on several floors become connectors.
* A ranges table (:mod:`shelfplan.ingest.range_table`) with the shell (footprint,
  obstacles, entrance; for a building the floors without stacks and the connectors)
  from a JSON file or from a DXF's FOOTPRINT/OBSTACLES/ENTRANCE layers.

:func:`import_hall` assembles the hall mapping, validates it exactly as a hand-written
file (:func:`~shelfplan.model.hall.hall_from_dict`) and returns it with the report of
what each drawing held; :func:`write_hall_file` writes it (only once it is valid).
"""

from __future__ import annotations

import json
import os
import tempfile

import numpy as np

from shelfplan.errors import HallError
from shelfplan.ingest.dxf_hall import format_report, read_dxf_floor
from shelfplan.ingest.range_table import read_range_table
from shelfplan.model.hall import hall_from_dict

__all__ = ["import_hall", "write_hall_file", "CONNECTOR_SNAP"]

CONNECTOR_SNAP = 0.5     # metres: stairs on two floors this close are one connector


def _shell_from_json(path) -> dict:
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise HallError(f"{path}: no such shell file; give a JSON file with footprint, "
                        f"obstacles and entrance") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise HallError(f"{path}: not valid JSON ({exc}); fix the shell file") from None
    if not isinstance(data, dict):
        raise HallError(f"{path}: a shell is a JSON object with footprint, obstacles, "
                        f"entrance (or floors, entrance_floor, connectors)")
    return data


def _connectors(floors: list) -> list:
    """Stairs and lifts of the drawn floors, matched across floors by place (or label)."""
    out = []
    for kind, key in (("stairs", "stairs"), ("lift", "lifts")):
        groups = []                      # [label, point, {floor: point}]
        for fid, fl in floors:
            for p, label in fl[key]:
                p = np.asarray(p)
                match = next((g for g in groups if fid not in g[2] and (
                    (label and g[0] == label) or
                    (not (label and g[0]) and np.linalg.norm(g[1] - p) <= CONNECTOR_SNAP))),
                    None)
                if match is None:
                    groups.append([label, p, {fid: p.tolist()}])
                else:
                    match[2][fid] = p.tolist()
                    match[0] = match[0] or label
        for k, (label, _, at) in enumerate(groups):
            if len(at) >= 2:
                out.append({"id": label or f"{kind} {k + 1}", "kind": kind, "at": at})
    return out


def _from_dxf(floors, *, layers, section_width, shelving, units, name, entrance_floor):
    reports, drawn = [], []
    for fid, path in floors:
        fl, rep = read_dxf_floor(path, layers=layers, section_width=section_width,
                                 shelving=shelving, units=units)
        reports.append(rep)
        drawn.append((fid, fl))
    _same_units(reports)
    if len(drawn) == 1 and drawn[0][0] is None:          # one hall
        fl = drawn[0][1]
        if fl["entrance"] is None:
            raise HallError(f"{floors[0][1]}: no entrance (a point, block or circle on layer "
                            f"{(layers or {}).get('entrance', 'ENTRANCE')!r}); draw one or "
                            f"name its layer with --layer entrance=NAME")
        if not fl["stacks"]:
            raise HallError(f"{floors[0][1]}: no rectangles on the ranges layer; draw the "
                            f"ranges or name their layer with --layer ranges=NAME")
        return {"name": name, "footprint": fl["footprint"], "obstacles": fl["obstacles"],
                "entrance": fl["entrance"], "stacks": fl["stacks"]}, reports
    with_door = [fid for fid, fl in drawn if fl["entrance"] is not None]
    ef = entrance_floor or (with_door[0] if with_door else None)
    if ef is None or ef not in [fid for fid, _ in drawn]:
        raise HallError("no floor has an entrance drawn; draw one on the entrance floor's "
                        "ENTRANCE layer or name the floor with --entrance-floor")
    entrance = dict(drawn)[ef]["entrance"]
    if entrance is None:
        raise HallError(f"floor {ef!r} has no entrance drawn; draw one on its ENTRANCE layer")
    return {"name": name, "floors": [
        {"id": fid, "footprint": fl["footprint"], "obstacles": fl["obstacles"],
         "stacks": fl["stacks"]} for fid, fl in drawn],
        "entrance": entrance, "entrance_floor": ef, "connectors": _connectors(drawn)}, reports


def _same_units(reports):
    units = {r["unit"] for r in reports}
    if len(units) > 1:
        which = ", ".join(f"{r['file']} in {r['unit']}" for r in reports)
        raise HallError(f"the drawings use mixed units ({which}); one building's floors are "
                        f"drawn in one unit: fix $INSUNITS in the odd one or pass --units")


def _from_table(table, *, shell, footprint, layers, shelving, units, name):
    if footprint is None and shell is None:
        raise HallError("a ranges table needs the room around it: pass --shell shell.json "
                        "(footprint, obstacles, entrance) or --footprint plan.dxf")
    scale = {"mm": 0.001, "cm": 0.01, "m": 1.0, "in": 0.0254, "ft": 0.3048}[units or "m"]
    per_floor = read_range_table(table, defaults=shelving, scale=scale)
    reports = []
    if footprint is not None:
        fl, rep = read_dxf_floor(footprint, layers=layers, units=None)
        reports.append(rep)
        base = {"footprint": fl["footprint"], "obstacles": fl["obstacles"],
                "entrance": fl["entrance"]}
    else:
        base = _shell_from_json(shell)
    if "floors" in base:                                  # a building's shell
        ids = [str(f.get("id")) for f in base["floors"]]
        stray = sorted(str(k) for k in per_floor if k is not None and str(k) not in ids)
        if None in per_floor or stray:
            what = "rows without a floor" if None in per_floor else f"floor {stray[0]!r}"
            raise HallError(f"{table}: {what}: the shell's floors are {', '.join(ids)}; give "
                            f"every row a floor column naming one of them")
        floors = [{**f, "stacks": list(f.get("stacks") or []) + per_floor.get(str(f["id"]), [])}
                  for f in base["floors"]]
        return {"name": name, **{k: v for k, v in base.items() if k != "name"},
                "floors": floors}, reports
    if set(per_floor) - {None}:
        raise HallError(f"{table}: has a floor column but the shell is one hall; give a "
                        f"building's shell (floors, entrance_floor, connectors) or drop the "
                        f"column")
    if base.get("entrance") is None:
        raise HallError("the shell has no entrance; add \"entrance\": [x, y]")
    return {"name": name, **{k: v for k, v in base.items() if k != "name"},
            "stacks": list(base.get("stacks") or []) + per_floor[None]}, reports


def import_hall(*, dxf=None, floors=(), table=None, shell=None, footprint=None,
                layers=None, section_width: float = 0.9, shelving=None, units=None,
                name: str | None = None, entrance_floor=None):
    """(hall mapping, validated Hall, report lines) from a DXF (``dxf``), DXFs per floor
    (``floors``: [(id, path)]) or a ranges table (``table``) with ``shell`` or
    ``footprint``. Nothing is written; every problem is one HallError line."""
    if not (section_width > 0 and np.isfinite(section_width)):
        raise HallError(f"`section_width` must be > 0 metres, got {section_width!r}")
    sources = sum(x is not None and x != () for x in (dxf, table)) + bool(floors)
    if sources != 1:
        raise HallError("give one source: a DXF plan, --floor ID FILE (repeated), or "
                        "--ranges TABLE with --shell or --footprint")
    label = name or os.path.splitext(os.path.basename(os.fspath(dxf or table or
                                                                floors[0][1])))[0]
    if table is not None:
        data, reports = _from_table(table, shell=shell, footprint=footprint, layers=layers,
                                    shelving=shelving, units=units, name=label)
    else:
        data, reports = _from_dxf([(None, dxf)] if dxf is not None else list(floors),
                                  layers=layers, section_width=section_width,
                                  shelving=shelving, units=units, name=label,
                                  entrance_floor=entrance_floor)
    hall = hall_from_dict(json.loads(json.dumps(data)), source=label)
    return data, hall, [format_report(r) for r in reports]


def write_hall_file(data: dict, path) -> None:
    """Write the hall mapping as JSON, atomically (a temporary file, then a rename)."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".hall-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
