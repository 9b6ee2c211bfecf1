"""The layout problem: a hall plus the weights of MODEL.md section 3."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from shelfplan.model.discs import block_radius
from shelfplan.model.estimate import Estimates
from shelfplan.model.hall import Hall


@dataclass
class Problem:
    """Weights and geometry; everything the objective and the solver need.

    ``p`` are the entrance weights p(i); ``(I, J, W)`` the pair term as a
    sparse upper triangle, ``W = p(i,j) + p(j,i)`` for ``I < J``, so that
    ``sum_i sum_{j != i} p(i,j) ||v_i - v_j|| = sum_k W_k ||v_I - v_J||``.
    ``sizes`` and ``radius`` are set for category blocks (``--level category``,
    :mod:`shelfplan.model.discs`): books per unit and the radius of its disc; ``None``
    for single books or titles, which keep MODEL.md's ``d_min``.
    """

    hall: Hall
    items: np.ndarray
    p: np.ndarray
    I: np.ndarray
    J: np.ndarray
    W: np.ndarray
    categories: np.ndarray | None = None
    sizes: np.ndarray | None = None
    radius: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.p)

    def symmetric_weights(self, m: int | None = None) -> sp.csr_matrix:
        """The pair weights as a symmetric sparse (m, m) matrix, W_ij = W_ji
        (``m`` defaults to n; larger ``m`` adds empty rows, e.g. for empty slots)."""
        m = self.n if m is None else m
        W = sp.coo_matrix((self.W, (self.I, self.J)), shape=(m, m))
        return (W + W.T).tocsr()

    @property
    def blocks(self) -> bool:
        """True when units are category blocks of their own sizes."""
        return self.radius is not None

    @property
    def family(self) -> str:
        """The plan family the search engine uses: ``sites`` (single books on the hall's
        lattice) or ``discs`` (category blocks); a shelving problem says ``table``."""
        return "discs" if self.blocks else "sites"

    @classmethod
    def from_estimates(cls, est: Estimates, hall: Hall) -> "Problem":
        I, J, W = est.symmetric_pairs()
        radius = None
        if est.sizes is not None:
            radius = block_radius(est.sizes, hall)
        return cls(hall=hall, items=est.items, p=est.p.astype(float), I=I, J=J, W=W,
                   categories=est.categories, sizes=est.sizes, radius=radius)

    def subset(self, keep: np.ndarray) -> "Problem":
        """The problem restricted to items ``keep`` (indices); pairs leaving it drop."""
        keep = np.asarray(keep)
        remap = np.full(self.n, -1)
        remap[keep] = np.arange(len(keep))
        m = (remap[self.I] >= 0) & (remap[self.J] >= 0)
        return Problem(hall=self.hall, items=self.items[keep], p=self.p[keep],
                       I=remap[self.I[m]], J=remap[self.J[m]], W=self.W[m],
                       categories=None if self.categories is None else self.categories[keep],
                       sizes=None if self.sizes is None else self.sizes[keep],
                       radius=None if self.radius is None else self.radius[keep])
