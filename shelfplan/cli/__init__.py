"""The command line: a thin Click layer over the library (:mod:`shelfplan.api`, ...).

Only the ``shelfplan.cli`` package imports click. :mod:`shelfplan.cli.options`
holds the group and the shared options; each command module registers its
commands on :data:`main` (``core``: fit, baseline, stats; ``evaluate``:
evaluate, compare, import-positions, report; ``render``). Library errors
become one-line messages with exit status 1; nothing is written on error.
"""

from shelfplan.cli.options import main, setup_logging, summary  # noqa: F401
from shelfplan.cli import core, estimate, evaluate, hall, moves, render, shelving  # noqa: E402,F401  (register the commands)

__all__ = ["main"]
