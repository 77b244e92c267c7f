"""Multi-class and multi-label margin losses: multilabel_margin, multilabel_soft_margin,
multi_margin."""

from __future__ import annotations

from typing import Any

from . import _reduction
from ._gradients import Pullback, differentiable, grad_like
from ._math import sigmoid, softplus
from ._namespace import (
    Array,
    astype,
    is_lazy,
    namespace,
    numel,
    quiet,
    result_dtype,
    shape_str,
    take,
    take_last,
)
from ._validation import (
    broadcast_shapes,
    check_class_indices,
    check_number,
    class_weight,
    require_float,
    require_integer,
    require_real,
)

__all__ = ["multi_margin_loss", "multilabel_margin_loss", "multilabel_soft_margin_loss"]

_INDEX_FORMAT = "class indices padded with -1 (e.g. [0, 3, -1, -1])"
_MULTI_HOT = (
    "a multi-hot vector like [1, 0, 0, 1] is the format of multilabel_soft_margin_loss"
)


def _check_targets(fn: str, xp: Any, t: Array, n_classes: int, has_stop: Array) -> None:
    """Eager value checks of multilabel index targets (skipped for lazy arrays)."""
    if t.shape[0] == 0:
        return
    low, high = int(xp.min(t)), int(xp.max(t))
    if low < -1 or high >= n_classes:
        raise ValueError(
            f"{fn}: target must hold {_INDEX_FORMAT}, got values outside "
            f"[-1, {n_classes - 1}] (min {low}, max {high}); {_MULTI_HOT}."
        )
    if n_classes >= 3 and not bool(xp.all(has_stop)):
        # 0/1 everywhere and no -1: a multi-hot row, which torch would silently read as
        # the indices 0 and 1 repeated
        multi_hot = xp.all((t == 0) | (t == 1), axis=1)
        if bool(xp.any(multi_hot)):
            row = int(xp.argmax(xp.astype(multi_hot, xp.int8)))
            values = [int(v) for v in t[row, ...]]
            indices = [c for c, v in enumerate(values) if v == 1]
            converted = indices + [-1] * (n_classes - len(indices))
            raise ValueError(
                f"{fn}: target row {row} is {values}, which looks like a multi-hot vector "
                f"(0/1 per class, no -1 padding); this loss wants {_INDEX_FORMAT}, here "
                f"{converted}. Multi-hot targets are the format of "
                "multilabel_soft_margin_loss."
            )


