"""The categorical family: cross_entropy, nll_loss and multi_margin_loss, losses of one
class per sample over ``C`` class scores.

Class indices are read against the class axis (axis 1 of ``(N, C, d1, ..., dK)``, see
``_classes``); cross_entropy also takes class probabilities of the input's shape.
"""

from __future__ import annotations

from typing import Any

from .._core import kernels
from .._core import reduction as _reduction
from .._core.gradients import Pullback, Want, differentiable, grad_like
from .._core.indexing import subtract_at, take, take_last
from .._core.namespace import (
    Array,
    as_array,
    astype,
    namespace,
    opmath,
    result_dtype,
    shape_str,
)
from .._core.validation import (
    check_class_indices,
    check_number,
    class_weight,
    require_float,
    require_integer,
)
from ._classes import (
    INDEX_MEAN,
    IndexRows,
    IndexTargets,
    classes_back,
    classes_last,
    index_targets,
    kept_weight,
    row_pass,
)

__all__ = ["cross_entropy", "multi_margin_loss", "nll_loss"]


@differentiable(divisor=INDEX_MEAN)
def nll_loss(
    input: Array,
    target: Array,
    weight: Array | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    *,
    _want: Want | None = None,
) -> tuple[Array, Pullback]:
    """Negative log-likelihood, as ``torch.nn.functional.nll_loss``.

    ``l_n = -w[y_n] · input[n, y_n]`` for each target that is not ``ignore_index`` (0 for
    ignored ones). ``input`` is expected to hold log-probabilities (not checked, as in torch).

    Args:
        input: ``(C)``, ``(N, C)`` or ``(N, C, d1, ..., dK)`` log-probabilities.
        target: integer class indices, ``()``/``(1,)``, ``(N)`` or ``(N, d1, ..., dK)``.
        weight: optional per-class weights, shape ``(C)``.
        size_average: deprecated (see Reductions in ``help(losskit)``).
        ignore_index: a target value that contributes nothing (nor to the mean's divisor).
        reduce: deprecated (see Reductions in ``help(losskit)``).
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``; ``'mean'`` divides by the summed
            weights of the non-ignored targets (see Reductions in ``help(losskit)``).

    Shape:
        ``'none'`` gives the target's shape (``()`` for an unbatched input).

    Returns:
        The loss in the input's dtype.

    Notes:
        Matches torch; a target outside ``[0, C)`` raises ``IndexError`` naming it.

    Example:
        >>> import numpy as np
        >>> logp = np.log(np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]))
        >>> round(float(nll_loss(logp, np.array([0, 2]))), 4)
        0.2899
    """
    fn = "nll_loss"
    reduction = _reduction.resolve(fn, reduction, size_average, reduce)
    xp = namespace(fn, input=input, target=target, weight=weight)
    it = index_targets(fn, xp, input, target, weight, ignore_index)
    work = opmath(xp, it.x.dtype)  # half precision in float32, as torch's CPU kernels
    x, keep, safe = astype(xp, it.x, work), it.keep, it.safe
    picked_weight = None if it.picked_weight is None else astype(xp, it.picked_weight, work)
    # no classes: every target is ignore_index (checked), and there is nothing to pick
    picked = take_last(xp, x, safe) if x.shape[-1] else xp.zeros((x.shape[0],), dtype=work)
    zero = xp.zeros_like(picked)
    losses = xp.where(keep, -picked if picked_weight is None else -(picked_weight * picked), zero)
    divisor = kept_weight(xp, keep, picked_weight, work) if reduction == "mean" else None
    if reduction == "none":
        value = _reduction.apply(xp, xp.reshape(losses, it.out_shape), "none")
    else:
        value = _reduction.apply(xp, losses, reduction, divisor)
    value = astype(xp, value, it.x.dtype)

    def pullback(g: Array) -> dict[str, Array | None]:
        if _want is None or "input" not in _want:
            return {}
        ge = _reduction.per_term(xp, astype(xp, g, work), reduction, losses, divisor)
        scale = ge if picked_weight is None else picked_weight * ge
        scale = xp.where(keep, scale, zero)
        # d/dx[n, y_n] = -w[y_n]: one scattered value per row
        dx = xp.zeros(tuple(x.shape), dtype=work)
        dx = subtract_at(xp, dx, safe, scale) if x.shape[-1] else dx
        dx = classes_back(xp, dx, tuple(input.shape))
        return {"input": grad_like(xp, dx, input, tuple(input.shape))}

    return value, pullback


