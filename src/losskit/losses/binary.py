"""The binary family: binary_cross_entropy, binary_cross_entropy_with_logits and
soft_margin_loss, two-class losses of one score or probability per element.

All three are elementwise: they hand their terms to the core's elementwise path.
"""

from __future__ import annotations

from typing import Any

from .._core import reduction as _reduction
from .._core.elementwise import Terms, elementwise
from .._core.gradients import Pullback, Want, differentiable
from .._core.namespace import Array, astype, is_lazy, namespace, quiet, result_dtype, shape_str
from .._core.stable import log_sigmoid, log_sigmoid_pair, sigmoid, softplus
from .._core.validation import broadcast_shapes, require_float, require_real

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "soft_margin_loss"]


def _same_size(fn: str, input: Array, target: Array) -> None:
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(
            f"{fn}: target must have exactly the input's shape {shape_str(input.shape)} "
            f"(no broadcasting, as in torch), got {shape_str(target.shape)}."
        )


def _expandable(fn: str, name: str, w: Array, shape: tuple[int, ...]) -> None:
    """``weight``/``pos_weight`` broadcast to the target's shape but may not enlarge it."""
    full = broadcast_shapes(fn, **{name: tuple(w.shape)}, target=shape)
    if full != shape:
        raise ValueError(
            f"{fn}: `{name}` of shape {shape_str(w.shape)} must broadcast to the target's "
            f"shape {shape_str(shape)} without enlarging it (it would give "
            f"{shape_str(full)})."
        )


def _check_probabilities(fn: str, xp: Any, input: Array, target: Array) -> None:
    """Eager range checks of binary_cross_entropy (NaN fails them, as in torch)."""
    for name, a in (("input", input), ("target", target)):
        if is_lazy(a) or a.shape == (0,) or 0 in a.shape:
            continue
        # two reductions, not four passes of masks; a nan minimum or maximum fails, as in torch
        if not (bool(xp.min(a) >= 0) and bool(xp.max(a) <= 1)):
            hint = ""
            if name == "input":
                hint = (
                    "; it looks like logits (raw scores), which is what "
                    "binary_cross_entropy_with_logits takes"
                )
            raise ValueError(
                f"{fn}: every element of `{name}` must be a probability in [0, 1], got values "
                f"from {float(xp.min(a))!r} to {float(xp.max(a))!r}{hint}."
            )


@differentiable
def binary_cross_entropy(
    input: Array,
    target: Array,
    weight: Array | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    *,
    _want: Want | None = None,
) -> tuple[Array, Pullback]:
    """Binary cross-entropy of probabilities, as ``torch.nn.functional.binary_cross_entropy``.

    ``L = -w·[y·max(log x, -100) + (1 - y)·max(log(1 - x), -100)]``: each log is clamped at
    -100, as torch does, so ``x = 0, y = 1`` gives 100 instead of infinity.

    Args:
        input: probabilities in ``[0, 1]`` (checked on eager arrays), any shape.
        target: probabilities in ``[0, 1]`` of exactly the input's shape.
        weight: optional weights broadcasting to the input's shape.
        size_average: deprecated (see Reductions in ``help(losskit)``).
        reduce: deprecated (see Reductions in ``help(losskit)``).
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``; ``'mean'`` is ``mean(w·L)``.

    Shape:
        ``'none'`` gives the input's shape; otherwise ``()``.

    Returns:
        The loss in the promoted floating dtype.

    Notes:
        Matches torch (torch requires equal input and target dtypes; losskit promotes).
        The gradient is ``w·(x - y) / max(x(1 - x), 1e-12)``.

    Example:
        >>> import numpy as np
        >>> p, y = np.array([0.9, 0.2, 0.6]), np.array([1.0, 0.0, 1.0])
        >>> round(float(binary_cross_entropy(p, y)), 4)
        0.2798
    """
    fn = "binary_cross_entropy"
    reduction = _reduction.resolve(fn, reduction, size_average, reduce)
    xp = namespace(fn, input=input, target=target, weight=weight)
    require_float(fn, xp, input=input)
    require_real(fn, xp, target=target, weight=weight)
    _same_size(fn, input, target)
    shape = tuple(input.shape)
    if weight is not None:
        _expandable(fn, "weight", weight, shape)
    _check_probabilities(fn, xp, input, target)
    dtype = result_dtype(xp, input, target)

    def loss(x: Array, y: Array) -> Array:
        with quiet(xp):  # log(0) = -inf before the clamp, as in torch
            log_x = xp.maximum(xp.log(x), -100.0)
            log_1mx = xp.maximum(xp.log1p(-x), -100.0)
        return -(y * (log_x - log_1mx) + log_1mx)

    def derivatives(wanted: tuple[bool, ...], x: Array, y: Array) -> tuple[Array | None, ...]:
        dx = (x - y) / xp.maximum(x * (1.0 - x), 1e-12) if wanted[0] else None
        dy = None
        if wanted[1]:
            with quiet(xp):  # torch's target gradient is unclamped: ±inf at x in {0, 1}
                dy = xp.log1p(-x) - xp.log(x)
        return dx, dy

    arrays = (astype(xp, input, dtype), astype(xp, target, dtype))
    w = None if weight is None else astype(xp, weight, dtype)
    terms = Terms(("input", "target"), (input, target), arrays, loss, derivatives)
    return elementwise(xp, terms, shape, reduction, _want, weight=w)


