"""Classification losses: special values, torch's conventions, and every error.

Expected values come from torch (called side by side) unless a comment derives them.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import losskit
from losskit._cases import both

torch = pytest.importorskip("torch")
F = torch.nn.functional




def grads_both(name, x, *rest, **options):
    """Gradient of the first argument: losskit.value_and_grad and torch autograd."""
    xt = torch.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, grads = losskit.value_and_grad(getattr(losskit, name), x, *rest, **options)
        topts = {k: torch.as_tensor(v) if isinstance(v, np.ndarray) else v
                 for k, v in options.items()}
        getattr(F, name)(xt, *[torch.as_tensor(a) for a in rest], **topts).backward()
    return np.asarray(grads[0]), xt.grad.numpy()


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
    g_ours, g_theirs = grads_both("cross_entropy", x, t)
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


def test_binary_cross_entropy_clamps_logs_at_minus_100():
    x = np.array([0.0, 1e-45, 0.0, 1.0, 1.0], np.float32)
    y = np.array([1.0, 1.0, 0.0, 1.0, 0.0], np.float32)
    ours, theirs = both("binary_cross_entropy", x, y, reduction="none")
    np.testing.assert_array_equal(ours, theirs)  # [100, 100, 0, -0, 100]


def test_binary_cross_entropy_gradients_at_the_edges():
    x, y = np.array([0.0, 1.0, 0.5]), np.array([1.0, 1.0, 0.0])
    g_ours, g_theirs = grads_both("binary_cross_entropy", x, y, reduction="sum")
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
        g_ours, g_theirs = grads_both("binary_cross_entropy_with_logits", x, y, pos_weight=pw)
        np.testing.assert_allclose(g_ours, g_theirs)


def test_soft_margin_does_not_overflow_where_torch_does():
    x, y = np.array([100.0, -100.0], np.float32), np.array([-1.0, 1.0], np.float32)
    ours, theirs = both("soft_margin_loss", x, y, reduction="none")
    assert np.all(np.isinf(theirs))  # torch's naive log(1 + exp(100))
    np.testing.assert_allclose(ours, [100.0, 100.0])  # log(1 + e^100) = 100 + log1p(e^-100)
    _, (dx, dy) = losskit.value_and_grad(losskit.soft_margin_loss, x, y, reduction="sum")
    np.testing.assert_allclose(dx, [1.0, -1.0])  # -y·σ(-y·x) -> -y
    assert dy is None


def test_multi_margin_is_strict_at_the_margin():
    # class 0 at 1.0, class 1 at exactly margin below: z = 1 - 1 + 0 = 0, no gradient
    x, t = np.array([[1.0, 0.0, 0.5]]), np.array([0])
    g_ours, g_theirs = grads_both("multi_margin_loss", x, t)
    np.testing.assert_array_equal(g_ours, g_theirs)


def test_multilabel_soft_margin_integer_target_and_no_classes():
    x, y = np.array([[0.5, -1.0, 2.0]]), np.array([[1, 0, 1]])
    ours, theirs = both("multilabel_soft_margin_loss", x, y)
    np.testing.assert_allclose(ours, theirs)
    assert np.isnan(losskit.multilabel_soft_margin_loss(np.zeros((2, 0)), np.zeros((2, 0))))


def test_multi_margin_empty_batch_is_nan_and_zero():
    x, t = np.zeros((0, 3)), np.zeros((0,), np.int64)
    assert np.isnan(losskit.multi_margin_loss(x, t))
    assert float(losskit.multi_margin_loss(x, t, reduction="sum")) == 0.0


X = np.array([[0.5, 1.0, -0.5], [0.1, 0.2, 0.3]])


class TestErrors:
    @pytest.mark.parametrize("name", ["nll_loss", "cross_entropy"])
    def test_class_index_out_of_range(self, name):
        with pytest.raises(IndexError, match=rf"{name}: target 3 is out of bounds for 3 classes "
                           r"\(valid class indices are 0..2, or ignore_index=-100\)"):
            getattr(losskit, name)(X, np.array([0, 3]))

    def test_multi_margin_index_out_of_range(self):
        with pytest.raises(IndexError, match=r"multi_margin_loss: target -1 is out of bounds "
                           r"for 3 classes"):
            losskit.multi_margin_loss(X, np.array([-1, 0]))

    def test_float_targets_read_as_indices_say_why(self):
        with pytest.raises(TypeError, match=r"cross_entropy: `target` must hold integer class "
                           r"indices \(it was read as class indices because its shape \(2,\) "
                           r"differs from the input's \(2, 3\); class probabilities need the "
                           r"input's shape\); got dtype float64"):
            losskit.cross_entropy(X, np.array([0.0, 2.0]))

    def test_integer_one_hot_targets_read_as_probabilities(self):
        with pytest.raises(TypeError, match=r"target has the input's shape \(2, 3\), so it is "
                           r"read as class probabilities, which must be floating point; got "
                           r"dtype int64. For one-hot targets pass class indices"):
            losskit.cross_entropy(X, np.array([[1, 0, 0], [0, 0, 1]]))

    def test_ignore_index_with_probabilities(self):
        with pytest.raises(ValueError, match=r"`ignore_index` applies to class-index targets "
                           r"only"):
            losskit.cross_entropy(X, np.full((2, 3), 1 / 3), ignore_index=0)

    @pytest.mark.parametrize("name", ["nll_loss", "cross_entropy", "multi_margin_loss"])
    def test_weight_of_the_wrong_length(self, name):
        with pytest.raises(ValueError, match=rf"{name}: `weight` must be 1-D with one weight per "
                           r"class, shape \(3,\), got \(2,\)"):
            getattr(losskit, name)(X, np.array([0, 1]), weight=np.ones(2))

    def test_label_smoothing_above_one(self):
        with pytest.raises(ValueError, match=r"`label_smoothing` must be between 0.0 and 1.0, "
                           r"got 1.5"):
            losskit.cross_entropy(X, np.array([0, 1]), label_smoothing=1.5)

    def test_probabilities_outside_the_unit_interval_suggest_logits(self):
        with pytest.raises(ValueError, match=r"binary_cross_entropy: every element of `input` "
                           r"must be a probability in \[0, 1\], got values from -2.0 to 3.0; it "
                           r"looks like logits .* binary_cross_entropy_with_logits"):
            losskit.binary_cross_entropy(np.array([-2.0, 3.0]), np.array([0.0, 1.0]))
        with pytest.raises(ValueError, match=r"every element of `target` must be a probability"):
            losskit.binary_cross_entropy(np.array([0.2, 0.3]), np.array([0.0, 2.0]))

    @pytest.mark.parametrize("name", ["binary_cross_entropy", "binary_cross_entropy_with_logits"])
    def test_binary_sizes_must_match(self, name):
        with pytest.raises(ValueError, match=rf"{name}: target must have exactly the input's "
                           r"shape \(2, 3\) \(no broadcasting, as in torch\), got \(3,\)"):
            getattr(losskit, name)(np.full((2, 3), 0.5), np.full(3, 0.5))

    def test_weights_may_not_enlarge_the_output(self):
        with pytest.raises(ValueError, match=r"`pos_weight` of shape \(4, 2, 3\) must broadcast "
                           r"to the target's shape \(2, 3\) without enlarging it"):
            losskit.binary_cross_entropy_with_logits(X, X, pos_weight=np.ones((4, 2, 3)))
        with pytest.raises(ValueError, match=r"soft_margin_loss: target of shape \(2, 2, 3\) "
                           r"must broadcast to the input's shape \(2, 3\)"):
            losskit.soft_margin_loss(X, np.ones((2, 2, 3)))

    def test_p_must_be_one_or_two(self):
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
    def test_index_target_shapes(self, x_shape, t_shape, message):
        with pytest.raises(ValueError, match=message):
            losskit.nll_loss(np.zeros(x_shape), np.zeros(t_shape, np.int64))

    def test_multi_margin_shapes(self):
        with pytest.raises(ValueError, match=r"multi_margin_loss: target must hold one class "
                           r"index per sample, shape \(2,\), got \(3,\)"):
            losskit.multi_margin_loss(X, np.array([0, 1, 2]))
        with pytest.raises(ValueError, match=r"input must have shape \(C\) or \(N, C\)"):
            losskit.multi_margin_loss(np.zeros((2, 3, 4)), np.zeros(2, np.int64))

    def test_multilabel_soft_margin_needs_a_class_axis(self):
        with pytest.raises(ValueError, match=r"multilabel_soft_margin_loss: input must have a "
                           r"class axis"):
            losskit.multilabel_soft_margin_loss(np.array(1.0), np.array(1.0))

    @pytest.mark.parametrize("name", ["cross_entropy", "nll_loss", "binary_cross_entropy",
                                      "binary_cross_entropy_with_logits", "soft_margin_loss",
                                      "multilabel_soft_margin_loss", "multi_margin_loss"])
    def test_integer_input_refused(self, name):
        target = np.array([0, 1]) if name in ("cross_entropy", "nll_loss",
                                              "multi_margin_loss") else np.ones((2, 3))
        with pytest.raises(TypeError, match=rf"{name}: `input` must be a floating-point array"):
            getattr(losskit, name)(np.ones((2, 3), np.int64), target)
