"""The binary family (binary_cross_entropy, binary_cross_entropy_with_logits, soft_margin):
clamps, stability, weights and errors.

Expected values come from torch (called side by side) unless a comment derives them.
"""

from __future__ import annotations

import numpy as np
import pytest

import losskit

from torch_helpers import both, first_grad_both

torch = pytest.importorskip("torch")
F = torch.nn.functional


X = np.array([[0.5, 1.0, -0.5], [0.1, 0.2, 0.3]])


def test_binary_cross_entropy_clamps_logs_at_minus_100():
    x = np.array([0.0, 1e-45, 0.0, 1.0, 1.0], np.float32)
    y = np.array([1.0, 1.0, 0.0, 1.0, 0.0], np.float32)
    ours, theirs = both("binary_cross_entropy", x, y, reduction="none")
    np.testing.assert_array_equal(ours, theirs)  # [100, 100, 0, -0, 100]


def test_binary_cross_entropy_gradients_at_the_edges():
    x, y = np.array([0.0, 1.0, 0.5]), np.array([1.0, 1.0, 0.0])
    g_ours, g_theirs = first_grad_both("binary_cross_entropy", x, y, reduction="sum")
    # [-1e12, 0, 2]; torch's 1e-12 floor is a float32 constant (9.9999996e-13)
    np.testing.assert_allclose(g_ours, g_theirs, rtol=1e-8)
    _, (_, dy) = losskit.value_and_grad(losskit.binary_cross_entropy, x, y, reduction="sum")
    assert dy[0] == np.inf and dy[1] == -np.inf  # unclamped, as torch


def test_binary_cross_entropy_with_logits_is_stable_and_takes_the_target_dtype():
    x, y = np.array([100.0, -100.0, 3.0]), np.array([0.0, 1.0, 0.5], np.float32)
    ours, theirs = both("binary_cross_entropy_with_logits", x, y, reduction="none")
    assert ours.dtype == theirs.dtype == np.float32
    np.testing.assert_allclose(ours, theirs)  # [100, 100, ...]


def test_pos_weight_per_row_and_per_class():
    x, y = np.random.default_rng(0).normal(size=(2, 3)), np.array([[1.0, 0, 1], [0, 1, 1]])
    for pw in (np.array([1.0, 2.0, 3.0]), np.array([[2.0], [0.5]]), np.array(1.5)):
        ours, theirs = both("binary_cross_entropy_with_logits", x, y, pos_weight=pw)
        np.testing.assert_allclose(ours, theirs)
        g_ours, g_theirs = first_grad_both("binary_cross_entropy_with_logits", x, y, pos_weight=pw)
        np.testing.assert_allclose(g_ours, g_theirs)


def test_soft_margin_does_not_overflow_where_torch_does():
    x, y = np.array([100.0, -100.0], np.float32), np.array([-1.0, 1.0], np.float32)
    ours, theirs = both("soft_margin_loss", x, y, reduction="none")
    assert np.all(np.isinf(theirs))  # torch's naive log(1 + exp(100))
    np.testing.assert_allclose(ours, [100.0, 100.0])  # log(1 + e^100) = 100 + log1p(e^-100)
    _, (dx, dy) = losskit.value_and_grad(losskit.soft_margin_loss, x, y, reduction="sum")
    np.testing.assert_allclose(dx, [1.0, -1.0])  # -y·σ(-y·x) -> -y
    assert dy is None


def test_probabilities_outside_the_unit_interval_suggest_logits():
    with pytest.raises(ValueError, match=r"binary_cross_entropy: every element of `input` "
                       r"must be a probability in \[0, 1\], got values from -2.0 to 3.0; it "
                       r"looks like logits .* binary_cross_entropy_with_logits"):
        losskit.binary_cross_entropy(np.array([-2.0, 3.0]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"every element of `target` must be a probability"):
        losskit.binary_cross_entropy(np.array([0.2, 0.3]), np.array([0.0, 2.0]))


@pytest.mark.parametrize("name", ["binary_cross_entropy", "binary_cross_entropy_with_logits"])
def test_binary_sizes_must_match(name):
    with pytest.raises(ValueError, match=rf"{name}: target must have exactly the input's "
                       r"shape \(2, 3\) \(no broadcasting, as in torch\), got \(3,\)"):
        getattr(losskit, name)(np.full((2, 3), 0.5), np.full(3, 0.5))


def test_weights_may_not_enlarge_the_output():
    with pytest.raises(ValueError, match=r"`pos_weight` of shape \(4, 2, 3\) must broadcast "
                       r"to the target's shape \(2, 3\) without enlarging it"):
        losskit.binary_cross_entropy_with_logits(X, X, pos_weight=np.ones((4, 2, 3)))
    with pytest.raises(ValueError, match=r"soft_margin_loss: target of shape \(2, 2, 3\) "
                       r"must broadcast to the input's shape \(2, 3\)"):
        losskit.soft_margin_loss(X, np.ones((2, 2, 3)))
