"""The dask engine: the counts on a ``dask.distributed`` cluster, for data that outgrow
one machine (``pip install "shelfplan[dask]"``).

Each file is a partition: a worker reads and cleans it with the DuckDB engine's
rules (:func:`shelfplan.model.engines.tally.prepare`). The rows are shuffled by
visit key (the patron, or the session column), so every session lies in one
partition; each partition drops sessions over the cap and loans outside the
period, then counts n_i and c_ij (``X^T X`` of its sessions, sparse) over the
global item list; the client sums them. The workers must see the files at the
same paths (a shared file system). Without ``scheduler`` a small local cluster
runs in this process.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import scipy.sparse as sp

from shelfplan.errors import LoansError
from shelfplan.model.engines.plan import ReadPlan
from shelfplan.model.estimates_file import Counts

__all__ = ["count_dask", "connect_client", "CONNECT_TIMEOUT"]

log = logging.getLogger(__name__)

#: seconds to wait for a scheduler to answer
CONNECT_TIMEOUT = 5


def _dask():
    try:
        import dask.dataframe as dd
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise LoansError("the dask engine needs dask.distributed; pip install "
                         "'shelfplan[dask]'") from None
    return dd, Client, LocalCluster


def connect_client(scheduler: str | None, workers: int | None = None):
    """(client, cluster or None): a client of the scheduler at ``scheduler``, or of a
    new local cluster of ``workers`` threads in this process."""
    _, Client, LocalCluster = _dask()
    if scheduler:
        try:
            return Client(scheduler, timeout=f"{CONNECT_TIMEOUT}s", set_as_default=False), None
        except Exception as exc:    # refused, timed out, garbage from a non-dask port
            why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise LoansError(f"no dask scheduler answers at {scheduler} within "
                             f"{CONNECT_TIMEOUT} s ({why[:120]}); start one with `dask "
                             f"scheduler` and workers with `dask worker {scheduler}`, or "
                             f"leave out --scheduler for a local cluster") from None
    cluster = LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=False,
                           dashboard_address=None)
    return Client(cluster, set_as_default=False), cluster


def _clean_file(plan: ReadPlan, k: int, want_t: bool) -> tuple[pd.DataFrame, dict]:
    """File ``k`` of ``plan``, read and cleaned on a worker: rows (visit key ``k``, ``d``,
    ``item``, ``cat``, ``p``, ``t``) and its reading stats."""
    from shelfplan.model.engines.duck import clean_rows, connect
    from shelfplan.model.engines.tally import prepare

    one = ReadPlan([plan.files[k]], plan.opts, plan.level, plan.category_from,
                   dict(plan.chosen), plan.explicit)
    con = connect(threads=1)
    try:
        roles = clean_rows(con, one)
        prep = prepare(con, one, roles)
        t = prep["t"] or "NULL::TIMESTAMP"
        cols = [f"{prep['key']} AS k", f"{prep['day']} AS d", "item",
                "cat" if roles["cat"] else "NULL::VARCHAR AS cat",
                "p" if roles["p"] else "NULL::VARCHAR AS p",
                f"{t} AS t" if want_t else "NULL::TIMESTAMP AS t"]
        rows = con.execute(f"SELECT {', '.join(cols)} FROM c WHERE {prep['where']}").df()
    finally:
        con.close()
    rows["d"] = rows["d"].astype(np.int64)
    stats = {"read": prep["read"], "dropped": prep["dropped"], "msgs": prep["msgs"],
             "rule": prep["rule"], "dated": prep["t"] is not None}
    return rows, stats


def _trim(part: pd.DataFrame, cap: int, until, since) -> pd.DataFrame:
    """One partition (whole sessions): sessions over ``cap`` items and loans outside
    the period dropped; ``capped`` counts the rows the cap dropped, ``kept`` marks the
    rows within the period (patrons are counted before the period)."""
    part = part.copy()
    part["capped"] = False
    if cap and len(part):
        distinct = part.drop_duplicates(["k", "d", "item"]).groupby(["k", "d"]).size()
        big = distinct[distinct > cap]
        if len(big):
            key = pd.MultiIndex.from_frame(part[["k", "d"]])
            part["capped"] = key.isin(big.index)
    keep = ~part["capped"]
    if until is not None:
        keep &= part["t"] < pd.Timestamp(until)
    if since is not None:
        keep &= part["t"] >= pd.Timestamp(since)
    part["kept"] = keep.fillna(False).astype(bool)
    return part


def _tally_part(part: pd.DataFrame, items: np.ndarray) -> dict:
    """n_i, c_ij (upper triangle, COO), sessions and loans of one partition."""
    rows = part[part["kept"]]
    n = len(items)
    if not len(rows):
        return {"counts": np.zeros(n, dtype=np.int64), "C": sp.coo_matrix((n, n)),
                "sessions": 0, "multi": 0, "loans": 0, "pairs_si": 0, "cats": None}
    sid = pd.MultiIndex.from_frame(rows[["k", "d"]]).factorize()[0]
    code = np.searchsorted(items, rows["item"].to_numpy(dtype=object))
    X = sp.csr_matrix((np.ones(len(sid), dtype=np.int64), (sid, code)),
                      shape=(int(sid.max()) + 1, n))
    X.sum_duplicates()
    X.data[:] = 1
    sizes = np.diff(X.indptr)
    C = sp.triu(X.T @ X, k=1).tocoo()
    cats = None
    if rows["cat"].notna().any():
        cats = rows.dropna(subset=["cat"]).groupby(["item", "cat"]).size()
    return {"counts": np.asarray(X.sum(axis=0)).ravel().astype(np.int64), "C": C,
            "sessions": int(X.shape[0]), "multi": int((sizes >= 2).sum()),
            "loans": int(len(rows)), "pairs_si": int(X.nnz), "cats": cats}


def count_dask(plan: ReadPlan, *, scheduler: str | None = None, until=None, since=None,
               workers: int | None = None) -> Counts:
    """The counts of ``plan``'s files on a dask cluster (see the module)."""
    dd, _, _ = _dask()
    import dask

    client, cluster = connect_client(scheduler, workers)
    try:
        want_t = until is not None or since is not None
        parts = client.persist([dask.delayed(_clean_file, pure=True)(plan, k, want_t)
                                for k in range(len(plan.files))])
        stats = client.compute([dask.delayed(lambda x: x[1])(p) for p in parts], sync=True)
        meta = pd.DataFrame({"k": pd.Series(dtype=object), "d": pd.Series(dtype=np.int64),
                             "item": pd.Series(dtype=object), "cat": pd.Series(dtype=object),
                             "p": pd.Series(dtype=object),
                             "t": pd.Series(dtype="datetime64[us]")})
        frames = dd.from_delayed([dask.delayed(lambda x: x[0])(p) for p in parts], meta=meta,
                                 verify_meta=False)
        cap = int(plan.opts.max_session_items or 0)
        if want_t and not all(s["dated"] for s in stats):
            raise LoansError(f"{plan.name}: `until`/`since` need a timestamp column")
        trimmed = frames.shuffle(on="k").map_partitions(_trim, cap, until, since)
        trimmed = client.persist(trimmed)
        return _combine(client, plan, trimmed, stats, cap)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _combine(client, plan, trimmed, stats, cap) -> Counts:
    """The partitions' counts summed, with the reading summary."""
    import dask

    name = plan.name
    dropped: dict = {}
    for s in stats:
        for key, v in s["dropped"].items():
            dropped[key] = dropped.get(key, 0) + int(v)
        for text in s["msgs"]:
            log.warning("%s", text)
    n_capped, n_left = client.compute([trimmed["capped"].sum(), (~trimmed["capped"]).sum()],
                                      sync=True)
    if cap and n_capped:
        dropped[f"session over {cap} items"] = int(n_capped)
    if not n_left:
        raise LoansError(f"{name}: no usable loans left after dropping bad rows; check the "
                         f"id and timestamp columns")
    uncapped = trimmed[~trimmed["capped"]]
    n_patrons = None
    if plan.chosen.get("patron"):
        n_patrons = int(client.compute(uncapped["p"].nunique(), sync=True))
    has_category = bool(plan.chosen.get("category")) and bool(
        client.compute(uncapped["cat"].count(), sync=True))
    if plan.level == "category" and not has_category:
        raise LoansError(f"{name}: `level` category needs categories, but column "
                         f"{plan.chosen['category']!r} is empty; name another with "
                         f"`category_col`")
    kept = trimmed[trimmed["kept"]]
    items = np.sort(client.compute(kept["item"].unique(), sync=True).to_numpy(dtype=object))
    if not len(items):
        raise LoansError(f"{name}: no loans left in the date range; choose a date inside "
                         f"the loans' period")
    future = client.scatter(items, broadcast=True)
    results = client.compute([dask.delayed(_tally_part)(p, future)
                              for p in trimmed.to_delayed()], sync=True)
    n = len(items)
    counts = sum(r["counts"] for r in results)
    C = sp.coo_matrix((n, n), dtype=np.int64).tocsr()
    for r in results:
        C = C + r["C"].tocsr()
    C = sp.triu(C, k=1).tocoo()
    order = np.lexsort((C.col, C.row))
    loans = sum(r["loans"] for r in results)
    categories = None
    if has_category:
        cats = pd.concat([r["cats"] for r in results if r["cats"] is not None])
        cats = cats.groupby(level=[0, 1]).sum().reset_index(name="n")
        cats = cats.sort_values(["item", "n", "cat"], ascending=[True, False, True],
                                kind="stable").drop_duplicates("item")
        categories = np.full(n, None, dtype=object)
        categories[np.searchsorted(items, cats["item"].to_numpy(dtype=object))] = \
            cats["cat"].to_numpy(dtype=object)
    summary = {"source": name, "rows_read": int(sum(s["read"] for s in stats)),
               "loans": int(loans), "duplicate_loans": int(loans - sum(r["pairs_si"]
                                                                      for r in results)),
               "dropped_rows": dropped, "sessions": int(sum(r["sessions"] for r in results)),
               "items": int(n), "patrons": n_patrons, "session_rule": stats[0]["rule"],
               "multi_item_sessions": int(sum(r["multi"] for r in results))}
    return Counts(items=items, counts=counts.astype(np.int64),
                  pair_i=C.row[order].astype(np.int32), pair_j=C.col[order].astype(np.int32),
                  pair_c=C.data[order].astype(np.int64), categories=categories,
                  summary=summary, meta={})
