"""Synthetic loans at consortium scale, written as Parquet in row groups (bounded memory).

    python benchmarks/make_scale_data.py OUT.parquet --rows 20000000 --items 400000 \
        --patrons 2000000 [--seed 0] [--csv]

Visits are drawn first: a patron (uniform), a day in three years, a size (1 + geometric,
mean about 2.4) and a topic of 50 items (popularity Zipf-like over topics); the visit's
items come from its topic, so co-borrowing has structure. Columns: ``patron_id``,
``item_id`` (text ids), ``timestamp`` (a Parquet timestamp; with ``--csv`` ISO 8601
text in a CSV file). Nothing here is committed: the data are made on demand.
"""

from __future__ import annotations

import argparse

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

CHUNK = 2_000_000
TOPIC = 50
DAYS = 3 * 365
START = np.datetime64("2021-01-01T00:00:00", "s")


def chunk(rng, rows: int, items: int, patrons: int) -> pa.Table:
    """About ``rows`` loans (whole visits), as an Arrow table."""
    n_visits = int(rows / 2.4) + 1
    size = 1 + rng.geometric(0.7, n_visits) - 1 + rng.integers(0, 2, n_visits)
    size = np.maximum(size, 1)
    csum = np.cumsum(size)
    n_visits = int(np.searchsorted(csum, rows)) + 1
    size = size[:n_visits]
    size[-1] -= int(size.sum()) - rows
    size = size[size > 0]
    n_visits = len(size)
    n_topics = max(items // TOPIC, 1)
    topic = np.minimum((rng.pareto(1.2, n_visits) * n_topics / 20).astype(np.int64),
                       n_topics - 1)
    topic = rng.permutation(n_topics)[topic]
    patron = rng.integers(0, patrons, n_visits)
    day = rng.integers(0, DAYS, n_visits)
    v = np.repeat(np.arange(n_visits), size)
    offset = np.minimum(rng.geometric(0.08, len(v)) - 1, TOPIC - 1)
    item = np.minimum(topic[v] * TOPIC + offset, items - 1)
    secs = day[v] * 86400 + 9 * 3600 + rng.integers(0, 10 * 3600, n_visits)[v] \
        + rng.integers(0, 600, len(v))
    ts = START + secs.astype("timedelta64[s]")
    order = rng.permutation(len(v))
    return pa.table({
        "patron_id": pa.array(np.char.add("P", patron[v][order].astype("U8"))),
        "item_id": pa.array(np.char.add("I", item[order].astype("U8"))),
        "timestamp": pa.array(ts[order].astype("datetime64[us]")),
    })


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--rows", type=int, default=20_000_000)
    ap.add_argument("--items", type=int, default=400_000)
    ap.add_argument("--patrons", type=int, default=2_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--csv", action="store_true", help="write CSV with ISO 8601 text times")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    writer = None
    left = args.rows
    try:
        while left > 0:
            t = chunk(rng, min(CHUNK, left), args.items, args.patrons)
            left -= t.num_rows
            if args.csv:
                t = t.set_column(2, "timestamp", pa.array(
                    np.datetime_as_string(t["timestamp"].to_numpy(), unit="s")))
                if writer is None:
                    writer = pcsv.CSVWriter(args.out, t.schema)
            elif writer is None:
                writer = pq.ParquetWriter(args.out, t.schema, compression="zstd")
            writer.write_table(t)
    finally:
        if writer is not None:
            writer.close()


if __name__ == "__main__":
    main()
