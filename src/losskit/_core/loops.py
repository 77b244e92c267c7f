"""Loops whose trip count grows with the data (time steps, target slots, batch chunks).

A loss never writes such a loop in Python itself: a tracer would unroll it (JAX compiles a
program as long as the loop) and a lazy library would turn every step into tasks (a Dask
graph as long as the loop). :func:`scan` is ``jax.lax.scan`` on JAX (one compiled step,
whatever the length) and a plain loop on eager libraries; :func:`per_batch` runs a loss's
eager NumPy implementation once per batch chunk of Dask arrays (a few tasks per chunk,
whatever T, C and S are).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .namespace import Array, is_dask, is_jax

__all__ = ["matmul_add", "per_batch", "scan"]


def scan(
    xp: Any,
    step: Callable[[Any, Any], tuple[Any, Any]],
    carry: Any,
    xs: Array | tuple[Array, ...] | None,
    length: int | None = None,
    reverse: bool = False,
) -> tuple[Any, Any]:
    """``step(carry, x) -> (carry, y)`` over the leading axis of ``xs`` (an array, a tuple of
    arrays, or ``None`` with ``length``), as ``jax.lax.scan``: returns the last carry and the
    ``y``s stacked along a new leading axis (``None`` when ``step`` gives none; a tuple of
    stacks when it gives tuples). ``reverse`` runs from the last index to the first, the
    ``y``s still stacked in index order."""
    if is_jax(xp):
        import jax

        return jax.lax.scan(step, carry, xs, length=length, reverse=reverse)
    first = xs[0] if isinstance(xs, tuple) else xs
    n = length if first is None else first.shape[0]
    ys: list[Any] = [None] * n
    for i in (range(n - 1, -1, -1) if reverse else range(n)):
        x = None if xs is None else (tuple(a[i, ...] for a in xs) if isinstance(xs, tuple)
                                     else xs[i, ...])
        carry, ys[i] = step(carry, x)
    if not ys or ys[0] is None:
        return carry, None
    if isinstance(ys[0], tuple):
        return carry, tuple(xp.stack([y[k] for y in ys]) for k in range(len(ys[0])))
    return carry, xp.stack(ys)


def per_batch(
    function: Callable[..., Any],
    arrays: Sequence[Array],
    axes: Sequence[str],
    out: str,
    dtype: Any,
    new_sizes: dict[str, int] | None = None,
) -> Array:
    """``function`` of NumPy blocks, run once per chunk of the batch axis ``n`` of Dask
    arrays, as ``dask.array.blockwise``: ``axes`` names each array's axes (``"tnc"`` for
    ``(T, N, C)`` log-probabilities, ``"n"`` for lengths), ``out`` the output's. Every axis
    but ``n`` is made one chunk first, so each task sees whole sequences and rows."""
    import dask.array as da

    batch = next(a for a, ax in zip(arrays, axes) if "n" in ax)
    chunks = batch.chunks[axes[list(arrays).index(batch)].index("n")]
    whole = []
    for a, ax in zip(arrays, axes):
        if not is_dask(a):
            a = da.from_array(a, chunks=-1)
        spec = {i: (chunks if name == "n" else -1) for i, name in enumerate(ax)}
        whole.append(a.rechunk(spec) if spec else a)
    pairs = [x for a, ax in zip(whole, axes) for x in (a, ax)]
    return da.blockwise(function, out, *pairs, dtype=dtype, concatenate=True,
                        new_axes=new_sizes or {})


def matmul_add(xp: Any, total: Array, a: Array, b: Array, elements: int) -> Array:
    """``total + a @ b`` (``a`` ``(P, m)``, ``b`` ``(m, D)``: a weight gradient's step inside a
    scan). On JAX the rows of ``total`` are updated a block of about ``elements`` at a time
    (``fori_loop`` and ``dynamic_update_slice``, which XLA does in place), so no temporary the
    size of ``total`` exists: measured, 134 MB instead of 563 MB of XLA temporaries for a
    (128000, 1024) weight, 3% slower. Elsewhere a plain sum."""
    if not is_jax(xp):
        return total + xp.matmul(a, b)
    import jax

    p = total.shape[0]
    step = max(1, min(p, elements // max(1, b.shape[-1])))
    full = p // step

    def block(i: Any, acc: Any) -> Any:
        start = i * step
        part = xp.matmul(jax.lax.dynamic_slice_in_dim(a, start, step, axis=0), b)
        now = jax.lax.dynamic_slice_in_dim(acc, start, step, axis=0)
        return jax.lax.dynamic_update_slice_in_dim(acc, now + part, start, axis=0)

    total = jax.lax.fori_loop(0, full, block, total)
    if full * step < p:
        total = total.at[full * step:].add(xp.matmul(a[full * step:, ...], b))
    return total