@differentiable
def binary_cross_entropy_with_logits(
    input: Array,
    target: Array,
    weight: Array | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    pos_weight: Array | None = None,
    *,
    _want: Want | None = None,
) -> tuple[Array, Pullback]:
    """Binary cross-entropy of logits, as ``binary_cross_entropy_with_logits`` in torch.

    ``L = -w·[pw·y·log σ(x) + (1 - y)·log σ(-x)]``, computed in the stable form
    ``w·[(1 - y)·x + (1 + (pw - 1)·y)·softplus(-x)]`` (x = 100, y = 0 gives 100).

    Args:
        input: logits, any shape.
        target: targets (usually in ``[0, 1]``; not checked, as in torch) of exactly the
            input's shape.
        weight: optional weights broadcasting to the target's shape (not enlarging it).
        size_average: deprecated (see Reductions in ``help(losskit)``).
        reduce: deprecated (see Reductions in ``help(losskit)``).
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``; ``'mean'`` is ``mean(w·L)``.
        pos_weight: optional weight of the positive term, broadcasting against the trailing
            dimensions of the target (``(C)`` gives one weight per class).

    Shape:
        ``'none'`` gives the input's shape; otherwise ``()``.

    Returns:
        The loss in the **target's** floating dtype (torch's rule; an integer target gives
        the input's dtype).

    Notes:
        Matches torch. The gradient is ``w·((1 + (pw - 1)·y)·σ(x) - pw·y)``.

    Example:
        >>> import numpy as np
        >>> logits, y = np.array([2.0, -1.0, 0.5]), np.array([1.0, 0.0, 1.0])
        >>> round(float(binary_cross_entropy_with_logits(logits, y)), 4)
        0.3048
    """
    fn = "binary_cross_entropy_with_logits"
    reduction = _reduction.resolve(fn, reduction, size_average, reduce)
    xp = namespace(fn, input=input, target=target, weight=weight, pos_weight=pos_weight)
    require_float(fn, xp, input=input)
    require_real(fn, xp, target=target, weight=weight, pos_weight=pos_weight)
    _same_size(fn, input, target)
    shape = tuple(input.shape)
    for name, w in (("weight", weight), ("pos_weight", pos_weight)):
        if w is not None:
            _expandable(fn, name, w, shape)
    dtype = target.dtype if xp.isdtype(target.dtype, "real floating") else input.dtype

    def loss(x: Array, y: Array, pw: Array | None = None) -> Array:
        # torch's form, (1 - y)·x - (1 + (pw - 1)·y)·log σ(x): the same nan and inf
        if pw is None:
            return (1.0 - y) * x - log_sigmoid(xp, x)
        return (1.0 - y) * x - (1.0 + (pw - 1.0) * y) * log_sigmoid(xp, x)

    def derivatives(wanted: tuple[bool, ...], x: Array, y: Array, pw: Array | None = None
                    ) -> tuple[Array | None, ...]:
        dx = dy = None
        if pw is None:
            dx = sigmoid(xp, x) - y if wanted[0] else None
            return dx, (-x if wanted[1] else None)
        if wanted[0]:
            dx = (1.0 + (pw - 1.0) * y) * sigmoid(xp, x) - pw * y
        if wanted[1]:
            # torch's log σ(-x) - pw·log σ(x): inf, not nan, at x = -inf
            ls, ls_neg = log_sigmoid_pair(xp, x)
            dy = ls_neg - pw * ls
        return dx, dy, None

    names: tuple[str, ...] = ("input", "target")
    originals: tuple[Array, ...] = (input, target)
    arrays: tuple[Array, ...] = (astype(xp, input, dtype), astype(xp, target, dtype))
    if pos_weight is not None:
        # an operand like the others: blockwise when it has the input's shape
        names, originals = (*names, "pos_weight"), (*originals, pos_weight)
        arrays += (xp.broadcast_to(astype(xp, pos_weight, dtype), shape),)
    w = None if weight is None else astype(xp, weight, dtype)
    terms = Terms(names, originals, arrays, loss, derivatives)
    return elementwise(xp, terms, shape, reduction, _want, weight=w)


