"""The layout file: ``{"format": "shelfplan.layout", "version": 1, ...}``.

Read with validation (:func:`read_layout`), write atomically
(:func:`write_layout`: temp file in the target directory, then rename).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field

import numpy as np

from shelfplan.errors import LayoutError, ShelfplanError
from shelfplan.model.hall import Hall, hall_from_dict

FORMAT = "shelfplan.layout"
VERSION = 1
#: Decimals of a position in metres in the layout file (1 micrometre).
POSITION_DECIMALS = 6


@dataclass
class Layout:
    """Positions for items in a hall, plus how they were obtained and how good they are."""

    hall: Hall
    items: np.ndarray                  # (n,) ids
    positions: np.ndarray              # (n, 3) metres
    p: np.ndarray                      # (n,) p(i)
    categories: np.ndarray | None = None
    objective: dict = field(default_factory=dict)
    lower_bound: dict = field(default_factory=dict)
    min_spacing: float = float("nan")
    estimation: dict = field(default_factory=dict)
    solver: dict = field(default_factory=dict)
    pairs: list = field(default_factory=list)   # strongest pairs: [id_a, id_b, weight]
    sizes: np.ndarray | None = None    # books per unit (category blocks only)
    radius: np.ndarray | None = None   # radius of each block's disc (category blocks only)
    #: shelving plans (MODEL.md 8.6): {"loc", "shelf", "slot"} int arrays, location index
    #: into ``hall.stacks`` and the 1-based shelf and slot, "callnumber" and (optional)
    #: "titles" object arrays (None where unknown); None for free-space layouts
    shelf: dict | None = None

    @property
    def shelved(self) -> bool:
        """True for a shelving plan (books in shelf slots of a stacked hall)."""
        return self.shelf is not None

    @property
    def n(self) -> int:
        return len(self.items)

    @property
    def level(self) -> str:
        """What the layout places: ``item``, ``title`` or ``category``."""
        return str(self.estimation.get("level") or "item")

    def index(self) -> dict:
        return {str(k): i for i, k in enumerate(self.items)}

    def to_dict(self) -> dict:
        items = []
        for k in range(self.n):
            rec = {"id": str(self.items[k]),
                   "position": [round(float(v), POSITION_DECIMALS) for v in self.positions[k]],
                   "p": float(self.p[k])}
            if self.categories is not None and self.categories[k] is not None:
                rec["category"] = str(self.categories[k])
            if self.radius is not None:
                rec["books"] = int(self.sizes[k])
                rec["radius"] = round(float(self.radius[k]), 6)
            if self.shelf is not None:
                rec.update(self._slot_record(k))
            items.append(rec)
        return {
            "format": FORMAT,
            "version": VERSION,
            "hall": self.hall.to_dict(),
            "objective": _clean(self.objective),
            "lower_bound": _clean(self.lower_bound),
            "min_spacing": _num(self.min_spacing),
            "estimation": _clean(self.estimation),
            "solver": _clean(self.solver),
            "pairs": [[str(a), str(b), float(w)] for a, b, w in self.pairs],
            "items": items,
        }


    def _slot_record(self, k: int) -> dict:
        st, loc = self.hall.stacks, int(self.shelf["loc"][k])
        cat = None if self.categories is None else self.categories[k]
        return {"range": str(st.ranges[st.loc_range[loc]].id),
                "face": SHELF_FACES[st.loc_face[loc]], "section": int(st.loc_section[loc]),
                "shelf": int(self.shelf["shelf"][k]), "slot": int(self.shelf["slot"][k]),
                "category": None if cat is None else str(cat),
                **({} if self.shelf.get("callnumber") is None
                   else {"call_number": _text(self.shelf["callnumber"][k])}),
                **({} if self.shelf.get("titles") is None
                   else {"title": _text(self.shelf["titles"][k])})}


def _text(v):
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)


#: face names of shelving plans, by the stacks' face code
SHELF_FACES = ("left", "right")


def as_written(X) -> np.ndarray:
    """Positions as a layout file stores them (rounded to 1e-6 m). Every objective a
    layout carries is computed on these, so the S reported is the S of the file."""
    return np.round(np.asarray(X, dtype=float), POSITION_DECIMALS)


def hall_difference(a: Hall, b: Hall, atol: float = 1e-6) -> str | None:
    """What differs between two halls' geometry (the name is ignored), or None."""
    if a.building is not None or b.building is not None:      # buildings: every floor
        strip = lambda h: json.dumps({k: v for k, v in h.to_dict().items()  # noqa: E731
                                      if k != "name"}, sort_keys=True)
        return None if strip(a) == strip(b) else "floors"
    if a.footprint.shape != b.footprint.shape or not np.allclose(a.footprint, b.footprint,
                                                                atol=atol):
        return "footprint"
    if len(a.obstacles) != len(b.obstacles) or any(
            x.shape != y.shape or not np.allclose(x, y, atol=atol)
            for x, y in zip(a.obstacles, b.obstacles)):
        return "obstacles"
    if not np.allclose(a.z_range, b.z_range, atol=atol):
        return "z_range"
    if not np.allclose(a.entrance, b.entrance, atol=atol):
        return "entrance"
    if not np.isclose(a.d_min, b.d_min, atol=atol):
        return "d_min"
    return None


