"""The likelihood family: poisson_nll_loss and gaussian_nll_loss, negative log-likelihoods of
observations under a predicted Poisson rate or Gaussian mean and variance."""

from __future__ import annotations

from typing import Any

from .._core import reduction as _reduction
from .._core.elementwise import Terms, elementwise
from .._core.gradients import Pullback, Want, differentiable
from .._core.namespace import (
    Array,
    astype,
    float_dtype,
    is_lazy,
    namespace,
    promote,
    quiet,
    shape_str,
)
from .._core.stable import HALF_LOG_2PI
from .._core.validation import (
    broadcast_shapes,
    check_flag,
    check_number,
    refuse_bool,
    require_real,
)

__all__ = ["gaussian_nll_loss", "poisson_nll_loss"]

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
    *,
    _want: Want | None = None,
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
        size_average: deprecated (see Reductions in ``help(losskit)``).
        eps: added to the rate inside the log when ``log_input=False``.
        reduce: deprecated (see Reductions in ``help(losskit)``).
        reduction: ``'none'`` | ``'mean'`` | ``'sum'`` (see Reductions in ``help(losskit)``;
            ``'elementwise_mean'`` is refused here, as in torch).

    Shape:
        ``'none'`` gives the broadcast shape; otherwise ``()``.

    Returns:
        The loss in the promoted floating dtype (integer inputs give the namespace's default
        float dtype: float32 for torch, float64 for NumPy).

    Notes:
        Matches torch, except that with ``full=True`` the target gradient is 0 where
        ``target <= 1`` (torch gives NaN at ``target = 0``), see Deviations in ``help(losskit)``.

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
    # torch turns an integer input into its default float first (exp(int), log(int + eps))
    # and then promotes with the target: int input with a float16 target gives float32, a
    # float16 input with an int target float16
    dtype = promote(xp, float_dtype(xp, input), target.dtype)

    def loss(x: Array, y: Array) -> Array:
        if log_input:
            terms = xp.exp(x) - y * x
        else:
            terms = x - y * xp.log(x + eps)
        if full:
            terms = terms + _stirling(xp, y)[0]
        return terms

    def derivatives(wanted: tuple[bool, ...], x: Array, y: Array) -> tuple[Array | None, ...]:
        dx = dy = None
        if wanted[0]:
            dx = xp.exp(x) - y if log_input else 1.0 - y / (x + eps)
        if wanted[1]:
            dy = -x if log_input else -xp.log(x + eps)
            if full:
                dy = dy + _stirling(xp, y)[1]
        return dx, dy

    arrays = (astype(xp, input, dtype), astype(xp, target, dtype))
    terms = Terms(("input", "target"), (input, target), arrays, loss, derivatives)
    return elementwise(xp, terms, shape, reduction, _want)

def _stirling(xp: Any, y: Array) -> tuple[Array, Array]:
    """Stirling's ``log(y!) ≈ y log y - y + log(2π y) / 2`` and its derivative, where y > 1.

    torch masks the term to 0 where ``y <= 1``; a stand-in ``y = 2`` there keeps the log
    away from ``y <= 0`` (torch's own gradient is NaN at ``y = 0``: Deviations in help(losskit)).
    """
    counted = ~(y <= 1)  # torch's masked_fill(y <= 1, 0): a nan target is counted
    safe = xp.where(counted, y, xp.full_like(y, 2.0))
    log_y = xp.log(safe)
    zero = xp.zeros_like(y)
    term = xp.where(counted, safe * log_y - safe + 0.5 * log_y + HALF_LOG_2PI, zero)
    with quiet(xp):
        # log y + y·(1/y) - 1 + 1/(2y), as torch's autograd forms it: nan at y = inf
        derivative = log_y + safe * (1.0 / safe) - 1.0 + 0.5 / safe
    return term, xp.where(counted, derivative, zero)

def _var_shape(fn: str, input: Array, var: Array) -> tuple[int, ...]:
    """torch's accepted shapes of ``var``, compared with the *input's* shape (not the
    broadcast one): the input's shape; the input's shape without its last axis (one variance
    per sample); or the input's rank with size 1 in exactly one axis where they differ."""
    shape, vshape = tuple(input.shape), tuple(var.shape)
    if vshape == shape:
        return vshape
    if vshape == shape[:-1] and input.ndim > 0:
        return (*vshape, 1)
    if len(vshape) == len(shape):
        differ = [v for v, s in zip(vshape, shape) if v != s]
        if sum(differ) == 1:
            return vshape
    raise ValueError(
        f"{fn}: `var` of shape {shape_str(vshape)} does not fit the input's shape "
        f"{shape_str(shape)}; it must be the input's shape, the input's shape without its "
        "last axis (one variance per sample), or the input's shape with size 1 in one axis "
        "(torch: 'var is of incorrect size')."
    )

