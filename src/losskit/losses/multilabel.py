"""The multilabel family: multilabel_margin_loss and multilabel_soft_margin_loss, losses of
samples that belong to several classes at once.

The two take different target formats, a classic confusion: multilabel_margin_loss wants
class indices padded with -1 (``[0, 3, -1, -1]``), multilabel_soft_margin_loss a multi-hot
vector (``[1, 0, 0, 1]``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._core import reduction as _reduction
from .._core.gradients import Pullback, Want, differentiable, grad_like
from .._core.indexing import take_last
from .._core.loops import per_batch, scan
from .._core.namespace import (
    Array,
    astype,
    is_dask,
    is_lazy,
    namespace,
    opmath,
    quiet,
    result_dtype,
    shape_str,
)
from .._core.stable import log_sigmoid_pair, sigmoid
from .._core.validation import (
    broadcast_shapes,
    require_float,
    require_integer,
    require_real,
)

__all__ = ["multilabel_margin_loss", "multilabel_soft_margin_loss"]

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
                f"(0/1 per class, no -1 padding); this loss wants class indices padded "
                f"with -1, here {converted}. Multi-hot targets are the format of "
                "multilabel_soft_margin_loss."
            )


@differentiable
def multilabel_margin_loss(
    input: Array,
    target: Array,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    *,
    _want: Want | None = None,
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
        size_average: deprecated (see Reductions in ``help(losskit)``).
        reduce: deprecated (see Reductions in ``help(losskit)``).
        reduction: ``'none'`` | ``'mean'`` | ``'sum'`` over samples (see Reductions in
            ``help(losskit)``).

    Shape:
        ``'none'`` gives ``(N)``, or ``()`` for a 1-D input; otherwise ``()``.

    Returns:
        The loss in the input's dtype.

    Notes:
        Matches torch; at exactly the margin the gradient is 0 (torch's strict ``>``).
        Deviations (see Deviations in ``help(losskit)``): an empty batch gives nan/0 (torch returns
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
    x, t = _multilabel_inputs(fn, xp, input, target)
    work = opmath(xp, x.dtype)  # half precision in float32 (torch has no half kernel here)
    x = astype(xp, x, work)
    n_classes = x.shape[-1]
    sums, pair_gradient = _hinge_sums(xp, x, t)
    per_sample = sums / n_classes
    if input.ndim <= 1:
        per_sample = xp.reshape(per_sample, ())
    value = astype(xp, _reduction.apply(xp, per_sample, reduction), input.dtype)

    def pullback(g: Array) -> dict[str, Array | None]:
        if _want is None or "input" not in _want:
            return {}
        ge = _reduction.per_term(xp, astype(xp, g, work), reduction, per_sample) / n_classes
        dx = pair_gradient(xp.reshape(ge, (-1,)))
        shape = tuple(input.shape)
        return {"input": grad_like(xp, xp.reshape(dx, shape), input, shape)}

    return value, pullback


def _hinge_sums(xp: Any, x: Array, t: Array) -> tuple[Array, Callable[[Array], Array]]:
    """Each row's Σ_{j ∈ J} Σ_{i ∉ J} max(0, 1 - (x[j] - x[i])) and ``gradient(ge)``, the
    gradient of those sums times each row's ``ge``: on Dask once per batch chunk (whole rows),
    elsewhere slot by slot (:class:`_Slots`)."""
    if is_dask(x):
        import numpy as np

        def forward(x_b: Any, t_b: Any) -> Any:
            return _Slots(np, x_b, t_b).hinge_sums()

        def backward(x_b: Any, t_b: Any, ge_b: Any) -> Any:
            return _Slots(np, x_b, t_b).pair_gradient() * ge_b[:, None]

        sums = per_batch(forward, [x, t], ["nc", "nc"], "n", x.dtype)
        return sums, lambda ge: per_batch(backward, [x, t, ge], ["nc", "nc", "n"], "nc",
                                          x.dtype)
    slots = _Slots(xp, x, t)
    return slots.hinge_sums(), lambda ge: slots.pair_gradient() * ge[:, None]


def _multilabel_inputs(fn: str, xp: Any, input: Array, target: Array) -> tuple[Array, Array]:
    """Checks of multilabel_margin_loss; the scores and targets as ``(N, C)``."""
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
    return xp.reshape(input, (-1, n_classes)), xp.reshape(target, (-1, n_classes))


class _Slots:
    """A batch of multilabel index targets read slot by slot: torch's O(N·|J|·C) work.

    Slot ``k`` of a row holds its k-th target class, up to the row's first -1. The slots are
    the core's :func:`scan` (one compiled step under JAX): up to the longest row on eager
    arrays, all C slots on lazy ones, which cannot be read.
    """

    def __init__(self, xp: Any, x: Array, t: Array) -> None:
        self.xp, self.x = xp, x
        n_classes = x.shape[-1]
        stop = t == -1
        has_stop = xp.any(stop, axis=1)
        # a row is read up to its first -1
        length = xp.where(has_stop, xp.argmax(xp.astype(stop, xp.int8), axis=1), n_classes)
        self.eager = not (is_lazy(t) or is_lazy(x))
        if self.eager:
            _check_targets("multilabel_margin_loss", xp, t, n_classes, has_stop)
        slots = int(xp.max(length)) if self.eager and t.shape[0] > 0 else n_classes
        small = xp.int16 if n_classes < 2**15 else t.dtype  # cheaper one-hot comparisons
        valid = xp.reshape(xp.arange(slots), (1, slots)) < length[:, None]
        # each slot's class, -1 where the slot is not read (after the row's first -1); the
        # slots lead, as the loop runs over them
        self.index = xp.permute_dims(
            xp.where(valid, xp.astype(t[:, :slots], small), xp.asarray(-1, dtype=small)), (1, 0))
        self.classes = xp.reshape(xp.arange(n_classes, dtype=small), (1, n_classes))

        def mark(seen: Array, index: Array) -> tuple[Array, None]:
            return seen | (index[:, None] == self.classes), None

        seen, _ = scan(xp, mark, xp.zeros(tuple(x.shape), dtype=xp.bool), self.index)
        self.non_target = ~seen

    def _shifted(self, index: Array) -> tuple[Array, Array]:
        """Whether each row reads this slot, and its class's score minus the margin 1."""
        xp = self.xp
        read = index >= 0
        picked = take_last(xp, self.x, xp.where(read, index, xp.zeros_like(index)))
        return read, picked - 1.0

    def hinge_sums(self) -> Array:
        """Σ over slots j and non-targets i of max(0, 1 - (x[j] - x[i])), per row."""
        xp, x = self.xp, self.x
        zero = xp.zeros((), dtype=x.dtype)
        # finite scores (checked on eager arrays) allow the fast form: max(z, 0) times a 0/1
        # mask, summed as one product; otherwise masks select, so that inf - inf at a target
        # class or a NaN margin adds nothing, as in torch's kernel
        fast = self.eager and bool(xp.all(xp.isfinite(x)))
        weights = xp.astype(self.non_target, x.dtype) if fast else None

        def add(total: Array, index: Array) -> tuple[Array, None]:
            read, shifted = self._shifted(index)
            z = x - shifted[:, None]
            if weights is not None:
                row = xp.vecdot(xp.maximum(z, zero), weights, axis=-1)
            else:
                row = xp.sum(xp.where((z > 0) & self.non_target, z, zero), axis=1)
            return total + xp.where(read, row, zero), None

        total, _ = scan(xp, add, xp.zeros((x.shape[0],), dtype=x.dtype), self.index)
        return total

    def pair_gradient(self) -> Array:
        """Each active pair (j, i) adds +1 on the non-target i and -1 on the slot's class j."""
        xp, x = self.xp, self.x

        def add(dx: Array, index: Array) -> tuple[Array, None]:
            read, shifted = self._shifted(index)
            active = (x > shifted[:, None]) & self.non_target & read[:, None]
            active = xp.astype(active, x.dtype)
            pairs = xp.sum(active, axis=1, keepdims=True)
            return dx + active - xp.astype(index[:, None] == self.classes, x.dtype) * pairs, None

        dx, _ = scan(xp, add, xp.zeros_like(x), self.index)
        return dx


