"""losskit: PyTorch's loss functions, with PyTorch's exact semantics, on any array library."""

from ._explain import Explanation, explain
from ._gradients import grad, value_and_grad
from .binary import binary_cross_entropy, binary_cross_entropy_with_logits, soft_margin_loss
from .classification import cross_entropy, nll_loss
from .divergence import kl_div
from .modules import (
    CosineEmbeddingLoss,
    CTCLoss,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    Loss,
    MarginRankingLoss,
    MSELoss,
    MultiLabelMarginLoss,
    PoissonNLLLoss,
    SmoothL1Loss,
    TripletMarginLoss,
    TripletMarginWithDistanceLoss,
)
from .modules_classification import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    MultiLabelSoftMarginLoss,
    MultiMarginLoss,
    NLLLoss,
    SoftMarginLoss,
)
from .multiclass import multi_margin_loss, multilabel_margin_loss, multilabel_soft_margin_loss
from .probabilistic import gaussian_nll_loss
from .ranking import cosine_embedding_loss, hinge_embedding_loss, margin_ranking_loss
from .regression import huber_loss, l1_loss, mse_loss, poisson_nll_loss, smooth_l1_loss
from .sequence import ctc_loss
from .triplet import pairwise_distance, triplet_margin_loss, triplet_margin_with_distance_loss

__version__ = "0.1.0"

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CTCLoss",
    "CosineEmbeddingLoss",
    "CrossEntropyLoss",
    "Explanation",
    "GaussianNLLLoss",
    "HingeEmbeddingLoss",
    "HuberLoss",
    "KLDivLoss",
    "L1Loss",
    "Loss",
    "MSELoss",
    "MarginRankingLoss",
    "MultiLabelMarginLoss",
    "MultiLabelSoftMarginLoss",
    "MultiMarginLoss",
    "NLLLoss",
    "PoissonNLLLoss",
    "SmoothL1Loss",
    "SoftMarginLoss",
    "TripletMarginLoss",
    "TripletMarginWithDistanceLoss",
    "__version__",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cosine_embedding_loss",
    "cross_entropy",
    "ctc_loss",
    "explain",
    "gaussian_nll_loss",
    "grad",
    "hinge_embedding_loss",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "margin_ranking_loss",
    "mse_loss",
    "multi_margin_loss",
    "multilabel_margin_loss",
    "multilabel_soft_margin_loss",
    "nll_loss",
    "pairwise_distance",
    "poisson_nll_loss",
    "smooth_l1_loss",
    "soft_margin_loss",
    "triplet_margin_loss",
    "triplet_margin_with_distance_loss",
    "value_and_grad",
]
