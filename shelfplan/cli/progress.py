"""The progress of a long fit on stderr (issue 22, item 10).

:class:`FitProgress` is the solver's ``progress`` callback: every one-line
message goes to stderr as before, and on a terminal a status line is redrawn in
place, ``fit: <stage> | best S=<best so far> | <seconds> s left``, once the run
has taken more than ``after`` seconds. The stage and the best S come from the
solver's ``status(stage, best, seconds_left)`` calls where it makes them (the
free-space solver, :meth:`shelfplan.solve.record.Record.tick`) and otherwise
from its messages (``<stage>: S=1.2345``, ``S_walk=`` for shelving plans); a
background thread redraws the line twice a second, so it stays live while a
compiled kernel runs. Not a terminal (a pipe, a log file) or ``-q``: no status
line, the messages only.
"""

from __future__ import annotations

import math
import re
import sys
import threading
import time

import click

__all__ = ["FitProgress"]

#: "<stage>: S=1.2345", "<stage>: S_walk=10.8", "<stage>: 5 of 225 kept, S=5.1345"
_MESSAGE = re.compile(r"^(?P<stage>[^:]{1,80}):.*?(?<![\w/])(?:S_walk|S \+ move cost|S)="
                      r"(?P<S>[0-9.]+)(?P<rest>.*)$")


class FitProgress:
    """Messages on ``stream`` (stderr) and, on a terminal, a status line redrawn in
    place. ``time_limit``: the run's seconds, for the time left until the solver
    reports its own; ``interval``: seconds between redraws by :meth:`start`'s thread."""

    def __init__(self, stream=None, after: float = 2.0, tty: bool | None = None,
                 time_limit: float | None = None, interval: float = 0.5):
        self.stream = stream or sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.tty = bool(isatty and isatty()) if tty is None else tty
        self.t0, self.after, self.width = time.monotonic(), after, 0
        self.stage, self.best = "reading the loans", math.inf
        self.deadline = None if time_limit is None else self.t0 + time_limit
        self.interval = interval
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __call__(self, message: str) -> None:
        with self._lock:
            self._clear()
            click.echo(message, file=self.stream)
            m = _MESSAGE.match(message)
            if m:
                self.stage = m["stage"].strip()
                if "not feasible" not in m["rest"] and "dropped" not in m["rest"]:
                    self.best = min(self.best, float(m["S"]))

    def status(self, stage: str, best: float, left: float) -> None:
        """The solver's own report: stage, best objective so far, seconds left."""
        with self._lock:
            self.stage, self.best = stage, best
            self.deadline = time.monotonic() + left
            self._draw()

    def line(self) -> str:
        shown = f"{self.best:.4f}" if math.isfinite(self.best) else "-"
        text = f"fit: {self.stage} | best S={shown}"
        if self.deadline is not None:
            text += f" | {max(0.0, self.deadline - time.monotonic()):.0f} s left"
        return text

    def _draw(self) -> None:
        if not self.tty or time.monotonic() - self.t0 < self.after:
            return
        line = self.line()
        self.stream.write("\r" + line.ljust(self.width))
        self.stream.flush()
        self.width = len(line)

    def _clear(self) -> None:
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0

    def start(self) -> "FitProgress":
        """On a terminal, redraw the status line every ``interval`` seconds until
        :meth:`close` (a daemon thread); elsewhere nothing."""
        if self.tty and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="shelfplan-progress",
                                            daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            with self._lock:
                self._draw()

    def close(self) -> None:
        """Stop redrawing and clear the status line."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._lock:
            self._clear()
