"""One test per finding of the reliability review (differential fuzzing against torch and a
new user's walk-through), named after it. Expected values come from torch, called side by
side, unless a comment derives them; the fuzz itself is tests/test_differential.py.
"""

from __future__ import annotations

import functools
import subprocess
import sys
import warnings

import numpy as np
import pytest

import losskit

from torch_helpers import both

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _torch_grads(name, *arrays, **options):
    tensors = [torch.tensor(a, requires_grad=np.asarray(a).dtype.kind == "f") for a in arrays]
    options = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    value = getattr(F, name)(*tensors, **options)
    value.backward(torch.ones_like(value))
    return value.detach().numpy(), [t.grad.numpy() if t.grad is not None else None
                                    for t in tensors]


# --- medium ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
                                  "binary_cross_entropy"])
def test_float16_mean_and_sum_accumulate_in_float32(name):
    # 70,000 terms of 0.25 (mse) or 0.5: a float16 running sum stalls at 2048
    x = np.full(70_000, 0.5, np.float16)
    y = np.zeros(70_000, np.float16) if name != "binary_cross_entropy" else np.full(
        70_000, 0.5, np.float16)
    for reduction in ("mean", "sum"):
        ours, theirs = both(name, x, y, reduction=reduction)
        assert ours.dtype == np.float16
        np.testing.assert_allclose(ours.astype(float), theirs.astype(float), rtol=1e-3)
    assert float(losskit.mse_loss(x, np.zeros_like(x))) == 0.25


def test_float16_intermediates_are_float32():
    """Norms, row sums, the gaussian variance gradient and BCE's weight × gradient."""
    # expected: torch in float32 on the same float16 values, rounded once (torch's half
    # triplet rounds every intermediate and is off by up to 7% here)
    rng = np.random.default_rng(0)
    a, p, n = (rng.normal(size=(8, 512)).astype(np.float16) * 100 for _ in range(3))
    ours = losskit.triplet_margin_loss(a, p, n, reduction="none")
    _, theirs = both("triplet_margin_loss", *(v.astype(np.float32) for v in (a, p, n)),
                     reduction="none")
    assert ours.dtype == np.float16
    np.testing.assert_array_equal(ours, theirs.astype(np.float16))
    logits = rng.normal(size=(4, 5000)).astype(np.float16)
    ours = losskit.cross_entropy(logits, np.array([1, 2, 3, 4]), reduction="none")
    _, theirs = both("cross_entropy", logits.astype(np.float32), np.array([1, 2, 3, 4]),
                     reduction="none")
    np.testing.assert_allclose(ours, theirs.astype(np.float16), rtol=1e-3)
    x, y, v = (np.array([3.0, -2.0], np.float16), np.zeros(2, np.float16),
               np.array([0.01, 200.0], np.float16))
    _, (_, _, dv) = losskit.value_and_grad(losskit.gaussian_nll_loss, x, y, v)
    _, (_, _, tv) = _torch_grads("gaussian_nll_loss", x.astype(np.float32),
                                 y.astype(np.float32), v.astype(np.float32))
    np.testing.assert_array_equal(dv, tv.astype(np.float16))
    p16 = np.array([0.3, 0.9], np.float16)
    _, (gp, _) = losskit.value_and_grad(losskit.binary_cross_entropy, p16, np.array(
        [1.0, 0.0], np.float16), weight=np.array([300.0, 300.0], np.float16))
    assert np.all(np.isfinite(gp)) and gp.dtype == np.float16


def test_cross_entropy_keeps_the_logsumexp_correction_at_large_logits():
    for big in (1e4, 1e30):
        x = np.array([[big, big]], np.float32)
        value, (dx, _) = losskit.value_and_grad(losskit.cross_entropy, x, np.array([0]))
        assert float(value) == pytest.approx(np.log(2.0), rel=1e-6)  # log 2: two equal logits
        np.testing.assert_allclose(dx, [[-0.5, 0.5]], rtol=1e-6)
        ours, theirs = both("cross_entropy", x, np.array([0]))
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
        # class probabilities too: -(0.5 log 0.5 + 0.5 log 0.5) = log 2
        probs = losskit.cross_entropy(x, np.array([[0.5, 0.5]], np.float32))
        assert float(probs) == pytest.approx(np.log(2.0), rel=1e-6)


