"""The stack map page's style sheet and script (inline in the page; no network).

The script reads the JSON block ``#data`` (:func:`shelfplan.present.stackmap.map_data`:
books in library order, their location and shelf; the locations' range, face
and section; pick points in SVG units) and answers the search box:

1. an item id (exact, any case);
2. a call number, exact or a prefix (``823.3``): the first book in library
   order that starts with it, the other locations holding matches shown too;
3. title words (when the plan has titles): books whose title has a word
   starting with each of them;
4. any other call number (it has a digit): where it would stand in library
   order (on a plan not in call-number order, ``ordered`` false: no place, the
   books with the nearest call numbers instead), by binary search over the books
   with :data:`PAGE_JS`'s ``compare`` (a simplified library order: first the
   plan's shelving-prefix sequences in its filing order, ``data.prefixes``, then
   end < letters < numbers < a Dewey prefix word such as J or REF; whole numbers
   by value, the digits after a point that follows a number and the digits of a
   cutter as fractions).

The answer reads "range A-3, left face, section 3, shelf 2"; the location's
shape gets class ``hit`` (others holding matches ``also``), its range
``hit-range``, and a pin marks the pick point. ``#q=...`` in the address runs a
query on load.
"""

PAGE_CSS = """
body{font-family:system-ui,sans-serif;margin:0 1.2em;color:#222}
header{position:sticky;top:0;background:#fff;padding:.4em 0;border-bottom:1px solid #ddd;z-index:2}
h1{font-size:1.3em;margin:.3em 0}
#q{font-size:1.1em;padding:.25em}
button{font-size:1.05em}
#answer{font-size:1.15em;font-weight:600;margin:.4em 0;min-height:1.3em}
#hits{margin:0;max-height:9em;overflow:auto;font-size:.92em}
#hits button{font-size:.92em;border:0;background:none;color:#0645ad;cursor:pointer;text-align:left}
main svg{width:100%;max-height:80vh;display:block;margin:.6em 0}
.floor{fill:#fbfbf7;stroke:#333;stroke-width:.06}
.obstacle{fill:#9a9a9a;stroke:#555;stroke-width:.03}
.range-body{fill:#deb887;stroke:#8b4513;stroke-width:.03}
.hit-range .range-body{stroke:#c00000;stroke-width:.1}
.face{fill:none;stroke-width:.07}
.face-left{stroke:#1f77b4}.face-right{stroke:#ff7f0e}
.loc{fill:transparent;stroke:none;cursor:pointer}
.loc:hover{fill:rgba(0,0,0,.12)}
.loc.also{fill:rgba(255,150,0,.55)}
.loc.hit{fill:rgba(220,0,0,.8)}
#pin{fill:none;stroke:#d00000;stroke-width:.08}
.floor-map[hidden]{display:none}
#floors button{margin-right:.4em}
#floors button[aria-pressed=true]{font-weight:700;background:#ffe9a8}
.connector rect{fill:#5a3e99}.connector.lift rect{fill:#1f7a4d}
.conn-label{fill:#5a3e99}
@media print{.floor-map[hidden]{display:block}}
text{font-family:sans-serif;text-anchor:middle;dominant-baseline:central;fill:#222}
.span{fill:#203070}
.entrance{fill:#d00000}
.entrance-label{fill:#d00000}
table{border-collapse:collapse;font-size:.9em;margin-bottom:2em}
td,th{border:1px solid #ccc;padding:.15em .5em;text-align:left}
@media print{header form,#hits{display:none}main svg{max-height:none}}
"""

