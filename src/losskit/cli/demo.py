"""``losskit demo`` and its built-in examples: the tutorial's seven, then one for each of the
other sixteen losses.

Each example is a loss instance, NumPy arrays and one line on what the number means; the
numbers themselves are always computed (``{terms}`` and ``{total}`` in the meaning are filled
with the loss's ``reduction='none'`` terms and their sum). The tests compare every value with
torch.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .._core.stable import log_softmax as _log_softmax
from ..nn import (
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


@dataclass(frozen=True)
class Example:
    call: str
    inputs: str
    loss: Loss | LinearCrossEntropyLoss | AdaptiveLogSoftmaxWithLoss
    arrays: tuple[np.ndarray, ...]
    meaning: str
    tutorial: bool = False


def log_softmax(v: np.ndarray) -> np.ndarray:
    return _log_softmax(np, v)


def examples() -> list[Example]:
    """The tutorial's seven examples, then one for each further loss."""
    x, y = np.array([2.0, 4.0, 6.0]), np.array([1.0, 3.0, 5.0])
    logits = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]])
    return (_tutorial_examples(x, y) + _more_examples(y, logits) + _distance_examples()
            + _head_examples())


def _tutorial_examples(x: np.ndarray, y: np.ndarray) -> list[Example]:
    return [
        Example("L1Loss()(input, target)", "input = [2, 4, 6], target = [1, 3, 5]", L1Loss(),
                (x, y), "each prediction is off by exactly 1, so the mean absolute error is 1.",
                True),
        Example("MSELoss()(input, target)", "same input and target", MSELoss(), (x, y),
                "each squared error is 1² = 1; their mean is 1.", True),
        Example("SmoothL1Loss()(input, target)", "same input and target", SmoothL1Loss(), (x, y),
                "|error| = 1 is not below beta = 1, so each term is the linear branch "
                "1 - 0.5 = 0.5.", True),
        Example("PoissonNLLLoss(log_input=False, full=False, eps=1e-8)(input, target)",
                "same input and target", PoissonNLLLoss(log_input=False, full=False, eps=1e-8),
                (x, y),
                "terms x - y·log(x) = {terms}: unequal, and the default reduction 'mean'\n"
                "   makes one scalar of them (full=True would add log(y!) where y > 1).", True),
        Example("KLDivLoss(reduction='mean')(log_softmax([2, 4, 6]), target)",
                "target = [0.3, 0.5, 0.2]", KLDivLoss(reduction="mean"),
                (log_softmax(x), np.array([0.3, 0.5, 0.2])),
                "terms p·(log p - log q) = {terms} sum to {total}; 'mean' divides\n"
                "   by the 3 elements ('batchmean', the true KL per sample, agrees for 1-D "
                "input).", True),
        Example("MarginRankingLoss(margin=0.0)(input1, input2, target)",
                "input1 = [1, 2, 3], input2 = [2, 3, 4], target = [1, -1, 1]",
                MarginRankingLoss(margin=0.0),
                (np.array([1.0, 2.0, 3.0]), np.array([2.0, 3.0, 4.0]), np.array([1.0, -1, 1])),
                "pairs 1 and 3 want input1 > input2 but are 1 short: terms {terms}, mean 2/3.",
                True),
        Example("MultiLabelMarginLoss()(input, target)",
                "input = [[1, 2, 3, 4]], target = [[0, 3, -1, -1]]", MultiLabelMarginLoss(),
                (np.array([[1.0, 2.0, 3.0, 4.0]]), np.array([[0, 3, -1, -1]])),
                "targets {{0, 3}} vs non-targets {{1, 2}}: class 0 misses its margins by 2 + 3,\n"
                "   class 3 by 0; (5 + 0) / C = 5/4.", True),
    ]


