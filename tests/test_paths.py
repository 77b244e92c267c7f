"""The NumPy fast paths give the parity grid's results: every case of the grid, with a
block size of two elements so that even the grid's small arrays are evaluated block by block
(``blocks``), once with NumPy's loops only (``LOSSKIT_NUMBA=0``) and once with the compiled
kernels (numba, when installed). Expected values and gradients come from torch (the oracle),
with the parity tests' tolerances; the gradients use a scalar upstream gradient, so that
value_and_grad writes them in the forward pass, as it does on large arrays.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import losskit
from losskit._core import blocks, kernels
from losskit.testing.backends import Backend
from losskit.testing.case import torch_version
from losskit.testing.check import RTOL, case_arguments
from losskit.testing.grid import all_cases
from losskit.testing.oracle import torch_call

pytest.importorskip("torch")

CASES = {dt: all_cases(np.dtype(dt).type) for dt in ("float32", "float64")}
PATHS = ["numpy-blocks", pytest.param("compiled-blocks", marks=pytest.mark.skipif(
    kernels.numba() is None, reason="numba is not installed (pip install 'losskit[accel]')"))]


def _params():
    for dtype, cases in CASES.items():
        for index, case in enumerate(cases):
            if case.loss == "ctc_loss":  # its own two paths: tests/test_sequence.py
                continue
            for reduction in ("mean", "sum"):
                yield pytest.param(dtype, index, reduction,
                                   id=case.test_id("numpy", dtype, reduction))


@pytest.fixture(params=PATHS)
def path(request, monkeypatch):
    monkeypatch.setattr(blocks, "BLOCK", 2)
    monkeypatch.setenv("LOSSKIT_NUMBA", "1" if request.param.startswith("compiled") else "0")
    return request.param


@pytest.mark.parametrize(("dtype", "index", "reduction"), list(_params()))
def test_blockwise_paths_match_torch(path, dtype, index, reduction):
    case = CASES[dtype][index]
    if case.predates(torch_version()):
        pytest.skip(f"torch predates the tie convention losskit follows (torch {case.since})")
    g = np.asarray(np.random.default_rng(index).uniform(0.5, 1.5), dtype=dtype)
    expected_value, expected_grads, _ = torch_call(case, reduction, True, g)
    arrays, options = case_arguments(Backend("numpy"), case)
    fn = getattr(losskit, case.loss)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value, grads = losskit.value_and_grad(fn, *arrays, grad_output=g, reduction=reduction,
                                              **options)
    close = dict(rtol=RTOL[dtype], atol=RTOL[dtype] * 1e-2, equal_nan=True)
    np.testing.assert_allclose(value, expected_value, **close)
    for got, want in zip(grads, expected_grads):
        if want is None:
            assert got is None
        else:
            np.testing.assert_allclose(got, want, **close)
