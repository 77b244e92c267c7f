"""The ``torch.nn``-style loss classes: thin shells that store options and call a function
(the classification family is in ``modules_classification.py``).

Constructors take torch's signatures (legacy ``size_average``/``reduce`` are mapped to a
``reduction`` string at construction, with torch's warning); ``reduction`` itself is
checked on the first call, as in torch. Instances are callable, and
``losskit.value_and_grad`` accepts them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, ClassVar

from ._namespace import Array
from ._reduction import legacy_reduction
from .divergence import kl_div
from .multiclass import multilabel_margin_loss
from .probabilistic import gaussian_nll_loss
from .ranking import cosine_embedding_loss, hinge_embedding_loss, margin_ranking_loss
from .regression import huber_loss, l1_loss, mse_loss, poisson_nll_loss, smooth_l1_loss
from .sequence import ctc_loss
from .triplet import triplet_margin_loss, triplet_margin_with_distance_loss

__all__ = [
    "CTCLoss",
    "CosineEmbeddingLoss",
    "GaussianNLLLoss",
    "HingeEmbeddingLoss",
    "HuberLoss",
    "KLDivLoss",
    "L1Loss",
    "MSELoss",
    "MarginRankingLoss",
    "MultiLabelMarginLoss",
    "PoissonNLLLoss",
    "SmoothL1Loss",
    "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
]


class Loss:
    """Base of the loss classes: ``options()`` are the keyword arguments of ``function``."""

    function: ClassVar[Callable[..., Array]]
    _options: ClassVar[tuple[str, ...]] = ("reduction",)

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        if size_average is not None or reduce is not None:
            reduction = legacy_reduction(size_average, reduce)
        self.reduction = reduction

    def options(self) -> dict[str, Any]:
        """The keyword options this instance passes to its function."""
        return {name: getattr(self, name) for name in self._options}

    def __call__(self, *arrays: Array) -> Array:
        return type(self).function(*arrays, **self.options())

    def forward(self, *arrays: Array) -> Array:
        """Same as calling the instance (torch's spelling)."""
        return self(*arrays)

    def __repr__(self) -> str:
        defaults = {
            name: p.default
            for name, p in inspect.signature(type(self).__init__).parameters.items()
        }
        shown = [
            f"{name}={value!r}"
            for name, value in self.options().items()
            if name not in defaults or defaults[name] != value
        ]
        return f"{type(self).__name__}({', '.join(shown)})"


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
    """Class form of :func:`losskit.smooth_l1_loss`.

    Example:
        >>> import numpy as np
        >>> SmoothL1Loss(beta=2.0)
        SmoothL1Loss(beta=2.0)
    """

    function = staticmethod(smooth_l1_loss)
    _options = ("reduction", "beta")

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        beta: float = 1.0,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta


class HuberLoss(Loss):
    """Class form of :func:`losskit.huber_loss` (no ``weight``, as in torch).

    Example:
        >>> HuberLoss(delta=0.5)
        HuberLoss(delta=0.5)
    """

    function = staticmethod(huber_loss)
    _options = ("reduction", "delta")

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        if isinstance(delta, bool) or not isinstance(delta, (int, float)):
            raise TypeError(f"HuberLoss: `delta` must be a float or int, got {type(delta)}.")
        super().__init__(reduction=reduction)
        self.delta = delta


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

    def __init__(
        self,
        log_input: bool = True,
        full: bool = False,
        size_average: bool | None = None,
        eps: float = 1e-8,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_input = log_input
        self.full = full
        self.eps = eps


class KLDivLoss(Loss):
    """Class form of :func:`losskit.kl_div`.

    Example:
        >>> KLDivLoss(reduction='batchmean')
        KLDivLoss(reduction='batchmean')
    """

    function = staticmethod(kl_div)
    _options = ("reduction", "log_target")

    def __init__(
        self,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        log_target: bool = False,
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target


class MarginRankingLoss(Loss):
    """Class form of :func:`losskit.margin_ranking_loss`; called as ``(input1, input2, target)``.

    Example:
        >>> MarginRankingLoss(margin=0.5)
        MarginRankingLoss(margin=0.5)
    """

    function = staticmethod(margin_ranking_loss)
    _options = ("margin", "reduction")

    def __init__(
        self,
        margin: float = 0.0,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin


class MultiLabelMarginLoss(Loss):
    """Class form of :func:`losskit.multilabel_margin_loss`.

    Example:
        >>> import numpy as np
        >>> MultiLabelMarginLoss()(np.array([[1.0, 2.0, 3.0, 4.0]]), np.array([[0, 3, -1, -1]]))
        array(1.25)
    """

    function = staticmethod(multilabel_margin_loss)


class GaussianNLLLoss(Loss):
    """Class form of :func:`losskit.gaussian_nll_loss`; called as ``(input, target, var)``.

    Example:
        >>> GaussianNLLLoss(full=True)
        GaussianNLLLoss(full=True)
    """

    function = staticmethod(gaussian_nll_loss)
    _options = ("full", "eps", "reduction")

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(reduction=reduction)
        self.full = full
        self.eps = eps


class HingeEmbeddingLoss(Loss):
    """Class form of :func:`losskit.hinge_embedding_loss`.

    Example:
        >>> HingeEmbeddingLoss(margin=2.0)
        HingeEmbeddingLoss(margin=2.0)
    """

    function = staticmethod(hinge_embedding_loss)
    _options = ("margin", "reduction")

    def __init__(
        self,
        margin: float = 1.0,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.margin = margin


class CosineEmbeddingLoss(HingeEmbeddingLoss):
    """Class form of :func:`losskit.cosine_embedding_loss`; called as ``(input1, input2, target)``.

    Example:
        >>> CosineEmbeddingLoss(margin=0.5)
        CosineEmbeddingLoss(margin=0.5)
    """

    function = staticmethod(cosine_embedding_loss)

    def __init__(
        self,
        margin: float = 0.0,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(margin, size_average, reduce, reduction)


def _positive_margin(cls: str, margin: Any) -> None:
    if not margin > 0:
        raise ValueError(f"{cls}: expected margin to be greater than 0, got {margin!r}.")


class TripletMarginLoss(Loss):
    """Class form of :func:`losskit.triplet_margin_loss`; the margin is checked here.

    Example:
        >>> TripletMarginLoss(margin=0.2, p=1)
        TripletMarginLoss(margin=0.2, p=1)
    """

    function = staticmethod(triplet_margin_loss)
    _options = ("margin", "p", "eps", "swap", "reduction")

    def __init__(
        self,
        margin: float = 1.0,
        p: float = 2.0,
        eps: float = 1e-6,
        swap: bool = False,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        _positive_margin("TripletMarginLoss", margin)
        super().__init__(size_average, reduce, reduction)
        self.margin = margin
        self.p = p
        self.eps = eps
        self.swap = swap


class TripletMarginWithDistanceLoss(Loss):
    """Class form of :func:`losskit.triplet_margin_with_distance_loss`.

    Example:
        >>> TripletMarginWithDistanceLoss(margin=0.5, swap=True)
        TripletMarginWithDistanceLoss(margin=0.5, swap=True)
    """

    function = staticmethod(triplet_margin_with_distance_loss)
    _options = ("distance_function", "margin", "swap", "reduction")

    def __init__(
        self,
        *,
        distance_function: Callable[[Array, Array], Array] | None = None,
        margin: float = 1.0,
        swap: bool = False,
        reduction: str = "mean",
    ) -> None:
        _positive_margin("TripletMarginWithDistanceLoss", margin)
        super().__init__(reduction=reduction)
        self.distance_function = distance_function
        self.margin = margin
        self.swap = swap


class CTCLoss(Loss):
    """Class form of :func:`losskit.ctc_loss`; called as
    ``(log_probs, targets, input_lengths, target_lengths)``.

    Example:
        >>> CTCLoss(blank=3, zero_infinity=True)
        CTCLoss(blank=3, zero_infinity=True)
    """

    function = staticmethod(ctc_loss)
    _options = ("blank", "reduction", "zero_infinity")

    def __init__(
        self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False
    ) -> None:
        super().__init__(reduction=reduction)
        self.blank = blank
        self.zero_infinity = zero_infinity
