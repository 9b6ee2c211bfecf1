"""Walking distance g on the free floor (MODEL.md 8.3): hand-computed detours, invariants,
and a fine-grid shortest path on random small halls."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from shelfplan.model import walk
from shelfplan.model.hall import hall_from_dict

ROOM = [[0, 0], [6, 0], [6, 4], [0, 4]]


def rect(x0, y0, x1, y1):
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=float)


def table(blockers, points, footprint=ROOM):
    F = walk.free_floor(np.asarray(footprint, float), [np.asarray(b, float) for b in blockers])
    return walk.distance_table(F, np.asarray(points, float))


def test_two_faces_of_one_range_walk_around_the_end():
    # one double-faced range, spine (2, 2) -> (4, 2), 2 sections, depth 0.3, standoff 0.5
    hall = hall_from_dict({"footprint": ROOM, "entrance": [3, 0],
                           "stacks": [{"id": "R", "start": [2, 2], "end": [4, 2],
                                       "sections": 2}]})
    s = hall.stacks
    np.testing.assert_allclose(s.pick, [[2.5, 2.8], [3.5, 2.8], [3.5, 1.2], [2.5, 1.2]])
    D = s.distances()
    # left face section 1 (2.5, 2.8) to right face section 1 (2.5, 1.2): 1.6 m in a straight
    # line, on foot around the end x = 2: to corner (2, 2.3), down the end 0.6, to the point
    around = math.hypot(0.5, 0.5) + 0.6 + math.hypot(0.5, 0.5)
    assert D[1, 4] == pytest.approx(around, abs=1e-6)
    assert D[1, 4] > 1.6
    # section 2 of the left face to section 2 of the right face: around the end x = 4
    assert D[2, 3] == pytest.approx(around, abs=1e-6)
    # entrance (3, 0) sees the right face's pick points directly
    assert D[0, 4] == pytest.approx(math.hypot(0.5, 1.2), abs=1e-9)
    # to the left face: around a corner of the range's right side
    via = math.hypot(1.0, 1.7) + 0.6 + math.hypot(0.5, 0.5)
    assert D[0, 1] == pytest.approx(via, abs=1e-6)
    # same face, neighbouring sections: straight along the face
    assert D[1, 2] == pytest.approx(1.0)


def test_detour_around_an_obstacle():
    # a 1 m square obstacle centred at (3, 2); points left and right of it at y = 2
    D = table([rect(2.5, 1.5, 3.5, 2.5)], [[1, 2], [5, 2]])
    hand = 2 * math.hypot(1.5, 0.5) + 1.0
    assert D[0, 1] == pytest.approx(hand, abs=1e-6)


def test_walls_and_sides_are_walkable():
    # along the range's side: both points on the line y = 1.5 of the obstacle's bottom side
    D = table([rect(2.5, 1.5, 3.5, 2.5)], [[1, 1.5], [5, 1.5]])
    assert D[0, 1] == pytest.approx(4.0, abs=1e-6)
    # along the wall y = 0
    D = table([rect(2.5, 0.0 + 1e-3, 3.5, 2.5)], [[1, 0], [5, 0]])
    assert D[0, 1] == pytest.approx(4.0, abs=1e-6)


def test_flush_ranges_leave_no_passage():
    # two single-faced ranges back to back on one spine: no gap between them
    hall = hall_from_dict({"footprint": ROOM, "entrance": [3, 0], "stacks": [
        {"id": "L", "start": [2, 2], "end": [4, 2], "sections": 1, "faces": "left"},
        {"id": "R", "start": [2, 2], "end": [4, 2], "sections": 1, "faces": "right"}]})
    D = hall.stacks.distances()
    around = 2 * math.hypot(1.0, 0.5) + 0.6
    assert D[1, 2] == pytest.approx(around, abs=1e-6)


def test_range_flush_against_a_wall_is_no_passage():
    # a block from the west wall (x = 0) to x = 3: points south and north of it
    D = table([rect(0, 1.5, 3, 2.5)], [[1, 1], [1, 3]])
    hand = math.hypot(2, 0.5) + 1.0 + math.hypot(2, 0.5)
    assert D[0, 1] == pytest.approx(hand, abs=1e-6)


def test_l_shaped_room_turns_at_the_inner_corner():
    foot = [[0, 0], [4, 0], [4, 2], [2, 2], [2, 4], [0, 4]]
    D = table([], [[3, 1], [1, 3]], footprint=foot)
    assert D[0, 1] == pytest.approx(2 * math.hypot(1, 1), abs=1e-9)


def test_duplicate_points_share_their_distances():
    D = table([rect(2.5, 1.5, 3.5, 2.5)], [[1, 2], [5, 2], [1, 2]])
    assert D[0, 2] == 0 and D[2, 1] == D[0, 1]


# --- random small halls: invariants and a fine grid ---------------------------------------

@st.composite
def small_halls(draw):
    """A 4 x 3 m room with 1-3 axis-parallel or rotated blocks, 0.2 m or more apart and from the walls."""
    n = draw(st.integers(1, 3))
    blocks = []
    for _ in range(n):
        cx = draw(st.floats(0.6, 3.4))
        cy = draw(st.floats(0.6, 2.4))
        half_l = draw(st.floats(0.2, 1.0))
        half_w = draw(st.floats(0.1, 0.4))
        a = draw(st.floats(0, math.pi))
        u = np.array([math.cos(a), math.sin(a)])
        v = np.array([-u[1], u[0]])
        c = np.array([cx, cy])
        ring = np.array([c - half_l * u - half_w * v, c + half_l * u - half_w * v,
                         c + half_l * u + half_w * v, c - half_l * u + half_w * v])
        poly = shapely.Polygon(ring)
        # gaps of at least 0.2 m (4 grid steps), so the grid of the comparison can pass
        # wherever the geodesic does
        room = shapely.box(0.2, 0.2, 3.8, 2.8)
        if room.contains(poly) and all(shapely.Polygon(b).distance(poly) >= 0.2 for b in blocks):
            blocks.append(ring)
    return blocks


def _free_points(F, rng, k):
    pts = []
    while len(pts) < k:
        p = rng.uniform([0, 0], [4, 3])
        if F.covers(shapely.Point(p)):
            pts.append(p)
    return np.array(pts)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks=small_halls(), seed=st.integers(0, 10_000))
def test_symmetry_and_triangle_inequality(blocks, seed):
    F = walk.free_floor(np.array(rect(0, 0, 4, 3)), blocks)
    pts = _free_points(F, np.random.default_rng(seed), 8)
    D = walk.distance_table(F, pts)
    assert np.allclose(D, D.T) and np.all(np.diag(D) == 0)
    euclid = np.linalg.norm(pts[:, None] - pts[None], axis=2)
    assert np.all(D >= euclid - 1e-9)
    assert np.all(D[:, None, :] <= D[:, :, None] + D[None, :, :] + 1e-9)   # D[i,k] <= D[i,j]+D[j,k]


def _grid_distances(F, h, sources):
    """Shortest paths on a 16-connected grid of spacing h over the free floor."""
    xs, ys = np.arange(0, 4 + h / 2, h), np.arange(0, 3 + h / 2, h)
    gx, gy = np.meshgrid(xs, ys, indexing="ij")
    nodes = np.column_stack([gx.ravel(), gy.ravel()])
    inside = shapely.covers(F, shapely.points(nodes))
    index = -np.ones(len(nodes), dtype=np.int64)
    index[inside] = np.arange(inside.sum())
    nx, ny = len(xs), len(ys)
    a_all, b_all = [], []
    for di, dj in [(1, 0), (0, 1), (1, 1), (1, -1), (2, 1), (1, 2), (2, -1), (1, -2)]:
        i, j = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
        i2, j2 = i + di, j + dj
        ok = (i2 < nx) & (j2 >= 0) & (j2 < ny)
        a = (i * ny + j)[ok]
        b = (i2 * ny + j2)[ok]
        a_all.append(a)
        b_all.append(b)
    a, b = np.concatenate(a_all), np.concatenate(b_all)
    keep = inside[a] & inside[b]
    a, b = a[keep], b[keep]
    lines = shapely.linestrings(np.stack([nodes[a], nodes[b]], axis=1))
    ok = shapely.covers(F, lines)
    a, b = a[ok], b[ok]
    w = np.linalg.norm(nodes[a] - nodes[b], axis=1)
    n = int(inside.sum())
    g = coo_matrix((w, (index[a], index[b])), shape=(n, n)).tocsr()
    src = index[np.rint(sources[:, 0] / h).astype(int) * ny + np.rint(sources[:, 1] / h).astype(int)]
    return dijkstra(g, directed=False, indices=src)[:, src]


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks=small_halls(), seed=st.integers(0, 10_000))
def test_against_a_fine_grid(blocks, seed):
    h = 0.05
    F = walk.free_floor(np.array(rect(0, 0, 4, 3)), blocks)
    rng = np.random.default_rng(seed)
    pts = np.round(_free_points(F, rng, 12) / h) * h       # on the grid
    pts = pts[shapely.covers(F, shapely.points(pts))][:6]
    D = walk.distance_table(F, pts)
    grid = _grid_distances(F, h, pts)
    finite = np.isfinite(grid)
    assert np.all(D[finite] <= grid[finite] + 1e-6)           # the grid path is a path in F
    # a 16-connected grid is at most ~2.7 % longer in open space, plus a few cells at corners
    assert np.all(grid[finite] <= D[finite] * 1.03 + 4 * h)


def test_sample_hall_matches_a_brute_force_visibility_graph():
    """The pruned graph (sectors, tangents, collinear edges) gives the same table as every
    node pair checked with shapely's covers and Dijkstra over all of them."""
    import os

    from conftest import SAMPLE_HALL
    from shelfplan.model.hall import load_hall

    hall = load_hall(os.path.join(os.path.dirname(SAMPLE_HALL), "stacked_hall.json"))
    s = hall.stacks
    F = s.free_floor
    pts = np.vstack([s.entrance_xy[None], s.pick])
    nodes = np.vstack([pts, walk.reflex_corners(F)])
    i, j = np.triu_indices(len(nodes), 1)
    lines = shapely.linestrings(np.stack([nodes[i], nodes[j]], axis=1))
    ok = shapely.covers(F, lines)
    w = np.linalg.norm(nodes[i] - nodes[j], axis=1)
    g = coo_matrix((w[ok], (i[ok], j[ok])), shape=(len(nodes),) * 2).tocsr()
    brute = dijkstra(g, directed=False, indices=np.arange(len(pts)))[:, :len(pts)]
    np.testing.assert_allclose(s.distances(), brute, atol=1e-6)


