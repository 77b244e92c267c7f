"""Numerically stable building blocks shared by the losses (array API only)."""

from __future__ import annotations

import math
from typing import Any

from .namespace import Array

__all__ = ["HALF_LOG_2PI", "log_sigmoid", "log_sigmoid_pair", "log_softmax", "logsumexp",
           "safe_log", "sigmoid", "sign", "softplus"]

#: ``0.5·log(2π)``: the Gaussian normaliser and Stirling's constant.
HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def sign(xp: Any, x: Array) -> Array:
    """torch's CPU ``sign`` of a real array: -1, 0 or 1, and 0 (not nan) at nan."""
    return xp.astype(x > 0, x.dtype) - xp.astype(x < 0, x.dtype)


def softplus(xp: Any, x: Array) -> Array:
    """``log(1 + exp(x))`` without overflow: ``max(x, 0) + log1p(exp(-|x|))``."""
    return xp.maximum(x, 0.0) + xp.log1p(xp.exp(-xp.abs(x)))


def log_sigmoid(xp: Any, x: Array) -> Array:
    """``log σ(x) = -softplus(-x)``, finite for every finite x (x = -100 gives -100)."""
    return -softplus(xp, -x)


def log_sigmoid_pair(xp: Any, x: Array) -> tuple[Array, Array]:
    """``(log σ(x), log σ(-x))`` from one exp and one log1p, each exact at ±inf (0 and
    -inf), where ``log σ(x) - x`` would give nan."""
    tail = xp.log1p(xp.exp(-xp.abs(x)))
    return -(xp.maximum(-x, 0.0) + tail), -(xp.maximum(x, 0.0) + tail)


def sigmoid(xp: Any, x: Array) -> Array:
    """``σ(x)`` as ``exp(log σ(x))``: full relative precision in both tails, no branch."""
    return xp.exp(log_sigmoid(xp, x))


def logsumexp(xp: Any, x: Array) -> Array:
    """``log Σ exp(x)`` over the last axis, shifted by the row maximum (logits of ±1e4 stay
    finite). A row of -inf gives -inf - (-inf) = NaN, and a +inf logit NaN, as in torch."""
    if 0 in x.shape:  # Dask cannot take the maximum of empty chunks
        return xp.zeros(x.shape[:-1], dtype=x.dtype) if x.shape[-1] else xp.full(
            x.shape[:-1], float("-inf"), dtype=x.dtype)
    top = xp.max(x, axis=-1, keepdims=True)
    return xp.log(xp.sum(xp.exp(x - top), axis=-1)) + top[..., 0]


def log_softmax(xp: Any, x: Array, axis: int = -1) -> Array:
    """``x - logsumexp(x)`` along ``axis``: log-probabilities from logits."""
    if axis not in (-1, x.ndim - 1):
        moved = xp.moveaxis(x, axis, -1)
        return xp.moveaxis(moved - logsumexp(xp, moved)[..., None], -1, axis)
    return x - logsumexp(xp, x)[..., None]


def safe_log(xp: Any, s: Array) -> Array:
    """``log(s)`` with ``-inf`` at ``s == 0``, through a log of 1 there, so that autograd
    sees no ``inf · 0`` (the double-where idiom)."""
    empty = s == 0
    return xp.where(empty, xp.full_like(s, float("-inf")),
                    xp.log(xp.where(empty, xp.ones_like(s), s)))
