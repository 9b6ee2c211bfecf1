"""Counting in DuckDB: from the cleaned rows (:func:`shelfplan.model.engines.duck.clean_rows`)
to :class:`~shelfplan.model.estimates_file.Counts`, with the reader's rules (which rows
drop and why, the undated loans, the session rule, the cap on a session's size, the
period) and MODEL.md sections 1-2 (n_i, c_ij by a self-join per session).
"""

from __future__ import annotations

import logging
import shutil
import tempfile

import numpy as np
import pandas as pd

from shelfplan.errors import LoansError
from shelfplan.ingest import columns as known
from shelfplan.ingest.timestamps import OFFSET, parse_timestamps
from shelfplan.model.engines.duck import MISSING_SQL, MAX_OTHER_TIMES, lit, clean_rows, connect
from shelfplan.model.engines.plan import ReadPlan
from shelfplan.model.estimates_file import Counts

__all__ = ["count_duckdb", "prepare"]

log = logging.getLogger(__name__)
_NO_DAY = -(2 ** 31)


def count_duckdb(plan: ReadPlan, *, until=None, since=None, memory_limit=None,
                 temp_dir=None) -> Counts:
    """The counts of the files of ``plan`` (loans before ``until``, from ``since``)."""
    import duckdb

    own = temp_dir is None
    folder = temp_dir or tempfile.mkdtemp(prefix="shelfplan-duckdb-")
    con = None
    try:
        con = connect(memory_limit, folder)
        roles = clean_rows(con, plan)
        return _count(con, plan, roles, until, since)
    except duckdb.Error as exc:     # a bad row deep in a file, a full disk, a bad limit
        why = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LoansError(f"{plan.name}: the duckdb engine stopped: {why[:300]}; check the "
                         f"files, --memory-limit and the space in --temp-dir") from None
    finally:
        if con is not None:
            con.close()
        if own:
            shutil.rmtree(folder, ignore_errors=True)


def _one(con, sql: str):
    return con.execute(sql).fetchone()[0]


def _types(con, plan, roles, msgs, dropped) -> str:
    """The SQL condition that keeps checkouts (transaction types, as the reader)."""
    if not roles["typ"]:
        return "TRUE"
    col, name = roles["typ"], plan.name
    rows = con.execute("SELECT typ, count(*) FROM c GROUP BY typ ORDER BY min(rowid)").fetchall()
    kinds = {v: known.transaction_kind(v) for v, _ in rows}
    if not any(kinds.values()):
        if "type" in plan.explicit:
            raise LoansError(f"{name}: no value in column {col!r} is a known transaction type "
                             f"(e.g. {rows[0][0]!r}); expected checkout codes like issue, o or "
                             f"checkedout")
        return "TRUE"
    keep = [v for v, k in kinds.items() if k == "checkout"]
    if not keep:
        raise LoansError(f"{name}: no checkouts in column {col!r} (found: "
                         f"{', '.join(repr(v) for v, _ in rows[:5])}); shelfplan needs "
                         f"checkout rows")
    for v, n in rows:
        kind = kinds[v]
        if kind != "checkout":
            key = kind or "unknown type"
            dropped[key] = dropped.get(key, 0) + int(n)
    return "typ IN (" + ", ".join(lit(v) for v in keep) + ")"


def _bad_ids(roles) -> str:
    """SQL: rows with an empty or missing id (dropped with a warning)."""
    key = "s" if roles["s"] else "p" if roles["p"] else None
    return f"({_missing('item')}" + (f" OR {_missing(key)})" if key else ")")


def _missing(x: str) -> str:
    """SQL: ``x`` is a missing-id marker (only short values are lowered: it is slow)."""
    return f"(length({x}) <= 5 AND lower({x}) IN {MISSING_SQL})"


_RAW_EMPTY = f"(tn IS NULL AND (tt IS NULL OR {_missing('tt')}))"
#: SQL: a timestamp as pandas' ISO 8601 parser reads it, offsets dropped (wall clock kept)
_RAW_ISO = (f"(CASE WHEN tn IS NOT NULL THEN tn WHEN tt LIKE '%Z' OR tt LIKE '%UTC' OR tt LIKE "
        f"'%GMT' OR regexp_matches(right(tt, 6), '[+-][0-9]') THEN TRY_CAST(regexp_replace("
        f"tt, {lit(OFFSET)}, '\\1') AS TIMESTAMP) ELSE TRY_CAST(tt AS TIMESTAMP) END)")


_EMPTY, _ISO = "empty", "ti"


