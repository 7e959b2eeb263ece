"""Brent's root finder on many brackets at once, step for step ``scipy.optimize.brentq``.

A sweep solves one value law per matrix cell; calling scipy's ``brentq`` once per cell spent
most of the analytic counting in Python calls of the objective, and importing
``scipy.optimize`` cost about a second of every run. This loop takes the same steps as
scipy's C loop (Charles Harris's ``brentq.c``: the same interpolation and extrapolation
formulas, evaluated in the same order, the same tests), for every bracket at once, so each
root is the one ``brentq`` returns, to the last bit; ``tests/workloads/test_roots.py`` checks
that against scipy. The objective is evaluated only for the brackets still open.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: f(x, which): the objective at x[i] for bracket which[i] (x and which of one length)
Objective = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _checked(fx: np.ndarray, x: np.ndarray) -> np.ndarray:
    fx = np.asarray(fx, dtype=np.float64)
    if np.isnan(fx).any():
        bad = x[np.flatnonzero(np.isnan(fx))[0]]
        raise ValueError(f"The function value at x={bad:f} is NaN; solver cannot continue.")
    return fx


def brentq_many(f: Objective, a, b, xtol: float = 2e-12, rtol: float = 4 * np.finfo(float).eps,
                maxiter: int = 100) -> np.ndarray:
    """The root of f in each bracket [a[i], b[i]] (f(a[i]) and f(b[i]) of opposite signs), as
    ``scipy.optimize.brentq(f_i, a[i], b[i], xtol=xtol, rtol=rtol, maxiter=maxiter)``."""
    xpre = np.array(a, dtype=np.float64, ndmin=1)
    xcur = np.array(b, dtype=np.float64, ndmin=1)
    n = len(xpre)
    every = np.arange(n)
    fpre, fcur = _checked(f(xpre, every), xpre), _checked(f(xcur, every), xcur)
    if (fpre * fcur > 0).any():
        i = np.flatnonzero(fpre * fcur > 0)[0]
        raise ValueError(f"f(a) and f(b) must have different signs (bracket {i}: [{xpre[i]}, {xcur[i]}])")
    root = np.where(fpre == 0, xpre, xcur)
    xblk, fblk, spre, scur = (np.zeros(n) for _ in range(4))
    open_ = np.flatnonzero((fpre != 0) & (fcur != 0))
    for _ in range(maxiter):
        if not len(open_):
            return root
        i = open_
        xp, xc, xb, fp, fc, fb, sp, sc = xpre[i], xcur[i], xblk[i], fpre[i], fcur[i], fblk[i], spre[i], scur[i]
        flip = fp * fc < 0  # the root lies between the last two estimates: the far end moves up
        xb, fb = np.where(flip, xp, xb), np.where(flip, fp, fb)
        width = xc - xp
        sp, sc = np.where(flip, width, sp), np.where(flip, width, sc)
        swap = np.abs(fb) < np.abs(fc)  # keep the best estimate in xc
        xp, xc, xb = np.where(swap, xc, xp), np.where(swap, xb, xc), np.where(swap, xc, xb)
        fp, fc, fb = np.where(swap, fc, fp), np.where(swap, fb, fc), np.where(swap, fc, fb)
        delta = (xtol + rtol * np.abs(xc)) / 2
        sbis = (xb - xc) / 2
        done = (fc == 0) | (np.abs(sbis) < delta)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            interpolated = -fc * (xc - xp) / (fc - fp)
            dpre = (fp - fc) / (xp - xc)
            dblk = (fb - fc) / (xb - xc)
            extrapolated = -fc * (fb * dblk - fp * dpre) / (dblk * dpre * (fb - fp))
            stry = np.where(xp == xb, interpolated, extrapolated)
            limit = 3 * np.abs(sbis) - delta
            limit = np.where(np.abs(sp) < limit, np.abs(sp), limit)  # C's MIN(a, b): a < b ? a : b
            good = (np.abs(sp) > delta) & (np.abs(fc) < np.abs(fp)) & (2 * np.abs(stry) < limit)
        sp, sc = np.where(good, sc, sbis), np.where(good, stry, sbis)
        step = np.where(np.abs(sc) > delta, sc, np.where(sbis > 0, delta, -delta))
        root[i[done]] = xc[done]
        xpre[i], fpre[i], xblk[i], fblk[i], spre[i], scur[i] = xc, fc, xb, fb, sp, sc
        go = ~done
        i, x_next = i[go], xc[go] + step[go]
        xcur[i] = x_next
        fcur[i] = _checked(f(x_next, i), x_next)
        open_ = i
    if len(open_):
        raise RuntimeError(f"Failed to converge after {maxiter} iterations, value is {xcur[open_[0]]}")
    return root
