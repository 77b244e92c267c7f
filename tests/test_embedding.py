"""The embedding family (margin_ranking, hinge_embedding, cosine_embedding): kinks, integer
inputs, rank rules and errors.

Expected values come from torch (called side by side) unless a comment derives them.
"""

from __future__ import annotations

import numpy as np
import pytest

import losskit

from torch_helpers import both, grads_both

torch = pytest.importorskip("torch")
F = torch.nn.functional


def test_margin_ranking_is_active_at_the_margin():
    # z = margin - y (x1 - x2) = 0, -tiny, +tiny: torch's clamp_min gives [1, 0, 1]
    x1, x2, y = [0.0, 1e-9, -1e-9], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]
    ours, theirs = grads_both("margin_ranking_loss", x1, x2, y, reduction="sum")
    np.testing.assert_array_equal(ours[0], [-1.0, 0.0, -1.0])
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)


def test_margin_ranking_needs_equal_ranks():
    with pytest.raises(ValueError, match=r"margin_ranking_loss: input1, input2, target must "
                       r"have the same number of dimensions, got input1 1-D \(3,\), input2 1-D "
                       r"\(3,\), target 2-D \(3, 1\)"):
        losskit.margin_ranking_loss(np.ones(3), np.ones(3), np.ones((3, 1)))


def test_margin_ranking_incompatible_shapes():
    with pytest.raises(ValueError, match=r"cannot be broadcast together"):
        losskit.margin_ranking_loss(np.ones(4), np.ones(3), np.ones(3))


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