def _more_examples(y: np.ndarray, logits: np.ndarray) -> list[Example]:
    return [
        Example("HuberLoss(delta=2.0)(input, target)", "input = [2, 4, 9], target = [1, 3, 5]",
                HuberLoss(delta=2.0), (np.array([2.0, 4.0, 9.0]), y),
                "errors 1, 1 are below delta: d²/2 = 0.5; the error 4 is linear: 2·(4 - 1) = 6;\n"
                "   terms {terms}, mean 7/3."),
        Example("CrossEntropyLoss()(logits, target)",
                "logits = [[2, 0.5, -1], [0.1, 0.2, 3]], target = [0, 2]", CrossEntropyLoss(),
                (logits, np.array([0, 2])),
                "-log softmax of each true class = {terms}; the mean over the 2 samples."),
        Example("NLLLoss()(log_softmax(logits), target)", "the same logits and target",
                NLLLoss(), (log_softmax(logits), np.array([0, 2])),
                "the same number: cross_entropy is log_softmax followed by nll_loss."),
        Example("BCELoss()(probabilities, target)",
                "probabilities = [0.9, 0.2, 0.6], target = [1, 0, 1]", BCELoss(),
                (np.array([0.9, 0.2, 0.6]), np.array([1.0, 0.0, 1.0])),
                "-log of the probability given to each true label = {terms}; their mean."),
        Example("BCEWithLogitsLoss()(logits, target)",
                "logits = [2.2, -1.4, 0.4] (sigmoid ≈ [0.9, 0.2, 0.6]), target = [1, 0, 1]",
                BCEWithLogitsLoss(), (np.array([2.2, -1.4, 0.4]), np.array([1.0, 0.0, 1.0])),
                "BCELoss of sigmoid(logits), computed without forming the probabilities."),
        Example("SoftMarginLoss()(scores, target)",
                "scores = [2, -0.5, 1], target = [1, 1, -1]", SoftMarginLoss(),
                (np.array([2.0, -0.5, 1.0]), np.array([1.0, 1.0, -1.0])),
                "log(1 + exp(-y·x)) = {terms}: small when the sign of the score is right."),
        Example("MultiLabelSoftMarginLoss()(scores, target)",
                "scores = [[1, -2, 0.5, 3]], multi-hot target = [[1, 0, 0, 1]]",
                MultiLabelSoftMarginLoss(),
                (np.array([[1.0, -2.0, 0.5, 3.0]]), np.array([[1.0, 0.0, 0.0, 1.0]])),
                "a logistic loss per class, averaged over the C = 4 classes."),
        Example("MultiMarginLoss()(scores, target)", "scores = [[0.1, 0.2, 0.4, 0.8]], "
                "target = [3]", MultiMarginLoss(),
                (np.array([[0.1, 0.2, 0.4, 0.8]]), np.array([3])),
                "class 3 beats the others by 0.7, 0.6 and 0.4, short of the margin 1 by\n"
                "   0.3 + 0.4 + 0.6 = 1.3; divided by C = 4."),
    ]


def _distance_examples() -> list[Example]:
    return [
        Example("GaussianNLLLoss()(mean, target, var)",
                "mean = [0, 1], target = [1, 1], var = [1, 0.5]", GaussianNLLLoss(),
                (np.array([0.0, 1.0]), np.array([1.0, 1.0]), np.array([1.0, 0.5])),
                "0.5·(log var + (mean - target)²/var) = {terms}: a miss costs less where the\n"
                "   predicted variance is large."),
        Example("HingeEmbeddingLoss()(distances, target)",
                "distances = [0.3, 1.5, 0.4], target = [1, -1, -1]", HingeEmbeddingLoss(),
                (np.array([0.3, 1.5, 0.4]), np.array([1.0, -1.0, -1.0])),
                "similar pairs pay their distance, dissimilar ones max(0, 1 - d): {terms}."),
        Example("CosineEmbeddingLoss()(a, b, target)",
                "a = [[1, 0], [1, 1]], b = [[1, 1], [1, 1]], target = [1, -1]",
                CosineEmbeddingLoss(),
                (np.array([[1.0, 0.0], [1.0, 1.0]]), np.array([[1.0, 1.0], [1.0, 1.0]]),
                 np.array([1.0, -1.0])),
                "1 - cos for the similar pair, max(0, cos) for the dissimilar one: {terms}."),
        Example("TripletMarginLoss()(anchor, positive, negative)",
                "anchor = [[0, 0]], positive = [[0, 1]], negative = [[1, 1]]",
                TripletMarginLoss(),
                (np.array([[0.0, 0.0]]), np.array([[0.0, 1.0]]), np.array([[1.0, 1.0]])),
                "d(a, p) - d(a, n) + 1 = 1 - 1.4142 + 1 (each distance with eps = 1e-6 added\n"
                "   to the difference)."),
        Example("TripletMarginWithDistanceLoss(distance_function=l1)(anchor, positive, "
                "negative)", "the same triplet, l1 = lambda x, y: |x - y|.sum(-1)",
                TripletMarginWithDistanceLoss(distance_function=_l1_distance),
                (np.array([[0.0, 0.0]]), np.array([[0.0, 1.0]]), np.array([[1.0, 1.0]])),
                "with the l1 distance the negative is 2 away, the positive 1: 1 - 2 + 1 = 0."),
        Example("CTCLoss()(log_probs, targets, input_lengths, target_lengths)",
                "3 steps of uniform log-probabilities over {blank, a}, target 'a', lengths "
                "[3], [1]", CTCLoss(),
                (np.log(np.full((3, 1, 2), 0.5)), np.array([[1]]), np.array([3]),
                 np.array([1])),
                "6 of the 8 alignments collapse to 'a': -log(6/8) = 0.2877, over the target\n"
                "   length 1."),
    ]


