"""The only place where 'none', 'mean', 'sum' (and kl_div's 'batchmean') are interpreted.

Reductions (torch semantics, used by every loss):

* ``'none'``: the elementwise (or per-sample) losses, unreduced.
* ``'sum'``: their sum; ``0`` for an empty loss.
* ``'mean'``: their sum divided by a *divisor*: the number of loss elements unless the loss
  declares a :class:`Divisor` (weighted l1/mse divide by the summed weights, kl_div's
  ``'batchmean'`` by the batch size, nll/cross_entropy by the summed weights of the targets,
  ctc by the batch after dividing each loss by its target length). An empty loss gives ``nan``.

The deprecated ``size_average``/``reduce`` pair overrides ``reduction`` when either is set,
with torch's mapping and warning: ``reduce=False`` gives ``'none'``, else
``size_average=False`` gives ``'sum'``, else ``'mean'`` (``None`` counts as ``True``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .namespace import Array, as_array, numel, quiet
from .warn import warn

__all__ = ["REDUCTIONS", "Divisor", "apply", "legacy_reduction", "per_term", "resolve"]

REDUCTIONS: tuple[str, ...] = ("none", "mean", "sum")


@dataclass(frozen=True)
class Divisor:
    """A loss's ``'mean'`` divisor where it is not the number of terms.

    Declared once, next to the loss, and used both by the loss's forward and by
    ``losskit.explain`` (which writes the division out).

    Attributes:
        what: how the divisor is described (``"Σ weight[target] of the non-ignored targets"``).
        of: ``of(xp, **arguments)``, the divisor from the loss's own arguments (arrays and
            options by name; others ignored), or ``None`` where this call's 'mean' is the
            plain count (for example an unweighted l1).
        terms: optionally ``terms(xp, losses, **arguments)``: the terms as 'mean' sums them,
            where each is first scaled (ctc divides each loss by its target length).
    """

    what: str
    of: Callable[..., Any]
    terms: Callable[..., Array] | None = None


def legacy_reduction(size_average: bool | None, reduce: bool | None) -> str:
    """torch's ``_Reduction.legacy_get_string``, with its warning."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        result = "none"
    elif size_average:
        result = "mean"
    else:
        result = "sum"
    warn("size_average and reduce args will be deprecated, please use "
         f"reduction='{result}' instead.")
    return result


def resolve(
    fn: str,
    reduction: Any,
    size_average: bool | None = None,
    reduce: bool | None = None,
    *,
    allowed: tuple[str, ...] = REDUCTIONS,
    elementwise_mean: bool = True,
) -> str:
    """Validate ``reduction`` (or map the legacy pair) and return one of ``allowed``.

    ``elementwise_mean``: whether the deprecated alias of ``'mean'`` is accepted (with
    torch's warning); poisson_nll_loss and the weighted l1/mse/huber refuse it, as torch does.
    """
    if size_average is not None or reduce is not None:
        return legacy_reduction(size_average, reduce)
    if reduction == "elementwise_mean" and elementwise_mean:
        warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.")
        return "mean"
    if isinstance(reduction, str) and reduction in allowed:
        return reduction
    hint = ""
    if isinstance(reduction, str) and reduction.lower() in allowed:
        hint = f" (reductions are lower case: reduction={reduction.lower()!r})"
    elif reduction == "batchmean":
        hint = " ('batchmean' is a reduction of kl_div only)"
    raise ValueError(
        f"{fn}: invalid value for argument `reduction`. Expected one of "
        f"{', '.join(map(repr, allowed))}. Received: reduction={reduction!r}{hint}."
    )


def _is_zero(count: Any) -> bool:
    return isinstance(count, int) and count == 0


def apply(xp: Any, loss: Array, reduction: str, divisor: Any = None) -> Array:
    """Reduce ``loss``; ``'mean'`` divides the sum by ``divisor`` (default: element count)."""
    if reduction == "none":
        return as_array(xp, loss)
    total = as_array(xp, xp.sum(loss))
    if reduction == "sum":
        return total
    if divisor is None:
        divisor = numel(loss)
    if _is_zero(divisor):
        # sum of nothing is 0; 0 * nan keeps the result attached to autograd graphs
        return as_array(xp, total * float("nan"))
    with quiet(xp):  # a divisor that is an array may be 0 (all targets ignored): 0/0 = nan
        return as_array(xp, total / divisor)


def upstream(g: Array, reduction: str, count: Any) -> Array:
    """The gradient reaching each loss element from the reduced value's gradient ``g``.

    ``count`` is the ``'mean'`` divisor. The result broadcasts against the elementwise loss.
    """
    if reduction == "mean" and not _is_zero(count):
        return g / count
    return g


def per_term(xp: Any, g: Array, reduction: str, terms: Array, divisor: Any = None) -> Array:
    """The upstream gradient of every term of ``terms`` (the unreduced loss), in its shape:
    ``g`` itself for ``'none'`` (a 0-d ``g``: the same for every term), ``g`` (over the divisor
    for ``'mean'``) broadcast otherwise."""
    if reduction == "none":
        if g.ndim == 0:
            return g * xp.ones_like(terms)
        return xp.reshape(g, tuple(terms.shape))
    with quiet(xp):  # an array divisor may be 0: the gradient is then nan, as torch's
        ge = upstream(g, reduction, numel(terms) if divisor is None else divisor)
    return ge * xp.ones_like(terms)
