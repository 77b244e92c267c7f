"""The shared body of elementwise losses: terms, reduction and pullback, written once.

An elementwise loss supplies two functions of its arrays (already cast to the loss's
dtype; their shapes broadcast): ``loss(*arrays)``, the elementwise loss, and
``derivatives(*arrays)``, the partial derivative of the loss with respect to each array
(``None`` where torch gives no gradient). This module multiplies by an optional weight,
reduces (``_reduction``), and maps upstream gradients back to each argument's shape and
dtype. On large NumPy arrays of one shape, ``'sum'``/``'mean'`` and the gradients are
evaluated block by block (``_namespace.blockable``): the same functions, cache-sized pieces.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from . import _reduction
from ._gradients import Pullback, grad_like, has_gradient
from ._namespace import Array, as_array, blockable, map_blocks, numel

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

    if blockwise:

        def block_sum(_: int, block: tuple[Array, ...]) -> Array:
            if total is not None and weight is None:
                return total(*block)
            return xp.sum(weighted(loss(*block[: len(arrays)]), block[-1]))

        parts = map_blocks(block_sum, *operands)
        # block sums accumulate in float64
        value = xp.asarray(sum(float(p) for p in parts), dtype=parts[0].dtype)
        terms_count = numel(arrays[0])
        if reduction == "mean":
            value = value / (terms_count if divisor is None else divisor)
    else:
        terms = weighted(loss(*arrays), weight)
        terms_count = numel(terms)
        value = _reduction.apply(xp, terms, reduction, divisor)
    if scale != 1.0:
        value = value * scale
    value = as_array(xp, value)

    def pullback(g: Array) -> tuple[Array | None, ...]:
        ge = _reduction.upstream(g, reduction, terms_count if divisor is None else divisor)
        if scale != 1.0:
            ge = ge * scale
        if blockwise:
            return _blockwise_grads(xp, originals, operands, len(arrays), derivatives, ge,
                                    weight is not None)
        grads = derivatives(*arrays)
        if weight is not None:
            ge = ge * weight
        return tuple(
            grad_like(xp, None if d is None else d * ge, x, shape)
            for d, x in zip(grads, originals)
        )

    return value, pullback


def _blockwise_grads(
    xp: Any,
    originals: Sequence[Array],
    operands: Sequence[Array],
    n_arrays: int,
    derivatives: Derivatives,
    ge: Array,
    weighted: bool,
) -> tuple[Array | None, ...]:
    """The gradients, block by block, written into fresh arrays (NumPy only)."""
    first = derivatives(*[a[(0,) * a.ndim] for a in operands[:n_arrays]])
    outputs = [
        xp.empty(tuple(x.shape), dtype=x.dtype) if d is not None and has_gradient(xp, x) else None
        for d, x in zip(first, originals)
    ]
    flat = [None if out is None else out.reshape(-1) for out in outputs]

    def write(start: int, block: tuple[Array, ...]) -> None:
        factor = ge * block[-1] if weighted else ge
        for out, d in zip(flat, derivatives(*block[:n_arrays])):
            if out is not None:
                # NumPy only (see blockable): the product goes straight into the result
                xp.multiply(d, factor, out=out[start : start + d.shape[0]])

    map_blocks(write, *operands)
    return tuple(outputs)
