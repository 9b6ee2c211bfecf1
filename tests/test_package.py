"""The house: imports point upstream only, no cycles, a public API at the root."""

from __future__ import annotations

import ast
import random
import subprocess
import sys
from pathlib import Path

import pytest

import shelfplan

PACKAGE = Path(shelfplan.__file__).resolve().parent

#: Pipeline order: a module may import from its own rank or a lower one only.
RANKS = {"errors": 0, "ingest": 1, "model": 2, "solve": 3, "layout": 4, "judge": 5,
         "present": 6, "api": 7, "shelf": 7, "pipeline": 7, "moves": 7, "cli": 8, "__init__": 9,
         "__main__": 9}


def modules() -> list[str]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts[-1] != "__main__":      # runs the CLI when imported
            out.append(".".join(parts))
    return out


ALL = set(modules())


def stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports(module: str) -> set[str]:
    """shelfplan modules imported anywhere in ``module`` (lazy imports included)."""
    path = PACKAGE.parent / (module.replace(".", "/") + ".py")
    if not path.exists():
        path = PACKAGE.parent / module.replace(".", "/") / "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith("shelfplan"):
                # "from pkg import submodule" depends on the submodule, not on pkg itself
                subs = {f"{node.module}.{a.name}" for a in node.names} & ALL
                found |= subs or {node.module}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("shelfplan")}
    return found


def test_imports_point_upstream_only():
    wrong = []
    for mod in modules():
        here = RANKS[stage(mod)]
        for dep in imports(mod):
            if dep != "shelfplan" and RANKS[stage(dep)] > here:
                wrong.append(f"{mod} imports {dep}")
    assert not wrong, "downstream imports:\n" + "\n".join(wrong)


def test_no_import_cycle_at_module_level():
    nodes = set(modules())
    graph = {m: {d for d in imports(m) if d in nodes} for m in nodes}
    state: dict[str, int] = {}

    def visit(m, trail):
        state[m] = 1
        for d in graph[m]:
            if state.get(d) == 1:
                raise AssertionError("import cycle: " + " -> ".join(trail + [m, d]))
            if d not in state:
                visit(d, trail + [m])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [])


@pytest.mark.parametrize("seed", [0, 1])
def test_every_module_imports_in_a_fresh_interpreter_in_random_order(seed):
    mods = modules()
    random.Random(seed).shuffle(mods)
    code = "import importlib\n" + "".join(f"importlib.import_module({m!r})\n" for m in mods)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       cwd=PACKAGE.parent)
    assert r.returncode == 0, r.stderr


def test_public_api_at_the_root():
    for name in shelfplan.__all__:
        assert getattr(shelfplan, name) is not None, name
    assert callable(shelfplan.fit) and callable(shelfplan.render)
    with pytest.raises(AttributeError):
        shelfplan.no_such_name  # noqa: B018


def test_modules_are_small():
    sizes = {path.relative_to(PACKAGE.parent).as_posix(): len(path.read_text().splitlines())
             for path in PACKAGE.rglob("*.py")}
    big = {name: n for name, n in sizes.items() if n > 450}
    assert not big, f"modules over ~400 lines: {big}"


def test_library_errors_name_parameters_the_cli_names_flags():
    from shelfplan.errors import LayoutError

    err = LayoutError("`max_moves` must be 0 or more, got -1")
    assert err.for_cli() == "--max-moves must be 0 or more, got -1"
    with pytest.raises(shelfplan.ParameterError,
                       match=r"`max_moves` must be an integer >= 0 \(or not given\), got -1"):
        shelfplan.fit("data/loans.csv", current="x.json", max_moves=-1)
