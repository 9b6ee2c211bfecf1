"""Present evaluations and comparisons: text tables, figures, a one-page report.

* :func:`evaluation_text`, :func:`comparison_text`: the tables the CLI prints
  (from :mod:`shelfplan.present.tables`).
* :func:`floor_plan`, :func:`compare_figure`, :func:`walks_figure`: matplotlib
  figures built on :class:`matplotlib.figure.Figure` (no pyplot state; from
  :mod:`shelfplan.present.floor` and :mod:`shelfplan.present.report_figures`).
* :func:`write_report`: one page for a committee, ``.html`` (figures embedded
  as base64 PNG) or ``.md`` (figures as PNG files beside it).
"""

from __future__ import annotations

import base64
import html
import os
import re
from datetime import date

from shelfplan.errors import ShelfplanError
from shelfplan.judge.compare import Comparison
from shelfplan.layout import atomic_write
from shelfplan.present.floor import floor_plan  # noqa: F401
from shelfplan.present.flows import flow_rows
from shelfplan.present.report_figures import (compare_figure, comparison_flows,  # noqa: F401
                                              png_bytes, save_png, walks_figure)
from shelfplan.present.tables import (book_rows, comparison_rows, comparison_text,  # noqa: F401
                                      coverage_line, evaluation_text, feasibility_line,
                                      in_sample_rows, mode_line, period_text, saw_notes,
                                      unit_noun)

__all__ = ["evaluation_text", "comparison_text", "comparison_rows", "book_rows", "floor_plan",
           "compare_figure", "walks_figure", "png_bytes", "save_png", "method_paragraphs",
           "write_report"]


#: The figure first in every table: what patrons walk (MODEL.md 8.10).
VISIT_WALK_PARAGRAPH = (
    "<b>Visit walk.</b> The first figures are the walks patrons make: every visit walks from "
    "the entrance to the nearest of its books, on to the nearest book not yet taken, and back "
    "to the entrance, distances walked along the aisles on a hall with stacks; the mean, "
    "median and 90th percentile over the visits are reported. The walking cost S after them "
    "is the model's figure, the one a fit minimises by default.")


def method_paragraphs(cmp: Comparison) -> list[str]:
    b = cmp.basis
    held = ""
    if cmp.mode == "held-out":
        held = (f" By default the figures are held out: only loans since {b['since']} "
                f"({html.escape(cmp.split['why'])}) are judged, so a proposal fitted with "
                f"<code>shelfplan fit --until {b['since']}</code> is judged on visits it never "
                f"saw; a layout fitted on those loans is labelled in sample. The coverage is "
                f"the share of the judged loans whose books a layout holds. The figures on all "
                f"the loans (in sample) follow the main table.")
        if cmp.saw and all(cmp.saw):
            held += (" Here every layout was fitted on the judged loans, so every figure is "
                     "in sample.")
    elif cmp.mode in ("in-sample", "no-dates"):
        held = (" These are in-sample figures: the layouts were judged on the loans they "
                "may have been fitted on, which flatters a fitted layout.")
    elif b.get("since"):
        held = (f" Only loans since {b['since']} are used. A proposal fitted with "
                f"<code>shelfplan fit --until {b['since']}</code> never saw them, so its "
                f"figures are a held-out test: how it would have served visits it could not "
                f"have been tuned to.")
    p1 = ("<b>Walking cost.</b> The loans are cut into visits (by default all loans of one "
          "patron on one calendar date). From the visits we estimate how often each book is "
          "borrowed, p(i), and how often book j is taken together with book i, p(i,j). The "
          "walking cost S of a layout is the expected distance from the entrance to a "
          "borrowed book plus the expected distance between two books borrowed together, "
          "S = &Sigma; p(i)&#8201;|v<sub>i</sub> &minus; e| + &Sigma; p(i,j)&#8201;|v<sub>i</sub> "
          "&minus; v<sub>j</sub>|, in metres. The lower bound LB is the least S that any "
          "layout of these books in this hall can reach with the minimum book spacing, so "
          "S/LB = 1 would be perfect. As a more literal figure every visit is walked: from "
          "the entrance to the nearest of its books, then to the nearest book not yet taken, "
          "and back to the entrance; we report the mean, median and 90th percentile over "
          "visits.")
    p2 = (f"<b>A fair comparison.</b> Estimates come from the loans in {html.escape(str(b['source']))} "
          f"({period_text(b)}), not from the layout files, and all layouts are judged on the "
          f"same loans: those of books that every layout places "
          f"({100 * b['share_loans_left_out']:.1f} % of loans concern other books and are left "
          f"out).{held} A book counts as moved when its position changes by more than "
          f"{cmp.moves[1].tolerance * 1000:g} mm; the relocation effort is the number of books "
          f"moved and the total and 90th-percentile distance they travel. The walking "
          f"attributable to a book, p(i)|v<sub>i</sub> &minus; e| + &Sigma;<sub>j</sub> p(i,j)"
          f"|v<sub>i</sub> &minus; v<sub>j</sub>|, sums to S; the tables list the books whose "
          f"share grows or shrinks the most.")
    if cmp.evaluations[0].layout.sizes is not None:
        p3 = ("<b>Category blocks.</b> These layouts place whole categories, each as one "
              "block of shelving sized by its books, so \"book\" above means a category "
              "block: p(i) and p(i,j) are sums over the category's books, and walking inside "
              "a block is not counted. Compare block layouts only with block layouts.")
        return [VISIT_WALK_PARAGRAPH, p1, p2, p3]
    if all(ev.layout.shelved for ev in cmp.evaluations):
        return [VISIT_WALK_PARAGRAPH, p1, p2, shelving_paragraph(cmp)]
    return [VISIT_WALK_PARAGRAPH, p1, p2]


