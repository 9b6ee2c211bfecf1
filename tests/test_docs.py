"""The examples in README.md run as written (on the bundled sample)."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import DATA, ROOT


def python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_python_example_runs(tmp_path):
    blocks = python_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    assert blocks, "README.md has no Python example"
    (tmp_path / "data").symlink_to(DATA, target_is_directory=True)
    for code in blocks:
        r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                           text=True, timeout=300)
        assert r.returncode == 0, r.stderr
    assert (tmp_path / "layout.json").exists()