PAGE_JS = r"""
(function () {
  "use strict";
  const D = JSON.parse(document.getElementById("data").textContent);
  const FACES = ["left", "right"];
  const n = D.id.length;
  const norm = s => (s == null ? "" : String(s)).toUpperCase().replace(/\s+/g, " ").trim();
  const calls = D.call.map(norm);
  const ids = new Map();
  D.id.forEach((v, i) => { const k = norm(v); if (!ids.has(k)) ids.set(k, i); });
  let named = 0;                       // books with a call number come first
  while (named < n && calls[named] !== "") named++;
  const titleWords = D.title ? D.title.map(t => (t == null ? "" : String(t)).toLowerCase()
      .split(/[^\p{L}\p{N}]+/u).filter(Boolean)) : null;
  const answer = document.getElementById("answer");
  const hits = document.getElementById("hits");

  // --- a simplified library order for call numbers no book has ----------------------
  const PREFIX = /^((?:[A-Z]{1,5}\.? )+)(?=\d{3}(?!\d))/;   // Dewey's J, REF., YA
  // the plan's prefix sequences (REF, FOLIO, +; "" none) in filing order: a call number
  // behind one of them files in its sequence, by the rest
  const SEQ = D.prefixes || [""];
  const SEQ_RANK = new Map(SEQ.map((p, i) => [p, String(i).padStart(6, "0")]));
  const KNOWN = SEQ.filter(Boolean).sort((a, b) => b.length - a.length);
  function sequence(s) {
    for (const p of KNOWN) {
      if (s.startsWith(p + " ") || s.startsWith(p + ". ") || (p === "+" && s.startsWith(p)))
        return [SEQ_RANK.get(p), s.slice(p.length).replace(/^\.?\s*/, "")];
    }
    return [SEQ_RANK.has("") ? SEQ_RANK.get("") : "", s];
  }
  function tokens(whole) {
    const [seq, s] = sequence(whole);
    const pre = PREFIX.exec(s), out = [[0, seq]];
    if (pre) out.push([3, pre[1]]);
    const re = /(\.)?(\d+)|([A-Z]+)/g;
    let m, cutter = false, number = false, end = -1;
    if (pre) re.lastIndex = pre[1].length;
    while ((m = re.exec(s)) !== null) {
      const touching = m.index === end;
      if (m[3] !== undefined) {
        out.push([1, m[3]]);
        cutter = out.length > (pre ? 3 : 2);      // letters after the class: a cutter
        number = false;
      } else {
        // a decimal: after a point that follows a number (823.30) or stands alone;
        // the digits of a cutter (L96, .P98); but v.2 is volume 2
        const frac = m[1] !== undefined ? number || !touching : cutter && touching;
        out.push(frac ? [2, "", m[2]] : [2, m[2].replace(/^0+/, ""), ""]);
        cutter = false;
        number = true;
      }
      end = re.lastIndex;
    }
    return out;
  }
  function compare(a, b) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const x = a[i] || [0], y = b[i] || [0];
      if (x[0] !== y[0]) return x[0] - y[0];
      if (x[0] !== 2 && x[1] !== y[1]) return x[1] < y[1] ? -1 : 1;
      if (x[0] === 2) {
        if (x[1].length !== y[1].length) return x[1].length - y[1].length;
        if (x[1] !== y[1]) return x[1] < y[1] ? -1 : 1;
        if (x[2] !== y[2]) return x[2] < y[2] ? -1 : 1;
      }
    }
    return 0;
  }
  function placeOf(q) {               // first book after q in library order
    const key = tokens(q);
    let lo = 0, hi = named;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compare(tokens(calls[mid]), key) <= 0) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  // --- answers -----------------------------------------------------------------------
  function floorOf(k) { return D.floors ? "floor " + D.floors[D.locFloor[k]] + ", " : ""; }
  function showFloor(f) {
    document.querySelectorAll(".floor-map").forEach(s => s.toggleAttribute("hidden", s.dataset.floor != f));
    document.querySelectorAll("#floors button").forEach(b =>
      b.setAttribute("aria-pressed", String(b.dataset.floor == f)));
  }
  document.querySelectorAll("#floors button").forEach(b =>
    b.addEventListener("click", () => showFloor(b.dataset.floor)));
  window.stackMapFloor = showFloor;
  function where(i) {
    const l = D.locs[D.loc[i]];
    return floorOf(D.loc[i]) + "range " + D.ranges[l[0]] + ", " + FACES[l[1]] + " face, section " + l[2] +
      ", shelf " + D.shelf[i];
  }
  function book(i) {
    return D.id[i] + (D.call[i] ? " (" + D.call[i] + ")" : "");
  }
  function clear() {
    document.querySelectorAll(".hit, .also, .hit-range").forEach(e =>
      e.classList.remove("hit", "also", "hit-range"));
    document.getElementById("pin").setAttribute("visibility", "hidden");
    hits.replaceChildren();
  }
  function show(i, others) {
    document.querySelectorAll(".hit, .also, .hit-range").forEach(e =>
      e.classList.remove("hit", "also", "hit-range"));
    (others || []).forEach(j => document.getElementById("loc-" + D.loc[j]).classList.add("also"));
    const k = D.loc[i];
    document.getElementById("loc-" + k).classList.add("hit");
    document.getElementById("range-" + D.locs[k][0]).classList.add("hit-range");
    const pin = document.getElementById("pin");
    if (D.floors) {
      showFloor(D.locFloor[k]);
      document.getElementById("loc-" + k).ownerSVGElement.appendChild(pin);
    }
    pin.setAttribute("cx", D.pick[k][0]);
    pin.setAttribute("cy", D.pick[k][1]);
    pin.setAttribute("visibility", "visible");
  }
  function list(found, label) {
    hits.replaceChildren(...found.slice(0, 30).map(i => {
      const li = document.createElement("li"), b = document.createElement("button");
      b.type = "button";
      b.textContent = label(i) + ": " + where(i);
      b.addEventListener("click", () => { show(i, found); answer.textContent = b.textContent; });
      li.appendChild(b);
      return li;
    }));
  }
  function say(text) { answer.textContent = text; }

  function search(raw) {
    const q = norm(raw);
    clear();
    if (!q) { say("Type an item id, a call number or a title word."); return; }
    if (ids.has(q)) { const i = ids.get(q); show(i); say(book(i) + ": " + where(i)); return; }
    const pre = [];
    for (let i = 0; i < named; i++) if (calls[i].startsWith(q)) pre.push(i);
    if (pre.length) {
      show(pre[0], pre);
      say(pre.length === 1 || calls[pre[0]] === q && calls[pre[1]] !== q
        ? book(pre[0]) + ": " + where(pre[0])
        : pre.length + " books from " + D.call[pre[0]] + " to " + D.call[pre[pre.length - 1]] +
          "; the first, " + book(pre[0]) + ": " + where(pre[0]));
      if (pre.length > 1) list(pre, book);
      return;
    }
    if (titleWords) {
      const words = q.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
      const found = [];
      for (let i = 0; i < n && words.length; i++) {
        const t = titleWords[i];
        if (words.every(w => t.some(x => x.startsWith(w)))) found.push(i);
      }
      if (found.length) {
        show(found[0], found);
        const t = i => D.title[i] + " \u00b7 " + book(i);
        say((found.length > 1 ? found.length + " titles; the first, " : "") + t(found[0]) +
            ": " + where(found[0]));
        if (found.length > 1) list(found, t);
        return;
      }
    }
    if (/\d/.test(q) && named && D.ordered === false) {
      // a plan not in call-number order: no shelf is the place of a new call number
      const p = Math.min(placeOf(q), named - 1), near = p > 0 ? [p - 1, p] : [p];
      show(near[0], near);
      say("No book has call number " + raw.trim() + ". This plan is not in call-number " +
          "order, so it has no place for it; the nearest call numbers: " +
          near.map(i => book(i) + ": " + where(i)).join("; "));
      return;
    }
    if (/\d/.test(q) && named) {
      const p = Math.min(placeOf(q), named - 1);
      show(p);
      say("No book has call number " + raw.trim() + "; it would stand by " + book(p) + ": " +
          where(p));
      return;
    }
    say("Nothing found for \u201c" + raw.trim() + "\u201d.");
  }

  document.getElementById("search").addEventListener("submit", ev => {
    ev.preventDefault();
    search(document.getElementById("q").value);
  });
  document.querySelectorAll(".loc").forEach(e => e.addEventListener("click", () => {
    clear();
    e.classList.add("hit");
    say(floorOf(+e.id.slice(4)) + "range " + e.dataset.range + ", " + e.dataset.face + " face, section " +
        e.dataset.section);
  }));
  if (location.hash.startsWith("#q=")) {
    const q = decodeURIComponent(location.hash.slice(3));
    document.getElementById("q").value = q;
    search(q);
  }
  window.stackMapSearch = search;
  window.stackMapCompare = (a, b) => compare(tokens(norm(a)), tokens(norm(b)));
})();
"""