def _num(v):
    v = float(v)
    return v if math.isfinite(v) else None


def _clean(obj):
    """JSON-safe copy: numpy scalars to Python, non-finite floats to None."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return _num(obj)
    if isinstance(obj, np.ndarray):
        return _clean(obj.tolist())
    return obj


def check_output_path(path) -> str:
    """The directory an output goes to; a clear error when it is missing or ``path``
    is a directory. Commands call this before long work, so a typo fails fast."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ShelfplanError(f"{path}: directory {directory} does not exist; create it or "
                             f"choose another output path")
    if os.path.isdir(path):
        raise ShelfplanError(f"{path}: is a directory; give a file name for the output")
    return directory


def atomic_write(path, write, mode: str = "w") -> None:
    """Call ``write(fh)`` on a temp file beside ``path``, then rename it into place.

    A failure leaves no partial file. A missing directory is a clear error.
    """
    path = os.fspath(path)
    directory = check_output_path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".shelfplan-", suffix=".tmp")
    except OSError as exc:
        raise ShelfplanError(f"{path}: cannot write there ({exc.strerror}); choose a "
                             f"writable output path") from None
    try:
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if "b" not in mode else {})) as fh:
            write(fh)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_layout(layout: Layout, path) -> None:
    """Write the layout JSON atomically."""
    data = layout.to_dict()
    atomic_write(path, lambda fh: json.dump(data, fh, indent=1))