def _materialise(con) -> None:
    """One pass over the files: the table ``c`` of cleaned rows, each timestamp read as
    ISO 8601 (``ti``; the text ``tt`` kept only where that fails), ``empty`` for none."""
    con.execute(f"CREATE TEMP TABLE c AS SELECT p, s, item, typ, cat, ti, empty, CASE WHEN "
                f"NOT empty AND ti IS NULL THEN tt END AS tt FROM (SELECT *, {_RAW_ISO} AS "
                f"ti, {_RAW_EMPTY} AS empty FROM raw)")


def _stats(con, keep: str, bad: str) -> dict:
    """One pass: rows read, rows with a bad id, dated rows, rows DuckDB cannot parse."""
    ok = f"{keep} AND NOT {bad}"
    row = con.execute(f"SELECT count(*), count(*) FILTER ({keep} AND {bad}), count(*) FILTER "
                      f"({ok} AND NOT {_EMPTY}), count(*) FILTER ({ok} AND NOT {_EMPTY} AND "
                      f"{_ISO} IS NULL), count(*) FILTER ({ok} AND {_EMPTY}) FROM c"
                      ).fetchone()
    return dict(zip(("read", "bad_id", "dated", "other", "undated"), row))


def _times(con, plan, roles, ok, stats, msgs, dropped):
    """(SQL of each row's timestamp or None without dates, condition of rows with an
    unparsable one). Text that DuckDB does not read as ISO 8601 goes, one distinct
    value at a time, through the pandas reader's parser (day/month order and all)."""
    col, name = roles["tt"], plan.name
    if not col:
        return None, "FALSE"
    if not stats["dated"]:
        msgs.append(f"{name}: column {col!r} is empty in all rows; read as a file without "
                    f"timestamps (one visit per patron)")
        return None, "FALSE"
    t = _ISO
    if stats["other"]:
        other = con.execute(f"SELECT DISTINCT tt FROM c WHERE {ok} AND NOT {_EMPTY} AND "
                            f"{_ISO} IS NULL LIMIT {MAX_OTHER_TIMES + 1}").fetchall()
        if len(other) > MAX_OTHER_TIMES:
            raise LoansError(f"{name}: more than {MAX_OTHER_TIMES} distinct timestamps in "
                             f"{col!r} are not ISO 8601 (e.g. {other[0][0]!r}); export ISO "
                             f"8601 like 2024-03-01T10:15:00, or use the pandas engine")
        values = [v for (v,) in other]
        lead = [r[0] for r in con.execute(
            f"SELECT strftime({_ISO}, '%Y-%m-%dT%H:%M:%S') FROM c WHERE {ok} AND "
            f"{_ISO} IS NOT NULL LIMIT 1").fetchall()]
        parsed = parse_timestamps(pd.Series(lead + values, dtype=object),
                                  dayfirst=plan.opts.dayfirst, name=name, col=col)
        con.register("tmap_df", pd.DataFrame({"tt": values, "t2": parsed[len(lead):]}))
        con.execute("CREATE TEMP TABLE tmap AS SELECT tt, t2 FROM tmap_df WHERE t2 IS NOT NULL")
        k = stats["other"] - _one(con, f"SELECT count(*) FROM c SEMI JOIN tmap USING (tt) "
                                       f"WHERE {ok} AND NOT {_EMPTY} AND {_ISO} IS NULL")
        t = f"coalesce({_ISO}, (SELECT t2 FROM tmap WHERE tmap.tt = c.tt))"
        if k:
            shown = next(v for v, x in zip(values, parsed[len(lead):]) if pd.isna(x))
            if k == stats["dated"]:
                raise LoansError(f"{name}: no value in column {col!r} is a timestamp (e.g. "
                                 f"{shown!r}); use ISO 8601 like 2024-03-01T10:15:00, or "
                                 f"`time_col` for another column")
            msgs.append(f"{name}: dropped {k} rows with an unparsable timestamp, e.g. "
                        f"{shown!r}")
            dropped["bad timestamp"] = int(k)
    if stats["undated"]:
        how = ("their visits come from the session column" if roles["s"]
               else "one undated visit per patron")
        msgs.append(f"{name}: {stats['undated']} loans have an empty timestamp in {col!r}; "
                    f"kept as undated loans, {how}")
    return f"(CASE WHEN {_EMPTY} THEN NULL ELSE {t} END)", f"(NOT {_EMPTY} AND {t} IS NULL)"


