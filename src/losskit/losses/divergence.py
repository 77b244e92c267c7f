"""The divergence family: kl_div."""

from __future__ import annotations

from typing import Any

from .._core import reduction as _reduction
from .._core.elementwise import Terms, elementwise
from .._core.gradients import Pullback, Want, differentiable
from .._core.namespace import Array, astype, namespace, quiet, result_dtype
from .._core.reduction import Divisor
from .._core.validation import broadcast_shapes, check_flag, require_float
from .._core.warn import warn

__all__ = ["kl_div"]

def _batch(xp: Any, input: Array, reduction: str = "mean", **_: Any) -> int | None:
    # torch's 'batchmean' divides the sum by input.size(0), not the target's batch size
    if reduction != "batchmean":
        return None
    return input.shape[0] if input.ndim > 0 else 1


#: kl_div's 'batchmean': the true KL divergence per sample
_BATCHMEAN = Divisor("the batch size input.shape[0]", _batch)

_KL_MEAN_WARNING = (
    "reduction: 'mean' divides the total loss by both the batch size and the support size."
    "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
    "'mean' will be changed to behave the same as 'batchmean' in the next major release."
)


@differentiable(divisor=_BATCHMEAN)
def kl_div(
    input: Array,
    target: Array,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    log_target: bool = False,
    *,
    _want: Want | None = None,
) -> tuple[Array, Pullback]:
    """Kullback-Leibler divergence, as ``torch.nn.functional.kl_div``.

    ``input`` holds log-probabilities ``log q``; the target holds probabilities ``p`` (or
    ``log p`` with ``log_target=True``). Elementwise ``L = p (log p - log q)``, exactly 0
    where ``p == 0`` (and NaN where ``p < 0``); with ``log_target``, ``L = exp(t) (t - log q)``.

    Args:
        input: log-probabilities, e.g. the output of a log-softmax.
        target: probabilities (or log-probabilities), broadcastable with ``input``.
        size_average: deprecated (see Reductions in ``help(losskit)``).
        reduce: deprecated (see Reductions in ``help(losskit)``).
        reduction: ``'none'`` | ``'batchmean'`` | ``'sum'`` | ``'mean'``. ``'batchmean'``
            divides the sum by ``input.shape[0]`` and is the true KL divergence per sample;
            ``'mean'`` divides by the number of elements (and warns, as torch does).
        log_target: whether ``target`` holds log-probabilities.

    Shape:
        ``'none'`` gives the broadcast shape; otherwise ``()``.

    Returns:
        The loss in the promoted floating dtype.

    Notes:
        Matches torch, including its legacy quirk: ``reduction='batchmean'`` together
        with ``size_average``/``reduce`` divides the legacy result by ``input.shape[0]``.

    Example:
        >>> import numpy as np
        >>> q = np.log(np.array([0.25, 0.25, 0.5]))
        >>> float(kl_div(q, np.array([0.5, 0.25, 0.25]), reduction='sum').round(4))
        0.1733
    """
    fn = "kl_div"
    legacy = size_average is not None or reduce is not None
    by_batch, said_mean = reduction == "batchmean", reduction == "mean"
    reduction = _reduction.resolve(
        fn, reduction, size_average, reduce, allowed=("none", "batchmean", "sum", "mean")
    )
    if said_mean and not legacy:  # not for 'elementwise_mean' (torch warns once, for that)
        warn(_KL_MEAN_WARNING)
    log_target = check_flag(fn, "log_target", log_target)
    xp = namespace(fn, input=input, target=target)
    require_float(fn, xp, input=input, target=target)
    shape = broadcast_shapes(fn, input=tuple(input.shape), target=tuple(target.shape))
    dtype = result_dtype(xp, input, target)

    def loss(x: Array, y: Array) -> Array:
        if log_target:
            return xp.exp(y) * (y - x)
        # xlogy(p, p): p == 0 contributes exactly 0; log of a negative p stays NaN (torch)
        return y * xp.log(xp.where(y == 0, xp.ones_like(y), y)) - y * x

    def derivatives(wanted: tuple[bool, ...], x: Array, y: Array) -> tuple[Array | None, ...]:
        if log_target:
            p = xp.exp(y)
            return (-p if wanted[0] else None), (p * (y - x + 1.0) if wanted[1] else None)
        dy = None
        if wanted[1]:
            with quiet(xp):
                # torch's xlogy(p, p) backward, log p + p/p: nan at p == 0 and p = inf (0/0,
                # inf/inf), and at p < 0
                dy = xp.log(y) + y / y - x
        return (-y if wanted[0] else None), dy

    divisor, scale = None, 1.0
    if by_batch:
        batch = _batch(xp, input, "batchmean")
        if legacy:  # torch's quirk: the legacy reduction, then divided by the batch size
            scale = 1.0 / batch if batch else float("nan")
        else:
            reduction, divisor = "mean", batch
    arrays = (astype(xp, input, dtype), astype(xp, target, dtype))
    terms = Terms(("input", "target"), (input, target), arrays, loss, derivatives)
    return elementwise(xp, terms, shape, reduction, _want, divisor=divisor, scale=scale)