@differentiable
def multilabel_soft_margin_loss(
    input: Array,
    target: Array,
    weight: Array | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    *,
    _want: Want | None = None,
) -> tuple[Array, Pullback]:
    """Multi-label one-versus-all logistic loss, as torch's ``multilabel_soft_margin_loss``.

    Per class ``L = -(y·log σ(x) + (1 - y)·log σ(-x))`` (computed as ``softplus(x) - y·x``),
    times ``weight``; per sample the sum over the last axis divided by ``C``.

    Args:
        input: scores, ``(..., C)`` with at least one dimension.
        target: multi-hot labels in ``{0, 1}`` (e.g. ``[1, 0, 0, 1]``; not checked, as in
            torch), broadcasting with the input.
        weight: optional weights broadcasting with the input (``(C)`` per class).
        size_average: deprecated (see Reductions in ``help(losskit)``).
        reduce: deprecated (see Reductions in ``help(losskit)``).
        reduction: ``'none'`` | ``'mean'`` | ``'sum'`` over samples (see Reductions in
            ``help(losskit)``).

    Shape:
        ``'none'`` gives the broadcast shape without its last axis (``()`` for a 1-D input).

    Returns:
        The loss in the promoted floating dtype.

    Notes:
        Matches torch. The per-sample sum is divided by ``C = input.shape[-1]``, not by
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
    work = opmath(xp, dtype)  # half precision in float32, as torch's CPU kernels
    x, y = astype(xp, input, work), astype(xp, target, work)
    w = None if weight is None else astype(xp, weight, work)
    n_classes = input.shape[-1]
    # torch's form -(y·log σ(x) + (1 - y)·log σ(-x)): inf at x = ±inf where it is right,
    # nan where torch's is (0·inf)
    ls, ls_neg = log_sigmoid_pair(xp, x)
    unweighted = -(y * ls + (1.0 - y) * ls_neg)
    terms = unweighted * w if w is not None else unweighted
    with quiet(xp):  # C = 0 gives 0 / 0 = nan, as in torch
        per_sample = xp.sum(terms, axis=-1) / n_classes
    value = astype(xp, _reduction.apply(xp, per_sample, reduction), dtype)

    def pullback(g: Array) -> dict[str, Array | None]:
        wanted = (False,) * 3 if _want is None else _want.wants("input", "target", "weight")
        ge = _reduction.per_term(xp, astype(xp, g, work), reduction, per_sample)
        ge = ge[..., None] / n_classes
        gw = ge * w if w is not None else ge
        grads: dict[str, Array | None] = {}
        if wanted[0]:
            grads["input"] = grad_like(xp, (sigmoid(xp, x) - y) * gw, input, full)
        if wanted[1]:
            grads["target"] = grad_like(xp, (ls_neg - ls) * gw, target, full)
        if wanted[2] and weight is not None:
            grads["weight"] = grad_like(xp, unweighted * ge, weight, full)
        return grads

    return value, pullback
