"""Every loss function, as ``torch.nn.functional`` has them: ``import losskit.functional as F``
ports torch code by changing one import. The functions live in ``losskit.losses``, one module
per family."""

from .losses.binary import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    soft_margin_loss,
)
from .losses.categorical import cross_entropy, multi_margin_loss, nll_loss
from .losses.divergence import kl_div
from .losses.embedding import cosine_embedding_loss, hinge_embedding_loss, margin_ranking_loss
from .losses.head import adaptive_log_softmax_with_loss, linear_cross_entropy
from .losses.likelihood import gaussian_nll_loss, poisson_nll_loss
from .losses.multilabel import multilabel_margin_loss, multilabel_soft_margin_loss
from .losses.regression import huber_loss, l1_loss, mse_loss, smooth_l1_loss
from .losses.sequence import ctc_loss
from .losses.triplet import (
    pairwise_distance,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)

__all__ = [
    "adaptive_log_softmax_with_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cosine_embedding_loss",
    "cross_entropy",
    "ctc_loss",
    "gaussian_nll_loss",
    "hinge_embedding_loss",
    "huber_loss",
    "kl_div",
    "l1_loss",
    "linear_cross_entropy",
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
]
