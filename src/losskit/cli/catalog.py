"""What the command line and ``explain`` say about each loss: its class, family, a one-line
description, the formula of one term and the classic pitfalls.

The numbers are never written here: they are computed by the losses themselves.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable
from dataclasses import dataclass

from .. import nn
from ..functional import (
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
    poisson_nll_loss,
    smooth_l1_loss,
    soft_margin_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)

_BROADCAST = ("a target of another shape is broadcast (torch warns); (N, 1) against (N,) gives "
              "an N×N matrix of terms, almost always a bug.")
_MEAN_ALL = "'mean' averages over every element of every dimension, not per sample."
_LOG_PROBS = ("input must be log-probabilities (log_softmax); given logits or probabilities it "
              "silently computes another number.")
_WEIGHTED_MEAN = ("with class weights, 'mean' divides by the sum of the weights of the targets "
                  "(ignored targets excluded), not by N.")


@dataclass(frozen=True)
class Entry:
    """One loss as the command line and ``explain`` present it."""

    function: Callable
    cls: type
    summary: str
    formula: str
    pitfalls: tuple[str, ...]
    # positional arrays that hold integers (class indices, lengths); the rest are real-valued
    index_arrays: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.function.__name__

    @property
    def family(self) -> str:
        """The loss's family: the name of its module in ``losskit.losses``."""
        return self.function.__module__.rsplit(".", 1)[-1]

    @property
    def arrays(self) -> tuple[str, ...]:
        """The positional array parameters, in torch's order."""
        return tuple(n for n, p in inspect.signature(self.function).parameters.items()
                     if p.default is inspect.Parameter.empty
                     and p.kind is not inspect.Parameter.KEYWORD_ONLY)

    @property
    def options(self) -> dict[str, inspect.Parameter]:
        return {n: p for n, p in inspect.signature(self.function).parameters.items()
                if n not in self.arrays}


