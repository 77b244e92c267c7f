"""The triplet family: triplet_margin_loss, triplet_margin_with_distance_loss and their
default distance, pairwise_distance."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .._core import kernels
from .._core import reduction as _reduction
from .._core.gradients import (
    Pullback,
    Want,
    array_names,
    differentiable,
    forward_of,
    grad_like,
)
from .._core.namespace import (
    Array,
    as_array,
    astype,
    float_dtype,
    namespace,
    opmath,
    quiet,
    shape_str,
)
from .._core.stable import sign
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
    """``‖v‖_p`` over the last axis, and a thunk for its gradient with respect to ``v``,
    written as torch's ``norm_backward`` writes it for each kind of p, so that zero norms,
    zero coordinates, ties of the inf-norm and nan give torch's numbers (p = 0, a count,
    has no gradient)."""
    a = xp.abs(v) if p != 2 else v  # the 2-norm needs no absolute values
    zero = xp.zeros((), dtype=v.dtype)
    with quiet(xp):  # 0 ** p for p < 0 is inf, as in torch (the norm is then 0)
        norm = _norm(xp, v, a, p)

    def grad() -> Array:
        n = norm[..., None]
        if math.isinf(p):  # the arg-max (min) coordinates share the gradient; nan is one
            a_ = xp.abs(v)
            ties = xp.astype((a_ == n) | xp.isnan(a_), v.dtype)
            return sign(xp, v) * (ties / xp.sum(ties, axis=-1, keepdims=True))
        if p == 0:
            return xp.zeros_like(v)
        if p == 1:
            return sign(xp, v)
        with quiet(xp):
            if p == 2:
                return xp.where(n == 0, zero, v / n)
            if p < 1:
                scaled = xp.where(v == 0, zero, a ** (p - 1))
                return sign(xp, v) * scaled * n ** (1 - p)
            scaled = sign(xp, v) * a ** (p - 1) if p < 2 else v * a ** (p - 2)
            return scaled * xp.where(n == 0, zero, 1.0 / n ** (p - 1))

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
    x1: Array, x2: Array, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False, *,
    _want: Want | None = None,
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
    if math.isinf(p) and full and full[-1] == 0:
        raise ValueError(f"{fn}: the {p}-norm of vectors with no elements (shape "
                         f"{shape_str(full)}) is undefined, as in torch; give D > 0.")
    dtype = float_dtype(xp, x1, x2)
    work = opmath(xp, dtype)  # half precision in float32, as torch's CPU kernels
    v = astype(xp, x1, work) - astype(xp, x2, work)
    if eps != 0.0:
        v = v + eps
    if v.ndim == 0:
        v = xp.reshape(v, (1,))
    norm, grad = _norm_and_grad(xp, v, p)
    value = as_array(xp, astype(xp, norm[..., None] if keepdim else norm, dtype))

    def pullback(g: Array) -> dict[str, Array | None]:
        wanted = (False, False) if _want is None else _want.wants("x1", "x2")
        if not any(wanted):
            return {}
        g = astype(xp, g, work)
        ge = g if keepdim else g[..., None]
        d = xp.reshape(grad() * ge, full) if full == () else grad() * ge
        return {"x1": grad_like(xp, d, x1, full) if wanted[0] else None,
                "x2": grad_like(xp, -d, x2, full) if wanted[1] else None}

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
    want: Want | None,
    widen: bool = True,
    rows: float | None = None,
) -> tuple[Array, Pullback]:
    """``max(d(a, p) - d_neg + margin, 0)``, d_neg = d(a, n) or (swap) min(d(a, n), d(p, n));
    ``distance(u, v, want)`` returns each distance with its pullback. With ``widen``, half
    precision is computed in float32 and rounded once (not for a user's own distance, which
    is given the arrays as they are). ``rows``: the eps of the default 2-norm, whose two
    distances the core's compiled kernel may take in one pass (``kernels.triplet_rows``)."""
    dtype = float_dtype(xp, *arrays)
    work = opmath(xp, dtype) if widen else dtype
    anchor, positive, negative = (a if a.dtype == dtype and work == dtype
                                  else astype(xp, a, work) for a in arrays)
    wanted = (False,) * 3 if want is None else want.wants("anchor", "positive", "negative")

    def inner(first: bool, second: bool) -> Want | None:
        # the distances' gradients that the wanted ones need, and no others
        names = {n for n, k in (("x1", first), ("x2", second)) if k}
        return Want(frozenset(names)) if names else None

    fused = None if rows is None or swap else kernels.triplet_rows(
        xp, anchor, positive, negative, rows)
    if fused is not None:  # the default 2-norm on NumPy: both distances in one pass
        d_pos, d_neg, back_rows = fused
    else:
        d_pos, back_pos = distance(anchor, positive, inner(wanted[0], wanted[1]))
        d_neg, back_neg = distance(anchor, negative, inner(wanted[0], wanted[2]))
    share = None
    if swap:
        d_swap, back_swap = distance(positive, negative, inner(wanted[1], wanted[2]))
        # torch.min's gradient: all to the smaller, half each at a tie
        one = xp.ones_like(d_neg)
        share = xp.where(d_swap < d_neg, one, xp.where(d_swap == d_neg, 0.5 * one, 0.0 * one))
        d_neg = xp.minimum(d_neg, d_swap)
    z = margin + d_pos - d_neg
    losses = xp.clip(z, min=0)
    value = _reduction.apply(xp, losses, reduction)
    value = astype(xp, value, dtype) if work != dtype else value

    def pullback(g: Array) -> dict[str, Array | None]:
        if not any(wanted):
            return {}
        # torch's clamp_min(z, 0) (2.14 on): no gradient at exactly the margin
        ge = _reduction.per_term(xp, astype(xp, g, z.dtype), reduction, losses)
        ge = xp.where(z > 0, ge, xp.zeros_like(ge))
        if fused is not None:
            zero = xp.zeros_like(ge)
            with quiet(xp):
                c_pos = xp.where(d_pos == 0, zero, ge / d_pos)
                c_neg = xp.where(d_neg == 0, zero, ge / d_neg)
            grads = dict(zip(("anchor", "positive", "negative"),
                             back_rows(c_pos, c_neg, wanted)))
            return {name: None if d is None else astype(xp, d, a.dtype)
                    for (name, d), a in zip(grads.items(), arrays)}
        pos = back_pos(ge) if wanted[0] or wanted[1] else {}
        if share is None:
            neg = back_neg(-ge) if wanted[0] or wanted[2] else {}
            grads = {"anchor": _add(pos.get("x1"), neg.get("x1")), "positive": pos.get("x2"),
                     "negative": neg.get("x2")}
        else:
            neg = back_neg(-ge * (1.0 - share)) if wanted[0] or wanted[2] else {}
            swp = back_swap(-ge * share) if wanted[1] or wanted[2] else {}
            grads = {"anchor": _add(pos.get("x1"), neg.get("x1")),
                     "positive": _add(pos.get("x2"), swp.get("x1")),
                     "negative": _add(neg.get("x2"), swp.get("x2"))}
        return {name: None if d is None or not k else astype(xp, d, a.dtype)
                for (name, d), a, k in zip(grads.items(), arrays, wanted)}

    return value, pullback


