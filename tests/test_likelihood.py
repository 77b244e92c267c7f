"""The likelihood family (poisson_nll, gaussian_nll): Stirling's term, variances, errors.

Expected values come from torch (called side by side) unless a comment derives them.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import losskit

from torch_helpers import both, grads_both

torch = pytest.importorskip("torch")
F = torch.nn.functional


@pytest.mark.parametrize("name", ["poisson_nll_loss", "margin_ranking_loss"])
def test_integer_inputs_give_the_default_float(name):
    arrays = [np.array([1, 2, 3])] * (3 if name == "margin_ranking_loss" else 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = getattr(F, name)(*[torch.as_tensor(a) for a in arrays])
        ours_torch = getattr(losskit, name)(*[torch.as_tensor(a) for a in arrays])
        ours_numpy = getattr(losskit, name)(*arrays)
    assert ours_torch.dtype == theirs.dtype == torch.float32
    assert ours_numpy.dtype == np.float64  # NumPy's default float (docs/deviations.md)
    np.testing.assert_allclose(ours_numpy, theirs.numpy(), rtol=1e-6)


def test_poisson_full_adds_stirling_only_above_one():
    x, y = np.array([2.0, 4.0, 6.0, 1.0]), np.array([1.0, 3.0, 5.0, 0.0])
    ours, theirs = both("poisson_nll_loss", x, y, log_input=False, full=True, reduction="none")
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    np.testing.assert_allclose(ours[:3], [1.3069, 1.6052, 1.8120], atol=1e-4)  # from torch


def test_poisson_full_target_gradient_is_zero_where_torch_gives_nan():
    x, y = np.array([2.0, 4.0]), np.array([0.0, 3.0])
    ours, theirs = grads_both("poisson_nll_loss", x, y, log_input=False, full=True)
    assert np.isnan(theirs[1][0]) and ours[1][0] == -np.log(2.0 + 1e-8) / 2  # deviation
    np.testing.assert_allclose(ours[1][1], theirs[1][1])


class TestGaussianNLL:
    def test_clamped_variance_gradient_passes_through_like_torch(self):
        x, y, v = np.array([1.0, 0.5]), np.array([0.0, 0.0]), np.array([0.0, 0.2])
        _, (dx, dy, dv) = losskit.value_and_grad(losskit.gaussian_nll_loss, x, y, v,
                                                 reduction="sum")
        xt, vt = torch.tensor(x, requires_grad=True), torch.tensor(v, requires_grad=True)
        F.gaussian_nll_loss(xt, torch.tensor(y), vt, reduction="sum").backward()
        np.testing.assert_allclose(dv, vt.grad.numpy())
        np.testing.assert_allclose(dx, xt.grad.numpy())
        np.testing.assert_array_equal(dy, -dx)
        np.testing.assert_allclose(dv[0], 0.5 * (1 / 1e-6 - 1 / 1e-12))  # -4.999995e11

    def test_python_number_variance(self):
        x, y = np.array([0.0, 2.0]), np.array([1.0, 1.0])
        ours, theirs = both("gaussian_nll_loss", x, y, 0.5, full=True)
        np.testing.assert_allclose(ours, theirs)
        _, grads = losskit.value_and_grad(losskit.gaussian_nll_loss, x, y, 0.5)
        assert grads[2] is None

    @pytest.mark.parametrize("var_shape", [(2, 2), (2,), (2, 1), (1, 2)])
    def test_accepted_variance_shapes(self, var_shape):
        rng = np.random.default_rng(0)
        x, y, v = rng.normal(size=(2, 2)), rng.normal(size=(2, 2)), rng.uniform(0.5, 1, var_shape)
        ours, theirs = both("gaussian_nll_loss", x, y, v, reduction="none")
        np.testing.assert_allclose(ours, theirs)
        _, (_, _, dv) = losskit.value_and_grad(losskit.gaussian_nll_loss, x, y, v)
        assert dv.shape == var_shape

    @pytest.mark.parametrize("var_shape", [(1, 1), (), (1,), (2, 2, 1)])
    def test_rejected_variance_shapes(self, var_shape):
        with pytest.raises(ValueError, match=r"gaussian_nll_loss: `var` of shape .* does not "
                           r"fit the input's shape \(2, 2\)"):
            losskit.gaussian_nll_loss(np.zeros((2, 2)), np.zeros((2, 2)), np.ones(var_shape))
        with pytest.raises(ValueError, match="var is of incorrect size"):
            F.gaussian_nll_loss(torch.zeros(2, 2), torch.zeros(2, 2), torch.ones(var_shape))

    def test_variance_is_compared_with_the_input_not_the_broadcast(self):
        with pytest.raises(ValueError, match=r"does not fit the input's shape \(2, 1\)"):
            losskit.gaussian_nll_loss(np.zeros((2, 1)), np.zeros((2, 2)), np.ones((2, 2)))

    def test_negative_and_integer_variance(self):
        with pytest.raises(ValueError, match=r"`var` must be non-negative, got a minimum of -1.0"):
            losskit.gaussian_nll_loss(np.zeros(2), np.zeros(2), np.array([1.0, -1.0]))
        with pytest.raises(ValueError, match=r"`var` must be non-negative, got -0.5"):
            losskit.gaussian_nll_loss(np.zeros(2), np.zeros(2), -0.5)
        with pytest.raises(TypeError, match=r"`var` must be a floating-point array"):
            losskit.gaussian_nll_loss(np.zeros(2), np.zeros(2), np.ones(2, np.int64))

    def test_elementwise_mean_is_refused(self):
        with pytest.raises(ValueError, match="Received: reduction='elementwise_mean'"):
            losskit.gaussian_nll_loss(np.zeros(2), np.zeros(2), np.ones(2),
                                      reduction="elementwise_mean")
