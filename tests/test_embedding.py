"""gaussian_nll, hinge/cosine embedding and triplet losses: conventions and errors.

Expected values come from torch (called side by side) unless a comment derives them.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

import losskit
from losskit._cases import both

torch = pytest.importorskip("torch")
F = torch.nn.functional




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


class TestHingeEmbedding:
    def test_integer_input_stays_integer_with_a_truncated_margin(self):
        x, y = np.array([0, 1, 3]), np.array([-1, -1, 1])
        ours, theirs = both("hinge_embedding_loss", x, y, margin=2.5, reduction="none")
        assert ours.dtype == theirs.dtype == np.int64
        np.testing.assert_array_equal(ours, theirs)  # margin 2: [2, 1, 3]
        with pytest.raises(TypeError, match="reduction='mean' needs a floating-point input"):
            losskit.hinge_embedding_loss(x, y)

    def test_gradient_is_active_at_the_margin(self):
        x, y = np.array([1.0, 0.5, 2.0]), np.array([-1.0, 0.0, -1.0])
        _, (dx, dy) = losskit.value_and_grad(losskit.hinge_embedding_loss, x, y,
                                             reduction="sum")
        xt = torch.tensor(x, requires_grad=True)
        F.hinge_embedding_loss(xt, torch.tensor(y), reduction="sum").backward()
        np.testing.assert_array_equal(dx, xt.grad.numpy())  # [-1, 0, 0]
        assert dy is None


class TestCosineEmbedding:
    def test_zero_and_tiny_vectors(self):
        a = np.array([[0.0, 0.0], [1e-7, 0.0]], np.float32)
        ours, theirs = both("cosine_embedding_loss", a, np.array([[1.0, 1.0], [1e-7, 0.0]],
                                                                 np.float32),
                            np.array([1.0, 1.0], np.float32), reduction="none")
        np.testing.assert_allclose(ours, theirs, rtol=1e-5)  # [1, 0.990099]: the 1e-12

    def test_rank_rules(self):
        with pytest.raises(ValueError, match=r"a 1-D target expects 2-D inputs \(\(N, D\)\), "
                           r"got input1 \(2,\) and input2 \(2,\)"):
            losskit.cosine_embedding_loss(np.ones(2), np.ones(2), np.ones(1))
        with pytest.raises(ValueError, match=r"a 0-D target expects 1-D inputs"):
            losskit.cosine_embedding_loss(np.ones((4, 2)), np.ones((4, 2)), np.array(1.0))
        with pytest.raises(ValueError, match=r"target must be 0-D or 1-D"):
            losskit.cosine_embedding_loss(np.ones((4, 2)), np.ones((4, 2)), np.ones((4, 1)))


class TestTriplet:
    def test_eps_is_added_to_the_difference(self):
        a = np.array([[1.0, 2.0]])
        ours, theirs = both("triplet_margin_loss", a, a.copy(), a + 10, margin=0.5 + 10,
                            reduction="none")
        np.testing.assert_allclose(ours, theirs)

    @pytest.mark.parametrize("p", [0.0, 1.0, 2.0, -1.0, float("inf")])
    def test_zero_distance_has_no_nan_gradient(self, p):
        a = np.array([[1.0, 2.0, 2.0]])
        n = np.array([[1.5, 2.0, 0.0]])
        arrays = (a, a.copy(), n)
        _, grads = losskit.value_and_grad(losskit.triplet_margin_loss, *arrays, p=p, eps=0.0)
        ts = [torch.tensor(x, requires_grad=True) for x in arrays]
        F.triplet_margin_loss(*ts, p=p, eps=0.0).backward()
        for got, t in zip(grads, ts):
            want = t.grad.numpy() if t.grad is not None else np.zeros_like(got)
            np.testing.assert_allclose(got, want, atol=1e-12)

    def test_margin_and_rank_errors(self):
        a = np.ones((2, 3))
        with pytest.raises(ValueError, match=r"triplet_margin_loss: `margin` must be greater "
                           r"than 0, got 0"):
            losskit.triplet_margin_loss(a, a, a, margin=0)
        with pytest.raises(ValueError, match=r"anchor, positive, negative must have the same "
                           r"number of dimensions"):
            losskit.triplet_margin_loss(a, np.ones(3), a)
        with pytest.raises(ValueError, match=r"TripletMarginLoss: expected margin to be "
                           r"greater than 0, got 0"):
            losskit.TripletMarginLoss(margin=0)

    def test_custom_distance_value_matches_torch(self):
        rng = np.random.default_rng(1)
        a, p, n = (rng.normal(size=(4, 3)) for _ in range(3))

        def l1(x, y):
            return (abs(x - y)).sum(-1)

        ours, theirs = both("triplet_margin_with_distance_loss", a, p, n, distance_function=l1,
                            swap=True)
        np.testing.assert_allclose(ours, theirs)

    def test_value_and_grad_with_a_losskit_distance(self):
        rng = np.random.default_rng(2)
        arrays = tuple(rng.normal(size=(4, 3)) for _ in range(3))
        dist = functools.partial(losskit.pairwise_distance, p=1.0)
        _, grads = losskit.value_and_grad(losskit.triplet_margin_with_distance_loss, *arrays,
                                          distance_function=dist, margin=2.0)
        ts = [torch.tensor(x, requires_grad=True) for x in arrays]
        F.triplet_margin_with_distance_loss(
            *ts, distance_function=functools.partial(F.pairwise_distance, p=1.0), margin=2.0
        ).backward()
        for got, t in zip(grads, ts):
            np.testing.assert_allclose(got, t.grad.numpy())

    def test_value_and_grad_with_an_opaque_distance_says_what_it_needs(self):
        a = np.ones((2, 3))
        with pytest.raises(TypeError, match=r"value_and_grad: triplet_margin_with_distance_loss's"
                           r" distance_function .* is not a losskit function"):
            losskit.value_and_grad(losskit.triplet_margin_with_distance_loss, a, a, a + 1,
                                   distance_function=lambda x, y: ((x - y) ** 2).sum(-1))

    def test_distance_function_is_keyword_only(self):
        a = np.ones((2, 3))
        with pytest.raises(TypeError):
            losskit.triplet_margin_with_distance_loss(a, a, a, losskit.pairwise_distance)
        with pytest.raises(TypeError, match="`distance_function` must be callable"):
            losskit.triplet_margin_with_distance_loss(a, a, a, distance_function=3)