def shelving_paragraph(cmp: Comparison) -> str:
    """What the figures mean for shelving plans, and the price of findability when the
    comparison holds both a call-number blocks plan and a free plan."""
    text = ("<b>Shelving plans.</b> Every book has a slot on a shelf; distances are walked "
            "in the aisles, around the ranges (MODEL.md section 8), from the entrance to the "
            "pick point in front of a book's bay. A plan that keeps call-number blocks keeps "
            "every class together and in call-number order, so patrons and staff still find "
            "books by call number; a free plan may put any book on any shelf.")
    kind = {}
    for name, ev in zip(cmp.names, cmp.evaluations):
        method = str(ev.layout.solver.get("method", ""))
        if "call-number blocks" in method:
            kind.setdefault("blocks", (name, ev))
        elif method.startswith("shelving: table search"):
            kind.setdefault("free", (name, ev))
    if "blocks" in kind and "free" in kind:
        (nb, eb), (nf, ef) = kind["blocks"], kind["free"]
        sb, sf = eb.cost["total"], ef.cost["total"]
        text += (f" <b>The price of findability:</b> {html.escape(nb)} keeps the classes in "
                 f"call-number order at S = {sb:.3f} m; the free plan {html.escape(nf)} reaches "
                 f"{sf:.3f} m, {100 * (sb - sf) / sb:.1f} % less walking, at the cost of "
                 f"shelves no longer in call-number order.")
    return text


def _strip_tags(s: str) -> str:
    s = re.sub(r"<b>(.*?)</b>", r"**\1**", s)
    s = re.sub(r"<code>(.*?)</code>", r"`\1`", s)
    s = re.sub(r"<sub>(.*?)</sub>", r"_\1", s)
    s = re.sub(r"<[^>]+>", "", s)
    return html.unescape(s)


def _html_table(rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
                   for r in rows[1:])
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _md_table(rows: list[list[str]]) -> str:
    esc = (lambda s: s.replace("|", "\\|"))
    num = re.compile(r"^[-+]?[\d.]+( \(.*\))?$|^-$|^\d+ of \d+$|^\d+ / \d+$|^(yes|NO)$"
                     r"|^(held out|in sample)$|^[\d.]+ %$")
    right = [c > 0 and all(num.match(r[c]) for r in rows[1:] if r[c]) for c in range(len(rows[0]))]
    lines = ["| " + " | ".join(esc(c) or " " for c in rows[0]) + " |",
             "|" + "|".join("---:" if r else "---" for r in right) + "|"]
    lines += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows[1:]]
    return "\n".join(lines)


FLOW_NOTE = ("Books per range of the first layout (rows) and of the proposal (columns); "
             "the diagonal stays in its range, 'leave' counts the books that change range.")

