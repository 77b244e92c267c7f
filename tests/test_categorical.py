"""The categorical family (cross_entropy, nll, multi_margin): special values, torch's
conventions, and every error.

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


@pytest.mark.parametrize(
    "logits",
    [[[1000.0, 0.0]], [[-np.inf, 0.0]], [[np.inf, 0.0]], [[-np.inf, -np.inf]], [[1e4, -1e4]]],
)
def test_cross_entropy_extreme_logits_match_torch(logits):
    ours, theirs = both("cross_entropy", np.array(logits), np.array([0]), reduction="none")
    np.testing.assert_array_equal(ours, theirs)  # e.g. [1000, 0] with class 0 gives 0


def test_cross_entropy_all_ignored_is_nan_with_zero_gradient():
    x, t = np.array([[1.0, 2.0], [0.5, 0.1]]), np.array([-100, -100])
    ours, theirs = both("cross_entropy", x, t)
    assert np.isnan(ours) and np.isnan(theirs)
    g_ours, g_theirs = first_grad_both("cross_entropy", x, t)
    np.testing.assert_array_equal(g_ours, g_theirs)
    assert np.all(g_ours == 0)


def test_nll_unbatched_weighted_mean_cancels_the_weight():
    x, t, w = np.log(np.array([0.2, 0.5, 0.3])), np.array(1), np.array([1.0, 4.0, 2.0])
    ours, theirs = both("nll_loss", x, t, weight=w)
    np.testing.assert_allclose(ours, theirs)
    np.testing.assert_allclose(ours, -x[1])  # (4 * -x[1]) / 4


def test_cross_entropy_probabilities_promote_dtypes():
    x = np.array([[0.2, 0.5, 0.3]], np.float32)
    y = np.array([[0.1, 0.6, 0.3]], np.float64)
    ours, theirs = both("cross_entropy", x, y)
    assert ours.dtype == theirs.dtype == np.float64
    np.testing.assert_allclose(ours, theirs)


def test_multi_margin_is_strict_at_the_margin():
    # class 0 at 1.0, class 1 at exactly margin below: z = 1 - 1 + 0 = 0, no gradient
    x, t = np.array([[1.0, 0.0, 0.5]]), np.array([0])
    g_ours, g_theirs = first_grad_both("multi_margin_loss", x, t)
    np.testing.assert_array_equal(g_ours, g_theirs)


def test_multi_margin_empty_batch_is_nan_and_zero():
    x, t = np.zeros((0, 3)), np.zeros((0,), np.int64)
    assert np.isnan(losskit.multi_margin_loss(x, t))
    assert float(losskit.multi_margin_loss(x, t, reduction="sum")) == 0.0


@pytest.mark.parametrize("name", ["nll_loss", "cross_entropy"])
def test_class_index_out_of_range(name):
    with pytest.raises(IndexError, match=rf"{name}: target 3 is out of bounds for 3 classes "
                       r"\(valid class indices are 0..2, or ignore_index=-100\)"):
        getattr(losskit, name)(X, np.array([0, 3]))


def test_multi_margin_index_out_of_range():
    with pytest.raises(IndexError, match=r"multi_margin_loss: target -1 is out of bounds "
                       r"for 3 classes"):
        losskit.multi_margin_loss(X, np.array([-1, 0]))


def test_float_targets_read_as_indices_say_why():
    with pytest.raises(TypeError, match=r"cross_entropy: `target` must hold integer class "
                       r"indices, got dtype float64 \(it was read as class indices because its "
                       r"shape \(2,\) differs from the input's \(2, 3\); class probabilities "
                       r"need the input's shape\)"):
        losskit.cross_entropy(X, np.array([0.0, 2.0]))


def test_integer_one_hot_targets_read_as_probabilities():
    with pytest.raises(TypeError, match=r"target has the input's shape \(2, 3\), so it is "
                       r"read as class probabilities, which must be floating point; got "
                       r"dtype int64. For one-hot targets pass class indices"):
        losskit.cross_entropy(X, np.array([[1, 0, 0], [0, 0, 1]]))


def test_ignore_index_with_probabilities():
    with pytest.raises(ValueError, match=r"`ignore_index` applies to class-index targets "
                       r"only"):
        losskit.cross_entropy(X, np.full((2, 3), 1 / 3), ignore_index=0)


@pytest.mark.parametrize("name", ["nll_loss", "cross_entropy", "multi_margin_loss"])
def test_weight_of_the_wrong_length(name):
    with pytest.raises(ValueError, match=rf"{name}: `weight` must be 1-D with one weight per "
                       r"class, shape \(3,\), got \(2,\)"):
        getattr(losskit, name)(X, np.array([0, 1]), weight=np.ones(2))


def test_label_smoothing_above_one():
    with pytest.raises(ValueError, match=r"`label_smoothing` must be between 0.0 and 1.0, "
                       r"got 1.5"):
        losskit.cross_entropy(X, np.array([0, 1]), label_smoothing=1.5)


def test_p_must_be_one_or_two():
    with pytest.raises(ValueError, match=r"`p` must be 1 or 2"):
        losskit.multi_margin_loss(X, np.array([0, 1]), p=3)
    with pytest.raises(ValueError, match=r"MultiMarginLoss: `p` must be 1 or 2"):
        losskit.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match=r"MultiMarginLoss: `weight` must be None or 1-D"):
        losskit.MultiMarginLoss(weight=np.ones((1, 3)))


@pytest.mark.parametrize(
    ("x_shape", "t_shape", "message"),
    [
        ((4, 3), (3,), r"for input of shape \(4, 3\) \(N, C, \.\.\.\) the target must hold "
                       r"one class index per sample, shape \(4,\); got \(3,\)"),
        ((2, 3, 4), (2,), r"shape \(2, 4\); got \(2,\)"),
        ((3,), (2,), r"an unbatched input of shape \(3,\) takes one class index"),
        ((), (), r"input must have at least 1 dimension"),
    ],
)
def test_index_target_shapes(x_shape, t_shape, message):
    with pytest.raises(ValueError, match=message):
        losskit.nll_loss(np.zeros(x_shape), np.zeros(t_shape, np.int64))


def test_multi_margin_shapes():
    with pytest.raises(ValueError, match=r"multi_margin_loss: target must hold one class "
                       r"index per sample, shape \(2,\), got \(3,\)"):
        losskit.multi_margin_loss(X, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"input must have shape \(C\) or \(N, C\)"):
        losskit.multi_margin_loss(np.zeros((2, 3, 4)), np.zeros(2, np.int64))
