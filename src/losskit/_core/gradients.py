"""``value_and_grad`` / ``grad`` and the registry of analytic pullbacks.

Each loss is written once as a *forward* that returns ``(value, pullback)``: the value and
a function mapping the value's upstream gradient to the gradients of the array arguments
(a dict by parameter name; ``None`` where torch gives none). :func:`differentiable` turns
that forward into the public loss, which returns the value alone, and registers it here.

What a caller wants of a forward travels in one explicit argument, ``_want`` (a
:class:`Want`): which gradients (the pullback computes no others) and, when it is one
number known before the forward runs, the upstream gradient, so that a forward can write
its gradients in the same pass over the data. A forward called without it computes the
value only. Autograd on torch tensors and JAX arrays goes through the same pullbacks
(``bridges``), so every backend gets the gradients ``value_and_grad`` gives.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .namespace import Array, as_array, astype, is_float, namespace, shape_str, silent
from .reduction import Divisor

__all__ = [
    "Pullback",
    "Want",
    "array_names",
    "array_parameters",
    "differentiable",
    "divisor_of",
    "forward_of",
    "grad",
    "grad_like",
    "has_gradient",
    "sum_to_shape",
    "value_and_grad",
]

Pullback = Callable[[Array], dict[str, Array | None]]
Forward = Callable[..., tuple[Array, Pullback]]


@dataclass(frozen=True)
class Want:
    """What a caller wants of a forward besides its value.

    Attributes:
        names: the array arguments (by parameter name) whose gradients are wanted; the
            pullback computes these and no others.
        scalar: the upstream gradient when it is known before the forward runs, else
            ``None``: one number for every element of the value (a float or a 0-d array),
            or, for ``reduction='none'``, an array of the value's shape (cross_entropy takes
            this from the chunked linear head). A loss then computes its gradients in the
            forward's pass over the data.
    """

    names: frozenset[str]
    scalar: Any = None

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def wants(self, *names: str) -> tuple[bool, ...]:
        return tuple(n in self.names for n in names)


@dataclass(frozen=True)
class _Loss:
    """A registered loss: its forward, array parameters and declared 'mean' divisor."""

    forward: Forward
    arrays: tuple[str, ...]
    divisor: Divisor | None
    traced: Callable[[dict[str, Any]], bool] | None


_LOSSES: dict[Callable[..., Any], _Loss] = {}


def array_parameters(signature: inspect.Signature) -> tuple[str, ...]:
    """The parameters that take arrays (annotated ``Array...``), in signature order."""
    return tuple(n for n, p in signature.parameters.items()
                 if isinstance(p.annotation, str) and p.annotation.startswith("Array"))


def differentiable(
    forward: Forward | None = None,
    *,
    divisor: Divisor | None = None,
    traced: Callable[[dict[str, Any]], bool] | None = None,
) -> Any:
    """Make the public loss (value only) from ``forward`` and register it. Used as
    ``@differentiable`` or ``@differentiable(divisor=..., traced=...)``.

    Args:
        divisor: the loss's 'mean' divisor, when it is not the number of terms.
        traced: ``traced(arguments)`` is true for calls that autograd frameworks must trace
            through themselves (a user's own distance function) instead of using the pullback.
    """
    if forward is None:
        return functools.partial(differentiable, divisor=divisor, traced=traced)
    full = inspect.signature(forward)
    public = full.replace(parameters=[p for n, p in full.parameters.items() if n != "_want"],
                          return_annotation="Array")
    arrays = array_parameters(public)

    @functools.wraps(forward)
    def loss(*args: Any, **kwargs: Any) -> Array:
        from .bridges import bridged, watched

        if watched(args, kwargs):  # torch or JAX values: autograd may be watching
            arguments = public.bind(*args, **kwargs).arguments
            through = bridged(forward, arrays, arguments, traced)
            if through is not None:
                return through
        with silent():
            value = forward(*args, **kwargs)[0]
        return as_array(namespace(forward.__name__, value=value), value)

    loss.__signature__ = public  # type: ignore[attr-defined]
    _LOSSES[loss] = _Loss(forward, arrays, divisor, traced)
    return loss


def divisor_of(fn: Callable[..., Any]) -> Divisor | None:
    """The 'mean' divisor a loss declared, or ``None`` (the number of terms)."""
    entry = _LOSSES.get(fn)
    return None if entry is None else entry.divisor


def array_names(fn: Any) -> tuple[str, ...]:
    """The array parameters of a losskit function (or of a partial of one), in order."""
    entry = _LOSSES.get(fn.func if isinstance(fn, functools.partial) else fn)
    return () if entry is None else entry.arrays


def forward_of(fn: Any) -> Forward | None:
    """The registered forward ``(value, pullback)`` of a losskit function, or of a
    ``functools.partial`` of one (its arguments bound); ``None`` for anything else."""
    if isinstance(fn, functools.partial):
        entry = _LOSSES.get(fn.func)
        if entry is None:
            return None
        return functools.partial(entry.forward, *fn.args, **fn.keywords)
    entry = _LOSSES.get(fn)
    return None if entry is None else entry.forward


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
    if grad is None or x is None or not has_gradient(xp, x):
        return None
    return as_array(xp, astype(xp, sum_to_shape(xp, grad, tuple(x.shape), full), x.dtype))


def _resolve(fn: Any) -> tuple[_Loss, dict[str, Any]]:
    entry = _LOSSES.get(fn)
    if entry is not None:
        return entry, {}
    function = getattr(type(fn), "function", None)
    if function is not None and function in _LOSSES and hasattr(fn, "options"):
        return _LOSSES[function], fn.options()
    raise TypeError(
        f"value_and_grad: `fn` must be a losskit loss function or loss instance "
        f"(e.g. losskit.mse_loss or losskit.MSELoss()), got {fn!r}."
    )


def _selected(entry: _Loss, argnums: Any, n_positional: int,
              inputs: tuple[str, ...] | None = None) -> tuple[list[str], bool]:
    """The names ``argnums`` picks, and whether one gradient (not a tuple) is returned
    (``inputs``: the names of the positional arrays, when not the loss's first ones)."""
    positional = list(inputs if inputs is not None else entry.arrays)[:n_positional]
    if argnums is None:
        return positional, False
    single = isinstance(argnums, (int, str))
    items: Iterable[Any] = (argnums,) if single else argnums
    names = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, str)):
            raise TypeError(f"value_and_grad: `argnums` must be ints or names of array "
                            f"arguments, got {item!r}.")
        if isinstance(item, int):
            if not -n_positional <= item < n_positional:
                raise ValueError(f"value_and_grad: argnums {item} is out of range for "
                                 f"{n_positional} positional arrays ({', '.join(positional)}).")
            names.append(positional[item])
        elif item not in entry.arrays:
            raise ValueError(f"value_and_grad: {item!r} is not an array argument of "
                             f"{entry.forward.__name__} (those are {', '.join(entry.arrays)}).")
        else:
            names.append(item)
    return names, single


