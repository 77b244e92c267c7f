"""Ranking losses: margin_ranking."""

from __future__ import annotations

from . import _reduction
from ._gradients import Pullback, differentiable, grad_like
from ._namespace import Array, astype, default_float, is_integer, namespace, numel, result_dtype
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
    x1, x2, y = (astype(xp, a, dtype) for a in (input1, input2, target))
    diff = x1 - x2
    z = margin - y * diff
    # clip(min=0) has torch's clamp_min gradient: active at z == 0
    loss = xp.clip(z, min=0.0)
    value = _reduction.apply(xp, loss, reduction)

    def pullback(g: Array) -> tuple[Array | None, ...]:
        ge = xp.where(z >= 0, _reduction.upstream(g, reduction, numel(loss)), 0.0)
        dx1 = -y * ge
        return (
            grad_like(xp, dx1, input1, shape),
            grad_like(xp, -dx1, input2, shape),
            grad_like(xp, -diff * ge, target, shape),
        )

    return value, pullback