@differentiable
def multilabel_margin_loss(
    input: Array,
    target: Array,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> tuple[Array, Pullback]:
    """Multi-label hinge loss, as ``torch.nn.functional.multilabel_margin_loss``.

    Each target row lists the sample's classes, read left to right up to the first ``-1``
    (the list ``J``, duplicates kept); every other class is a non-target. Per sample
    ``L = Σ_{j ∈ J} Σ_{i ∉ J} max(0, 1 - (x[j] - x[i])) / C``: each target class should
    beat each non-target class by a margin of 1.

    Args:
        input: scores of shape ``(C)`` or ``(N, C)``.
        target: integer class indices of the input's shape, padded with ``-1``
            (``[0, 3, -1, -1]`` = classes 0 and 3). A multi-hot ``[1, 0, 0, 1]`` is the
            format of ``multilabel_soft_margin_loss`` and is refused with that hint.
        size_average: deprecated, see ``docs/reductions.md``.
        reduce: deprecated, see ``docs/reductions.md``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'`` over samples (``docs/reductions.md``).

    Shape:
        ``'none'`` gives ``(N)``, or ``()`` for a 1-D input; otherwise ``()``.

    Returns:
        The loss in the input's dtype.

    Notes:
        Matches torch 2.13; at exactly the margin the gradient is 0 (torch's strict ``>``).
        Deviations (``docs/deviations.md``): an empty batch gives nan/0 (torch returns
        uninitialised memory); any integer target dtype is accepted; multi-hot rows raise.

    Example:
        >>> import numpy as np
        >>> x = np.array([[1.0, 2.0, 3.0, 4.0]])
        >>> multilabel_margin_loss(x, np.array([[0, 3, -1, -1]]))
        array(1.25)
    """
    fn = "multilabel_margin_loss"
    reduction = _reduction.resolve(fn, reduction, size_average, reduce)
    xp = namespace(fn, input=input, target=target)
    require_float(fn, xp, input=input)
    hint = f"; {_MULTI_HOT}" if xp.isdtype(target.dtype, "real floating") else ""
    require_integer(fn, xp, "target", target, _INDEX_FORMAT, hint)
    if input.ndim > 2 or (input.ndim >= 1 and input.shape[-1] == 0):
        raise ValueError(
            f"{fn}: input must have shape (C) or (N, C) with C > 0, got {shape_str(input.shape)}."
        )
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"{fn}: target must have exactly the input's shape {shape_str(input.shape)} "
            f"(one row of {_INDEX_FORMAT} per sample), got {shape_str(target.shape)}."
        )
    n_classes = input.shape[-1] if input.ndim else 1
    x = xp.reshape(input, (-1, n_classes))
    t = xp.reshape(target, (-1, n_classes))
    stop = t == -1
    has_stop = xp.any(stop, axis=1)
    # a row is read up to its first -1
    length = xp.where(has_stop, xp.argmax(xp.astype(stop, xp.int8), axis=1), n_classes)
    eager = not (is_lazy(t) or is_lazy(x))
    if eager:
        _check_targets(fn, xp, t, n_classes, has_stop)
    # loop over slots (target positions) up to the longest row: torch's O(N·|J|·C) work
    slots = int(xp.max(length)) if eager and t.shape[0] > 0 else n_classes
    small = xp.int16 if n_classes < 2**15 else t.dtype  # cheaper one-hot comparisons
    valid = xp.reshape(xp.arange(slots), (1, slots)) < length[:, None]
    # each slot's class, -1 where the slot is not read (after the row's first -1)
    index = xp.where(valid, xp.astype(t[:, :slots], small), xp.asarray(-1, dtype=small))
    classes = xp.reshape(xp.arange(n_classes, dtype=small), (1, n_classes))
    dtype = x.dtype
    is_target = xp.zeros(tuple(t.shape), dtype=xp.bool)
    for k in range(slots):
        is_target = is_target | (index[:, k : k + 1] == classes)
    non_target = ~is_target
    # the margin of each slot's class j against every class i is 1 - (x[j] - x[i])
    gather = xp.where(valid, t[:, :slots], xp.zeros_like(t[:, :slots]))
    shifted = [take_last(xp, x, gather[:, k]) - 1.0 for k in range(slots)]
    zero = xp.zeros((), dtype=dtype)
    # finite scores (checked on eager arrays) allow the fast form: max(z, 0) times a 0/1
    # mask, summed as one product; otherwise masks select, so that inf - inf at a target
    # class or a NaN margin adds nothing, as in torch's kernel
    fast = eager and bool(xp.all(xp.isfinite(x)))
    weights = xp.astype(non_target, dtype) if fast else None

    total = xp.zeros((x.shape[0],), dtype=dtype)
    for k in range(slots):
        z = x - shifted[k][:, None]
        if weights is not None:
            row = xp.vecdot(xp.maximum(z, zero), weights, axis=-1)
        else:
            row = xp.sum(xp.where((z > 0) & non_target, z, zero), axis=1)
        total = total + xp.where(valid[:, k], row, zero)
    per_sample = total / n_classes
    if input.ndim <= 1:
        per_sample = xp.reshape(per_sample, ())
    value = _reduction.apply(xp, per_sample, reduction)

    def pullback(g: Array) -> tuple[Array | None, ...]:
        ge = _reduction.upstream(g, reduction, numel(per_sample)) / n_classes
        ge = xp.reshape(ge * xp.ones_like(per_sample), (-1, 1))
        dx = xp.zeros_like(x)
        for k in range(slots):
            # each active pair (j, i): +1 on the non-target i, -1 on the slot's class j
            active = (x > shifted[k][:, None]) & non_target & valid[:, k : k + 1]
            active = xp.astype(active, dtype)
            pairs = xp.sum(active, axis=1, keepdims=True)
            dx = dx + active - xp.astype(index[:, k : k + 1] == classes, dtype) * pairs
        shape = tuple(input.shape)
        return grad_like(xp, xp.reshape(dx * ge, shape), input, shape), None

    return value, pullback


