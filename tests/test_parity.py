"""Values, dtypes, shapes and gradients of every loss against torch (the oracle).

Every case of ``losskit.testing.grid`` runs on every installed backend, in float32 and
float64, for every reduction; each test id names the loss, the backend, the dtype, the
shapes and the options (``pytest -k huber_loss`` runs huber's). The JAX and Dask runs are
marked ``slow`` (``pytest -m "not slow"`` leaves them out). Tolerances: rtol 1e-5 (float64),
1e-4 (float32).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import losskit
from losskit.testing.backends import Backend
from losskit.testing.case import torch_version
from losskit.testing.check import RTOL, case_arguments
from losskit.testing.grid import all_cases, reductions_for
from losskit.testing.oracle import torch_call

from conftest import BACKENDS, SLOW_BACKENDS

torch = pytest.importorskip("torch")

CASES = {dt: all_cases(np.dtype(dt).type) for dt in ("float32", "float64")}


def _params(backends, dtypes=("float32", "float64"), keep=lambda case: True):
    """One test per backend, dtype, case and reduction, with an id that names them."""
    return list(_each(backends, dtypes, keep))


def _each(backends, dtypes, keep):
    for backend in backends:
        marks = [pytest.mark.slow] if backend in SLOW_BACKENDS else []
        for dtype in dtypes:
            for index, case in enumerate(CASES[dtype]):
                if not keep(case):
                    continue
                for reduction in reductions_for(case.loss):
                    yield pytest.param(backend, dtype, index, reduction, marks=marks,
                                       id=case.test_id(backend, dtype, reduction))


def _call(backend, case, reduction):
    fn = getattr(losskit, case.loss)
    arrays, options = case_arguments(backend, case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn, arrays, options, fn(*arrays, reduction=reduction, **options)


def _close(actual: np.ndarray, expected: np.ndarray, dtype: str) -> None:
    np.testing.assert_allclose(
        actual, expected, rtol=RTOL[dtype], atol=RTOL[dtype] * 1e-2, equal_nan=True
    )


@pytest.mark.parametrize(("backend_name", "dtype", "index", "reduction"), _params(BACKENDS))
def test_value(backend_name, dtype, index, reduction):
    backend = Backend(backend_name)
    case = CASES[dtype][index]
    expected, _, expected_dtype = torch_call(case, reduction)
    _, arrays, _, value = _call(backend, case, reduction)
    assert type(value) is type(arrays[0]), "the result keeps the inputs' array library"
    got = backend.to_numpy(value)
    assert got.shape == expected.shape
    assert backend.dtype_name(value) == expected_dtype
    _close(got, expected, dtype)


# ctc_loss's gradient is the true derivative, torch's adds exp(log_probs) (a documented
# deviation): test_sequence.py compares it through log_softmax instead
def _torch_gradient(case):
    return case.loss != "ctc_loss"


@pytest.mark.parametrize(("backend_name", "dtype", "index", "reduction"),
                         _params(BACKENDS, keep=_torch_gradient))
def test_gradients(backend_name, dtype, index, reduction):
    """value_and_grad against torch's autograd, with a random upstream gradient."""
    backend = Backend(backend_name)
    case = CASES[dtype][index]
    if case.predates(torch_version()):
        pytest.skip(f"torch {torch.__version__} predates the tie convention losskit follows "
                    f"(torch {case.since}); tests/test_embedding.py pins both")
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
            assert got is None
            continue
        assert type(got) is type(arrays[0])
        got = backend.to_numpy(got)
        assert got.shape == array.shape and got.dtype == array.dtype
        _close(got, want, dtype)


@pytest.mark.parametrize(("backend_name", "dtype", "index", "reduction"),
                         _params(["torch"], ("float64",), keep=_torch_gradient))
def test_torch_autograd_through_losskit(backend_name, dtype, index, reduction):
    """On torch tensors, autograd through losskit's forward gives torch's own gradients."""
    case = CASES[dtype][index]
    if case.predates(torch_version()):
        pytest.skip(f"torch {torch.__version__} predates the tie convention losskit follows")
    _, expected_grads, _ = torch_call(case, reduction, True)
    tensors = [torch.from_numpy(a.copy()) for a in case.arrays]
    for t, diff in zip(tensors, case.differentiable):
        t.requires_grad_(diff)
    options = case_arguments(Backend("torch"), case)[1]  # tensors that require no grad
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = getattr(losskit, case.loss)(*tensors, reduction=reduction, **options)
    if value.requires_grad:
        value.backward(torch.ones_like(value))
    for t, want in zip(tensors, expected_grads):
        if want is not None:
            got = t.grad.numpy() if t.grad is not None else np.zeros_like(want)
            _close(got, want, dtype)


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


def _small(case):
    # not the exact ties: central differences there average the two sides of the kink
    return all(a.size <= 12 for a in case.arrays) and case.label != "tie"


@pytest.mark.parametrize(("backend_name", "dtype", "index", "reduction"),
                         _params(["numpy"], ("float64",), keep=_small))
def test_gradients_match_central_differences(backend_name, dtype, index, reduction):
    case = CASES[dtype][index]
    fn = getattr(losskit, case.loss)

    def f(*arrays):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*arrays, reduction=reduction, **case.options)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value, grads = losskit.value_and_grad(fn, *case.arrays, reduction=reduction,
                                              **case.options)
    if np.isnan(value).any():
        pytest.skip("a nan loss (e.g. every target ignored): torch's convention, gradient 0")
    for i, (g, diff) in enumerate(zip(grads, case.differentiable)):
        if diff:
            np.testing.assert_allclose(g, _numeric_grad(f, case.arrays, i), rtol=1e-5,
                                       atol=1e-6)
