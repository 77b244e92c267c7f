"""Rules every loss follows: reductions, legacy arguments, argument types, empty inputs.

Expected values come from torch (called side by side) unless a comment derives them.
"""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np
import pytest

import losskit

from torch_helpers import both

torch = pytest.importorskip("torch")
F = torch.nn.functional


X = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])


PAIR = ("l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss", "poisson_nll_loss", "kl_div",
        "multilabel_margin_loss")


def _args(name):
    if name == "multilabel_margin_loss":
        return X, np.array([[0, -1, -1], [2, 1, -1]])
    if name == "margin_ranking_loss":
        return X, X, np.ones_like(X)
    return X, X


@pytest.mark.parametrize("name", [*PAIR, "margin_ranking_loss"])
@pytest.mark.parametrize(
    ("reduction", "hint"),
    [("foo", ""), ("Mean", "lower case"), ("batchmean", "kl_div only"), (None, "")],
)
def test_invalid_reduction(name, reduction, hint):
    if name == "kl_div" and reduction == "batchmean":
        return
    with pytest.raises(ValueError, match=rf"{name}: invalid value for argument `reduction`. "
                       rf"Expected one of .*Received: reduction={reduction!r}.*{hint}"):
        getattr(losskit, name)(*_args(name), reduction=reduction)


@pytest.mark.parametrize("name", ["l1_loss", "mse_loss", "huber_loss", "poisson_nll_loss",
                                  "multilabel_soft_margin_loss"])
def test_elementwise_mean_refused_where_torch_refuses_it(name):
    options = {"weight": np.ones_like(X)} if name in ("l1_loss", "mse_loss", "huber_loss") else {}
    with pytest.raises(ValueError, match="Received: reduction='elementwise_mean'"):
        getattr(losskit, name)(X, X, reduction="elementwise_mean", **options)


@pytest.mark.parametrize("name", ["l1_loss", "mse_loss", "poisson_nll_loss", "kl_div"])
def test_shapes_that_do_not_broadcast(name):
    with pytest.raises(ValueError, match=rf"{name}: input of shape \(2, 3\) and target of "
                       r"shape \(4,\) cannot be broadcast together"):
        with pytest.warns(UserWarning) if name in ("l1_loss", "mse_loss") else nullcontext():
            getattr(losskit, name)(X, np.ones(4), reduction="sum")


def test_option_types():
    with pytest.raises(TypeError, match=r"smooth_l1_loss: `beta` must be a real number, got str"):
        losskit.smooth_l1_loss(X, X, beta="1")
    with pytest.raises(TypeError, match=r"poisson_nll_loss: `log_input` must be True or False"):
        losskit.poisson_nll_loss(X, X, log_input="yes")
    with pytest.raises(TypeError, match=r"HuberLoss: `delta` must be a float or int"):
        losskit.HuberLoss(delta="1")


@pytest.mark.parametrize("name", ["mse_loss", "smooth_l1_loss"])
def test_integer_inputs_refused_where_torch_refuses_them(name):
    """torch computes an integer operand beside a floating one, but not two integers (its
    kernels have no integer version)."""
    ints = np.array([1, 2])
    with pytest.raises(TypeError, match=rf"{name}: needs a floating-point input or target, "
                       r"got int64 and int64"):
        getattr(losskit, name)(ints, ints, reduction="sum")
    with pytest.raises((RuntimeError, NotImplementedError)):
        getattr(F, name)(torch.tensor(ints), torch.tensor(ints), reduction="sum")


def test_kl_div_refuses_integers_on_either_side():
    with pytest.raises(TypeError, match=r"kl_div: `input` must be a floating-point array, "
                       r"got dtype int64; cast it first"):
        losskit.kl_div(np.array([1, 2]), np.array([1.0, 2.0]), reduction="sum")
    with pytest.raises(TypeError, match=r"kl_div: `target` must be a floating-point array"):
        losskit.kl_div(np.array([1.0, 2.0]), np.array([1, 2]), reduction="sum")


