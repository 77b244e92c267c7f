"""The triplet family: triplet_margin_loss, triplet_margin_with_distance_loss and their
default distance, pairwise_distance."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .._core import reduction as _reduction
from .._core.gradients import Pullback, differentiable, forward_of, grad_like
from .._core.namespace import (
    Array,
    as_array,
    astype,
    float_dtype,
    namespace,
    numel,
    quiet,
)
from .._core.validation import (
    broadcast_shapes,
    check_flag,
    check_number,
    check_same_ndim,
    refuse_bool,
    require_real,
)

__all__ = ["pairwise_distance", "triplet_margin_loss", "triplet_margin_with_distance_loss"]


def _norm_and_grad(xp: Any, v: Array, p: float) -> tuple[Array, Callable[[], Array]]:
    """``‖v‖_p`` over the last axis, and a thunk for its gradient with respect to ``v``
    (torch's conventions: 0 at a zero norm, ties of the inf-norm share the gradient, and
    p = 0, a count, has none)."""
    a = xp.abs(v) if p != 2 else v  # the 2-norm needs no absolute values
    zero = xp.zeros((), dtype=v.dtype)
    with quiet(xp):  # 0 ** p for p < 0 is inf, as in torch (the norm is then 0)
        norm = _norm(xp, v, a, p)

    def grad() -> Array:
        if p in (math.inf, -math.inf):
            ties = xp.astype(a == norm[..., None], v.dtype)
            return xp.sign(v) * ties / xp.sum(ties, axis=-1, keepdims=True)
        if p == 0:
            return xp.zeros_like(v)
        if p == 1:
            return xp.sign(v)
        safe = xp.where(norm == 0, xp.ones_like(norm), norm)[..., None]
        with quiet(xp):
            g = v / safe if p == 2 else v * a ** (p - 2) / safe ** (p - 1)
        return xp.where(norm[..., None] == 0, zero, g)

    return norm, grad


def _norm(xp: Any, v: Array, a: Array, p: float) -> Array:
    if 0 in v.shape:  # nothing to reduce (Dask cannot take the maximum of empty chunks)
        return xp.zeros(v.shape[:-1], dtype=v.dtype)
    if p == math.inf:
        return xp.max(a, axis=-1) if v.shape[-1] else xp.sum(a, axis=-1)
    if p == -math.inf:
        return xp.min(a, axis=-1) if v.shape[-1] else xp.sum(a, axis=-1)
    if p == 0:
        return xp.sum(xp.astype(a != 0, v.dtype), axis=-1)
    if p == 1:
        return xp.sum(a, axis=-1)
    if p == 2:
        return xp.sqrt(xp.vecdot(v, v, axis=-1))
    return xp.sum(a**p, axis=-1) ** (1.0 / p)


@differentiable
def pairwise_distance(
    x1: Array, x2: Array, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> tuple[Array, Pullback]:
    """The p-norm distance ``‖x1 - x2 + eps‖_p`` over the last axis, as
    ``torch.nn.functional.pairwise_distance`` (the default distance of the triplet losses).

    Args:
        x1: vectors ``(..., D)``.
        x2: vectors broadcasting with ``x1``.
        p: the norm's order (any real number or ``inf``, as in torch).
        eps: added to the difference (not to the norm), so equal vectors are ``eps·D^(1/p)``
            apart.
        keepdim: keep the reduced axis with size 1.

    Returns:
        The distances, of the broadcast shape without (or with size 1 in) the last axis.

    Example:
        >>> import numpy as np
        >>> pairwise_distance(np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]]), eps=0.0)
        array([5.])
    """
    fn = "pairwise_distance"
    p = check_number(fn, "p", p)
    eps = check_number(fn, "eps", eps)
    xp = namespace(fn, x1=x1, x2=x2)
    require_real(fn, xp, x1=x1, x2=x2)
    full = broadcast_shapes(fn, x1=tuple(x1.shape), x2=tuple(x2.shape))
    dtype = float_dtype(xp, x1, x2)
    v = astype(xp, x1, dtype) - astype(xp, x2, dtype)
    if eps != 0.0:
        v = v + eps
    if v.ndim == 0:
        v = xp.reshape(v, (1,))
    norm, grad = _norm_and_grad(xp, v, p)
    value = as_array(xp, norm[..., None] if keepdim else norm)

    def pullback(g: Array) -> tuple[Array | None, ...]:
        ge = g if keepdim else g[..., None]
        d = xp.reshape(grad() * ge, full) if full == () else grad() * ge
        return grad_like(xp, d, x1, full), grad_like(xp, -d, x2, full)

    return value, pullback


def _triplet_checks(fn: str, xp: Any, anchor: Array, positive: Array, negative: Array,
                    margin: Any) -> float:
    margin = check_number(fn, "margin", margin)
    if not margin > 0:
        raise ValueError(f"{fn}: `margin` must be greater than 0, got {margin!r}.")
    refuse_bool(fn, xp, anchor=anchor, positive=positive, negative=negative)
    require_real(fn, xp, anchor=anchor, positive=positive, negative=negative)
    check_same_ndim(fn, anchor=anchor, positive=positive, negative=negative)
    broadcast_shapes(fn, anchor=tuple(anchor.shape), positive=tuple(positive.shape),
                     negative=tuple(negative.shape))
    return margin


def _triplet(
    xp: Any,
    arrays: tuple[Array, Array, Array],
    distance: Callable[..., tuple[Array, Pullback]],
    margin: float,
    swap: bool,
    reduction: str,
) -> tuple[Array, Pullback]:
    """``max(d(a, p) - d_neg + margin, 0)``, d_neg = d(a, n) or (swap) min(d(a, n), d(p, n));
    ``distance`` returns each distance with its pullback."""
    anchor, positive, negative = arrays
    d_pos, back_pos = distance(anchor, positive)
    d_neg, back_neg = distance(anchor, negative)
    swapped = None
    if swap:
        d_swap, back_swap = distance(positive, negative)
        swapped = d_swap < d_neg
        d_neg = xp.where(swapped, d_swap, d_neg)
    z = margin + d_pos - d_neg
    # clip(min=0): torch's clamp_min, active at z == 0
    losses = xp.clip(z, min=0)
    value = _reduction.apply(xp, losses, reduction)

    def pullback(g: Array) -> tuple[Array | None, ...]:
        zero = xp.zeros((), dtype=z.dtype)
        ge = xp.where(z >= 0, _reduction.upstream(g, reduction, numel(losses)) * xp.ones_like(z),
                      zero)
        da, dp = back_pos(ge)
        if swapped is None:
            da_n, dn = back_neg(-ge)
            return _add(xp, da, da_n), dp, dn
        da_n, dn = back_neg(xp.where(swapped, zero, -ge))
        dp_s, dn_s = back_swap(xp.where(swapped, -ge, zero))
        return _add(xp, da, da_n), _add(xp, dp, dp_s), _add(xp, dn, dn_s)

    return value, pullback


def _add(xp: Any, a: Array | None, b: Array | None) -> Array | None:
    return b if a is None else a if b is None else a + b


@differentiable
def triplet_margin_loss(
    anchor: Array,
    positive: Array,
    negative: Array,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> tuple[Array, Pullback]:
    """Triplet margin loss, as ``torch.nn.functional.triplet_margin_loss``.

    ``L = max(d(a, p) - d(a, n) + margin, 0)`` with ``d`` = :func:`pairwise_distance`
    (``‖x - y + eps‖_p`` over the last axis); ``swap`` uses ``min(d(a, n), d(p, n))``.

    Args:
        anchor: embeddings ``(..., D)``.
        positive: embeddings of the same rank as ``anchor``, broadcasting with it.
        negative: embeddings of the same rank, broadcasting with it.
        margin: the required gap, ``> 0``.
        p: the norm's order.
        eps: added to each difference.
        swap: use the closer of the anchor and the positive to the negative.
        size_average: deprecated (see Reductions in ``help(losskit)``).
        reduce: deprecated (see Reductions in ``help(losskit)``).
        reduction: ``'none'`` | ``'mean'`` | ``'sum'`` (see Reductions in ``help(losskit)``).

    Shape:
        ``'none'`` gives the broadcast shape without the last axis (``()`` for 1-D inputs).

    Returns:
        The loss in the promoted floating dtype.

    Notes:
        Matches torch: active at exactly the margin; with ``a == p`` the positive
        distance is ``eps·D^(1/p)``, not 0.

    Example:
        >>> import numpy as np
        >>> a, p, n = np.array([[0.0, 0.0]]), np.array([[0.0, 1.0]]), np.array([[1.0, 1.0]])
        >>> triplet_margin_loss(a, p, n, eps=0.0, reduction='none').round(4)
        array([0.5858])
    """
    fn = "triplet_margin_loss"
    reduction = _reduction.resolve(fn, reduction, size_average, reduce)
    xp = namespace(fn, anchor=anchor, positive=positive, negative=negative)
    margin = _triplet_checks(fn, xp, anchor, positive, negative, margin)
    p = check_number(fn, "p", p)
    eps = check_number(fn, "eps", eps)
    swap = check_flag(fn, "swap", swap)
    forward = forward_of(pairwise_distance)
    return _triplet(
        xp, (anchor, positive, negative), lambda a, b: forward(a, b, p, eps), margin, swap,
        reduction,
    )


@differentiable
def triplet_margin_with_distance_loss(
    anchor: Array,
    positive: Array,
    negative: Array,
    *,
    distance_function: Callable[[Array, Array], Array] | None = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> tuple[Array, Pullback]:
    """Triplet loss with any distance, as ``triplet_margin_with_distance_loss`` in torch.

    ``L = max(margin + d(a, p) - d(a, n), 0)``, with ``d = distance_function`` (default:
    :func:`pairwise_distance` with p = 2, eps = 1e-6); ``swap`` uses ``min(d(a, n), d(p, n))``.

    Args:
        anchor: embeddings.
        positive: embeddings of the same rank as ``anchor``.
        negative: embeddings of the same rank as ``anchor``.
        distance_function: any callable of two arrays of the inputs' library returning
            distances (not validated, as in torch). For :func:`losskit.value_and_grad` it
            must be a losskit function (such as :func:`pairwise_distance`, or a
            ``functools.partial`` of one); autograd frameworks handle any callable.
        margin: the required gap, ``> 0``.
        swap: use the closer of the anchor and the positive to the negative.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'`` (see Reductions in ``help(losskit)``).

    Shape:
        ``'none'`` gives the distances' shape.

    Returns:
        The loss in the distances' dtype.

    Notes:
        Matches torch (reduction checked first, then the margin, then the ranks).

    Example:
        >>> import numpy as np
        >>> a, p, n = np.array([[0.0, 0.0]]), np.array([[0.0, 1.0]]), np.array([[1.0, 1.0]])
        >>> l1 = lambda x, y: np.abs(x - y).sum(axis=-1)
        >>> triplet_margin_with_distance_loss(a, p, n, distance_function=l1)
        array(0.)
    """
    fn = "triplet_margin_with_distance_loss"
    reduction = _reduction.resolve(fn, reduction, elementwise_mean=False)
    xp = namespace(fn, anchor=anchor, positive=positive, negative=negative)
    margin = _triplet_checks(fn, xp, anchor, positive, negative, margin)
    swap = check_flag(fn, "swap", swap)
    if distance_function is None:
        distance: Callable[..., tuple[Array, Pullback]] = forward_of(pairwise_distance)
    elif not callable(distance_function):
        raise TypeError(
            f"{fn}: `distance_function` must be callable (or None), got "
            f"{type(distance_function).__name__}."
        )
    else:
        distance = _with_pullback(fn, distance_function)
    return _triplet(xp, (anchor, positive, negative), distance, margin, swap, reduction)


def _with_pullback(fn: str, distance: Callable[..., Array]) -> Callable[..., Any]:
    """A user distance as ``(value, pullback)``: losskit functions (or partials of them)
    bring their VJP; any other callable's pullback explains what value_and_grad needs."""
    forward = forward_of(distance)
    if forward is not None:
        return forward

    def opaque(a: Array, b: Array) -> tuple[Array, Pullback]:
        def pullback(g: Array) -> tuple[Array | None, ...]:
            raise TypeError(
                f"value_and_grad: {fn}'s distance_function {distance!r} is not a losskit "
                "function, so its gradient is unknown; pass losskit.pairwise_distance (or a "
                "functools.partial of it), or differentiate with torch or JAX autograd."
            )

        return distance(a, b), pullback

    return opaque
