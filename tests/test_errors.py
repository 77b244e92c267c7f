"""Every check: the error type and a message naming function, argument, expectation, value."""

from __future__ import annotations

import numpy as np
import pytest

import losskit

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
        with pytest.warns(UserWarning) if name in ("l1_loss", "mse_loss") else _nothing():
            getattr(losskit, name)(X, np.ones(4), reduction="sum")


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.parametrize("name", ["l1_loss", "mse_loss", "huber_loss"])
def test_weight_must_have_the_input_shape(name):
    with pytest.raises(ValueError, match=rf"{name}: `weight` must have exactly the input's "
                       r"shape \(2, 3\), got \(3,\)"):
        getattr(losskit, name)(X, X, weight=np.ones(3))


@pytest.mark.parametrize("beta", [-1.0, float("nan")])
def test_negative_or_nan_beta(beta):
    with pytest.raises(ValueError, match=r"smooth_l1_loss: `beta` must be at least 0.0, got"):
        losskit.smooth_l1_loss(X, X, beta=beta)


@pytest.mark.parametrize("delta", [0.0, -2])
def test_non_positive_delta(delta):
    with pytest.raises(ValueError, match=r"huber_loss: `delta` must be greater than 0.0, got"):
        losskit.huber_loss(X, X, delta=delta)


def test_option_types():
    with pytest.raises(TypeError, match=r"smooth_l1_loss: `beta` must be a real number, got str"):
        losskit.smooth_l1_loss(X, X, beta="1")
    with pytest.raises(TypeError, match=r"poisson_nll_loss: `log_input` must be True or False"):
        losskit.poisson_nll_loss(X, X, log_input="yes")
    with pytest.raises(TypeError, match=r"HuberLoss: `delta` must be a float or int"):
        losskit.HuberLoss(delta="1")


@pytest.mark.parametrize("name", ["mse_loss", "smooth_l1_loss", "kl_div"])
def test_integer_inputs_refused_where_torch_refuses_them(name):
    with pytest.raises(TypeError, match=rf"{name}: `input` must be a floating-point array, "
                       r"got dtype int64; cast it first"):
        getattr(losskit, name)(np.array([1, 2]), np.array([1.0, 2.0]), reduction="sum")


def test_huber_integer_input_refused():
    with pytest.raises(TypeError, match=r"huber_loss: `input` must be a floating-point array"):
        losskit.huber_loss(np.array([1, 2]), np.array([1.0, 2.0]))


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


def test_margin_ranking_needs_equal_ranks():
    with pytest.raises(ValueError, match=r"margin_ranking_loss: input1, input2, target must "
                       r"have the same number of dimensions, got input1 1-D \(3,\), input2 1-D "
                       r"\(3,\), target 2-D \(3, 1\)"):
        losskit.margin_ranking_loss(np.ones(3), np.ones(3), np.ones((3, 1)))


def test_margin_ranking_incompatible_shapes():
    with pytest.raises(ValueError, match=r"cannot be broadcast together"):
        losskit.margin_ranking_loss(np.ones(4), np.ones(3), np.ones(3))


class TestMultilabelMargin:
    x = np.array([[0.1, 0.2, 0.3, 0.4]])

    def test_out_of_range_targets(self):
        with pytest.raises(ValueError, match=r"multilabel_margin_loss: target must hold class "
                           r"indices padded with -1 \(e.g. \[0, 3, -1, -1\]\), got values "
                           r"outside \[-1, 3\] \(min -2, max 1\); a multi-hot vector like "
                           r"\[1, 0, 0, 1\] is the format of multilabel_soft_margin_loss"):
            losskit.multilabel_margin_loss(self.x, np.array([[1, -1, -2, 0]]))
        with pytest.raises(ValueError, match=r"outside \[-1, 3\] \(min -1, max 4\)"):
            losskit.multilabel_margin_loss(self.x, np.array([[4, -1, 0, 0]]))

    def test_multi_hot_target_is_detected_and_converted_in_the_message(self):
        with pytest.raises(ValueError, match=r"target row 0 is \[1, 0, 0, 1\], which looks like "
                           r"a multi-hot vector .* here \[0, 3, -1, -1\]. Multi-hot targets are "
                           r"the format of multilabel_soft_margin_loss"):
            losskit.multilabel_margin_loss(self.x, np.array([[1, 0, 0, 1]]))

    def test_float_targets(self):
        with pytest.raises(TypeError, match=r"`target` must be an integer array of class indices "
                           r"padded with -1 .* got dtype float64; a multi-hot vector"):
            losskit.multilabel_margin_loss(self.x, np.array([[1.0, 0, 0, 1]]))

    def test_target_shape(self):
        with pytest.raises(ValueError, match=r"target must have exactly the input's shape "
                           r"\(1, 4\) .* got \(4,\)"):
            losskit.multilabel_margin_loss(self.x, np.array([0, -1, -1, -1]))

    @pytest.mark.parametrize("shape", [(2, 3, 4), (2, 0)])
    def test_input_rank_and_classes(self, shape):
        with pytest.raises(ValueError, match=r"input must have shape \(C\) or \(N, C\) with "
                           r"C > 0, got"):
            losskit.multilabel_margin_loss(np.ones(shape), np.zeros(shape, np.int64))

    def test_integer_input(self):
        with pytest.raises(TypeError, match=r"`input` must be a floating-point array"):
            losskit.multilabel_margin_loss(np.ones((1, 3), np.int64), np.zeros((1, 3), np.int64))


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