@differentiable
def gaussian_nll_loss(
    input: Array,
    target: Array,
    var: Array | float,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
    *,
    _want: Want | None = None,
) -> tuple[Array, Pullback]:
    """Gaussian negative log-likelihood, as ``torch.nn.functional.gaussian_nll_loss``.

    ``L = 0.5·(log v + (input - target)² / v)`` with ``v = max(var, eps)``; ``full=True`` adds
    ``0.5·log(2π)``.

    Args:
        input: predicted means, any shape.
        target: observations, broadcasting with ``input``.
        var: predicted variances (non-negative, checked on eager arrays): an array of the
            input's shape, of that shape without the last axis, or with size 1 in one axis
            (homoscedastic); or one Python number.
        full: add the constant ``0.5·log(2π)``.
        eps: the floor of the variance, for stability.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'`` (see Reductions in ``help(losskit)``;
            ``'elementwise_mean'`` is refused, as in torch).

    Shape:
        ``'none'`` gives the broadcast shape of input, target and var.

    Returns:
        The loss in the promoted floating dtype.

    Notes:
        Matches torch, including its gradient convention: the gradient with respect to
        ``var`` is evaluated at the clamped ``v`` and passed straight through the clamp.

    Example:
        >>> import numpy as np
        >>> mu, y = np.array([0.0, 1.0]), np.array([1.0, 1.0])
        >>> gaussian_nll_loss(mu, y, np.array([1.0, 0.5]), reduction='none').round(4)
        array([ 0.5   , -0.3466])
    """
    fn = "gaussian_nll_loss"
    full = check_flag(fn, "full", full)
    eps = check_number(fn, "eps", eps)
    xp = namespace(fn, input=input, target=target, **({} if _is_number(var) else {"var": var}))
    refuse_bool(fn, xp, input=input, target=target)
    require_real(fn, xp, input=input, target=target)
    user_var = var
    if _is_number(var):
        if var < 0:
            raise ValueError(f"{fn}: `var` must be non-negative, got {var!r}.")
        dtype = float_dtype(xp, input, target)
        var = xp.full(tuple(input.shape), float(var), dtype=dtype)
    else:
        if not xp.isdtype(var.dtype, "real floating"):
            raise TypeError(
                f"{fn}: `var` must be a floating-point array (or a number), got dtype "
                f"{var.dtype}; cast it first."
            )
        if not is_lazy(var) and bool(xp.any(var < 0)):
            raise ValueError(
                f"{fn}: `var` must be non-negative, got a minimum of {float(xp.min(var))!r}."
            )
    var = xp.reshape(var, _var_shape(fn, input, var))
    reduction = _reduction.resolve(fn, reduction, elementwise_mean=False)
    shape = broadcast_shapes(
        fn, input=tuple(input.shape), target=tuple(target.shape), var=tuple(var.shape)
    )
    dtype = float_dtype(xp, input, target, var)
    constant = HALF_LOG_2PI if full else 0.0

    def loss(x: Array, y: Array, v: Array) -> Array:
        v = xp.maximum(v, eps)
        d = x - y
        terms = 0.5 * (xp.log(v) + d * d / v)
        return terms + constant if full else terms

    def derivatives(wanted: tuple[bool, ...], x: Array, y: Array, v: Array
                    ) -> tuple[Array | None, ...]:
        v = xp.maximum(v, eps)  # torch evaluates at the clamped v, then passes it through
        d = x - y
        r = d / v
        dvar = None
        if wanted[2]:
            with quiet(xp):  # (x - y)² / v / v as torch's autograd forms it: the same inf/nan
                dvar = 0.5 * (1.0 / v - d * d / v / v)
        return (r if wanted[0] else None), (-r if wanted[1] else None), dvar

    originals = (input, target, var)
    arrays = tuple(astype(xp, a, dtype) for a in originals)
    terms = Terms(("input", "target", "var"), originals, arrays, loss, derivatives)
    value, pullback = elementwise(xp, terms, shape, reduction, _want)

    def user_shapes(g: Array) -> dict[str, Array | None]:
        grads = pullback(g)
        dvar = grads.get("var")
        if _is_number(user_var) or dvar is None:
            return {**grads, "var": None}
        return {**grads, "var": xp.reshape(dvar, tuple(user_var.shape))}  # undo the unsqueeze

    return value, user_shapes

def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
