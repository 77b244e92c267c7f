"""The ``torch.nn``-style loss classes: thin shells that store options and call a function.

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
from .binary import binary_cross_entropy, binary_cross_entropy_with_logits, soft_margin_loss
from .classification import cross_entropy, nll_loss
from .divergence import kl_div
from .multiclass import multi_margin_loss, multilabel_margin_loss, multilabel_soft_margin_loss
from .ranking import margin_ranking_loss
from .regression import huber_loss, l1_loss, mse_loss, poisson_nll_loss, smooth_l1_loss

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "HuberLoss",
    "KLDivLoss",
    "L1Loss",
    "MSELoss",
    "MarginRankingLoss",
    "MultiLabelMarginLoss",
    "MultiLabelSoftMarginLoss",
    "MultiMarginLoss",
    "NLLLoss",
    "PoissonNLLLoss",
    "SmoothL1Loss",
    "SoftMarginLoss",
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


class _WeightedLoss(Loss):
    """A loss holding a per-class ``weight`` array (torch's ``_WeightedLoss``)."""

    _options = ("weight", "reduction")

    def __init__(
        self,
        weight: Array | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(size_average, reduce, reduction)
        self.weight = weight


class NLLLoss(_WeightedLoss):
    """Class form of :func:`losskit.nll_loss`.

    Example:
        >>> NLLLoss(ignore_index=0)
        NLLLoss(ignore_index=0)
    """

    function = staticmethod(nll_loss)
    _options = ("weight", "ignore_index", "reduction")

    def __init__(
        self,
        weight: Array | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index


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

    def __init__(
        self,
        weight: Array | None = None,
        size_average: bool | None = None,
        ignore_index: int = -100,
        reduce: bool | None = None,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing


class BCELoss(_WeightedLoss):
    """Class form of :func:`losskit.binary_cross_entropy`.

    Example:
        >>> BCELoss(reduction='sum')
        BCELoss(reduction='sum')
    """

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

    def __init__(
        self,
        weight: Array | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
        pos_weight: Array | None = None,
    ) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.pos_weight = pos_weight


class SoftMarginLoss(Loss):
    """Class form of :func:`losskit.soft_margin_loss`.

    Example:
        >>> SoftMarginLoss()
        SoftMarginLoss()
    """

    function = staticmethod(soft_margin_loss)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """Class form of :func:`losskit.multilabel_soft_margin_loss`.

    Example:
        >>> MultiLabelSoftMarginLoss()
        MultiLabelSoftMarginLoss()
    """

    function = staticmethod(multilabel_soft_margin_loss)


class MultiMarginLoss(_WeightedLoss):
    """Class form of :func:`losskit.multi_margin_loss`; ``p`` and ``weight`` are checked here.

    Example:
        >>> MultiMarginLoss(p=2, margin=0.5)
        MultiMarginLoss(p=2, margin=0.5)
    """

    function = staticmethod(multi_margin_loss)
    _options = ("p", "margin", "weight", "reduction")

    def __init__(
        self,
        p: int = 1,
        margin: float = 1.0,
        weight: Array | None = None,
        size_average: bool | None = None,
        reduce: bool | None = None,
        reduction: str = "mean",
    ) -> None:
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