def _upstream(xp: Any, value: Array, grad_output: Any) -> Array:
    if grad_output is None:
        return xp.ones_like(value)
    if isinstance(grad_output, (int, float)) and not isinstance(grad_output, bool):
        return xp.full(tuple(value.shape), grad_output, dtype=value.dtype)
    namespace("value_and_grad", value=value, grad_output=grad_output)
    if tuple(grad_output.shape) != tuple(value.shape):
        raise ValueError(
            f"value_and_grad: `grad_output` must have the value's shape "
            f"{shape_str(value.shape)}, got {shape_str(grad_output.shape)}."
        )
    return grad_output


def _scalar(grad_output: Any) -> Any:
    """The upstream gradient as one number for every element of the value, known in
    advance (``None`` when it is not one number)."""
    if grad_output is None:
        return 1.0
    if isinstance(grad_output, (int, float)) and not isinstance(grad_output, bool):
        return float(grad_output)
    return grad_output if getattr(grad_output, "shape", None) == () else None


def value_and_grad(
    fn: Callable[..., Array],
    *arrays: Array,
    argnums: int | str | tuple[int | str, ...] | None = None,
    grad_output: Array | float | None = None,
    **options: Any,
) -> tuple[Array, Any]:
    """The loss value and its analytic gradients.

    Args:
        fn: a losskit loss function (``losskit.mse_loss``) or loss instance
            (``losskit.MSELoss(reduction='sum')``; its options are used).
        *arrays: the loss's positional array arguments (``input, target``, ...).
        argnums: which gradients, as in JAX: an int or a tuple of ints (positions among
            ``arrays``) or names of array arguments, keyword arrays included
            (``argnums=(0, 'weight')``). Default: every positional array. Gradients not
            asked for are not computed.
        grad_output: the upstream gradient, shaped like the value (default: ones), as
            torch's ``value.backward(grad_output)``.
        **options: the loss's keyword options (``reduction=``, ``beta=``, ...); not
            allowed together with a loss instance, which carries its own.

    Returns:
        ``(value, grads)``: ``grads`` is a tuple in ``argnums`` order (one gradient when
        ``argnums`` is a single int or name), each in its argument's shape and dtype, ``None``
        where torch gives no gradient (integer targets, non-differentiable arguments).

    Example:
        >>> import numpy as np, losskit
        >>> value, (dx, dy) = losskit.value_and_grad(
        ...     losskit.mse_loss, np.array([2.0, 4.0, 6.0]), np.array([1.0, 3.0, 7.0]))
        >>> float(value), dx.tolist(), dy.tolist()
        (1.0, [0.6666666666666666, 0.6666666666666666, -0.6666666666666666], \
[-0.6666666666666666, -0.6666666666666666, 0.6666666666666666])
        >>> value, dx = losskit.value_and_grad(losskit.mse_loss, np.array([2.0]),
        ...                                    np.array([1.0]), argnums=0)
        >>> dx.tolist()
        [2.0]
    """
    entry, bound = _resolve(fn)
    if bound and options:
        raise TypeError(
            f"value_and_grad: options {sorted(options)} were given with a loss instance, "
            "which carries its own; set them on the instance or pass the function instead."
        )
    # an instance holding parameters is called with its own arrays (LinearCrossEntropyLoss:
    # input, target; its linear weight is one of its options), bound by name
    inputs = tuple(type(fn).inputs()) if bound and getattr(type(fn), "by_name", False) \
        else None
    names, single = _selected(entry, argnums, len(arrays), inputs)
    want = Want(frozenset(names), _scalar(grad_output))
    with silent():
        if inputs is not None:
            value, pullback = entry.forward(**dict(zip(inputs, arrays)), **bound, _want=want)
        else:
            value, pullback = entry.forward(*arrays, **(bound or options), _want=want)
        xp = namespace("value_and_grad", value=value)
        value = as_array(xp, value)
        grads = pullback(_upstream(xp, value, grad_output))
    picked = tuple(grads.get(n) for n in names)
    return value, picked[0] if single else picked


def grad(
    fn: Callable[..., Array],
    *arrays: Array,
    argnums: int | str | tuple[int | str, ...] | None = None,
    grad_output: Array | float | None = None,
    **options: Any,
) -> Any:
    """The gradients of :func:`value_and_grad` alone.

    Example:
        >>> import numpy as np, losskit
        >>> dx, dy = losskit.grad(losskit.l1_loss, np.array([2.0, 4.0]), np.array([1.0, 5.0]))
        >>> dx.tolist()
        [0.5, -0.5]
    """
    return value_and_grad(fn, *arrays, argnums=argnums, grad_output=grad_output,
                          **options)[1]