@differentiable
def multilabel_soft_margin_loss(
    input: Array,
    target: Array,
    weight: Array | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> tuple[Array, Pullback]:
    """Multi-label one-versus-all logistic loss, as torch's ``multilabel_soft_margin_loss``.

    Per class ``L = -(y·log σ(x) + (1 - y)·log σ(-x))`` (computed as ``softplus(x) - y·x``),
    times ``weight``; per sample the sum over the last axis divided by ``C``.

    Args:
        input: scores, ``(..., C)`` with at least one dimension.
        target: multi-hot labels in ``{0, 1}`` (e.g. ``[1, 0, 0, 1]``; not checked, as in
            torch), broadcasting with the input.
        weight: optional weights broadcasting with the input (``(C)`` per class).
        size_average: deprecated, see ``docs/reductions.md``.
        reduce: deprecated, see ``docs/reductions.md``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'`` over samples (``docs/reductions.md``).

    Shape:
        ``'none'`` gives the broadcast shape without its last axis (``()`` for a 1-D input).

    Returns:
        The loss in the promoted floating dtype.

    Notes:
        Matches torch 2.13. The per-sample sum is divided by ``C = input.shape[-1]``, not by
        the summed weights.

    Example:
        >>> import numpy as np
        >>> x, y = np.array([[1.0, -2.0, 0.5, 3.0]]), np.array([[1, 0, 0, 1]])
        >>> round(float(multilabel_soft_margin_loss(x, y)), 4)
        0.3657
    """
    fn = "multilabel_soft_margin_loss"
    # torch checks this string itself and refuses 'elementwise_mean'
    reduction = _reduction.resolve(fn, reduction, size_average, reduce, elementwise_mean=False)
    xp = namespace(fn, input=input, target=target, weight=weight)
    require_float(fn, xp, input=input)
    require_real(fn, xp, target=target, weight=weight)
    if input.ndim == 0:
        raise ValueError(f"{fn}: input must have a class axis, (C) or (N, C), got shape ().")
    shapes = {"input": tuple(input.shape), "target": tuple(target.shape)}
    if weight is not None:
        shapes["weight"] = tuple(weight.shape)
    full = broadcast_shapes(fn, **shapes)
    dtype = result_dtype(xp, input, target, *(() if weight is None else (weight,)))
    x, y = astype(xp, input, dtype), astype(xp, target, dtype)
    w = None if weight is None else astype(xp, weight, dtype)
    n_classes = input.shape[-1]
    terms = softplus(xp, x) - y * x
    if w is not None:
        terms = terms * w
    with quiet(xp):  # C = 0 gives 0 / 0 = nan, as in torch
        per_sample = xp.sum(terms, axis=-1) / n_classes
    value = _reduction.apply(xp, per_sample, reduction)

    def pullback(g: Array) -> tuple[Array | None, ...]:
        ge = _reduction.upstream(g, reduction, numel(per_sample)) * xp.ones_like(per_sample)
        ge = ge[..., None] / n_classes
        if w is not None:
            ge = ge * w
        return (
            grad_like(xp, (sigmoid(xp, x) - y) * ge, input, full),
            grad_like(xp, -x * ge, target, full),
        )

    return value, pullback


def _margin_target(fn: str, xp: Any, input: Array, target: Array) -> tuple[int, ...]:
    """torch's accepted target shapes for multi_margin_loss; returns the 'none' shape."""
    require_integer(fn, xp, "target", target, "class indices")
    batch = input.shape[0] if input.ndim == 2 else 1
    tshape = tuple(target.shape)
    if tshape == (batch,) or (tshape == () and batch == 1):
        return () if tshape == () else tshape
    raise ValueError(
        f"{fn}: target must hold one class index per sample, shape ({batch},), got "
        f"{shape_str(tshape)} for input of shape {shape_str(input.shape)}."
    )


@differentiable
def multi_margin_loss(
    input: Array,
    target: Array,
    p: int = 1,
    margin: float = 1.0,
    weight: Array | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> tuple[Array, Pullback]:
    """Multi-class hinge loss, as ``torch.nn.functional.multi_margin_loss``.

    Per sample with class ``y``: ``L = Σ_{i ≠ y} w[y]·max(0, margin - x[y] + x[i])^p / C``;
    the weight of the *target* class multiplies every term.

    Args:
        input: scores ``(C)`` or ``(N, C)``.
        target: integer class indices ``(N)`` (``()`` or ``(1,)`` for one sample).
        p: ``1`` or ``2``.
        margin: the required gap (may be negative, as in torch).
        weight: optional per-class weights, shape ``(C)``.
        size_average: deprecated, see ``docs/reductions.md``.
        reduce: deprecated, see ``docs/reductions.md``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'`` over samples; ``'mean'`` divides by N,
            not by the weights (``docs/reductions.md``).

    Shape:
        ``'none'`` gives the target's shape (``(N)``, ``()`` or ``(1,)``).

    Returns:
        The loss in the input's dtype.

    Notes:
        Matches torch 2.13 (strict ``> 0``: no gradient at exactly the margin). An empty batch
        gives nan/0 where torch returns uninitialised memory (``docs/deviations.md``).

    Example:
        >>> import numpy as np
        >>> x = np.array([[0.1, 0.2, 0.4, 0.8]])
        >>> round(float(multi_margin_loss(x, np.array([3]))), 4)
        0.325
    """
    fn = "multi_margin_loss"
    reduction = _reduction.resolve(fn, reduction, size_average, reduce)
    if isinstance(p, bool) or p not in (1, 2):
        raise ValueError(
            f"{fn}: `p` must be 1 or 2 (only p == 1 and p == 2 supported), got {p!r}."
        )
    margin = check_number(fn, "margin", margin)
    xp = namespace(fn, input=input, target=target, weight=weight)
    require_float(fn, xp, input=input)
    if input.ndim not in (1, 2) or input.shape[-1] == 0:
        raise ValueError(
            f"{fn}: input must have shape (C) or (N, C) with C > 0, got {shape_str(input.shape)}."
        )
    out_shape = _margin_target(fn, xp, input, target)
    n_classes = input.shape[-1]
    x = xp.reshape(input, (-1, n_classes))
    w = class_weight(fn, xp, weight, n_classes, x.dtype)
    t = xp.reshape(target, (-1,))
    check_class_indices(fn, xp, t, n_classes)
    classes = xp.arange(n_classes, dtype=t.dtype)
    other = t[:, None] != classes
    z = (margin - take_last(xp, x, t))[:, None] + x
    active = (z > 0) & other  # torch's strict inequality; the target class never counts
    zero = xp.zeros((), dtype=x.dtype)
    hinge = xp.where(active, z, zero)
    scale = (1.0 / n_classes) * (
        xp.ones((x.shape[0],), dtype=x.dtype) if w is None else take(xp, w, t)
    )
    per_sample = xp.sum(hinge if p == 1 else hinge * hinge, axis=1) * scale
    value = _reduction.apply(xp, xp.reshape(per_sample, out_shape), reduction)

    def pullback(g: Array) -> tuple[Array | None, ...]:
        ge = _reduction.upstream(g, reduction, numel(per_sample))
        ge = xp.reshape(ge * xp.ones_like(per_sample), (-1,)) * scale
        slope = xp.astype(active, x.dtype) if p == 1 else 2.0 * hinge
        dx = (slope - xp.astype(~other, x.dtype) * xp.sum(slope, axis=1, keepdims=True))
        dx = xp.reshape(dx * ge[:, None], tuple(input.shape))
        return grad_like(xp, dx, input, tuple(input.shape)), None

    return value, pullback
