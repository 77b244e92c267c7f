"""The sequence family: ctc_loss, the connectionist temporal classification loss.

The forward (alpha) and backward (beta) recursions run in log space, vectorised over the
batch and the extended label sequence (blank, l1, blank, l2, ..., blank); only time is a
Python loop.
"""

from __future__ import annotations

from typing import Any

from .._core import reduction as _reduction
from .._core.gradients import Pullback, Want, differentiable, grad_like
from .._core.indexing import gather_last, take
from .._core.namespace import Array, astype, device, is_lazy, namespace, opmath, quiet, shape_str
from .._core.reduction import Divisor
from .._core.stable import safe_log
from .._core.validation import check_flag, require_float, require_integer

__all__ = ["ctc_loss"]

_NEG = float("-inf")


def _lengths(fn: str, xp: Any, name: str, value: Any, like: Array) -> Array:
    """Lengths as an integer array: arrays of an integer dtype, or lists/tuples of ints."""
    if isinstance(value, (list, tuple)):
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise TypeError(f"{fn}: `{name}` must hold integers, got {value!r}.")
        return xp.asarray(value, dtype=xp.int64, device=device(like))
    if isinstance(value, (int, float)) or not hasattr(value, "dtype"):
        raise TypeError(
            f"{fn}: `{name}` must be an integer array or a list/tuple of ints (one length per "
            f"sample), got {type(value).__name__}; e.g. [{value!r}] for one sample."
        )
    namespace(fn, log_probs=like, **{name: value})
    require_integer(fn, xp, name, value, "lengths")
    return xp.astype(xp.reshape(value, (-1,)), xp.int64)


def _lse3(xp: Any, a: Array, b: Array, c: Array) -> Array:
    """log(exp(a) + exp(b) + exp(c)), elementwise; -inf where all three are -inf."""
    m = xp.maximum(xp.maximum(a, b), c)
    m = xp.where(m == _NEG, xp.zeros_like(m), m)
    return m + safe_log(xp, xp.exp(a - m) + xp.exp(b - m) + xp.exp(c - m))


def _shift(xp: Any, a: Array, k: int, fill: Any) -> Array:
    """``a[..., s - k]`` (k > 0) or ``a[..., s + |k|]`` (k < 0) along the last axis, ``fill``
    where that is out of range."""
    if abs(k) >= a.shape[-1]:
        return xp.full(tuple(a.shape), fill, dtype=a.dtype)
    pad = xp.full((*a.shape[:-1], abs(k)), fill, dtype=a.dtype)
    if k > 0:
        return xp.concat([pad, a[..., : a.shape[-1] - k]], axis=-1)
    return xp.concat([a[..., -k:], pad], axis=-1)


def _padded_targets(
    fn: str, xp: Any, targets: Array, target_lengths: Array, batch: int,
    known: list[int] | None = None,
) -> Array:
    """Targets as ``(N, S)``: padded ones as given, concatenated 1-D ones laid out per row."""
    if targets.ndim == 2:
        if targets.shape[0] != batch:
            raise ValueError(
                f"{fn}: padded targets must have one row per sample, shape ({batch}, S), got "
                f"{shape_str(targets.shape)}."
            )
        return targets
    if batch == 1 and (is_lazy(targets) or is_lazy(target_lengths)):
        # one sample: the concatenated targets are its whole target (torch requires
        # len(targets) == target_length, checked on eager arrays)
        return xp.reshape(targets, (1, -1))
    if known is None and is_lazy(target_lengths):
        raise ValueError(
            f"{fn}: concatenated 1-D targets are laid out by the values of target_lengths, "
            "which a lazy array does not have yet; pass padded (N, S) targets, or "
            "target_lengths as a list of ints."
        )
    total = sum(known) if known is not None else int(xp.sum(target_lengths))
    if targets.shape[0] != total:
        raise ValueError(
            f"{fn}: concatenated targets must hold sum(target_lengths) = {total} labels, got "
            f"{targets.shape[0]}."
        )
    longest = (max(known) if known is not None else int(xp.max(target_lengths))) if batch else 0
    offsets = xp.cumulative_sum(target_lengths) - target_lengths
    index = offsets[:, None] + xp.arange(longest, dtype=xp.int64)[None, :]
    inside = xp.arange(longest, dtype=xp.int64)[None, :] < target_lengths[:, None]
    index = xp.where(inside, index, xp.zeros_like(index))
    if total == 0:
        return xp.zeros((batch, longest), dtype=targets.dtype)
    return xp.reshape(take(xp, targets, xp.reshape(index, (-1,))), (batch, longest))


