"""The only module that talks to array-api-compat: namespaces, laziness, devices, dtypes.

Every loss asks this module for the namespace of its arguments once, at the edge, and then
uses only functions of the Python array API standard on it.
"""

from __future__ import annotations

import contextlib
import functools
import math
import types
from typing import Any

import array_api_compat

__all__ = [
    "Array",
    "as_array",
    "astype",
    "default_float",
    "device",
    "float_dtype",
    "index_dtype",
    "is_bool",
    "is_complex",
    "is_dask",
    "is_float",
    "is_integer",
    "is_jax",
    "is_lazy",
    "is_numpy",
    "is_torch",
    "maybe",
    "namespace",
    "numel",
    "opmath",
    "promote",
    "quiet",
    "result_dtype",
    "shape_str",
    "silent",
]

#: Any array of a library that follows the array API standard (NumPy, PyTorch, JAX, ...).
Array = Any

_LIBRARIES = "NumPy, PyTorch, JAX, CuPy, Dask or array-api-strict"


def namespace(fn: str, **arrays: Any) -> Any:
    """The array namespace shared by ``arrays`` (``None`` values are skipped).

    Raises a ``TypeError`` naming ``fn`` and the argument when a value is not an array
    or when the arrays come from different libraries.
    """
    present = {name: value for name, value in arrays.items() if value is not None}
    if present and all(type(v) is _ndarray() for v in present.values()):
        return _numpy_namespace()  # the common case, without array-api-compat's search
    for name, value in present.items():
        if not array_api_compat.is_array_api_obj(value) or type(value) in (bool, int, float):
            raise TypeError(
                f"{fn}: `{name}` must be an array ({_LIBRARIES}), got "
                f"{type(value).__name__}; convert it first, e.g. numpy.asarray({name})."
            )
    try:
        return array_api_compat.array_namespace(*present.values())
    except TypeError:
        kinds = ", ".join(
            f"{name}: {type(value).__module__}.{type(value).__name__}"
            for name, value in present.items()
        )
        raise TypeError(
            f"{fn}: all arrays must come from one array library, got {kinds}; "
            "convert them to one library first."
        ) from None


@functools.cache
def _ndarray() -> type:
    import numpy as np

    return np.ndarray


@functools.cache
def _numpy_namespace() -> Any:
    import numpy as np

    return array_api_compat.array_namespace(np.empty(0))


def device(x: Array) -> Any:
    """The device ``x`` lives on (new arrays are created there: no host copies)."""
    return array_api_compat.device(x)


def _kind(x: Any, array_test: Any, namespace_test: Any) -> bool:
    if isinstance(x, types.ModuleType):
        return bool(namespace_test(x))
    return bool(array_test(x))


def is_numpy(x: Any) -> bool:
    """``x`` is a NumPy array or the NumPy namespace (the fast paths of ``blocks``)."""
    return _kind(x, array_api_compat.is_numpy_array, array_api_compat.is_numpy_namespace)


def is_dask(x: Any) -> bool:
    """``x`` is a Dask array or the Dask namespace."""
    return _kind(x, array_api_compat.is_dask_array, array_api_compat.is_dask_namespace)


def is_jax(x: Any) -> bool:
    """``x`` is a JAX array (eager or traced) or the JAX namespace."""
    return _kind(x, array_api_compat.is_jax_array, array_api_compat.is_jax_namespace)


def is_torch(x: Any) -> bool:
    """``x`` is a torch tensor or the torch namespace."""
    return _kind(x, array_api_compat.is_torch_array, array_api_compat.is_torch_namespace)


def is_lazy(x: Array) -> bool:
    """True when reading ``x``'s values would force a computation (Dask, JAX tracers).

    Value checks (targets in range, probabilities in [0, 1]) are skipped for such arrays.
    Eager JAX arrays are *not* lazy here (array-api-compat errs on the side of caution).
    """
    if array_api_compat.is_jax_array(x):
        import jax

        if isinstance(x, jax.core.Tracer):
            return True
        # inside a trace (jax.make_jaxpr, a custom rule), arithmetic on a concrete array
        # gives tracers: its values cannot be read there either
        return isinstance(jax.numpy.zeros(()), jax.core.Tracer)
    return bool(array_api_compat.is_lazy_array(x))


def numel(x: Array) -> int:
    """Number of elements of ``x`` (torch's ``.size`` is a method, hence this helper)."""
    return math.prod(x.shape)


def shape_str(shape: tuple[int | None, ...]) -> str:
    """``(2, 3)``, ``(3,)`` and ``()``: shapes spelled the way Python spells tuples."""
    return str(tuple(shape))


def silent() -> contextlib.AbstractContextManager[Any]:
    """NumPy's floating-point warnings off for a whole loss (overflow to inf, 0/0 = nan at
    special values): torch computes these silently, and so does losskit."""
    import numpy as np

    return np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore")


def quiet(xp: Any) -> contextlib.AbstractContextManager[Any]:
    """Silence NumPy's floating-point warnings where torch computes silently (``log(0)``
    before torch's clamp at -100, ``0 / 0`` for an all-ignored mean); a no-op elsewhere."""
    if array_api_compat.is_numpy_namespace(xp):
        import numpy as np

        return np.errstate(divide="ignore", invalid="ignore", over="ignore")
    return contextlib.nullcontext()