def test_pick_points_on_the_face_itself():
    # standoff 0: pick points lie on the range's sides; walks run along them
    hall = hall_from_dict({"footprint": ROOM, "entrance": [3, 0],
                           "stacks": [{"id": "R", "start": [2, 2], "end": [4, 2],
                                       "sections": 2, "standoff": 0}]})
    D = hall.stacks.distances()
    assert D[0, 4] == pytest.approx(math.hypot(0.5, 1.7), abs=1e-6)
    assert D[0, 1] == pytest.approx(math.hypot(1.0, 1.7) + 0.6 + 0.5, abs=1e-6)
    assert D[1, 4] == pytest.approx(0.5 + 0.6 + 0.5, abs=1e-6)


# --- the compiled kernels against plain references -----------------------------------------

@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 40), density=st.floats(0.02, 0.5), seed=st.integers(0, 10_000),
       helpers=st.sampled_from([0, 1, 4, 32]))
def test_corner_distances_match_scipy_dijkstra(n, density, seed, helpers):
    from shelfplan.model import walk_jit

    rng = np.random.default_rng(seed)
    a, b = np.triu_indices(n, 1)
    keep = rng.random(len(a)) < density
    a, b = a[keep], b[keep]
    w = rng.choice([0.0, 0.5, 1.0, 2.5], len(a)) if seed % 3 == 0 else rng.random(len(a))
    g = coo_matrix((np.r_[w, w], (np.r_[a, b], np.r_[b, a])), shape=(n, n)).tocsr()
    order = rng.permutation(n).astype(np.int64) if seed % 2 else walk._tree_order(g)
    got = walk_jit.corner_distances(g.indptr.astype(np.int64), g.indices.astype(np.int64),
                                    g.data, order, helpers)
    ref = dijkstra(g, directed=False)           # explicit zeros in the CSR are edges
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks=small_halls(), seed=st.integers(0, 10_000))
def test_visible_pairs_match_shapely_covers(blocks, seed):
    """Every pair of the grid-and-clip test sees each other in F (shapely covers), and every
    pair shapely says is clear by more than the tolerance is found."""
    F = walk.free_floor(np.array(rect(0, 0, 4, 3)), blocks)
    nodes = _free_points(F, np.random.default_rng(seed), 40)
    i, j, d = walk.visible_pairs(F, nodes)
    found = np.zeros((len(nodes),) * 2, dtype=bool)
    found[i, j] = True
    a, b = np.triu_indices(len(nodes), 1)
    lines = shapely.linestrings(np.stack([nodes[a], nodes[b]], axis=1))
    assert np.all(shapely.covers(F.buffer(1e-6), lines[found[a, b]]))
    assert np.all(found[a, b][shapely.covers(F.buffer(-1e-6), lines)])
    np.testing.assert_allclose(d, np.linalg.norm(nodes[i] - nodes[j], axis=1))


def test_bench_hall_matches_a_brute_force_visibility_graph():
    """A stacked hall of 8 banks (~250 locations): the compiled table equals every node pair
    checked with shapely and scipy's Dijkstra."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_walk import stacked_hall

    s = hall_from_dict(stacked_hall(250), source="bench").stacks
    F = s.free_floor
    pts = np.unique(np.vstack([s.entrance_xy[None], s.pick]), axis=0)
    nodes = np.vstack([pts, walk.reflex_corners(F)])
    i, j = np.triu_indices(len(nodes), 1)
    lines = shapely.linestrings(np.stack([nodes[i], nodes[j]], axis=1))
    ok = shapely.covers(F, lines)
    w = np.linalg.norm(nodes[i] - nodes[j], axis=1)
    g = coo_matrix((w[ok], (i[ok], j[ok])), shape=(len(nodes),) * 2).tocsr()
    brute = dijkstra(g, directed=False, indices=np.arange(len(pts)))[:, :len(pts)]
    np.testing.assert_allclose(walk.distance_table(F, pts), brute, rtol=0, atol=1e-9)
