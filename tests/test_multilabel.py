"""The multilabel family (multilabel_margin, multilabel_soft_margin): the two target formats,
strict margins, special values and errors.

Expected values come from torch (called side by side) unless a comment derives them.
"""

from __future__ import annotations

import numpy as np
import pytest

import losskit

from torch_helpers import both

torch = pytest.importorskip("torch")
F = torch.nn.functional


def test_multilabel_margin_is_strict_at_the_margin():
    # target 0 at x = 1; class 1 at x = 0 sits exactly on the margin: no gradient there
    x = np.array([[1.0, 0.0, 0.5]])
    t = np.array([[0, -1, -1]])
    _, (dx, dt) = losskit.value_and_grad(losskit.multilabel_margin_loss, x, t)
    xt = torch.tensor(x, requires_grad=True)
    F.multilabel_margin_loss(xt, torch.tensor(t)).backward()
    np.testing.assert_array_equal(dx, xt.grad.numpy())
    assert dt is None


def test_multilabel_margin_tutorial_gradient():
    # spec section 9: loss 1.25, dx = [-0.5, 0.25, 0.25, 0]
    value, (dx, _) = losskit.value_and_grad(
        losskit.multilabel_margin_loss, np.array([[1.0, 2, 3, 4]]), np.array([[0, 3, -1, -1]])
    )
    assert float(value) == 1.25
    np.testing.assert_array_equal(dx, [[-0.5, 0.25, 0.25, 0.0]])


def test_multilabel_margin_duplicates_count_twice_and_leading_minus_one_is_zero():
    x = np.array([[0.3, 0.1, 0.9]])
    once, _ = both("multilabel_margin_loss", x, np.array([[0, -1, -1]]))
    twice, theirs = both("multilabel_margin_loss", x, np.array([[0, 0, -1]]))
    np.testing.assert_allclose(twice, theirs)
    np.testing.assert_allclose(twice, 2 * once)
    assert float(both("multilabel_margin_loss", x, np.array([[-1, 2, 1]]))[0]) == 0.0


def test_multilabel_margin_zero_dim_input_gives_zero():
    ours, theirs = both("multilabel_margin_loss", np.array(0.7), np.array(0), reduction="none")
    assert ours.shape == theirs.shape == ()
    assert float(ours) == float(theirs) == 0.0


@pytest.mark.parametrize(
    "x",
    [
        [[np.inf, 0.5, 0.2, -1.0]],  # +inf at a target class
        [[-np.inf, 0.5, 0.2, -1.0]],  # -inf at a target class
        [[0.1, -np.inf, np.inf, 0.3]],  # infinities at non-targets
        [[0.1, np.nan, 0.2, 0.3]],  # torch's kernel adds nothing for a NaN margin
    ],
)
def test_multilabel_margin_special_values_match_torch(x):
    t = np.array([[0, 3, -1, -1]])
    ours, theirs = both("multilabel_margin_loss", np.array(x), t, reduction="none")
    np.testing.assert_array_equal(ours, theirs)


def test_multilabel_soft_margin_integer_target_and_no_classes():
    x, y = np.array([[0.5, -1.0, 2.0]]), np.array([[1, 0, 1]])
    ours, theirs = both("multilabel_soft_margin_loss", x, y)
    np.testing.assert_allclose(ours, theirs)
    assert np.isnan(losskit.multilabel_soft_margin_loss(np.zeros((2, 0)), np.zeros((2, 0))))


class TestMultilabelMargin:
    x = np.array([[0.1, 0.2, 0.3, 0.4]])

    def test_out_of_range_targets(self):
        with pytest.raises(ValueError, match=r"multilabel_margin_loss: target must hold class "
                           r"indices padded with -1 \(e.g. \[0, 3, -1, -1\]\), got values "
                           r"outside \[-1, 3\] \(min -2, max 1\); a multi-hot vector like "
                           r"\[1, 0, 0, 1\] is the format of multilabel_soft_margin_loss"):
            losskit.multilabel_margin_loss(self.x, np.array([[1, -1, -2, 0]]))
        with pytest.raises(ValueError, match=r"outside \[-1, 3\] \(min -1, max 4\)"):
            losskit.multilabel_margin_loss(self.x, np.array([[4, -1, 0, 0]]))

    def test_multi_hot_target_is_detected_and_converted_in_the_message(self):
        with pytest.raises(ValueError, match=r"target row 0 is \[1, 0, 0, 1\], which looks like "
                           r"a multi-hot vector .* here \[0, 3, -1, -1\]. Multi-hot targets are "
                           r"the format of multilabel_soft_margin_loss"):
            losskit.multilabel_margin_loss(self.x, np.array([[1, 0, 0, 1]]))

    def test_float_targets(self):
        with pytest.raises(TypeError, match=r"`target` must hold integer class indices "
                           r"padded with -1 .* got dtype float64; a multi-hot vector"):
            losskit.multilabel_margin_loss(self.x, np.array([[1.0, 0, 0, 1]]))

    def test_target_shape(self):
        with pytest.raises(ValueError, match=r"target must have exactly the input's shape "
                           r"\(1, 4\) .* got \(4,\)"):
            losskit.multilabel_margin_loss(self.x, np.array([0, -1, -1, -1]))

    @pytest.mark.parametrize("shape", [(2, 3, 4), (2, 0)])
    def test_input_rank_and_classes(self, shape):
        with pytest.raises(ValueError, match=r"input must have shape \(C\) or \(N, C\) with "
                           r"C > 0, got"):
            losskit.multilabel_margin_loss(np.ones(shape), np.zeros(shape, np.int64))

    def test_integer_input(self):
        with pytest.raises(TypeError, match=r"`input` must be a floating-point array"):
            losskit.multilabel_margin_loss(np.ones((1, 3), np.int64), np.zeros((1, 3), np.int64))


def test_multilabel_soft_margin_needs_a_class_axis():
    with pytest.raises(ValueError, match=r"multilabel_soft_margin_loss: input must have a "
                       r"class axis"):
        losskit.multilabel_soft_margin_loss(np.array(1.0), np.array(1.0))
