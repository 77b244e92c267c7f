"""Softmax cross-entropy of rows of logits held in an owned NumPy buffer, computed in place.

A NumPy-only fast path (house rule: NumPy fast paths live in the core, not in loss bodies):
the chunked linear head (``losses/_chunked.py``) forms each ``(m, C)`` logits chunk in a
fresh buffer that nobody else sees, so the log-sum-exp, the per-row loss and the gradient of
the logits can be written over it: one ``(m, C)`` buffer per chunk instead of cross_entropy's
four (shifted logits, their exponentials, log-softmax, gradient), and fewer passes over it.

The formulas are cross_entropy's with class-index targets (``reduction='none'``), class
weights ``w`` (``W = Σ_j w_j``; 1 and C without weights), ``ignore_index`` and label
smoothing ``ε``; with ``z' = z - max_j z`` (every ``z' ≤ 0``), ``s = Σ_j exp(z'_j)``::

    loss    = (1 - ε)·w_t·(log s - z'_t) + (ε / C)·(W·log s - Σ_j w_j z'_j)
    dloss/dz_j = g·[p_j·((1 - ε)·w_t + ε·W / C) - (1 - ε)·w_t·[j = t] - (ε / C)·w_j]

with ``p_j = exp(z'_j) / s``; rows whose target is ``ignore_index`` have loss 0 and gradient
0. ``log s`` and ``-z'`` are both non-negative, so no sum cancels. The parity grid and
torch's OpInfo samples run this path (NumPy) and the general one (every other library).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["applies", "xent_rows"]


def applies(z_dtype: Any, classes: int, rows: int, index_target: bool, flat: bool) -> bool:
    """Whether :func:`xent_rows` serves: float32/float64 logits, class-index targets, one
    loss per row (no K-dimensional ``out_features``), at least one class and one row."""
    return (index_target and flat and classes > 0 and rows > 0
            and np.dtype(z_dtype) in (np.float32, np.float64))


def xent_rows(z: np.ndarray, t: np.ndarray, weight: np.ndarray | None, ignore_index: int,
              smoothing: float, upstream: Any | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Per-row losses of the logits ``z`` ``(m, C)`` (overwritten) for class indices ``t``
    ``(m,)`` (checked by the caller), and, when ``upstream`` (a scalar, or one number per
    row) is given, the gradient of the logits for it, in ``z``'s buffer."""
    m, c = z.shape
    dtype = z.dtype
    rows = np.arange(m)
    ignored = t == ignore_index
    picked = np.where(ignored, 0, t)
    np.subtract(z, z.max(axis=1, keepdims=True), out=z)
    zt = z[rows, picked]
    sz = None
    if smoothing:
        sz = z.sum(axis=1) if weight is None else z @ weight
    np.exp(z, out=z)
    s = z.sum(axis=1)
    lse = np.log(s)
    kept = (~ignored).astype(dtype)
    wt = kept if weight is None else weight[picked] * kept
    total = dtype.type(c) if weight is None else weight.sum(dtype=dtype)
    keep, eps = dtype.type(1.0 - smoothing), dtype.type(smoothing / c)
    loss = keep * wt * (lse - zt)
    if sz is not None:
        loss = loss + eps * (total * lse - sz) * kept
    if upstream is None:
        return loss.astype(dtype, copy=False), None
    # an ignored row's gradient is 0 even when the upstream is inf or nan (0 / 0 'mean')
    g = np.where(ignored, dtype.type(0), np.asarray(upstream, dtype=dtype))
    scale = g * (keep * wt + eps * total) / s
    np.multiply(z, scale[:, None], out=z)
    z[rows, picked] -= g * keep * wt
    if sz is not None:
        if weight is None:
            np.subtract(z, (g * eps)[:, None], out=z)
        else:
            np.subtract(z, np.multiply.outer(g * eps, weight), out=z)
    return loss.astype(dtype, copy=False), z
