"""The shared body of elementwise losses: terms, reduction and pullback, written once.

An elementwise loss supplies two functions of its arrays (already cast to the loss's
dtype; their shapes broadcast): ``loss(*arrays)``, the elementwise loss, and
``derivatives(*arrays)``, the partial derivative of the loss with respect to each array
(``None`` where torch gives no gradient). This module multiplies by an optional weight,
reduces (``_reduction``), and maps upstream gradients back to each argument's shape and
dtype.

On large NumPy arrays of one shape, ``'sum'``/``'mean'`` are evaluated block by block
(``_namespace.blockable``): the same functions on cache-sized pieces. Inside
``value_and_grad`` the gradients are then written in the same pass over the data, since the
upstream gradient of a reduced loss is one number known before the forward runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from . import reduction as _reduction
from .blocks import blockable, map_blocks
from .gradients import Pullback, grad_like, has_gradient, pending_scalar_grad_output
from .namespace import Array, as_array, numel

Derivatives = Callable[..., Sequence[Array | None]]


def elementwise(
    xp: Any,
    originals: Sequence[Array],
    arrays: Sequence[Array],
    shape: tuple[int, ...],
    loss: Callable[..., Array],
    derivatives: Derivatives,
    reduction: str,
    *,
    weight: Array | None = None,
    divisor: Any = None,
    scale: float = 1.0,
    total: Callable[..., Array] | None = None,
) -> tuple[Array, Pullback]:
    """Value and pullback of ``R(weight * loss(*arrays)) * scale``.

    Args:
        originals: the arguments as the user passed them (gradients take their shape
            and dtype); ``arrays`` are the same after casting, in the same order.
        shape: the broadcast shape of the elementwise loss.
        divisor: the ``'mean'`` divisor when it is not the element count (weighted
            l1/mse divide by ``sum(weight)``; kl_div's 'batchmean' by the batch size).
        scale: a final factor (kl_div's legacy 'batchmean' quirk).
        total: optionally, ``sum(loss(*arrays))`` written with fewer passes (for example
            ``vecdot(d, d)`` for mse); used by the blockwise path when there is no weight.
    """
    operands = [*arrays, weight] if weight is not None else list(arrays)
    blockwise = reduction != "none" and blockable(xp, *operands) and tuple(
        arrays[0].shape
    ) == tuple(shape)

    def weighted(terms: Array, w: Array | None) -> Array:
        return terms * w if weight is not None else terms

    mean_divisor = numel(arrays[0]) if divisor is None else divisor
    fused: list[tuple[Array | None, ...]] = []
    if blockwise:
        fused_ge = pending_scalar_grad_output()
        if fused_ge is not None:
            # value_and_grad with a scalar upstream gradient: gradients in the same pass
            fused_ge = _reduction.upstream(fused_ge, reduction, mean_divisor) * scale
            buffers = _grad_buffers(xp, originals, operands[: len(arrays)], derivatives)

        def block_sum(start: int, block: tuple[Array, ...]) -> Array:
            if fused_ge is not None:
                _write_grads(xp, buffers, start, block, len(arrays), derivatives, fused_ge,
                             weight is not None)
            if total is not None and weight is None:
                return total(*block)
            return xp.sum(weighted(loss(*block[: len(arrays)]), block[-1]))

        parts = map_blocks(block_sum, *operands)
        # block sums accumulate in float64
        value = xp.asarray(sum(float(p) for p in parts), dtype=parts[0].dtype)
        if reduction == "mean":
            value = value / mean_divisor
        if fused_ge is not None:
            fused.append(tuple(buffers))
    else:
        terms = weighted(loss(*arrays), weight)
        mean_divisor = numel(terms) if divisor is None else divisor
        value = _reduction.apply(xp, terms, reduction, divisor)
    if scale != 1.0:
        value = value * scale
    value = as_array(xp, value)

    def pullback(g: Array) -> tuple[Array | None, ...]:
        if fused:  # computed with this g in the forward pass (value_and_grad)
            return fused.pop()
        # whole-array evaluation: any g, and the blockwise case called a second time
        ge = _reduction.upstream(g, reduction, mean_divisor)
        if scale != 1.0:
            ge = ge * scale
        grads = derivatives(*arrays)
        if weight is not None:
            ge = ge * weight
        return tuple(
            grad_like(xp, None if d is None else d * ge, x, shape)
            for d, x in zip(grads, originals)
        )

    return value, pullback


def _grad_buffers(
    xp: Any, originals: Sequence[Array], arrays: Sequence[Array], derivatives: Derivatives
) -> list[Array | None]:
    """Fresh arrays for the gradients of the differentiable arguments (blockwise path)."""
    probe = derivatives(*[a[(0,) * a.ndim] for a in arrays])
    return [
        xp.empty(tuple(x.shape), dtype=x.dtype) if d is not None and has_gradient(xp, x) else None
        for d, x in zip(probe, originals)
    ]


def _write_grads(
    xp: Any,
    buffers: Sequence[Array | None],
    start: int,
    block: tuple[Array, ...],
    n_arrays: int,
    derivatives: Derivatives,
    ge: Any,
    weighted: bool,
) -> None:
    """One block of the gradients, written into ``buffers`` (NumPy only, see blockable)."""
    factor = ge * block[-1] if weighted else ge
    for out, d in zip(buffers, derivatives(*block[:n_arrays])):
        if out is not None:
            xp.multiply(d, factor, out=out.reshape(-1)[start : start + d.shape[0]])
