"""The ``torch.nn``-style classes of the classification losses (see ``modules.py``)."""

from __future__ import annotations

from ._namespace import Array
from .binary import binary_cross_entropy, binary_cross_entropy_with_logits, soft_margin_loss
from .classification import cross_entropy, nll_loss
from .modules import Loss
from .multiclass import multi_margin_loss, multilabel_soft_margin_loss

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "MultiLabelSoftMarginLoss",
    "MultiMarginLoss",
    "NLLLoss",
    "SoftMarginLoss",
]


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
