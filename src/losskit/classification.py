"""Multi-class losses over class scores: nll_loss and cross_entropy.

Both read the class dimension at axis 1 of ``(N, C, d1, ..., dK)`` inputs (axis 0 of an
unbatched ``(C)`` input) and work internally on an ``(M, C)`` layout with the classes last
(``M = N·d1⋯dK``). Targets are class indices (``nll_loss``, ``cross_entropy``) or, for
``cross_entropy``, class probabilities of the input's shape.
"""

from __future__ import annotations

from typing import Any

from . import _reduction
from ._gradients import Pullback, differentiable, grad_like, pending_scalar_grad_output
from ._math import logsumexp
from ._namespace import (
    Array,
    astype,
    blockable,
    is_integer,
    map_blocks,
    namespace,
    numel,
    quiet,
    result_dtype,
    shape_str,
    subtract_at,
    take,
    take_last,
)
from ._validation import check_class_indices, check_number, class_weight, require_float

__all__ = ["cross_entropy", "nll_loss"]


def _classes_last(xp: Any, a: Array) -> Array:
    """``(N, C, d1..dK)`` -> ``(N·d1⋯dK, C)``; ``(N, C)`` and ``(C)`` need no move."""
    if a.ndim <= 1:
        return xp.reshape(a, (1, -1))
    if a.ndim > 2:
        a = xp.permute_dims(a, (0, *range(2, a.ndim), 1))
    return xp.reshape(a, (-1, a.shape[-1]))


def _classes_back(xp: Any, a: Array, shape: tuple[int, ...]) -> Array:
    """The inverse of :func:`_classes_last` for an array of the original ``shape``."""
    if len(shape) <= 2:
        return xp.reshape(a, shape)
    moved = (shape[0], *shape[2:], shape[1])
    a = xp.reshape(a, moved)
    return xp.permute_dims(a, (0, len(shape) - 1, *range(1, len(shape) - 1)))


def _index_target_shape(fn: str, input: Array, target: Array, why: str = "") -> tuple[int, ...]:
    """Check an index target against the input (torch's rules); return the 'none' shape."""
    shape, tshape = tuple(input.shape), tuple(target.shape)
    if input.ndim == 0:
        raise ValueError(f"{fn}: input must have at least 1 dimension (C) or (N, C, ...), got ().")
    if input.ndim == 1:
        if tshape not in ((), (1,)):
            raise ValueError(
                f"{fn}: an unbatched input of shape {shape_str(shape)} takes one class index "
                f"(a target of shape () or (1,)), got target shape {shape_str(tshape)}{why}."
            )
        return ()
    expected = (shape[0], *shape[2:])
    if tshape != expected:
        raise ValueError(
            f"{fn}: for input of shape {shape_str(shape)} (N, C, ...) the target must hold "
            f"one class index per sample, shape {shape_str(expected)}; got "
            f"{shape_str(tshape)}{why}."
        )
    return expected


def _index_setup(
    fn: str, xp: Any, input: Array, target: Array, weight: Array | None, ignore_index: int,
    why: str = "",
) -> tuple[tuple[int, ...], Array, Array, Array, Array | None]:
    """Shapes, checks and the ``(M, C)`` layout shared by nll_loss and index cross_entropy."""
    require_float(fn, xp, input=input)
    if not is_integer(xp, target.dtype) or xp.isdtype(target.dtype, "bool"):
        raise TypeError(
            f"{fn}: `target` must hold integer class indices{why}; got dtype {target.dtype}."
        )
    out_shape = _index_target_shape(fn, input, target, why)
    x = _classes_last(xp, input)
    t = xp.reshape(target, (-1,))
    n_classes = x.shape[-1]
    check_class_indices(fn, xp, t, n_classes, ignore_index)
    keep = t != ignore_index
    safe = xp.where(keep, t, xp.zeros_like(t))
    return out_shape, x, keep, safe, class_weight(fn, xp, weight, n_classes, x.dtype)


