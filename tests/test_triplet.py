"""The triplet family (triplet_margin, triplet_margin_with_distance, pairwise_distance).

Expected values come from torch (called side by side) unless a comment derives them.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

import losskit

from torch_helpers import STRICT_TIES, both

torch = pytest.importorskip("torch")
F = torch.nn.functional


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


def test_no_gradient_at_exactly_the_margin():
    """torch 2.14 made clamp_min's gradient 0 at 0; losskit follows it on every torch."""
    a, p, n = np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]]), np.array([[2.0, 0.0]])
    _, grads = losskit.value_and_grad(losskit.triplet_margin_loss, a, p, n, eps=0.0)
    for g in grads:  # d(a, p) - d(a, n) + 1 = 1 - 2 + 1 = 0
        np.testing.assert_array_equal(g, np.zeros((1, 2)))
    tensors = [torch.tensor(v, requires_grad=True) for v in (a, p, n)]
    F.triplet_margin_loss(*tensors, eps=0.0).backward()
    want = np.zeros((1, 2)) if STRICT_TIES else np.array([[-1.0, 0.0]])  # torch 2.13: active
    np.testing.assert_array_equal(tensors[1].grad.numpy(), -want)
