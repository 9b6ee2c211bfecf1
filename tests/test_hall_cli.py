"""``shelfplan hall check`` through click's CliRunner."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from conftest import SAMPLE_HALL
from shelfplan.cli import main

STACKED = os.path.join(os.path.dirname(SAMPLE_HALL), "stacked_hall.json")


@pytest.fixture
def runner():
    return CliRunner()


def test_check_stacked_sample(runner, tmp_path):
    out = tmp_path / "plan.png"
    result = runner.invoke(main, ["hall", "check", STACKED, "-o", str(out)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "hall 'Sample stacked reading room': 2 obstacles"
    assert lines[1] == "ranges 8  locations 56  slots 3360"
    assert lines[2] == "free floor 249.88 m^2"
    assert lines[3].startswith("longest walk from the entrance 15.23 m (to range 'N' right "
                               "face section 1)")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_check_svg_plan_has_range_labels(runner, tmp_path):
    out = tmp_path / "plan.svg"
    result = runner.invoke(main, ["hall", "check", STACKED, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().lstrip().startswith("<?xml")


def test_check_hall_without_stacks(runner):
    result = runner.invoke(main, ["hall", "check", str(SAMPLE_HALL)])
    assert result.exit_code == 0, result.output
    assert "no stacks" in result.output and "floor 103.04 m^2  lattice sites" in result.output


def test_bad_hall_is_one_line_and_nothing_written(runner, tmp_path):
    with open(STACKED, encoding="utf-8") as fh:
        bad = json.load(fh)
    bad["stacks"][0]["origin"] = [-1.0, 5.0]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    out = tmp_path / "plan.png"
    result = runner.invoke(main, ["hall", "check", str(path), "-o", str(out)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {path}: range 'A-1' (bank 'A'): its footprint leaves the hall's footprint; "
        f"move it inside the room or shorten it"]
    assert not out.exists()


def test_missing_file_and_bad_extension(runner, tmp_path):
    result = runner.invoke(main, ["hall", "check", str(tmp_path / "nope.json")])
    assert result.exit_code == 1 and "no such hall file" in result.output
    result = runner.invoke(main, ["hall", "check", STACKED, "-o", str(tmp_path / "plan.jpg")])
    assert result.exit_code == 2 and "-o/--output must end in .png, .svg or .pdf" in result.output
    assert not (tmp_path / "plan.jpg").exists()
