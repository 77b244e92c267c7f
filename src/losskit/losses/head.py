"""The head family: losses that own a linear head, for large vocabularies.

``linear_cross_entropy`` is ``cross_entropy(linear(input, W, b), target)`` computed in chunks
of rows, so the ``(N, C)`` logits are never formed (``_chunked``);
``adaptive_log_softmax_with_loss`` is torch's efficient softmax approximation (Grave et al.):
a head over the frequent classes and the clusters, and a two-layer tail per cluster
(``_adaptive``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .._core import reduction as _reduction
from .._core.gradients import Pullback, Want, differentiable, grad_like
from .._core.namespace import (
    Array,
    as_array,
    astype,
    namespace,
    opmath,
    shape_str,
)
from .._core.reduction import Divisor
from .._core.validation import (
    check_class_indices,
    check_number,
    class_weight,
    require_float,
    require_integer,
)
from ._adaptive import adaptive_forward
from ._chunked import Gradients, Head, chunk_rows, chunked
from ._classes import index_divisor

__all__ = ["LinearCrossEntropyOptions", "adaptive_log_softmax_with_loss",
           "linear_cross_entropy"]

_POLICIES = ("accurate", "compact", "auto")


@dataclass(frozen=True)
class LinearCrossEntropyOptions:
    """torch's ``nn.LinearCrossEntropyOptions``: how :func:`linear_cross_entropy` chunks.

    Attributes:
        allow_retain_graph: accepted for torch compatibility (losskit's gradients can always
            be computed again).
        batch_chunk_size: rows per chunk (positive int), or ``None``.
        chunking_method: ``'auto'`` (``'aspect_ratio'``, capped so that a chunk never costs
            more than the reference when ``in_features >= num_classes``),
            ``'aspect_ratio'`` (the ``(chunk, C)`` logits as large as the ``(N, D)`` input),
            ``'aspect_ratio:k'`` (k times smaller chunks) or ``None`` (use
            ``batch_chunk_size``). With both set they must agree, as in torch.
        acc_policy: ``'auto'``, ``'accurate'`` or ``'compact'``: accepted and checked; losskit
            accumulates in the computation dtype (float32 for float16/bfloat16 inputs).
        acc_dtype: ``None`` or a floating dtype name/object; accepted, as ``acc_policy``.
    """

    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: str = "auto"
    acc_dtype: Any = None

    def __post_init__(self) -> None:
        if self.acc_policy not in _POLICIES:
            raise ValueError(f"LinearCrossEntropyOptions: invalid acc_policy "
                             f"{self.acc_policy!r}; expected one of 'accurate', 'compact', "
                             "'auto'.")
        method = self.chunking_method
        if method is not None and method != "auto":
            name, sep, factor = str(method).partition(":")
            if not (name == "aspect_ratio" and (not sep or (factor.isdigit()
                                                            and int(factor) > 0))):
                raise ValueError(f"LinearCrossEntropyOptions: invalid chunking_method "
                                 f"{method!r}; expected 'auto', 'aspect_ratio', "
                                 "'aspect_ratio:N' (N >= 1) or None.")
        size = self.batch_chunk_size
        if size is not None and (isinstance(size, bool) or not isinstance(size, int)
                                 or size <= 0):
            raise ValueError(f"LinearCrossEntropyOptions: batch_chunk_size must be a positive "
                             f"int or None, got {size!r}.")

    def rows(self, n: int, d: int, c: int, *, probabilities: bool = False,
             half: bool = False) -> int:
        """The rows per chunk for ``n`` rows of ``d`` features and ``c`` classes (torch's
        rule; ``ValueError`` when batch_chunk_size and chunking_method disagree). The
        'auto' policy is 'compact' but for half-precision inputs (torch's CPU choice)."""
        compact = self.acc_policy == "compact" or (self.acc_policy == "auto" and not half)
        rows = chunk_rows(n, d, c, self.batch_chunk_size, self.chunking_method, compact,
                          probabilities)
        explicit = self.chunking_method not in (None, "auto")
        if explicit and self.batch_chunk_size is not None and rows != self.batch_chunk_size:
            raise ValueError(
                f"linear_cross_entropy: batch_chunk_size (={self.batch_chunk_size}) and "
                f"chunking_method ({self.chunking_method!r}) give different chunk sizes "
                f"({self.batch_chunk_size} vs {rows}); pass only one.")
        return rows


def _mean_of(xp: Any, input: Array, linear_weight: Array, target: Array,
             weight: Array | None = None, ignore_index: int | None = None, **_: Any) -> Any:
    logits_shape = (*input.shape[:-1], *linear_weight.shape[:-1])
    if tuple(target.shape) == logits_shape:
        return None  # class probabilities: the number of positions
    return index_divisor(xp, target, weight, -100 if ignore_index is None else ignore_index,
                         input.dtype)


#: the 'mean' of linear_cross_entropy with class indices, as cross_entropy's
_LCE_MEAN = Divisor("Σ weight[target] of the non-ignored targets (their number when "
                    "unweighted); with class probabilities the number of positions", _mean_of)


def _shapes(fn: str, input: Array, w: Array, bias: Array | None) -> tuple[int, tuple[int, ...]]:
    """torch's shape checks of the head; returns (C, out_features)."""
    if input.ndim not in (1, 2):
        raise ValueError(f"{fn}: input must be (in_features) or (N, in_features), got shape "
                         f"{shape_str(input.shape)} ({input.ndim} dimensions).")
    if w.ndim < 2:
        raise ValueError(f"{fn}: linear_weight must be (C, in_features) or (C, d1, ..., dK, "
                         f"in_features), got shape {shape_str(w.shape)}.")
    if input.shape[-1] != w.shape[-1]:
        raise ValueError(f"{fn}: input and linear_weight must share their last dimension "
                         f"(in_features), got {input.shape[-1]} and {w.shape[-1]}.")
    classes, out = w.shape[0], tuple(w.shape[1:-1])
    if bias is not None and tuple(bias.shape) != (classes, *out):
        raise ValueError(f"{fn}: linear_bias must have shape {shape_str((classes, *out))} "
                         f"(linear_weight's without in_features), got "
                         f"{shape_str(bias.shape)}.")
    if out and input.ndim == 1:
        raise ValueError(f"{fn}: a K-dimensional loss (linear_weight of shape "
                         f"{shape_str(w.shape)}) needs a batched input (N, {w.shape[-1]}), "
                         f"got shape {shape_str(input.shape)}.")
    return classes, out


def _target(fn: str, xp: Any, input: Array, target: Array, classes: int,
            out: tuple[int, ...], ignore_index: int | None) -> tuple[bool, tuple[int, ...]]:
    """Whether the target holds probabilities (it has the logits' shape), and the shape of
    reduction='none'."""
    batch = tuple(input.shape[:-1])
    if tuple(target.shape) == (*batch, classes, *out):
        require_float(fn, xp, target=target)
        if ignore_index is not None:
            raise ValueError(f"{fn}: `ignore_index` applies to class-index targets only; "
                             "leave it None with class probabilities.")
        return True, (*batch, *out)
    expected = (*batch, *out)
    if tuple(target.shape) != expected:
        raise ValueError(
            f"{fn}: the target must hold one class index per position, shape "
            f"{shape_str(expected)}, or class probabilities of the logits' shape "
            f"{shape_str((*batch, classes, *out))}; got {shape_str(target.shape)}.")
    require_integer(fn, xp, "target", target, "class indices")
    return False, expected


@differentiable(divisor=_LCE_MEAN)
def linear_cross_entropy(
    input: Array,
    linear_weight: Array,
    target: Array,
    *,
    linear_bias: Array | None = None,
    weight: Array | None = None,
    reduction: str = "mean",
    ignore_index: int | None = None,
    label_smoothing: float = 0.0,
    options: LinearCrossEntropyOptions | None = None,
    _want: Want | None = None,
) -> tuple[Array, Pullback]:
    """Cross-entropy of a linear head's logits, as ``torch.nn.functional.linear_cross_entropy``.

    ``cross_entropy(linear(input, W, b), target)`` with logits ``(N, C, d1..dK)`` for a
    weight ``(C, d1..dK, D)``, computed in chunks of rows: only a ``(chunk, C)`` block of
    logits exists at a time, and the gradients of ``input``, ``linear_weight`` and
    ``linear_bias`` are accumulated chunk by chunk.

    Args:
        input: ``(D)`` or ``(N, D)`` floating point.
        linear_weight: ``(C, D)`` or ``(C, d1, ..., dK, D)``, the input's dtype.
        target: class indices ``()``, ``(N)`` or ``(N, d1..dK)``; or class probabilities of
            the logits' shape.
        linear_bias: optional ``(C)`` or ``(C, d1..dK)``.
        weight: optional per-class weights ``(C)``.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'`` (cross_entropy's divisors).
        ignore_index: a class-index target value that counts for nothing (``None``: -100;
            must be ``None`` with probabilities).
        label_smoothing: ``ε`` in ``[0, 1]``.
        options: a :class:`LinearCrossEntropyOptions` choosing the chunk size; ``None``
            chunks too (torch's 'aspect_ratio' rule, without the cap torch applies to
            small heads), where torch would form the whole logits.

    Shape:
        ``'none'`` gives the target's shape for class indices (the logits' without the class
        axis for probabilities).

    Returns:
        The loss in the input's dtype.

    Notes:
        Matches torch's reference path to rounding (the chunks sum in another order).

    Example:
        >>> import numpy as np
        >>> x, w = np.array([[1.0, 2.0], [0.5, -1.0]]), np.array([[1.0, 0.0], [0.0, 1.0]])
        >>> round(float(linear_cross_entropy(x, w, np.array([1, 0]))), 4)
        0.2573
    """
    fn = "linear_cross_entropy"
    reduction = _reduction.resolve(fn, reduction, elementwise_mean=False)
    smoothing = check_number(fn, "label_smoothing", label_smoothing)
    if not 0.0 <= smoothing <= 1.0:
        raise ValueError(f"{fn}: `label_smoothing` must be in [0, 1], got {label_smoothing!r}.")
    if options is not None and not isinstance(options, LinearCrossEntropyOptions):
        raise TypeError(f"{fn}: `options` must be a LinearCrossEntropyOptions or None, got "
                        f"{type(options).__name__}.")
    xp = namespace(fn, input=input, linear_weight=linear_weight, target=target,
                   linear_bias=linear_bias, weight=weight)
    require_float(fn, xp, input=input, linear_weight=linear_weight, linear_bias=linear_bias,
                  weight=weight)
    classes, out = _shapes(fn, input, linear_weight, linear_bias)
    for name, a in (("linear_weight", linear_weight), ("linear_bias", linear_bias)):
        if a is not None and a.dtype != input.dtype:
            raise TypeError(f"{fn}: {name} must have the input's dtype {input.dtype} (as "
                            f"torch's linear), got {a.dtype}; cast it first.")
    probabilities, out_shape = _target(fn, xp, input, target, classes, out, ignore_index)
    return _forward(xp, input, linear_weight, target, linear_bias, weight, reduction,
                    -100 if ignore_index is None else ignore_index, smoothing, options,
                    probabilities, out_shape, _want)


def _forward(xp: Any, input: Array, w: Array, target: Array, bias: Array | None,
             weight: Array | None, reduction: str, ignore_index: int, smoothing: float,
             options: LinearCrossEntropyOptions | None, probabilities: bool,
             out_shape: tuple[int, ...], want: Want | None) -> tuple[Array, Pullback]:
    classes, out, d = w.shape[0], tuple(w.shape[1:-1]), w.shape[-1]
    work = opmath(xp, input.dtype)  # half precision in float32, as torch's CPU kernels
    cp = classes * math.prod(out)
    x = astype(xp, xp.reshape(input, (-1, d)), work)
    n = x.shape[0]
    t = xp.reshape(target, (n, *target.shape[input.ndim - 1:]))
    if probabilities:
        t = astype(xp, t, work)
    else:
        check_class_indices("linear_cross_entropy", xp, xp.reshape(t, (-1,)), classes,
                            ignore_index)
    cw = class_weight("linear_cross_entropy", xp, weight, classes, work)
    head = Head(astype(xp, xp.reshape(w, (cp, d)), work),
                None if bias is None else astype(xp, xp.reshape(bias, (cp,)), work),
                classes, out, {"weight": cw, "ignore_index": ignore_index,
                               "label_smoothing": smoothing},
                target_grad=probabilities and want is not None and "target" in want)
    half = any(input.dtype == getattr(xp, name, None) for name in ("float16", "bfloat16"))
    rows = options.rows(n, d, classes, probabilities=probabilities, half=half) \
        if options is not None else chunk_rows(
        n, d, classes, None, "aspect_ratio", False)
    divisor = _divisor(xp, t, cw, probabilities, ignore_index, n, out, classes, work) \
        if reduction == "mean" else None
    wanted = None if want is None else Gradients(
        *want.wants("input", "linear_weight", "linear_bias"), head.target_grad)
    if wanted is not None and not (wanted.input or wanted.weight or wanted.bias
                                   or wanted.target):
        wanted = None
    fused: dict[str, Array | None] | None = None
    if wanted is not None and want.scalar is not None:
        upstream = _upstream(xp, xp.asarray(want.scalar, dtype=work), reduction, divisor)
        losses, fused = chunked(xp, head, x, t, rows, upstream, True, wanted)
    else:
        losses, _ = chunked(xp, head, x, t, rows, None, True, None)
    value = _reduction.apply(xp, xp.reshape(losses, out_shape), reduction, divisor)
    value = as_array(xp, astype(xp, value, input.dtype))

    def pullback(g: Array) -> dict[str, Array | None]:
        if wanted is None:
            return {}
        grads = fused
        if grads is None:
            g = astype(xp, g, work)
            scalar = reduction != "none" or g.ndim == 0
            up = _upstream(xp, g, reduction, divisor) if scalar else xp.reshape(
                g, (n, *out))
            grads = chunked(xp, head, x, t, rows, up, scalar, wanted)[1]
        originals = {"input": input, "linear_weight": w, "linear_bias": bias,
                     "target": target}
        return {name: grad_like(xp, xp.reshape(grads[name], tuple(originals[name].shape)),
                                originals[name], tuple(originals[name].shape))
                for name in grads}

    return value, pullback


def _upstream(xp: Any, g: Array, reduction: str, divisor: Any) -> Array:
    """Each row's upstream gradient, one number: ``g`` (over the divisor for 'mean')."""
    return g / divisor if reduction == "mean" else g


def _divisor(xp: Any, t: Array, w: Array | None, probabilities: bool, ignore_index: int,
             n: int, out: tuple[int, ...], classes: int, work: Any) -> Array:
    """cross_entropy's 'mean' divisor over all rows (not per chunk)."""
    if probabilities:
        return xp.asarray(float(n * math.prod(out)) if classes else 0.0, dtype=work)
    return index_divisor(xp, t, w, ignore_index, work)

#: a sequence of (projection, output) array pairs: the adaptive softmax's tails
ArrayPairs = Sequence[tuple[Array, Array]]


@differentiable
def adaptive_log_softmax_with_loss(
    input: Array,
    target: Array,
    head_weight: Array,
    tail_weights: ArrayPairs,
    *,
    cutoffs: Sequence[int],
    head_bias: Array | None = None,
    reduction: str = "mean",
    _want: Want | None = None,
) -> tuple[Array, Pullback]:
    """The loss of torch's ``nn.AdaptiveLogSoftmaxWithLoss``, as a function of its parameters.

    ``l_n = -log p(target_n | input_n)`` under the adaptive softmax: the head
    ``input @ head_weightᵀ (+ head_bias)`` scores the ``cutoffs[0]`` most frequent classes
    and one entry per cluster; a target in cluster ``i`` adds its log-probability within the
    cluster, from the tail ``(input @ Pᵢᵀ) @ Oᵢᵀ``. :class:`AdaptiveLogSoftmaxWithLoss`
    holds the parameters and returns torch's ``(output, loss)``: ``-l`` and its mean.

    Args:
        input: ``(N, D)`` with a ``(N)`` target, or ``(D)`` with a ``()`` target.
        target: class indices in ``[0, n_classes)``.
        head_weight: ``(cutoffs[0] + len(cutoffs), D)``.
        tail_weights: one ``(Pᵢ, Oᵢ)`` pair per cluster: ``Pᵢ`` ``(hᵢ, D)``, ``Oᵢ``
            ``(sizeᵢ, hᵢ)`` with ``sizeᵢ`` the classes between consecutive cutoffs (the
            last cluster's size gives ``n_classes``).
        cutoffs: torch's constructor cutoffs (increasing, without ``n_classes``).
        head_bias: optional ``(cutoffs[0] + len(cutoffs))``.
        reduction: ``'mean'`` (torch's module's loss), ``'sum'`` or ``'none'`` (``-output``).

    Returns:
        The loss in the input's dtype.

    Notes:
        Matches torch; a target outside ``[0, n_classes)`` raises ``IndexError``.

    Example:
        >>> import numpy as np
        >>> x, head = np.array([[1.0, 0.0]]), np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
        >>> tails = [(np.eye(2), np.array([[1.0, 0.0], [0.0, 1.0]]))]
        >>> round(float(adaptive_log_softmax_with_loss(x, np.array([3]), head, tails,
        ...                                            cutoffs=[2])), 4)
        2.4935
    """
    fn = "adaptive_log_softmax_with_loss"
    reduction = _reduction.resolve(fn, reduction, elementwise_mean=False)
    return adaptive_forward(fn, input, target, head_weight, tail_weights, cutoffs, head_bias,
                            reduction, _want)