def _index_reduce(
    xp: Any, losses: Array, keep: Array, picked_weight: Array | None, reduction: str,
    out_shape: tuple[int, ...],
) -> tuple[Array, Any]:
    """Reduce per-position index losses with torch's divisor; return (value, divisor).

    'mean' divides by the summed weights of the non-ignored targets (their count when
    unweighted): all ignored gives 0 / 0 = nan, as in torch.
    """
    if reduction == "none":
        return xp.reshape(losses, out_shape), None
    if reduction == "sum":
        return _reduction.apply(xp, losses, reduction), None
    if picked_weight is None:
        divisor = xp.sum(xp.astype(keep, losses.dtype))
    else:
        divisor = xp.sum(xp.where(keep, picked_weight, xp.zeros_like(picked_weight)))
    return _reduction.apply(xp, losses, reduction, divisor), divisor


@differentiable
def nll_loss(
    input: Array,
    target: Array,
    weight: Array | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
) -> tuple[Array, Pullback]:
    """Negative log-likelihood, as ``torch.nn.functional.nll_loss``.

    ``l_n = -w[y_n] · input[n, y_n]`` for each target that is not ``ignore_index`` (0 for
    ignored ones). ``input`` is expected to hold log-probabilities (not checked, as in torch).

    Args:
        input: ``(C)``, ``(N, C)`` or ``(N, C, d1, ..., dK)`` log-probabilities.
        target: integer class indices, ``()``/``(1,)``, ``(N)`` or ``(N, d1, ..., dK)``.
        weight: optional per-class weights, shape ``(C)``.
        size_average: deprecated, see ``docs/reductions.md``.
        ignore_index: a target value that contributes nothing (nor to the mean's divisor).
        reduce: deprecated, see ``docs/reductions.md``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``; ``'mean'`` divides by the summed
            weights of the non-ignored targets (``docs/reductions.md``).

    Shape:
        ``'none'`` gives the target's shape (``()`` for an unbatched input).

    Returns:
        The loss in the input's dtype.

    Notes:
        Matches torch 2.13; a target outside ``[0, C)`` raises ``IndexError`` naming it.

    Example:
        >>> import numpy as np
        >>> logp = np.log(np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]))
        >>> round(float(nll_loss(logp, np.array([0, 2]))), 4)
        0.2899
    """
    fn = "nll_loss"
    reduction = _reduction.resolve(fn, reduction, size_average, reduce)
    xp = namespace(fn, input=input, target=target, weight=weight)
    out_shape, x, keep, safe, w = _index_setup(fn, xp, input, target, weight, ignore_index)
    picked = take_last(xp, x, safe)
    picked_weight = None if w is None else take(xp, w, safe)
    zero = xp.zeros_like(picked)
    losses = xp.where(keep, -picked if w is None else -(picked_weight * picked), zero)
    value, divisor = _index_reduce(xp, losses, keep, picked_weight, reduction, out_shape)

    def pullback(g: Array) -> tuple[Array | None, ...]:
        ge = xp.reshape(g, (-1,)) if reduction == "none" else g
        if divisor is not None:
            with quiet(xp):
                ge = ge / divisor
        scale = ge if picked_weight is None else picked_weight * ge
        scale = xp.where(keep, scale * xp.ones_like(picked), zero)
        # d/dx[n, y_n] = -w[y_n]: one scattered value per row
        dx = subtract_at(xp, xp.zeros(tuple(x.shape), dtype=x.dtype), safe, scale)
        dx = _classes_back(xp, dx, tuple(input.shape))
        return grad_like(xp, dx, input, tuple(input.shape)), None

    return value, pullback