def _check_eager(
    fn: str, xp: Any, T: int, n_classes: int, blank: int, tgt: Array, il: Array, tl: Array
) -> None:
    """Length and label checks on eager arrays (torch reads labels out of bounds instead)."""
    if any(is_lazy(a) for a in (tgt, il, tl)):
        return
    for name, lengths, high in (("input_lengths", il, T), ("target_lengths", tl, None)):
        if bool(xp.any(lengths < 0)):
            raise ValueError(f"{fn}: `{name}` must be non-negative, got {int(xp.min(lengths))}.")
        if high is not None and bool(xp.any(lengths > high)):
            raise ValueError(
                f"{fn}: `{name}` must be at most the number of time steps T = {high}, got "
                f"{int(xp.max(lengths))}."
            )
    if bool(xp.any(tl > tgt.shape[1])):
        raise ValueError(
            f"{fn}: a target length of {int(xp.max(tl))} exceeds the padded targets' width "
            f"S = {tgt.shape[1]}."
        )
    inside = xp.arange(tgt.shape[1], dtype=xp.int64)[None, :] < tl[:, None]
    bad = inside & ((tgt == blank) | (tgt < 0) | (tgt >= n_classes))
    if bool(xp.any(bad)):
        value = int(xp.reshape(tgt, (-1,))[int(xp.argmax(xp.reshape(xp.astype(bad, xp.int8),
                                                                    (-1,))))])
        raise ValueError(
            f"{fn}: target labels must lie in [0, {n_classes}) and differ from the blank "
            f"({blank}), got {value}."
        )


#: torch's ctc 'mean': each loss first divided by its target length, then by N
_CTC_MEAN = Divisor("the N samples, each loss first divided by its target length (at least 1)",
                    lambda xp, **_: None, terms=lambda xp, losses, **kw: _ctc_divisor_terms(
                        xp, losses, **kw))


@differentiable(divisor=_CTC_MEAN)
def ctc_loss(
    log_probs: Array,
    targets: Array,
    input_lengths: Array | list[int] | tuple[int, ...],
    target_lengths: Array | list[int] | tuple[int, ...],
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
    *,
    _want: Want | None = None,
) -> tuple[Array, Pullback]:
    """Connectionist temporal classification loss, as ``torch.nn.functional.ctc_loss``.

    ``loss_n = -log Σ_π Π_{t < T_n} exp(log_probs[t, n, π_t])`` over the alignments ``π`` of
    length ``T_n = input_lengths[n]`` that collapse (merge repeats, drop blanks) to the first
    ``target_lengths[n]`` labels of the target. Infeasible targets give ``inf``.

    Args:
        log_probs: ``(T, N, C)`` log-probabilities (e.g. a log-softmax), or ``(T, C)``.
        targets: integer labels, padded ``(N, S)`` or concatenated ``(Σ target_lengths)``
            (so an unbatched input takes ``(target_length)`` or ``(1, S)``). Labels must lie
            in ``[0, C)`` and differ from ``blank``.
        input_lengths: ``(N)`` integer array or list/tuple of ints, each at most ``T``.
        target_lengths: ``(N)`` integer array or list/tuple of ints.
        blank: the blank class.
        reduction: ``'none'`` | ``'mean'`` | ``'sum'``; ``'mean'`` averages
            ``loss_n / max(target_lengths[n], 1)`` (see Reductions in ``help(losskit)``).
        zero_infinity: replace infinite losses (and their gradients) by 0.

    Shape:
        ``'none'`` gives ``(N)`` (``()`` unbatched).

    Returns:
        The loss in the dtype of ``log_probs``.

    Notes:
        Deviations (see Deviations in ``help(losskit)``): the gradient is the true derivative with
        respect to ``log_probs`` (torch's adds ``exp(log_probs)``; they agree through a
        log-softmax), and labels equal to ``blank`` or outside ``[0, C)`` raise.

    Example:
        >>> import numpy as np
        >>> lp = np.log(np.full((3, 1, 2), 0.5))  # 3 steps, 2 classes, uniform
        >>> float(ctc_loss(lp, np.array([[1]]), [3], [1], reduction='sum').round(4))
        0.2877
    """
    fn = "ctc_loss"
    reduction = _reduction.resolve(fn, reduction)
    zero_infinity = check_flag(fn, "zero_infinity", zero_infinity)
    xp = namespace(fn, log_probs=log_probs, targets=targets)
    lp, tgt, il, tl = _ctc_inputs(fn, xp, log_probs, targets, input_lengths, target_lengths,
                                  blank)
    work = opmath(xp, lp.dtype)  # float16 (which torch refuses) is computed in float32
    lp = astype(xp, lp, work)
    trellis = _Trellis(xp, lp, tgt, il, tl, blank)
    alpha_all = trellis.alphas()
    total = trellis.log_likelihood(alpha_all)
    losses = -total
    infinite = losses == float("inf")
    if zero_infinity:
        losses = xp.where(infinite, xp.zeros_like(losses), losses)
    unbatched = log_probs.ndim == 2
    if reduction == "mean":
        value = _reduction.apply(xp, _per_target_length(xp, losses, tl), "mean")
    else:
        value = _reduction.apply(xp, losses[0] if unbatched and reduction == "none" else losses,
                                 reduction)
    value = astype(xp, value, log_probs.dtype)

    def pullback(g: Array) -> dict[str, Array | None]:
        if _want is None or "log_probs" not in _want:
            return {}
        ge = _reduction.per_term(xp, astype(xp, g, work), reduction, losses)
        if reduction == "mean":
            ge = _per_target_length(xp, ge, tl)
        grad = trellis.gradient(alpha_all, total)
        if zero_infinity:
            grad = xp.where(infinite[None, :, None], xp.zeros_like(grad), grad)
        grad = grad * ge[None, :, None]
        grad = grad[:, 0, :] if unbatched else grad
        shape = tuple(log_probs.shape)
        return {"log_probs": grad_like(xp, grad, log_probs, shape)}

    return value, pullback


