"""Make the figures of docs/render.md from the bundled sample, with the command line.

From the repository root::

    python docs/figures.py

runs, in a scratch directory beside a link to ``data/``:

* a fit on the sample hall (``--time-limit 10``) and today's call-number
  shelving, ``render`` of the fit (``docs/img/sample_plan.png``: the 3D view and
  the floor plan with its zoom inset) and its floor plan alone
  (``docs/img/sample_zoom.png``), ``compare`` of the two
  (``docs/img/compare_free.png``: flows between grid cells);
* today's shelving plan and a free plan on the stacked hall with the sample
  holdings, ``render`` of the free plan (``docs/img/sample_shelving.png``) and
  ``compare`` of the two (``docs/img/compare_stacked.png``: the stacks, flows
  between ranges with their counts);
* with Chromium installed, a screenshot of the HTML view of the fit
  (``docs/img/sample_plan_html.png``).

The fits are timed, so numbers move a little from run to run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMG = ROOT / "docs" / "img"
CHROMIUM = "/usr/bin/chromium"

COMMANDS = [
    "fit data/loans.csv --hall data/hall.json --time-limit 10 -o layout.json -q",
    "baseline callnumber data/loans.csv --hall data/hall.json -o current.json -q",
    f"render layout.json -o {IMG}/sample_plan.png --edges 40 --dpi 110 -q",
    f"render layout.json -o {IMG}/sample_zoom.png --view top --dpi 110 -q",
    f"compare current.json layout.json --loans data/loans.csv -o {IMG}/compare_free.png -q",
    "baseline callnumber data/loans.csv --hall data/stacked_hall.json "
    "--holdings data/holdings.csv -o today.json -q",
    "fit data/loans.csv --hall data/stacked_hall.json --holdings data/holdings.csv "
    "--time-limit 10 -o plan.json -q",
    f"render plan.json -o {IMG}/sample_shelving.png --dpi 110 -q",
    f"compare today.json plan.json --loans data/loans.csv -o {IMG}/compare_stacked.png -q",
    "render layout.json -o plan.html -q",
]


def main() -> int:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "data").symlink_to(ROOT / "data", target_is_directory=True)
        for cmd in COMMANDS:
            print(f"shelfplan {cmd}", file=sys.stderr)
            subprocess.run([sys.executable, "-m", "shelfplan", *cmd.split()], cwd=work,
                           env=env, check=True, stdout=subprocess.DEVNULL)
        if os.path.exists(CHROMIUM):
            shot = work / "shot.png"
            subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                            "--enable-unsafe-swiftshader", "--use-angle=swiftshader",
                            f"--user-data-dir={work / 'profile'}", f"--screenshot={shot}",
                            "--window-size=1400,900", "--virtual-time-budget=15000",
                            (work / "plan.html").as_uri()], check=True,
                           capture_output=True, timeout=300)
            shutil.copyfile(shot, IMG / "sample_plan_html.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
