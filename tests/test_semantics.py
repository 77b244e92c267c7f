"""Edge-case semantics against torch: dtypes, kinks, special values, legacy arguments.

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




def grads_both(name, *arrays, **options):
    """Gradients from losskit.value_and_grad and from torch autograd (float64 inputs)."""
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, ours = losskit.value_and_grad(getattr(losskit, name), *arrays, **options)
        getattr(F, name)(*tensors, **options).backward()
    return [np.asarray(g) for g in ours], [t.grad.numpy() for t in tensors]


@pytest.mark.parametrize("reduction", ["none", "sum"])
def test_l1_integer_inputs_stay_integer(reduction):
    ours, theirs = both("l1_loss", np.array([1, 5, 2]), np.array([3, 1, 2]), reduction=reduction)
    assert ours.dtype == theirs.dtype == np.int64
    np.testing.assert_array_equal(ours, theirs)


def test_l1_integer_mean_is_refused_like_torch():
    with pytest.raises(TypeError, match=r"l1_loss: reduction='mean' needs floating-point"):
        losskit.l1_loss(np.array([1, 2]), np.array([0, 0]))
    with pytest.raises(RuntimeError):  # torch refuses too
        F.l1_loss(torch.tensor([1, 2]), torch.tensor([0, 0]))


def test_l1_complex_gives_the_real_modulus():
    x, y = np.array([3 + 4j, 1j]), np.array([0j, 0j])
    ours, theirs = both("l1_loss", x, y, reduction="none")
    assert ours.dtype == theirs.dtype == np.float64
    np.testing.assert_allclose(ours, theirs)  # [5, 1]


def test_int_and_float_promote_to_the_float():
    ours, theirs = both("l1_loss", np.array([1, 2, 3]), np.array([0.5, 1.0, 1.5], np.float32))
    assert ours.dtype == theirs.dtype == np.float32
    np.testing.assert_allclose(ours, theirs)


def test_zero_dim_operand_promotes_after_broadcast_for_mse_but_not_for_kl():
    x = np.array([0.1, 0.2, 0.3], np.float32)
    assert both("mse_loss", x, np.array(1.0))[0].dtype == np.float64  # torch: float64
    ours, theirs = both("kl_div", np.log(x), np.array(0.5), reduction="none")
    assert ours.dtype == theirs.dtype == np.float32


def test_huber_keeps_the_input_dtype():
    ours, theirs = both("huber_loss", np.array([1.0, 3.0], np.float32), np.array([0.0, 0.0]))
    assert ours.dtype == theirs.dtype == np.float32


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


@pytest.mark.parametrize(
    ("name", "x", "y", "options"),
    [
        ("l1_loss", [1.0, 2.0], [1.0, 0.0], {}),  # |d| at d = 0: gradient 0
        ("smooth_l1_loss", [1.5, 0.0, -2.0], [0.5, 0.0, -1.0], {}),  # |d| = beta and 0
        ("smooth_l1_loss", [1.0, 0.0], [1.0, 1.0], {"beta": 0.0}),  # the l1 path
        ("huber_loss", [2.0, 0.0, -3.0], [0.0, 0.0, -1.0], {"delta": 2.0}),  # |d| = delta
        ("mse_loss", [1.0, 2.0], [1.0, 2.0], {}),
    ],
)
def test_subgradients_at_the_kinks_match_torch(name, x, y, options):
    ours, theirs = grads_both(name, x, y, **options)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)


def test_margin_ranking_is_active_at_the_margin():
    # z = margin - y (x1 - x2) = 0, -tiny, +tiny: torch's clamp_min gives [1, 0, 1]
    x1, x2, y = [0.0, 1e-9, -1e-9], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]
    ours, theirs = grads_both("margin_ranking_loss", x1, x2, y, reduction="sum")
    np.testing.assert_array_equal(ours[0], [-1.0, 0.0, -1.0])
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)


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


def test_infinite_beta_and_delta():
    x, y = np.array([0.0, 3.0, -5.0]), np.zeros(3)
    ours, theirs = both("smooth_l1_loss", x, y, beta=float("inf"), reduction="none")
    np.testing.assert_array_equal(ours, theirs)  # identically 0
    ours, theirs = both("huber_loss", x, y, delta=float("inf"), reduction="none")
    np.testing.assert_array_equal(ours, theirs)  # 0.5 d²


def test_poisson_full_adds_stirling_only_above_one():
    x, y = np.array([2.0, 4.0, 6.0, 1.0]), np.array([1.0, 3.0, 5.0, 0.0])
    ours, theirs = both("poisson_nll_loss", x, y, log_input=False, full=True, reduction="none")
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    np.testing.assert_allclose(ours[:3], [1.3069, 1.6052, 1.8120], atol=1e-4)  # spec §22


def test_poisson_full_target_gradient_is_zero_where_torch_gives_nan():
    x, y = np.array([2.0, 4.0]), np.array([0.0, 3.0])
    ours, theirs = grads_both("poisson_nll_loss", x, y, log_input=False, full=True)
    assert np.isnan(theirs[1][0]) and ours[1][0] == -np.log(2.0 + 1e-8) / 2  # deviation
    np.testing.assert_allclose(ours[1][1], theirs[1][1])


LEGACY = [(None, True), (None, False), (True, None), (True, False), (False, None),
          (False, True), (False, False)]


@pytest.mark.parametrize(("size_average", "reduce"), LEGACY)
@pytest.mark.parametrize(
    "name",
    ["l1_loss", "mse_loss", "smooth_l1_loss", "poisson_nll_loss", "kl_div",
     "margin_ranking_loss", "multilabel_margin_loss"],
)
def test_legacy_arguments_map_like_torch_and_warn(name, size_average, reduce):
    rng = np.random.default_rng(0)
    if name == "margin_ranking_loss":
        arrays = [rng.normal(size=4), rng.normal(size=4), np.array([1.0, -1, 1, -1])]
    elif name == "multilabel_margin_loss":
        arrays = [rng.normal(size=(2, 3)), np.array([[0, 2, -1], [1, -1, 0]])]
    else:
        arrays = [rng.uniform(0.1, 1, size=4), rng.uniform(0.1, 1, size=4)]
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        ours = getattr(losskit, name)(*arrays, size_average=size_average, reduce=reduce,
                                      reduction="sum")
    _, theirs = both(name, *arrays, size_average=size_average, reduce=reduce, reduction="sum")
    np.testing.assert_allclose(np.asarray(ours), theirs)


def test_elementwise_mean_is_an_alias_with_a_warning():
    x, y = np.array([1.0, 2.0]), np.array([0.0, 0.0])
    with pytest.warns(UserWarning, match="elementwise_mean' is deprecated"):
        assert float(losskit.l1_loss(x, y, reduction="elementwise_mean")) == 1.5


def test_size_mismatch_warns_like_torch():
    with pytest.warns(UserWarning, match=r"mse_loss: Using a target size \(\(3,\)\) that is "
                      r"different to the input size \(\(2, 3\)\)"):
        losskit.mse_loss(np.ones((2, 3)), np.ones(3))


def test_kl_div_mean_warns_and_batchmean_does_not():
    x, y = np.log([0.5, 0.5]), np.array([0.5, 0.5])
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        losskit.kl_div(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        losskit.kl_div(x, y, reduction="batchmean")


def test_weighted_means_follow_torchs_two_rules():
    x, y, w = np.array([1.0, 2.0, 4.0]), np.array([0.0, 0.0, 0.0]), np.array([1.0, 2.0, 3.0])
    for name in ("l1_loss", "mse_loss", "huber_loss"):
        ours, theirs = both(name, x, y, weight=w)
        np.testing.assert_allclose(ours, theirs)
    # huber: sum(w L) / numel = (0.5 + 2*1.5 + 3*3.5) / 3 = 14 / 3 (not / sum(w))
    np.testing.assert_allclose(both("huber_loss", x, y, weight=w)[0], 14 / 3)


def test_empty_inputs_give_nan_mean_and_zero_sum():
    for name in ("l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss", "poisson_nll_loss"):
        e = np.zeros((0, 3))
        assert np.isnan(losskit.__dict__[name](e, e))
        assert float(losskit.__dict__[name](e, e, reduction="sum")) == 0.0
    x = np.zeros((0, 4))
    assert np.isnan(losskit.multilabel_margin_loss(x, np.zeros((0, 4), np.int64)))


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
