"""The shared body of elementwise losses: terms, reduction and pullback, written once.

An elementwise loss supplies two functions of its arrays (already cast to the loss's dtype;
their shapes broadcast): ``loss(*arrays)``, the elementwise loss, and
``derivatives(wanted, *arrays)``, the partial derivative of the loss with respect to each
array where ``wanted`` says so (``None`` elsewhere, and where torch gives no gradient). This
module multiplies by an optional weight, reduces (``reduction``), and maps upstream gradients
back to each argument's shape and dtype.

Half precision is computed in float32 and rounded once at the end, as torch's CPU kernels do
(float16 sums of 70,000 terms would otherwise lose everything). On large NumPy arrays of one
shape, ``'sum'``/``'mean'`` are evaluated block by block (``blocks``): the same functions on
cache-sized pieces, summed in float64. When the caller knows the upstream gradient before the
forward (``Want.scalar``), the gradients are written in that same pass over the data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import kernels
from . import reduction as _reduction
from .blocks import blockable, map_blocks
from .gradients import Pullback, Want, grad_like, has_gradient
from .namespace import Array, as_array, astype, numel, opmath

Derivatives = Callable[..., Sequence[Array | None]]


@dataclass(frozen=True)
class Terms:
    """An elementwise loss: its arrays by name and its two functions.

    Attributes:
        names: the parameter names of ``originals``, in order.
        originals: the arguments as the user passed them (gradients take their shape and
            dtype); ``arrays`` are the same after casting to the loss's dtype.
        loss: the elementwise loss of ``arrays``.
        derivatives: ``derivatives(wanted, *arrays)``, the wanted partial derivatives.
        total: optionally ``sum(loss(*arrays))`` in fewer passes (``vecdot(d, d)`` for mse),
            used by the blockwise path when there is no weight.
        kernel: optionally ``(kind, parameters)`` of a compiled kernel computing the same
            terms (``kernels.KINDS``), which the blockwise path uses when numba is installed.
    """

    names: tuple[str, ...]
    originals: tuple[Array, ...]
    arrays: tuple[Array, ...]
    loss: Callable[..., Array]
    derivatives: Derivatives
    total: Callable[..., Array] | None = None
    kernel: tuple[str, tuple[float, ...]] | None = None


def elementwise(
    xp: Any,
    terms: Terms,
    shape: tuple[int, ...],
    reduction: str,
    want: Want | None,
    *,
    weight: Array | None = None,
    weight_grad: bool = False,
    divisor: Any = None,
    scale: float = 1.0,
) -> tuple[Array, Pullback]:
    """Value and pullback of ``R(weight * loss(*arrays)) * scale``.

    Args:
        shape: the broadcast shape of the elementwise loss.
        weight: an array multiplying the terms (cast to the loss's dtype).
        weight_grad: whether ``weight`` is differentiable (l1/mse/huber, as in torch); its
            gradient is then reported as ``'weight'``.
        divisor: the ``'mean'`` divisor when it is not the element count (weighted l1/mse
            divide by ``sum(weight)``; kl_div's 'batchmean' by the batch size).
        scale: a final factor (kl_div's legacy 'batchmean' quirk).
    """
    out_dtype = terms.arrays[0].dtype
    work = opmath(xp, out_dtype)
    arrays = tuple(astype(xp, a, work) for a in terms.arrays)
    w = None if weight is None else astype(xp, weight, work)
    wanted = want.wants(*terms.names) if want is not None else (False,) * len(arrays)
    mean_divisor = numel(arrays[0]) if divisor is None else divisor
    operands = [*arrays, w] if w is not None else list(arrays)
    fused: list[dict[str, Array | None]] = []
    if reduction != "none" and blockable(xp, *operands) and tuple(arrays[0].shape) == shape:
        value = _blockwise(xp, terms, arrays, w, reduction, mean_divisor, scale, want, fused)
    else:
        elements = terms.loss(*arrays)
        elements = elements * w if w is not None else elements
        mean_divisor = numel(elements) if divisor is None else divisor
        value = _reduction.apply(xp, elements, reduction, divisor)
        if scale != 1.0:
            value = value * scale
    if work != out_dtype:  # half precision: rounded once, at the end
        value = astype(xp, value, out_dtype)
    value = as_array(xp, value)

    def pullback(g: Array) -> dict[str, Array | None]:
        if fused:  # computed with this g in the forward pass (value_and_grad)
            return fused.pop()
        out: dict[str, Array | None] = {}
        if any(wanted):
            ge = _reduction.upstream(astype(xp, g, work), reduction, mean_divisor) * scale
            ge = ge * w if w is not None else ge
            grads = terms.derivatives(wanted, *arrays)
            out = {n: grad_like(xp, None if d is None or not k else d * ge, x, shape)
                   for n, d, x, k in zip(terms.names, grads, terms.originals, wanted)}
        if weight_grad and want is not None and "weight" in want:
            out["weight"] = _weight_grad(xp, terms, arrays, weight, g, reduction,
                                         mean_divisor, divisor, value, shape, work)
        return out

    return value, pullback


def _weight_grad(xp: Any, terms: Terms, arrays: tuple[Array, ...], weight: Array, g: Array,
                 reduction: str, mean_divisor: Any, divisor: Any, value: Array,
                 shape: tuple[int, ...], work: Any) -> Array | None:
    """d/dw of ``R(w·L)``: ``L`` per element; a 'mean' over ``Σw`` (weighted l1/mse) also
    moves with w: ``(L - mean) / Σw``."""
    ge = _reduction.upstream(astype(xp, g, work), reduction, mean_divisor)
    elements = terms.loss(*arrays)
    if reduction == "mean" and divisor is not None and not isinstance(divisor, int):
        elements = elements - astype(xp, value, work)
    return grad_like(xp, elements * ge, weight, shape)


def _blockwise(xp: Any, terms: Terms, arrays: tuple[Array, ...], w: Array | None,
               reduction: str, mean_divisor: Any, scale: float, want: Want | None,
               fused: list[dict[str, Array | None]]) -> Array:
    """The reduced value block by block; with a scalar upstream gradient the wanted
    gradients are written into fresh arrays in the same pass (``fused``)."""
    n = len(arrays)
    operands = [*arrays, w] if w is not None else list(arrays)
    ge = None
    if want is not None and want.scalar is not None and want.names:
        ge = _reduction.upstream(want.scalar, reduction, mean_divisor) * scale
        wanted = want.wants(*terms.names)
        # which arguments have a derivative at all (None: torch gives no gradient), from
        # the terms on one element
        probe = terms.derivatives(wanted, *(a.reshape(-1)[:1] for a in arrays))
        buffers = {name: xp.empty(tuple(x.shape), dtype=x.dtype)
                   if k and d is not None and has_gradient(xp, x) else None
                   for name, x, k, d in zip(terms.names, terms.originals, wanted, probe)}

    kernel = _kernel(terms, arrays[0].dtype, w is None and (ge is None or all(
        b is None or b.dtype == arrays[0].dtype for b in buffers.values())))

    def block_sum(start: int, block: tuple[Array, ...]) -> Any:
        if kernel is not None:
            if ge is None:
                return kernel(block)
            stop = start + block[0].shape[0]
            outs = tuple(None if b is None else b.reshape(-1)[start:stop]
                         for b in buffers.values())
            return kernel(block, ge, outs)
        if ge is not None:
            factor = ge * block[-1] if w is not None else ge
            for out, d in zip(buffers.values(), terms.derivatives(wanted, *block[:n])):
                if out is not None and d is not None:
                    xp.multiply(d, factor, out=out.reshape(-1)[start : start + d.shape[0]])
        if terms.total is not None and w is None:
            return terms.total(*block)
        elements = terms.loss(*block[:n])
        return xp.sum(elements * block[-1] if w is not None else elements)

    parts = map_blocks(block_sum, *operands)
    # block sums accumulate in float64
    value = xp.asarray(sum(float(p) for p in parts), dtype=arrays[0].dtype)
    if reduction == "mean":
        value = value / mean_divisor
    if ge is not None:
        fused.append(buffers)
    return value * scale if scale != 1.0 else value


def _kernel(terms: Terms, dtype: Any, usable: bool) -> Callable[..., float] | None:
    """The compiled kernel of ``terms`` (see ``kernels``), where one applies."""
    if terms.kernel is None or not usable:
        return None
    kind, params = terms.kernel
    return kernels.block_kernel(kind, params, dtype)