def prepare(con, plan: ReadPlan, roles) -> dict:
    """The reader's rules in SQL over the table ``c``: which rows stay (``where``), each
    row's visit ``key`` and ``day`` and timestamp ``t`` (SQL), the session ``rule``,
    rows read, rows dropped by reason, and the warnings (``msgs``)."""
    name, msgs, dropped = plan.name, [], {}
    _materialise(con)
    keep = _types(con, plan, roles, msgs, dropped)
    bad = _bad_ids(roles)
    stats = _stats(con, keep, bad)
    if not stats["read"]:
        raise LoansError(f"{name}: has a header but no loans; export the rows too")
    if stats["bad_id"]:
        shown = _one(con, f"SELECT CASE WHEN {_missing('item')} THEN item ELSE "
                          f"{'s' if roles['s'] else 'p'} END FROM c WHERE {keep} AND {bad} "
                          f"LIMIT 1")
        msgs.append(f"{name}: dropped {stats['bad_id']} rows with an empty or missing id "
                    f"(e.g. {shown!r})")
        dropped["empty id"] = int(stats["bad_id"])
    t, bad_ts = _times(con, plan, roles, f"{keep} AND NOT {bad}", stats, msgs, dropped)
    if roles["s"]:
        key, day = "s", "0"
        rule = f"session column {roles['s']!r}"
    elif t:
        key = "p"
        day = (f"coalesce(CAST(date_diff('day', DATE '1970-01-01', CAST({t} AS DATE)) AS "
               f"INTEGER), {_NO_DAY})")
        rule = "patron + calendar date"
    else:
        key, day = "p", "0"
        rule = "patron (no timestamps)" if roles["tt"] else "patron (no timestamp column)"
    return {"where": f"{keep} AND NOT {bad} AND NOT {bad_ts}", "key": key, "day": day,
            "t": t, "rule": rule, "read": int(stats["read"]), "dropped": dropped,
            "msgs": msgs}


def _count(con, plan: ReadPlan, roles, until, since) -> Counts:
    name = plan.name
    prep = prepare(con, plan, roles)
    where, t, msgs, dropped = prep["where"], prep["t"], prep["msgs"], prep["dropped"]
    cap = int(plan.opts.max_session_items or 0)
    extra = [f"{t} AS t"] if t and (until is not None or since is not None) else []
    extra += ["cat"] if roles["cat"] else []
    key = prep["key"]
    extra += ["kn"] if key == "p" and cap else []
    extra += ["p"] if key == "s" and roles["p"] and cap else []
    con.execute(f"CREATE TEMP TABLE it AS SELECT item, CAST(row_number() OVER (ORDER BY item) "
                f"- 1 AS INTEGER) AS code FROM (SELECT DISTINCT item FROM c WHERE {where})")
    # the visit keys (patrons or session ids) numbered; a session is (number, day) packed
    # into one exact integer: number * 2^32 + day + 2^31
    con.execute(f"CREATE TEMP TABLE kc AS SELECT kv, CAST(row_number() OVER () AS BIGINT) AS kn "
                f"FROM (SELECT DISTINCT {key} AS kv FROM c WHERE {where})")
    con.execute(f"CREATE TEMP TABLE r AS SELECT kn * 4294967296 + ({prep['day']} + "
                f"2147483648) AS sid, code, {', '.join(extra + ['1 AS one'])} FROM c JOIN it "
                f"USING (item) JOIN kc ON c.{key} = kc.kv WHERE {where}")
    _need_rows(con, name)
    _cap(con, plan, cap, msgs, dropped)
    n_patrons = None
    if key == "p":
        n_patrons = _one(con, "SELECT count(DISTINCT kn) FROM r" if cap else
                         "SELECT count(*) FROM kc")
    elif roles["p"]:
        n_patrons = _one(con, "SELECT count(*) FROM (SELECT DISTINCT p FROM "
                         + ("r)" if cap else f"c WHERE {where})"))
    has_category = bool(roles["cat"]) and bool(_one(con, "SELECT count(cat) FROM r"))
    if plan.level == "category" and not has_category:
        raise LoansError(f"{name}: `level` category needs categories, but column "
                         f"{roles['cat']!r} is empty; name another with `category_col`")
    for text in msgs:
        log.warning("%s", text)
    _period(con, name, bool(t), until, since)
    return _tally(con, plan, prep["rule"], prep["read"], dropped, n_patrons, has_category)


