"""Issue 22, item 3: every numeric option of every command declares its range, and an
out-of-range value is a usage error (exit 2) naming the option."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from conftest import SAMPLE_HALL, TINY_LOANS
from shelfplan.cli import main

#: fit's numeric options are validated by its options object (FitOptions) as well;
#: they are listed here so that the range test does not depend on how fit declares them.
FIT_VALIDATED = {"seed", "time_limit", "kicks", "move_cost", "max_moves", "shrink_category",
                 "shrink_neighbours", "shrink_popularity", "tune_time", "tune_folds",
                 "display_books"}


def all_commands(group=main, prefix=()):
    for name, cmd in sorted(group.commands.items()):
        path = prefix + (name,)
        if isinstance(cmd, click.Group):
            yield from all_commands(cmd, path)
        else:
            yield " ".join(path), cmd


def numeric_options(cmd):
    for p in cmd.params:
        if isinstance(p.type, (click.types.IntParamType, click.types.FloatParamType)):
            yield p


def test_the_walk_finds_the_commands():
    names = dict(all_commands())
    assert {"fit", "compare", "render", "hall check", "signs"} <= set(names)
    assert any(True for _ in numeric_options(names["render"]))


@pytest.mark.parametrize("name,cmd", list(all_commands()), ids=lambda v: str(v)[:30])
def test_every_numeric_option_declares_a_range(name, cmd):
    for p in numeric_options(cmd):
        if name == "fit" and p.name in FIT_VALIDATED:
            continue
        assert isinstance(p.type, (click.IntRange, click.FloatRange)), (name, p.name)
        assert p.type.min is not None or p.type.max is not None, (name, p.name)


@pytest.mark.parametrize("value", ["0", "-5"])
def test_fit_time_limit_must_be_positive(tmp_path, value):
    out = tmp_path / "x.json"
    r = CliRunner().invoke(main, ["fit", str(TINY_LOANS), "-o", str(out), "--time-limit", value])
    assert r.exit_code == 2, r.output
    assert "--time-limit" in r.stderr
    assert not out.exists()


@pytest.mark.parametrize("args,flag", [
    (["baseline", "random", str(TINY_LOANS), "-o", "{out}", "--seed", "-1"], "--seed"),
    (["stats", str(TINY_LOANS), "--top", "-2"], "--top"),
    (["render", "{out}", "-o", "{out}.png", "--elev", "120"], "--elev"),
    (["compare", "{out}", "{out}", "--loans", str(TINY_LOANS), "--move-tol", "-1"], "--move-tol"),
    (["fit", str(TINY_LOANS), "-o", "{out}", "--hall", str(SAMPLE_HALL), "--seed", "-3"],
     "--seed"),
])
def test_out_of_range_values_are_usage_errors(tmp_path, args, flag):
    out = tmp_path / "x.json"
    r = CliRunner().invoke(main, [a.replace("{out}", str(out)) for a in args])
    assert r.exit_code == 2, r.output
    assert flag in r.stderr
    assert not out.exists()
