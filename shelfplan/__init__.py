"""shelfplan: place library books so that visits are short walks.

The public API, one call per job (each command of the CLI is one of these)::

    import shelfplan
    layout = shelfplan.fit("data/loans.csv", hall="data/hall.json", seed=0)
    shelfplan.write_layout(layout, "layout.json")
    shelfplan.render(layout, "plan.png")

The pipeline, one subpackage per stage (imports point upstream only):
``ingest`` (loans files) -> ``model`` (estimates, hall, problem, objective,
bound) -> ``solve`` (starts, continuous solver, search core, baselines) ->
``layout`` (the layout file) -> ``judge`` (evaluate, compare) and ``present``
(figures, HTML, report) -> ``api`` -> ``cli``.

Names are loaded on first use, so ``import shelfplan`` stays cheap.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: public name -> module that defines it
_EXPORTS = {
    "fit": "shelfplan.api",
    "FitOptions": "shelfplan.solve.options",
    "solve": "shelfplan.solve.solver",
    "baseline": "shelfplan.api",
    "evaluate": "shelfplan.judge.evaluate",
    "compare": "shelfplan.judge.compare",
    "import_positions": "shelfplan.judge.current",
    "read_loans": "shelfplan.ingest.loans",
    "shelf_ranks": "shelfplan.ingest.callsort",
    "call_number_scheme": "shelfplan.ingest.callsort",
    "Loans": "shelfplan.ingest.loans",
    "ReadOptions": "shelfplan.ingest.options",
    "estimate_to_file": "shelfplan.model.engines",
    "count_loans": "shelfplan.model.engines",
    "read_estimates": "shelfplan.model.estimate",
    "load_hall": "shelfplan.model.hall",
    "Hall": "shelfplan.model.hall",
    "Layout": "shelfplan.layout",
    "read_layout": "shelfplan.layout",
    "write_layout": "shelfplan.layout",
    "render": "shelfplan.present.render",
    "ShelfplanError": "shelfplan.errors",
    "LoansError": "shelfplan.errors",
    "HallError": "shelfplan.errors",
    "LayoutError": "shelfplan.errors",
    "ParameterError": "shelfplan.errors",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'shelfplan' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
