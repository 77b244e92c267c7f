"""The CTC lattice on the array API: log-space alpha and beta recursions over time.

Vectorised over the batch and the extended label sequence (blank, l1, blank, l2, ...,
blank); time is the core's :func:`scan` (``jax.lax.scan`` under JAX, so a program's size does
not grow with T; a plain loop elsewhere).
"""

from __future__ import annotations

from typing import Any

from .._core.indexing import gather_last
from .._core.loops import scan
from .._core.namespace import Array, device, quiet
from .._core.stable import safe_log

__all__ = ["Trellis", "extended_labels", "shift"]

_NEG = float("-inf")


def _lse3(xp: Any, a: Array, b: Array, c: Array) -> Array:
    """log(exp(a) + exp(b) + exp(c)), elementwise; -inf where all three are -inf."""
    m = xp.maximum(xp.maximum(a, b), c)
    m = xp.where(m == _NEG, xp.zeros_like(m), m)
    return m + safe_log(xp, xp.exp(a - m) + xp.exp(b - m) + xp.exp(c - m))


def shift(xp: Any, a: Array, k: int, fill: Any) -> Array:
    """``a[..., s - k]`` (k > 0) or ``a[..., s + |k|]`` (k < 0) along the last axis, ``fill``
    where that is out of range."""
    if abs(k) >= a.shape[-1]:
        return xp.full(tuple(a.shape), fill, dtype=a.dtype)
    pad = xp.full((*a.shape[:-1], abs(k)), fill, dtype=a.dtype)
    if k > 0:
        return xp.concat([pad, a[..., : a.shape[-1] - k]], axis=-1)
    return xp.concat([a[..., -k:], pad], axis=-1)


def extended_labels(xp: Any, tgt: Array, blank: int) -> tuple[Array, Array]:
    """The extended labels ``(N, 2S + 1)`` (blank, l1, blank, ..., blank) of padded targets,
    and where a label may be reached from two positions back (not a blank, not a repeat)."""
    n, s = tgt.shape
    ix = tgt.dtype
    blanks = xp.full((n, s), blank, dtype=ix)
    ext = xp.concat([xp.reshape(xp.stack([blanks, tgt], axis=-1), (n, 2 * s)),
                     xp.full((n, 1), blank, dtype=ix)], axis=-1)
    positions = xp.arange(2 * s + 1, dtype=ix)[None, :]
    skip = (positions >= 2) & (ext != blank) & (ext != shift(xp, ext, 2, blank))
    return ext, skip


class Trellis:
    """The CTC lattice of a batch: the extended labels (blank, l1, blank, ..., blank), which
    positions may skip one back, and each label's log-probability at every step."""

    def __init__(self, xp: Any, lp: Array, tgt: Array, il: Array, tl: Array,
                 blank: int) -> None:
        self.xp, self.lp, self.il, self.tl = xp, lp, il, tl
        T, N, _ = lp.shape
        self.ext, self.skip = extended_labels(xp, tgt, blank)
        L = self.ext.shape[1]
        positions = xp.arange(L, dtype=self.ext.dtype)[None, :]
        ext_len = 2 * tl + 1
        self.in_target = positions < ext_len[:, None]
        self.ends = (positions == ext_len[:, None] - 1) | (positions == ext_len[:, None] - 2)
        self.emit = gather_last(xp, lp, xp.broadcast_to(self.ext[None, :, :], (T, N, L)))
        self.neg = xp.full((N, L), _NEG, dtype=lp.dtype)
        self.first = (positions < 2) & self.in_target

    def alphas(self) -> Array:
        """log α_t(s) for every step, (T, N, L)."""
        xp, neg, il = self.xp, self.neg, self.il
        alpha = xp.where(self.first, self.emit[0, ...], neg)
        alpha = xp.where((il > 0)[:, None], alpha, neg)

        def step(alpha: Array, x: tuple[Array, Array]) -> tuple[Array, Array]:
            t, emit = x
            from_two = xp.where(self.skip, shift(xp, alpha, 2, _NEG), neg)
            new = _lse3(xp, alpha, shift(xp, alpha, 1, _NEG), from_two) + emit
            new = xp.where((t < il)[:, None] & self.in_target, new, neg)
            return new, new

        steps = xp.arange(1, self.lp.shape[0], dtype=il.dtype, device=device(self.lp))
        _, later = scan(xp, step, alpha, (steps, self.emit[1:, ...]))
        return xp.concat([alpha[None, ...], later], axis=0) if later is not None else (
            alpha[None, ...])

    def log_likelihood(self, alpha_all: Array) -> Array:
        """log p(target | log_probs) per sample, from the alphas at each input's last step."""
        xp, il, tl, neg = self.xp, self.il, self.tl, self.neg
        at_end = xp.arange(self.lp.shape[0], dtype=il.dtype)[:, None] == (il - 1)[None, :]
        final = xp.sum(xp.where(at_end[:, :, None], alpha_all, xp.zeros_like(alpha_all)),
                       axis=0)
        m = xp.max(xp.where(self.ends, final, neg), axis=-1)
        m_safe = xp.where(m == _NEG, xp.zeros_like(m), m)
        total = m_safe + safe_log(xp, xp.sum(xp.where(self.ends, xp.exp(final - m_safe[:, None]),
                                                      xp.zeros_like(final)), axis=-1))
        # no time steps: an empty target has probability 1, any other 0
        return xp.where(il == 0, xp.where(tl == 0, xp.zeros_like(total),
                                          xp.full_like(total, _NEG)), total)

    def betas(self) -> Array:
        """log β_t(s) for every step, (T, N, L)."""
        xp, neg, last = self.xp, self.neg, self.il - 1
        may_skip = shift(xp, self.skip, -2, False)

        def step(beta: Array, x: tuple[Array, Array]) -> tuple[Array, Array]:
            t, emit = x
            from_two = xp.where(may_skip, shift(xp, beta, -2, _NEG), neg)
            new = _lse3(xp, beta, shift(xp, beta, -1, _NEG), from_two) + emit
            start = xp.where(self.ends, emit, neg)
            new = xp.where((t == last)[:, None], start,
                           xp.where((t < last)[:, None] & self.in_target, new, neg))
            return new, new

        steps = xp.arange(self.lp.shape[0], dtype=last.dtype, device=device(self.lp))
        _, betas = scan(xp, step, neg, (steps, self.emit), reverse=True)
        return betas

    def gradient(self, alpha_all: Array, total: Array) -> Array:
        """d loss_n / d lp[t, n, k] = -Σ_{s: ext_s = k} α_t(s) β_t(s) / (p_n · y_t(k))."""
        xp, lp = self.xp, self.lp
        T, _, C = lp.shape
        gamma = alpha_all + self.betas()  # log α_t(s) β_t(s), (T, N, L)
        top = xp.max(gamma, axis=-1, keepdims=True)
        top = xp.where(top == _NEG, xp.zeros_like(top), top)
        classes = xp.arange(C, dtype=self.ext.dtype)[None, None, :]
        onehot = xp.astype(self.ext[:, :, None] == classes, lp.dtype)  # (N, L, C)
        mass = xp.matmul(xp.exp(gamma - top)[:, :, None, :], onehot[None, :, :, :])[:, :, 0, :]
        with quiet(xp):
            grad = -xp.exp(xp.log(mass) + top - lp + (-total)[None, :, None])
        valid_t = (xp.arange(T, dtype=self.il.dtype)[:, None] < self.il[None, :])[:, :, None]
        return xp.where(valid_t, grad, xp.zeros_like(grad))


