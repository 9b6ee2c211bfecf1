"""Range-end signs of a shelving plan: the first and last call number of every face.

:func:`face_signs` reads a shelving plan (MODEL.md section 8) face by face in
shelving order (ranges as the hall lists them, the left face before the right)
and gives each face its first and last call number in shelving order (faces
with no books are "empty"; ``in_order`` says whether the face's call numbers
follow library order, which a free plan's need not). On a plan that is not in
call-number order along the shelving order (a free plan), a range of call numbers
would mislead ("006.62 KOC - 973.64 SIL" on every face), so the sign lists the
classes present on the face instead (``ordered`` False, ``classes``). :func:`write_signs`
writes them as a CSV or as a printable PDF of large-type labels on A4 or
Letter sheets (matplotlib's PdfPages, one or more labels per page, cut lines
between them).
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from shelfplan.ingest.callsort import order_options, shelf_ranks
from shelfplan.layout import SHELF_FACES, Layout, atomic_write, check_output_path
from shelfplan.present.style import RenderError

__all__ = ["FaceSign", "face_signs", "write_signs", "PAPERS", "SIGN_FORMATS", "COLUMNS",
           "shelving_order", "call_text", "call_ranks", "plan_in_order", "book_classes"]

#: Paper sizes in inches (portrait).
PAPERS = {"a4": (8.27, 11.69), "letter": (8.5, 11.0)}
SIGN_FORMATS = ("csv", "pdf")
COLUMNS = ("range", "face", "books", "first_call_number", "last_call_number",
           "first_item", "last_item", "in_order", "classes", "label")
#: classes named on a sign of a plan not in call-number order (the rest: "+k more")
MAX_CLASSES = 6
DASH = "\u2013"
DOT = "\u00b7"


@dataclass(frozen=True)
class FaceSign:
    """What the sign at one face says."""

    range: str
    face: str
    books: int
    first: str | None       # call number (None: empty face or no call numbers)
    last: str | None
    first_item: str | None
    last_item: str | None
    in_order: bool = True   # the face's call numbers follow library order
    classes: tuple = ()     # the classes on the face, in library order
    ordered: bool = True    # the whole plan is in call-number order

    @property
    def span(self) -> str:
        if self.books == 0:
            return "empty"
        if not self.ordered and self.classes:
            more = len(self.classes) - MAX_CLASSES
            return ("classes " + ", ".join(self.classes[:MAX_CLASSES])
                    + (f" +{more} more" if more > 0 else ""))
        if self.first is None:
            return f"{self.books} books without call numbers"
        return self.first if self.first == self.last else f"{self.first} {DASH} {self.last}"

    @property
    def label(self) -> str:
        return f"Range {self.range} {DOT} {self.face} face {DOT} {self.span}"


def require_plan(layout: Layout, what: str) -> None:
    """A clear error for layouts that are not shelving plans."""
    if not layout.shelved:
        raise RenderError(f"{layout.hall.name}: the layout must be a shelving plan (a hall "
                          f"with stacks) for {what}, got a free-space layout; make one with "
                          f"shelfplan fit --hall STACKED_HALL.json (docs/formats.md, stacks)")


def call_text(layout: Layout) -> np.ndarray:
    """Each book's call number as a string, None where unknown."""
    calls = layout.shelf.get("callnumber")
    if calls is None:
        return np.full(layout.n, None, dtype=object)
    out = np.full(layout.n, None, dtype=object)
    for k, c in enumerate(calls):
        if c is not None and not (isinstance(c, float) and math.isnan(c)) and str(c).strip():
            out[k] = str(c)
    return out


def shelving_order(layout: Layout) -> np.ndarray:
    """Book indices as a patron reads the shelves (locations are numbered in that order)."""
    sh = layout.shelf
    return np.lexsort((sh["slot"], sh["shelf"], sh["loc"]))


def call_ranks(layout: Layout) -> np.ndarray:
    """Each book's rank in library order (:func:`~shelfplan.ingest.callsort.shelf_ranks`
    with the scheme and prefix order the plan was made with; no call number: last)."""
    return shelf_ranks(list(call_text(layout)),
                       **order_options(layout.estimation.get("shelf_order")))


