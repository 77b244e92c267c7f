"""``value_and_grad`` / ``grad`` and the registry of analytic VJPs.

Each loss is written once as a *forward* that returns ``(value, pullback)``: the value and
a function mapping the value's upstream gradient to one gradient per positional array
argument (``None`` where torch gives none). :func:`differentiable` turns that forward into
the public loss, which returns the value alone, and registers the forward here. The
pullback only captures what the forward computed anyway; it does its work when called.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, ParamSpec

from .namespace import Array, as_array, astype, is_float, namespace, shape_str
from .reduction import Divisor

P = ParamSpec("P")
Pullback = Callable[[Array], tuple[Array | None, ...]]
Forward = Callable[..., tuple[Array, Pullback]]

_FORWARDS: dict[Callable[..., Any], Forward] = {}
_DIVISORS: dict[Callable[..., Any], Divisor] = {}

# value_and_grad's grad_output while it runs a forward: a forward that can compute its
# gradients in the same pass over the data (the blockwise NumPy path) reads it here
_PENDING: ContextVar[tuple[Any] | None] = ContextVar("losskit_grad_output", default=None)


def pending_scalar_grad_output() -> Any:
    """Inside :func:`value_and_grad`'s forward, its ``grad_output`` when that is one number
    (``1.0`` when not given; a 0-d array stays an array); otherwise ``None``.

    A forward of a reduced loss that can compute its gradients in the same pass over the
    data (the blockwise NumPy paths) reads it: the value's upstream gradient is that number.
    """
    pending = _PENDING.get()
    if pending is None:
        return None
    grad_output = pending[0]
    if grad_output is None:
        return 1.0
    if isinstance(grad_output, (int, float)) and not isinstance(grad_output, bool):
        return float(grad_output)
    return grad_output if getattr(grad_output, "shape", None) == () else None


def differentiable(
    forward: Callable[P, tuple[Array, Pullback]] | None = None, *, divisor: Divisor | None = None
) -> Any:
    """Make the public loss (value only) from ``forward`` and register its pullback (and its
    'mean' :class:`Divisor`, when it is not the number of terms). Used as ``@differentiable``
    or ``@differentiable(divisor=...)``."""
    if forward is None:
        return functools.partial(differentiable, divisor=divisor)

    @functools.wraps(forward)
    def loss(*args: P.args, **kwargs: P.kwargs) -> Array:
        return forward(*args, **kwargs)[0]

    signature = inspect.signature(forward)
    loss.__signature__ = signature.replace(return_annotation="Array")  # type: ignore[attr-defined]
    _FORWARDS[loss] = forward
    if divisor is not None:
        _DIVISORS[loss] = divisor
    return loss


def divisor_of(fn: Callable[..., Any]) -> Divisor | None:
    """The 'mean' divisor a loss declared, or ``None`` (the number of terms)."""
    return _DIVISORS.get(fn)


def sum_to_shape(xp: Any, grad: Array, shape: tuple[int, ...], full: tuple[int, ...]) -> Array:
    """Undo broadcasting: the gradient of an argument of ``shape`` that was broadcast to
    ``full``, from ``grad``, which broadcasts to ``full`` (it may be smaller when the
    derivative is constant along some axes)."""
    shape, full = tuple(shape), tuple(full)
    if tuple(grad.shape) == shape:
        return grad
    if tuple(grad.shape) != full:
        grad = xp.broadcast_to(grad, full)  # a view: the sum below counts each position
    lead = len(full) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and full[lead + i] != 1
    )
    if axes:
        grad = xp.sum(grad, axis=axes)
    return xp.reshape(grad, shape) if tuple(grad.shape) != shape else grad


def has_gradient(xp: Any, x: Array) -> bool:
    """Floating arguments have gradients; integer ones (class indices) do not, as in torch."""
    return is_float(xp, x.dtype) or bool(xp.isdtype(x.dtype, "complex floating"))


def grad_like(xp: Any, grad: Array | None, x: Array, full: tuple[int, ...]) -> Array | None:
    """The gradient of argument ``x`` (broadcast to ``full`` in the loss) in ``x``'s shape
    and dtype; ``None`` for integer ``x``, which torch does not differentiate."""
    if grad is None or not has_gradient(xp, x):
        return None
    return as_array(xp, astype(xp, sum_to_shape(xp, grad, tuple(x.shape), full), x.dtype))


def forward_of(fn: Any) -> Any:
    """The registered forward ``(value, pullback)`` of a losskit function, or of a
    ``functools.partial`` of one (its arguments bound); ``None`` for anything else."""
    if isinstance(fn, functools.partial):
        forward = _FORWARDS.get(fn.func)
        if forward is None:
            return None
        return functools.partial(forward, *fn.args, **fn.keywords)
    return _FORWARDS.get(fn)


def _resolve(fn: Any) -> tuple[Forward, dict[str, Any]]:
    forward = _FORWARDS.get(fn)
    if forward is not None:
        return forward, {}
    function = getattr(type(fn), "function", None)
    if function is not None and function in _FORWARDS and hasattr(fn, "options"):
        return _FORWARDS[function], fn.options()
    raise TypeError(
        f"value_and_grad: `fn` must be a losskit loss function or loss instance "
        f"(e.g. losskit.mse_loss or losskit.MSELoss()), got {fn!r}."
    )


def value_and_grad(
    fn: Callable[..., Array],
    *arrays: Array,
    grad_output: Array | float | None = None,
    **options: Any,
) -> tuple[Array, tuple[Array | None, ...]]:
    """The loss value and its analytic gradient with respect to each positional array.

    Args:
        fn: a losskit loss function (``losskit.mse_loss``) or loss instance
            (``losskit.MSELoss(reduction='sum')``; its options are used).
        *arrays: the loss's positional array arguments (``input, target``, ...).
        grad_output: the upstream gradient, shaped like the value (default: ones), as
            torch's ``value.backward(grad_output)``.
        **options: the loss's keyword options (``reduction=``, ``beta=``, ...); not
            allowed together with a loss instance, which carries its own.

    Returns:
        ``(value, grads)``: ``grads`` has one entry per positional array, ``None`` where
        torch gives no gradient (integer targets, non-differentiable arguments). Each
        gradient has its argument's shape and dtype. Array-valued keyword options (such
        as l1_loss's ``weight``) get no gradient here.

    Example:
        >>> import numpy as np, losskit
        >>> value, (dx, dy) = losskit.value_and_grad(
        ...     losskit.mse_loss, np.array([2.0, 4.0, 6.0]), np.array([1.0, 3.0, 7.0]))
        >>> float(value), dx.tolist(), dy.tolist()
        (1.0, [0.6666666666666666, 0.6666666666666666, -0.6666666666666666], \
[-0.6666666666666666, -0.6666666666666666, 0.6666666666666666])
    """
    forward, bound = _resolve(fn)
    if bound and options:
        raise TypeError(
            f"value_and_grad: options {sorted(options)} were given with a loss instance, "
            "which carries its own; set them on the instance or pass the function instead."
        )
    token = _PENDING.set((grad_output,))
    try:
        value, pullback = forward(*arrays, **(bound or options))
    finally:
        _PENDING.reset(token)
    xp = namespace("value_and_grad", value=value)
    if grad_output is None:
        g = xp.ones_like(value)
    elif isinstance(grad_output, (int, float)) and not isinstance(grad_output, bool):
        g = xp.full(tuple(value.shape), grad_output, dtype=value.dtype)
    else:
        namespace("value_and_grad", value=value, grad_output=grad_output)
        if tuple(grad_output.shape) != tuple(value.shape):
            raise ValueError(
                f"value_and_grad: `grad_output` must have the value's shape "
                f"{shape_str(value.shape)}, got {shape_str(grad_output.shape)}."
            )
        g = grad_output
    grads = pullback(g)
    return value, tuple(grads[: len(arrays)])


def grad(
    fn: Callable[..., Array],
    *arrays: Array,
    grad_output: Array | float | None = None,
    **options: Any,
) -> tuple[Array | None, ...]:
    """The gradients of :func:`value_and_grad` alone.

    Example:
        >>> import numpy as np, losskit
        >>> dx, dy = losskit.grad(losskit.l1_loss, np.array([2.0, 4.0]), np.array([1.0, 5.0]))
        >>> dx.tolist()
        [0.5, -0.5]
    """
    return value_and_grad(fn, *arrays, grad_output=grad_output, **options)[1]
