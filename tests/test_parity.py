"""Values, dtypes, shapes and gradients of every loss against torch (the oracle).

Every case of ``losskit._cases`` runs on every backend, in float32 and float64, for every reduction.
Tolerances: rtol 1e-5 (float64), 1e-4 (float32).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import losskit
from losskit._cases import Case, all_cases, reductions_for, torch_call
from losskit._check import RTOL, case_arguments

torch = pytest.importorskip("torch")

CASES = {dt: all_cases(dt) for dt in (np.float32, np.float64)}


def _call(backend, case: Case, reduction: str):
    fn = getattr(losskit, case.loss)
    arrays, options = case_arguments(backend, case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn, arrays, options, fn(*arrays, reduction=reduction, **options)


def _close(actual: np.ndarray, expected: np.ndarray, dtype: str) -> None:
    np.testing.assert_allclose(
        actual, expected, rtol=RTOL[dtype], atol=RTOL[dtype] * 1e-2, equal_nan=True
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("index", range(len(CASES[np.float64])))
def test_value_matches_torch(backend, dtype, index):
    case = CASES[np.dtype(dtype).type][index]
    for reduction in reductions_for(case.loss):
        expected, _, expected_dtype = torch_call(case, reduction)
        _, arrays, _, value = _call(backend, case, reduction)
        assert type(value) is type(arrays[0]), "the result keeps the inputs' array library"
        got = backend.to_numpy(value)
        assert got.shape == expected.shape, (case.id, reduction)
        assert backend.dtype_name(value) == expected_dtype, (case.id, reduction)
        _close(got, expected, dtype)


# ctc_loss's gradient is the true derivative, torch's adds exp(log_probs) (a documented
# deviation): test_sequence.py compares it through log_softmax instead
TORCH_GRADIENT = [i for i, c in enumerate(CASES[np.float64]) if c.loss != "ctc_loss"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("index", TORCH_GRADIENT)
def test_gradients_match_torch_autograd(backend, dtype, index):
    case = CASES[np.dtype(dtype).type][index]
    for reduction in reductions_for(case.loss):
        value_shape = torch_call(case, reduction)[0].shape
        g = np.random.default_rng(index).uniform(0.5, 1.5, size=value_shape).astype(dtype)
        expected_value, expected_grads, _ = torch_call(case, reduction, True, g)
        fn, arrays, options, _ = _call(backend, case, reduction)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value, grads = losskit.value_and_grad(
                fn, *arrays, grad_output=backend.asarray(g), reduction=reduction, **options
            )
        _close(backend.to_numpy(value), expected_value, dtype)
        assert len(grads) == len(case.arrays)
        for got, want, array in zip(grads, expected_grads, case.arrays):
            if want is None:
                assert got is None, case.id
                continue
            assert type(got) is type(arrays[0])
            got = backend.to_numpy(got)
            assert got.shape == array.shape and got.dtype == array.dtype, case.id
            _close(got, want, dtype)


@pytest.mark.parametrize("index", TORCH_GRADIENT)
def test_torch_autograd_through_losskit(index):
    """On torch tensors, autograd through losskit's forward gives torch's own gradients."""
    case = CASES[np.float64][index]
    for reduction in reductions_for(case.loss):
        _, expected_grads, _ = torch_call(case, reduction, True)
        tensors = [torch.from_numpy(a.copy()) for a in case.arrays]
        for t, diff in zip(tensors, case.differentiable):
            t.requires_grad_(diff)
        options = {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v
                   for k, v in case.options.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = getattr(losskit, case.loss)(*tensors, reduction=reduction, **options)
        if value.requires_grad:
            value.backward(torch.ones_like(value))
        for t, want in zip(tensors, expected_grads):
            if want is not None:
                got = t.grad.numpy() if t.grad is not None else np.zeros_like(want)
                _close(got, want, "float64")


def _numeric_grad(f, arrays, i, h=1e-6):
    base = [a.copy() for a in arrays]
    flat = base[i].reshape(-1)
    out = np.zeros_like(flat)
    for k in range(flat.size):
        old = flat[k]
        flat[k] = old + h
        up = float(np.sum(f(*base)))
        flat[k] = old - h
        down = float(np.sum(f(*base)))
        flat[k] = old
        out[k] = (up - down) / (2 * h)
    return out.reshape(arrays[i].shape)


SMALL = [i for i, c in enumerate(CASES[np.float64]) if all(a.size <= 12 for a in c.arrays)]


@pytest.mark.parametrize("index", SMALL)
def test_gradients_match_central_differences(index):
    case = CASES[np.float64][index]
    fn = getattr(losskit, case.loss)
    for reduction in reductions_for(case.loss):
        def f(*arrays, reduction=reduction):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return fn(*arrays, reduction=reduction, **case.options)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value, grads = losskit.value_and_grad(fn, *case.arrays, reduction=reduction,
                                                  **case.options)
        if np.isnan(value).any():
            continue  # e.g. every target ignored: torch's convention (gradient 0) applies
        for i, (g, diff) in enumerate(zip(grads, case.differentiable)):
            if diff:
                np.testing.assert_allclose(g, _numeric_grad(f, case.arrays, i),
                                           rtol=1e-5, atol=1e-6, err_msg=case.id)
