"""The shelving problem (MODEL.md section 8.4): books in shelf locations, walks in the aisles.

A hall with ``stacks`` has ``m`` locations (one face of one bay) numbered in
shelving order, each holding ``capacity`` books, and a walking-distance table
``D`` (``(m + 1, m + 1)``, index 0 the entrance, ``k + 1`` location ``k``). A
plan puts book ``i`` in location ``loc[i]``; its cost is

    S_walk = sum_i p(i) D[0, loc_i + 1] + sum_{i<j} W_ij D[loc_i + 1, loc_j + 1]

with ``W_ij = p(i,j) + p(j,i)`` (the pair term of MODEL.md 8.4 summed over both
orders). Within a location the books stand in call-number order, top shelf to
bottom, left to right (:func:`slots`); the slot inside a location plays no
part in the cost.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shelfplan.errors import HallError
from shelfplan.model.estimate import Estimates
from shelfplan.model.hall import Hall
from shelfplan.model.problem import Problem

__all__ = ["ShelfProblem", "shelved_cost", "cost_label", "shelving_lower_bound", "slots", "check_slots", "locate", "slot_positions",
           "check_plan", "BOOKCASE_HEIGHT"]

#: Height of a bookcase in metres, only for drawing (the cost ignores heights).
BOOKCASE_HEIGHT = 2.0


@dataclass
class ShelfProblem(Problem):
    """The shelving variant of :class:`~shelfplan.model.problem.Problem`: books, their
    weights and call-number order, and the stacks they go on.

    ``order_key`` ranks the books in call-number order (ties broken by id);
    books never borrowed have ``p = 0`` and no pairs but still need a slot.
    """

    order_key: np.ndarray | None = None
    callnumbers: np.ndarray | None = None
    objective: str = "walk"          # what p and W weigh (model/visit_weights.py)
    #: books each location may hold when less than its slots (growth space, MODEL.md 8.7)
    room: np.ndarray | None = None

    @property
    def family(self) -> str:
        return "table"

    @property
    def stacks(self):
        return self.hall.stacks

    @property
    def D(self) -> np.ndarray:
        return self.hall.stacks.distances()

    @property
    def capacity(self) -> np.ndarray:
        return self.hall.stacks.capacity if self.room is None else self.room

    @property
    def m(self) -> int:
        return self.hall.stacks.n_locations

    @classmethod
    def from_estimates(cls, est: Estimates, hall: Hall, order_key: np.ndarray,
                       callnumbers: np.ndarray | None = None) -> "ShelfProblem":
        if hall.stacks is None:
            raise HallError(f"{hall.name}: a shelving plan needs a hall with stacks; add a "
                            f"'stacks' list of ranges (docs/formats.md)")
        check_slots(est.n, hall)
        I, J, W = est.symmetric_pairs()
        return cls(hall=hall, items=est.items, p=est.p.astype(float), I=I, J=J, W=W,
                   order_key=np.asarray(order_key, dtype=np.int64),
                   categories=est.categories, callnumbers=callnumbers)


def cost_label(problem) -> str:
    """How progress messages name the cost a shelving problem minimises."""
    return "S_walk" if getattr(problem, "objective", "walk") == "walk" else "visits objective"


def check_slots(n_books: int, hall: Hall) -> None:
    """More books than slots is an error that says how many slots are missing."""
    have = hall.stacks.n_slots
    if n_books > have:
        raise HallError(f"{hall.name}: {n_books} books but the stacks hold {have} slots; "
                        f"{n_books - have} slots are missing: add ranges, sections or "
                        f"shelves (or books_per_shelf) to the hall file")


def shelved_cost(loc: np.ndarray, problem: ShelfProblem) -> dict:
    """S_walk of MODEL.md 8.4 with its two terms, from each book's location (0-based);
    with the weights of another objective (``problem.objective``), that objective."""
    D = problem.D
    k = np.asarray(loc, dtype=np.int64) + 1
    ent = float(problem.p @ D[0, k])
    pair = float(problem.W @ D[k[problem.I], k[problem.J]]) if len(problem.W) else 0.0
    out = {"total": ent + pair, "entrance_term": ent, "pair_term": pair}
    if problem.objective != "walk":
        out["objective"] = problem.objective
    return out


def slots(loc: np.ndarray, problem: ShelfProblem) -> tuple[np.ndarray, np.ndarray]:
    """(shelf, slot), 1-based, for each book: within a location the books stand in
    call-number order, shelf 1 (top) first, left to right along each shelf."""
    loc = np.asarray(loc, dtype=np.int64)
    cap = problem.capacity
    load = np.bincount(loc, minlength=len(cap))
    if (load > cap).any():
        k = int(np.argmax(load > cap))
        raise HallError(f"internal: {problem.stacks.describe(k)} would hold {load[k]} books, "
                        f"more than its {cap[k]} slots")
    order = np.lexsort((problem.order_key, loc))
    start = np.concatenate([[0], np.cumsum(load)[:-1]])
    within = np.empty(len(loc), dtype=np.int64)
    within[order] = np.arange(len(loc)) - start[loc[order]]
    per = problem.stacks.loc_books_per_shelf[loc]
    return within // per + 1, within % per + 1


def locate(stacks, range_ids, faces, sections) -> np.ndarray:
    """Location index of each (range id, face name, section), -1 where there is none."""
    key = {}
    ids = stacks.range_ids()
    for k in range(stacks.n_locations):
        key[(str(ids[stacks.loc_range[k]]), FACE_NAMES[stacks.loc_face[k]],
             int(stacks.loc_section[k]))] = k
    return np.array([key.get((str(r), str(f), int(s)), -1)
                     for r, f, s in zip(range_ids, faces, sections)], dtype=np.int64)


FACE_NAMES = ("left", "right")


def slot_positions(stacks, loc, shelf, slot) -> np.ndarray:
    """(n, 3) points for drawing: on the face of the bay, along it from the patron's
    left to right, at the shelf's height (shelf 1 on top)."""
    loc, shelf, slot = (np.asarray(a, dtype=np.int64) for a in (loc, shelf, slot))
    ranges = stacks.ranges
    r = stacks.loc_range[loc]
    start = np.array([g.start for g in ranges])[r]
    end = np.array([g.end for g in ranges])[r]
    depth = np.array([g.depth for g in ranges])[r]
    sections = np.array([g.sections for g in ranges])[r]
    u = (end - start) / np.linalg.norm(end - start, axis=1)[:, None]
    nrm = np.stack([-u[:, 1], u[:, 0]], axis=1)
    left = stacks.loc_face[loc] == 0
    sign = np.where(left, 1.0, -1.0)
    per = stacks.loc_books_per_shelf[loc]
    # a patron facing the left face looks along -n and reads the shelf along -u
    t = (stacks.loc_section[loc] - 1 + np.where(left, 1.0 - (slot - 0.5) / per,
                                                (slot - 0.5) / per)) / sections
    xy = start + t[:, None] * (end - start) + (sign * depth * 0.9)[:, None] * nrm
    shelves = stacks.loc_shelves[loc]
    z = BOOKCASE_HEIGHT * (shelves - shelf + 0.5) / shelves
    return np.column_stack([xy, z])


