"""Walking-distance table (MODEL.md 8.3) on stacked halls of growing size.

Each hall is a grid of banks of double-faced ranges (5 bays of 0.9 m, 1.0 m aisles,
2.0 m cross aisles) with single-faced wall shelving along the west wall and the
entrance in the middle of the south wall. Prints locations, corners, build time of
the whole (m+1) x (m+1) table (wall and CPU seconds) and peak memory (RSS high-water mark).
The compiled kernels (shelfplan/model/walk_jit.py, numba) are loaded first on a tiny
hall; that warm-up (seconds; a compile when numba's cache is cold) is printed apart.

    python benchmarks/bench_walk.py [--sizes 500 1000 2000 5000]
"""

from __future__ import annotations

import argparse
import resource
import time

from shelfplan.model import walk
from shelfplan.model.hall import hall_from_dict


def stacked_hall(locations: int) -> dict:
    """A hall with about ``locations`` locations (10 per double-faced range)."""
    per_bank, sections, bay = 8, 5, 0.9
    n_ranges = max(1, round(locations / 10))
    n_banks = -(-n_ranges // per_bank)
    cols = max(1, round((n_banks * 1.2) ** 0.5))
    rows = -(-n_banks // cols)
    bank_w, bank_h = sections * bay, per_bank * 1.6
    width = 2.0 + cols * (bank_w + 2.0) + 1.0
    height = 2.0 + rows * (bank_h + 2.0)
    stacks = [{"bank": "W", "origin": [0.0, 2.0], "angle": 90, "ranges": 1,
               "length": round(height - 4.0, 3), "sections": int((height - 4.0) // bay),
               "faces": "right"}]
    left = n_ranges
    for k in range(n_banks):
        r, c = divmod(k, cols)
        count = min(per_bank, left)
        left -= count
        stacks.append({"bank": f"B{k + 1}", "origin": [3.0 + c * (bank_w + 2.0),
                                                      2.3 + r * (bank_h + 2.0)],
                       "ranges": count, "length": bank_w, "sections": sections})
    return {"name": f"bench {locations}", "footprint": [[0, 0], [width, 0], [width, height],
                                                        [0, height]],
            "entrance": [width / 2, 0.0], "stacks": stacks}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[500, 1000, 2000, 5000])
    args = ap.parse_args()
    t0, c0 = time.perf_counter(), time.process_time()
    hall_from_dict(stacked_hall(10), source="bench").stacks.distances()
    print(f"warm-up (numba kernels): {time.perf_counter() - t0:.2f} s wall, "
          f"{time.process_time() - c0:.2f} s CPU", flush=True)
    print(f"{'locations':>9} {'ranges':>6} {'corners':>7} {'hall s':>7} {'table s':>8} "
          f"{'table cpu s':>11} {'peak MiB':>8}")
    for size in args.sizes:
        t0 = time.perf_counter()
        hall = hall_from_dict(stacked_hall(size), source="bench")
        t1, c1 = time.perf_counter(), time.process_time()
        D = hall.stacks.distances()
        t2, c2 = time.perf_counter(), time.process_time()
        corners = len(walk.reflex_corners(hall.stacks.free_floor))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{hall.stacks.n_locations:>9} {len(hall.stacks.ranges):>6} {corners:>7} "
              f"{t1 - t0:>7.2f} {t2 - t1:>8.2f} {c2 - c1:>11.2f} {peak:>8.0f}", flush=True)
        del D


if __name__ == "__main__":
    main()
