"""Regression losses: l1, mse, smooth_l1, huber, poisson_nll.

Each loss is a forward returning ``(value, pullback)``; :func:`differentiable` publishes the
value-only function and registers the pullback for :func:`losskit.value_and_grad`.
Reductions are described once, in ``docs/reductions.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from . import _reduction
from ._elementwise import elementwise
from ._gradients import Pullback, differentiable
from ._namespace import (
    Array,
    astype,
    float_dtype,
    is_integer,
    namespace,
    result_dtype,
)
from ._validation import (
    broadcast_shapes,
    check_flag,
    check_number,
    refuse_bool,
    require_float,
    require_real,
    warn_target_size,
)

__all__ = ["huber_loss", "l1_loss", "mse_loss", "poisson_nll_loss", "smooth_l1_loss"]

# (loss of d, its derivative, and optionally the sum of the loss in fewer passes), as
# functions of d = input - target
Terms = tuple[
    Callable[[Array], Array], Callable[[Array], Array], Callable[[Array], Array] | None
]


def _difference_loss(
    fn: str,
    input: Array,
    target: Array,
    reduction: str,
    weight: Array | None,
    terms: Callable[[Any], Terms],
    *,
    allow_int: bool = False,
    allow_complex: bool = False,
    same_dtype_as_input: bool = False,
    weighted_mean_divides_by_weight: bool = True,
) -> tuple[Array, Pullback]:
    """The shared body of l1, mse, smooth_l1 and huber: a loss of ``d = input - target``.

    torch broadcasts input and target first (after its size warning), so a 0-d operand
    promotes like any other (``weak_zero_dim=False``); huber keeps the input's dtype.
    """
    xp = namespace(fn, input=input, target=target, weight=weight)
    refuse_bool(fn, xp, input=input, target=target)
    if not allow_complex:
        require_real(fn, xp, input=input, target=target)
    if not allow_int:
        require_float(fn, xp, input=input, target=None if same_dtype_as_input else target)
    warn_target_size(fn, input, target)
    shape = broadcast_shapes(fn, input=tuple(input.shape), target=tuple(target.shape))
    if weight is not None and tuple(weight.shape) != tuple(input.shape):
        raise ValueError(
            f"{fn}: `weight` must have exactly the input's shape {tuple(input.shape)}, got "
            f"{tuple(weight.shape)} (torch: 'Weights and input must have the same size')."
        )
    if same_dtype_as_input:
        dtype = input.dtype
    else:
        dtype = result_dtype(xp, input, target, weak_zero_dim=False)
    if reduction == "mean" and is_integer(xp, dtype):
        raise TypeError(
            f"{fn}: reduction='mean' needs floating-point input or target, got "
            f"{input.dtype} and {target.dtype}; cast one of them to a floating dtype."
        )
    of_d, derivative_of_d, total_of_d = terms(xp)

    def derivatives(x: Array, y: Array) -> tuple[Array, Array]:
        dx = derivative_of_d(x - y)
        return dx, -dx

    divisor = None
    if weight is not None and weighted_mean_divides_by_weight and reduction == "mean":
        # torch's weighted l1/mse: sum(w * L) / sum(w), with w of the input's shape
        divisor = xp.sum(weight)
    return elementwise(
        xp,
        (input, target),
        (astype(xp, input, dtype), astype(xp, target, dtype)),
        shape,
        lambda x, y: of_d(x - y),
        derivatives,
        reduction,
        weight=weight,
        divisor=divisor,
        total=None if total_of_d is None else (lambda x, y: total_of_d(x - y)),
    )


def _l1_terms(xp: Any) -> Terms:
    # d/dd |d| = sign(d): 0 at d = 0 (torch's subgradient), d/|d| for complex d
    return xp.abs, xp.sign, None


def _mse_terms(xp: Any) -> Terms:
    return (lambda d: d * d), (lambda d: 2.0 * d), (lambda d: xp.vecdot(d, d))


def _huber_terms(xp: Any, delta: float, scale: float = 1.0) -> Terms:
    """``scale * huber_delta(d)``; smooth_l1(beta) is huber(delta=beta) / beta.

    With ``m = min(|d|, delta)``, ``m (|d| - m/2)`` is ``d²/2`` below delta and
    ``delta (|d| - delta/2)`` above: one formula without a branch (no mask to evaluate);
    at ``|d| = delta`` the derivative through ``m`` vanishes, so autograd has no tie to
    break. Its sum is ``m·|d| - m·m/2`` (two dot products). The derivative is
    ``clip(d, -delta, delta)``.
    """

    def scaled(a: Array) -> Array:
        return a * scale if scale != 1.0 else a

    def loss(d: Array) -> Array:
        ad = xp.abs(d)
        m = xp.minimum(ad, delta)
        return scaled(m * (ad - 0.5 * m))

    def total(d: Array) -> Array:
        ad = xp.abs(d)
        m = xp.minimum(ad, delta)
        return scaled(xp.vecdot(m, ad) - 0.5 * xp.vecdot(m, m))

    def clipped(d: Array) -> Array:
        # minimum/maximum: plain ufuncs on NumPy, where array-api-compat's clip is a wrapper
        return xp.minimum(xp.maximum(d, -delta), delta)

    return loss, lambda d: scaled(clipped(d)), total


@differentiable
def l1_loss(
    input: Array,
    target: Array,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Array | None = None,
) -> tuple[Array, Pullback]:
    """Mean absolute error, as ``torch.nn.functional.l1_loss``.

    ``L = |input - target|`` elementwise, after broadcasting (with torch's warning when the
    shapes differ). Complex arrays give the real modulus.

    Args:
        input: predictions, any shape.
        target: ground truth, broadcastable with ``input``.
        size_average: deprecated, see ``docs/reductions.md``.
        reduce: deprecated, see ``docs/reductions.md``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'`` (``docs/reductions.md``).
        weight: optional array of exactly ``input``'s shape multiplying ``L``; then
            ``'mean'`` is ``sum(w * L) / sum(w)``.

    Shape:
        ``'none'`` gives the broadcast shape of input and target; otherwise ``()``.

    Returns:
        The loss, in the promoted dtype of input and target (integers stay integers for
        ``'none'``/``'sum'``; ``'mean'`` needs a float).

    Notes:
        Matches torch 2.13. The gradient is ``sign(input - target)``, 0 where they are equal.

    Example:
        >>> import numpy as np
        >>> l1_loss(np.array([2.0, 4.0, 6.0]), np.array([1.0, 3.0, 5.0]))
        array(1.)
    """
    weighted = weight is not None
    reduction = _reduction.resolve(
        "l1_loss", reduction, size_average, reduce, elementwise_mean=not weighted
    )
    return _difference_loss(
        "l1_loss",
        input,
        target,
        reduction,
        weight,
        _l1_terms,
        allow_int=not weighted,
        allow_complex=not weighted,
    )


@differentiable
def mse_loss(
    input: Array,
    target: Array,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Array | None = None,
) -> tuple[Array, Pullback]:
    """Mean squared error, as ``torch.nn.functional.mse_loss``.

    ``L = (input - target)²`` elementwise, after broadcasting (with torch's size warning).

    Args:
        input: predictions, any shape, floating point.
        target: ground truth, broadcastable with ``input``.
        size_average: deprecated, see ``docs/reductions.md``.
        reduce: deprecated, see ``docs/reductions.md``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'`` (``docs/reductions.md``).
        weight: optional array of exactly ``input``'s shape multiplying ``L``; then
            ``'mean'`` is ``sum(w * L) / sum(w)``.

    Shape:
        ``'none'`` gives the broadcast shape of input and target; otherwise ``()``.

    Returns:
        The loss in the promoted floating dtype.

    Notes:
        Matches torch 2.13; integer and complex inputs raise ``TypeError`` as in torch.

    Example:
        >>> import numpy as np
        >>> mse_loss(np.array([2.0, 4.0, 6.0]), np.array([1.0, 3.0, 5.0]))
        array(1.)
    """
    weighted = weight is not None
    reduction = _reduction.resolve(
        "mse_loss", reduction, size_average, reduce, elementwise_mean=not weighted
    )
    return _difference_loss("mse_loss", input, target, reduction, weight, _mse_terms)


@differentiable
def smooth_l1_loss(
    input: Array,
    target: Array,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> tuple[Array, Pullback]:
    """Smooth L1 loss, as ``torch.nn.functional.smooth_l1_loss``.

    With ``d = |input - target|``: ``L = 0.5 d² / beta`` if ``d < beta``, else
    ``d - 0.5 beta``. ``beta = 0`` is exactly :func:`l1_loss`. ``smooth_l1(beta) =
    huber(delta=beta) / beta``.

    Args:
        input: predictions, any shape, floating point.
        target: ground truth, broadcastable with ``input``.
        size_average: deprecated, see ``docs/reductions.md``.
        reduce: deprecated, see ``docs/reductions.md``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'`` (``docs/reductions.md``).
        beta: where the quadratic part turns linear; ``>= 0``.

    Shape:
        ``'none'`` gives the broadcast shape of input and target; otherwise ``()``.

    Returns:
        The loss in the promoted floating dtype.

    Notes:
        Matches torch 2.13 (a negative or NaN ``beta`` raises ``ValueError``).

    Example:
        >>> import numpy as np
        >>> smooth_l1_loss(np.array([2.0, 4.0, 6.0]), np.array([1.0, 3.0, 5.0]))
        array(0.5)
    """
    reduction = _reduction.resolve("smooth_l1_loss", reduction, size_average, reduce)
    beta = check_number("smooth_l1_loss", "beta", beta, minimum=0.0)
    # torch dispatches beta == 0 to l1_loss (integer 'none'/'sum' and complex included)
    as_l1 = beta == 0.0
    return _difference_loss(
        "smooth_l1_loss",
        input,
        target,
        reduction,
        None,
        _l1_terms if as_l1 else (lambda xp: _huber_terms(xp, beta, 1.0 / beta)),
        allow_int=as_l1,
        allow_complex=as_l1,
    )


@differentiable
def huber_loss(
    input: Array,
    target: Array,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Array | None = None,
) -> tuple[Array, Pullback]:
    """Huber loss, as ``torch.nn.functional.huber_loss``.

    With ``d = |input - target|``: ``L = 0.5 d²`` if ``d < delta``, else
    ``delta (d - 0.5 delta)``.

    Args:
        input: predictions, any shape, floating point; its dtype is the output's.
        target: ground truth, broadcastable with ``input``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'`` (``docs/reductions.md``).
        delta: where the quadratic part turns linear; ``> 0``.
        weight: optional array of exactly ``input``'s shape multiplying ``L``; unlike
            l1/mse, ``'mean'`` stays ``sum(w * L) / numel`` (torch's rule).

    Shape:
        ``'none'`` gives the broadcast shape of input and target; otherwise ``()``.

    Returns:
        The loss in ``input``'s dtype (torch does not promote here).

    Notes:
        Matches torch 2.13; no legacy ``size_average``/``reduce`` arguments, as in torch.

    Example:
        >>> import numpy as np
        >>> huber_loss(np.array([2.0, 4.0, 9.0]), np.array([1.0, 3.0, 5.0]), delta=2.0)
        array(2.33333333)
    """
    reduction = _reduction.resolve(
        "huber_loss", reduction, elementwise_mean=weight is None
    )
    delta = check_number("huber_loss", "delta", delta, minimum=0.0, strict=True)

    return _difference_loss(
        "huber_loss",
        input,
        target,
        reduction,
        weight,
        lambda xp: _huber_terms(xp, delta),
        same_dtype_as_input=True,
        weighted_mean_divides_by_weight=False,
    )


_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


@differentiable
def poisson_nll_loss(
    input: Array,
    target: Array,
    log_input: bool = True,
    full: bool = False,
    size_average: bool | None = None,
    eps: float = 1e-8,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> tuple[Array, Pullback]:
    """Poisson negative log-likelihood, as ``torch.nn.functional.poisson_nll_loss``.

    ``L = exp(input) - target * input`` if ``log_input`` (the input is a log-rate; ``eps``
    is unused), else ``L = input - target * log(input + eps)`` (the input is a rate).
    ``full=True`` adds the Stirling approximation of ``log(target!)``,
    ``target log(target) - target + 0.5 log(2π target)``, only where ``target > 1``.

    Args:
        input: predicted log-rates (``log_input=True``) or rates.
        target: observed counts, broadcastable with ``input`` (not validated, as in torch).
        log_input: whether ``input`` is a log-rate.
        full: add the Stirling term. It does *not* mean "use all samples".
        size_average: deprecated, see ``docs/reductions.md``.
        eps: added to the rate inside the log when ``log_input=False``.
        reduce: deprecated, see ``docs/reductions.md``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'`` (``docs/reductions.md``;
            ``'elementwise_mean'`` is refused here, as in torch).

    Shape:
        ``'none'`` gives the broadcast shape; otherwise ``()``.

    Returns:
        The loss in the promoted floating dtype (integer inputs give the namespace's default
        float dtype: float32 for torch, float64 for NumPy).

    Notes:
        Matches torch 2.13, except that with ``full=True`` the target gradient is 0 where
        ``target <= 1`` (torch gives NaN at ``target = 0``), see ``docs/deviations.md``.

    Example:
        >>> import numpy as np
        >>> x, y = np.array([2.0, 4.0, 6.0]), np.array([1.0, 3.0, 5.0])
        >>> poisson_nll_loss(x, y, log_input=False, reduction='none').round(4)
        array([ 1.3069, -0.1589, -2.9588])
    """
    fn = "poisson_nll_loss"
    reduction = _reduction.resolve(fn, reduction, size_average, reduce, elementwise_mean=False)
    log_input = check_flag(fn, "log_input", log_input)
    full = check_flag(fn, "full", full)
    eps = check_number(fn, "eps", eps)
    xp = namespace(fn, input=input, target=target)
    require_real(fn, xp, input=input, target=target)
    shape = broadcast_shapes(fn, input=tuple(input.shape), target=tuple(target.shape))
    dtype = float_dtype(xp, input, target)

    def loss(x: Array, y: Array) -> Array:
        if log_input:
            terms = xp.exp(x) - y * x
        else:
            terms = x - y * xp.log(x + eps)
        if full:
            terms = terms + _stirling(xp, y)[0]
        return terms

    def derivatives(x: Array, y: Array) -> tuple[Array, Array]:
        if log_input:
            dx, dy = xp.exp(x) - y, -x
        else:
            dx, dy = 1.0 - y / (x + eps), -xp.log(x + eps)
        if full:
            dy = dy + _stirling(xp, y)[1]
        return dx, dy

    arrays = (astype(xp, input, dtype), astype(xp, target, dtype))
    return elementwise(xp, (input, target), arrays, shape, loss, derivatives, reduction)


def _stirling(xp: Any, y: Array) -> tuple[Array, Array]:
    """Stirling's ``log(y!) ≈ y log y - y + log(2π y) / 2`` and its derivative, where y > 1.

    torch masks the term to 0 where ``y <= 1``; a stand-in ``y = 2`` there keeps the log
    away from ``y <= 0`` (torch's own gradient is NaN at ``y = 0``: docs/deviations.md).
    """
    counted = y > 1
    safe = xp.where(counted, y, xp.full_like(y, 2.0))
    log_y = xp.log(safe)
    zero = xp.zeros_like(y)
    term = xp.where(counted, safe * log_y - safe + 0.5 * log_y + _HALF_LOG_2PI, zero)
    return term, xp.where(counted, log_y + 0.5 / safe, zero)