_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:.6em 0 1.2em}td,th{border-bottom:1px solid #ccc;
padding:.25em .7em;text-align:right}td:first-child,th:first-child{text-align:left}
img{max-width:100%}.note{color:#555;font-size:.92em}"""


def _notes(cmp: Comparison) -> list[str]:
    """Warnings for the page: hall differences, books not in a layout, infeasible layouts."""
    notes = list(cmp.hall_note) + saw_notes(cmp)
    cov_lines = [coverage_line(c) if c["items_missing"] else None for c in cmp.coverage]
    if len(cmp.names) > 1 and cov_lines[0] and len(set(cov_lines)) == 1:
        notes.append(f"All layouts: {cov_lines[0]}.")
    else:
        notes += [f"{n}: {line}." for n, line in zip(cmp.names, cov_lines) if line]
    for name, ev in zip(cmp.names, cmp.evaluations):
        if not ev.feasibility["feasible"]:
            notes.append(f"{name}: {feasibility_line(ev.feasibility)}.")
    return notes


def _moves(curve: dict | None) -> dict:
    """The saving-versus-moves curve (``shelfplan moves``): its figure and table rows."""
    if not curve:
        return {}
    from matplotlib.figure import Figure

    from shelfplan.present.moves_plot import plot_moves_curve

    fig = Figure(figsize=(7, 4.2), dpi=120)
    plot_moves_curve(curve, fig.add_subplot())
    fig.tight_layout()
    rows = [["max moves", "books moved", "metres carried", "S_walk", "saving",
             "of the from-scratch saving"]]
    rows += [[str(p["budget"]), str(p["moved"]),
              "" if p.get("carrying_m") is None else f"{p['carrying_m']:.0f}",
              f"{p['S_walk']:.4f}", f"{p['saving_percent']:.1f} %",
              f"{p['share_of_scratch_percent']:.1f} %"] for p in curve["points"]]
    return {"fig": fig, "rows": rows, "intro": (
        f"S_walk today {curve['today']:.4f} m; a plan from scratch {curve['scratch']:.4f} m. "
        f"Each budget is a proposal from today that moves at most that many of the "
        f"{curve['books']} books.")}


def _page(cmp: Comparison, title: str | None) -> dict:
    """What both page formats show: title, intro, notes, tables, paragraphs, figures."""
    b = cmp.basis
    intro = (f"{mode_line(cmp).capitalize()}. Loans: {b['source']}, {period_text(b)}; "
             f"{b['loans_used']} loans in "
             f"{b['sessions_used']} visits. Reference layout: {cmp.names[0]}. Prepared "
             f"{date.today():%Y-%m-%d} with shelfplan.")
    books = [(cmp.names[k], *book_rows(cmp, k)) for k in range(1, len(cmp.names))]
    return dict(title=title or f"Shelving: {os.path.basename(cmp.names[0])} and proposals",
                intro=intro, notes=_notes(cmp), table=comparison_rows(cmp), books=books,
                in_sample=in_sample_rows(cmp) if cmp.in_sample is not None else None,
                paras=method_paragraphs(cmp), noun=unit_noun(cmp.evaluations[0].layout),
                figs={"plan": compare_figure(cmp), "walks": walks_figure(cmp),
                      **_stack_map(cmp)}, map_of=cmp.names[-1], flows=_flow_tables(cmp))


def _flow_tables(cmp: Comparison) -> list:
    """(name, from-range x to-range rows) for every proposal that is a shelving plan."""
    out = []
    for k in range(1, len(cmp.names)):
        fl = comparison_flows(cmp, k)
        if fl is not None and fl.kind == "range":
            out.append((cmp.names[k], flow_rows(fl)))
    return out


def _with_moves(page: dict, curve: dict | None) -> dict:
    moves = _moves(curve)
    if moves:
        page["figs"]["moves"] = moves.pop("fig")
    page["moves"] = moves
    return page


def _stack_map(cmp: Comparison) -> dict:
    """The stack map of the last proposal (a shelving plan with call numbers), if any."""
    lay = cmp.evaluations[-1].layout
    if not lay.shelved or lay.shelf.get("callnumber") is None:
        return {}
    from matplotlib.figure import Figure

    from shelfplan.present.stackmap import plot_stack_map

    fig = Figure(figsize=(12, 8))
    plot_stack_map(lay, fig.add_subplot())
    return {"map": fig}


def _markdown(page: dict, stem: str) -> tuple[str, list[str]]:
    """The Markdown page and the PNG files written beside it."""
    plan_png, walks_png = f"{stem}.png", f"{stem}-walks.png"
    save_png(page["figs"]["plan"], plan_png)
    save_png(page["figs"]["walks"], walks_png)
    notes = page["notes"]
    md = [f"# {page['title']}", "", page["intro"], ""]
    md += [f"> {n}" for n in notes] + ([""] if notes else [])
    md += ["## Comparison", "", _md_table(page["table"]), "",
           "Change in % against the first layout. S in metres per borrowed book.", ""]
    if page["in_sample"]:
        md += [_md_table(page["in_sample"]), ""]
    md += [f"![Floor plans]({os.path.basename(plan_png)})", "",
           f"![Visit walks]({os.path.basename(walks_png)})", ""]
    written = [plan_png, walks_png]
    if "map" in page["figs"]:
        map_png = f"{stem}-map.png"
        save_png(page["figs"]["map"], map_png)
        md += [f"## Stack map: {page['map_of']}", "",
               f"![Stack map]({os.path.basename(map_png)})", ""]
        written.append(map_png)
    for name, rows in page["flows"]:
        md += [f"## Moves between ranges: {page['table'][0][1]} \u2192 {name}", "",
               FLOW_NOTE, "", _md_table(rows), ""]
    if page["moves"]:
        moves_png = f"{stem}-moves.png"
        save_png(page["figs"]["moves"], moves_png)
        md += ["## Saving against books moved", "", page["moves"]["intro"], "",
               _md_table(page["moves"]["rows"]), "",
               f"![Saving against books moved]({os.path.basename(moves_png)})", ""]
        written.append(moves_png)
    for name, added, saved in page["books"]:
        md += [f"## {page['noun'].capitalize()} most affected: {name}", "",
               "Most walking added:", "", _md_table(added) if len(added) > 1 else "none", "",
               "Most walking saved:", "", _md_table(saved) if len(saved) > 1 else "none", ""]
    md += ["## Method", ""] + [_strip_tags(p) + "\n" for p in page["paras"]]
    return "\n".join(md), written


def _html(page: dict) -> str:
    """The HTML page, figures embedded as base64 PNG."""
    img = {k: base64.b64encode(png_bytes(f)).decode("ascii") for k, f in page["figs"].items()}
    title = html.escape(page["title"])
    h = [f"<!doctype html><html><head><meta charset='utf-8'><title>{title}"
         f"</title><style>{_CSS}</style></head><body>",
         f"<h1>{title}</h1>", f"<p class='note'>{html.escape(page['intro'])}</p>"]
    h += [f"<p class='note'>&#9888; {html.escape(n)}</p>" for n in page["notes"]]
    h += ["<h2>Comparison</h2>", _html_table(page["table"]),
          "<p class='note'>Change in % against the first layout. S in metres per "
          "borrowed book.</p>"]
    if page["in_sample"]:
        h.append(_html_table(page["in_sample"]))
    h += [f"<img alt='floor plans' src='data:image/png;base64,{img['plan']}'>",
          f"<img alt='visit walks' src='data:image/png;base64,{img['walks']}'>"]
    if "map" in img:
        h += [f"<h2>Stack map: {html.escape(page['map_of'])}</h2>",
              f"<img alt='stack map' src='data:image/png;base64,{img['map']}'>"]
    for name, rows in page["flows"]:
        h += [f"<h2>Moves between ranges: {html.escape(page['table'][0][1])} &rarr; "
              f"{html.escape(name)}</h2>", f"<p class='note'>{FLOW_NOTE}</p>",
              _html_table(rows)]
    if page["moves"]:
        h += ["<h2>Saving against books moved</h2>",
              f"<p class='note'>{html.escape(page['moves']['intro'])}</p>",
              _html_table(page["moves"]["rows"]),
              f"<img alt='saving against books moved' "
              f"src='data:image/png;base64,{img['moves']}'>"]
    for name, added, saved in page["books"]:
        h += [f"<h2>{page['noun'].capitalize()} most affected: {html.escape(name)}</h2>",
              "<p>Most walking added</p>",
              _html_table(added) if len(added) > 1 else "<p>none</p>",
              "<p>Most walking saved</p>",
              _html_table(saved) if len(saved) > 1 else "<p>none</p>"]
    h += ["<h2>Method</h2>"] + [f"<p>{p}</p>" for p in page["paras"]] + ["</body></html>"]
    return "\n".join(h)


def write_report(cmp: Comparison, path, *, title: str | None = None,
                 moves_curve: dict | None = None) -> list[str]:
    """Write a one-page report (``.html`` or ``.md``); returns the files written.

    HTML embeds the figures as base64 PNG; Markdown writes them beside the
    page as ``<name>.png`` (floor plans) and ``<name>-walks.png``. ``moves_curve``
    (what ``shelfplan moves`` writes as JSON) adds the saving-versus-moves curve.
    """
    path = os.fspath(path)
    stem, ext = os.path.splitext(path)
    ext = ext.lower()
    if ext not in (".html", ".htm", ".md"):
        raise ShelfplanError(f"{path}: a report must end in .html or .md, got "
                             f"{ext or 'no extension'!r}; e.g. -o report.html")
    page = _with_moves(_page(cmp, title), moves_curve)
    if ext == ".md":
        text, written = _markdown(page, stem)
    else:
        text, written = _html(page), []
    atomic_write(path, lambda fh: fh.write(text))
    return written + [path]