def face_signs(layout: Layout, rank: np.ndarray | None = None) -> list[FaceSign]:
    """One sign per face of every range, in shelving order (``rank``: :func:`call_ranks`,
    computed when not given)."""
    require_plan(layout, "range signs")
    st, sh = layout.hall.stacks, layout.shelf
    order = shelving_order(layout)
    calls = call_text(layout)
    if layout.n and all(c is None for c in calls):
        raise RenderError(f"{layout.hall.name}: the plan has no call numbers, so signs would "
                          f"be blank; make the plan with --holdings (a call_number column)")
    rank = call_ranks(layout) if rank is None else rank
    face_of_loc = st.loc_range * 2 + st.loc_face            # one code per (range, face)
    code = face_of_loc[sh["loc"][order]]
    ordered = plan_in_order(layout, rank)
    classes = None if ordered else book_classes(layout)
    signs = []
    for r_idx, r in enumerate(st.ranges):
        for face in r.face_names:
            books = order[code == r_idx * 2 + SHELF_FACES.index(face)]
            named = [k for k in books if calls[k] is not None]
            first = named[0] if named else None
            last = named[-1] if named else None
            in_order = bool((np.diff(rank[named]) >= 0).all()) if named else True
            signs.append(FaceSign(
                range=str(r.id), face=face, books=int(len(books)),
                first=None if first is None else calls[first],
                last=None if last is None else calls[last],
                first_item=str(layout.items[books[0]]) if len(books) else None,
                last_item=str(layout.items[books[-1]]) if len(books) else None,
                in_order=in_order, ordered=ordered,
                classes=() if classes is None else _face_classes(classes[books])))
    return signs


def plan_in_order(layout: Layout, rank: np.ndarray | None = None) -> bool:
    """Whether the books with call numbers follow library order along the shelving
    order (today's shelving; a call-number blocks plan with one block)."""
    rank = call_ranks(layout) if rank is None else rank
    calls = call_text(layout)
    order = [k for k in shelving_order(layout) if calls[k] is not None]
    return bool((np.diff(rank[order]) >= 0).all()) if order else True


def book_classes(layout: Layout) -> np.ndarray:
    """Each book's class: its category, else the class of its call number (auto scheme,
    level 1), None when neither is known."""
    from shelfplan.ingest.callnumber import OTHER, parse

    out = np.full(layout.n, None, dtype=object)
    if layout.categories is not None:
        out[:] = [None if c is None or (isinstance(c, float) and math.isnan(c)) else str(c)
                  for c in layout.categories]
    calls = call_text(layout)
    need = [k for k in range(layout.n) if out[k] is None and calls[k] is not None]
    if need:
        labels = parse([calls[k] for k in need])[0]
        out[need] = [None if c == OTHER else str(c) for c in labels]
    return out


def _face_classes(classes: np.ndarray) -> tuple:
    named = sorted({c for c in classes if c is not None})
    return tuple(np.asarray(named, dtype=object)[np.argsort(shelf_ranks(named), kind="stable")])


def sign_format(path) -> str:
    ext = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
    if ext not in SIGN_FORMATS:
        raise RenderError(f"{os.fspath(path)}: signs are written as .csv or .pdf, got "
                          f"{'.' + ext if ext else 'no extension'}; rename the output")
    return ext


def check_paper(paper: str) -> tuple[float, float]:
    if paper not in PAPERS:
        raise RenderError(f"`paper` must be one of {', '.join(PAPERS)}, got {paper!r}; "
                          f"pick one of them")
    return PAPERS[paper]


