"""ctc_loss: gradients through log_softmax against torch, the true derivative, and errors."""

from __future__ import annotations

import numpy as np
import pytest

import losskit
from losskit.losses import _compiled
from losskit.testing.grid import ctc_cases

torch = pytest.importorskip("torch")
F = torch.nn.functional

CASES = list(ctc_cases(np.float64))


def _log_softmax(x):
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


PATHS = ["array_api", pytest.param("compiled", marks=pytest.mark.skipif(
    not _compiled.available(), reason="numba is not installed (pip install 'losskit[accel]')"))]


@pytest.fixture(params=PATHS)
def path(request, monkeypatch):
    """Both NumPy implementations: the array-API trellis and the compiled (numba) kernel."""
    monkeypatch.setenv("LOSSKIT_NUMBA", "1" if request.param == "compiled" else "0")
    return request.param


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("index", range(len(CASES)), ids=[c.id for c in CASES])
def test_gradient_through_log_softmax_matches_torch(index, reduction, path):
    """torch's CTC gradient adds exp(log_probs); the two agree once chained through a
    log-softmax (the deviation documented in docs/deviations.md). Both NumPy paths."""
    case = CASES[index]
    lp, tgt, il, tl = case.arrays
    logits = lp + 0.3  # any logits whose log-softmax is lp
    xt = torch.tensor(logits, requires_grad=True)
    value = F.ctc_loss(torch.log_softmax(xt, -1), torch.tensor(tgt), torch.tensor(il),
                       torch.tensor(tl), reduction=reduction, **case.options)
    g = np.random.default_rng(index).uniform(0.5, 1.5, size=tuple(value.shape))
    value.backward(torch.tensor(g))
    ours, (dlp, *rest) = losskit.value_and_grad(
        losskit.ctc_loss, _log_softmax(logits), tgt, il, tl, grad_output=g,
        reduction=reduction, **case.options
    )
    np.testing.assert_allclose(ours, value.detach().numpy(), rtol=1e-10)
    assert rest == [None, None, None]
    dx = dlp - np.exp(_log_softmax(logits)) * dlp.sum(-1, keepdims=True)  # log_softmax VJP
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-8, atol=1e-12, equal_nan=True)


def test_autograd_through_losskit_gives_the_true_derivative():
    case = CASES[0]
    lp, tgt, il, tl = case.arrays
    t = torch.tensor(lp, requires_grad=True)
    losskit.ctc_loss(t, torch.tensor(tgt), torch.tensor(il), torch.tensor(tl)).backward()
    _, (dlp, *_) = losskit.value_and_grad(losskit.ctc_loss, lp, tgt, il, tl)
    np.testing.assert_allclose(t.grad.numpy(), dlp, rtol=1e-10, atol=1e-14)


def test_lists_of_lengths_and_known_values():
    lp = np.log(np.full((3, 1, 2), 0.5))
    # six alignments of length 3 collapse to [1]: p = 6/8, loss = -log(0.75)
    np.testing.assert_allclose(losskit.ctc_loss(lp, np.array([[1]]), [3], (1,), reduction="sum"),
                               -np.log(0.75))
    # no time steps: an empty target is certain, a non-empty one impossible
    zero = losskit.ctc_loss(lp, np.array([[1]]), [0], [0], reduction="none")
    assert zero[0] == 0.0
    assert losskit.ctc_loss(lp, np.array([[1]]), [0], [1], reduction="none")[0] == np.inf


LP = _log_softmax(np.random.default_rng(0).normal(size=(6, 2, 4)))
TGT = np.array([[1, 2, 3], [2, 2, 0]])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"blank": 4}, ValueError, r"`blank` must be a class index in \[0, 4\), got 4"),
        ({"input_lengths": [7, 6]}, ValueError, r"`input_lengths` must be at most the number "
                                                r"of time steps T = 6, got 7"),
        ({"input_lengths": [-1, 6]}, ValueError, r"`input_lengths` must be non-negative"),
        ({"target_lengths": [4, 2]}, ValueError, r"a target length of 4 exceeds the padded "
                                                 r"targets' width S = 3"),
        ({"input_lengths": [6]}, ValueError, r"`input_lengths` must hold one length per sample "
                                             r"\(N = 2\), got 1"),
        ({"targets": np.array([[1, 2, 3]])}, ValueError, r"padded targets must have one row per "
                                                         r"sample, shape \(2, S\)"),
        ({"targets": np.array([1, 2, 3, 2])}, ValueError, r"concatenated targets must hold "
                                                          r"sum\(target_lengths\) = 5 labels"),
        ({"targets": np.array([[1, 0, 3], [2, 2, 0]])}, ValueError, r"target labels must lie in "
                                                                    r"\[0, 4\) and differ from "
                                                                    r"the blank \(0\), got 0"),
        ({"targets": np.array([[1, 9, 3], [2, 2, 0]])}, ValueError, r"target labels .* got 9"),
        ({"input_lengths": 6}, TypeError, r"`input_lengths` must be an integer array or a "
                                          r"list/tuple of ints"),
        ({"input_lengths": np.array([6.0, 6.0])}, TypeError, r"`input_lengths` must hold "
                                                             r"integer lengths"),
        ({"targets": TGT.astype(float)}, TypeError, r"`targets` must hold integer labels"),
        ({"log_probs": LP[None]}, ValueError, r"log_probs must be \(T, N, C\) or unbatched"),
        ({"log_probs": LP[:0]}, ValueError, r"log_probs must not be empty"),
    ],
)
def test_errors(kwargs, error, message):
    call = {"log_probs": LP, "targets": TGT, "input_lengths": [6, 5], "target_lengths": [3, 2]}
    call.update(kwargs)
    with pytest.raises(error, match=rf"ctc_loss: {message}"):
        losskit.ctc_loss(call.pop("log_probs"), call.pop("targets"), call.pop("input_lengths"),
                         call.pop("target_lengths"), **call)
