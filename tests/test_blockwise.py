"""The blockwise NumPy path (large arrays of one shape) against torch and against itself.

Sizes exceed two blocks and end in a partial block; expected values come from torch.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import losskit
from losskit._core.blocks import BLOCK, blockable

torch = pytest.importorskip("torch")
F = torch.nn.functional

N = 2 * BLOCK + 12345


def _data(name, dtype):
    rng = np.random.default_rng(7)
    x = rng.normal(size=N)
    y = rng.normal(size=N)
    if name == "poisson_nll_loss":
        # counts >= 1: at 0, torch's full=True target gradient is NaN (docs/deviations.md)
        y = rng.poisson(3.0, size=N).astype(float) + 1
    if name == "kl_div":
        x = np.log(rng.uniform(0.01, 1, size=N))
        y = rng.uniform(0.0, 1, size=N) * (rng.uniform(size=N) > 0.1)  # zeros included
    arrays = [x, y]
    if name == "margin_ranking_loss":
        arrays.append(rng.choice([-1.0, 1.0], size=N))
    return [a.astype(dtype) for a in arrays]


CASES = [
    ("l1_loss", {}), ("mse_loss", {}), ("smooth_l1_loss", {"beta": 0.7}),
    ("huber_loss", {"delta": 1.3}), ("poisson_nll_loss", {}),
    ("poisson_nll_loss", {"log_input": False, "full": True}), ("kl_div", {}),
    ("kl_div", {"reduction": "batchmean"}), ("margin_ranking_loss", {"margin": 0.2}),
    ("l1_loss", {"weight": True}), ("mse_loss", {"weight": True}),
    ("huber_loss", {"weight": True}),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("name", "options"), CASES)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_blockwise_value_and_gradients_match_torch(name, options, reduction, dtype):
    arrays = _data(name, dtype)
    if name == "poisson_nll_loss" and not options.get("log_input", True):
        arrays[0] = np.abs(arrays[0]) + 0.1
    options = dict(options)
    options.setdefault("reduction", reduction)
    if options.pop("weight", False):
        options["weight"] = np.random.default_rng(1).uniform(0.1, 2, size=N).astype(dtype)
    assert blockable(np, *arrays)
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    topts = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = getattr(F, name)(*tensors, **topts)
        expected.backward()
        value, grads = losskit.value_and_grad(getattr(losskit, name), *arrays, **options)
    rtol = 1e-4 if dtype == np.float32 else 1e-9
    assert value.dtype == dtype
    np.testing.assert_allclose(value, expected.detach().numpy(), rtol=rtol)
    for got, t in zip(grads, tensors):
        assert got.dtype == dtype and got.shape == (N,)
        want = t.grad.numpy()
        # float32 cancellation (exp(x) - y near 0): absolute error relative to the largest
        atol = rtol * np.nanmax(np.abs(want))
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, equal_nan=True)


@pytest.mark.parametrize("name", ["mse_loss", "huber_loss", "kl_div"])
def test_blockwise_results_do_not_depend_on_the_thread_count(name, monkeypatch):
    arrays = _data(name, np.float32)
    results = []
    for threads in ("1", "3"):
        monkeypatch.setenv("LOSSKIT_NUM_THREADS", threads)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value, grads = losskit.value_and_grad(getattr(losskit, name), *arrays,
                                                  reduction="sum")
        results.append((value, grads))
    assert results[0][0] == results[1][0]
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(a, b)


def test_small_broadcast_or_strided_arrays_take_the_plain_path():
    x = np.ones((N, 2))
    assert not blockable(np, x[:, 0], x[:, 1])  # strided views
    assert not blockable(np, np.ones(N), np.ones(1))
    assert not blockable(np, np.ones(100), np.ones(100))


@pytest.mark.parametrize("grad_output", [2.5, np.asarray(0.5, np.float32)])
def test_blockwise_gradients_scale_with_grad_output(grad_output):
    """The gradients computed in the forward pass use value_and_grad's grad_output."""
    x, y = _data("huber_loss", np.float32)
    _, (dx1, dy1) = losskit.value_and_grad(losskit.huber_loss, x, y)
    _, (dx, dy) = losskit.value_and_grad(losskit.huber_loss, x, y, grad_output=grad_output)
    np.testing.assert_allclose(dx, dx1 * np.float32(grad_output), rtol=1e-6)
    np.testing.assert_allclose(dy, dy1 * np.float32(grad_output), rtol=1e-6)


def test_a_second_pullback_recomputes_whole_arrays():
    from losskit._core.gradients import Want, forward_of

    x, y = _data("mse_loss", np.float64)
    _, pullback = forward_of(losskit.mse_loss)(x, y, _want=Want(frozenset({"input"}), 1.0))
    first = pullback(np.asarray(1.0))
    second = pullback(np.asarray(2.0))  # not the fused g: evaluated on the whole arrays
    np.testing.assert_allclose(second["input"], 2 * first["input"], rtol=1e-12)
    np.testing.assert_allclose(first["input"], 2 * (x - y) / N, rtol=1e-12)  # d/dx mean (x-y)²


@pytest.mark.parametrize(
    "options",
    [{}, {"weight": True}, {"label_smoothing": 0.2}, {"ignore_index": 3},
     {"weight": True, "label_smoothing": 0.1, "ignore_index": 0, "reduction": "sum"}],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_row_blocks_match_torch(options, dtype):
    """Logits large enough for row blocks; value_and_grad writes gradients in that pass."""
    rng = np.random.default_rng(3)
    c = 400
    n = 2 * BLOCK // c + 37  # several row blocks, the last one partial
    x = (rng.normal(size=(n, c)) * 3).astype(dtype)
    t = rng.integers(0, c, size=n)
    t[::7] = options.get("ignore_index", -100)
    options = dict(options)
    if options.pop("weight", False):
        options["weight"] = rng.uniform(0.2, 2, size=c).astype(dtype)
    assert blockable(np, x)
    xt = torch.tensor(x, requires_grad=True)
    topts = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
    expected = F.cross_entropy(xt, torch.tensor(t), **topts)
    expected.backward()
    value, (dx, dt) = losskit.value_and_grad(losskit.cross_entropy, x, t, **options)
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(value, expected.detach().numpy(), rtol=rtol)
    np.testing.assert_allclose(losskit.cross_entropy(x, t, **options), value, rtol=rtol)
    want = xt.grad.numpy()
    np.testing.assert_allclose(dx, want, rtol=rtol, atol=rtol * np.abs(want).max())
    assert dt is None and dx.dtype == dtype
