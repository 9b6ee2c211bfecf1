"""The default engine: DuckDB, out of core with bounded memory (reading; the counting
is in :mod:`shelfplan.model.engines.tally`).

The files are read by DuckDB (CSV and gzip CSV as text, Parquet with its own
types; Excel through pandas), cleaned as the pandas reader cleans them (ids
stripped, missing ids and unparsable timestamps dropped, checkouts kept by
transaction type), and counted in SQL: sessions (patron + calendar date, the
session column, or the patron), the distinct (session, item) pairs, n_i and
c_ij by a self-join per session. Past ``memory_limit`` DuckDB spills to a
temporary folder, so memory stays bounded whatever the input size
(docs/scale.md has the measurements).
"""

from __future__ import annotations



from shelfplan.errors import LoansError
from shelfplan.ingest.rows import MISSING_IDS
from shelfplan.ingest.tables import read_excel
from shelfplan.ingest.source import Source
from shelfplan.model.engines.plan import WHITESPACE, ReadPlan

__all__ = ["MEMORY_LIMIT", "MISSING_SQL", "lit", "MAX_OTHER_TIMES", "connect", "clean_rows"]


#: DuckDB's memory limit; beyond it, it spills to disk
MEMORY_LIMIT = "1500MB"
#: distinct timestamps that are not ISO 8601 which are parsed by the pandas rules
MAX_OTHER_TIMES = 1_000_000
MISSING_SQL = "(" + ", ".join(f"'{m}'" for m in sorted(MISSING_IDS)) + ")"
_NATIVE_TIME = ("TIMESTAMP", "DATE", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S")


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _clean(expr: str) -> str:
    """SQL: the value as text, stripped as Python strips (the full trim only where an
    end is whitespace: it is slow), a missing value as ''."""
    x, ws = f"coalesce(CAST({expr} AS VARCHAR), '')", lit(WHITESPACE)
    return (f"(CASE WHEN contains({ws}, left({x}, 1)) OR contains({ws}, right({x}, 1)) "
            f"THEN trim({x}, {ws}) ELSE {x} END)")


def connect(memory_limit: str | None = None, temp_dir: str | None = None, threads=None):
    """A DuckDB connection with a memory limit and a spill folder."""
    try:
        import duckdb
    except ImportError:     # pragma: no cover - a core dependency
        raise LoansError("the duckdb engine needs duckdb; pip install duckdb") from None
    con = duckdb.connect()
    con.execute(f"SET memory_limit={lit(memory_limit or MEMORY_LIMIT)}")
    con.execute(f"SET temp_directory={lit(temp_dir)}" if temp_dir else "SELECT 1")
    con.execute("SET preserve_insertion_order=false")
    con.execute("SET enable_progress_bar=false")     # stdout is for data
    con.execute("SET TimeZone='UTC'")
    if threads:
        con.execute(f"SET threads={int(threads)}")
    return con


def _relation(con, f, k: int) -> tuple[str, dict]:
    """(SQL of file ``f``'s rows, column -> its DuckDB type)."""
    if f.kind == "parquet":
        sql = f"SELECT * FROM read_parquet({lit(f.path)})"
    elif f.kind == "excel":
        con.register(f"excel_{k}", read_excel(Source(f.path), None))
        sql = f"SELECT * FROM excel_{k}"
    else:
        cols = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(f.columns))) + "}"
        sql = (f"SELECT * FROM read_csv({lit(f.path)}, delim={lit(f.delimiter)}, "
               f"header=true, quote='\"', escape='\"', columns={cols}, auto_detect=false, "
               f"null_padding=true, compression={lit('gzip' if f.kind == 'gzip' else 'none')})")
    try:
        described = con.execute(f"DESCRIBE {sql}").fetchall()
    except Exception as exc:
        raise LoansError(f"{f.path}: cannot be read ({str(exc).splitlines()[0]}); check the "
                         f"file") from None
    names = [r[0] for r in described]
    if f.kind in ("csv", "gzip"):    # by position: the header as the reader stripped it
        rename = dict(zip(f.columns, names))
    else:
        rename = {str(n).strip(): n for n in names}
    types = {c: str(t) for c, t in zip(names, (r[1] for r in described))}
    return sql, {c: (rename[c], types[rename[c]]) for c in f.columns if c in rename}


def clean_rows(con, plan: ReadPlan) -> dict:
    """Create the view ``raw`` (one row per row read: patron ``p``, visit key
    ``s``, unit ``item``, native time ``tn``, time text ``tt``, category ``cat``,
    type ``typ``) and return the chosen columns' roles."""
    ch = plan.chosen
    roles = {"p": ch.get("patron"), "s": ch.get("session"), "item": plan.unit_col,
             "tt": ch.get("time"), "cat": ch.get("category"), "typ": ch.get("type")}
    parts = []
    for k, f in enumerate(plan.files):
        sql, cols = _relation(con, f, k)
        sel = []
        for alias in ("p", "s", "item", "typ"):
            col = roles[alias]
            sel.append(f"{_clean(_q(cols[col][0]))} AS {alias}" if col else f"NULL AS {alias}")
        cat = roles["cat"]
        sel.append(f"nullif({_clean('trim(' + _clean(_q(cols[cat][0])) + ', chr(34))')}, '') "
                   f"AS cat" if cat else "NULL AS cat")
        time = roles["tt"]
        if time and cols[time][1].split("(")[0].split(" ")[0] in _NATIVE_TIME:
            col, typ = cols[time]
            tn = f"CAST({_q(col)} AS TIMESTAMP)"
            if "TIME ZONE" in typ:      # the wall clock where it was written, as pandas
                tn = f"timezone({lit(_parquet_tz(f.path, time) or 'UTC')}, {_q(col)})"
            sel += [f"{tn} AS tn", "NULL::VARCHAR AS tt"]
        elif time:
            sel += ["NULL::TIMESTAMP AS tn", f"{_clean(_q(cols[time][0]))} AS tt"]
        else:
            sel += ["NULL::TIMESTAMP AS tn", "NULL::VARCHAR AS tt"]
        parts.append(f"SELECT {', '.join(sel)} FROM ({sql})")
    try:
        con.execute("CREATE TEMP VIEW raw AS " + " UNION ALL BY NAME ".join(parts))
    except LoansError:
        raise
    except Exception as exc:
        raise LoansError(f"{plan.name}: cannot be read ({str(exc).splitlines()[0]}); check "
                         f"the files (each on its own names the bad one)") from None
    return roles


def _parquet_tz(path: str, col: str) -> str | None:
    import pyarrow.parquet as pq
    return getattr(pq.read_schema(path).field(col).type, "tz", None)
