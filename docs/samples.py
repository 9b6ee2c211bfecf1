"""Regenerate the sample outputs in the docs from real runs on the bundled sample.

Each sample in a Markdown page is a marker and a console block::

    <!-- sample: stats data/loans.csv --top 3 -->
    ```console
    $ shelfplan stats data/loans.csv --top 3
    ...the command's standard output...
    ```

(``sample-stderr:`` shows the run's standard error instead, e.g. the progress of
``fit``). This script runs every marked command, in page order, in a scratch
directory beside a link to ``data/`` (so files one sample writes, e.g.
``layout.json``, serve the next), and rewrites the blocks with what the commands
printed. From the repository root::

    python docs/samples.py            # rewrite docs/cli.md
    python docs/samples.py --check    # exit 1 when a block differs beyond numbers

tests/test_docs_samples.py runs the same commands and checks that each block
matches its real output with every number masked (timings and the solver's last
digits vary between machines; words, method strings and line layout may not).
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "docs" / "cli.md"]
MARKER = re.compile(r"<!-- (sample|sample-stderr): (?P<args>.+?) -->\n```console\n(?P<body>.*?)```",
                    re.S)
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def samples(text: str) -> list[tuple[str, str, str]]:
    """(stream, command arguments, block body) of every sample in a page."""
    return [(m[1], m["args"], m["body"]) for m in MARKER.finditer(text)]


def run_all(pages=PAGES, workdir: Path | None = None) -> dict:
    """Run every sample command once (in page order); ``{args: (stdout, stderr)}``."""
    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(workdir or tmp)
        if not (work / "data").exists():
            (work / "data").symlink_to(ROOT / "data", target_is_directory=True)
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get(
            "PYTHONPATH", ""), COLUMNS="100")
        for page in pages:
            for _, args, _ in samples(page.read_text(encoding="utf-8")):
                if args in out:
                    continue
                r = subprocess.run([sys.executable, "-m", "shelfplan", *shlex.split(args)],
                                   cwd=work, env=env, capture_output=True, text=True,
                                   timeout=600)
                if r.returncode != 0:
                    raise SystemExit(f"sample failed: shelfplan {args}\n{r.stderr}")
                out[args] = (r.stdout, r.stderr)
    return out


def block(stream: str, args: str, result: tuple[str, str]) -> str:
    """The console block's body for one sample."""
    text = result[0] if stream == "sample" else result[1]
    head = f"$ shelfplan {args}\n" if stream == "sample" else ""
    return head + text.rstrip("\n") + "\n"


def masked(text: str) -> str:
    """``text`` with every number replaced by N and runs of spaces by one (what may
    vary between runs: figures, timings, the column widths they set)."""
    return re.sub(r"[ \t]+", " ", NUMBER.sub("N", text))


def stages(text: str) -> set:
    """The masked text before the first ': ' of each line (a progress line's stage)."""
    return {masked(line.split(": ")[0]) for line in text.splitlines() if line.strip()}


def agrees(stream: str, body: str, result: tuple[str, str]) -> bool:
    """Whether a block still tells the truth: standard output equal with numbers
    masked; progress (standard error) naming only stages the run went through
    (how far a timed search gets varies with the machine)."""
    if stream == "sample":
        shown = body.split("\n", 1)[1] if body.startswith("$ ") else body
        return masked(shown) == masked(result[0].rstrip("\n") + "\n")
    return stages(body) <= stages(result[1])


def rewrite(page: Path, results: dict) -> bool:
    """Rewrite the page's blocks; True when anything changed."""
    text = page.read_text(encoding="utf-8")

    def new(m):
        body = block(m[1], m["args"], results[m["args"]])
        return f"<!-- {m[1]}: {m['args']} -->\n```console\n{body}```"
    updated = MARKER.sub(new, text)
    if updated != text:
        page.write_text(updated, encoding="utf-8")
    return updated != text


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="compare (numbers masked) instead of rewriting")
    args = ap.parse_args(argv)
    results = run_all()
    if args.check:
        bad = [(p.name, a) for p in PAGES
               for s, a, body in samples(p.read_text(encoding="utf-8"))
               if not agrees(s, body, results[a])]
        for name, a in bad:
            print(f"{name}: sample differs: shelfplan {a}", file=sys.stderr)
        return 1 if bad else 0
    for page in PAGES:
        if rewrite(page, results):
            print(f"rewrote {page.relative_to(ROOT)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
