"""The class axis shared by the categorical losses (and the linear head's cross-entropy).

torch reads the class dimension at axis 1 of ``(N, C, d1, ..., dK)`` inputs (axis 0 of an
unbatched ``(C)`` input). The losses work on an ``(M, C)`` layout with the classes last
(``M = N·d1⋯dK``) and move gradients back.
"""

from __future__ import annotations

import math
from typing import Any

from .._core.blocks import blockable, map_blocks
from .._core.indexing import subtract_at, take, take_last
from .._core.namespace import Array, astype, shape_str
from .._core.reduction import Divisor
from .._core.validation import check_class_indices, class_weight, require_float, require_integer

__all__ = ["INDEX_MEAN", "IndexRows", "IndexTargets", "classes_back", "classes_last",
           "index_divisor", "index_targets", "kept_weight", "row_pass"]


def classes_last(xp: Any, a: Array) -> Array:
    """``(N, C, d1..dK)`` -> ``(N·d1⋯dK, C)``; ``(N, C)`` and ``(C)`` need no move."""
    if a.ndim <= 1:
        return xp.reshape(a, (1, a.shape[0] if a.ndim else 1))
    if a.ndim > 2:
        a = xp.permute_dims(a, (0, *range(2, a.ndim), 1))
    # explicit sizes: with no classes, -1 would be ambiguous
    return xp.reshape(a, (math.prod(a.shape[:-1]), a.shape[-1]))


def classes_back(xp: Any, a: Array, shape: tuple[int, ...]) -> Array:
    """The inverse of :func:`classes_last` for an array of the original ``shape``."""
    if len(shape) <= 2:
        return xp.reshape(a, shape)
    moved = (shape[0], *shape[2:], shape[1])
    a = xp.reshape(a, moved)
    return xp.permute_dims(a, (0, len(shape) - 1, *range(1, len(shape) - 1)))


def _target_shape(fn: str, input: Array, target: Array, why: str) -> tuple[int, ...]:
    """Check an index target against the input (torch's rules); return the 'none' shape."""
    shape, tshape = tuple(input.shape), tuple(target.shape)
    if input.ndim == 0:
        raise ValueError(f"{fn}: input must have at least 1 dimension (C) or (N, C, ...), got ().")
    if input.ndim == 1:
        if tshape not in ((), (1,)):
            raise ValueError(
                f"{fn}: an unbatched input of shape {shape_str(shape)} takes one class index "
                f"(a target of shape () or (1,)), got target shape {shape_str(tshape)}{why}."
            )
        return ()
    expected = (shape[0], *shape[2:])
    if tshape != expected:
        raise ValueError(
            f"{fn}: for input of shape {shape_str(shape)} (N, C, ...) the target must hold "
            f"one class index per sample, shape {shape_str(expected)}; got "
            f"{shape_str(tshape)}{why}."
        )
    return expected


class IndexTargets:
    """Class-index targets laid out against ``(M, C)`` scores.

    Attributes:
        out_shape: the shape of ``reduction='none'`` (the target's, ``()`` unbatched).
        x: the scores as ``(M, C)``.
        keep: ``(M)`` bool, the targets that are not ``ignore_index``.
        safe: ``(M)`` the targets with ignored ones replaced by class 0 (safe to gather).
        weight: the per-class weights cast to the scores' dtype, or ``None``.
        picked_weight: ``weight[safe]``, or ``None``.
    """

    def __init__(self, out_shape: tuple[int, ...], x: Array, keep: Array, safe: Array,
                 weight: Array | None, picked_weight: Array | None) -> None:
        self.out_shape, self.x, self.keep, self.safe = out_shape, x, keep, safe
        self.weight, self.picked_weight = weight, picked_weight

    @property
    def n_classes(self) -> int:
        return self.x.shape[-1]


def index_targets(fn: str, xp: Any, input: Array, target: Array, weight: Array | None,
                  ignore_index: int, why: str = "") -> IndexTargets:
    """Shapes, checks and the ``(M, C)`` layout shared by nll_loss and cross_entropy."""
    require_float(fn, xp, input=input)
    require_integer(fn, xp, "target", target, "class indices", why)
    out_shape = _target_shape(fn, input, target, why)
    x = classes_last(xp, input)
    t = xp.reshape(target, (-1,))
    n_classes = x.shape[-1]
    check_class_indices(fn, xp, t, n_classes, ignore_index)
    keep = t != ignore_index
    safe = xp.where(keep, t, xp.zeros_like(t))
    w = class_weight(fn, xp, weight, n_classes, x.dtype)
    return IndexTargets(out_shape, x, keep, safe, w, None if w is None else take(xp, w, safe))


def kept_weight(xp: Any, keep: Array, picked_weight: Array | None, dtype: Any) -> Array:
    """torch's ``nll_loss_nd`` 'mean' divisor: the summed weights of the non-ignored targets
    (their count when unweighted); all ignored gives 0, and the mean 0 / 0 = nan."""
    if picked_weight is None:
        return xp.sum(xp.astype(keep, dtype))
    return xp.sum(xp.where(keep, picked_weight, xp.zeros_like(picked_weight)))


