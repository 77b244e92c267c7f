"""The regression family: l1_loss, mse_loss, smooth_l1_loss, huber_loss.

All four are losses of the difference ``d = input - target``, broadcast with torch's size
warning; they share one body (:func:`_difference_loss`) and hand their terms to the core's
elementwise path. Each loss is a forward returning ``(value, pullback)``;
:func:`differentiable` publishes the value-only function and registers the pullback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._core import reduction as _reduction
from .._core.elementwise import Terms as ElementwiseTerms
from .._core.elementwise import elementwise
from .._core.gradients import Pullback, Want, differentiable
from .._core.namespace import Array, astype, is_integer, namespace, promote, result_dtype
from .._core.reduction import Divisor
from .._core.stable import sign
from .._core.validation import (
    broadcast_shapes,
    check_number,
    refuse_bool,
    require_float,
    require_real,
    warn_target_size,
)

__all__ = ["huber_loss", "l1_loss", "mse_loss", "smooth_l1_loss"]

# (loss of d, its derivative, optionally the sum of the loss in fewer passes, as functions
# of d = input - target; and the compiled kernel of the same terms: kind and parameters)
DifferenceTerms = tuple[
    Callable[[Array], Array], Callable[[Array], Array], Callable[[Array], Array] | None,
    tuple[str, tuple[float, ...]],
]

def _difference_loss(
    fn: str,
    input: Array,
    target: Array,
    reduction: str,
    weight: Array | None,
    want: Want | None,
    terms: Callable[[Any], DifferenceTerms],
    *,
    int_ok: bool = False,
    complex_ok: bool = False,
    input_dtype: bool = False,
    weight_sum_mean: bool = True,
) -> tuple[Array, Pullback]:
    """The shared body of l1, mse, smooth_l1 and huber: a loss of ``d = input - target``.

    torch broadcasts input and target first (after its size warning), so a 0-d operand
    promotes like any other (``weak_zero_dim=False``); a weight promotes with them; huber
    keeps the input's dtype. An integer operand is fine as long as the result is floating
    (``int_ok``: l1 computes integers for 'none' and 'sum').
    """
    xp = namespace(fn, input=input, target=target, weight=weight)
    refuse_bool(fn, xp, input=input, target=target)
    if not complex_ok:
        require_real(fn, xp, input=input, target=target, weight=weight)
    if input_dtype:
        require_float(fn, xp, input=input)
    warn_target_size(fn, input, target)
    shape = broadcast_shapes(fn, input=tuple(input.shape), target=tuple(target.shape))
    if weight is not None and tuple(weight.shape) != tuple(input.shape):
        raise ValueError(
            f"{fn}: `weight` must have exactly the input's shape {tuple(input.shape)}, got "
            f"{tuple(weight.shape)} (torch: 'Weights and input must have the same size')."
        )
    dtype = input.dtype if input_dtype else result_dtype(xp, input, target, weak_zero_dim=False)
    if weight is not None:
        dtype = promote(xp, dtype, weight.dtype)
    if is_integer(xp, dtype) and (not int_ok or reduction == "mean"):
        why = "reduction='mean' needs" if int_ok else "needs"
        raise TypeError(
            f"{fn}: {why} a floating-point input or target, got {input.dtype} and "
            f"{target.dtype}; cast one of them to a floating dtype."
        )
    of_d, derivative_of_d, total_of_d, kernel = terms(xp)

    def derivatives(wanted: tuple[bool, ...], x: Array, y: Array) -> tuple[Array | None, ...]:
        dx = derivative_of_d(x - y) if any(wanted) else None
        return (dx if wanted[0] else None), (-dx if wanted[1] else None)

    divisor = _weight_sum(xp, weight) if weight_sum_mean and reduction == "mean" else None
    arrays = (astype(xp, input, dtype), astype(xp, target, dtype))
    body = ElementwiseTerms(
        ("input", "target"), (input, target), arrays, lambda x, y: of_d(x - y), derivatives,
        None if total_of_d is None else (lambda x, y: total_of_d(x - y)), kernel)
    w = None if weight is None else astype(xp, weight, dtype)
    return elementwise(xp, body, shape, reduction, want, weight=w, weight_grad=True,
                       divisor=divisor)


def _weight_sum(xp: Any, weight: Array | None = None, **_: Any) -> Array | None:
    # torch's weighted l1/mse: sum(w * L) / sum(w), with w of the input's shape
    return None if weight is None else xp.sum(weight)


#: the 'mean' of a weighted l1_loss or mse_loss
_WEIGHTED_MEAN = Divisor("Σ weight", _weight_sum)


def _l1_terms(xp: Any) -> DifferenceTerms:
    def derivative(d: Array) -> Array:
        # d/dd |d| = sign(d): 0 at d = 0 (torch's subgradient), and 0 at a nan difference
        # too, as torch's CPU sign; d/|d| for complex d
        return xp.sign(d) if xp.isdtype(d.dtype, "complex floating") else sign(xp, d)

    return xp.abs, derivative, None, ("l1", ())

def _mse_terms(xp: Any) -> DifferenceTerms:
    return (lambda d: d * d), (lambda d: 2.0 * d), (lambda d: xp.vecdot(d, d)), ("mse", ())

def _huber_terms(xp: Any, delta: float, scale: float = 1.0) -> DifferenceTerms:
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

    return loss, lambda d: scaled(clipped(d)), total, ("huber", (delta, scale))

@differentiable(divisor=_WEIGHTED_MEAN)
def l1_loss(
    input: Array,
    target: Array,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Array | None = None,
    *,
    _want: Want | None = None,
) -> tuple[Array, Pullback]:
    """Mean absolute error, as ``torch.nn.functional.l1_loss``.

    ``L = |input - target|`` elementwise, after broadcasting (with torch's warning when the
    shapes differ). Complex arrays give the real modulus.

    Args:
        input: predictions, any shape.
        target: ground truth, broadcastable with ``input``.
        size_average: deprecated (see Reductions in ``help(losskit)``).
        reduce: deprecated (see Reductions in ``help(losskit)``).
        reduction: ``'none'`` | ``'mean'`` | ``'sum'`` (see Reductions in ``help(losskit)``).
        weight: optional array of exactly ``input``'s shape multiplying ``L``; then
            ``'mean'`` is ``sum(w * L) / sum(w)``.

    Shape:
        ``'none'`` gives the broadcast shape of input and target; otherwise ``()``.

    Returns:
        The loss, in the promoted dtype of input and target (integers stay integers for
        ``'none'``/``'sum'``; ``'mean'`` needs a float).

    Notes:
        Matches torch. The gradient is ``sign(input - target)``, 0 where they are equal.

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
        _want,
        _l1_terms,
        int_ok=not weighted,
        complex_ok=not weighted,
    )