def write_signs(layout: Layout, path, *, paper: str = "a4", per_page: int = 2) -> str:
    """Write the signs as ``.csv`` or ``.pdf`` (by extension), atomically; the format."""
    fmt = sign_format(path)
    size = check_paper(paper)
    if not isinstance(per_page, int) or isinstance(per_page, bool) or not 1 <= per_page <= 4:
        raise RenderError(f"`per_page` must be a whole number from 1 to 4, got {per_page!r}")
    check_output_path(path)
    signs = face_signs(layout)
    if fmt == "csv":
        st = layout.hall.stacks
        floors = None if layout.hall.building is None else {     # a building: floor column
            str(r.id): st.floors[st.range_floor[k]].id for k, r in enumerate(st.ranges)}
        atomic_write(path, lambda fh: _write_csv(signs, fh, floors))
    else:
        atomic_write(path, lambda fh: _write_pdf(signs, fh, size, per_page), mode="wb")
    return fmt


def _write_csv(signs: list[FaceSign], fh, floors: dict | None = None) -> None:
    w = csv.writer(fh, lineterminator="\n")
    w.writerow(COLUMNS if floors is None else ("floor", *COLUMNS))
    for s in signs:
        w.writerow([*([] if floors is None else [floors[s.range]]), s.range, s.face, s.books, s.first or "", s.last or "",
                    s.first_item or "", s.last_item or "", "yes" if s.in_order else "no",
                    " ".join(s.classes), s.label])


def _fit(text: str, base: float, width_in: float) -> float:
    """A font size (points) at which ``text`` fits ``width_in`` inches (about 0.6 em a
    character in a sans-serif bold face), at most ``base``."""
    return max(8.0, min(base, width_in * 72.0 / (0.62 * max(len(text), 1))))


def _draw_label(fig: Figure, sign: FaceSign, bottom: float, height: float, width_in: float):
    """One label in the band [bottom, bottom + height] of the page (figure fractions);
    type sizes are for a band of 5.5 inches (two labels on A4) and shrink with it."""
    y = lambda f: bottom + f * height  # noqa: E731
    k = min(1.0, height * fig.get_figheight() / 5.5)
    usable = width_in * 0.88
    fig.text(0.5, y(0.80), f"Range {sign.range}", ha="center", va="center",
             fontsize=_fit(f"Range {sign.range}", 64 * k, usable), weight="bold")
    fig.text(0.5, y(0.60), f"{sign.face} face", ha="center", va="center",
             fontsize=30 * k, color="0.25")
    if sign.books == 0 or sign.first is None or not sign.ordered:
        fig.text(0.5, y(0.32), sign.span, ha="center", va="center",
                 fontsize=_fit(sign.span, 44 * k, usable), weight="bold")
    else:
        size = _fit(max(sign.first, sign.last, key=len), 48 * k, usable)
        fig.text(0.5, y(0.42), sign.first, ha="center", va="center", fontsize=size,
                 weight="bold", family="DejaVu Sans Mono")
        fig.text(0.5, y(0.29), "to", ha="center", va="center", fontsize=20 * k,
                 color="0.35")
        fig.text(0.5, y(0.16), sign.last, ha="center", va="center", fontsize=size,
                 weight="bold", family="DejaVu Sans Mono")
    note = ("" if sign.in_order and sign.ordered
            else " (not in call-number order: see the stack map)")
    fig.text(0.5, y(0.05), f"{sign.books:,} books{note}", ha="center", va="center",
             fontsize=max(7.0, 11 * k), color="0.45")


def _write_pdf(signs: list[FaceSign], fh, size: tuple[float, float], per_page: int) -> None:
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.lines import Line2D

    with PdfPages(fh, metadata={"Title": "shelfplan range signs"}) as pdf:
        for start in range(0, len(signs), per_page):
            fig = Figure(figsize=size)
            band = 1.0 / per_page
            for j, sign in enumerate(signs[start:start + per_page]):
                bottom = 1.0 - (j + 1) * band
                _draw_label(fig, sign, bottom + 0.02 * band, 0.96 * band, size[0])
                if j:                                    # a cut line between labels
                    fig.add_artist(Line2D([0.04, 0.96], [bottom + band] * 2, lw=0.6,
                                          ls=(0, (6, 4)), color="0.6"))
            pdf.savefig(fig)