def index_divisor(xp: Any, target: Array, weight: Array | None, ignore_index: int,
                  dtype: Any) -> Array:
    """:func:`kept_weight` of class-index targets (any shape) and a per-class ``weight``."""
    t = xp.reshape(target, (-1,))
    keep = t != ignore_index
    picked = None if weight is None else take(xp, weight, xp.where(keep, t, xp.zeros_like(t)))
    return kept_weight(xp, keep, picked, dtype)


def _index_mean_of(xp: Any, input: Array, target: Array, weight: Array | None = None,
                   ignore_index: int = -100, **_: Any) -> Any:
    if input.ndim > 0 and tuple(input.shape) == tuple(target.shape):
        return None  # cross_entropy with class probabilities: the number of positions
    return index_divisor(xp, target, weight, ignore_index, input.dtype)


#: The 'mean' of nll_loss and of cross_entropy with class indices.
INDEX_MEAN = Divisor("Σ weight[target] of the non-ignored targets (their number when "
                     "unweighted)", _index_mean_of)


class IndexRows:
    """Cross-entropy of class-index targets with label smoothing ε, row by row.

    With ``a = w ⊙ ((1-ε)·onehot(y) + ε/C)`` a row's loss is ``-Σ_c a_c·lp_c`` and its
    gradient ``softmax(x)·Σ_c a_c - a``. Every log-probability is formed from the shifted
    logits ``x - max(x)`` and ``lse = log Σ exp(x - max(x))``: no large number is subtracted
    from another, so logits of ±1e4 (or 1e30) in float32 keep the log-sum-exp's correction.
    """

    def __init__(self, xp: Any, it: IndexTargets, smoothing: float, work: Any) -> None:
        self.xp, self.it, self.eps, self.work = xp, it, smoothing, work
        self.n_classes = it.n_classes
        ones = xp.ones((it.x.shape[0],), dtype=work)
        self.wy = ones if it.picked_weight is None else astype(xp, it.picked_weight, work)
        self.w = None if it.weight is None else astype(xp, it.weight, work)
        self.total_weight = float(self.n_classes) if self.w is None else xp.sum(self.w)

    def forward(self, xb: Array, rows: slice, ge: Array | None
                ) -> tuple[Array, Array, Array, Array | None, Array | None]:
        """Row maxima, shifted log-sum-exps, -lp[y], the smoothing sums Σ_c w_c·(-lp_c)
        (``None`` without smoothing) and, given the rows' upstream ``ge``, their gradient."""
        xp = self.xp
        top = xp.max(xb, axis=-1)
        shifted = xb - top[:, None]
        e = xp.exp(shifted)
        total = xp.sum(e, axis=-1)
        lse = xp.log(total)
        nll = lse - take_last(xp, shifted, self.it.safe[rows])
        spread = None
        if self.eps > 0.0:
            spread = (self.n_classes * lse - xp.sum(shifted, axis=-1) if self.w is None
                      else self.total_weight * lse - xp.vecdot(shifted, self.w[None, :],
                                                               axis=-1))
        grad = None if ge is None else self.grad(e / total[:, None], rows, ge)
        return top, lse, nll, spread, grad

    def grad(self, softmax: Array, rows: slice, ge: Array) -> Array:
        """The gradient of rows ``rows`` (upstream ``ge`` per row, 0 where ignored)."""
        xp, eps, n_classes = self.xp, self.eps, self.n_classes
        wy_b = self.wy[rows]
        suma = (1.0 - eps) * wy_b + (eps / n_classes) * self.total_weight
        dx = softmax * (ge * suma)[:, None]
        if eps > 0.0:
            spread = (ge * (eps / n_classes))[:, None]
            dx = dx - (spread if self.w is None else spread * self.w[None, :])
        return subtract_at(xp, dx, self.it.safe[rows], ge * ((1.0 - eps) * wy_b))


def row_pass(xp: Any, rows: IndexRows, x: Array, ge: Array | None
              ) -> tuple[Array, Array, Array, Array | None, Array | None]:
    """:meth:`IndexRows.forward` over all rows: large NumPy logits row block by row block
    (in cache, on threads), gradient rows written in the same pass when ``ge`` is given."""
    if 0 in x.shape:  # no rows, or no classes (then every target is ignore_index, checked):
        # terms of 0, without a maximum over nothing (which Dask cannot take)
        zeros = xp.zeros((x.shape[0],), dtype=x.dtype)
        spread = zeros if rows.eps > 0.0 else None
        return zeros, zeros, zeros, spread, None if ge is None else xp.zeros_like(x)
    if not blockable(xp, x):
        return rows.forward(x, slice(None), ge)
    dx = None if ge is None else xp.empty(tuple(x.shape), dtype=x.dtype)

    def block(start: int, parts: tuple[Array, ...]) -> tuple[Array, ...]:
        part = slice(start, start + parts[0].shape[0])
        out = rows.forward(parts[0], part, None if ge is None else ge[part])
        if dx is not None:
            dx[part, ...] = out[4]
        return out[:4]

    results = map_blocks(block, x, rows=True)
    columns = [xp.concat([r[k] for r in results]) if results[0][k] is not None else None
               for k in range(4)]
    return columns[0], columns[1], columns[2], columns[3], dx
