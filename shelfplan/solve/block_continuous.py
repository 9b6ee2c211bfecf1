"""Category blocks, continuous improvement: L-BFGS-B on the smoothed cost plus
overlap and wall penalties, the penalty raised stage by stage (as the item
solver's continuation, :mod:`shelfplan.solve.items`)."""

from __future__ import annotations

import time

import numpy as np
from scipy.optimize import minimize

from shelfplan.model.discs import close_pairs, signed_clearance
from shelfplan.model.objective import entrance_term, pair_term
from shelfplan.solve.record import StopAt

#: penalty weights of the continuation, as in :data:`shelfplan.solve.items.STAGES`
STAGES = (10.0, 100.0, 1000.0, 10000.0)


def penalised(geo, mu: float, eps: float):
    """The smoothed cost plus overlap and wall penalties as ``f(x) -> (value, gradient)``
    over the flattened centres ``x`` (n x 2)."""
    pr = geo.problem
    d = geo.hall.d_min
    scale = geo.n / d
    w = mu / d ** 2
    rho = geo.rho

    def f(x):
        xy = x.reshape(-1, 2)
        X = geo.positions(xy)
        fe, ge = entrance_term(X, pr.p, geo.hall.entrance, eps)
        fp, gp = pair_term(X, pr.I, pr.J, pr.W, eps)
        g = scale * (ge + gp)[:, :2]
        val = scale * (fe + fp)
        pairs = close_pairs(X, rho)
        if len(pairs):
            I, J = pairs[:, 0], pairs[:, 1]
            diff = xy[I] - xy[J]
            r = np.sqrt((diff ** 2).sum(axis=1))
            short = rho[I] + rho[J] - r
            val += w * float(short @ short)
            coef = np.divide(-2.0 * short, r, out=np.zeros_like(r), where=r > 0)
            gg = diff * coef[:, None]
            for k in range(2):
                g[:, k] += w * (np.bincount(I, gg[:, k], geo.n)
                                - np.bincount(J, gg[:, k], geo.n))
        sd, q = signed_clearance(xy, geo.hall)
        viol = geo.margin - sd
        bad = viol > 0
        if bad.any():
            val += w * float(viol[bad] @ viol[bad])
            dist = np.abs(sd[bad])
            away = xy[bad] - q[bad]
            grad_sd = np.divide(away, dist[:, None], out=np.zeros_like(away),
                                where=dist[:, None] > 0) * np.sign(sd[bad])[:, None]
            g[bad] += w * (-2.0 * viol[bad])[:, None] * grad_sd
        return val, g.ravel()
    return f


def improve(geo, X: np.ndarray, deadline: float, maxiter: int = 200) -> tuple:
    """L-BFGS-B with rising penalties from ``X``; returns (positions, iterations)."""
    x = np.asarray(X, dtype=float)[:, :2].ravel().copy()
    iters = 0
    for mu in STAGES:
        if time.monotonic() > deadline:
            break
        res = minimize(penalised(geo, mu, 0.01 * geo.hall.d_min), x, jac=True,
                       method="L-BFGS-B", callback=StopAt(deadline),
                       options={"maxiter": maxiter, "maxcor": 20})
        x = res.x
        iters += int(res.nit)
    return geo.positions(x.reshape(-1, 2)), iters
