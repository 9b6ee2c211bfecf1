"""walk_jit's kernels as plain, interpreted Python: no compile (MODEL.md 8.3).

Compiling the kernels of :mod:`shelfplan.model.walk_jit` takes seconds of CPU the
first time they run on a machine (numba caches them after that). On a small hall
interpreting them costs less than compiling them, so :mod:`shelfplan.model.walk`
uses this copy when a table has at most :data:`PLAIN_NODES` nodes and the compiled
kernels are not in numba's cache yet (:func:`compiled_ready`): ``shelfplan hall
check`` on the sample hall takes about 1 s of CPU on a fresh install instead of
about 10 s. The copy is walk_jit's own source executed with ``njit`` as the
identity, so both give the same table up to rounding (1e-12; tests/test_walk_plain.py
compares them); floating-point exceptions that compiled code turns into inf or NaN
raise in Python, and then the compiled kernels answer.
"""

from __future__ import annotations

import importlib.util
import os
import types

__all__ = ["kernels", "compiled_ready", "PLAIN_NODES"]

#: tables with at most this many nodes (reflex corners + points) may be interpreted:
#: about 1 s for the sample hall's 92 (36 corners, 56 pick points), growing about
#: quadratically, against about 10 s of CPU to compile the kernels once
PLAIN_NODES = 150

_MODULE: types.ModuleType | None = None


def kernels() -> types.ModuleType:
    """A second instance of :mod:`shelfplan.model.walk_jit` whose kernels are plain
    Python functions (built once)."""
    global _MODULE
    if _MODULE is None:
        spec = importlib.util.find_spec("shelfplan.model.walk_jit")
        module = importlib.util.module_from_spec(spec)
        module.__dict__["PLAIN"] = True
        spec.loader.exec_module(module)
        _MODULE = module
    return _MODULE


def compiled_ready() -> bool:
    """Whether numba's cache already holds the compiled table kernels (then they load
    in a fraction of a second); False when it cannot tell."""
    from shelfplan.model import walk_jit

    try:
        index = walk_jit.visible_pairs._cache._cache_file._index_path
    except AttributeError:           # a numba without these internals
        return False
    return os.path.exists(index)