def test_bool_and_complex_inputs():
    with pytest.raises(TypeError, match=r"l1_loss: `input` has dtype bool"):
        losskit.l1_loss(np.array([True]), np.array([False]))
    with pytest.raises(TypeError, match=r"mse_loss: `input` must be real, got dtype complex128"):
        losskit.mse_loss(np.array([1j]), np.array([1j]))


def test_non_arrays_and_mixed_libraries():
    with pytest.raises(TypeError, match=r"l1_loss: `input` must be an array .*got list; "
                       r"convert it first"):
        losskit.l1_loss([1.0, 2.0], np.array([1.0, 2.0]))
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"mse_loss: all arrays must come from one array "
                       r"library, got input: numpy.ndarray, target: torch.Tensor"):
        losskit.mse_loss(np.ones(2), torch.ones(2))


def test_value_and_grad_errors():
    with pytest.raises(TypeError, match=r"value_and_grad: `fn` must be a losskit loss"):
        losskit.value_and_grad(np.sum, X)
    with pytest.raises(TypeError, match=r"options \['reduction'\] were given with a loss "
                       r"instance"):
        losskit.value_and_grad(losskit.MSELoss(), X, X, reduction="sum")
    with pytest.raises(ValueError, match=r"`grad_output` must have the value's shape \(\), "
                       r"got \(2,\)"):
        losskit.value_and_grad(losskit.mse_loss, X, X, grad_output=np.ones(2))


def test_class_reduction_is_checked_on_call_like_torch():
    loss = losskit.L1Loss(reduction="foo")  # constructs, as torch's does
    with pytest.raises(ValueError, match=r"l1_loss: invalid value for argument `reduction`"):
        loss(X, X)


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss", "binary_cross_entropy",
                                  "binary_cross_entropy_with_logits", "soft_margin_loss",
                                  "multilabel_soft_margin_loss", "multi_margin_loss"])
def test_integer_input_refused(name):
    target = np.array([0, 1]) if name in ("cross_entropy", "nll_loss",
                                          "multi_margin_loss") else np.ones((2, 3))
    with pytest.raises(TypeError, match=rf"{name}: `input` must be a floating-point array"):
        getattr(losskit, name)(np.ones((2, 3), np.int64), target)


LEGACY = [(None, True), (None, False), (True, None), (True, False), (False, None),
          (False, True), (False, False)]


@pytest.mark.parametrize(("size_average", "reduce"), LEGACY)
@pytest.mark.parametrize(
    "name",
    ["l1_loss", "mse_loss", "smooth_l1_loss", "poisson_nll_loss", "kl_div",
     "margin_ranking_loss", "multilabel_margin_loss"],
)
def test_legacy_arguments_map_like_torch_and_warn(name, size_average, reduce):
    rng = np.random.default_rng(0)
    if name == "margin_ranking_loss":
        arrays = [rng.normal(size=4), rng.normal(size=4), np.array([1.0, -1, 1, -1])]
    elif name == "multilabel_margin_loss":
        arrays = [rng.normal(size=(2, 3)), np.array([[0, 2, -1], [1, -1, 0]])]
    else:
        arrays = [rng.uniform(0.1, 1, size=4), rng.uniform(0.1, 1, size=4)]
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        ours = getattr(losskit, name)(*arrays, size_average=size_average, reduce=reduce,
                                      reduction="sum")
    _, theirs = both(name, *arrays, size_average=size_average, reduce=reduce, reduction="sum")
    np.testing.assert_allclose(np.asarray(ours), theirs)


def test_elementwise_mean_is_an_alias_with_a_warning():
    x, y = np.array([1.0, 2.0]), np.array([0.0, 0.0])
    with pytest.warns(UserWarning, match="elementwise_mean' is deprecated"):
        assert float(losskit.l1_loss(x, y, reduction="elementwise_mean")) == 1.5


def test_empty_inputs_give_nan_mean_and_zero_sum():
    for name in ("l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss", "poisson_nll_loss"):
        e = np.zeros((0, 3))
        assert np.isnan(losskit.__dict__[name](e, e))
        assert float(losskit.__dict__[name](e, e, reduction="sum")) == 0.0
    x = np.zeros((0, 4))
    assert np.isnan(losskit.multilabel_margin_loss(x, np.zeros((0, 4), np.int64)))
