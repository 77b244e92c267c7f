"""The ``torch.nn``-style loss classes: thin shells that store options and call a function.

``import losskit.nn as nn`` ports torch code by changing one import. Constructors take
torch's signatures (legacy ``size_average``/``reduce`` are mapped to a ``reduction`` string at
construction, with torch's warning); ``reduction`` itself is checked on the first call, as in
torch. Instances are callable with the arrays positionally or by torch's names
(``loss(input=x, target=y)``), and ``losskit.value_and_grad`` accepts them. The classes are
grouped by family, as the functions are; the head family's two classes, which hold trainable
arrays as torch's modules do, live with their functions in ``losskit.losses``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, ClassVar

from ._core.namespace import Array
from ._core.reduction import legacy_reduction
from .losses._head_classes import AdaptiveLogSoftmaxWithLoss, LinearCrossEntropyLoss
from .losses.binary import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    soft_margin_loss,
)
from .losses.categorical import cross_entropy, multi_margin_loss, nll_loss
from .losses.divergence import kl_div
from .losses.embedding import cosine_embedding_loss, hinge_embedding_loss, margin_ranking_loss
from .losses.head import LinearCrossEntropyOptions
from .losses.likelihood import gaussian_nll_loss, poisson_nll_loss
from .losses.multilabel import multilabel_margin_loss, multilabel_soft_margin_loss
from .losses.regression import huber_loss, l1_loss, mse_loss, smooth_l1_loss
from .losses.sequence import ctc_loss
from .losses.triplet import triplet_margin_loss, triplet_margin_with_distance_loss

__all__ = [
    "AdaptiveLogSoftmaxWithLoss", "BCELoss", "BCEWithLogitsLoss", "CTCLoss",
    "CosineEmbeddingLoss", "CrossEntropyLoss", "GaussianNLLLoss", "HingeEmbeddingLoss",
    "HuberLoss", "KLDivLoss", "L1Loss", "LinearCrossEntropyLoss", "LinearCrossEntropyOptions",
    "Loss", "MSELoss", "MarginRankingLoss", "MultiLabelMarginLoss", "MultiLabelSoftMarginLoss",
    "MultiMarginLoss", "NLLLoss", "PoissonNLLLoss", "SmoothL1Loss", "SoftMarginLoss",
    "TripletMarginLoss", "TripletMarginWithDistanceLoss",
]


def _same(default: Any, value: Any) -> bool:
    """Whether an option still has its default (arrays never compare equal to one)."""
    if value is default:
        return True
    plain = (bool, int, float, str, type(None))
    return isinstance(default, plain) and isinstance(value, plain) and value == default


class Loss:
    """Base of the loss classes: ``options()`` are the keyword arguments of ``function``."""

    function: ClassVar[Callable[..., Array]]
    _options: ClassVar[tuple[str, ...]] = ("reduction",)
    #: the names of ``forward``'s arrays, as torch spells them (``None``: the function's)
    _inputs: ClassVar[tuple[str, ...] | None] = None

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        if size_average is not None or reduce is not None:
            reduction = legacy_reduction(size_average, reduce)
        self.reduction = reduction

    def options(self) -> dict[str, Any]:
        """The keyword options this instance passes to its function."""
        return {name: getattr(self, name) for name in self._options}

    @classmethod
    def inputs(cls) -> tuple[str, ...]:
        """The names of the arrays the instance is called with, in order (torch's names)."""
        if cls._inputs is not None:
            return cls._inputs
        parameters = inspect.signature(cls.function).parameters.values()
        return tuple(p.name for p in parameters if p.default is inspect.Parameter.empty
                     and p.kind is not inspect.Parameter.KEYWORD_ONLY)

    def __call__(self, *arrays: Array, **named: Array) -> Array:
        return type(self).function(*self._positional(arrays, named), **self.options())

    def forward(self, *arrays: Array, **named: Array) -> Array:
        """Same as calling the instance (torch's spelling)."""
        return self(*arrays, **named)

    def _positional(self, arrays: tuple[Array, ...], named: dict[str, Array]) -> list[Array]:
        """The call's arrays in order, those given by name (``input=x``) included."""
        names = self.inputs()
        if len(arrays) > len(names):
            raise TypeError(f"{type(self).__name__}: takes {len(names)} arrays "
                            f"({', '.join(names)}), got {len(arrays)}.")
        unknown = [n for n in named if n not in names[len(arrays):]]
        if unknown:
            twice = " given twice" if unknown[0] in names else ""
            raise TypeError(f"{type(self).__name__}: unexpected array argument `{unknown[0]}`"
                            f"{twice}; it is called as ({', '.join(names)}).")
        missing = [n for n in names[len(arrays):] if n not in named]
        if missing:
            raise TypeError(f"{type(self).__name__}: missing array `{missing[0]}` (called as "
                            f"({', '.join(names)})).")
        return [*arrays, *(named[n] for n in names[len(arrays):])]

    def __repr__(self) -> str:
        defaults = {
            name: p.default
            for name, p in inspect.signature(type(self).__init__).parameters.items()
        }
        shown = [
            f"{name}={value!r}"
            for name, value in self.options().items()
            if name not in defaults or not _same(defaults[name], value)
        ]
        return f"{type(self).__name__}({', '.join(shown)})"


class _WeightedLoss(Loss):
    """A loss holding a ``weight`` array (torch's ``_WeightedLoss``)."""

    _options = ("weight", "reduction")

    def __init__(self, weight: Array | None = None, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.weight = weight


# --- regression ----------------------------------------------------------------------------

class L1Loss(Loss):
    """Class form of :func:`losskit.l1_loss` (no ``weight``, as in torch).

    Example:
        >>> import numpy as np
        >>> L1Loss()(np.array([2.0, 4.0, 6.0]), np.array([1.0, 3.0, 5.0]))
        array(1.)
    """

    function = staticmethod(l1_loss)


class MSELoss(Loss):
    """Class form of :func:`losskit.mse_loss` (no ``weight``, as in torch).

    Example:
        >>> import numpy as np
        >>> MSELoss(reduction='sum')(np.array([2.0, 4.0, 6.0]), np.array([1.0, 3.0, 5.0]))
        array(3.)
    """

    function = staticmethod(mse_loss)


class SmoothL1Loss(Loss):
    """Class form of :func:`losskit.smooth_l1_loss`."""

    function = staticmethod(smooth_l1_loss)
    _options = ("reduction", "beta")

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta


class HuberLoss(Loss):
    """Class form of :func:`losskit.huber_loss` (no ``weight``, as in torch)."""

    function = staticmethod(huber_loss)
    _options = ("reduction", "delta")

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        if isinstance(delta, bool) or not isinstance(delta, (int, float)):
            raise TypeError(f"HuberLoss: `delta` must be a float or int, got {type(delta)}.")
        super().__init__(reduction=reduction)
        self.delta = delta


# --- likelihood ----------------------------------------------------------------------------

class PoissonNLLLoss(Loss):
    """Class form of :func:`losskit.poisson_nll_loss`; called as ``(log_input, target)``.

    Example:
        >>> import numpy as np
        >>> loss = PoissonNLLLoss(log_input=False)
        >>> float(loss(np.array([2.0, 4.0, 6.0]), np.array([1.0, 3.0, 5.0])).round(4))
        -0.6036
    """

    function = staticmethod(poisson_nll_loss)
    _options = ("log_input", "full", "eps", "reduction")
    _inputs = ("log_input", "target")

    def __init__(self, log_input: bool = True, full: bool = False, size_average: bool | None = None,
                 eps: float = 1e-8, reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_input = log_input
        self.full = full
        self.eps = eps


class GaussianNLLLoss(Loss):
    """Class form of :func:`losskit.gaussian_nll_loss`; called as ``(input, target, var)``."""

    function = staticmethod(gaussian_nll_loss)
    _options = ("full", "eps", "reduction")

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.full = full
        self.eps = eps


# --- divergence ----------------------------------------------------------------------------

class KLDivLoss(Loss):
    """Class form of :func:`losskit.kl_div`."""

    function = staticmethod(kl_div)
    _options = ("reduction", "log_target")

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target


# --- categorical ---------------------------------------------------------------------------

class CrossEntropyLoss(_WeightedLoss):
    """Class form of :func:`losskit.cross_entropy`.

    Example:
        >>> import numpy as np
        >>> loss = CrossEntropyLoss(label_smoothing=0.1)
        >>> round(float(loss(np.array([[2.0, 0.5, -1.0]]), np.array([0]))), 4)
        0.3913
    """

    function = staticmethod(cross_entropy)
    _options = ("weight", "ignore_index", "reduction", "label_smoothing")

    def __init__(self, weight: Array | None = None, size_average: bool | None = None,
                 ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing


class NLLLoss(_WeightedLoss):
    """Class form of :func:`losskit.nll_loss`."""

    function = staticmethod(nll_loss)
    _options = ("weight", "ignore_index", "reduction")

    def __init__(self, weight: Array | None = None, size_average: bool | None = None,
                 ignore_index: int = -100, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index


class MultiMarginLoss(_WeightedLoss):
    """Class form of :func:`losskit.multi_margin_loss`; ``p`` and ``weight`` are checked here."""

    function = staticmethod(multi_margin_loss)
    _options = ("p", "margin", "weight", "reduction")

    def __init__(self, p: int = 1, margin: float = 1.0, weight: Array | None = None,
                 size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        if isinstance(p, bool) or p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: `p` must be 1 or 2, got {p!r}.")
        if weight is not None and getattr(weight, "ndim", 1) != 1:
            raise ValueError(
                f"MultiMarginLoss: `weight` must be None or 1-D (one weight per class), got "
                f"{weight.ndim}-D."
            )
        super().__init__(weight, size_average, reduce, reduction)
        self.p = p
        self.margin = margin


# --- binary --------------------------------------------------------------------------------

class BCELoss(_WeightedLoss):
    """Class form of :func:`losskit.binary_cross_entropy`."""

    function = staticmethod(binary_cross_entropy)


class BCEWithLogitsLoss(_WeightedLoss):
    """Class form of :func:`losskit.binary_cross_entropy_with_logits`.

    Example:
        >>> import numpy as np
        >>> BCEWithLogitsLoss(pos_weight=np.array([2.0]))
        BCEWithLogitsLoss(pos_weight=array([2.]))
    """

    function = staticmethod(binary_cross_entropy_with_logits)
    _options = ("weight", "reduction", "pos_weight")

    def __init__(self, weight: Array | None = None, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean",
                 pos_weight: Array | None = None) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.pos_weight = pos_weight


class SoftMarginLoss(Loss):
    """Class form of :func:`losskit.soft_margin_loss`."""

    function = staticmethod(soft_margin_loss)


# --- multilabel ----------------------------------------------------------------------------

class MultiLabelMarginLoss(Loss):
    """Class form of :func:`losskit.multilabel_margin_loss`.

    Example:
        >>> import numpy as np
        >>> MultiLabelMarginLoss()(np.array([[1.0, 2.0, 3.0, 4.0]]), np.array([[0, 3, -1, -1]]))
        array(1.25)
    """

    function = staticmethod(multilabel_margin_loss)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Class form of :func:`losskit.multilabel_soft_margin_loss`."""

    function = staticmethod(multilabel_soft_margin_loss)


# --- embedding -----------------------------------------------------------------------------

class MarginRankingLoss(Loss):
    """Class form of :func:`losskit.margin_ranking_loss`; called as ``(input1, input2, target)``."""

    function = staticmethod(margin_ranking_loss)
    _options = ("margin", "reduction")

    def __init__(self, margin: float = 0.0, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin


class HingeEmbeddingLoss(Loss):
    """Class form of :func:`losskit.hinge_embedding_loss`."""

    function = staticmethod(hinge_embedding_loss)
    _options = ("margin", "reduction")

    def __init__(self, margin: float = 1.0, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin


class CosineEmbeddingLoss(Loss):
    """Class form of :func:`losskit.cosine_embedding_loss`; called as
    ``(input1, input2, target)``."""

    function = staticmethod(cosine_embedding_loss)
    _options = ("margin", "reduction")

    def __init__(self, margin: float = 0.0, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin


# --- triplet -------------------------------------------------------------------------------

def _positive_margin(cls: str, margin: Any) -> None:
    if not margin > 0:
        raise ValueError(f"{cls}: expected margin to be greater than 0, got {margin!r}.")


class TripletMarginLoss(Loss):
    """Class form of :func:`losskit.triplet_margin_loss`; the margin is checked here."""

    function = staticmethod(triplet_margin_loss)
    _options = ("margin", "p", "eps", "swap", "reduction")

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6, swap: bool = False,
                 size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        _positive_margin("TripletMarginLoss", margin)
        super().__init__(size_average, reduce, reduction)
        self.margin = margin
        self.p = p
        self.eps = eps
        self.swap = swap


class TripletMarginWithDistanceLoss(Loss):
    """Class form of :func:`losskit.triplet_margin_with_distance_loss`."""

    function = staticmethod(triplet_margin_with_distance_loss)
    _options = ("distance_function", "margin", "swap", "reduction")

    def __init__(self, *, distance_function: Callable[[Array, Array], Array] | None = None,
                 margin: float = 1.0, swap: bool = False, reduction: str = "mean") -> None:
        _positive_margin("TripletMarginWithDistanceLoss", margin)
        super().__init__(reduction=reduction)
        self.distance_function = distance_function
        self.margin = margin
        self.swap = swap


# --- sequence ------------------------------------------------------------------------------

class CTCLoss(Loss):
    """Class form of :func:`losskit.ctc_loss`; called as
    ``(log_probs, targets, input_lengths, target_lengths)``.
    """

    function = staticmethod(ctc_loss)
    _options = ("blank", "reduction", "zero_infinity")

    def __init__(self, blank: int = 0, reduction: str = "mean",
                 zero_infinity: bool = False) -> None:
        super().__init__(reduction=reduction)
        self.blank = blank
        self.zero_infinity = zero_infinity
