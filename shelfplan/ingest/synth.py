"""Synthetic library loan records with realistic co-borrowing structure.

:func:`generate_loans` simulates a lending library and returns one row per
loan (columns ``patron_id, item_id, timestamp, category, call_number``).  The
generative story is:

* **Items and topics.**  Every item belongs to one latent topic (the thing
  that makes books co-borrowed).  Topic sizes vary.  Item popularity is
  Zipf-Mandelbrot over a random global ranking, so it is heavy-tailed both
  across topics (a topic's weight is the sum of its items' weights) and within
  each topic.
* **Call numbers only partly follow topics.**  Each topic has a Dewey-like
  home class (a 3-digit string such as ``"510"``; some topics share one) and a
  home decimal.  About 70 % of a topic's items carry the home class, the rest
  a random other class, so shelving in call-number order is a reasonable but
  imperfect proxy for the topics.
* **Patrons.**  ``2 * n_items`` patrons (more if needed for very dense data)
  with Zipf-like activity, capped so nobody needs more visits than there are
  opening days.  Each patron has a main and a secondary preferred topic.
* **Sessions (visits).**  One patron, one calendar date (distinct dates per
  patron whenever possible), opening hours 09:00-20:00, closed on Sundays.
  Sizes: 45 % single items, otherwise ``1 + Geometric(0.42)`` capped at 12
  (mean about 2.3 items).  Each item of a visit comes from the visit's main
  topic with probability 0.8, otherwise from a second topic, drawn by
  popularity; items are distinct within a visit and follow each other by
  20 s to 5 min.
* **Export noise.**  About 0.5 % of loans are duplicated (double scans: same
  patron and item, same or a slightly later timestamp), as real exports have.

Everything is driven by one ``np.random.default_rng(seed)``; the global numpy
state is never touched.  All per-loan and per-visit work is vectorised (the
only Python loops run over topics, over a handful of rejection rounds, or
build the ``n_items`` id strings), so a million loans take a few seconds.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

__all__ = ["generate_loans", "default_n_topics", "DEWEY_CLASSES"]

#: Dewey-like 3-digit classes used as categories (a realistic public-library mix).
DEWEY_CLASSES: tuple[str, ...] = (
    "004", "005", "006", "025", "070", "133", "150", "152", "155", "158",
    "170", "200", "220", "294", "299", "305", "306", "320", "327", "330",
    "332", "340", "346", "361", "363", "370", "371", "398", "420", "428",
    "440", "500", "510", "512", "516", "519", "520", "530", "540", "550",
    "551", "570", "576", "580", "590", "599", "610", "612", "613", "616",
    "618", "629", "635", "641", "649", "650", "658", "720", "741", "746",
    "750", "780", "791", "796", "808", "811", "813", "820", "823", "833",
    "843", "891", "909", "910", "914", "920", "940", "941", "943", "973",
)

# Leading letters of common surnames, used as Cutter-like author marks.
_CUTTERS: tuple[str, ...] = (
    "ADA", "ALL", "AND", "BAK", "BAR", "BEC", "BER", "BRO", "CAM", "CAR",
    "CHE", "CLA", "COL", "COO", "DAV", "DIA", "DUB", "EDW", "EVA", "FIS",
    "FLO", "FOR", "GAR", "GON", "GRE", "HAL", "HAR", "HER", "HIL", "HOF",
    "HUG", "JAC", "JOH", "JON", "KEL", "KIN", "KLE", "KOC", "LAM", "LEE",
    "LEW", "LOP", "MAR", "MEY", "MIL", "MIT", "MOO", "MOR", "MUL", "NEL",
    "NGU", "OKA", "PAR", "PER", "PET", "RAM", "RIC", "RIV", "ROB", "ROD",
    "ROS", "SAN", "SCH", "SCO", "SIL", "SMI", "STE", "SUZ", "TAN", "TAY",
    "THO", "TOR", "WAG", "WAL", "WAN", "WEB", "WHI", "WIL", "WOL", "WRI",
    "YAM", "YOU", "ZHA",
)

# --- knobs of the generative model -------------------------------------------
_ZIPF_EXPONENT = 1.0          # item popularity ~ (rank + offset) ** -exponent
_ZIPF_OFFSET_SHARE = 0.01     # Mandelbrot offset as a share of n_items (flattens the head)
_PATRON_EXPONENT = 1.0        # patron activity ~ (rank + offset) ** -exponent
_PATRONS_PER_ITEM = 2
_HOME_CLASS_SHARE = 0.70      # share of a topic's items shelved in its home class
_DISTINCT_CLASS_SHARE = 0.80  # distinct home classes / n_topics (the rest share)
_MAIN_TOPIC_SHARE = 0.80      # per-item probability of drawing from the visit's main topic
_SINGLE_ITEM_SHARE = 0.45     # share of one-item visits
_GEOM_P = 0.42                # larger visits: 1 + Geometric(_GEOM_P) items
_MAX_SESSION = 12
_DUPLICATE_SHARE = 0.005      # share of loans exported twice
_OPEN_S, _CLOSE_S = 9 * 3600, 20 * 3600
_GAP_S = (20, 300)            # seconds between two checkouts of one visit
_REDRAW_ROUNDS = 12


def default_n_topics(n_items: int) -> int:
    """Default number of latent topics: ``sqrt(n_items) / 1.5`` clamped to [4, 60]."""
    return int(min(60, max(4, round(math.sqrt(max(n_items, 1)) / 1.5))))


def generate_loans(
    n_items: int,
    loans_per_item: float = 10.0,
    n_topics: int | None = None,
    seed: int = 0,
    start: str = "2024-01-01",
    days: int = 540,
) -> pd.DataFrame:
    """Simulate loan records of a library with ``n_items`` items.

    Parameters
    ----------
    n_items:
        Size of the collection.  Item ids are ``B00001 .. B{n_items}``
        (zero-padded to at least 5 digits); popular items appear often, some
        rarely borrowed ones may not appear at all (a few % at 10 loans/item).
    loans_per_item:
        Target mean number of loans per item; the result has about
        ``n_items * loans_per_item`` rows (within a few %).
    n_topics:
        Number of latent topics; default :func:`default_n_topics`.
    seed:
        Seed of the ``np.random.default_rng`` driving everything; equal
        arguments give identical frames.
    start, days:
        Loans fall on the ``days`` calendar days starting at ``start``
        (``YYYY-MM-DD``); Sundays are closed.

    Returns
    -------
    pandas.DataFrame
        Columns ``patron_id, item_id, timestamp, category, call_number``, all
        strings, sorted by timestamp.  ``timestamp`` is ISO 8601 local time
        ``YYYY-MM-DDTHH:MM:SS``; ``category`` is the 3-digit class of
        ``call_number`` (e.g. ``"510"`` for ``"510.23 SMI"``).
    """
    if n_items < 1:
        raise ValueError("n_items must be at least 1")
    if not loans_per_item > 0:
        raise ValueError("loans_per_item must be positive")
    if days < 1:
        raise ValueError("days must be at least 1")
    n_topics = default_n_topics(n_items) if n_topics is None else int(n_topics)
    if n_topics < 1:
        raise ValueError("n_topics must be at least 1")
    n_topics = min(n_topics, n_items)
    rng = np.random.default_rng(seed)

    # ---- items: topics, popularity, call numbers -----------------------------
    item_topic = _assign_topics(rng, n_items, n_topics)
    rank = rng.permutation(n_items)
    item_w = (rank + 1.0 + _ZIPF_OFFSET_SHARE * n_items) ** -_ZIPF_EXPONENT
    topic_w = np.bincount(item_topic, weights=item_w, minlength=n_topics)
    topic_p = topic_w / topic_w.sum()
    # Items grouped by topic; within-topic CDF shifted by the topic index, so
    # one searchsorted draws an item of any requested topic.
    by_topic = np.argsort(item_topic, kind="stable")
    sorted_topic = item_topic[by_topic]
    cdf = np.cumsum(item_w[by_topic]) - np.repeat(
        np.concatenate(([0.0], np.cumsum(topic_w)[:-1])), np.bincount(sorted_topic, minlength=n_topics)
    )
    shifted_cdf = sorted_topic + cdf / topic_w[sorted_topic]
    shifted_cdf[np.r_[np.flatnonzero(np.diff(sorted_topic)), n_items - 1]] = np.arange(n_topics) + 1.0

    def draw_items(topics: np.ndarray) -> np.ndarray:
        u = rng.random(topics.size)
        pos = np.searchsorted(shifted_cdf, topics + u, side="right")
        return by_topic[np.minimum(pos, n_items - 1)]

    category, call_number = _call_numbers(rng, item_topic, n_topics)

    # ---- visits: sizes, patrons, topics --------------------------------------
    target = max(1, round(n_items * loans_per_item))
    sizes = _session_sizes(rng, target)
    n_sessions = sizes.size
    open_days = _open_day_weights(start, days)
    n_open = int(np.count_nonzero(open_days))
    n_patrons = max(_PATRONS_PER_ITEM * n_items, math.ceil(n_sessions / (0.1 * n_open)))
    patron_p = _patron_activity(rng, n_patrons, n_sessions, cap=0.2 * n_open)
    pref_main = rng.choice(n_topics, size=n_patrons, p=topic_p)
    pref_second = _other_topic(rng, pref_main, n_topics, topic_p)

    session_patron = rng.choice(n_patrons, size=n_sessions, p=patron_p)
    u = rng.random(n_sessions)
    session_main = np.where(
        u < 0.65,
        pref_main[session_patron],
        np.where(u < 0.85, pref_second[session_patron], rng.choice(n_topics, size=n_sessions, p=topic_p)),
    )
    session_second = _other_topic(rng, session_main, n_topics, topic_p)

    # ---- loans: one draw per slot, distinct items within a visit --------------
    loan_session = np.repeat(np.arange(n_sessions), sizes)
    first = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    is_first = np.zeros(loan_session.size, dtype=bool)
    is_first[first] = True
    from_main = is_first | (rng.random(loan_session.size) < _MAIN_TOPIC_SHARE)
    loan_topic = np.where(from_main, session_main[loan_session], session_second[loan_session])
    loan_item = draw_items(loan_topic)
    for _ in range(_REDRAW_ROUNDS):
        dup = _duplicated(loan_session.astype(np.int64) * n_items + loan_item)
        if not dup.any():
            break
        loan_item[dup] = draw_items(loan_topic[dup])
    keep = ~_duplicated(loan_session.astype(np.int64) * n_items + loan_item)
    loan_session, loan_item = loan_session[keep], loan_item[keep]

    # ---- calendar: distinct dates per patron, times within opening hours ------
    session_day = _session_days(rng, session_patron, open_days)
    gap = rng.integers(_GAP_S[0], _GAP_S[1] + 1, size=loan_session.size)
    new_visit = np.r_[True, loan_session[1:] != loan_session[:-1]]
    gap[new_visit] = 0
    csum = np.cumsum(gap)
    offset = csum - csum[np.flatnonzero(new_visit)][np.cumsum(new_visit) - 1]
    last = np.r_[np.flatnonzero(new_visit)[1:] - 1, loan_session.size - 1]
    duration = offset[last]  # every visit keeps its first item, so all are present
    span = _CLOSE_S - _OPEN_S - duration
    session_start = _OPEN_S + np.floor(rng.beta(2.0, 1.6, size=n_sessions) * span).astype(np.int64)
    loan_time = (session_day[loan_session] * 86400 + session_start[loan_session] + offset).astype(np.int64)
    loan_patron = session_patron[loan_session]

    # ---- export noise: a few double-scanned loans -----------------------------
    n_dup = round(_DUPLICATE_SHARE * loan_item.size)
    if n_dup:
        src = rng.choice(loan_item.size, size=n_dup, replace=False)
        delay = np.where(rng.random(n_dup) < 0.5, 0, rng.integers(1, 121, size=n_dup))
        dup_time = np.minimum(loan_time[src] + delay, (loan_time[src] // 86400) * 86400 + _CLOSE_S)
        loan_time = np.concatenate((loan_time, dup_time))
        loan_item = np.concatenate((loan_item, loan_item[src]))
        loan_patron = np.concatenate((loan_patron, loan_patron[src]))

    order = np.argsort(loan_time, kind="stable")
    loan_time, loan_item, loan_patron = loan_time[order], loan_item[order], loan_patron[order]

    # ---- strings ---------------------------------------------------------------
    stamps = np.datetime64(start, "s") + loan_time.astype("timedelta64[s]")
    return pd.DataFrame(
        {
            "patron_id": _ids("P", n_patrons, 4)[loan_patron],
            "item_id": _ids("B", n_items, 5)[loan_item],
            "timestamp": np.datetime_as_string(stamps, unit="s"),
            "category": category[loan_item],
            "call_number": call_number[loan_item],
        }
    ).astype("str")


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------


def _ids(prefix: str, n: int, min_width: int) -> np.ndarray:
    """``prefix`` + 1-based zero-padded numbers, e.g. ``B00001`` .. ``B00300``."""
    width = max(min_width, len(str(n)))
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


def _duplicated(keys: np.ndarray) -> np.ndarray:
    """Boolean mask of every occurrence of a key after its first one."""
    _, first = np.unique(keys, return_index=True)
    mask = np.ones(keys.size, dtype=bool)
    mask[first] = False
    return mask


def _assign_topics(rng: np.random.Generator, n_items: int, n_topics: int) -> np.ndarray:
    """Topic of each item: uneven (Dirichlet) topic sizes, every topic non-empty."""
    share = rng.dirichlet(np.full(n_topics, 3.0))
    topic = rng.choice(n_topics, size=n_items, p=share)
    topic[rng.choice(n_items, size=n_topics, replace=False)] = np.arange(n_topics)
    return topic


def _other_topic(rng: np.random.Generator, topic: np.ndarray, n_topics: int, topic_p: np.ndarray) -> np.ndarray:
    """A second topic per entry, by popularity, differing from ``topic`` when possible."""
    other = rng.choice(n_topics, size=topic.size, p=topic_p)
    if n_topics > 1:
        same = other == topic
        other[same] = (topic[same] + rng.integers(1, n_topics, size=int(same.sum()))) % n_topics
    return other


def _call_numbers(rng: np.random.Generator, item_topic: np.ndarray, n_topics: int) -> tuple[np.ndarray, np.ndarray]:
    """Category (class) and full call number ``"510.23 SMI"`` of each item."""
    classes = np.array(DEWEY_CLASSES, dtype=object)
    n_classes = classes.size
    n_distinct = min(n_classes, max(1, math.ceil(_DISTINCT_CLASS_SHARE * n_topics)))
    distinct = rng.choice(n_classes, size=n_distinct, replace=False)
    slot = np.concatenate((np.arange(n_distinct), rng.integers(0, n_distinct, size=n_topics - n_distinct)))
    topic_class = distinct[rng.permutation(slot)]
    topic_decimal = rng.integers(0, 10, size=n_topics)  # first decimal digit of the topic's subject

    n_items = item_topic.size
    home = rng.random(n_items) < _HOME_CLASS_SHARE
    other = (topic_class[item_topic] + rng.integers(1, n_classes, size=n_items)) % n_classes
    item_class = np.where(home, topic_class[item_topic], other)
    first_digit = np.where(home, topic_decimal[item_topic], rng.integers(0, 10, size=n_items))
    decimal = first_digit * 10 + rng.integers(0, 10, size=n_items)
    cutters = np.array(_CUTTERS, dtype=object)[rng.integers(0, len(_CUTTERS), size=n_items)]
    category = classes[item_class]
    call_number = np.array(
        [f"{c}.{d:02d} {a}" for c, d, a in zip(category, decimal.tolist(), cutters)], dtype=object
    )
    return category, call_number


def _session_sizes(rng: np.random.Generator, target: int) -> np.ndarray:
    """Visit sizes whose total is ``target`` loans (the last visit is trimmed)."""
    mean = _SINGLE_ITEM_SHARE + (1 - _SINGLE_ITEM_SHARE) * (1 + 1 / _GEOM_P)
    n = math.ceil(target / mean * 1.1) + 16
    while True:
        sizes = np.where(
            rng.random(n) < _SINGLE_ITEM_SHARE,
            1,
            np.minimum(1 + rng.geometric(_GEOM_P, size=n), _MAX_SESSION),
        )
        total = np.cumsum(sizes)
        if total[-1] >= target:
            break
        n *= 2
    k = int(np.searchsorted(total, target)) + 1  # first k visits reach the target
    sizes = sizes[:k].copy()
    sizes[-1] -= total[k - 1] - target
    return sizes


def _open_day_weights(start: str, days: int) -> np.ndarray:
    """Relative visit rate of each calendar day: Sundays closed, busier Saturdays,
    a mild seasonal swing (quieter in summer)."""
    dates = np.datetime64(start, "D") + np.arange(days)
    weekday = (dates.astype(np.int64) + 3) % 7  # 0 = Monday (1970-01-01 was a Thursday)
    weight = np.where(weekday == 6, 0.0, np.where(weekday == 5, 1.3, 1.0))
    doy = (dates - dates.astype("datetime64[Y]")).astype(np.int64)
    weight *= 1.0 + 0.15 * np.cos(2 * np.pi * doy / 365.25)
    if weight.sum() == 0:  # a window made only of Sundays: open anyway
        weight[:] = 1.0
    return weight / weight.sum()


def _patron_activity(rng: np.random.Generator, n_patrons: int, n_sessions: int, cap: float) -> np.ndarray:
    """Zipf-like visit probabilities, capped at ``cap`` expected visits per patron."""
    rank = rng.permutation(n_patrons)
    p = (rank + 1.0 + 0.01 * n_patrons) ** -_PATRON_EXPONENT
    p /= p.sum()
    limit = cap / n_sessions
    for _ in range(20):  # water-filling: clip, hand the excess to the others
        over = p > limit
        if not over.any():
            break
        excess = (p[over] - limit).sum()
        p[over] = limit
        free = ~over
        if not free.any():
            break
        p[free] += excess * p[free] / p[free].sum()
    return p / p.sum()


def _session_days(rng: np.random.Generator, patron: np.ndarray, day_p: np.ndarray) -> np.ndarray:
    """A day index per visit; visits of one patron get distinct days when
    rejection sampling manages it (the rare leftovers share a day)."""
    n_days = day_p.size
    day = rng.choice(n_days, size=patron.size, p=day_p)
    for _ in range(_REDRAW_ROUNDS):
        clash = _duplicated(patron.astype(np.int64) * n_days + day)
        if not clash.any():
            break
        day[clash] = rng.choice(n_days, size=int(clash.sum()), p=day_p)
    return day
