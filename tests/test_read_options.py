"""ReadOptions: the typed read options (a frozen dataclass that dict callers can still use)."""

from __future__ import annotations

import dataclasses

import pytest

from conftest import FIXTURES, SAMPLE_LOANS
from shelfplan.errors import LayoutError, LoansError, ShelfplanError
from shelfplan.ingest.loans import read_loans
from shelfplan.ingest.options import ReadOptions, level_options

KOHA = FIXTURES / "exports" / "koha_issues.csv"


def test_defaults_say_not_given_and_no_cap():
    opts = ReadOptions()
    assert opts.level is None and opts.max_session_items is None and opts.sheet is None
    assert opts.strict is False and opts.get("scheme") is None


def test_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        ReadOptions().level = "title"


def test_coerce_a_dict_and_overrides():
    opts = ReadOptions.coerce({"level": "title", "strict": True}, strict=False)
    assert isinstance(opts, ReadOptions)
    assert (opts.level, opts.strict) == ("title", False)
    assert ReadOptions.coerce(None) == ReadOptions()
    same = ReadOptions(level="item")
    assert ReadOptions.coerce(same) is same


def test_unknown_key_is_named():
    with pytest.raises(ShelfplanError, match="no option 'max_items'.*known options: patron_col"):
        ReadOptions.coerce({"max_items": 3})
    with pytest.raises(LoansError, match="no option 'colour'"):
        read_loans(KOHA, colour="red")
    with pytest.raises(LoansError, match="read_options must be a ReadOptions or a dict, got list"):
        ReadOptions.coerce(["level"])


def test_a_mapping_for_old_callers():
    opts = ReadOptions(level="title", title_col="biblionumber")
    as_dict = dict(opts)
    assert as_dict["level"] == "title" and len(as_dict) == len(dataclasses.fields(ReadOptions))
    assert "level" in opts and "nope" not in opts
    with pytest.raises(KeyError):
        opts["nope"]
    assert opts.replace(level="item").level == "item" and opts.level == "title"


def test_read_loans_takes_options_a_dict_or_keywords():
    a = read_loans(KOHA, ReadOptions(category_from="callnumber", category_level=2))
    b = read_loans(KOHA, {"category_from": "callnumber", "category_level": 2})
    c = read_loans(KOHA, category_from="callnumber", category_level=2)
    d = read_loans(KOHA, **ReadOptions(category_from="callnumber", category_level=2))
    for x in (b, c, d):
        assert x.table.equals(a.table) and x.columns == a.columns
    assert set(a.table["category"]) == {"000", "510"}    # Dewey divisions


def test_level_options_lives_in_ingest_and_is_re_imported():
    from shelfplan.judge import evaluate

    assert evaluate.level_options is level_options


class _Layout:
    def __init__(self, level, source=None, title_col=None):
        self.level = level
        self.estimation = {"category_source": source, "title_col": title_col}


def test_level_options_fill_in_the_layout_level():
    opts = level_options({"strict": True}, [_Layout("category", {"category_from": "callnumber",
                                                                  "scheme": "dewey",
                                                                  "category_level": 2})])
    assert isinstance(opts, ReadOptions)
    assert (opts.level, opts.category_from, opts.scheme, opts.category_level, opts.strict) == \
        ("category", "callnumber", "dewey", 2, True)
    assert level_options(None, [_Layout("title", title_col="work")]).title_col == "work"
    assert level_options(ReadOptions(level="item")) == ReadOptions(level="item")


def test_level_options_refuse_a_different_level():
    with pytest.raises(LayoutError, match="`level` item was given"):
        level_options({"level": "item"}, [_Layout("title")])
    with pytest.raises(LayoutError, match="`category_level` 1 differs"):
        level_options({"category_level": 1},
                      [_Layout("category", {"category_from": "callnumber", "category_level": 2})])


def test_max_session_items_checked():
    with pytest.raises(LoansError, match=r"`max_session_items` must be 0 or more, got -1"):
        read_loans(SAMPLE_LOANS, max_session_items=-1)
    with pytest.raises(LoansError, match=r"`max_session_items` must be 0 or more, got 'many'"):
        read_loans(SAMPLE_LOANS, max_session_items="many")


def test_library_names_parameters_the_cli_names_flags():
    with pytest.raises(LoansError) as exc:
        read_loans(SAMPLE_LOANS, max_session_items=-1, level="item")
    assert str(exc.value).startswith("`max_session_items` must be 0 or more")
    assert exc.value.for_cli().startswith("--max-session-items must be 0 or more")


def test_exported_at_the_package_root():
    import shelfplan

    assert shelfplan.ReadOptions is ReadOptions