def _cap(con, plan, cap: int, msgs, dropped) -> None:
    """Drop sessions with more than ``cap`` distinct items (as the reader's cap)."""
    if not cap:
        return
    con.execute(f"CREATE TEMP TABLE big AS SELECT sid FROM r GROUP BY sid "
                f"HAVING count(DISTINCT code) > {cap}")
    k_sessions = _one(con, "SELECT count(*) FROM big")
    if not k_sessions:
        return
    k_rows = _one(con, "SELECT count(*) FROM r SEMI JOIN big USING (sid)")
    con.execute("DELETE FROM r WHERE sid IN (SELECT sid FROM big)")
    dropped[f"session over {cap} items"] = int(k_rows)
    msgs.append(f"{plan.name}: dropped {k_sessions} sessions with more than {cap} items "
                f"({k_rows} loans; bulk or staff checkouts?); without --max-session-items "
                f"every session is kept")
    _need_rows(con, plan.name)


def _need_rows(con, name: str) -> None:
    """One clear error when no loan of ``r`` is left."""
    if not _one(con, "SELECT count(*) FROM r"):
        raise LoansError(f"{name}: no usable loans left after dropping bad rows; check the "
                         f"id and timestamp columns")


def _period(con, name, dated: bool, until, since) -> None:
    """Keep loans before ``until`` and from ``since`` (as :func:`filter_until`)."""
    if until is None and since is None:
        return
    if not dated:
        raise LoansError(f"{name}: `until`/`since` need a timestamp column")
    cond = []
    if until is not None:
        cond.append(f"t < CAST({lit(str(pd.Timestamp(until)))} AS TIMESTAMP)")
    if since is not None:
        cond.append(f"t >= CAST({lit(str(pd.Timestamp(since)))} AS TIMESTAMP)")
    lo, hi = con.execute("SELECT min(t), max(t) FROM r").fetchone()
    con.execute(f"DELETE FROM r WHERE NOT ({' AND '.join(cond)}) OR t IS NULL")
    if not _one(con, "SELECT count(*) FROM r"):
        raise LoansError(f"{name}: no loans left in the date range (loans span "
                         f"{lo:%Y-%m-%d} to {hi:%Y-%m-%d}); choose a date inside it")


def _tally(con, plan, rule, n_read, dropped, n_patrons, has_category) -> Counts:
    con.execute("CREATE TEMP TABLE si AS SELECT DISTINCT sid, code FROM r")
    items = np.asarray(con.execute("SELECT item FROM it ORDER BY code").fetchnumpy()["item"],
                       dtype=object)
    loans, n_si = con.execute("SELECT (SELECT count(*) FROM r), (SELECT count(*) FROM si)"
                              ).fetchone()
    got = con.execute("SELECT code, count(*) AS n FROM si GROUP BY code").fetchnumpy()
    counts = np.zeros(len(items), dtype=np.int64)
    counts[got["code"]] = got["n"]
    sessions, multi = con.execute("SELECT count(*), count(*) FILTER (m >= 2) FROM "
                                  "(SELECT sid, count(*) AS m FROM si GROUP BY sid)").fetchone()
    pairs = con.execute("SELECT a.code AS i, b.code AS j, count(*) AS c FROM si a JOIN si b "
                        "ON a.sid = b.sid AND a.code < b.code GROUP BY a.code, b.code "
                        "ORDER BY i, j").fetchnumpy()
    categories = None
    if has_category:
        got = con.execute("SELECT code, cat FROM (SELECT code, cat, row_number() OVER "
                          "(PARTITION BY code ORDER BY count(*) DESC, cat) AS o FROM r "
                          "WHERE cat IS NOT NULL GROUP BY code, cat) WHERE o = 1").fetchnumpy()
        categories = np.full(len(items), None, dtype=object)
        categories[got["code"]] = np.asarray(got["cat"], dtype=object)
    # items only in sessions dropped by the cap or the period go; the order stays sorted
    used = counts > 0
    new = np.cumsum(used) - 1
    summary = {"source": plan.name, "rows_read": int(n_read), "loans": int(loans),
               "duplicate_loans": int(loans - n_si), "dropped_rows": dropped,
               "sessions": int(sessions), "items": int(used.sum()),
               "patrons": None if n_patrons is None else int(n_patrons),
               "session_rule": rule, "multi_item_sessions": int(multi)}
    return Counts(items=items[used], counts=counts[used],
                  pair_i=new[np.asarray(pairs["i"], dtype=np.int64)].astype(np.int32),
                  pair_j=new[np.asarray(pairs["j"], dtype=np.int64)].astype(np.int32),
                  pair_c=np.asarray(pairs["c"], dtype=np.int64),
                  categories=None if categories is None else categories[used],
                  summary=summary, meta={})