@differentiable(divisor=_WEIGHTED_MEAN)
def mse_loss(
    input: Array,
    target: Array,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    weight: Array | None = None,
    *,
    _want: Want | None = None,
) -> tuple[Array, Pullback]:
    """Mean squared error, as ``torch.nn.functional.mse_loss``.

    ``L = (input - target)²`` elementwise, after broadcasting (with torch's size warning).

    Args:
        input: predictions, any shape, floating point.
        target: ground truth, broadcastable with ``input``.
        size_average: deprecated (see Reductions in ``help(losskit)``).
        reduce: deprecated (see Reductions in ``help(losskit)``).
        reduction: ``'none'`` | ``'mean'`` | ``'sum'`` (see Reductions in ``help(losskit)``).
        weight: optional array of exactly ``input``'s shape multiplying ``L``; then
            ``'mean'`` is ``sum(w * L) / sum(w)``.

    Shape:
        ``'none'`` gives the broadcast shape of input and target; otherwise ``()``.

    Returns:
        The loss in the promoted floating dtype.

    Notes:
        Matches torch; integer and complex inputs raise ``TypeError`` as in torch.

    Example:
        >>> import numpy as np
        >>> mse_loss(np.array([2.0, 4.0, 6.0]), np.array([1.0, 3.0, 5.0]))
        array(1.)
    """
    weighted = weight is not None
    reduction = _reduction.resolve(
        "mse_loss", reduction, size_average, reduce, elementwise_mean=not weighted
    )
    return _difference_loss("mse_loss", input, target, reduction, weight, _want, _mse_terms)

@differentiable
def smooth_l1_loss(
    input: Array,
    target: Array,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    beta: float = 1.0,
    *,
    _want: Want | None = None,
) -> tuple[Array, Pullback]:
    """Smooth L1 loss, as ``torch.nn.functional.smooth_l1_loss``.

    With ``d = |input - target|``: ``L = 0.5 d² / beta`` if ``d < beta``, else
    ``d - 0.5 beta``. ``beta = 0`` is exactly :func:`l1_loss`. ``smooth_l1(beta) =
    huber(delta=beta) / beta``.

    Args:
        input: predictions, any shape, floating point.
        target: ground truth, broadcastable with ``input``.
        size_average: deprecated (see Reductions in ``help(losskit)``).
        reduce: deprecated (see Reductions in ``help(losskit)``).
        reduction: ``'none'`` | ``'mean'`` | ``'sum'`` (see Reductions in ``help(losskit)``).
        beta: where the quadratic part turns linear; ``>= 0``.

    Shape:
        ``'none'`` gives the broadcast shape of input and target; otherwise ``()``.

    Returns:
        The loss in the promoted floating dtype.

    Notes:
        Matches torch (a negative or NaN ``beta`` raises ``ValueError``).

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
        _want,
        _l1_terms if as_l1 else (lambda xp: _huber_terms(xp, beta, 1.0 / beta)),
        int_ok=as_l1,
        complex_ok=as_l1,
    )

@differentiable
def huber_loss(
    input: Array,
    target: Array,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Array | None = None,
    *,
    _want: Want | None = None,
) -> tuple[Array, Pullback]:
    """Huber loss, as ``torch.nn.functional.huber_loss``.

    With ``d = |input - target|``: ``L = 0.5 d²`` if ``d < delta``, else
    ``delta (d - 0.5 delta)``.

    Args:
        input: predictions, any shape, floating point; its dtype is the output's.
        target: ground truth, broadcastable with ``input``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'`` (see Reductions in ``help(losskit)``).
        delta: where the quadratic part turns linear; ``> 0``.
        weight: optional array of exactly ``input``'s shape multiplying ``L``; unlike
            l1/mse, ``'mean'`` stays ``sum(w * L) / numel`` (torch's rule).

    Shape:
        ``'none'`` gives the broadcast shape of input and target; otherwise ``()``.

    Returns:
        The loss in ``input``'s dtype (torch does not promote here).

    Notes:
        Matches torch; no legacy ``size_average``/``reduce`` arguments, as in torch.

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
        _want,
        lambda xp: _huber_terms(xp, delta),
        input_dtype=True,
        weight_sum_mean=False,
    )
