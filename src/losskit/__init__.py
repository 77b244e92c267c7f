"""losskit: PyTorch's loss functions, with PyTorch's exact semantics, on any array library.

Every loss of ``torch.nn.functional`` and ``torch.nn`` (``losskit.mse_loss``,
``losskit.CrossEntropyLoss``, ...), also as ``losskit.functional`` and ``losskit.nn`` so that
torch code ports by changing one import, on NumPy, PyTorch, JAX, CuPy, Dask or
array-api-strict arrays. ``losskit.value_and_grad`` gives analytic gradients;
``losskit.explain`` shows how a value arises.

Families
--------
regression (l1, mse, smooth_l1, huber), likelihood (poisson_nll, gaussian_nll), divergence
(kl_div), categorical (cross_entropy, nll, multi_margin), binary (binary_cross_entropy,
binary_cross_entropy_with_logits, soft_margin), multilabel (multilabel_margin,
multilabel_soft_margin), embedding (margin_ranking, hinge_embedding, cosine_embedding),
triplet (triplet_margin, triplet_margin_with_distance), sequence (ctc), head (the losses that
own a linear head: linear_cross_entropy and AdaptiveLogSoftmaxWithLoss, whose classes hold
their weights as arrays; ``from_torch(module)`` ports a trained torch module).

Reductions
----------
``reduction='none'`` returns the unreduced terms (elementwise, or per sample); ``'sum'`` their
sum (0 when empty); ``'mean'`` their sum over a divisor, ``nan`` when empty. The divisor is
the number of terms except: weighted ``l1_loss``/``mse_loss`` divide by ``Σ weight``;
``nll_loss`` and ``cross_entropy`` with class indices by the summed weights of the targets
that are not ``ignore_index``; ``ctc_loss`` divides each loss by its target length first,
then averages over the batch; ``kl_div``'s ``'batchmean'`` divides by ``input.shape[0]``. The
per-sample losses (multilabel, multi_margin) are already divided by the number of classes.
The deprecated ``size_average``/``reduce`` override ``reduction`` as in torch, with its
warning: ``reduce=False`` gives ``'none'``, else ``size_average=False`` ``'sum'``, else
``'mean'``.

Deviations
----------
losskit follows the newest torch (2.15); the deliberate differences: clearer ``TypeError``/
``ValueError``/``IndexError`` instead of ``RuntimeError``; empty batches give ``nan``/``0``
where torch returns uninitialised memory (multi_margin, multilabel_margin); ``ctc_loss``'s
gradient is the true derivative with respect to ``log_probs`` (torch's adds
``exp(log_probs)``; they agree through a log-softmax), and labels equal to ``blank`` or
outside ``[0, C)`` raise; ``soft_margin_loss`` does not overflow; multi-hot targets of
``multilabel_margin_loss`` raise; class indices may have any integer dtype; float16 is
computed in float32 and rounded once (torch's composite losses round every intermediate);
at exactly the margin the ``clamp_min`` losses give no gradient, as torch 2.14 and later do.
The full list with reasons is ``docs/deviations.md`` in the source distribution.
"""

from ._core.gradients import grad, value_and_grad
from ._version import __version__
from .cli.explain import Explanation, explain
from .functional import (
    adaptive_log_softmax_with_loss,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cosine_embedding_loss,
    cross_entropy,
    ctc_loss,
    gaussian_nll_loss,
    hinge_embedding_loss,
    huber_loss,
    kl_div,
    l1_loss,
    linear_cross_entropy,
    margin_ranking_loss,
    mse_loss,
    multi_margin_loss,
    multilabel_margin_loss,
    multilabel_soft_margin_loss,
    nll_loss,
    pairwise_distance,
    poisson_nll_loss,
    smooth_l1_loss,
    soft_margin_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from .nn import (
    AdaptiveLogSoftmaxWithLoss,
    BCELoss,
    BCEWithLogitsLoss,
    CosineEmbeddingLoss,
    CrossEntropyLoss,
    CTCLoss,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    LinearCrossEntropyLoss,
    LinearCrossEntropyOptions,
    Loss,
    MarginRankingLoss,
    MSELoss,
    MultiLabelMarginLoss,
    MultiLabelSoftMarginLoss,
    MultiMarginLoss,
    NLLLoss,
    PoissonNLLLoss,
    SmoothL1Loss,
    SoftMarginLoss,
    TripletMarginLoss,
    TripletMarginWithDistanceLoss,
)

__all__ = [
    "AdaptiveLogSoftmaxWithLoss",
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
    "LinearCrossEntropyLoss",
    "LinearCrossEntropyOptions",
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
    "adaptive_log_softmax_with_loss",
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
    "value_and_grad",
]
