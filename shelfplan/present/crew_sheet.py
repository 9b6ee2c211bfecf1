"""A printable crew sheet for a shift plan (MODEL.md 8.8): one line per trip.

Each step of the shift plan is one trip: from one shelf (or a cart) to one
shelf (or a cart), with how many books and the first and last call number
carried, so the crew can check the books on the cart against the sheet.
"""

from __future__ import annotations

import html

from shelfplan.layout import atomic_write

__all__ = ["crew_steps", "write_crew_sheet"]

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; margin-bottom: 0.2em; }
p.facts { margin-top: 0; color: #555; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.5em; text-align: left; }
th { background: #eef2f5; }
td.n { text-align: right; }
td.done { width: 3em; }
tr { page-break-inside: avoid; }
@media print { body { margin: 0.5cm; } th { background: #ddd !important; } }
"""


def _shelf(where: str) -> str:
    """``A-2/left/3/1/17`` -> ``A-2 left, section 3, shelf 1``; carts as they are."""
    if where.startswith("cart:"):
        return "cart " + where[5:]
    r, face, section, shelf, _ = where.split("/")
    return f"{r} {face}, section {section}, shelf {shelf}"


def crew_steps(shift) -> list[dict]:
    """One dict per step: step, from, to, books, first and last call number."""
    out: dict = {}
    for (step, item, a, z), call in zip(shift.rows, shift.callnumbers):
        s = out.setdefault(step, {"step": step, "from": _shelf(a), "to": _shelf(z),
                                  "books": 0, "first": call or item, "last": call or item})
        s["books"] += 1
        s["last"] = call or item
    return list(out.values())


def write_crew_sheet(shift, path, title: str = "Shift plan: crew sheet") -> None:
    steps = crew_steps(shift)
    esc = html.escape
    rows = "\n".join(
        f"<tr><td class='n'>{s['step']}</td><td>{esc(s['from'])}</td><td>{esc(s['to'])}</td>"
        f"<td class='n'>{s['books']}</td><td>{esc(str(s['first']))}</td>"
        f"<td>{esc(str(s['last']))}</td><td class='done'></td></tr>" for s in steps)
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{esc(title)}</title>"
            f"<style>{STYLE}</style></head><body><h1>{esc(title)}</h1>"
            f"<p class='facts'>{shift.books_moved} books to move in {shift.trips} trips; "
            f"{shift.carts} cart(s) of {shift.cart_capacity} books. Work the steps in order; "
            f"a step's books leave one shelf (or cart) for one shelf (or cart), in the order of "
            f"the shift-plan CSV.</p><table><thead><tr><th>step</th><th>from</th><th>to</th>"
            f"<th>books</th><th>first call number</th><th>last call number</th><th>done</th>"
            f"</tr></thead><tbody>{rows}</tbody></table></body></html>\n")
    atomic_write(path, lambda fh: fh.write(page))