def _per_target_length(xp: Any, a: Array, tl: Array) -> Array:
    """torch's ctc 'mean': each sample's loss over max(target_length, 1), then the mean over
    the batch (also applied to the upstream gradient)."""
    return a / xp.astype(xp.maximum(tl, 1), a.dtype)


def _ctc_divisor_terms(xp: Any, losses: Array, target_lengths: Any, **_: Any) -> Array:
    tl = xp.reshape(xp.asarray(target_lengths), (-1,))
    return _per_target_length(xp, xp.reshape(losses, (-1,)), tl)


def _ctc_inputs(fn: str, xp: Any, log_probs: Array, targets: Array, input_lengths: Any,
                target_lengths: Any, blank: Any) -> tuple[Array, Array, Array, Array]:
    """Checks; log_probs as (T, N, C), padded int64 targets (N, S) and int64 lengths (N)."""
    require_float(fn, xp, log_probs=log_probs)
    require_integer(fn, xp, "targets", targets, "labels")
    if log_probs.ndim not in (2, 3):
        raise ValueError(
            f"{fn}: log_probs must be (T, N, C) or unbatched (T, C), got "
            f"{shape_str(log_probs.shape)}."
        )
    lp = log_probs[:, None, :] if log_probs.ndim == 2 else log_probs
    T, N, C = lp.shape
    if T == 0 or N == 0 or C == 0:
        raise ValueError(f"{fn}: log_probs must not be empty, got {shape_str(log_probs.shape)}.")
    if isinstance(blank, bool) or not isinstance(blank, int) or not 0 <= blank < C:
        raise ValueError(f"{fn}: `blank` must be a class index in [0, {C}), got {blank!r}.")
    il = _lengths(fn, xp, "input_lengths", input_lengths, log_probs)
    tl = _lengths(fn, xp, "target_lengths", target_lengths, log_probs)
    for name, lengths in (("input_lengths", il), ("target_lengths", tl)):
        if lengths.shape[0] != N:
            raise ValueError(
                f"{fn}: `{name}` must hold one length per sample (N = {N}), got "
                f"{lengths.shape[0]}."
            )
    known = list(target_lengths) if isinstance(target_lengths, (list, tuple)) else None
    tgt = xp.astype(_padded_targets(fn, xp, targets, tl, N, known), xp.int64)
    _check_eager(fn, xp, T, C, blank, tgt, il, tl)
    return lp, tgt, il, tl