@differentiable
def soft_margin_loss(
    input: Array,
    target: Array,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    *,
    _want: Want | None = None,
) -> tuple[Array, Pullback]:
    """Two-class logistic loss, as ``torch.nn.functional.soft_margin_loss``.

    ``L = log(1 + exp(-y·x))``, computed as ``softplus(-y·x)``.

    Args:
        input: scores, any shape, floating point.
        target: labels ``1`` or ``-1`` (not checked, as in torch), broadcasting to the
            input's shape (not beyond it).
        size_average: deprecated (see Reductions in ``help(losskit)``).
        reduce: deprecated (see Reductions in ``help(losskit)``).
        reduction: ``'none'`` | ``'mean'`` | ``'sum'`` (see Reductions in ``help(losskit)``).

    Shape:
        ``'none'`` gives the input's shape; otherwise ``()``.

    Returns:
        The loss in the input's dtype.

    Notes:
        Deviation (see Deviations in ``help(losskit)``): torch computes
        ``log(1 + exp(-y·x))`` naively and returns ``inf`` (gradient NaN) once ``-y·x``
        passes about 88 in float32; losskit returns the finite value ``-y·x`` and gradient
        ``-y``. The target gets no gradient.

    Example:
        >>> import numpy as np
        >>> x, y = np.array([2.0, -0.5, 100.0]), np.array([1.0, 1.0, -1.0])
        >>> soft_margin_loss(x, y, reduction='none').round(4)
        array([  0.1269,   0.9741, 100.    ])
    """
    fn = "soft_margin_loss"
    reduction = _reduction.resolve(fn, reduction, size_average, reduce)
    xp = namespace(fn, input=input, target=target)
    require_float(fn, xp, input=input)
    require_real(fn, xp, target=target)
    shape = tuple(input.shape)
    full = broadcast_shapes(fn, input=shape, target=tuple(target.shape))
    if full != shape:
        raise ValueError(
            f"{fn}: target of shape {shape_str(target.shape)} must broadcast to the input's "
            f"shape {shape_str(shape)} without enlarging it (it would give {shape_str(full)})."
        )
    dtype = input.dtype

    def loss(x: Array, y: Array) -> Array:
        return softplus(xp, -(y * x))

    def derivatives(wanted: tuple[bool, ...], x: Array, y: Array) -> tuple[Array | None, ...]:
        return (-y * sigmoid(xp, -(y * x)) if wanted[0] else None), None

    arrays = (input, astype(xp, target, dtype))
    terms = Terms(("input", "target"), (input, target), arrays, loss, derivatives)
    return elementwise(xp, terms, shape, reduction, _want)
