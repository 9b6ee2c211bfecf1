"""Present evaluations and comparisons: text tables, figures, a one-page report.

* :func:`evaluation_text`, :func:`comparison_text`: the tables the CLI prints.
* :func:`floor_plan`, :func:`compare_figure`, :func:`walks_figure`: matplotlib
  figures built on :class:`matplotlib.figure.Figure` (no pyplot state).
* :func:`write_report`: one page for a committee, ``.html`` (figures embedded
  as base64 PNG) or ``.md`` (figures as PNG files beside it).
"""

from __future__ import annotations

import base64
import html
import io
import os
import re
from datetime import date

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.patches import Polygon as PolygonPatch

from shelfplan.judge.compare import Comparison
from shelfplan.errors import ShelfplanError
from shelfplan.judge.evaluate import Evaluation
from shelfplan.layout import Layout, atomic_write

# ---------------------------------------------------------------------------
# numbers and tables


def _f(v, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "-"
    return f"{v:.{digits}f}"


def _pct(v) -> str:
    return "" if v is None else f"{v:+.1f} %"


def _period_text(info: dict) -> str:
    parts = []
    if info.get("since"):
        parts.append(f"since {info['since']}")
    if info.get("until"):
        parts.append(f"before {info['until']}")
    span = info.get("span")
    text = " ".join(parts) if parts else "all loans"
    if span:
        text += f" (loans {span[0]} to {span[1]})"
    return text


def _table(rows: list[list[str]], right: set[int] | None = None) -> str:
    """Plain-text table: first row is the header, columns aligned."""
    right = right if right is not None else set(range(1, len(rows[0])))
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    out = []
    for r in rows:
        out.append("  ".join(s.rjust(w) if c in right else s.ljust(w)
                             for c, (s, w) in enumerate(zip(r, widths))).rstrip())
    return "\n".join(out)


def _coverage_line(cov: dict) -> str:
    if not cov["items_missing"]:
        return "every borrowed item is in the layout"
    ex = ", ".join(cov["missing_examples"][:3])
    return (f"{cov['items_missing']} of {cov['items_in_loans']} borrowed items are not in the "
            f"layout (e.g. {ex}): {cov['loans_missing']} loans "
            f"({100 * cov['share_loans_missing']:.1f} %), left out of the figures")


def _feasibility_line(f: dict) -> str:
    ms = _f(f["min_spacing"], 3)
    if f["feasible"]:
        return f"feasible (min spacing {ms} m, d_min {f['d_min']:g} m, all inside the hall)"
    return (f"NOT feasible: {f['pairs_too_close']} pairs closer than d_min {f['d_min']:g} m "
            f"(min spacing {ms} m), {f['outside_hall']} books outside the hall")


def evaluation_text(ev: Evaluation) -> str:
    """The human table of ``shelfplan evaluate``."""
    c, lb, w, info = ev.cost, ev.lower_bound, ev.walk, ev.loans
    rows = [
        ["", "metres"],
        ["walking cost S", _f(c["total"], 4)],
        ["  entrance term", _f(c["entrance_term"], 4)],
        ["  pair term", _f(c["pair_term"], 4)],
        ["lower bound LB", _f(lb.get("total"), 4)],
        ["S / LB", _f(ev.ratio, 3)],
        ["visit walk, mean", _f(w["mean"], 2)],
        ["visit walk, median", _f(w["p50"], 2)],
        ["visit walk, 90th pct", _f(w["p90"], 2)],
    ]
    head = [
        f"layout    {ev.name}  ({_units(ev.layout)}, hall {ev.layout.hall.name!r})",
        f"loans     {info['source']}, {_period_text(info)}: {info['loans']} loans, "
        f"{info['sessions']} sessions ({info['session_rule']})",
        f"coverage  {_coverage_line(ev.coverage)}",
        f"          {ev.coverage['layout_items_unborrowed']} {_noun(ev.layout)} of the layout "
        f"were not "
        f"borrowed in these loans",
        f"checks    {_feasibility_line(ev.feasibility)}",
        "",
    ]
    foot = ["", f"S: expected metres per borrowed book (MODEL.md); visit walk: entrance, the "
                f"visit's books nearest-first, back ({w['sessions']} sessions)."]
    return "\n".join(head) + _table(rows) + "\n" + "\n".join(foot)


def comparison_rows(cmp: Comparison) -> list[list[str]]:
    """Header plus one row per figure: value and change against the first layout."""
    rows = [["", *cmp.names]]
    noun = _noun(cmp.evaluations[0].layout)
    for key, label, vals in cmp.metrics():
        ch = cmp.change(vals)
        digits = 2 if key.startswith("walk") else (3 if key == "s_over_lb" else 4)
        rows.append([label] + [_f(v, digits) + (f" ({_pct(p)})" if k else "")
                               for k, (v, p) in enumerate(zip(vals, ch))])
    rows.append(["feasible"] + ["yes" if ev.feasibility["feasible"] else "NO"
                                for ev in cmp.evaluations])
    rows.append([f"{noun} not in layout"] + [f"{c['items_missing']} ({100 * c['share_loans_missing']:.1f} % of loans)"
                                           for c in cmp.coverage])
    mv = [m.to_dict() if m is not None else None for m in cmp.moves]
    rows.append([f"{noun} moved"] + ["-" if m is None else f"{m['books_moved']} of {m['books_common']}"
                                   for m in mv])
    rows.append(["move distance, total (m)"] + ["-" if m is None else _f(m["total_m"], 1)
                                                for m in mv])
    rows.append(["move distance, 90th pct (m)"] + ["-" if m is None else _f(m["p90_m"], 2)
                                                   for m in mv])
    rows.append([f"{noun} with less / more walking"] + [
        "-" if d is None else f"{int((d['change'] < 0).sum())} / {int((d['change'] > 0).sum())}"
        for d in cmp.changes])
    return rows


def book_rows(cmp: Comparison, k: int) -> tuple[list[list[str]], list[list[str]]]:
    """(most walking added, most walking saved) tables for layout k, with header."""
    head = ["book", "category", "p", "before (m)", "after (m)", "change (m)", "moved (m)"]
    out = []
    for df in cmp.top_changes(k):
        rows = [head]
        for r in df.itertuples(index=False):
            cat = "" if r.category is None else str(r.category)
            rows.append([str(r.item), cat[:40], f"{r.p:.4f}", f"{r.before:.4f}",
                         f"{r.after:.4f}", f"{r.change:+.4f}", _f(r.moved_m, 2)])
        out.append(rows)
    return out[0], out[1]


def comparison_text(cmp: Comparison) -> str:
    """The human output of ``shelfplan compare``."""
    b = cmp.basis
    lines = [
        f"loans: {b['source']}, {_period_text(b)}: {b['loans_used']} of {b['loans_all']} loans "
        f"used, {b['sessions_used']} sessions",
    ]
    if b["items_left_out"]:
        lines.append(f"  {b['items_left_out']} borrowed items are missing from at least one "
                     f"layout ({100 * b['share_loans_left_out']:.1f} % of loans): left out of "
                     f"every figure")
    for note in cmp.hall_note:
        lines.append(f"  warning: {note}")
    lines += ["", _table(comparison_rows(cmp)), ""]
    lines.append(f"change in % against {cmp.names[0]}; moved = position changed by more than "
                 f"{cmp.moves[1].tolerance * 1000:g} mm")
    for k in range(1, len(cmp.names)):
        added, saved = book_rows(cmp, k)
        for title, rows in (("most walking added", added), ("most walking saved", saved)):
            lines += ["", f"{cmp.names[k]}: books with the {title} (attributable metres per "
                          f"borrowed book)"]
            lines.append(_table(rows, right={2, 3, 4, 5, 6}) if len(rows) > 1 else "  none")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# figures


def floor_plan(layout: Layout, ax=None, *, values: np.ndarray | None = None, norm=None,
               title: str | None = None, cmap: str = "viridis"):
    """Top view of a layout: walls, obstacles, entrance, books (coloured by ``values``).

    ``values`` (one per book; NaN or <= 0 drawn grey) are usually p(i).
    Returns the books' scatter artist.
    """
    if ax is None:
        ax = Figure(figsize=(6, 5)).add_subplot()
    hall = layout.hall
    ax.add_patch(PolygonPatch(hall.footprint, closed=True, fill=False, lw=1.5, ec="black"))
    for ob in hall.obstacles:
        ax.add_patch(PolygonPatch(ob, closed=True, fc="0.75", ec="0.4", lw=1))
    X = np.asarray(layout.positions, dtype=float)
    art = None
    if values is None:
        art = ax.scatter(X[:, 0], X[:, 1], s=8, c="tab:blue", lw=0)
    else:
        v = np.asarray(values, dtype=float)
        on = np.isfinite(v) & (v > 0)
        ax.scatter(X[~on, 0], X[~on, 1], s=5, c="0.8", lw=0)
        order = np.nonzero(on)[0][np.argsort(v[on])]   # popular books on top
        art = ax.scatter(X[order, 0], X[order, 1], s=10, c=v[order], cmap=cmap,
                         norm=norm, lw=0)
    e = hall.entrance
    ax.plot([e[0]], [e[1]], marker="^", ms=11, color="tab:red", ls="none", label="entrance")
    lo, hi = hall.footprint.min(axis=0), hall.footprint.max(axis=0)
    pad = 0.03 * float((hi - lo).max())
    ax.set_xlim(lo[0] - pad, hi[0] + pad)
    ax.set_ylim(lo[1] - pad, hi[1] + pad)
    ax.set_aspect("equal")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    if title:
        ax.set_title(title, fontsize=10)
    return art


def _p_values(ev: Evaluation) -> np.ndarray:
    v = np.full(ev.layout.n, np.nan)
    v[ev.index] = ev.estimates.p
    return v


def compare_figure(cmp: Comparison, max_arrows: int = 2000) -> Figure:
    """The layouts' floor plans side by side, coloured by p(i); on the first, the
    moves to the second layout as arrows (the longest ``max_arrows``)."""
    n = len(cmp.names)
    fig = Figure(figsize=(5.2 * n + 0.8, 4.8), layout="constrained")
    axes = fig.subplots(1, n, squeeze=False)[0]
    ps = [_p_values(ev) for ev in cmp.evaluations]
    allp = np.concatenate([p[np.isfinite(p) & (p > 0)] for p in ps])
    norm = LogNorm(vmin=allp.min(), vmax=allp.max()) if len(allp) and allp.min() < allp.max() else None
    art = None
    for k, (ax, ev) in enumerate(zip(axes, cmp.evaluations)):
        s = ev.cost["total"]
        title = f"{os.path.basename(cmp.names[k])}\nS = {s:.3f} m"
        if k:
            title += f" ({_pct(cmp.change([cmp.evaluations[0].cost['total'], s])[1])})"
        art = floor_plan(ev.layout, ax, values=ps[k], norm=norm, title=title) or art
    if n > 1 and cmp.moves[1] is not None:
        mv = cmp.moves[1]
        moved = np.nonzero(mv.moved)[0]
        moved = moved[np.argsort(-mv.distance[moved], kind="stable")][:max_arrows]
        if len(moved):
            a, b = mv.start[moved], mv.end[moved]
            alpha = float(np.clip(6.0 / np.sqrt(len(moved)), 0.15, 0.7))   # dense: fainter
            axes[0].quiver(a[:, 0], a[:, 1], b[:, 0] - a[:, 0], b[:, 1] - a[:, 1],
                           angles="xy", scale_units="xy", scale=1, width=0.0015,
                           headwidth=4, color="tab:orange", alpha=alpha)
        axes[0].set_title(axes[0].get_title() + f"\narrows: {mv.moved.sum()} moves to "
                          f"{os.path.basename(cmp.names[1])}", fontsize=10)
    if art is not None and norm is not None:
        fig.colorbar(art, ax=list(axes), shrink=0.8, label="p(i), share of borrowed books")
    return fig


def walks_figure(cmp: Comparison) -> Figure:
    """Cumulative distribution of the visit walk length, one line per layout."""
    fig = Figure(figsize=(6.4, 3.8), layout="constrained")
    ax = fig.add_subplot()
    for name, ev in zip(cmp.names, cmp.evaluations):
        w = np.sort(ev.walks)
        if len(w):
            ax.step(w, np.arange(1, len(w) + 1) / len(w), where="post",
                    label=f"{os.path.basename(name)} (mean {w.mean():.1f} m)")
    ax.set_xlabel("visit walk: entrance, books nearest-first, back (m)")
    ax.set_ylabel("share of visits")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return fig


def png_bytes(fig: Figure, dpi: int = 110) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def save_png(fig: Figure, path, dpi: int = 110) -> None:
    """Write a figure as PNG atomically."""
    data = png_bytes(fig, dpi)
    atomic_write(path, lambda fh: fh.write(data), mode="wb")


# ---------------------------------------------------------------------------
# the report


def method_paragraphs(cmp: Comparison) -> list[str]:
    b = cmp.basis
    held = ""
    if b.get("since"):
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
          f"({_period_text(b)}), not from the layout files, and all layouts are judged on the "
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
        return [p1, p2, p3]
    return [p1, p2]


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
    num = re.compile(r"^[-+]?[\d.]+( \(.*\))?$|^-$|^\d+ of \d+$|^\d+ / \d+$|^(yes|NO)$")
    right = [c > 0 and all(num.match(r[c]) for r in rows[1:] if r[c]) for c in range(len(rows[0]))]
    lines = ["| " + " | ".join(esc(c) or " " for c in rows[0]) + " |",
             "|" + "|".join("---:" if r else "---" for r in right) + "|"]
    lines += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows[1:]]
    return "\n".join(lines)


_CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:.6em 0 1.2em}td,th{border-bottom:1px solid #ccc;
padding:.25em .7em;text-align:right}td:first-child,th:first-child{text-align:left}
img{max-width:100%}.note{color:#555;font-size:.92em}"""


def write_report(cmp: Comparison, path, *, title: str | None = None) -> list[str]:
    """Write a one-page report (``.html`` or ``.md``); returns the files written.

    HTML embeds the figures as base64 PNG; Markdown writes them beside the
    page as ``<name>.png`` (floor plans) and ``<name>-walks.png``.
    """
    path = os.fspath(path)
    stem, ext = os.path.splitext(path)
    ext = ext.lower()
    if ext not in (".html", ".htm", ".md"):
        raise ShelfplanError(f"{path}: a report must end in .html or .md, got "
                             f"{ext or 'no extension'!r}; e.g. -o report.html")
    title = title or f"Shelving: {os.path.basename(cmp.names[0])} and proposals"
    figs = {"plan": compare_figure(cmp), "walks": walks_figure(cmp)}
    b = cmp.basis
    intro = (f"Loans: {b['source']}, {_period_text(b)}; {b['loans_used']} loans in "
             f"{b['sessions_used']} visits. Reference layout: {cmp.names[0]}. Prepared "
             f"{date.today():%Y-%m-%d} with shelfplan.")
    notes = list(cmp.hall_note)
    cov_lines = [_coverage_line(c) if c["items_missing"] else None for c in cmp.coverage]
    if len(cmp.names) > 1 and cov_lines[0] and len(set(cov_lines)) == 1:
        notes.append(f"All layouts: {cov_lines[0]}.")
    else:
        notes += [f"{n}: {line}." for n, line in zip(cmp.names, cov_lines) if line]
    for name, ev in zip(cmp.names, cmp.evaluations):
        if not ev.feasibility["feasible"]:
            notes.append(f"{name}: {_feasibility_line(ev.feasibility)}.")
    table = comparison_rows(cmp)
    books = []
    for k in range(1, len(cmp.names)):
        added, saved = book_rows(cmp, k)
        books.append((cmp.names[k], added, saved))
    paras = method_paragraphs(cmp)
    written = []
    if ext == ".md":
        plan_png, walks_png = f"{stem}.png", f"{stem}-walks.png"
        save_png(figs["plan"], plan_png)
        save_png(figs["walks"], walks_png)
        written += [plan_png, walks_png]
        md = [f"# {title}", "", intro, ""]
        md += [f"> {n}" for n in notes] + ([""] if notes else [])
        md += ["## Comparison", "", _md_table(table), "",
               "Change in % against the first layout. S in metres per borrowed book.", "",
               f"![Floor plans]({os.path.basename(plan_png)})", "",
               f"![Visit walks]({os.path.basename(walks_png)})", ""]
        for name, added, saved in books:
            md += [f"## {_noun(cmp.evaluations[0].layout).capitalize()} most affected: {name}", "",
                   "Most walking added:", "", _md_table(added) if len(added) > 1 else "none", "",
                   "Most walking saved:", "", _md_table(saved) if len(saved) > 1 else "none", ""]
        md += ["## Method", ""] + [_strip_tags(p) + "\n" for p in paras]
        text = "\n".join(md)
    else:
        img = {k: base64.b64encode(png_bytes(f)).decode("ascii") for k, f in figs.items()}
        h = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
             f"</title><style>{_CSS}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>", f"<p class='note'>{html.escape(intro)}</p>"]
        h += [f"<p class='note'>&#9888; {html.escape(n)}</p>" for n in notes]
        h += ["<h2>Comparison</h2>", _html_table(table),
              "<p class='note'>Change in % against the first layout. S in metres per "
              "borrowed book.</p>",
              f"<img alt='floor plans' src='data:image/png;base64,{img['plan']}'>",
              f"<img alt='visit walks' src='data:image/png;base64,{img['walks']}'>"]
        for name, added, saved in books:
            h += [f"<h2>{_noun(cmp.evaluations[0].layout).capitalize()} most affected: "
                  f"{html.escape(name)}</h2>",
                  "<p>Most walking added</p>",
                  _html_table(added) if len(added) > 1 else "<p>none</p>",
                  "<p>Most walking saved</p>",
                  _html_table(saved) if len(saved) > 1 else "<p>none</p>"]
        h += ["<h2>Method</h2>"] + [f"<p>{p}</p>" for p in paras] + ["</body></html>"]
        text = "\n".join(h)
    atomic_write(path, lambda fh: fh.write(text))
    written.append(path)
    return written


def _units(layout) -> str:
    """'297 books', '250 titles' or '39 category blocks (297 books)'."""
    if layout.sizes is not None:
        return f"{layout.n} category blocks ({int(layout.sizes.sum())} books)"
    return f"{layout.n} {'titles' if layout.level == 'title' else 'books'}"


def _noun(layout) -> str:
    """What the layout's units are called: books, titles or blocks."""
    if layout.sizes is not None:
        return "blocks"
    return "titles" if layout.level == "title" else "books"
