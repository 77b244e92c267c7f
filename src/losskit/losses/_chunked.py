"""cross_entropy of a linear head's logits, in chunks of rows: the ``(N, C)`` logits are never
formed, only ``(chunk, C)`` at a time.

For each chunk of rows the logits ``x_c @ Wᵀ + b`` are formed, cross_entropy's own forward
(and pullback) is run on them, and, when gradients are wanted, the gradient of the logits is
turned into the gradients of the chunk's inputs (``dL_c @ W``), of the weight (``Σ dL_cᵀ @
x_c``) and of the bias (``Σ dL_c``) before the next chunk. With the upstream gradient known
before the forward (``value_and_grad``), one pass computes the value and every gradient.

The chunk loop is a Python loop on eager libraries (the weight gradient accumulated in place
on NumPy, ``blocks.MatmulSum``), ``jax.lax.scan`` on JAX (the rows padded to whole chunks;
one compiled step, whatever N is) and one task per batch chunk on Dask (each running the
NumPy loop; the weight gradients of the chunks are summed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._core import softmax_rows
from .._core.blocks import MatmulSum
from .._core.gradients import Want, forward_of
from .._core.loops import matmul_add, scan
from .._core.namespace import Array, is_dask, is_jax, is_numpy
from .categorical import cross_entropy

__all__ = ["Head", "chunked"]


@dataclass(frozen=True)
class Head:
    """The linear head and cross_entropy's options.

    Attributes:
        weight2: the linear weight as ``(C·P, D)`` (``P = prod(out_features)``).
        bias2: the bias as ``(C·P,)``, or ``None``.
        classes: C; ``out``: ``out_features``.
        options: cross_entropy's keyword options (``weight``, ``ignore_index``,
            ``label_smoothing``).
        target_grad: whether the (probability) target's gradient is wanted.
    """

    weight2: Array
    bias2: Array | None
    classes: int
    out: tuple[int, ...]
    options: dict[str, Any]
    target_grad: bool = False

    def logits(self, xp: Any, x: Array) -> Array:
        z = xp.matmul(x, xp.matrix_transpose(self.weight2))
        if self.bias2 is not None:
            z = z + self.bias2
        return xp.reshape(z, (x.shape[0], self.classes, *self.out))

    def step(self, xp: Any, x: Array, t: Array, upstream: Any, scalar: bool,
             grads: bool) -> tuple[Array, Any]:
        """The chunk's losses (``'none'``) and, with ``grads``, ``(dlogits as (m, C·P),
        dtarget or None)`` for the upstream gradient (a scalar for every row when
        ``scalar``, else the rows' own)."""
        z = self.logits(xp, x)
        if is_numpy(xp) and softmax_rows.applies(z.dtype, self.classes, x.shape[0],
                                                 not xp.isdtype(t.dtype, "real floating"),
                                                 not self.out):
            rows, dl = softmax_rows.xent_rows(z, t, self.options["weight"],
                                              self.options["ignore_index"],
                                              self.options["label_smoothing"],
                                              upstream if grads else None)
            return rows, None if dl is None else (dl, None)
        names = frozenset({"input"} | ({"target"} if self.target_grad else set()))
        # the upstream is known before the forward (a number, or the rows' own): the logits'
        # gradient comes out of cross_entropy's forward pass (one exp per logit)
        want = Want(names, upstream) if grads else None
        rows, pullback = forward_of(cross_entropy)(z, t, reduction="none",
                                                   _want=want, **self.options)
        if not grads:
            return rows, None
        g = pullback(xp.asarray(upstream, dtype=rows.dtype) if scalar else upstream)
        dl = xp.reshape(g["input"], (x.shape[0], self.weight2.shape[0]))
        return rows, (dl, g.get("target"))


@dataclass
class Gradients:
    """Which gradients a chunked call computes, and their accumulators."""

    input: bool
    weight: bool
    bias: bool
    target: bool


def chunked(xp: Any, head: Head, x: Array, t: Array, chunk: int, upstream: Any,
            scalar: bool, wanted: Gradients | None
            ) -> tuple[Array, dict[str, Array | None]]:
    """The rows' losses ``(N, *out)`` and, for ``wanted``, the gradients (by name: input,
    linear_weight, linear_bias, target) for ``upstream``, chunk by chunk."""
    if is_dask(x):
        return _dask(xp, head, x, t, chunk, upstream, scalar, wanted)
    if is_jax(xp):
        return _scanned(xp, head, x, t, chunk, upstream, scalar, wanted)
    return _looped(xp, head, x, t, chunk, upstream, scalar, wanted)


def _looped(xp: Any, head: Head, x: Array, t: Array, chunk: int, upstream: Any,
            scalar: bool, wanted: Gradients | None) -> tuple[Array, dict[str, Array | None]]:
    n = x.shape[0]
    rows, dxs, dts = [], [], []
    # the weight gradient's scratch may be as large as one chunk's logits
    dw = MatmulSum(xp, chunk * head.weight2.shape[0]) \
        if wanted is not None and wanted.weight else None
    db = None
    for s in range(0, n, chunk) if n else ():
        e = min(s + chunk, n)
        g = upstream if scalar else upstream[s:e, ...]
        r, parts = head.step(xp, x[s:e, ...], t[s:e, ...], g, scalar, wanted is not None)
        rows.append(r)
        if parts is None:
            continue
        dl, dt = parts
        if wanted.input:
            dxs.append(xp.matmul(dl, head.weight2))
        if dw is not None:
            dw.add(xp.matrix_transpose(dl), x[s:e, ...])
        if wanted.bias:
            part = xp.sum(dl, axis=0)
            db = part if db is None else db + part
        if wanted.target:
            dts.append(dt)
        del parts, dl  # the next chunk's logits reuse this chunk's memory
    losses = xp.concat(rows, axis=0) if rows else xp.zeros((0, *head.out), dtype=x.dtype)
    if wanted is None:
        return losses, {}
    return losses, _finish(xp, head, x, t, wanted, dxs, dw.total if dw else None, db, dts)


def _finish(xp: Any, head: Head, x: Array, t: Array, wanted: Gradients, dxs: list[Array],
            dw: Array | None, db: Array | None, dts: list[Array]) -> dict[str, Array | None]:
    cp = head.weight2.shape[0]
    grads: dict[str, Array | None] = {}
    if wanted.input:
        grads["input"] = xp.concat(dxs, axis=0) if dxs else xp.zeros_like(x)
    if wanted.weight:
        grads["linear_weight"] = dw if dw is not None else xp.zeros((cp, x.shape[1]),
                                                                     dtype=x.dtype)
    if wanted.bias:
        grads["linear_bias"] = db if db is not None else xp.zeros((cp,), dtype=x.dtype)
    if wanted.target:
        grads["target"] = xp.concat(dts, axis=0) if dts else xp.zeros_like(t)
    return grads


def _scanned(xp: Any, head: Head, x: Array, t: Array, chunk: int, upstream: Any,
             scalar: bool, wanted: Gradients | None) -> tuple[Array, dict[str, Array | None]]:
    """JAX: ``lax.scan`` over whole chunks; padding rows have a zero upstream gradient and
    their losses are dropped (an index target pads with ignore_index)."""
    n, d = x.shape
    count = max(1, -(-n // chunk))
    pad = count * chunk - n
    fill = head.options.get("ignore_index", -100) if not xp.isdtype(
        t.dtype, "real floating") else 0
    xs = xp.reshape(_pad(xp, x, pad, 0), (count, chunk, d))
    ts = xp.reshape(_pad(xp, t, pad, fill), (count, chunk, *t.shape[1:]))
    keep = xp.reshape(_pad(xp, xp.ones((n,), dtype=x.dtype), pad, 0), (count, chunk))
    g = None if scalar or wanted is None else xp.reshape(
        _pad(xp, upstream, pad, 0), (count, chunk, *head.out))
    cp = head.weight2.shape[0]
    carry = (xp.zeros((cp, d), dtype=x.dtype), xp.zeros((cp,), dtype=x.dtype))

    def step(acc: Any, chunk_xs: Any) -> tuple[Any, Any]:
        xc, tc, kc, gc = chunk_xs
        shape = (xc.shape[0],) + (1,) * len(head.out)
        rows_g = xp.broadcast_to(xp.reshape(kc, shape) * (upstream if scalar else gc),
                                 (xc.shape[0], *head.out)) if wanted is not None else None
        r, parts = head.step(xp, xc, tc, rows_g, False, wanted is not None)
        r = r * xp.reshape(kc, shape)
        if parts is None:
            return acc, (r, None, None)
        dl, dt = parts
        acc = (matmul_add(xp, acc[0], xp.matrix_transpose(dl), xc, chunk * cp)
               if wanted.weight else acc[0],
               acc[1] + xp.sum(dl, axis=0) if wanted.bias else acc[1])
        return acc, (r, xp.matmul(dl, head.weight2) if wanted.input else None, dt)

    gs = g if g is not None else xp.zeros((count,), dtype=x.dtype)
    (dw, db), (rows, dx, dt) = scan(xp, step, carry, (xs, ts, keep, gs))
    losses = xp.reshape(rows, (count * chunk, *head.out))[:n, ...]
    if wanted is None:
        return losses, {}
    dxs = [xp.reshape(dx, (count * chunk, d))[:n, ...]] if wanted.input else []
    dts = [xp.reshape(dt, (count * chunk, *t.shape[1:]))[:n, ...]] if wanted.target else []
    return losses, _finish(xp, head, x, t, wanted, dxs, dw, db, dts)


def _pad(xp: Any, a: Array, pad: int, value: Any) -> Array:
    if pad == 0:
        return a
    return xp.concat([a, xp.full((pad, *a.shape[1:]), value, dtype=a.dtype)], axis=0)


def _dask(xp: Any, head: Head, x: Array, t: Array, chunk: int, upstream: Any,
          scalar: bool, wanted: Gradients | None) -> tuple[Array, dict[str, Array | None]]:
    """Dask: one task per batch chunk of ``x`` runs the NumPy loop on it; the chunks' weight
    and bias gradients are summed (a tree of sums)."""
    import dask
    import dask.array as da
    import numpy as np

    from .._core.namespace import namespace

    t = t.rechunk({0: x.chunks[0], **{i: -1 for i in range(1, t.ndim)}})
    x = x.rechunk({1: -1})
    parts = _dask_parts(head)
    if not scalar and wanted is not None:
        upstream = upstream.rechunk({0: x.chunks[0], **{i: -1 for i in range(1, upstream.ndim)}})

    def task(xb: Any, tb: Any, gb: Any, weight2: Any, bias2: Any, options: dict[str, Any]
             ) -> Any:
        nxp = namespace("linear_cross_entropy", x=np.asarray(xb))
        local = Head(weight2, bias2, head.classes, head.out, options, head.target_grad)
        return _looped(nxp, local, xb, tb, chunk, gb, scalar, wanted)

    rows, dxs, dts, dws, dbs = [], [], [], [], []
    offset = 0
    for i, size in enumerate(x.chunks[0]):
        gb = upstream if scalar or wanted is None else upstream.blocks[i]
        out = dask.delayed(task, nout=2)(x.blocks[i], t.blocks[i], gb, *parts)
        rows.append(da.from_delayed(out[0], (size, *head.out), dtype=x.dtype))
        if wanted is not None:
            grads = out[1]
            if wanted.input:
                dxs.append(da.from_delayed(grads["input"], (size, x.shape[1]), dtype=x.dtype))
            cp = head.weight2.shape[0]
            if wanted.weight:
                dws.append(da.from_delayed(grads["linear_weight"], (cp, x.shape[1]),
                                           dtype=x.dtype))
            if wanted.bias:
                dbs.append(da.from_delayed(grads["linear_bias"], (cp,), dtype=x.dtype))
            if wanted.target:
                dts.append(da.from_delayed(grads["target"], (size, *t.shape[1:]),
                                           dtype=t.dtype))
        offset += size
    losses = da.concatenate(rows, axis=0) if rows else xp.zeros((0, *head.out), dtype=x.dtype)
    if wanted is None:
        return losses, {}
    dw = da.stack(dws).sum(axis=0) if dws else None
    db = da.stack(dbs).sum(axis=0) if dbs else None
    return losses, _finish(xp, head, x, t, wanted, dxs and [da.concatenate(dxs, axis=0)],
                           dw, db, dts and [da.concatenate(dts, axis=0)])


def _dask_parts(head: Head) -> tuple[Any, Any, dict[str, Any]]:
    """The head's arrays and options as delayed values (computed once, shared by the tasks)."""
    import dask

    options = {k: (dask.delayed(v) if is_dask(v) else v) for k, v in head.options.items()}
    return (head.weight2, head.bias2, dask.delayed(dict)(**options))


def chunk_rows(n: int, d: int, c: int, size: int | None, method: str | None,
               compact: bool, probabilities: bool = False) -> int:
    """torch's chunk size (``LinearCrossEntropyOptions._adjust``, torch 2.14 and later):
    ``size`` if given, else ``'aspect_ratio[:k]'``: the logits chunk as large as the input,
    ``next_pow2(ceil(N / ceil(C / D))) // k``; with 'auto' and the 'compact' policy, capped
    so that a chunk never costs more than the reference (``N·C / (4·D)`` rows for class
    indices, ``N / 2`` for probabilities, a power of two)."""
    if n == 0:
        return 1
    auto = method == "auto"
    if auto:  # an explicit size turns the automatic rule off
        method = None if size is not None else "aspect_ratio"
    rows = n if size is None else min(size, n)
    if method is not None:
        factor = int(method.split(":", 1)[1]) if ":" in method else 1
        target = -(-n // max(1, -(-c // max(d, 1))))
        rows = min((1 << (target - 1).bit_length()) // factor, n)
        if auto and compact:
            cap = n // 2 if probabilities else n * c // (4 * max(d, 1))
            cap = 1 << (cap.bit_length() - 1) if cap >= 1 else 1
            rows = max(1, min(rows, cap))
    return max(1, rows)