def _head_examples() -> list[Example]:
    w = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    tails = [(np.array([[1.0, 0.0]]), np.array([[1.0], [-1.0]]))]
    return [
        Example("LinearCrossEntropyLoss.init(W)(input, target)",
                "input = [[1, 2], [0.5, -1]], W = [[1, 0], [0, 1], [1, 1]], target = [1, 0]",
                LinearCrossEntropyLoss.init(w),
                (np.array([[1.0, 2.0], [0.5, -1.0]]), np.array([1, 0])),
                "cross_entropy of the logits input @ Wᵀ = [[1, 2, 3], [0.5, -1, -0.5]] "
                "(formed a chunk\n   of rows at a time): -log softmax of each true class = "
                "{terms}."),
        Example("AdaptiveLogSoftmaxWithLoss.init(head, tails, cutoffs=[2])(input, target)",
                "input = [[1, 0], [0, 1]], head = [[1, 0], [0, 1], [1, 1]], one cluster {2, 3} "
                "with tail [[1], [-1]] @ [[1, 0]], target = [0, 3]",
                AdaptiveLogSoftmaxWithLoss.init(w, tails, [2]),
                (np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0, 3])),
                "class 0 is in the head; class 3 is the cluster's probability times its own\n"
                "   within the cluster: -log p = {terms}, the loss their mean."),
    ]


def _l1_distance(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.abs(x - y).sum(axis=-1)


def _value_and_terms(example: Example) -> tuple[float, np.ndarray]:
    """The example's value and its terms (reduction='none'; the adaptive softmax's rows)."""
    loss = example.loss
    if isinstance(loss, AdaptiveLogSoftmaxWithLoss):
        output, value = loss(*example.arrays)
        return float(value), -output
    if isinstance(loss, LinearCrossEntropyLoss):
        x, target = example.arrays
        options = {k: v for k, v in loss.options().items() if k != "linear_weight"}
        terms = loss.function(x, loss.linear_weight, target, **{**options, "reduction": "none"})
        return float(loss(x, target)), terms
    return float(loss(*example.arrays)), type(loss)(**{**loss.options(),
                                                         "reduction": "none"})(*example.arrays)


def demo() -> int:
    """Print the tutorial's seven examples, then one per further loss, with their values."""
    print("losskit demo: the loss-function tutorial's seven examples, then one example of each")
    print("further loss, computed by losskit on NumPy arrays. torch gives the same numbers.")
    for number, example in enumerate(examples(), start=1):
        if number == 1 or (not example.tutorial and examples()[number - 2].tutorial):
            title = "The tutorial's examples" if example.tutorial else "More losses"
            print(f"\n{title}\n")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # kl_div's 'mean' warning is explained instead
            value, terms = _value_and_terms(example)
        shown = "[" + ", ".join(f"{t:.4f}" for t in np.reshape(terms, -1)) + "]"
        meaning = example.meaning.format(terms=shown, total=f"{float(np.sum(terms)):.4f}")
        print(f"{number}. {example.call}")
        print(f"   {example.inputs}")
        print(f"   = {value:.4f}")
        print(f"   {meaning}\n")
    print("See how any of these arises: losskit explain LOSS ARRAY... (losskit --help).")
    return 0
