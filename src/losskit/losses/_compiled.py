"""The compiled CTC lattice (numba): used automatically for NumPy arrays when numba is
installed (``pip install "losskit[accel]"``); ``LOSSKIT_NUMBA=0`` turns it off (as it does
the core's elementwise kernels, ``losskit._core.kernels``).

Each kernel computes what the array-API implementation of its loss computes, in the same
algorithm (the parity tests run both paths against torch). The first call of a kernel compiles
it (about a second; numba caches it on disk where it can).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from .._core.kernels import available
from .._core.kernels import numba as _numba

__all__ = ["available", "ctc"]


@functools.cache
def _lattice() -> Any:
    """The compiled pieces of the CTC lattice: log-add-exp and the two recursions."""
    numba = _numba()
    inf = np.inf

    @numba.njit(inline="always")
    def logaddexp(a: float, b: float) -> float:
        if a == -inf:
            return b
        if b == -inf:
            return a
        top = max(a, b)
        return top + np.log1p(np.exp(-abs(a - b)))

    @numba.njit(inline="always")
    def logaddexp3(a, b, c):
        # one log: the largest term's exponential is 1; -inf terms (outside the lattice)
        # cost no exponential; every operand in lp's dtype
        top = max(a, max(b, c))
        if top == -inf:
            return top
        total = top - top
        if a > -inf:
            total += np.exp(a - top)
        if b > -inf:
            total += np.exp(b - top)
        if c > -inf:
            total += np.exp(c - top)
        return top + np.log(total)

    @numba.njit
    def alphas(lp, ext, skip, n, steps, width):
        # two columns of -inf in front: positions s - 1 and s - 2 always exist
        alpha = np.full((steps, width + 2), -inf, dtype=lp.dtype)
        alpha[0, 2] = lp[0, n, ext[n, 0]]
        if width > 1:
            alpha[0, 3] = lp[0, n, ext[n, 1]]
        for t in range(1, steps):
            for s in range(width):
                c = alpha[t - 1, s] if skip[n, s] else alpha[t - 1, 0]
                alpha[t, s + 2] = (logaddexp3(alpha[t - 1, s + 2], alpha[t - 1, s + 1], c)
                                   + lp[t, n, ext[n, s]])
        return alpha[:, 2:]

    @numba.njit
    def betas(lp, ext, skip, n, steps, width):
        # two columns of -inf behind: positions s + 1 and s + 2 always exist
        beta = np.full((steps, width + 2), -inf, dtype=lp.dtype)
        beta[steps - 1, width - 1] = lp[steps - 1, n, ext[n, width - 1]]
        if width > 1:
            beta[steps - 1, width - 2] = lp[steps - 1, n, ext[n, width - 2]]
        for t in range(steps - 2, -1, -1):
            for s in range(width):
                may_skip = s + 2 < width and skip[n, s + 2]
                c = beta[t + 1, s + 2] if may_skip else beta[t + 1, width + 1]
                beta[t, s] = (logaddexp3(beta[t + 1, s], beta[t + 1, s + 1], c)
                              + lp[t, n, ext[n, s]])
        return beta[:, :width]

    return logaddexp, alphas, betas


@functools.cache
def _ctc_kernel() -> Any:
    """The CTC forward (negative log-likelihoods, alphas kept) and backward (betas and the
    gradient) kernels, one sample per thread."""
    numba = _numba()
    inf = np.inf
    logaddexp, alphas, betas = _lattice()

    @numba.njit(parallel=True)
    def forward(lp, ext, ext_len, il, skip, nll, alpha):
        for n in numba.prange(lp.shape[1]):
            steps, width = il[n], ext_len[n]
            if steps == 0:  # no time steps: an empty target has probability 1, any other 0
                nll[n] = 0.0 if width == 1 else inf
                continue
            a = alphas(lp, ext, skip, n, steps, width)
            alpha[n, :steps, :width] = a
            total = a[steps - 1, width - 1]
            if width > 1:
                total = logaddexp(total, a[steps - 1, width - 2])
            nll[n] = -total

    @numba.njit(parallel=True)
    def backward(lp, ext, ext_len, il, skip, nll, alpha, ge, grad):
        classes = lp.shape[2]
        for n in numba.prange(lp.shape[1]):
            steps, width = il[n], ext_len[n]
            if steps == 0:
                continue
            beta = betas(lp, ext, skip, n, steps, width)
            mass = np.empty(classes, dtype=lp.dtype)  # Σ_{s: ext_s = k} α_t(s) β_t(s) / e^top
            for t in range(steps):
                top = -inf
                for s in range(width):
                    top = max(top, alpha[n, t, s] + beta[t, s])
                mass[:] = 0
                if top > -inf:
                    for s in range(width):
                        gamma = alpha[n, t, s] + beta[t, s]
                        if gamma > -inf:
                            mass[ext[n, s]] += np.exp(gamma - top)
                for k in range(classes):
                    # d loss / d lp[t, n, k] = -Σ α β / (p · y_t(k)); nan when p = 0. A class
                    # off the path gives 0 unless its lp is -inf or nan, or p = 0
                    m, v = mass[k], lp[t, n, k]
                    if m == 0 and v > -inf and nll[n] < inf:
                        continue
                    grad[t, n, k] = -ge[n] * np.exp(np.log(m) + top - v + nll[n])

    return forward, backward


def _threads(count: int | None) -> Any:
    """Run a kernel on ``count`` threads (all when ``None``): one inside a Dask task, whose
    scheduler already runs a task per core. numba's setting is per calling thread."""
    numba = _numba()

    class Threads:
        def __enter__(self) -> None:
            self.before = numba.get_num_threads()
            if count is not None:
                numba.set_num_threads(min(count, self.before))

        def __exit__(self, *exc: Any) -> None:
            numba.set_num_threads(self.before)

    return Threads()


def ctc(lp: np.ndarray, ext: np.ndarray, ext_len: np.ndarray, il: np.ndarray,
        skip: np.ndarray, want_grad: bool, threads: int | None = None
        ) -> tuple[np.ndarray, Callable[[Any], np.ndarray]]:
    """The negative log-likelihood of each sample, and ``gradient(ge)``: its
    gradient with respect to ``lp`` times each sample's upstream ``ge``, in ``lp``'s dtype
    (``(T, N, C)``, 0 from each sample's input length on). The log-space alpha and beta
    recursions of torch's CPU kernel, one sample per thread; the alphas are kept for the
    backward pass when ``want_grad``."""
    forward, backward = _ctc_kernel()
    lp = np.ascontiguousarray(lp)
    ext = np.ascontiguousarray(ext, dtype=np.int64)
    ext_len = np.ascontiguousarray(ext_len, dtype=np.int64)
    il = np.ascontiguousarray(il, dtype=np.int64)
    skip = np.ascontiguousarray(skip)
    # in lp's dtype, as torch's kernel (float32 exp and log for float32 log-probabilities)
    nll = np.empty(lp.shape[1], dtype=lp.dtype)
    alpha = np.empty((lp.shape[1], lp.shape[0], ext.shape[1]), dtype=lp.dtype)
    with _threads(threads):
        forward(lp, ext, ext_len, il, skip, nll, alpha)

    def gradient(ge: Any) -> np.ndarray:
        grad = np.zeros(lp.shape, dtype=lp.dtype)
        with _threads(threads):
            backward(lp, ext, ext_len, il, skip, nll, alpha,
                     np.ascontiguousarray(np.broadcast_to(ge, nll.shape), dtype=lp.dtype), grad)
        return grad

    return nll, gradient