def check_plan(stacks, ids, loc, shelf, slot, source: str) -> None:
    """MODEL.md 8.4 feasibility: every slot exists, no slot holds two books."""
    from shelfplan.errors import LayoutError

    bad = np.nonzero(loc < 0)[0]
    if len(bad):
        raise LayoutError(f"{source}: book {ids[bad[0]]!r} names a range, face or section "
                          f"the hall's stacks do not have ({len(bad)} books in all); fix the "
                          f"plan or use the hall it was made for")
    out = (shelf < 1) | (shelf > stacks.loc_shelves[loc]) | (slot < 1) | (
        slot > stacks.loc_books_per_shelf[loc])
    if out.any():
        k = int(np.argmax(out))
        raise LayoutError(f"{source}: book {ids[k]!r} is on shelf {shelf[k]}, slot {slot[k]} "
                          f"of {stacks.describe(int(loc[k]))}, which has "
                          f"{stacks.loc_shelves[loc[k]]} shelves of "
                          f"{stacks.loc_books_per_shelf[loc[k]]} slots")
    flat = (loc * 10_000 + shelf) * 100_000 + slot
    uniq, first, count = np.unique(flat, return_index=True, return_counts=True)
    if (count > 1).any():
        k = int(np.nonzero(count > 1)[0][0])
        twice = np.nonzero(flat == uniq[k])[0]
        raise LayoutError(f"{source}: books {ids[twice[0]]!r} and {ids[twice[1]]!r} share "
                          f"shelf {shelf[twice[0]]}, slot {slot[twice[0]]} of "
                          f"{stacks.describe(int(loc[twice[0]]))}; each slot holds one book")


def shelving_lower_bound(problem: ShelfProblem) -> dict:
    """A bound below every plan: the entrance term can be no lower than popularity
    slotting's (the rearrangement inequality over the locations' walking distances,
    capacities kept), and the pair term is at least 0 (partners may share a location)."""
    order = np.argsort(-problem.p, kind="stable")
    order = order[problem.p[order] > 0]
    near = np.argsort(problem.D[0, 1:], kind="stable")
    slots_near = np.repeat(near, problem.capacity[near])[:len(order)]
    ent = float(problem.p[order] @ problem.D[0, slots_near + 1])
    return {"total": ent, "entrance_term": ent, "pair_term": 0.0,
            "method": "entrance term of popularity slotting; pair term >= 0"}
