"""losskit: PyTorch's loss functions, with PyTorch's exact semantics, on any array library."""

from ._gradients import grad, value_and_grad
from .divergence import kl_div
from .modules import (
    HuberLoss,
    KLDivLoss,
    L1Loss,
    Loss,
    MarginRankingLoss,
    MSELoss,
    MultiLabelMarginLoss,
    PoissonNLLLoss,
    SmoothL1Loss,
)
from .multiclass import multilabel_margin_loss
from .ranking import margin_ranking_loss
from .regression import huber_loss, l1_loss, mse_loss, poisson_nll_loss, smooth_l1_loss

__version__ = "0.1.0"

__all__ = [
    "HuberLoss",
    "KLDivLoss",
    "L1Loss",
    "Loss",
    "MSELoss",
    "MarginRankingLoss",
    "MultiLabelMarginLoss",
    "PoissonNLLLoss",
    "SmoothL1Loss",
    "__version__",
    "grad",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "margin_ranking_loss",
    "mse_loss",
    "multilabel_margin_loss",
    "poisson_nll_loss",
    "smooth_l1_loss",
    "value_and_grad",
]
