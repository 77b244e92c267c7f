"""The divergence family (kl_div): zero targets, 'batchmean', legacy quirks, warnings.

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


def test_kl_div_zero_target_contributes_exactly_zero():
    x, y = np.log([0.2, 0.3, 0.5]), np.array([0.0, 0.5, 0.5])
    ours, theirs = both("kl_div", x, y, reduction="none")
    assert ours[0] == theirs[0] == 0.0
    np.testing.assert_allclose(ours, theirs)
    g_ours, g_theirs = grads_both("kl_div", x, y, reduction="sum")
    np.testing.assert_allclose(g_ours[0], g_theirs[0])
    np.testing.assert_array_equal(np.isnan(g_ours[1]), np.isnan(g_theirs[1]))  # nan at y = 0


def test_kl_div_batchmean_divides_by_the_input_batch():
    x, y = np.log(np.full((2, 3), 1 / 3)), np.full((4, 2, 3), 0.25)  # target broadcasts larger
    ours, theirs = both("kl_div", x, y, reduction="batchmean")
    np.testing.assert_allclose(ours, theirs)


@pytest.mark.parametrize("reduce", [None, False, True])
def test_kl_div_legacy_arguments_with_batchmean_keep_torchs_quirk(reduce):
    x, y = np.log(np.full((2, 3), 1 / 3)), np.array([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2]])
    ours, theirs = both("kl_div", x, y, size_average=True, reduce=reduce, reduction="batchmean")
    np.testing.assert_allclose(ours, theirs)


def test_kl_div_log_target():
    x, y = np.log([0.2, 0.3, 0.5]), np.log([0.1, 0.6, 0.3])
    ours, theirs = both("kl_div", x, y, reduction="sum", log_target=True)
    np.testing.assert_allclose(ours, theirs)


def test_kl_div_mean_warns_and_batchmean_does_not():
    x, y = np.log([0.5, 0.5]), np.array([0.5, 0.5])
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        losskit.kl_div(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        losskit.kl_div(x, y, reduction="batchmean")
