"""The embedding family (margin_ranking, hinge_embedding, cosine_embedding): kinks, integer
inputs, rank rules and errors.

Expected values come from torch (called side by side) unless a comment derives them.
"""

from __future__ import annotations

import numpy as np
import pytest

import losskit

from torch_helpers import STRICT_TIES, both, grads_both

torch = pytest.importorskip("torch")
F = torch.nn.functional


def test_margin_ranking_has_no_gradient_at_exactly_the_margin():
    """torch 2.14 changed clamp_min's gradient at 0 from 1 to 0; losskit follows the newest
    torch on every version (docs/deviations.md lists the difference from 2.13)."""
    # z = margin - y (x1 - x2) = 0, -tiny, +tiny
    x1, x2, y = [0.0, 1e-9, -1e-9], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]
    ours, theirs = grads_both("margin_ranking_loss", x1, x2, y, reduction="sum")
    np.testing.assert_array_equal(ours[0], [0.0, 0.0, -1.0])
    if STRICT_TIES:
        for a, b in zip(ours, theirs):
            np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_array_equal(theirs[0], [-1.0, 0.0, -1.0])  # torch 2.13


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

    def test_no_gradient_at_exactly_the_margin(self):
        x, y = np.array([1.0, 0.5, 2.0]), np.array([-1.0, 0.0, -1.0])
        _, (dx, dy) = losskit.value_and_grad(losskit.hinge_embedding_loss, x, y,
                                             reduction="sum")
        xt = torch.tensor(x, requires_grad=True)
        F.hinge_embedding_loss(xt, torch.tensor(y), reduction="sum").backward()
        np.testing.assert_array_equal(dx, [0.0, 0.0, 0.0])  # at the margin, the "other" rule
        want = [0.0, 0.0, 0.0] if STRICT_TIES else [-1.0, 0.0, 0.0]  # torch 2.13: active
        np.testing.assert_array_equal(xt.grad.numpy(), want)
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


def test_cosine_has_no_gradient_at_exactly_the_margin():
    x1, x2 = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])  # cos = 0 = margin
    _, (d1, d2, _) = losskit.value_and_grad(losskit.cosine_embedding_loss, x1, x2,
                                            np.array([-1.0]))
    np.testing.assert_array_equal(d1, np.zeros((1, 2)))
    np.testing.assert_array_equal(d2, np.zeros((1, 2)))
    t1, t2 = (torch.tensor(v, requires_grad=True) for v in (x1, x2))
    F.cosine_embedding_loss(t1, t2, torch.tensor([-1.0])).backward()
    # torch 2.13: active, x2 / ‖x1‖‖x2‖ with its 1e-12 on each squared norm
    want = np.zeros((1, 2)) if STRICT_TIES else np.array([[0.0, 1.0]])
    np.testing.assert_allclose(t1.grad.numpy(), want, rtol=1e-11)
