"""How to read a loans file: :class:`ReadOptions`, the typed form of every read option.

One frozen dataclass replaces the untyped ``read_options`` dict. It is also a
read-only mapping, so code that passes ``read_options`` on with
``read_loans(path, **read_options)`` or looks a key up with ``.get`` keeps
working; :meth:`ReadOptions.coerce` turns a plain dict into one and names an
unknown key. ``None`` in a field means "not given": the reader's default, or
for ``level`` and the category options, what a layout was fitted with
(:func:`level_options`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from shelfplan.errors import LayoutError, LoansError

__all__ = ["ReadOptions", "level_options", "coerce_options"]


@dataclass(frozen=True)
class ReadOptions(Mapping):
    """Every option of :func:`shelfplan.ingest.loans.read_loans` (docs/ingest.md).

    Column names left ``None`` are found by name. ``max_session_items``
    ``None`` or 0 keeps every session (MODEL.md); ``sheet`` picks the sheet
    of an Excel workbook (default: the first).
    """

    patron_col: str | None = None
    item_col: str | None = None
    time_col: str | None = None
    category_col: str | None = None
    session_col: str | None = None
    clock_col: str | None = None
    type_col: str | None = None
    branch_col: str | None = None
    title_col: str | None = None
    strict: bool = False
    encoding: str | None = None
    dayfirst: bool | None = None
    session_gap: object = None            # a pandas Timedelta or a string like "30min"
    max_session_items: int | None = None
    category_from: str | None = None      # "column" or "callnumber"
    scheme: str | None = None             # "auto", "dewey", "lcc", "sudoc", "udc"
    prefix_order: str | tuple | None = None  # shelving prefixes in filing order: "REF,FOLIO,-"
    category_level: int | None = None
    level: str | None = None              # "item", "title", "category"
    hash_patrons: bool = False
    patron_salt: str | None = None
    sheet: str | None = None
    progress: Callable[[int, int], None] | None = None

    # -- a read-only mapping of every field (for ``**options`` and ``.get``)
    def __getitem__(self, key: str):
        if key not in _FIELDS:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self):
        return iter(_FIELDS)

    def __len__(self) -> int:
        return len(_FIELDS)

    @classmethod
    def coerce(cls, obj=None, **overrides) -> ReadOptions:
        """``obj`` (``None``, a dict or a ReadOptions) with ``overrides`` on top; an
        unknown key is an error that names it."""
        return coerce_options(cls, obj, overrides, LoansError, "read_options")

    def replace(self, **changes) -> ReadOptions:
        """A copy with ``changes`` (unknown keys are an error)."""
        return ReadOptions.coerce(self, **changes)


def coerce_options(cls, obj, overrides: dict, error: type, what: str):
    """An options dataclass ``cls`` from ``obj`` (None, a dict or a ``cls``) with
    ``overrides`` on top; an unknown name raises ``error`` naming it (``what``: how
    the caller calls the options). Shared by :class:`ReadOptions` and
    :class:`shelfplan.solve.options.FitOptions`."""
    names = tuple(f.name for f in dataclasses.fields(cls))
    if obj is None:
        given: dict = {}
    elif isinstance(obj, cls):
        if not overrides:
            return obj
        given = {k: getattr(obj, k) for k in names}
    elif isinstance(obj, Mapping):
        given = dict(obj)
    else:
        raise error(f"{what} must be a {cls.__name__} or a dict, got {type(obj).__name__}; "
                    f"pass {cls.__name__}(...)")
    given.update(overrides)
    unknown = sorted(k for k in given if k not in names)
    if unknown:
        raise error(f"{what} has no option {unknown[0]!r}; known options: {', '.join(names)}")
    return cls(**given)


_FIELDS = tuple(f.name for f in dataclasses.fields(ReadOptions))


def level_options(read_options, layouts=()) -> ReadOptions:
    """``read_options`` completed with the level (and category source) of ``layouts``."""
    opts = dict(ReadOptions.coerce(read_options))
    layouts = list(layouts)
    if not layouts:
        return ReadOptions(**opts)
    levels = sorted({lay.level for lay in layouts})
    if len(levels) > 1:
        raise LayoutError(f"the layouts place different units ({' and '.join(levels)}); "
                          f"compare layouts fitted at one `level`")
    level = levels[0]
    if opts.get("level") is None:
        opts["level"] = level
    elif opts["level"] != level:
        raise LayoutError(f"the layout places {level!r} units but `level` {opts['level']} was "
                          f"given; drop `level` or use `level` {level}")
    if level == "category":
        _category_source(opts, layouts)
    if level == "title" and opts.get("title_col") is None:
        title_col = layouts[0].estimation.get("title_col")
        if title_col:
            opts["title_col"] = title_col
    return ReadOptions(**opts)


def _category_source(opts: dict, layouts) -> None:
    """Fill in the category options the category layouts were fitted with."""
    sources = [lay.estimation.get("category_source") or {} for lay in layouts]
    if any(src != sources[0] for src in sources[1:]):
        raise LayoutError(f"the layouts' categories were made differently "
                          f"({sources[0]} and "
                          f"{next(x for x in sources if x != sources[0])}); compare "
                          f"category layouts fitted with the same category options")
    for key, value in sources[0].items():
        given = opts.get(key)
        if given is None or (key == "scheme" and given == "auto"):
            opts[key] = value
        elif given != value:
            opt = f"`{key}`"
            raise LayoutError(f"{opt} {given} differs from the layout's categories "
                              f"({opt} {value}); drop {opt}, or fit the layout with it")
