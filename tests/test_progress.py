"""Issue 22, item 10: a status line (stage, best S, time left) for long fits on a
terminal, from the solver's status calls or its messages, redrawn by a thread;
nothing of it when the stream is not a terminal or with -q."""

from __future__ import annotations

import io
import time

from click.testing import CliRunner

from conftest import DATA, SAMPLE_LOANS
from shelfplan.cli import main
from shelfplan.cli.progress import FitProgress


def test_the_line_follows_the_messages():
    buf = io.StringIO()
    prog = FitProgress(buf, after=0.0, tty=True, time_limit=30.0)
    prog("call-number order: S_walk=10.8065")
    prog("class-based storage (COI): S_walk=10.2397")
    prog("some start: S=9.0000 (not feasible, dropped)")
    assert prog.stage == "some start" and prog.best == 10.2397
    prog("kicks: 5 of 225 kept, S/LB=1.1, S=10.1000")
    assert prog.stage == "kicks" and prog.best == 10.1
    prog("some start: S=9.0000 (not feasible, dropped)")
    line = prog.line()
    assert line.startswith("fit: some start | best S=10.1000 | ") and line.endswith(" s left")
    left = float(line.split("| ")[-1].split()[0])
    assert 0 <= left <= 30


def test_a_thread_redraws_the_line_and_close_clears_it():
    buf = io.StringIO()
    prog = FitProgress(buf, after=0.0, tty=True, time_limit=60.0, interval=0.01).start()
    prog("popularity start: S=1.6487")
    for _ in range(500):                       # until the thread has drawn (no timing asserted)
        if "\rfit: popularity start | best S=1.6487" in buf.getvalue():
            break
        time.sleep(0.01)
    prog.close()
    text = buf.getvalue()
    assert "\rfit: popularity start | best S=1.6487 | " in text
    assert text.endswith("\r")                 # the last write clears the line
    assert prog._thread is None


def test_nothing_but_messages_when_not_a_terminal():
    buf = io.StringIO()
    prog = FitProgress(buf, after=0.0, tty=False, time_limit=5.0, interval=0.01).start()
    prog("spectral start: S=1.5750")
    prog.status("kicks", 1.2, 3.0)
    prog.close()
    assert buf.getvalue() == "spectral start: S=1.5750\n"


def test_fit_quiet_and_piped_stderr_have_no_status_line(tmp_path):
    out = tmp_path / "p.json"
    args = ["fit", str(SAMPLE_LOANS), "--hall", str(DATA / "stacked_hall.json"), "-o",
            str(out), "--time-limit", "3"]
    r = CliRunner().invoke(main, args)               # stderr is not a terminal
    assert r.exit_code == 0, r.output
    assert "\r" not in r.stderr and "S_walk=" in r.stderr
    r = CliRunner().invoke(main, args + ["-q"])
    assert r.exit_code == 0 and r.stderr == ""