@differentiable
def cross_entropy(
    input: Array,
    target: Array,
    weight: Array | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> tuple[Array, Pullback]:
    """Cross-entropy of logits against class indices or probabilities, as
    ``torch.nn.functional.cross_entropy``.

    With ``lp = log_softmax(input)`` over the class axis and smoothing ``ε``:

    * class indices (target shape differs from the input's):
      ``l_n = (1-ε)·w[y_n]·(-lp[n, y_n]) + (ε/C)·Σ_c w_c·(-lp[n, c])``, 0 where
      ``y_n == ignore_index``; ``'mean'`` divides by ``Σ w[y_n]`` over non-ignored targets.
    * class probabilities (target shape equals the input's):
      ``l_n = -Σ_c w_c·((1-ε)·y[n, c] + ε/C)·lp[n, c]``; ``'mean'`` divides by the number of
      positions ``N·d1⋯dK`` (weights not in the divisor).

    Args:
        input: logits, ``(C)``, ``(N, C)`` or ``(N, C, d1, ..., dK)``.
        target: integer class indices ``()``, ``(N)``, ``(N, d1, ..., dK)``; or class
            probabilities of the input's shape (any real values, as in torch).
        weight: optional per-class weights, shape ``(C)``.
        size_average: deprecated, see ``docs/reductions.md``.
        ignore_index: an index target value that contributes nothing (index mode only).
        reduce: deprecated, see ``docs/reductions.md``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'`` (``docs/reductions.md``).
        label_smoothing: ``ε`` in ``[0, 1]`` (negative values act as 0, as in torch).

    Shape:
        ``'none'`` gives the input's shape without the class axis.

    Returns:
        The loss in the input's dtype (probabilities: the promoted dtype).

    Notes:
        Matches torch 2.13. Log-softmax is shifted by the row maximum, so logits of ±1e4
        give finite results.

    Example:
        >>> import numpy as np
        >>> logits = np.array([[2.0, 0.5, -1.0], [0.0, 0.0, 3.0]])
        >>> round(float(cross_entropy(logits, np.array([0, 2]))), 4)
        0.1681
    """
    fn = "cross_entropy"
    reduction = _reduction.resolve(fn, reduction, size_average, reduce)
    smoothing = check_number(fn, "label_smoothing", label_smoothing)
    if smoothing > 1.0:
        raise ValueError(
            f"{fn}: `label_smoothing` must be between 0.0 and 1.0, got {label_smoothing!r}."
        )
    smoothing = max(smoothing, 0.0)  # torch treats a negative smoothing as none
    xp = namespace(fn, input=input, target=target, weight=weight)
    if input.ndim >= 1 and input.shape[1 if input.ndim > 1 else 0] == 0:
        raise ValueError(f"{fn}: input has no classes (shape {shape_str(input.shape)}).")
    if tuple(input.shape) == tuple(target.shape) and input.ndim > 0:
        return _cross_entropy_probabilities(
            fn, xp, input, target, weight, ignore_index, reduction, smoothing
        )
    why = (
        f" (it was read as class indices because its shape {shape_str(target.shape)} differs "
        f"from the input's {shape_str(input.shape)}; class probabilities need the input's "
        "shape)"
    )
    out_shape, x, keep, safe, w = _index_setup(
        fn, xp, input, target, weight, ignore_index,
        why if xp.isdtype(target.dtype, "real floating") else "",
    )
    n_classes = x.shape[-1]
    ones = xp.ones((x.shape[0],), dtype=x.dtype)
    picked_weight = None if w is None else take(xp, w, safe)
    wy = ones if picked_weight is None else picked_weight
    zero = xp.zeros_like(ones)
    # torch's 'mean' divisor: the summed weights of the non-ignored targets
    divisor = xp.sum(xp.where(keep, wy, zero)) if reduction == "mean" else None
    total_weight = float(n_classes) if w is None else xp.sum(w)

    def row_upstream(g: Array) -> Array:
        ge = xp.reshape(g, (-1,)) if reduction == "none" else g
        if divisor is not None:
            with quiet(xp):
                ge = ge / divisor
        return xp.where(keep, ge * ones, zero)

    def grad_rows(xb: Array, lse_b: Array, tb: Array, ge: Array, wy_b: Array) -> Array:
        # with a = w ⊙ ((1-ε) onehot + ε/C): dx = softmax · Σa - a, times the upstream
        suma = (1.0 - smoothing) * wy_b + (smoothing / n_classes) * total_weight
        dx = xp.exp(xb - lse_b[:, None]) * (ge * suma)[:, None]
        if smoothing > 0.0:
            spread = (ge * (smoothing / n_classes))[:, None]
            dx = dx - (spread if w is None else spread * w[None, :])
        return subtract_at(xp, dx, tb, ge * ((1.0 - smoothing) * wy_b))

    fused: list[Array] = []
    if blockable(xp, x):
        # large NumPy logits: row blocks in cache (and threads); inside value_and_grad with
        # a reduced loss, the gradient rows are written in the same pass
        pending = pending_scalar_grad_output() if reduction != "none" else None
        ge_rows = None if pending is None else row_upstream(xp.asarray(pending, dtype=x.dtype))
        dx_all = None if ge_rows is None else xp.empty(tuple(x.shape), dtype=x.dtype)

        def block(start: int, parts: tuple[Array, ...]) -> Array:
            lse_b = logsumexp(xp, parts[0])
            if dx_all is not None:
                stop = start + parts[0].shape[0]
                dx_all[start:stop, ...] = grad_rows(
                    parts[0], lse_b, safe[start:stop], ge_rows[start:stop], wy[start:stop]
                )
            return lse_b

        lse = xp.concat(map_blocks(block, x, rows=True))
        if dx_all is not None:
            fused.append(dx_all)
    else:
        lse = logsumexp(xp, x)
    terms = wy * (lse - take_last(xp, x, safe))
    if smoothing > 0.0:
        # Σ_c w_c (lse - x_c): every class's -log p, weighted
        spread = (n_classes * lse - xp.sum(x, axis=-1) if w is None
                  else total_weight * lse - xp.vecdot(x, w[None, :], axis=-1))
        terms = (1.0 - smoothing) * terms + (smoothing / n_classes) * spread
    losses = xp.where(keep, terms, zero)
    if reduction == "none":
        value = _reduction.apply(xp, xp.reshape(losses, out_shape), "none")
    else:
        value = _reduction.apply(xp, losses, reduction, divisor)

    def pullback(g: Array) -> tuple[Array | None, ...]:
        dx = fused.pop() if fused else grad_rows(x, lse, safe, row_upstream(g), wy)
        dx = _classes_back(xp, dx, tuple(input.shape))
        return grad_like(xp, dx, input, tuple(input.shape)), None

    return value, pullback


def _cross_entropy_probabilities(
    fn: str, xp: Any, input: Array, target: Array, weight: Array | None, ignore_index: int,
    reduction: str, smoothing: float,
) -> tuple[Array, Pullback]:
    if not xp.isdtype(target.dtype, "real floating"):
        raise TypeError(
            f"{fn}: target has the input's shape {shape_str(input.shape)}, so it is read as "
            f"class probabilities, which must be floating point; got dtype {target.dtype}. "
            "For one-hot targets pass class indices instead (target.argmax(axis=1)), or "
            "cast the target to a float dtype."
        )
    require_float(fn, xp, input=input)
    if ignore_index != -100:
        raise ValueError(
            f"{fn}: `ignore_index` applies to class-index targets only; with class "
            f"probabilities (a target of the input's shape) leave it at -100, got "
            f"{ignore_index}."
        )
    dtype = result_dtype(xp, input, target, *(() if weight is None else (weight,)))
    x = astype(xp, _classes_last(xp, input), dtype)
    y = astype(xp, _classes_last(xp, target), dtype)
    n_classes = x.shape[-1]
    w = class_weight(fn, xp, weight, n_classes, dtype)
    out_shape = () if input.ndim == 1 else (input.shape[0], *input.shape[2:])
    lse = logsumexp(xp, x)
    q = (1.0 - smoothing) * y + smoothing / n_classes if smoothing > 0.0 else y
    wq = q if w is None else q * w[None, :]
    # -Σ_c w_c q_c (x_c - lse) = lse Σ_c w_c q_c - Σ_c w_c q_c x_c
    mass = xp.sum(wq, axis=-1)
    losses = lse * mass - xp.vecdot(wq, x, axis=-1)
    value = _reduction.apply(xp, xp.reshape(losses, out_shape), reduction)

    def pullback(g: Array) -> tuple[Array | None, ...]:
        ge = xp.reshape(_reduction.upstream(g, reduction, numel(losses)) * xp.ones_like(
            xp.reshape(losses, out_shape)), (-1, 1))
        lp = x - lse[:, None]
        dx = (xp.exp(lp) * mass[:, None] - wq) * ge
        dy = -(1.0 - smoothing) * (lp if w is None else lp * w[None, :]) * ge
        shape = tuple(input.shape)
        return (
            grad_like(xp, _classes_back(xp, dx, shape), input, shape),
            grad_like(xp, _classes_back(xp, dy, shape), target, shape),
        )

    return value, pullback