@pytest.mark.parametrize("dtype", [torch.int32, torch.int16, torch.uint8, torch.int8])
def test_class_indices_of_every_integer_dtype_on_torch_tensors(dtype):
    x = torch.tensor([[0.2, 1.5, -0.3], [0.7, 0.1, 0.4]], requires_grad=True)
    t = torch.tensor([1, 2], dtype=dtype)
    for name in ("cross_entropy", "nll_loss", "multi_margin_loss"):
        ours = getattr(losskit, name)(x, t).detach()
        theirs = getattr(F, name)(x, t.long()).detach()
        assert float(ours) == pytest.approx(float(theirs), rel=1e-6)
    if dtype != torch.uint8:  # uint8 cannot hold the -1 padding
        rows = torch.tensor([[1, -1, 0], [2, 0, -1]], dtype=dtype)
        ours = losskit.multilabel_margin_loss(x, rows).detach()
        want = F.multilabel_margin_loss(x, rows.long()).detach()
        assert float(ours) == pytest.approx(float(want))


def test_autograd_through_losskit_uses_the_analytic_pullbacks():
    # binary_cross_entropy at x = 1 and x = 0: torch's 1 / max(x(1 - x), 1e-12), not nan
    x = torch.tensor([1.0, 0.0], requires_grad=True)
    losskit.binary_cross_entropy(x, torch.tensor([0.0, 1.0])).backward()
    _, (want, _) = _torch_grads("binary_cross_entropy", np.array([1.0, 0.0], np.float32),
                                np.array([0.0, 1.0], np.float32))
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-6)
    # the README's example: ties of multilabel_margin give torch's gradient
    x = torch.tensor([[1.0, 2.0, 3.0, 4.0]], requires_grad=True)
    losskit.multilabel_margin_loss(x, torch.tensor([[0, 3, -1, -1]])).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[-0.5, 0.25, 0.25, 0.0]])
    # triplet with eps = 0 and anchor == positive: torch's 0, not nan
    a = torch.tensor([[1.0, 2.0]], requires_grad=True)
    losskit.triplet_margin_loss(a, a.detach().clone(), torch.tensor([[1.5, 2.0]]),
                                eps=0.0).backward()
    _, grads = _torch_grads("triplet_margin_loss", np.array([[1.0, 2.0]]),
                            np.array([[1.0, 2.0]]), np.array([[1.5, 2.0]]), eps=0.0)
    np.testing.assert_array_equal(a.grad.numpy(), grads[0])


def test_ctc_autograd_on_impossible_alignments_gives_torchs_nan():
    lp = torch.log_softmax(torch.randn(2, 1, 3, generator=torch.Generator().manual_seed(0)), -1)
    x = lp.detach().clone().requires_grad_(True)
    losskit.ctc_loss(x, torch.tensor([[1, 1]]), [2], [2], reduction="sum").backward()
    assert torch.isnan(x.grad).all()  # two steps cannot give "a a" (needs a blank between)
    y = lp.detach().clone().requires_grad_(True)
    F.ctc_loss(y, torch.tensor([[1, 1]]), [2], [2], reduction="sum").backward()
    assert torch.isnan(y.grad).all()