_ENTRIES = [
    Entry(l1_loss, nn.L1Loss, "mean absolute error |x - y|",
          "l = |x - y|  (times weight, if given)", (_MEAN_ALL, _BROADCAST)),
    Entry(mse_loss, nn.MSELoss, "mean squared error (x - y)²",
          "l = (x - y)²  (times weight, if given)",
          (_MEAN_ALL, _BROADCAST, "this is the mean squared error, not its square root "
           "(RMSE).")),
    Entry(smooth_l1_loss, nn.SmoothL1Loss,
          "quadratic below beta, linear above (the Fast R-CNN box loss)",
          "l = 0.5·(x - y)²/beta  if |x - y| < beta,  else |x - y| - 0.5·beta",
          ("at |x - y| = beta exactly the linear branch applies.",
           "the quadratic branch is divided by beta, so smooth_l1(beta) = huber(delta=beta) / "
           "beta; beta = 0 is l1_loss.", _BROADCAST)),
    Entry(huber_loss, nn.HuberLoss,
          "quadratic below delta, linear above (robust regression)",
          "l = 0.5·(x - y)²  if |x - y| < delta,  else delta·(|x - y| - 0.5·delta)",
          ("huber(delta) = delta · smooth_l1(beta=delta): the two differ by the factor delta.",
           "with a weight, 'mean' divides the weighted sum by the number of elements, not by "
           "the sum of the weights (unlike l1_loss and mse_loss).", _BROADCAST)),
    Entry(poisson_nll_loss, nn.PoissonNLLLoss,
          "negative log-likelihood of counts under a Poisson rate",
          "l = exp(x) - y·x  (log_input=True),  x - y·log(x + eps)  (log_input=False)"
          "  [+ y·log y - y + 0.5·log(2πy) where y > 1, if full]",
          ("log_input=True (the default) reads input as the log of the rate; pass rates with "
           "log_input=False.",
           "full=True does not mean 'all samples': it adds Stirling's approximation of log(y!) "
           "for targets above 1 only.",
           "the terms are a likelihood up to a constant, so they can be negative.")),
    Entry(gaussian_nll_loss, nn.GaussianNLLLoss,
          "negative log-likelihood under a Gaussian with predicted variance",
          "l = 0.5·(log max(var, eps) + (x - y)² / max(var, eps))  [+ 0.5·log(2π) if full]",
          ("var is a variance, not a standard deviation; values below eps are clamped (and get "
           "no gradient).",
           "var may omit the last dimension or have size 1 there (one variance per sample).")),
    Entry(kl_div, nn.KLDivLoss,
          "Kullback-Leibler divergence KL(target ‖ exp(input))",
          "l = y·(log y - x)  (x = log q; with log_target=True: exp(y)·(y - x))",
          ("input must be log-probabilities and target probabilities (log-probabilities with "
           "log_target=True): kl_div(log q, p) = KL(p ‖ q), the reverse of the argument order "
           "one reads.",
           "'mean' divides by every element (batch × classes), which is not the KL divergence; "
           "'batchmean' divides by the batch size and is. For 1-D input the two agree.")),
    Entry(margin_ranking_loss, nn.MarginRankingLoss,
          "pairwise ranking: input1 should beat input2 by margin where target = 1",
          "l = max(0, margin - y·(x1 - x2))",
          ("target 1 means input1 should rank higher, -1 input2; with margin 0 (the default) a "
           "tie costs nothing.", _MEAN_ALL)),
    Entry(hinge_embedding_loss, nn.HingeEmbeddingLoss,
          "similar pairs (y = 1) pay their distance, dissimilar ones (y = -1) the margin shortfall",
          "l = x  if y = 1;  max(0, margin - x)  if y = -1;  their sum for any other y",
          ("input is a distance (non-negative), target ±1: a 0/1 target makes every 0 pay "
           "x + max(0, margin - x).",)),
    Entry(cosine_embedding_loss, nn.CosineEmbeddingLoss,
          "pulls pairs with target 1 to cosine 1, pushes target -1 below margin",
          "l = 1 - cos(x1, x2)  if y = 1;  max(0, cos(x1, x2) - margin)  if y = -1",
          ("the margin is on the cosine, in [-1, 1]; 0 to 0.5 is usual.",
           "target must be ±1: any other value gives 0 loss.")),
    Entry(triplet_margin_loss, nn.TripletMarginLoss,
          "anchor nearer the positive than the negative by margin (p-norm distances)",
          "l = max(0, d(a, p) - d(a, n) + margin),  d(u, v) = ‖u - v + eps‖_p",
          ("eps is added to the difference, so d(u, u) = eps·D^(1/p), not 0.",
           "swap=True uses d(p, n) instead of d(a, n) where it is smaller.")),
    Entry(triplet_margin_with_distance_loss, nn.TripletMarginWithDistanceLoss,
          "the triplet loss with any distance function (default: pairwise_distance)",
          "l = max(0, d(a, p) - d(a, n) + margin)",
          ("there is no p or eps: pass a distance_function (the default is pairwise_distance, "
           "eps = 1e-6).",)),
    Entry(cross_entropy, nn.CrossEntropyLoss,
          "softmax cross-entropy of logits against class indices or class probabilities",
          "l_n = -w[y_n]·log softmax(x_n)[y_n]  (indices),  -Σ_c w_c·y_nc·log softmax(x_n)_c  "
          "(probabilities)",
          ("input is raw logits: applying softmax first computes a different, flatter loss.",
           "an integer target holds class indices, a float target of the input's shape holds "
           "probabilities; the class dimension is dim 1 of (N, C, d1, ...).", _WEIGHTED_MEAN,
           "label_smoothing mixes the target with the uniform distribution before the loss."),
          ("target",)),
    Entry(nll_loss, nn.NLLLoss,
          "negative log-likelihood of the target class given log-probabilities",
          "l_n = -w[y_n]·x_n[y_n]",
          (_LOG_PROBS, _WEIGHTED_MEAN, "targets equal to ignore_index (default -100) are "
           "skipped and leave the divisor."), ("target",)),
    Entry(binary_cross_entropy, nn.BCELoss,
          "binary cross-entropy of probabilities",
          "l = -w·(y·log x + (1 - y)·log(1 - x)),  each log clamped at -100",
          ("input must be probabilities in [0, 1] (apply sigmoid); binary_cross_entropy_with_"
           "logits takes logits and is numerically safer.",
           "weight rescales elements (broadcast over the input), it is not a per-class or "
           "positive-class weight.")),
    Entry(binary_cross_entropy_with_logits, nn.BCEWithLogitsLoss,
          "binary cross-entropy of logits (sigmoid inside, stable)",
          "l = -w·(pos_weight·y·log σ(x) + (1 - y)·log(1 - σ(x)))",
          ("input is logits, not probabilities.",
           "pos_weight multiplies the positive term and broadcasts along the last dimension "
           "(one weight per class); weight rescales whole elements.")),
    Entry(soft_margin_loss, nn.SoftMarginLoss,
          "logistic loss of scores against ±1 labels",
          "l = log(1 + exp(-y·x))",
          ("target must be ±1, not 0/1: a 0 target gives log 2 whatever the score.",
           _MEAN_ALL)),
    Entry(multilabel_margin_loss, nn.MultiLabelMarginLoss,
          "hinge loss between every target class and every non-target class",
          "l_n = Σ_{j ∈ targets} Σ_{i ∉ targets} max(0, 1 - (x[j] - x[i])) / C",
          ("target holds class indices padded with -1 ([0, 3, -1, -1]), not a multi-hot "
           "vector ([1, 0, 0, 1] is the format of multilabel_soft_margin_loss); everything after "
           "the first -1 is ignored.",
           "each sample is divided by the number of classes C, not by the number of pairs."),
          ("target",)),
    Entry(multilabel_soft_margin_loss, nn.MultiLabelSoftMarginLoss,
          "one logistic loss per class against a multi-hot target",
          "l_n = -Σ_c w_c·(y_c·log σ(x_c) + (1 - y_c)·log σ(-x_c)) / C",
          ("target is multi-hot (0/1 per class), not a list of indices (that is "
           "multilabel_margin_loss's format).",)),
    Entry(multi_margin_loss, nn.MultiMarginLoss,
          "multi-class hinge loss (the SVM loss) on class scores",
          "l_n = Σ_{i ≠ y} w[y]·max(0, margin - x[y] + x[i])^p / C",
          ("target holds class indices; p is 1 or 2.",
           "the weight of the target class multiplies all its terms, and each sample is divided "
           "by C; 'mean' then divides by N, not by the sum of the weights."), ("target",)),
    Entry(ctc_loss, nn.CTCLoss,
          "connectionist temporal classification over unsegmented sequences",
          "l_n = -log Σ_{alignments a → target_n} Π_t exp(log_probs[t, n, a_t])",
          ("log_probs is time-first (T, N, C) and must be log_softmax'ed.",
           "'mean' divides each loss by its target length, then averages over the batch.",
           "an impossible alignment (input too short) gives inf; zero_infinity=True makes it 0."),
          ("targets", "input_lengths", "target_lengths")),
    Entry(linear_cross_entropy, nn.LinearCrossEntropyLoss,
          "cross-entropy of a linear head's logits, never forming the (N, C) logits",
          "l_n = cross_entropy(input_n @ linear_weightᵀ + linear_bias, target_n), computed "
          "in chunks of rows",
          ("linear_weight is (C, in_features), as nn.Linear stores it, not its transpose.",
           "losskit chunks even with options=None (torch forms the whole logits then); the "
           "values agree to rounding.", _WEIGHTED_MEAN),
          ("target",)),
    Entry(adaptive_log_softmax_with_loss, nn.AdaptiveLogSoftmaxWithLoss,
          "the adaptive softmax: a head over frequent classes and clusters, a tail per "
          "cluster",
          "l_n = -[log p_head(t_n, or t_n's cluster) + log p_tail(t_n | cluster)]",
          ("cutoffs exclude n_classes; the last cluster's tail output size fixes it.",
           "the module returns (output, loss): output is each row's log-probability, loss "
           "its negated mean (the module has no reduction; the function's 'none' is "
           "-output).",
           "a target outside [0, n_classes) raises (torch: after computing)."),
          ("target",)),
]