def layout_from_dict(data, source: str = "layout") -> Layout:
    """Validate a layout mapping (format, version, hall, items)."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        got = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise LayoutError(f"{source}: not a shelfplan layout (format {got!r}, expected "
                          f"{FORMAT!r}); pass a file written by shelfplan fit or baseline")
    if data.get("version") != VERSION:
        raise LayoutError(f"{source}: layout version {data.get('version')!r} is not supported "
                          f"(this shelfplan reads version {VERSION}); re-create it with this "
                          f"version")
    try:
        hall = hall_from_dict(data.get("hall"), source=f"{source} (hall)")
    except ShelfplanError as exc:
        raise LayoutError(str(exc)) from None
    recs = data.get("items")
    if not isinstance(recs, list) or not recs:
        raise LayoutError(f"{source}: 'items' must be a non-empty list")
    shelved = all(isinstance(r, dict) and "range" in r for r in recs)
    try:
        ids = np.array([str(r["id"]) for r in recs], dtype=object)
        if shelved and not all("position" in r for r in recs):
            pos = np.zeros((len(recs), 3))          # drawn from the slots below
        else:
            pos = np.array([r["position"] for r in recs], dtype=float)
        p = np.array([float(r.get("p", 0.0)) for r in recs])
    except (KeyError, TypeError, ValueError) as exc:
        raise LayoutError(f"{source}: every item needs 'id' and a numeric 'position' [x, y, z] "
                          f"({type(exc).__name__}: {exc})") from None
    if pos.ndim != 2 or pos.shape[1] != 3 or not np.isfinite(pos).all():
        raise LayoutError(f"{source}: every item position must be three finite numbers")
    if len(set(ids)) != len(ids):
        raise LayoutError(f"{source}: item ids repeat; each item must appear once")
    cats = None
    if any("category" in r for r in recs):
        cats = np.array([r.get("category") for r in recs], dtype=object)
    sizes = radius = None
    if any("radius" in r for r in recs):
        try:
            radius = np.array([float(r["radius"]) for r in recs])
            sizes = np.array([int(r.get("books", 1)) for r in recs], dtype=np.int64)
        except (KeyError, TypeError, ValueError, OverflowError):
            raise LayoutError(f"{source}: a category layout needs a numeric 'radius' (and "
                              f"'books') on every item; re-create it with shelfplan fit "
                              f"--level category") from None
        if not (np.isfinite(radius).all() and (radius > 0).all()):
            raise LayoutError(f"{source}: every block 'radius' must be a positive number")
        if not ((sizes >= 1).all() and (sizes <= 10**9).all()):
            raise LayoutError(f"{source}: every block's 'books' must be a whole number from 1 "
                              f"to 10^9; fix the file or re-create it with shelfplan fit")
    shelf = _read_slots(recs, ids, hall, source) if any("range" in r for r in recs) else None
    if shelf is not None and not all("position" in r for r in recs):
        from shelfplan.model.shelving import slot_positions
        pos = slot_positions(hall.stacks, shelf["loc"], shelf["shelf"], shelf["slot"])
    if shelf is None and hall.stacks is not None:
        raise LayoutError(f"{source}: the hall has stacks but the items have no 'range', "
                          f"'face', 'section', 'shelf' and 'slot'; a shelving plan needs them "
                          f"(re-create it with shelfplan fit on the stacked hall)")
    pairs = [tuple(x) for x in data.get("pairs") or []]
    ms = data.get("min_spacing")
    return Layout(hall=hall, items=ids, positions=pos, p=p, categories=cats,
                  objective=data.get("objective") or {},
                  lower_bound=data.get("lower_bound") or {},
                  min_spacing=float("nan") if ms is None else float(ms),
                  estimation=data.get("estimation") or {},
                  solver=data.get("solver") or {}, pairs=pairs, sizes=sizes, radius=radius,
                  shelf=shelf)


def _read_slots(recs: list, ids: np.ndarray, hall: Hall, source: str) -> dict:
    """The slot of every book of a shelving plan, checked against the hall's stacks."""
    from shelfplan.model.shelving import check_plan, locate

    if hall.stacks is None:
        raise LayoutError(f"{source}: the items name ranges but the hall has no stacks; a "
                          f"shelving plan needs the stacked hall it was made for")
    try:
        rng = [str(r["range"]) for r in recs]
        face = [str(r["face"]) for r in recs]
        nums = np.array([[r["section"], r["shelf"], r["slot"]] for r in recs])
        if nums.dtype.kind not in "iu":
            raise ValueError("not whole numbers")
    except (KeyError, TypeError, ValueError) as exc:
        raise LayoutError(f"{source}: every book of a shelving plan needs 'range', 'face' and "
                          f"whole numbers 'section', 'shelf', 'slot' ({type(exc).__name__}: "
                          f"{exc})") from None
    loc = locate(hall.stacks, rng, face, nums[:, 0])
    shelf, slot = nums[:, 1].astype(np.int64), nums[:, 2].astype(np.int64)
    check_plan(hall.stacks, ids, loc, shelf, slot, source)
    calls = None
    if any("call_number" in r for r in recs):
        calls = np.array([r.get("call_number") for r in recs], dtype=object)
    titles = None
    if any("title" in r for r in recs):
        titles = np.array([r.get("title") for r in recs], dtype=object)
    return {"loc": loc, "shelf": shelf, "slot": slot, "callnumber": calls, "titles": titles}


def read_layout(path) -> Layout:
    """Read and validate a layout file."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise LayoutError(f"{path}: no such layout file; create one with shelfplan fit")
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except json.JSONDecodeError as exc:
        raise LayoutError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno}); pass a "
                          f"layout file written by shelfplan") from None
    except UnicodeDecodeError:
        raise LayoutError(f"{path}: not a UTF-8 JSON file; pass a layout file written by "
                          f"shelfplan") from None
    except OSError as exc:
        raise LayoutError(f"{path}: cannot be read ({exc.strerror}); pass a layout file "
                          f"written by shelfplan") from None
    return layout_from_dict(data, source=path)
