"""Ranking losses: margin_ranking."""

from __future__ import annotations

from . import _reduction
from ._elementwise import elementwise
from ._gradients import Pullback, differentiable
from ._namespace import Array, astype, default_float, is_integer, namespace, result_dtype
from ._validation import (
    broadcast_shapes,
    check_number,
    check_same_ndim,
    refuse_bool,
    require_real,
)

__all__ = ["margin_ranking_loss"]


@differentiable
def margin_ranking_loss(
    input1: Array,
    input2: Array,
    target: Array,
    margin: float = 0.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> tuple[Array, Pullback]:
    """Margin ranking loss, as ``torch.nn.functional.margin_ranking_loss``.

    ``L = max(0, -target * (input1 - input2) + margin)``: ``target = 1`` says ``input1``
    should rank higher, ``-1`` that ``input2`` should. The target is a plain multiplier
    (not validated, as in torch).

    Args:
        input1: scores of the first items.
        input2: scores of the second items.
        target: ``1`` or ``-1`` per pair. All three need the same number of dimensions,
            then broadcast.
        margin: the required gap.
        size_average: deprecated, see ``docs/reductions.md``.
        reduce: deprecated, see ``docs/reductions.md``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'`` (``docs/reductions.md``).

    Shape:
        ``'none'`` gives the broadcast shape; otherwise ``()``.

    Returns:
        The loss in the promoted floating dtype (integer inputs give the default float).

    Notes:
        Matches torch 2.13; at exactly the margin the gradient is the full one (torch's
        ``clamp_min`` convention).

    Example:
        >>> import numpy as np
        >>> x1, x2 = np.array([1.0, 2.0, 3.0]), np.array([2.0, 3.0, 4.0])
        >>> round(float(margin_ranking_loss(x1, x2, np.array([1.0, -1.0, 1.0]))), 4)
        0.6667
    """
    fn = "margin_ranking_loss"
    reduction = _reduction.resolve(fn, reduction, size_average, reduce)
    margin = check_number(fn, "margin", margin)
    xp = namespace(fn, input1=input1, input2=input2, target=target)
    refuse_bool(fn, xp, input1=input1, input2=input2, target=target)
    require_real(fn, xp, input1=input1, input2=input2, target=target)
    check_same_ndim(fn, input1=input1, input2=input2, target=target)
    shape = broadcast_shapes(
        fn, input1=tuple(input1.shape), input2=tuple(input2.shape), target=tuple(target.shape)
    )
    dtype = result_dtype(xp, input1, input2, target)
    if is_integer(xp, dtype):
        dtype = default_float(xp, input1)
    def loss(x1: Array, x2: Array, y: Array) -> Array:
        # clip(min=0) has torch's clamp_min gradient: active at z == 0
        return xp.clip(margin - y * (x1 - x2), min=0.0)

    def derivatives(x1: Array, x2: Array, y: Array) -> tuple[Array, Array, Array]:
        diff = x1 - x2
        active = xp.astype(margin - y * diff >= 0, diff.dtype)
        dx1 = -(y * active)
        return dx1, -dx1, -(diff * active)

    originals = (input1, input2, target)
    arrays = tuple(astype(xp, a, dtype) for a in originals)
    return elementwise(xp, originals, arrays, shape, loss, derivatives, reduction)