#: the families in the order of the documentation and of ``losskit list``
FAMILIES = ("regression", "likelihood", "divergence", "categorical", "binary", "multilabel",
            "embedding", "triplet", "sequence", "head")
ENTRIES: dict[str, Entry] = {
    e.name: e for e in sorted(_ENTRIES, key=lambda e: FAMILIES.index(e.family))}
_BY_CLASS = {e.cls.__name__: e for e in _ENTRIES}
_BY_FUNCTION = {e.function: e for e in _ENTRIES}


# common short names, offered as suggestions (never silently accepted)
_ALIASES = {"bce": "binary_cross_entropy", "bcelogits": "binary_cross_entropy_with_logits",
            "bcewithlogits": "binary_cross_entropy_with_logits", "ce": "cross_entropy",
            "kl": "kl_div", "kld": "kl_div", "kldiv": "kl_div", "rmse": "mse_loss",
            "mae": "l1_loss", "hinge": "hinge_embedding_loss", "svm": "multi_margin_loss",
            "triplet": "triplet_margin_loss"}


class UnknownLossError(ValueError):
    """A loss name that is neither a function nor a class of losskit."""


def lookup(name: str) -> Entry:
    """The entry for a function name (``mse_loss``) or class name (``MSELoss``); case and
    dashes are forgiven (``mseloss``, ``mse-loss``)."""
    # torch's spellings: nn.CrossEntropyLoss, F.cross_entropy, torch.nn.functional.mse_loss
    name = name.rsplit(".", 1)[-1] if "." in name.strip(".") else name
    if name in ENTRIES:
        return ENTRIES[name]
    if name in _BY_CLASS:
        return _BY_CLASS[name]
    folded = {k.lower().replace("_", ""): e for k, e in {**ENTRIES, **_BY_CLASS}.items()}
    key = name.lower().replace("-", "").replace("_", "")
    for candidate in (key, key + "loss"):
        if candidate in folded:
            return folded[candidate]
    close = [_ALIASES[key]] if key in _ALIASES else []
    close += [n for n in ENTRIES if key and key in n.replace("_", "")]
    close += difflib.get_close_matches(name, list(ENTRIES), n=3, cutoff=0.6)
    close += [folded[c].name for c in difflib.get_close_matches(key, list(folded), n=3,
                                                                cutoff=0.7)]
    close = list(dict.fromkeys(close))[:3]
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    raise UnknownLossError(f"unknown loss {name!r}{hint} (losskit list shows all {len(ENTRIES)})")


def entry_of(fn: Callable | object) -> Entry:
    """The entry for a loss function or a loss instance (found by its class's function)."""
    entry = _BY_FUNCTION.get(fn) or _BY_FUNCTION.get(getattr(type(fn), "function", None))
    if entry is None:
        raise TypeError(f"explain: expected one of losskit's {len(ENTRIES)} loss functions or a "
                        f"loss instance, got {fn!r}")
    return entry
