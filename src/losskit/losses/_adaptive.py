"""torch's ``AdaptiveLogSoftmaxWithLoss`` (Grave et al., efficient softmax approximation):
the log-probability of each target, its gradients, ``log_prob`` and ``predict``.

The classes are split at ``cutoffs``: the head scores the ``cutoffs[0]`` frequent classes and
one entry per cluster; a target in cluster ``i`` adds the log-probability of its class
within the cluster, from the cluster's two-layer tail ``(x @ Pᵢᵀ) @ Oᵢᵀ``. On eager arrays a
tail runs on its cluster's rows only (the point of the method); on lazy ones (Dask, JAX
under ``jit``), whose row sets have no static size, on every row, masked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .._core import reduction as _reduction
from .._core.gradients import Pullback, Want, grad_like
from .._core.indexing import subtract_at, take, take_last
from .._core.namespace import (
    Array,
    as_array,
    astype,
    index_dtype,
    is_lazy,
    namespace,
    opmath,
    shape_str,
)
from .._core.stable import log_softmax
from .._core.validation import check_class_indices, require_float, require_integer

__all__ = ["Adaptive", "adaptive", "adaptive_forward", "full_log_prob", "predict"]


@dataclass(frozen=True)
class Adaptive:
    """The parameters: ``head`` ``(shortlist + clusters, D)`` and its ``bias``; per cluster
    the tail's projection ``(h, D)`` and output ``(size, h)``; ``cutoffs`` with
    ``n_classes`` appended (torch's ``self.cutoffs``)."""

    head: Array
    bias: Array | None
    tails: tuple[tuple[Array, Array], ...]
    cutoffs: tuple[int, ...]

    @property
    def shortlist(self) -> int:
        return self.cutoffs[0]


def adaptive(fn: str, xp: Any, head_weight: Array, tail_weights: Sequence[Any],
             cutoffs: Sequence[int], head_bias: Array | None) -> Adaptive:
    """Check the parameters against ``cutoffs`` (torch's rules) and bundle them."""
    cuts = list(cutoffs) if isinstance(cutoffs, (list, tuple)) else None
    tails = tuple(tuple(pair) for pair in tail_weights) if isinstance(
        tail_weights, (list, tuple)) else None
    if not cuts or tails is None or any(len(p) != 2 for p in tails) or len(tails) != len(cuts):
        raise ValueError(f"{fn}: `cutoffs` must be a non-empty sequence of ints and "
                         "`tail_weights` one (projection, output) pair of arrays per cutoff, "
                         f"got {len(cuts or ())} cutoffs and "
                         f"{len(tails) if tails is not None else 'no'} tail pairs.")
    n_classes = cuts[-1] + tails[-1][1].shape[0]
    if (cuts != sorted(cuts) or min(cuts) <= 0 or max(cuts) > n_classes - 1
            or len(set(cuts)) != len(cuts)
            or any(isinstance(c, bool) or int(c) != c for c in cuts)):
        raise ValueError(f"{fn}: cutoffs should be a sequence of unique, positive integers "
                         "sorted in an increasing order, where each value is between 1 and "
                         f"n_classes-1 (n_classes = {n_classes}), got {cuts}.")
    full = (*[int(c) for c in cuts], n_classes)
    d = head_weight.shape[-1]
    if head_weight.ndim != 2 or head_weight.shape[0] != full[0] + len(tails):
        raise ValueError(f"{fn}: head_weight must be (shortlist + clusters, in_features) = "
                         f"({full[0] + len(tails)}, D), got {shape_str(head_weight.shape)}.")
    if head_bias is not None and tuple(head_bias.shape) != (head_weight.shape[0],):
        raise ValueError(f"{fn}: head_bias must be ({head_weight.shape[0]},), got "
                         f"{shape_str(head_bias.shape)}.")
    for i, (proj, out) in enumerate(tails):
        size = full[i + 1] - full[i]
        if proj.ndim != 2 or out.ndim != 2 or proj.shape[1] != d or \
                out.shape != (size, proj.shape[0]):
            raise ValueError(f"{fn}: tail {i} must be a projection (h, {d}) and an output "
                             f"({size}, h), got {shape_str(proj.shape)} and "
                             f"{shape_str(out.shape)}.")
    return Adaptive(head_weight, head_bias, tails, full)


def _head_out(xp: Any, a: Adaptive, x: Array) -> Array:
    z = xp.matmul(x, xp.matrix_transpose(a.head))
    return z + a.bias if a.bias is not None else z


def _tail_out(xp: Any, pair: tuple[Array, Array], x: Array) -> tuple[Array, Array]:
    hidden = xp.matmul(x, xp.matrix_transpose(pair[0]))
    return hidden, xp.matmul(hidden, xp.matrix_transpose(pair[1]))


def _scatter_rows(xp: Any, values: Array, member: Array) -> Array:
    """Rows of ``values`` (one per True of ``member``, in order) put at those positions of an
    array with ``member``'s length (zeros elsewhere), by a gather: no scatter is needed."""
    position = xp.cumulative_sum(xp.astype(member, index_dtype(xp, member))) - 1
    position = xp.clip(position, 0, max(values.shape[0] - 1, 0))
    picked = take(xp, values, position) if values.ndim == 1 else xp.take(values, position,
                                                                            axis=0)
    mask = member if values.ndim == 1 else member[:, None]
    return xp.where(mask, picked, xp.zeros_like(picked))


def target_log_prob(xp: Any, a: Adaptive, x: Array, t: Array, grads: bool
                    ) -> tuple[Array, Any]:
    """``log p(t_n | x_n)`` per row, and (with ``grads``) a function of the rows' upstream
    gradient giving ``(dx, dhead, dbias, tails' (dP, dO))``."""
    short = a.shortlist
    head_lp = log_softmax(xp, _head_out(xp, a, x))
    cluster = xp.zeros_like(t)
    for c in a.cutoffs[:-1]:  # 1 for the first cluster (its head entry is short + 0)
        cluster = cluster + xp.astype(t >= c, t.dtype)
    gather = xp.where(t < short, t, short + cluster - 1)
    gather = xp.where((t >= 0) & (t < a.cutoffs[-1]), gather, xp.zeros_like(gather))
    output = take_last(xp, head_lp, gather)
    pieces = []
    eager = not is_lazy(x) and not is_lazy(t)
    for i, pair in enumerate(a.tails):
        lo, hi = a.cutoffs[i], a.cutoffs[i + 1]
        member = (t >= lo) & (t < hi)
        rows = None
        if eager:
            rows = xp.nonzero(member)[0]
            if rows.shape[0] == 0:
                continue
        xi = x if rows is None else xp.take(x, rows, axis=0)
        ti = (t if rows is None else take(xp, t, rows)) - lo
        ti = xp.clip(ti, 0, hi - lo - 1)
        hidden, z = _tail_out(xp, pair, xi)
        lp = log_softmax(xp, z)
        local = take_last(xp, lp, ti)
        output = output + (xp.where(member, local, xp.zeros_like(local)) if rows is None
                           else _scatter_rows(xp, local, member))
        pieces.append((i, member, rows, xi, ti, hidden, lp))
    if not grads:
        return output, None

    def backward(g: Array, wanted: tuple[bool, bool, bool, bool]) -> tuple[Any, ...]:
        """``(dx, dhead, dbias, tails)`` for the rows' upstream ``g``, each ``None`` unless
        ``wanted`` (input, head_weight, head_bias, tail_weights) asks for it."""
        want_x, want_head, want_bias, want_tails = wanted
        dx = dhead = None
        if want_x or want_head or want_bias:
            dhead = -xp.exp(head_lp) * g[:, None]
            dhead = subtract_at(xp, dhead, gather, -g)  # + g at the gathered entry
            dx = xp.matmul(dhead, a.head) if want_x else None
        tails: list[Any] = [(xp.zeros_like(p), xp.zeros_like(o)) for p, o in a.tails] \
            if want_tails else []
        for i, member, rows, xi, ti, hidden, lp in pieces if want_x or want_tails else ():
            gi = xp.where(member, g, xp.zeros_like(g)) if rows is None else take(xp, g, rows)
            dz = subtract_at(xp, -xp.exp(lp) * gi[:, None], ti, -gi)
            proj, out = a.tails[i]
            dhidden = xp.matmul(dz, out)
            if want_tails:
                tails[i] = (xp.matmul(xp.matrix_transpose(dhidden), xi),
                            xp.matmul(xp.matrix_transpose(dz), hidden))
            if want_x:
                dxi = xp.matmul(dhidden, proj)
                dx = dx + (dxi if rows is None else _scatter_rows(xp, dxi, member))
        dbias = xp.sum(dhead, axis=0) if want_bias and a.bias is not None else None
        dw = xp.matmul(xp.matrix_transpose(dhead), x) if want_head else None
        return dx, dw, dbias, tails

    return output, backward


def full_log_prob(xp: Any, a: Adaptive, x: Array) -> Array:
    """``(N, n_classes)`` log-probabilities (torch's ``log_prob``)."""
    head_lp = log_softmax(xp, _head_out(xp, a, x))
    parts = [head_lp[:, : a.shortlist]]
    for i, pair in enumerate(a.tails):
        parts.append(log_softmax(xp, _tail_out(xp, pair, x)[1])
                     + head_lp[:, a.shortlist + i][:, None])
    return xp.concat(parts, axis=1)


def predict(xp: Any, a: Adaptive, x: Array) -> Array:
    """The most probable class per row (torch's ``predict``): the head's, unless that is a
    cluster, then the full distribution's."""
    best = xp.argmax(_head_out(xp, a, x), axis=1)
    outside = best >= a.shortlist
    if not is_lazy(outside) and not bool(xp.any(outside)):
        return best
    return xp.where(outside, xp.argmax(full_log_prob(xp, a, x), axis=1), best)


def _adaptive_call(fn: str, input: Array, target: Array, head_weight: Array,
                   tail_weights: Any, cutoffs: Any, head_bias: Array | None
                   ) -> tuple[Any, Adaptive, Array, Array, tuple[int, ...]]:
    """torch's checks of an adaptive softmax call; the rows as ``(N, D)`` and ``(N,)``."""
    flat = [a for pair in (tail_weights if isinstance(tail_weights, (list, tuple)) else ())
            for a in (pair if isinstance(pair, (list, tuple)) else ())]
    xp = namespace(fn, input=input, target=target, head_weight=head_weight,
                   head_bias=head_bias, **{f"tail_weights[{i}]": a for i, a in enumerate(flat)})
    require_float(fn, xp, input=input, head_weight=head_weight, head_bias=head_bias)
    require_integer(fn, xp, "target", target, "class indices")
    a = adaptive(fn, xp, head_weight, tail_weights, cutoffs, head_bias)
    if target.ndim == 1:
        if input.ndim != 2:
            raise ValueError(f"{fn}: a 1-D target needs a 2-D input (N, in_features), got "
                             f"input of shape {shape_str(input.shape)}.")
        if input.shape[0] != target.shape[0]:
            raise ValueError(f"{fn}: input and target must have the same batch size, got "
                             f"{input.shape[0]} and {target.shape[0]}.")
    elif target.ndim == 0:
        if input.ndim != 1:
            raise ValueError(f"{fn}: a 0-d target needs a 1-D input (in_features), got "
                             f"input of shape {shape_str(input.shape)}.")
    else:
        raise ValueError(f"{fn}: target must be 0-d or 1-D (one class per row), got shape "
                         f"{shape_str(target.shape)}; multi-target is not supported.")
    if input.shape[-1] != head_weight.shape[1]:
        raise ValueError(f"{fn}: input has {input.shape[-1]} features, the head "
                         f"{head_weight.shape[1]}.")
    x = xp.reshape(input, (-1, input.shape[-1]))
    t = xp.reshape(target, (-1,))
    check_class_indices(fn, xp, t, a.cutoffs[-1])
    return xp, a, x, t, tuple(target.shape)


def adaptive_forward(fn: str, input: Array, target: Array, head_weight: Array,
                     tail_weights: Any, cutoffs: Any, head_bias: Array | None,
                     reduction: str, want: Want | None) -> tuple[Array, Pullback]:
    """The losses ``-log p(target_n | input_n)`` reduced by ``reduction``, and the pullback
    (gradients of input, head_weight, head_bias and every tail pair)."""
    xp, a, x, t, shape = _adaptive_call(fn, input, target, head_weight, tail_weights,
                                        cutoffs, head_bias)
    work = opmath(xp, input.dtype)
    if work != input.dtype:
        a = Adaptive(astype(xp, a.head, work), None if a.bias is None else astype(
            xp, a.bias, work), tuple((astype(xp, p, work), astype(xp, o, work))
                                     for p, o in a.tails), a.cutoffs)
        x = astype(xp, x, work)
    output, backward = target_log_prob(xp, a, x, t, want is not None)
    losses = -output
    value = _reduction.apply(xp, xp.reshape(losses, shape) if reduction == "none" else losses,
                             reduction)
    value = as_array(xp, astype(xp, value, input.dtype))

    def pullback(g: Array) -> dict[str, Any]:
        names = ("input", "head_weight", "head_bias", "tail_weights")
        wanted = (False,) * 4 if want is None else want.wants(*names)
        if backward is None or not any(wanted):
            return {}
        ge = _reduction.per_term(xp, astype(xp, xp.reshape(g, (-1,)) if reduction == "none"
                                            else g, work), reduction, losses)
        dx, dhead, dbias, dtails = backward(-ge, wanted)
        grads: dict[str, Any] = {
            "input": None if dx is None else grad_like(
                xp, xp.reshape(dx, tuple(input.shape)), input, tuple(input.shape)),
            "head_weight": grad_like(xp, dhead, head_weight, tuple(head_weight.shape)),
            "head_bias": None if head_bias is None else grad_like(
                xp, dbias, head_bias, tuple(head_bias.shape)),
            "tail_weights": tuple(
                tuple(grad_like(xp, d, p, tuple(p.shape)) for d, p in zip(dpair, pair))
                for dpair, pair in zip(dtails, tail_weights)),
        }
        return {k: v for k, v, w in zip(names, grads.values(), wanted) if w}

    return value, pullback