def test_nested_losses_read_no_hidden_upstream_gradient():
    """A distance that is itself a loss (fused blockwise path) inside a triplet."""
    rng = np.random.default_rng(0)
    a, p, n = (rng.normal(size=(4, 300_000)) for _ in range(3))
    distance = functools.partial(losskit.mse_loss, reduction="sum")
    value, grads = losskit.value_and_grad(losskit.triplet_margin_with_distance_loss, a, p, n,
                                          distance_function=distance)
    tensors = [torch.tensor(v, requires_grad=True) for v in (a, p, n)]
    want = F.triplet_margin_with_distance_loss(
        *tensors, distance_function=lambda u, v: F.mse_loss(u, v, reduction="sum"))
    want.backward()
    assert float(value) == pytest.approx(float(want.detach()), rel=1e-9)
    for got, t in zip(grads, tensors):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(("name", "options"), [("mse_loss", {}), ("smooth_l1_loss", {}),
                                               ("l1_loss", {"weight": np.array([1.0, 2.0])})])
def test_integer_targets_beside_float_inputs(name, options):
    ours, theirs = both(name, np.array([0.5, 2.0]), np.array([1, 2]), **options)
    assert ours.dtype == theirs.dtype == np.float64
    np.testing.assert_allclose(ours, theirs)


# --- low ------------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [0.5, 1.5, 3.0])
def test_triplet_gradient_with_any_p_and_a_zero_coordinate(p):
    arrays = [np.array([[1.0, 2.0, 3.0]]), np.array([[1.0, 0.0, 1.0]]),
              np.array([[4.0, 4.0, 4.0]])]  # a - p has a zero coordinate
    _, ours = losskit.value_and_grad(losskit.triplet_margin_loss, *arrays, p=p, eps=0.0)
    _, theirs = _torch_grads("triplet_margin_loss", *arrays, p=p, eps=0.0)
    for got, want in zip(ours, theirs):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_swap_with_tied_distances_splits_the_gradient():
    arrays = [np.array([[0.0, 0.0]]), np.array([[0.0, 2.0]]), np.array([[0.0, 1.0]])]
    _, ours = losskit.value_and_grad(losskit.triplet_margin_loss, *arrays, swap=True, eps=0.0)
    _, theirs = _torch_grads("triplet_margin_loss", *arrays, swap=True, eps=0.0)
    for got, want in zip(ours, theirs):
        np.testing.assert_allclose(got, want, rtol=1e-15)  # d(a, n) = d(p, n) = 1: half each
    np.testing.assert_array_equal(ours[0], [[0.0, -0.5]])


def test_float32_norms_of_1e30_overflow_as_in_torch():
    big = np.array([[1e30, 1e30]], np.float32)
    for call in [("triplet_margin_loss", big, big, -big), ("triplet_margin_loss", big, -big,
                                                           -big),
                 ("cosine_embedding_loss", big, big, np.array([1.0], np.float32))]:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # and silently, as torch
            ours, theirs = both(*call)
        np.testing.assert_array_equal(ours, theirs)


