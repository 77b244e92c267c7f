"""The sequence family: ctc_loss, the connectionist temporal classification loss.

The forward (alpha) and backward (beta) recursions run in log space, vectorised over the
batch and the extended label sequence (blank, l1, blank, l2, ..., blank); only time is a
Python loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._core import reduction as _reduction
from .._core.gradients import Pullback, Want, differentiable, grad_like
from .._core.indexing import take
from .._core.loops import per_batch
from .._core.namespace import (
    Array,
    astype,
    device,
    index_dtype,
    is_dask,
    is_lazy,
    is_numpy,
    namespace,
    opmath,
    shape_str,
)
from .._core.reduction import Divisor
from .._core.validation import check_flag, require_float, require_integer
from . import _compiled
from ._trellis import Trellis, extended_labels

__all__ = ["ctc_loss"]

_NEG = float("-inf")


def _lengths(fn: str, xp: Any, name: str, value: Any, like: Array) -> Array:
    """Lengths as an integer array: arrays of an integer dtype, or lists/tuples of ints."""
    if isinstance(value, (list, tuple)):
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise TypeError(f"{fn}: `{name}` must hold integers, got {value!r}.")
        return xp.asarray(value, dtype=index_dtype(xp, like), device=device(like))
    if isinstance(value, (int, float)) or not hasattr(value, "dtype"):
        raise TypeError(
            f"{fn}: `{name}` must be an integer array or a list/tuple of ints (one length per "
            f"sample), got {type(value).__name__}; e.g. [{value!r}] for one sample."
        )
    namespace(fn, log_probs=like, **{name: value})
    require_integer(fn, xp, name, value, "lengths")
    return xp.astype(xp.reshape(value, (-1,)), index_dtype(xp, like))


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
    ix = target_lengths.dtype
    index = offsets[:, None] + xp.arange(longest, dtype=ix)[None, :]
    inside = xp.arange(longest, dtype=ix)[None, :] < target_lengths[:, None]
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
    inside = xp.arange(tgt.shape[1], dtype=tl.dtype)[None, :] < tl[:, None]
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
    wanted = _want is not None and "log_probs" in _want
    losses, gradient = _nll(xp, lp, tgt, il, tl, blank, wanted)
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
        grad = gradient(ge)
        if zero_infinity:
            grad = xp.where(infinite[None, :, None], xp.zeros_like(grad), grad)
        grad = grad[:, 0, :] if unbatched else grad
        shape = tuple(log_probs.shape)
        return {"log_probs": grad_like(xp, grad, log_probs, shape)}

    return value, pullback


def _nll(xp: Any, lp: Array, tgt: Array, il: Array, tl: Array, blank: int, wanted: bool,
         threads: int | None = None) -> tuple[Array, Callable[[Array], Array]]:
    """Each sample's -log p(target) and ``gradient(ge)``, its gradient with respect to
    ``lp`` times each sample's upstream ``ge`` (``(T, N, C)``; nan for impossible targets,
    0 from each input length on). Dask: per batch chunk; NumPy: the compiled kernel when
    numba is installed; otherwise (and on every other library) the array-API trellis."""
    if is_dask(lp):
        return _nll_per_chunk(lp, tgt, il, tl, blank)
    if is_numpy(lp) and _compiled.available():
        ext, skip = extended_labels(xp, tgt, blank)
        nll, gradient = _compiled.ctc(lp, ext, 2 * tl + 1, il, skip, wanted, threads)
        return xp.astype(nll, lp.dtype), gradient
    trellis = Trellis(xp, lp, tgt, il, tl, blank)
    alpha_all = trellis.alphas()
    total = trellis.log_likelihood(alpha_all)
    return -total, lambda ge: trellis.gradient(alpha_all, total) * ge[None, :, None]


def _nll_per_chunk(lp: Array, tgt: Array, il: Array, tl: Array, blank: int
                   ) -> tuple[Array, Callable[[Array], Array]]:
    """:func:`_nll` of Dask arrays, run on NumPy blocks once per batch chunk: a graph of a
    few tasks per chunk, whatever T, C and S are (each task on one thread: Dask runs a task
    per core)."""
    import numpy as np

    def forward(lp_b: Any, tgt_b: Any, il_b: Any, tl_b: Any) -> Any:
        return _nll(np, lp_b, tgt_b, il_b, tl_b, blank, False, threads=1)[0]

    def backward(lp_b: Any, tgt_b: Any, il_b: Any, tl_b: Any, ge_b: Any) -> Any:
        return _nll(np, lp_b, tgt_b, il_b, tl_b, blank, True, threads=1)[1](ge_b)

    arrays, axes = [lp, tgt, il, tl], ["tnc", "ns", "n", "n"]
    nll = per_batch(forward, arrays, axes, "n", lp.dtype)
    return nll, lambda ge: per_batch(backward, [*arrays, ge], [*axes, "n"], "tnc", lp.dtype)


def _per_target_length(xp: Any, a: Array, tl: Array) -> Array:
    """torch's ctc 'mean': each sample's loss over max(target_length, 1), then the mean over
    the batch (also applied to the upstream gradient)."""
    return a / xp.astype(xp.maximum(tl, 1), a.dtype)


def _ctc_divisor_terms(xp: Any, losses: Array, target_lengths: Any, **_: Any) -> Array:
    tl = xp.reshape(xp.asarray(target_lengths), (-1,))
    return _per_target_length(xp, xp.reshape(losses, (-1,)), tl)


def _ctc_inputs(fn: str, xp: Any, log_probs: Array, targets: Array, input_lengths: Any,
                target_lengths: Any, blank: Any) -> tuple[Array, Array, Array, Array]:
    """Checks; log_probs as (T, N, C), padded targets (N, S) and lengths (N) in the
    namespace's index dtype (int64, or int32 for JAX without 64-bit mode)."""
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
    tgt = xp.astype(_padded_targets(fn, xp, targets, tl, N, known), index_dtype(xp, log_probs))
    _check_eager(fn, xp, T, C, blank, tgt, il, tl)
    return lp, tgt, il, tl
