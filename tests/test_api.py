"""The public API mirrors torch's: names, signatures, defaults, classes, repr."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import losskit
import losskit.cli.catalog

torch = pytest.importorskip("torch")

FUNCTIONS = ["l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss", "poisson_nll_loss", "kl_div",
             "margin_ranking_loss", "multilabel_margin_loss", "cross_entropy", "nll_loss",
             "binary_cross_entropy", "binary_cross_entropy_with_logits", "soft_margin_loss",
             "multilabel_soft_margin_loss", "multi_margin_loss", "gaussian_nll_loss",
             "hinge_embedding_loss", "cosine_embedding_loss", "triplet_margin_loss",
             "triplet_margin_with_distance_loss", "ctc_loss", "linear_cross_entropy"]
CLASSES = ["L1Loss", "MSELoss", "SmoothL1Loss", "HuberLoss", "PoissonNLLLoss", "KLDivLoss",
           "MarginRankingLoss", "MultiLabelMarginLoss", "CrossEntropyLoss", "NLLLoss", "BCELoss",
           "BCEWithLogitsLoss", "SoftMarginLoss", "MultiLabelSoftMarginLoss", "MultiMarginLoss",
           "GaussianNLLLoss", "HingeEmbeddingLoss", "CosineEmbeddingLoss", "TripletMarginLoss",
           "TripletMarginWithDistanceLoss", "CTCLoss", "LinearCrossEntropyLoss",
           "AdaptiveLogSoftmaxWithLoss"]


def _params(fn):
    return [(p.name, p.default, p.kind) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_signature_is_torchs(name):
    assert _params(getattr(losskit, name)) == _params(getattr(torch.nn.functional, name))


@pytest.mark.parametrize("name", CLASSES)
def test_class_constructor_signature_is_torchs(name):
    ours = _params(getattr(losskit, name).__init__)
    theirs = _params(getattr(torch.nn, name).__init__)
    assert ours == theirs


# torch's default TripletMarginWithDistanceLoss prints its PairwiseDistance submodule; the
# head family's constructors need sizes
@pytest.mark.parametrize("name", [c for c in CLASSES if c not in (
    "TripletMarginWithDistanceLoss", "LinearCrossEntropyLoss", "AdaptiveLogSoftmaxWithLoss")])
def test_default_repr_reads_like_torchs(name):
    assert repr(getattr(losskit, name)()) == repr(getattr(torch.nn, name)())


def test_repr_shows_the_options_that_differ_from_the_defaults():
    assert repr(losskit.SmoothL1Loss(reduction="sum", beta=0.5)) == (
        "SmoothL1Loss(reduction='sum', beta=0.5)"
    )
    assert repr(losskit.PoissonNLLLoss(log_input=False)) == "PoissonNLLLoss(log_input=False)"


def test_instances_are_callable_and_forward_is_call():
    x, y = np.array([2.0, 4.0, 6.0]), np.array([1.0, 3.0, 5.0])
    loss = losskit.MSELoss(reduction="sum")
    assert float(loss(x, y)) == float(loss.forward(x, y)) == 3.0
    assert loss.options() == {"reduction": "sum"}


def test_value_and_grad_accepts_an_instance_and_uses_its_options():
    x, y = np.array([2.0, 4.0, 6.0]), np.array([1.0, 3.0, 5.0])
    value, (dx, dy) = losskit.value_and_grad(losskit.SmoothL1Loss(reduction="sum", beta=2.0), x, y)
    # d = 1 < beta = 2: L = 0.5 d² / 2 = 0.25 each, dL/dx = d / beta = 0.5
    assert float(value) == 0.75
    np.testing.assert_array_equal(dx, [0.5, 0.5, 0.5])
    np.testing.assert_array_equal(dy, [-0.5, -0.5, -0.5])


def test_legacy_constructor_arguments_map_and_warn_at_construction():
    with pytest.warns(UserWarning, match="please use reduction='sum' instead"):
        loss = losskit.L1Loss(size_average=False)
    assert loss.reduction == "sum"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss(np.ones(2), np.zeros(2))  # no warning at call time


def test_poisson_class_is_called_with_log_input_first_like_torch():
    x, y = np.array([2.0, 4.0, 6.0]), np.array([1.0, 3.0, 5.0])
    ours = losskit.PoissonNLLLoss(log_input=False)(x, y)
    theirs = torch.nn.PoissonNLLLoss(log_input=False)(torch.tensor(x), torch.tensor(y))
    assert float(ours) == pytest.approx(float(theirs), rel=1e-12)  # -0.6036, the tutorial example


def test_grad_returns_gradients_only_and_grad_output_scales():
    x, y = np.array([1.0, 2.0]), np.array([0.0, 0.0])
    (dx, dy) = losskit.grad(losskit.mse_loss, x, y, grad_output=3.0, reduction="sum")
    np.testing.assert_array_equal(dx, 3.0 * 2 * x)  # d/dx sum (x-y)² = 2(x-y)
    np.testing.assert_array_equal(dy, -dx)


def test_all_exports():
    assert sorted(losskit.__all__) == sorted(set(losskit.__all__))
    for name in FUNCTIONS + CLASSES + ["value_and_grad", "grad"]:
        assert name in losskit.__all__


def test_weighted_classes_store_their_weights_and_pass_them():
    w = np.array([1.0, 2.0, 0.5])
    x, t = np.array([[0.1, 0.9, -0.3], [1.0, 0.0, 0.2]]), np.array([1, 2])
    loss = losskit.CrossEntropyLoss(weight=w, label_smoothing=0.1)
    assert loss.options() == {"weight": w, "ignore_index": -100, "reduction": "mean",
                              "label_smoothing": 0.1}
    theirs = torch.nn.CrossEntropyLoss(weight=torch.tensor(w), label_smoothing=0.1)(
        torch.tensor(x), torch.tensor(t))
    assert float(loss(x, t)) == pytest.approx(float(theirs), rel=1e-12)
    value, (dx, dt) = losskit.value_and_grad(loss, x, t)
    assert float(value) == float(loss(x, t))
    assert dt is None and dx.shape == x.shape


def test_all_23_torch_losses_exist():
    # every class of torch.nn named ...Loss (torch 2.13 to 2.15: the 21 classic ones,
    # LinearCrossEntropyLoss and AdaptiveLogSoftmaxWithLoss)
    names = {n for n in dir(torch.nn) if n.endswith("Loss") and n != "_Loss"}
    assert len(names) == 23
    assert names <= set(losskit.__all__)
    assert set(CLASSES) == names and len(FUNCTIONS) == 22  # the adaptive loss has no function
    assert len(losskit.cli.catalog.ENTRIES) == 23


def test_pairwise_distance_matches_torch():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4, 3)), rng.normal(size=(1, 3))
    for p, keepdim in [(2.0, False), (1.0, True), (3.5, False)]:
        ours = losskit.pairwise_distance(a, b, p=p, keepdim=keepdim)
        theirs = torch.nn.functional.pairwise_distance(torch.tensor(a), torch.tensor(b), p=p,
                                                       keepdim=keepdim)
        np.testing.assert_allclose(ours, theirs.numpy())
