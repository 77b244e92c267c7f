"""Selecting and scattering along the class axis, on every backend.

The array API has ``take`` and ``take_along_axis`` but Dask has no ``take_along_axis`` and
no namespace has a scatter-add; these helpers pick the fast form where it exists and a
one-hot mask elsewhere, so loss bodies stay backend-neutral.
"""

from __future__ import annotations

from typing import Any

from .namespace import Array, device, is_dask, is_numpy, is_torch

__all__ = ["gather_last", "subtract_at", "take", "take_last"]


def _take_along_axis(xp: Any, x: Array, index: Array) -> Array:
    """``take_along_axis`` on the last axis, for any integer ``index`` dtype (torch's
    ``take_along_dim`` wants int64; the others take any)."""
    if is_torch(x) and index.dtype != xp.int64:
        index = xp.astype(index, xp.int64)
    return xp.take_along_axis(x, index, axis=-1)


def take(xp: Any, table: Array, index: Array) -> Array:
    """``table[index]`` for a 1-D ``table`` (class weights, flat targets).

    Dask's ``take`` with a lazy index gives chunks of unknown size, which later reshapes
    refuse; there the entries are picked with a one-hot mask instead (known shapes, lazy).
    """
    if not is_dask(index):
        if is_torch(index) and index.dtype != xp.int64:
            index = xp.astype(index, xp.int64)
        return xp.take(table, index)
    positions = xp.arange(table.shape[0], dtype=index.dtype)
    mask = index[..., None] == positions
    return xp.sum(xp.where(mask, table, xp.zeros_like(table)), axis=-1)


def gather_last(xp: Any, x: Array, index: Array) -> Array:
    """``x[..., index[..., k]]`` along the last axis, for ``index`` of shape
    ``x.shape[:-1] + (K,)``: ``take_along_axis``, or a one-hot contraction on Dask."""
    if hasattr(xp, "take_along_axis") and not is_dask(x):
        return _take_along_axis(xp, x, index)
    classes = xp.arange(x.shape[-1], dtype=index.dtype, device=device(x))
    onehot = index[..., None] == classes
    return xp.sum(xp.where(onehot, x[..., None, :], xp.zeros_like(x[..., None, :])), axis=-1)


def take_last(xp: Any, x: Array, index: Array) -> Array:
    """``x[..., index[...]]`` along the last axis (``index`` has ``x.shape[:-1]``).

    Uses ``take_along_axis`` where the namespace has it; Dask has none, so there the
    element is selected with a one-hot mask (chunk-wise and lazy).
    """
    if is_numpy(x) and x.ndim == 2:  # one fancy index (take_along_axis builds a grid)
        import numpy as np

        return x[np.arange(x.shape[0]), index]
    if hasattr(xp, "take_along_axis") and not is_dask(x):
        return _take_along_axis(xp, x, index[..., None])[..., 0]
    classes = xp.arange(x.shape[-1], dtype=index.dtype, device=device(x))
    return xp.sum(xp.where(index[..., None] == classes, x, xp.zeros_like(x)), axis=-1)


def subtract_at(xp: Any, a: Array, index: Array, values: Array) -> Array:
    """``a`` with ``values[m]`` subtracted at ``a[m, index[m]]`` (``a`` is ``(M, C)``).

    ``a`` must be a fresh array of the caller's: on NumPy it is updated in place (one
    scattered write, where the array API has no scatter); elsewhere a one-hot mask is used.
    """
    if is_numpy(a):
        import numpy as np

        a[np.arange(a.shape[0]), index] -= values
        return a
    classes = xp.arange(a.shape[-1], dtype=index.dtype, device=device(a))
    # where, not a one-hot product: a nan or inf value must not spread along the row
    return xp.where(index[:, None] == classes, a - values[:, None], a)
