"""Properties that hold for any input (hypothesis), on NumPy and array-api-strict."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import losskit

POINTWISE = ["l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss", "poisson_nll_loss", "kl_div"]
finite = st.floats(-10, 10, allow_nan=False, width=64)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)


@st.composite
def pair(draw, positive_target=False):
    shape = draw(shapes)
    x = draw(hnp.arrays(np.float64, shape, elements=finite))
    elements = st.floats(0.01, 1.0, width=64) if positive_target else finite
    y = draw(hnp.arrays(np.float64, shape, elements=elements))
    return x, y


def _arrays(name, data):
    x, y = data
    if name == "kl_div":
        return x, y
    if name == "poisson_nll_loss":
        return x, np.abs(y)
    return x, y


def _call(name, *arrays, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(losskit, name)(*arrays, **options)


@pytest.mark.parametrize("name", POINTWISE)
@given(data=pair(positive_target=True))
@settings(max_examples=40, deadline=None)
def test_sum_is_mean_times_count_and_none_keeps_the_shape(name, data):
    x, y = _arrays(name, data)
    none = _call(name, x, y, reduction="none")
    assert none.shape == np.broadcast_shapes(x.shape, y.shape)
    total, mean = _call(name, x, y, reduction="sum"), _call(name, x, y, reduction="mean")
    if none.size:
        np.testing.assert_allclose(total, mean * none.size, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(total, np.sum(none), rtol=1e-9, atol=1e-9)
    else:
        assert np.isnan(mean) and total == 0


@pytest.mark.parametrize("name", ["l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss"])
@given(data=pair())
@settings(max_examples=30, deadline=None)
def test_zero_loss_and_gradient_where_input_equals_target(name, data):
    x, _ = data
    assert np.all(_call(name, x, x.copy(), reduction="none") == 0)
    _, (dx, dy) = losskit.value_and_grad(getattr(losskit, name), x, x.copy(), reduction="sum")
    assert np.all(dx == 0) and np.all(dy == 0)


@given(data=pair(positive_target=True))
@settings(max_examples=30, deadline=None)
def test_kl_of_a_distribution_with_itself_is_zero(data):
    _, p = data
    np.testing.assert_allclose(_call("kl_div", np.log(p), p, reduction="none"), 0, atol=1e-12)


def _frozen(*arrays):
    out = []
    for a in arrays:
        a = np.array(a)
        a.flags.writeable = False
        out.append(a)
    return out


CALLS = {
    "l1_loss": ([[0.5, -1.0], [2.0, 0.0]], [[0.0, 1.0], [1.0, 0.0]]),
    "mse_loss": ([[0.5, -1.0], [2.0, 0.0]], [[0.0, 1.0], [1.0, 0.0]]),
    "smooth_l1_loss": ([[0.5, -1.0], [2.0, 0.0]], [[0.0, 1.0], [1.0, 0.0]]),
    "huber_loss": ([[0.5, -1.0], [2.0, 0.0]], [[0.0, 1.0], [1.0, 0.0]]),
    "poisson_nll_loss": ([[0.5, 1.0], [2.0, 3.0]], [[0.0, 1.0], [4.0, 2.0]]),
    "kl_div": ([[-0.5, -1.0], [-2.0, -0.1]], [[0.0, 0.3], [0.5, 0.2]]),
    "margin_ranking_loss": ([0.5, -1.0, 2.0], [0.0, 1.0, 1.0], [1.0, -1.0, 1.0]),
    "multilabel_margin_loss": ([[0.5, -1.0, 2.0], [0.1, 0.2, 0.3]], [[2, 0, -1], [1, -1, 0]]),
    "cross_entropy": ([[0.5, -1.0, 2.0], [0.1, 0.2, 0.3]], [2, 0]),
    "nll_loss": ([[-0.5, -1.0, -2.0], [-0.1, -0.2, -0.3]], [2, 0]),
    "binary_cross_entropy": ([[0.5, 0.1], [0.9, 0.3]], [[1.0, 0.0], [0.5, 1.0]]),
    "binary_cross_entropy_with_logits": ([[0.5, -1.0], [2.0, 0.0]], [[1.0, 0.0], [0.5, 1.0]]),
    "soft_margin_loss": ([[0.5, -1.0], [2.0, 0.0]], [[1.0, -1.0], [-1.0, 1.0]]),
    "multilabel_soft_margin_loss": ([[0.5, -1.0], [2.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]]),
    "multi_margin_loss": ([[0.5, -1.0, 2.0], [0.1, 0.2, 0.3]], [2, 0]),
    "gaussian_nll_loss": ([[0.5, -1.0], [2.0, 0.0]], [[1.0, 0.0], [0.5, 1.0]], [0.5, 2.0]),
    "hinge_embedding_loss": ([[0.5, 1.5], [2.0, 0.0]], [[1.0, -1.0], [-1.0, 1.0]]),
    "cosine_embedding_loss": ([[0.5, -1.0], [2.0, 0.0]], [[1.0, 0.0], [0.5, 1.0]], [1.0, -1.0]),
    "triplet_margin_loss": ([[0.5, -1.0], [2.0, 0.0]], [[1.0, 0.0], [0.5, 1.0]],
                            [[0.0, 0.1], [0.2, 0.3]]),
    "triplet_margin_with_distance_loss": ([[0.5, -1.0], [2.0, 0.0]], [[1.0, 0.0], [0.5, 1.0]],
                                          [[0.0, 0.1], [0.2, 0.3]]),
    "ctc_loss": (np.log(np.full((4, 2, 3), 1 / 3)), [[1, 2], [2, 2]], [4, 4], [2, 2]),
}
# the weight each loss takes, or None
WEIGHT = {"l1_loss": "input", "mse_loss": "input", "huber_loss": "input",
          "cross_entropy": "class", "nll_loss": "class", "multi_margin_loss": "class",
          "binary_cross_entropy": "input", "binary_cross_entropy_with_logits": "input",
          "multilabel_soft_margin_loss": "input"}


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_no_input_is_modified(name, reduction):
    """Read-only inputs: any in-place write would raise; the values are compared too."""
    arrays = _frozen(*CALLS[name])
    before = [a.copy() for a in arrays]
    options = {"reduction": reduction}
    if WEIGHT.get(name) == "input":
        options["weight"] = _frozen(np.full(arrays[0].shape, 0.5))[0]
    elif WEIGHT.get(name) == "class":
        options["weight"] = _frozen(np.array([0.5, 1.0, 2.0]))[0]
    if name == "binary_cross_entropy_with_logits":
        options["pos_weight"] = _frozen(np.array([2.0, 0.5]))[0]
    if name == "cross_entropy":
        options["label_smoothing"] = 0.1
    if name == "triplet_margin_loss":
        options["swap"] = True
    if name == "poisson_nll_loss":
        options.update(log_input=False, full=True)
    _call(name, *arrays, **options)
    fn = getattr(losskit, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, grads = losskit.value_and_grad(fn, *arrays, **options)
    for a, b in zip(arrays, before):
        np.testing.assert_array_equal(a, b)
    assert len(grads) == len(arrays)