@differentiable(divisor=INDEX_MEAN)
def cross_entropy(
    input: Array,
    target: Array,
    weight: Array | None = None,
    size_average: bool | None = None,
    ignore_index: int = -100,
    reduce: bool | None = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
    *,
    _want: Want | None = None,
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
        size_average: deprecated (see Reductions in ``help(losskit)``).
        ignore_index: an index target value that contributes nothing (index mode only).
        reduce: deprecated (see Reductions in ``help(losskit)``).
        reduction: ``'none'`` | ``'mean'`` | ``'sum'`` (see Reductions in ``help(losskit)``).
        label_smoothing: ``ε`` in ``[0, 1]`` (negative values act as 0, as in torch).

    Shape:
        ``'none'`` gives the input's shape without the class axis.

    Returns:
        The loss in the input's dtype (probabilities: the promoted dtype).

    Notes:
        Matches torch. Log-softmax is shifted by the row maximum, so logits of ±1e4
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
    if tuple(input.shape) == tuple(target.shape) and input.ndim > 0:
        return _cross_entropy_probabilities(
            fn, xp, input, target, weight, ignore_index, reduction, smoothing, _want
        )
    why = (
        f" (it was read as class indices because its shape {shape_str(target.shape)} differs "
        f"from the input's {shape_str(input.shape)}; class probabilities need the input's "
        "shape)"
    )
    it = index_targets(fn, xp, input, target, weight, ignore_index,
                       why if xp.isdtype(target.dtype, "real floating") else "")
    return _cross_entropy_indices(xp, input, it, reduction, smoothing, _want)


def _cross_entropy_indices(xp: Any, input: Array, it: IndexTargets, reduction: str,
                           smoothing: float, want: Want | None) -> tuple[Array, Pullback]:
    work = opmath(xp, it.x.dtype)  # half precision in float32, as torch's CPU kernels
    x, keep = astype(xp, it.x, work), it.keep
    rows = IndexRows(xp, it, smoothing, work)
    # torch's 'mean' divisor: the summed weights of the non-ignored targets
    divisor = kept_weight(xp, keep, rows.wy if it.picked_weight is not None else None,
                          work) if reduction == "mean" else None

    def row_upstream(g: Array) -> Array:
        ge = _reduction.per_term(xp, astype(xp, g, work), reduction, rows.wy, divisor)
        return xp.where(keep, ge, xp.zeros_like(ge))

    fuse = want is not None and want.scalar is not None and "input" in want
    ge_rows = row_upstream(xp.asarray(want.scalar, dtype=work)) if fuse else None
    top, lse, nll, spread, fused = row_pass(xp, rows, x, ge_rows)
    zero = xp.zeros_like(nll)
    nll = xp.where(keep, rows.wy * nll, zero)
    spread = None if spread is None else xp.where(keep, spread, zero)
    losses = nll if spread is None else (1.0 - smoothing) * nll + (
        smoothing / it.n_classes) * spread
    if reduction == "none":
        value = _reduction.apply(xp, xp.reshape(losses, it.out_shape), "none")
    elif reduction == "mean" and spread is not None:
        # torch: (1 - ε)·nll_loss('mean') + ε/C·Σ smooth / Σ w[y], each part over the divisor
        # (all weights 0: 0 / 0 = nan, not inf)
        value = ((1.0 - smoothing) * _reduction.apply(xp, nll, "mean", divisor)
                 + (smoothing / it.n_classes) * _reduction.apply(xp, spread, "mean", divisor))
    else:
        value = _reduction.apply(xp, losses, reduction, divisor)
    value = as_array(xp, astype(xp, value, it.x.dtype))

    def pullback(g: Array) -> dict[str, Array | None]:
        if want is None or "input" not in want:
            return {}
        if fused is not None:
            dx = fused
        else:
            softmax = xp.exp(x - top[:, None] - lse[:, None])
            dx = rows.grad(softmax, slice(None), row_upstream(g))
        dx = classes_back(xp, dx, tuple(input.shape))
        return {"input": grad_like(xp, dx, input, tuple(input.shape))}

    return value, pullback


def _cross_entropy_probabilities(
    fn: str, xp: Any, input: Array, target: Array, weight: Array | None, ignore_index: int,
    reduction: str, smoothing: float, _want: Want | None,
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
    work = opmath(xp, dtype)  # half precision in float32, as torch's CPU kernels
    x = astype(xp, classes_last(xp, input), work)
    y = astype(xp, classes_last(xp, target), work)
    n_classes = x.shape[-1]
    w = class_weight(fn, xp, weight, n_classes, work)
    out_shape = () if input.ndim == 1 else (input.shape[0], *input.shape[2:])
    lp = _log_probabilities(xp, x)
    q = (1.0 - smoothing) * y + smoothing / n_classes if smoothing > 0.0 else y
    wq = q if w is None else q * w[None, :]
    losses = -xp.vecdot(wq, lp, axis=-1)
    # torch divides by input.numel() / C: nan when there are no classes (0 / 0)
    divisor = 0 if n_classes == 0 else None
    value = astype(xp, _reduction.apply(xp, xp.reshape(losses, out_shape), reduction,
                                        divisor), dtype)

    def pullback(g: Array) -> dict[str, Array | None]:
        wanted = (False, False, False) if _want is None else _want.wants(
            "input", "target", "weight")
        ge = _reduction.per_term(xp, astype(xp, g, work), reduction, losses)[:, None]
        shape = tuple(input.shape)
        grads: dict[str, Array | None] = {}
        if wanted[0]:
            dx = (xp.exp(lp) * xp.sum(wq, axis=-1)[:, None] - wq) * ge
            grads["input"] = grad_like(xp, classes_back(xp, dx, shape), input, shape)
        if wanted[1]:
            dy = -(1.0 - smoothing) * (lp if w is None else lp * w[None, :]) * ge
            grads["target"] = grad_like(xp, classes_back(xp, dy, shape), target, shape)
        if wanted[2] and weight is not None:
            grads["weight"] = grad_like(xp, xp.sum(-q * lp * ge, axis=0), weight,
                                        tuple(weight.shape))
        return grads

    return value, pullback


def _log_probabilities(xp: Any, x: Array) -> Array:
    """log_softmax over the last axis from the shifted logits (see :class:`IndexRows`)."""
    if x.shape[-1] == 0:
        return x
    shifted = x - xp.max(x, axis=-1, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=-1, keepdims=True))


def _margin_target(fn: str, xp: Any, input: Array, target: Array) -> tuple[int, ...]:
    """torch's accepted target shapes for multi_margin_loss; returns the 'none' shape."""
    require_integer(fn, xp, "target", target, "class indices")
    batch = input.shape[0] if input.ndim == 2 else 1
    tshape = tuple(target.shape)
    if tshape == (batch,) or (tshape == () and batch == 1):
        return () if tshape == () else tshape
    raise ValueError(
        f"{fn}: target must hold one class index per sample, shape ({batch},), got "
        f"{shape_str(tshape)} for input of shape {shape_str(input.shape)}."
    )


@differentiable
def multi_margin_loss(
    input: Array,
    target: Array,
    p: int = 1,
    margin: float = 1.0,
    weight: Array | None = None,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    *,
    _want: Want | None = None,
) -> tuple[Array, Pullback]:
    """Multi-class hinge loss, as ``torch.nn.functional.multi_margin_loss``.

    Per sample with class ``y``: ``L = Σ_{i ≠ y} w[y]·max(0, margin - x[y] + x[i])^p / C``;
    the weight of the *target* class multiplies every term.

    Args:
        input: scores ``(C)`` or ``(N, C)``.
        target: integer class indices ``(N)`` (``()`` or ``(1,)`` for one sample).
        p: ``1`` or ``2``.
        margin: the required gap (may be negative, as in torch).
        weight: optional per-class weights, shape ``(C)``.
        size_average: deprecated (see Reductions in ``help(losskit)``).
        reduce: deprecated (see Reductions in ``help(losskit)``).
        reduction: ``'none'`` | ``'mean'`` | ``'sum'`` over samples; ``'mean'`` divides by N,
            not by the weights (see Reductions in ``help(losskit)``).

    Shape:
        ``'none'`` gives the target's shape (``(N)``, ``()`` or ``(1,)``).

    Returns:
        The loss in the input's dtype.

    Notes:
        Matches torch (strict ``> 0``: no gradient at exactly the margin). An empty batch
        gives nan/0 where torch returns uninitialised memory (see Deviations in ``help(losskit)``).

    Example:
        >>> import numpy as np
        >>> x = np.array([[0.1, 0.2, 0.4, 0.8]])
        >>> round(float(multi_margin_loss(x, np.array([3]))), 4)
        0.325
    """
    fn = "multi_margin_loss"
    reduction = _reduction.resolve(fn, reduction, size_average, reduce)
    if isinstance(p, bool) or p not in (1, 2):
        raise ValueError(
            f"{fn}: `p` must be 1 or 2 (only p == 1 and p == 2 supported), got {p!r}."
        )
    margin = check_number(fn, "margin", margin)
    xp = namespace(fn, input=input, target=target, weight=weight)
    require_float(fn, xp, input=input)
    if input.ndim > 2 or (input.ndim and input.shape[-1] == 0):
        raise ValueError(
            f"{fn}: input must have shape (C) or (N, C) with C > 0, got {shape_str(input.shape)}."
        )
    out_shape = _margin_target(fn, xp, input, target)
    n_classes = input.shape[-1] if input.ndim else 1  # a 0-d input is one class (loss 0)
    work = opmath(xp, input.dtype)  # half precision in float32, as torch's CPU kernels
    x = astype(xp, xp.reshape(input, (-1, n_classes)), work)
    w = class_weight(fn, xp, weight, n_classes, work)
    t = xp.reshape(target, (-1,))
    check_class_indices(fn, xp, t, n_classes)
    scale = (1.0 / n_classes) * (
        xp.ones((x.shape[0],), dtype=x.dtype) if w is None else take(xp, w, t)
    )
    # the core's compiled rows (one pass, numba) where they apply, else the array code
    fused = kernels.multi_margin_rows(xp, x, t, margin, p)
    if fused is None:
        classes = xp.arange(n_classes, dtype=t.dtype)
        other = t[:, None] != classes
        z = (margin - take_last(xp, x, t))[:, None] + x
        active = (z > 0) & other  # torch's strict inequality; the target class never counts
        hinge = xp.where(active, z, xp.zeros((), dtype=x.dtype))
        sums = xp.sum(hinge if p == 1 else hinge * hinge, axis=1)
    else:
        sums, gradient = fused
    per_sample = sums * scale
    value = _reduction.apply(xp, xp.reshape(per_sample, out_shape), reduction)
    value = astype(xp, value, input.dtype)

    def pullback(g: Array) -> dict[str, Array | None]:
        if _want is None or "input" not in _want:
            return {}
        ge = _reduction.per_term(xp, astype(xp, g, work), reduction, per_sample) * scale
        if fused is not None:
            dx = gradient(ge)
        else:
            slope = xp.astype(active, work) if p == 1 else 2.0 * hinge
            # where, not a product with a mask: an infinite slope must not make 0·inf = nan
            dx = xp.where(other, slope, -xp.sum(slope, axis=1, keepdims=True)) * ge[:, None]
        dx = xp.reshape(dx, tuple(input.shape))
        return {"input": grad_like(xp, dx, input, tuple(input.shape))}

    return value, pullback
