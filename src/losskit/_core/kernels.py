"""Optional compiled kernels (numba) for the NumPy blockwise path: one pass over a block that
reads each operand once and writes the value's sum and the wanted gradients together.

NumPy evaluates ``|x - y|`` as three loops over the block (subtract, abs, sum) and its
gradient as three more; the compiled loop is a single one, at the speed of memory. That pays
for the losses whose terms are arithmetic (l1, mse, smooth_l1/huber, margin_ranking,
hinge_embedding). Losses with exp/log stay on NumPy, whose vectorised exp and log beat the
scalar ones a compiled loop calls (numba here has no SVML).

Used when numba is installed (``pip install "losskit[accel]"``) and not turned off with
``LOSSKIT_NUMBA=0``. Each kernel computes what its loss's array-API terms compute, in the
operands' dtype with the same operations (constants are passed in that dtype, so float32
stays float32 and ties stay ties); the parity tests run both paths against torch. The first
call of a kernel compiles it (about a second; numba caches it on disk where it can).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["KINDS", "available", "block_kernel", "multi_margin_rows", "numba", "triplet_rows"]


@functools.cache
def numba() -> Any:
    """The numba module, or ``None`` when it is not installed."""
    try:
        import numba as nb
    except ImportError:
        return None
    return nb


def available() -> bool:
    """Whether the compiled kernels are used: numba installed and not turned off."""
    return os.environ.get("LOSSKIT_NUMBA", "1") != "0" and numba() is not None


def _scalars(nb: Any) -> dict[str, Callable]:
    """Per kind, ``f(a, b, c, p, q, half) -> (loss, d/da, d/db, d/dc)`` on scalars of one
    dtype (``p``, ``q``: the loss's parameters; ``half`` = 0.5), as the array-API terms."""
    inline = nb.njit(inline="always")

    @inline
    def l1(a, b, c, p, q, half):
        d = a - b
        zero = half - half
        one = half + half
        s = one if d > zero else (-one if d < zero else zero)  # sign, 0 at nan (torch)
        return abs(d), s, -s, zero

    @inline
    def mse(a, b, c, p, q, half):
        d = a - b
        g = (half + half + half + half) * d
        return d * d, g, -g, half - half

    @inline
    def huber(a, b, c, p, q, half):
        # p = delta, q = scale: m = min(|d|, delta), l = q·m·(|d| - m/2), l' = q·clip(d)
        d = a - b
        ad = abs(d)
        m = ad if ad < p or ad != ad else p  # minimum: nan stays nan
        g = -p if d < -p else (p if d > p else d)  # clip: nan stays nan
        return q * (m * (ad - half * m)), q * g, -(q * g), half - half

    @inline
    def margin_ranking(a, b, c, p, q, half):
        # p = margin: l = clamp_min(p - c·(a - b), 0); no gradient at exactly 0
        zero = half - half
        diff = a - b
        z = p - c * diff
        active = half + half if z > zero else zero
        return (zero if z < zero else z), -(c * active), c * active, -(diff * active)

    @inline
    def hinge(a, b, c, p, q, half):
        # a = input, b = target, p = margin
        zero = half - half
        one = half + half
        z = p - a
        hinge = (zero if z < zero else z) if b != one else zero
        active = one if b != one and z > zero else zero
        grad = (one if b != -one else zero) - active
        return hinge + (a if b != -one else zero), grad, zero, zero

    return {"l1": l1, "mse": mse, "huber": huber, "margin_ranking": margin_ranking,
            "hinge": hinge}


#: the kinds of elementwise terms with a compiled kernel
KINDS = frozenset({"l1", "mse", "huber", "margin_ranking", "hinge"})


@functools.cache
def _value(kind: str) -> Any:
    nb = numba()
    scalar = _scalars(nb)[kind]

    # 'reassoc' lets the sum vectorise; no other fast-math flag (nan and inf stay exact)
    @nb.njit(nogil=True, fastmath={"reassoc"})
    def value(a, b, c, p, q, half):
        total = 0.0
        for i in range(a.shape[0]):
            total += scalar(a[i], b[i], c[i], p, q, half)[0]
        return total

    return value


@functools.cache
def _fused(kind: str, want_a: bool, want_b: bool, want_c: bool) -> Any:
    """The value's sum and the wanted gradients; one compiled loop per choice of gradients
    (the choice is a constant of the loop, so unwanted ones cost nothing)."""
    nb = numba()
    scalar = _scalars(nb)[kind]

    @nb.njit(nogil=True, fastmath={"reassoc"})
    def fused(a, b, c, p, q, half, factor, ga, gb, gc):
        total = 0.0
        for i in range(a.shape[0]):
            loss, da, db, dc = scalar(a[i], b[i], c[i], p, q, half)
            total += loss
            if want_a:
                ga[i] = da * factor
            if want_b:
                gb[i] = db * factor
            if want_c:
                gc[i] = dc * factor
        return total

    return fused


def block_kernel(kind: str, params: tuple[float, ...], dtype: Any
                 ) -> Callable[..., float] | None:
    """``kernel(blocks, factor=None, outs=None) -> float`` summing the loss over aligned 1-D
    blocks (two or three operands) and, given the upstream ``factor`` and output blocks
    (``None`` where not wanted), writing ``d/d operand · factor`` into them; ``None`` when
    there is no compiled kernel for ``kind`` or ``dtype``."""
    if kind not in KINDS or not available() or np.dtype(dtype) not in (np.float32, np.float64):
        return None
    value = _value(kind)
    cast = np.dtype(dtype).type
    p, q = (cast(v) for v in (*params, 1.0, 1.0)[:2])
    half = cast(0.5)
    empty = np.empty(0, dtype)

    def kernel(blocks: tuple[np.ndarray, ...], factor: Any = None,
               outs: tuple[np.ndarray | None, ...] | None = None) -> float:
        a, b = blocks[0], blocks[1]
        c = blocks[2] if len(blocks) > 2 else a
        if outs is None:
            return float(value(a, b, c, p, q, half))
        ga, gb, gc = (*(empty if o is None else o for o in outs), empty, empty)[:3]
        fused = _fused(kind, ga.shape[0] > 0, gb.shape[0] > 0, gc.shape[0] > 0)
        return float(fused(a, b, c, p, q, half, cast(factor), ga, gb, gc))

    return kernel


@functools.cache
def _triplet_kernels() -> Any:
    nb = numba()

    @nb.njit(nogil=True, fastmath={"reassoc"})
    def distances(a, p, n, eps, d_pos, d_neg):
        # ‖a - p + eps‖₂ and ‖a - n + eps‖₂ per row, the squares summed in float64
        for i in range(a.shape[0]):
            s_pos = 0.0
            s_neg = 0.0
            for j in range(a.shape[1]):
                u = a[i, j] - p[i, j] + eps
                w = a[i, j] - n[i, j] + eps
                s_pos += u * u
                s_neg += w * w
            d_pos[i] = np.sqrt(s_pos)
            d_neg[i] = np.sqrt(s_neg)

    @nb.njit(nogil=True)
    def gradients(a, p, n, eps, c_pos, c_neg, ga, gp, gn):
        # c = upstream / distance per row (0 at a zero distance, torch's norm_backward)
        want_a, want_p, want_n = ga.shape[0] > 0, gp.shape[0] > 0, gn.shape[0] > 0
        for i in range(a.shape[0]):
            for j in range(a.shape[1]):
                u = (a[i, j] - p[i, j] + eps) * c_pos[i]
                w = (a[i, j] - n[i, j] + eps) * c_neg[i]
                if want_a:
                    ga[i, j] = u - w
                if want_p:
                    gp[i, j] = -u
                if want_n:
                    gn[i, j] = w

    return distances, gradients


def triplet_rows(xp: Any, anchor: Any, positive: Any, negative: Any, eps: float
                 ) -> tuple[Any, Any, Callable[..., tuple[Any, Any, Any]]] | None:
    """The two 2-norm distances of a triplet loss in one pass over the three ``(N, D)``
    arrays, and ``gradients(c_pos, c_neg, wanted)`` writing the three gradients in one more
    (``c`` = upstream / distance per row), block of rows by block of rows on threads;
    ``None`` where it does not apply (no numba, not large C-contiguous float NumPy arrays of
    one 2-D shape)."""
    from .blocks import blockable, map_blocks

    if (not available() or anchor.ndim != 2 or not blockable(xp, anchor, positive, negative)
            or np.dtype(anchor.dtype) not in (np.float32, np.float64)
            or not anchor.dtype == positive.dtype == negative.dtype):
        return None
    distances, gradients = _triplet_kernels()
    e = anchor.dtype.type(eps)
    d_pos = np.empty(anchor.shape[0], anchor.dtype)
    d_neg = np.empty_like(d_pos)

    def forward(start: int, parts: tuple[Any, ...]) -> None:
        stop = start + parts[0].shape[0]
        distances(*parts, e, d_pos[start:stop], d_neg[start:stop])

    map_blocks(forward, anchor, positive, negative, rows=True)

    def backward(c_pos: Any, c_neg: Any, wanted: tuple[bool, bool, bool]
                 ) -> tuple[Any, Any, Any]:
        outs = [np.empty_like(anchor) if k else None for k in wanted]
        empty = np.empty((0, 0), anchor.dtype)
        c_pos = np.ascontiguousarray(c_pos, dtype=anchor.dtype)
        c_neg = np.ascontiguousarray(c_neg, dtype=anchor.dtype)

        def block(start: int, parts: tuple[Any, ...]) -> None:
            stop = start + parts[0].shape[0]
            views = [empty if o is None else o[start:stop] for o in outs]
            gradients(*parts, e, c_pos[start:stop], c_neg[start:stop], *views)

        map_blocks(block, anchor, positive, negative, rows=True)
        return outs[0], outs[1], outs[2]

    return d_pos, d_neg, backward


@functools.cache
def _multi_margin_kernels(p: int) -> Any:
    nb = numba()

    @nb.njit(inline="always")
    def hinge(z):
        # z > 0 strictly (torch): nan counts nothing
        return (z if p == 1 else z * z) if z > 0 else 0.0

    @nb.njit(nogil=True, fastmath={"reassoc"})
    def sums(x, t, margin, out):
        # Σ_{i ≠ y} max(margin - x[y] + x[i], 0)^p per row: the classes before and after y
        # in two loops without a branch on i (they vectorise)
        for r in range(x.shape[0]):
            y = t[r]
            base = margin - x[r, y]
            total = 0.0
            for i in range(y):
                total += hinge(base + x[r, i])
            for i in range(y + 1, x.shape[1]):
                total += hinge(base + x[r, i])
            out[r] = total

    @nb.njit(nogil=True)
    def gradient(x, t, margin, zero, one, two, ge, dx):
        # d/dx[i] = slope_i = 1 or 2z where counted, d/dx[y] = -Σ slope; times ge per row
        for r in range(x.shape[0]):
            y = t[r]
            base = margin - x[r, y]
            total = zero
            for i in range(x.shape[1]):
                z = base + x[r, i]
                slope = zero
                if i != y and z > 0:
                    slope = one if p == 1 else two * z
                total += slope
                dx[r, i] = slope * ge[r]
            dx[r, y] = -total * ge[r]

    return sums, gradient


def multi_margin_rows(xp: Any, x: Any, t: Any, margin: float, p: int
                      ) -> tuple[Any, Callable[[Any], Any]] | None:
    """multi_margin_loss's per-row sums ``Σ_{i≠y} max(margin - x[y] + x[i], 0)^p`` of an
    ``(M, C)`` float NumPy array in one pass, and ``gradient(ge)`` (``ge`` per row) in one
    more, rows shared among threads; ``None`` where it does not apply."""
    from .blocks import BLOCK, blockable_layout, map_blocks

    if (type(x) is not np.ndarray or type(t) is not np.ndarray or not available()
            or x.ndim != 2 or 0 in x.shape or x.size < BLOCK // 16
            or np.dtype(x.dtype) not in (np.float32, np.float64)
            or not blockable_layout(x)):
        return None
    sums, gradient = _multi_margin_kernels(p)
    cast = x.dtype.type
    m = cast(margin)
    t = np.ascontiguousarray(t)
    out = np.empty(x.shape[0], x.dtype)

    def forward(start: int, parts: tuple[Any, ...]) -> None:
        sums(parts[0], parts[1], m, out[start:start + parts[0].shape[0]])

    map_blocks(forward, x, t, rows=True)

    def backward(ge: Any) -> Any:
        dx = np.empty_like(x)
        ge = np.ascontiguousarray(np.broadcast_to(ge, (x.shape[0],)), dtype=x.dtype)

        def block(start: int, parts: tuple[Any, ...]) -> None:
            stop = start + parts[0].shape[0]
            gradient(parts[0], parts[1], m, cast(0), cast(1), cast(2), ge[start:stop],
                     dx[start:stop])

        map_blocks(block, x, t, rows=True)
        return dx

    return out, backward