def test_kl_div_empty_batchmean_is_nan_and_elementwise_mean_warns_once():
    for legacy in ({}, {"reduce": True}):
        ours, theirs = both("kl_div", np.zeros((0, 3)), np.zeros((0, 3)),
                            reduction="batchmean", **legacy)
        assert np.isnan(ours) and np.isnan(theirs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        losskit.kl_div(np.zeros((2, 3)), np.zeros((2, 3)), reduction="elementwise_mean")
    assert [str(w.message)[:36] for w in caught] == ["reduction='elementwise_mean' is depr"]


@pytest.mark.parametrize(("name", "arrays", "options"), [
    ("multilabel_soft_margin_loss", ([[np.inf, 0.3]], [[0.0, 1.0]]), {}),
    ("multilabel_soft_margin_loss", ([[-np.inf, 0.3]], [[1.0, 1.0]]), {}),
    ("multi_margin_loss", ([[np.inf, 0.3, 0.1]], [1]), {"p": 2}),
    ("multi_margin_loss", ([[-np.inf, 0.0, 0.0]], [0]), {"p": 2}),
    ("binary_cross_entropy_with_logits", ([-np.inf, 2.0], [0.5, 1.0]),
     {"pos_weight": np.array([2.0, 3.0])}),
    ("poisson_nll_loss", ([2.0, 2.0, 2.0], [np.inf, np.nan, 3.0]),
     {"log_input": False, "full": True}),
])
def test_infinities_match_torch_in_values_and_gradients(name, arrays, options):
    arrays = [np.asarray(a, dtype=np.float64) if np.asarray(a).dtype.kind == "f"
              else np.asarray(a) for a in arrays]
    value, ours = losskit.value_and_grad(getattr(losskit, name), *arrays, reduction="none",
                                         **options)
    want, theirs = _torch_grads(name, *arrays, reduction="none", **options)
    np.testing.assert_allclose(value, want, rtol=1e-12)  # the same nan and inf, too
    for got, expected in zip(ours, theirs):
        if expected is not None:
            np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_nll_and_cross_entropy_with_no_classes(reduction):
    for name in ("nll_loss", "cross_entropy"):
        ours, theirs = both(name, np.zeros((2, 0)), np.array([-100, -100]), reduction=reduction)
        np.testing.assert_array_equal(ours, theirs)
    ours, theirs = both("cross_entropy", np.zeros((2, 0)), np.zeros((2, 0)),
                        reduction=reduction)
    np.testing.assert_array_equal(ours, theirs)


def test_multi_margin_on_a_0d_input():
    for reduction in ("none", "mean", "sum"):
        ours, theirs = both("multi_margin_loss", np.array(0.5), np.array(0), reduction=reduction)
        assert ours.shape == theirs.shape and float(ours) == float(theirs) == 0.0


def test_label_smoothing_with_all_target_weights_zero_is_nan():
    for weight in ([0.0, 0.0], [0.0, 1.0]):
        ours, theirs = both("cross_entropy", np.array([[1.0, 2.0]]), np.array([0]),
                            weight=np.array(weight), label_smoothing=0.1)
        assert np.isnan(ours) and np.isnan(theirs)


def test_l1_loss_with_a_0d_weight_promotes_as_torch():
    ours, theirs = both("l1_loss", np.array(1.0, np.float32), np.array(0.0, np.float32),
                        weight=np.array(2.0))
    assert ours.dtype == theirs.dtype


def test_poisson_dtype_with_integer_input_and_float16_target():
    for x, y in [(np.array([1, 2]), np.array([1.0, 2.0], np.float16)),
                 (np.array([1.0, 2.0], np.float16), np.array([1, 2]))]:
        ours = losskit.poisson_nll_loss(torch.tensor(x), torch.tensor(y))
        assert ours.dtype == F.poisson_nll_loss(torch.tensor(x), torch.tensor(y)).dtype


def test_ctc_float16_is_accepted_as_documented():
    """torch has no half-precision CTC on the CPU; losskit computes it in float32
    (docs/deviations.md)."""
    lp = np.log(np.full((3, 1, 2), 0.5, np.float16))
    value = losskit.ctc_loss(lp, np.array([[1]]), [3], [1], reduction="sum")
    assert value.dtype == np.float16 and float(value) == pytest.approx(-np.log(6 / 8), rel=5e-3)
    with pytest.raises(NotImplementedError):
        F.ctc_loss(torch.tensor(lp), torch.tensor([[1]]), [3], [1])


def test_triplet_inf_norm_of_no_features_is_refused_as_in_torch():
    empty = np.zeros((2, 0))
    with pytest.raises(ValueError, match=r"the inf-norm of vectors with no elements"):
        losskit.triplet_margin_loss(empty, empty, empty, p=float("inf"))
    with pytest.raises(RuntimeError):
        F.triplet_margin_loss(*(torch.zeros(2, 0) for _ in range(3)), p=float("inf"))


# --- a new user -----------------------------------------------------------------------------

def test_repr_with_array_options():
    assert repr(losskit.CrossEntropyLoss(weight=np.ones(3))) == (
        "CrossEntropyLoss(weight=array([1., 1., 1.]))")
    for cls in ("NLLLoss", "BCELoss", "BCEWithLogitsLoss", "MultiMarginLoss",
                "MultiLabelSoftMarginLoss"):
        assert "weight=array" in repr(getattr(losskit, cls)(weight=np.ones(3)))


def test_explain_on_a_cosine_embedding_instance():
    e = losskit.explain(losskit.CosineEmbeddingLoss(margin=0.5), np.array([[1.0, 0.0]]),
                        np.array([[1.0, 1.0]]), np.array([-1.0]))
    assert e.loss == "cosine_embedding_loss" and "margin=0.5" in e.call


def test_broken_pipe_exits_quietly():
    for command in (["demo"], ["list"], ["eval", "mse_loss", "[1, 2]", "[0, 0]",
                                         "--reduction", "none"]):
        done = subprocess.run(f"{sys.executable} -m losskit {' '.join(map(repr, command))} "
                              "| head -c 1", shell=True, capture_output=True, text=True)
        assert done.stderr == "", command


def test_warnings_point_at_the_callers_line():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        losskit.mse_loss(np.ones((2, 3)), np.ones(3))
        _, _ = losskit.value_and_grad(losskit.kl_div, np.zeros(3), np.ones(3) / 3)
        losskit.L1Loss(size_average=False)
    assert len(caught) == 3
    assert all(w.filename == __file__ for w in caught), [w.filename for w in caught]


def test_eval_reads_large_files_with_numpys_reader(tmp_path):
    """(Timed in benchmarks/bench_cli.py.) 200,000 rows through numpy.loadtxt; a header and
    comments are still understood."""
    from losskit.cli.inputs import read_array

    path = tmp_path / "big.csv"
    values = np.random.default_rng(0).random(200_000)
    path.write_text("prediction\n# a comment\n" + "\n".join(repr(float(v)) for v in values) + "\n")
    array, from_text = read_array(str(path), "input")
    np.testing.assert_array_equal(array, values)
    assert from_text


@pytest.mark.parametrize("name", ["nn.CrossEntropyLoss", "torch.nn.functional.cross_entropy",
                                  "F.cross_entropy", "torch.nn.CrossEntropyLoss"])
def test_torch_spellings_of_loss_names(name):
    from losskit.cli.catalog import lookup

    assert lookup(name).name == "cross_entropy"


def test_a_missing_file_of_any_suffix_says_no_such_file(capsys):
    from losskit.cli import main

    assert main(["eval", "mse_loss", "predictions.parquet", "[1]"]) == 2
    assert "predictions.parquet): no such file" in capsys.readouterr().err


def test_explain_writes_multilabel_divisions_out():
    e = losskit.explain(losskit.multilabel_margin_loss, np.array([[1.0, 2.0, 3.0, 4.0]]),
                        np.array([[0, 3, -1, -1]]))
    assert "(2 + 3 + 0 + 0) / 4 = 1.25" in str(e)


def test_the_multilabel_error_gives_its_example_once():
    with pytest.raises(ValueError) as error:
        losskit.multilabel_margin_loss(np.zeros((1, 4)), np.array([[1, 0, 0, 1]]))
    assert str(error.value).count("[0, 3, -1, -1]") == 1


def test_classes_take_arrays_by_name():
    x, y = np.array([2.0, 4.0]), np.array([1.0, 3.0])
    assert float(losskit.MSELoss()(input=x, target=y)) == 1.0
    assert float(losskit.PoissonNLLLoss(log_input=False)(log_input=x, target=y)) == float(
        torch.nn.PoissonNLLLoss(log_input=False)(log_input=torch.tensor(x),
                                                 target=torch.tensor(y)))
    with pytest.raises(TypeError, match=r"MSELoss: unexpected array argument `prediction`"):
        losskit.MSELoss()(x, prediction=y)
