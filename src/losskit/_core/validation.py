"""Shared argument checks, warnings and error wording.

Every message names the function, the argument, what was expected and what was received,
and suggests the fix when the mistake is a known confusion. ``TypeError`` for types and
dtypes, ``ValueError`` for values and shapes, ``IndexError`` for a class index out of range
(as torch). Value checks read the data, so they run on eager arrays only.
"""

from __future__ import annotations

import math
from typing import Any

from .namespace import (
    Array,
    astype,
    is_bool,
    is_complex,
    is_float,
    is_integer,
    is_lazy,
    numel,
    shape_str,
)
from .warn import warn


def broadcast_shapes(fn: str, **shapes: tuple[int, ...]) -> tuple[int, ...]:
    """The broadcast of ``shapes`` (NumPy rules), or a ``ValueError`` naming the arguments."""
    ndim = max((len(s) for s in shapes.values()), default=0)
    result: list[int] = []
    for axis in range(-ndim, 0):
        sizes = {name: s[axis] for name, s in shapes.items() if len(s) >= -axis}
        big = {v for v in sizes.values() if v != 1}
        if len(big) > 1:
            described = " and ".join(
                f"{name} of shape {shape_str(s)}" for name, s in shapes.items()
            )
            raise ValueError(
                f"{fn}: {described} cannot be broadcast together (at dimension {axis}: "
                f"sizes {', '.join(f'{n}={v}' for n, v in sizes.items())}); "
                "pass arrays whose shapes match or broadcast."
            )
        result.append(big.pop() if big else 1)
    return tuple(result)


def warn_target_size(fn: str, input: Array, target: Array) -> None:
    """torch's warning when a pointwise regression loss is about to broadcast."""
    if tuple(input.shape) != tuple(target.shape):
        warn(f"{fn}: Using a target size ({shape_str(target.shape)}) that is different to the "
             f"input size ({shape_str(input.shape)}). This will likely lead to incorrect "
             "results due to broadcasting. Please ensure they have the same size.")


def require_float(fn: str, xp: Any, allow_complex: bool = False, **arrays: Array) -> None:
    """``TypeError`` unless every array has a real (or, if allowed, complex) floating dtype."""
    for name, x in arrays.items():
        if x is None or is_float(xp, x.dtype) or (allow_complex and is_complex(xp, x.dtype)):
            continue
        kind = "a floating-point" if not allow_complex else "a floating-point or complex"
        raise TypeError(
            f"{fn}: `{name}` must be {kind} array, got dtype {x.dtype}; "
            f"cast it first, e.g. {name}.astype(float32)."
        )


def refuse_bool(fn: str, xp: Any, **arrays: Array) -> None:
    for name, x in arrays.items():
        if x is not None and is_bool(xp, x.dtype):
            raise TypeError(
                f"{fn}: `{name}` has dtype bool, which has no subtraction; "
                "cast it to a numeric dtype first."
            )


def require_real(fn: str, xp: Any, **arrays: Array) -> None:
    """``TypeError`` for complex arrays where torch has no complex kernel."""
    for name, x in arrays.items():
        if x is not None and is_complex(xp, x.dtype):
            raise TypeError(f"{fn}: `{name}` must be real, got dtype {x.dtype}.")


def require_integer(fn: str, xp: Any, name: str, x: Array, what: str, hint: str = "") -> None:
    """``TypeError`` unless ``x`` holds integers (class indices, labels, lengths): any signed
    or unsigned integer dtype; bool and floats are refused."""
    if not is_integer(xp, x.dtype):
        raise TypeError(f"{fn}: `{name}` must hold integer {what}, got dtype {x.dtype}{hint}.")


def check_same_ndim(fn: str, **arrays: Array) -> None:
    ndims = {name: x.ndim for name, x in arrays.items()}
    if len(set(ndims.values())) > 1:
        got = ", ".join(
            f"{name} {n}-D {shape_str(arrays[name].shape)}" for name, n in ndims.items()
        )
        raise ValueError(
            f"{fn}: {', '.join(ndims)} must have the same number of dimensions, got {got}."
        )


def check_number(
    fn: str, name: str, value: Any, *, minimum: float | None = None, strict: bool = False
) -> float:
    """A Python real number option (``beta``, ``delta``, ``margin``, ``eps``), range-checked."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{fn}: `{name}` must be a real number, got {type(value).__name__}.")
    if minimum is not None and (
        math.isnan(value) or value < minimum or (strict and value == minimum)
    ):
        bound = f"greater than {minimum}" if strict else f"at least {minimum}"
        raise ValueError(f"{fn}: `{name}` must be {bound}, got {value!r}.")
    return value


def check_flag(fn: str, name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{fn}: `{name}` must be True or False, got {value!r}.")
    return value


def check_class_indices(
    fn: str, xp: Any, t: Array, n_classes: int, ignore_index: int | None = None
) -> None:
    """torch's ``IndexError`` for class indices outside ``[0, C)`` (other than
    ``ignore_index``), naming the first such index; eager arrays only (reading the values
    of a lazy array would compute it)."""
    if numel(t) == 0 or is_lazy(t):
        return
    if int(xp.min(t)) >= 0 and int(xp.max(t)) < n_classes:  # the usual case: two reductions
        return
    bad = (t < 0) | (t >= n_classes)
    if ignore_index is not None:
        bad = bad & (t != ignore_index)
    if bool(xp.any(bad)):
        flat = xp.reshape(t, (-1,))
        value = int(flat[int(xp.argmax(xp.astype(xp.reshape(bad, (-1,)), xp.int8)))])
        ignored = "" if ignore_index is None else f", or ignore_index={ignore_index}"
        raise IndexError(
            f"{fn}: target {value} is out of bounds for {n_classes} classes (valid class "
            f"indices are 0..{n_classes - 1}{ignored})."
        )


def class_weight(fn: str, xp: Any, weight: Array | None, n_classes: int, dtype: Any) -> Any:
    """A per-class ``weight`` of shape ``(C)``, cast to ``dtype`` (``None`` stays ``None``)."""
    if weight is None:
        return None
    if tuple(weight.shape) != (n_classes,):
        raise ValueError(
            f"{fn}: `weight` must be 1-D with one weight per class, shape ({n_classes},), "
            f"got {shape_str(weight.shape)}."
        )
    return astype(xp, weight, dtype)