def _add(a: Array | None, b: Array | None) -> Array | None:
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
    *,
    _want: Want | None = None,
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

    def distance(u: Array, v: Array, want: Want | None) -> tuple[Array, Pullback]:
        return forward(u, v, p, eps, _want=want)

    return _triplet(xp, (anchor, positive, negative), distance, margin, swap, reduction, _want,
                    rows=eps if p == 2 else None)


def _opaque_distance(arguments: dict[str, Any]) -> bool:
    """A user's own distance function: autograd must trace through it (and through the
    triplet's arithmetic) instead of using the pullback."""
    distance = arguments.get("distance_function")
    return distance is not None and forward_of(distance) is None


@differentiable(traced=_opaque_distance)
def triplet_margin_with_distance_loss(
    anchor: Array,
    positive: Array,
    negative: Array,
    *,
    distance_function: Callable[[Array, Array], Array] | None = None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
    _want: Want | None = None,
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
        distance = _with_pullback(fn, pairwise_distance)
    elif not callable(distance_function):
        raise TypeError(
            f"{fn}: `distance_function` must be callable (or None), got "
            f"{type(distance_function).__name__}."
        )
    else:
        distance = _with_pullback(fn, distance_function)
    widen = distance_function is None or forward_of(distance_function) is not None
    # pairwise_distance's defaults: p = 2, eps = 1e-6
    return _triplet(xp, (anchor, positive, negative), distance, margin, swap, reduction, _want,
                    widen, rows=1e-6 if distance_function is None else None)


def _with_pullback(fn: str, distance: Callable[..., Array]) -> Callable[..., Any]:
    """A distance as ``distance(u, v, want) -> (value, pullback)``: losskit functions (or
    partials of them) bring their VJP; any other callable's pullback explains what
    value_and_grad needs (autograd frameworks trace through such a callable themselves)."""
    forward = forward_of(distance)
    if forward is not None:
        first, second = array_names(distance)[:2]

        def known(u: Array, v: Array, want: Want | None) -> tuple[Array, Pullback]:
            # the distance's own names for its two arrays are x1 and x2 here
            names = {"x1": first, "x2": second}
            inner = None if want is None else Want(frozenset(names[n] for n in want.names))
            value, pullback = forward(u, v, _want=inner)

            def renamed(g: Array) -> dict[str, Array | None]:
                grads = pullback(g)
                return {ours: grads.get(theirs) for ours, theirs in names.items()}

            return value, renamed

        return known

    def opaque(u: Array, v: Array, want: Want | None) -> tuple[Array, Pullback]:
        def pullback(g: Array) -> dict[str, Array | None]:
            raise TypeError(
                f"value_and_grad: {fn}'s distance_function {distance!r} is not a losskit "
                "function, so its gradient is unknown; pass losskit.pairwise_distance (or a "
                "functools.partial of it), or differentiate with torch or JAX autograd."
            )

        return distance(u, v), pullback

    return opaque