class _Trellis:
    """The CTC lattice of a batch: the extended labels (blank, l1, blank, ..., blank), which
    positions may skip one back, and each label's log-probability at every step."""

    def __init__(self, xp: Any, lp: Array, tgt: Array, il: Array, tl: Array,
                 blank: int) -> None:
        self.xp, self.lp, self.il, self.tl = xp, lp, il, tl
        T, N, _ = lp.shape
        S = tgt.shape[1]
        L = 2 * S + 1
        blanks = xp.full((N, S), blank, dtype=xp.int64)
        self.ext = xp.concat([xp.reshape(xp.stack([blanks, tgt], axis=-1), (N, 2 * S)),
                              xp.full((N, 1), blank, dtype=xp.int64)], axis=-1)
        positions = xp.arange(L, dtype=xp.int64)[None, :]
        ext_len = 2 * tl + 1
        self.in_target = positions < ext_len[:, None]
        # a label may be reached from two positions back unless it is blank or repeats
        self.skip = ((positions >= 2) & (self.ext != blank)
                     & (self.ext != _shift(xp, self.ext, 2, blank)))
        self.ends = (positions == ext_len[:, None] - 1) | (positions == ext_len[:, None] - 2)
        self.emit = gather_last(xp, lp, xp.broadcast_to(self.ext[None, :, :], (T, N, L)))
        self.neg = xp.full((N, L), _NEG, dtype=lp.dtype)
        self.first = (positions < 2) & self.in_target

    def alphas(self) -> Array:
        """log α_t(s) for every step, (T, N, L)."""
        xp, neg, il = self.xp, self.neg, self.il
        alpha = xp.where(self.first, self.emit[0, ...], neg)
        alpha = xp.where((il > 0)[:, None], alpha, neg)
        alphas = [alpha]
        for t in range(1, self.lp.shape[0]):
            from_two = xp.where(self.skip, _shift(xp, alpha, 2, _NEG), neg)
            step = _lse3(xp, alpha, _shift(xp, alpha, 1, _NEG), from_two) + self.emit[t, ...]
            alpha = xp.where((t < il)[:, None] & self.in_target, step, neg)
            alphas.append(alpha)
        return xp.stack(alphas, axis=0)

    def log_likelihood(self, alpha_all: Array) -> Array:
        """log p(target | log_probs) per sample, from the alphas at each input's last step."""
        xp, il, tl, neg = self.xp, self.il, self.tl, self.neg
        at_end = xp.arange(self.lp.shape[0], dtype=xp.int64)[:, None] == (il - 1)[None, :]
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
        T = self.lp.shape[0]
        betas = [neg] * T
        beta = neg
        may_skip = _shift(xp, self.skip, -2, False)
        for t in reversed(range(T)):
            from_two = xp.where(may_skip, _shift(xp, beta, -2, _NEG), neg)
            step = _lse3(xp, beta, _shift(xp, beta, -1, _NEG), from_two) + self.emit[t, ...]
            start = xp.where(self.ends, self.emit[t, ...], neg)
            beta = xp.where((t == last)[:, None], start,
                            xp.where((t < last)[:, None] & self.in_target, step, neg))
            betas[t] = beta
        return xp.stack(betas, axis=0)

    def gradient(self, alpha_all: Array, total: Array) -> Array:
        """d loss_n / d lp[t, n, k] = -Σ_{s: ext_s = k} α_t(s) β_t(s) / (p_n · y_t(k))."""
        xp, lp = self.xp, self.lp
        T, _, C = lp.shape
        gamma = alpha_all + self.betas()  # log α_t(s) β_t(s), (T, N, L)
        top = xp.max(gamma, axis=-1, keepdims=True)
        top = xp.where(top == _NEG, xp.zeros_like(top), top)
        onehot = xp.astype(self.ext[:, :, None] == xp.arange(C, dtype=xp.int64)[None, None, :],
                           lp.dtype)  # (N, L, C)
        mass = xp.matmul(xp.exp(gamma - top)[:, :, None, :], onehot[None, :, :, :])[:, :, 0, :]
        with quiet(xp):
            grad = -xp.exp(xp.log(mass) + top - lp + (-total)[None, :, None])
        valid_t = (xp.arange(T, dtype=xp.int64)[:, None] < self.il[None, :])[:, :, None]
        return xp.where(valid_t, grad, xp.zeros_like(grad))