@functools.lru_cache(maxsize=256)
def _isdtype(xp: Any, dtype: Any, kind: str) -> bool:
    # dtypes and namespaces are hashable; NumPy's isdtype costs microseconds per call
    return bool(xp.isdtype(dtype, kind))


def _is(xp: Any, dtype: Any, kind: str) -> bool:
    try:
        return _isdtype(xp, dtype, kind)
    except TypeError:  # an unhashable dtype object
        return bool(xp.isdtype(dtype, kind))


def is_float(xp: Any, dtype: Any) -> bool:
    return _is(xp, dtype, "real floating")


def is_complex(xp: Any, dtype: Any) -> bool:
    return _is(xp, dtype, "complex floating")


def is_integer(xp: Any, dtype: Any) -> bool:
    """A signed or unsigned integer dtype (not bool: see :func:`is_bool`)."""
    return _is(xp, dtype, "integral")


def is_bool(xp: Any, dtype: Any) -> bool:
    return _is(xp, dtype, "bool")


def default_float(xp: Any, x: Array) -> Any:
    """The namespace's default real floating dtype (float32 for torch, float64 for NumPy)."""
    return _default_dtype(xp, x, "real floating", "float64")


def index_dtype(xp: Any, x: Array) -> Any:
    """The namespace's default integer dtype (int64, or int32 for JAX without 64-bit mode):
    lengths, positions and labels are computed in it."""
    return _default_dtype(xp, x, "integral", "int64")


def _default_dtype(xp: Any, x: Array, kind: str, fallback: str) -> Any:
    """``__array_namespace_info__().default_dtypes`` on ``x``'s device, for ``kind``."""
    info = getattr(xp, "__array_namespace_info__", None)
    if info is not None:
        try:
            return info().default_dtypes(device=array_api_compat.device(x))[kind]
        except (TypeError, ValueError, KeyError):  # pragma: no cover - exotic namespaces
            pass
    return getattr(xp, fallback)  # pragma: no cover


def _category(xp: Any, dtype: Any) -> int:
    if _is(xp, dtype, "bool"):
        return 0
    if _is(xp, dtype, "integral"):
        return 1
    if _is(xp, dtype, "real floating"):
        return 2
    return 3


def promote(xp: Any, *dtypes: Any) -> Any:
    """torch's promotion of ``dtypes``: the highest kind wins (int64 with float32 gives
    float32, which the array API leaves undefined), then the standard's rules."""
    top = max(_category(xp, d) for d in dtypes)
    return xp.result_type(*[d for d in dtypes if _category(xp, d) == top])


def result_dtype(xp: Any, *arrays: Array, weak_zero_dim: bool = True) -> Any:
    """The dtype torch gives an operation on ``arrays`` (torch's promotion rules).

    Mixed kinds promote to the higher kind (int64 with float32 gives float32), which the
    array API leaves undefined. With ``weak_zero_dim`` (torch's rule for operators), a
    0-d array does not widen the dtype of arrays with dimensions of the same kind
    (float32 (3,) with float64 () gives float32); losses that broadcast their arguments
    first (l1, mse, smooth_l1) pass ``weak_zero_dim=False``.
    """
    dims = [a.dtype for a in arrays if a.ndim > 0 or not weak_zero_dim]
    zero = [a.dtype for a in arrays if a.ndim == 0 and weak_zero_dim]
    if not dims:
        return promote(xp, *zero)
    dtype = promote(xp, *dims)
    higher = [d for d in zero if _category(xp, d) > _category(xp, dtype)]
    return promote(xp, *higher) if higher else dtype


def as_array(xp: Any, x: Array) -> Array:
    """``x`` as a 0-d array where NumPy's reductions return a scalar (``np.float64``)."""
    import numpy as np

    return xp.asarray(x) if isinstance(x, np.generic) else x


def float_dtype(xp: Any, *arrays: Array) -> Any:
    """:func:`result_dtype`, made floating: integer operands give the namespace's default
    float, as torch's losses give torch's (float32 for torch, float64 for NumPy)."""
    dtype = result_dtype(xp, *arrays)
    return default_float(xp, arrays[0]) if _category(xp, dtype) < 2 else dtype


def opmath(xp: Any, dtype: Any) -> Any:
    """The dtype torch computes ``dtype`` in on the CPU: float32 for float16 and bfloat16
    (rounded once at the end), ``dtype`` itself otherwise."""
    halves = [getattr(xp, name, None) for name in ("float16", "bfloat16")]
    return xp.float32 if any(h is not None and dtype == h for h in halves) else dtype


def maybe(xp: Any, mask: Array) -> bool:
    """Whether ``mask`` may hold a True: its value for eager arrays, True for lazy ones
    (which cannot be read), so a rare fix-up path can be skipped only when it is not needed."""
    if is_lazy(mask):
        return True
    return bool(xp.any(mask))


def astype(xp: Any, x: Array, dtype: Any) -> Array:
    """``x`` in ``dtype``, without a copy when it already has it (a value too large for a
    half-precision result becomes inf silently, as in torch)."""
    if x.dtype == dtype:
        return x
    with quiet(xp):
        return xp.astype(x, dtype)
