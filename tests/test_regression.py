"""The regression family (l1, mse, smooth_l1, huber): dtypes, kinks, weights and errors.

Expected values come from torch (called side by side) unless a comment derives them.
"""

from __future__ import annotations

import numpy as np
import pytest

import losskit

from torch_helpers import both, grads_both

torch = pytest.importorskip("torch")
F = torch.nn.functional


X = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])


@pytest.mark.parametrize("reduction", ["none", "sum"])
def test_l1_integer_inputs_stay_integer(reduction):
    ours, theirs = both("l1_loss", np.array([1, 5, 2]), np.array([3, 1, 2]), reduction=reduction)
    assert ours.dtype == theirs.dtype == np.int64
    np.testing.assert_array_equal(ours, theirs)


def test_l1_integer_mean_is_refused_like_torch():
    with pytest.raises(TypeError, match=r"l1_loss: reduction='mean' needs a floating-point input"):
        losskit.l1_loss(np.array([1, 2]), np.array([0, 0]))
    with pytest.raises(RuntimeError):  # torch refuses too
        F.l1_loss(torch.tensor([1, 2]), torch.tensor([0, 0]))


def test_l1_complex_gives_the_real_modulus():
    x, y = np.array([3 + 4j, 1j]), np.array([0j, 0j])
    ours, theirs = both("l1_loss", x, y, reduction="none")
    assert ours.dtype == theirs.dtype == np.float64
    np.testing.assert_allclose(ours, theirs)  # [5, 1]


def test_int_and_float_promote_to_the_float():
    ours, theirs = both("l1_loss", np.array([1, 2, 3]), np.array([0.5, 1.0, 1.5], np.float32))
    assert ours.dtype == theirs.dtype == np.float32
    np.testing.assert_allclose(ours, theirs)


def test_zero_dim_operand_promotes_after_broadcast_for_mse_but_not_for_kl():
    x = np.array([0.1, 0.2, 0.3], np.float32)
    assert both("mse_loss", x, np.array(1.0))[0].dtype == np.float64  # torch: float64
    ours, theirs = both("kl_div", np.log(x), np.array(0.5), reduction="none")
    assert ours.dtype == theirs.dtype == np.float32


def test_huber_keeps_the_input_dtype():
    ours, theirs = both("huber_loss", np.array([1.0, 3.0], np.float32), np.array([0.0, 0.0]))
    assert ours.dtype == theirs.dtype == np.float32


@pytest.mark.parametrize(
    ("name", "x", "y", "options"),
    [
        ("l1_loss", [1.0, 2.0], [1.0, 0.0], {}),  # |d| at d = 0: gradient 0
        ("smooth_l1_loss", [1.5, 0.0, -2.0], [0.5, 0.0, -1.0], {}),  # |d| = beta and 0
        ("smooth_l1_loss", [1.0, 0.0], [1.0, 1.0], {"beta": 0.0}),  # the l1 path
        ("huber_loss", [2.0, 0.0, -3.0], [0.0, 0.0, -1.0], {"delta": 2.0}),  # |d| = delta
        ("mse_loss", [1.0, 2.0], [1.0, 2.0], {}),
    ],
)
def test_subgradients_at_the_kinks_match_torch(name, x, y, options):
    ours, theirs = grads_both(name, x, y, **options)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)


def test_infinite_beta_and_delta():
    x, y = np.array([0.0, 3.0, -5.0]), np.zeros(3)
    ours, theirs = both("smooth_l1_loss", x, y, beta=float("inf"), reduction="none")
    np.testing.assert_array_equal(ours, theirs)  # identically 0
    ours, theirs = both("huber_loss", x, y, delta=float("inf"), reduction="none")
    np.testing.assert_array_equal(ours, theirs)  # 0.5 d²


def test_weighted_means_follow_torchs_two_rules():
    x, y, w = np.array([1.0, 2.0, 4.0]), np.array([0.0, 0.0, 0.0]), np.array([1.0, 2.0, 3.0])
    for name in ("l1_loss", "mse_loss", "huber_loss"):
        ours, theirs = both(name, x, y, weight=w)
        np.testing.assert_allclose(ours, theirs)
    # huber: sum(w L) / numel = (0.5 + 2*1.5 + 3*3.5) / 3 = 14 / 3 (not / sum(w))
    np.testing.assert_allclose(both("huber_loss", x, y, weight=w)[0], 14 / 3)


def test_size_mismatch_warns_like_torch():
    with pytest.warns(UserWarning, match=r"mse_loss: Using a target size \(\(3,\)\) that is "
                      r"different to the input size \(\(2, 3\)\)"):
        losskit.mse_loss(np.ones((2, 3)), np.ones(3))


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


def test_huber_integer_input_refused():
    with pytest.raises(TypeError, match=r"huber_loss: `input` must be a floating-point array"):
        losskit.huber_loss(np.array([1, 2]), np.array([1.0, 2.0]))
