"""The only module that talks to array-api-compat: namespaces, laziness, dtypes.

Every loss asks this module for the namespace of its arguments once, at the edge, and
then uses only functions of the Python array API standard on it.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import array_api_compat

__all__ = [
    "BLOCK",
    "Array",
    "astype",
    "blockable",
    "default_float",
    "device",
    "float_dtype",
    "gather_last",
    "is_complex",
    "is_float",
    "is_integer",
    "is_lazy",
    "map_blocks",
    "namespace",
    "numel",
    "quiet",
    "result_dtype",
    "shape_str",
    "subtract_at",
    "take",
    "take_last",
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


def device(x: Array) -> Any:
    """The device ``x`` lives on (new arrays are created there: no host copies)."""
    return array_api_compat.device(x)


def is_lazy(x: Array) -> bool:
    """True when reading ``x``'s values would force a computation (Dask, JAX tracers).

    Value checks (targets in range, probabilities in [0, 1]) are skipped for such arrays.
    Eager JAX arrays are *not* lazy here (array-api-compat errs on the side of caution).
    """
    if array_api_compat.is_jax_array(x):
        return any(cls.__name__ == "Tracer" for cls in type(x).__mro__)
    return bool(array_api_compat.is_lazy_array(x))


def numel(x: Array) -> int:
    """Number of elements of ``x`` (torch's ``.size`` is a method, hence this helper)."""
    return math.prod(x.shape)


def shape_str(shape: tuple[int | None, ...]) -> str:
    """``(2, 3)``, ``(3,)`` and ``()``: shapes spelled the way Python spells tuples."""
    return str(tuple(shape))


def quiet(xp: Any) -> contextlib.AbstractContextManager[Any]:
    """Silence NumPy's floating-point warnings where torch computes silently (``log(0)``
    before torch's clamp at -100, ``0 / 0`` for an all-ignored mean); a no-op elsewhere."""
    if array_api_compat.is_numpy_namespace(xp):
        import numpy as np

        return np.errstate(divide="ignore", invalid="ignore", over="ignore")
    return contextlib.nullcontext()


def is_float(xp: Any, dtype: Any) -> bool:
    return bool(xp.isdtype(dtype, "real floating"))


def is_complex(xp: Any, dtype: Any) -> bool:
    return bool(xp.isdtype(dtype, "complex floating"))


def is_integer(xp: Any, dtype: Any) -> bool:
    """Integer or boolean dtype: the dtypes torch refuses where it wants floats."""
    return bool(xp.isdtype(dtype, ("integral", "bool")))


def default_float(xp: Any, x: Array) -> Any:
    """The namespace's default real floating dtype (float32 for torch, float64 for NumPy)."""
    info = getattr(xp, "__array_namespace_info__", None)
    if info is not None:
        try:
            return info().default_dtypes(device=array_api_compat.device(x))["real floating"]
        except (TypeError, ValueError, KeyError):  # pragma: no cover - exotic namespaces
            pass
    return xp.float64  # pragma: no cover


def _category(xp: Any, dtype: Any) -> int:
    if xp.isdtype(dtype, "bool"):
        return 0
    if xp.isdtype(dtype, "integral"):
        return 1
    if xp.isdtype(dtype, "real floating"):
        return 2
    return 3


def _promote(xp: Any, dtypes: list[Any]) -> Any:
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
        return _promote(xp, zero)
    dtype = _promote(xp, dims)
    higher = [d for d in zero if _category(xp, d) > _category(xp, dtype)]
    return _promote(xp, higher) if higher else dtype


def as_array(xp: Any, x: Array) -> Array:
    """``x`` as a 0-d array where NumPy's reductions return a scalar (``np.float64``)."""
    import numpy as np

    return xp.asarray(x) if isinstance(x, np.generic) else x


def float_dtype(xp: Any, *arrays: Array) -> Any:
    """:func:`result_dtype`, made floating: integer operands give the namespace's default
    float, as torch's losses give torch's (float32 for torch, float64 for NumPy)."""
    dtype = result_dtype(xp, *arrays)
    return default_float(xp, arrays[0]) if is_integer(xp, dtype) else dtype


def astype(xp: Any, x: Array, dtype: Any) -> Array:
    """``x`` in ``dtype``, without a copy when it already has it."""
    return x if x.dtype == dtype else xp.astype(x, dtype)


#: Elements per block of the blockwise NumPy path: small enough that a block's temporaries
#: stay in the CPU cache (and under malloc's mmap threshold), large enough to amortise
#: Python's per-call overhead.
BLOCK = 1 << 16


def blockable(xp: Any, *arrays: Array) -> bool:
    """Whether :func:`map_blocks` applies: large C-contiguous NumPy arrays of one shape.

    NumPy evaluates an expression one operation at a time over whole arrays, so a loss
    with five temporaries streams five arrays through memory. Evaluated block by block,
    the temporaries stay in cache; the arithmetic (the loss's own array-API code) is the same.
    """
    first = arrays[0]
    return (
        array_api_compat.is_numpy_namespace(xp)
        and numel(first) >= 2 * BLOCK
        and all(
            a.shape == first.shape and getattr(a, "flags", None) is not None
            and a.flags.c_contiguous
            for a in arrays
        )
    )


def _threads() -> int:
    """Worker threads of the blockwise path: ``LOSSKIT_NUM_THREADS``, else the usable cores."""
    env = os.environ.get("LOSSKIT_NUM_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


_POOL: ThreadPoolExecutor | None = None


def map_blocks(
    fn: Callable[[int, tuple[Array, ...]], Any], *arrays: Array, rows: bool = False
) -> list[Any]:
    """``[fn(start, blocks) ...]`` over aligned views of ``arrays`` of about ``BLOCK``
    elements, in order (see :func:`blockable`): flat views, or with ``rows=True`` runs of
    whole rows along axis 0 (``start`` is then the first row).

    NumPy releases the GIL inside its loops, so the blocks are shared among a few threads,
    each taking a contiguous run of them; the results come back in block order, so sums
    of them do not depend on the thread count.
    """
    global _POOL
    if rows:
        views = list(arrays)
        step = max(1, BLOCK // max(1, math.prod(arrays[0].shape[1:])))
    else:
        views = [a.reshape(-1) for a in arrays]
        step = BLOCK
    starts = list(range(0, views[0].shape[0], step))

    def run(chunk: list[int]) -> list[Any]:
        return [fn(i, tuple(v[i : i + step] for v in views)) for i in chunk]

    workers = min(_threads(), len(starts))
    if workers <= 1:
        return run(starts)
    if _POOL is None or _POOL._max_workers < workers:
        _POOL = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="losskit")
    per = -(-len(starts) // workers)
    futures = [_POOL.submit(run, starts[k : k + per]) for k in range(0, len(starts), per)]
    return [r for f in futures for r in f.result()]


def subtract_at(xp: Any, a: Array, index: Array, values: Array) -> Array:
    """``a`` with ``values[m]`` subtracted at ``a[m, index[m]]`` (``a`` is ``(M, C)``).

    ``a`` must be a fresh array of the caller's: on NumPy it is updated in place (one
    scattered write, where the array API has no scatter); elsewhere a one-hot mask is used.
    """
    if array_api_compat.is_numpy_array(a):
        import numpy as np

        a[np.arange(a.shape[0]), index] -= values
        return a
    classes = xp.arange(a.shape[-1], dtype=index.dtype, device=array_api_compat.device(a))
    return a - xp.astype(index[:, None] == classes, a.dtype) * values[:, None]


def take(xp: Any, table: Array, index: Array) -> Array:
    """``table[index]`` for a 1-D ``table`` (class weights, flat targets).

    Dask's ``take`` with a lazy index gives chunks of unknown size, which later reshapes
    refuse; there the entries are picked with a one-hot mask instead (known shapes, lazy).
    """
    if not array_api_compat.is_dask_array(index):
        return xp.take(table, index)
    positions = xp.arange(table.shape[0], dtype=index.dtype)
    mask = index[..., None] == positions
    return xp.sum(xp.where(mask, table, xp.zeros_like(table)), axis=-1)


def gather_last(xp: Any, x: Array, index: Array) -> Array:
    """``x[..., index[..., k]]`` along the last axis, for ``index`` of shape
    ``x.shape[:-1] + (K,)``: ``take_along_axis``, or a one-hot contraction on Dask."""
    if hasattr(xp, "take_along_axis") and not array_api_compat.is_dask_array(x):
        return xp.take_along_axis(x, index, axis=-1)
    classes = xp.arange(x.shape[-1], dtype=index.dtype, device=array_api_compat.device(x))
    onehot = index[..., None] == classes
    return xp.sum(xp.where(onehot, x[..., None, :], xp.zeros_like(x[..., None, :])), axis=-1)


def take_last(xp: Any, x: Array, index: Array) -> Array:
    """``x[..., index[...]]`` along the last axis (``index`` has ``x.shape[:-1]``).

    Uses ``take_along_axis`` where the namespace has it; Dask has none, so there the
    element is selected with a one-hot mask (chunk-wise and lazy).
    """
    if hasattr(xp, "take_along_axis") and not array_api_compat.is_dask_array(x):
        return xp.take_along_axis(x, index[..., None], axis=-1)[..., 0]
    classes = xp.arange(x.shape[-1], dtype=index.dtype, device=array_api_compat.device(x))
    return xp.sum(xp.where(index[..., None] == classes, x, xp.zeros_like(x)), axis=-1)
