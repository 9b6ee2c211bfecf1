"""The tables of ``shelfplan evaluate`` and ``shelfplan compare`` as plain text.

Also the rows of the comparison and of the books most affected, which the
report (:mod:`shelfplan.present.report`) lays out as HTML or Markdown.
"""

from __future__ import annotations

import numpy as np

from shelfplan.judge.compare import Comparison
from shelfplan.judge.evaluate import Evaluation


def num(v, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "-"
    return f"{v:.{digits}f}"


def percent(v) -> str:
    return "" if v is None else f"{v:+.1f} %"


def period_text(info: dict) -> str:
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


def text_table(rows: list[list[str]], right: set[int] | None = None) -> str:
    """Plain-text table: first row is the header, columns aligned."""
    right = right if right is not None else set(range(1, len(rows[0])))
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    out = []
    for r in rows:
        out.append("  ".join(s.rjust(w) if c in right else s.ljust(w)
                             for c, (s, w) in enumerate(zip(r, widths))).rstrip())
    return "\n".join(out)


def coverage_line(cov: dict) -> str:
    if not cov["items_missing"]:
        return "every borrowed item is in the layout"
    ex = ", ".join(cov["missing_examples"][:3])
    return (f"{cov['items_missing']} of {cov['items_in_loans']} borrowed items are not in the "
            f"layout (e.g. {ex}): {cov['loans_missing']} loans "
            f"({100 * cov['share_loans_missing']:.1f} %), left out of the figures")


def feasibility_line(f: dict) -> str:
    if "slots" in f:                                   # a shelving plan
        if f["feasible"]:
            return f"feasible (every book in its own slot: {f['books']} books, {f['slots']} slots)"
        return f"NOT feasible: {f['pairs_too_close']} slots hold two books"
    ms = num(f["min_spacing"], 3)
    if f["feasible"]:
        return f"feasible (min spacing {ms} m, d_min {f['d_min']:g} m, all inside the hall)"
    return (f"NOT feasible: {f['pairs_too_close']} pairs closer than d_min {f['d_min']:g} m "
            f"(min spacing {ms} m), {f['outside_hall']} books outside the hall")


#: One sentence each on the two figures a plan is judged by (visit walk first).
VISIT_WALK_MEANS = ("Visit walk: the metres a visit walks, from the entrance to its books "
                    "(nearest first, by the walking distance) and back (MODEL.md 8.10)")
S_MEANS = ("S: the model's expected metres per borrowed book, from the entrance to it plus on "
           "to a book borrowed with it (MODEL.md 3, S_walk 8.4); what the fit minimises by "
           "default.")


def evaluation_text(ev: Evaluation) -> str:
    """The human table of ``shelfplan evaluate``."""
    c, lb, w, info = ev.cost, ev.lower_bound, ev.walk, ev.loans
    rows = [
        ["", "metres"],
        ["visit walk, mean", num(w["mean"], 2)],
        ["visit walk, median", num(w["p50"], 2)],
        ["visit walk, 90th pct", num(w["p90"], 2)],
        ["walking cost S", num(c["total"], 4)],
        ["  entrance term", num(c["entrance_term"], 4)],
        ["  pair term", num(c["pair_term"], 4)],
        ["lower bound LB", num(lb.get("total"), 4)],
        ["S / LB", num(ev.ratio, 3)],
    ]
    head = [
        f"layout    {ev.name}  ({unit_count(ev.layout)}, hall {ev.layout.hall.name!r})",
        f"loans     {info['source']}, {period_text(info)}: {info['loans']} loans, "
        f"{info['sessions']} sessions ({info['session_rule']})",
        f"coverage  {coverage_line(ev.coverage)}",
        f"          {ev.coverage['layout_items_unborrowed']} {unit_noun(ev.layout)} of the layout "
        f"were not "
        f"borrowed in these loans",
        f"checks    {feasibility_line(ev.feasibility)}",
        "",
    ]
    foot = ["", VISIT_WALK_MEANS + f" ({w['sessions']} sessions).", S_MEANS]
    return "\n".join(head) + text_table(rows) + "\n" + "\n".join(foot)


def comparison_rows(cmp: Comparison) -> list[list[str]]:
    """Header plus one row per figure: value and change against the first layout."""
    rows = [["", *cmp.names], ["figures"] + [cmp.label(k) for k in range(len(cmp.names))]]
    noun = unit_noun(cmp.evaluations[0].layout)
    for key, label, vals in cmp.metrics():
        ch = cmp.change(vals)
        digits = 2 if key.startswith("walk") else (3 if key == "s_over_lb" else 4)
        rows.append([label] + [num(v, digits) + (f" ({percent(p)})" if k else "")
                               for k, (v, p) in enumerate(zip(vals, ch))])
    rows.append(["feasible"] + ["yes" if ev.feasibility["feasible"] else "NO"
                                for ev in cmp.evaluations])
    rows.append(["coverage (loans of placed books)"] + [
        f"{100 * (1 - c['share_loans_missing']):.1f} %" for c in cmp.coverage])
    rows.append([f"{noun} not in layout"] + [f"{c['items_missing']} ({100 * c['share_loans_missing']:.1f} % of loans)"
                                           for c in cmp.coverage])
    mv = [m.to_dict() if m is not None else None for m in cmp.moves]
    rows.append([f"{noun} moved"] + ["-" if m is None else f"{m['books_moved']} of {m['books_common']}"
                                   for m in mv])
    rows.append(["move distance, total (m)"] + ["-" if m is None else num(m["total_m"], 1)
                                                for m in mv])
    rows.append(["move distance, 90th pct (m)"] + ["-" if m is None else num(m["p90_m"], 2)
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
                         f"{r.after:.4f}", f"{r.change:+.4f}", num(r.moved_m, 2)])
        out.append(rows)
    return out[0], out[1]


def mode_line(cmp: Comparison) -> str:
    """What the figures are: held out, in sample, or a given period."""
    if cmp.mode == "held-out":
        sp = cmp.split
        period = f"judged on the loans since {sp['since']} ({sp['why']})"
        saw = [bool(cmp.saw and cmp.saw[k]) for k in range(len(cmp.names))]
        if all(saw):
            return (f"figures: in sample: {period}, which every layout was fitted on; fit "
                    f"with --until {sp['since']} for held-out figures")
        if any(saw):
            held = [n for n, s in zip(cmp.names, saw) if not s]
            ins = [n for n, s in zip(cmp.names, saw) if s]
            return (f"figures: {period}: held out for {', '.join(held)}; in sample for "
                    f"{', '.join(ins)} (fitted on these loans)")
        return f"figures: held out: {period}; --in-sample judges on all loans"
    if cmp.mode == "in-sample":
        return "figures: in sample: all loans, those the layouts were fitted on included"
    if cmp.mode == "no-dates":
        return "figures: in sample: the loans have no dates, so no later loans can be held out"
    return "figures: on the period given (--since/--until)"


def saw_notes(cmp: Comparison) -> list[str]:
    """A note for each layout fitted on the loans it is judged on (held-out mode)."""
    if cmp.mode != "held-out":
        return []
    saw = [n for k, n in enumerate(cmp.names) if cmp.saw[k]]
    if not saw or len(saw) == len(cmp.names):          # none, or said by mode_line
        return []
    one = len(saw) == 1
    return [f"{', '.join(saw)} {'was' if one else 'were'} fitted on loans of the judged period: "
            f"{'its' if one else 'their'} figures are in sample; fit with --until "
            f"{cmp.split['since']} for a held-out test"]


def in_sample_rows(cmp: Comparison) -> list[list[str]]:
    """The in-sample figures (all loans) that come with a held-out comparison."""
    ins = cmp.in_sample
    rows = [["in sample (all loans)", *ins.names]]
    for key, label, vals in ins.metrics():
        if key in ("walk_mean", "walk_p50", "walk_p90", "S"):
            digits = 2 if key.startswith("walk") else 4
            rows.append([label] + [num(v, digits) + (f" ({percent(p)})" if k else "")
                                   for k, (v, p) in enumerate(zip(vals, ins.change(vals)))])
    return rows


def comparison_text(cmp: Comparison) -> str:
    """The human output of ``shelfplan compare``."""
    b = cmp.basis
    lines = [
        mode_line(cmp),
        f"loans: {b['source']}, {period_text(b)}: {b['loans_used']} of {b['loans_all']} loans "
        f"used, {b['sessions_used']} sessions",
    ]
    lines += [f"  note: {n}" for n in saw_notes(cmp)]
    if b["items_left_out"]:
        lines.append(f"  {b['items_left_out']} borrowed items are missing from at least one "
                     f"layout ({100 * b['share_loans_left_out']:.1f} % of loans): left out of "
                     f"every figure")
    for note in cmp.hall_note:
        lines.append(f"  warning: {note}")
    lines += ["", text_table(comparison_rows(cmp)), ""]
    lines.append(f"change in % against {cmp.names[0]}; moved = position changed by more than "
                 f"{cmp.moves[1].tolerance * 1000:g} mm")
    lines += [VISIT_WALK_MEANS + ".", S_MEANS]
    if cmp.in_sample is not None:
        lines += ["", text_table(in_sample_rows(cmp))]
    for k in range(1, len(cmp.names)):
        added, saved = book_rows(cmp, k)
        for title, rows in (("most walking added", added), ("most walking saved", saved)):
            lines += ["", f"{cmp.names[k]}: books with the {title} (attributable metres per "
                          f"borrowed book)"]
            lines.append(text_table(rows, right={2, 3, 4, 5, 6}) if len(rows) > 1 else "  none")
    return "\n".join(lines)



def unit_count(layout) -> str:
    """'297 books', '250 titles' or '39 category blocks (297 books)'."""
    if layout.sizes is not None:
        return f"{layout.n} category blocks ({int(layout.sizes.sum())} books)"
    return f"{layout.n} {'titles' if layout.level == 'title' else 'books'}"


def unit_noun(layout) -> str:
    """What the layout's units are called: books, titles or blocks."""
    if layout.sizes is not None:
        return "blocks"
    return "titles" if layout.level == "title" else "books"
