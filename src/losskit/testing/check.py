"""The parity check: the installed losskit against the installed torch, on one backend.

Every case of the parity grid (``_cases``: random inputs of many shapes for every loss and
option set), in float32 and float64, for every reduction: the value (shape, dtype, numbers)
and the gradients of ``value_and_grad`` against torch's autograd. Tolerances are the test
suite's: rtol 1e-5 (float64), 1e-4 (float32).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

import losskit

from .._core.stable import log_softmax
from .backends import Backend, enable_jax_x64
from .case import SEED, Case, torch_version
from .grid import GENERATORS, cases_of, reductions_for
from .oracle import torch_call

# the test suite's tolerances too (tests/test_parity.py imports them)
RTOL = {"float32": 1e-4, "float64": 1e-5}
#: the backends a check can run on, and the package that provides each
KNOWN_BACKENDS = {"numpy": "numpy", "array_api_strict": "array-api-strict", "torch": "torch",
                  "jax": "jax", "dask": "dask[array]", "cupy": "cupy", "torch_cuda": "torch"}


@dataclass
class Tally:
    """One loss's results: checks run, failures, the worst relative error seen."""

    checks: int = 0
    failed: int = 0
    worst: float = 0.0
    first_failure: str = ""
    # gradient checks not made: the installed torch predates the convention losskit follows
    older: int = 0


def _compare(got: np.ndarray, want: np.ndarray, dtype: str, tally: Tally, what: str) -> None:
    tally.checks += 1
    problem = ""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape:
        problem = f"shape {got.shape}, torch {want.shape}"
    else:
        both = np.isfinite(got) & np.isfinite(want)
        if not np.array_equal(np.isnan(got), np.isnan(want)) or not np.array_equal(
                got[~both], want[~both], equal_nan=True):
            problem = "nan/inf where torch has none (or the reverse)"
        elif both.any():
            error = np.abs(got[both] - want[both])
            scale = RTOL[dtype] * np.abs(want[both]) + RTOL[dtype] * 1e-2
            tally.worst = max(tally.worst, float(np.max(error / np.maximum(
                np.abs(want[both]), 1e-300))))
            if np.any(error > scale):
                problem = f"max abs difference {float(np.max(error)):.3g}"
    if problem:
        tally.failed += 1
        tally.first_failure = tally.first_failure or f"{what}: {problem}"


def case_arguments(backend: Backend, case: Case) -> tuple[list[Any], dict[str, Any]]:
    """The case's arrays and options on ``backend`` (shared with tests/test_parity.py)."""
    arrays = [backend.asarray(a) for a in case.arrays]
    if backend.lazy and case.loss == "ctc_loss" and case.arrays[1].ndim == 1:
        # lazy arrays have no values to lay concatenated targets out with: lengths as lists
        arrays[2:] = [np.atleast_1d(a).tolist() for a in case.arrays[2:]]
    options = {k: _on(backend, v) for k, v in case.options.items()}
    return arrays, options


def _on(backend: Backend, value: Any) -> Any:
    """An option on ``backend``: arrays converted, inside sequences too (the adaptive
    softmax's tail pairs), other values as they are."""
    if isinstance(value, np.ndarray):
        return backend.asarray(value)
    if isinstance(value, (list, tuple)) and any(isinstance(v, (np.ndarray, list, tuple))
                                                for v in value):
        return type(value)(_on(backend, v) for v in value)
    return value


def _torch_ctc_grad(case: Case, reduction: str, g: np.ndarray) -> np.ndarray:
    """torch's gradient with respect to logits x, log_probs = log_softmax(x): losskit's ctc
    gradient is the true derivative, torch's differs off the log_softmax chain."""
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(case.arrays[0].copy()).requires_grad_(True)
    rest = [torch.from_numpy(a.copy()) for a in case.arrays[1:]]
    value = F.ctc_loss(F.log_softmax(x, -1), *rest, reduction=reduction, **case.options)
    value.backward(torch.from_numpy(g))
    return x.grad.numpy()


def _through_log_softmax(lp: np.ndarray, g: np.ndarray) -> np.ndarray:
    """The log_softmax VJP: the gradient with respect to logits whose log_softmax is ``lp``."""
    return g - np.exp(log_softmax(np, lp)) * np.sum(g, axis=-1, keepdims=True)


def check_case(backend: Backend, case: Case, dtype: str, tally: Tally) -> None:
    fn = getattr(losskit, case.loss)
    arrays, options = case_arguments(backend, case)
    for reduction in reductions_for(case.loss):
        where = f"{case.id} {dtype} reduction={reduction!r}"
        want, _, want_dtype = torch_call(case, reduction)
        g = np.random.default_rng(tally.checks).uniform(0.5, 1.5, want.shape).astype(dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value, grads = losskit.value_and_grad(fn, *arrays, grad_output=backend.asarray(g),
                                                  reduction=reduction, **options)
        got = backend.to_numpy(value)
        _compare(got, want, dtype, tally, f"{where} value")
        tally.checks += 1
        if backend.dtype_name(value) != want_dtype:
            tally.failed += 1
            tally.first_failure = tally.first_failure or (
                f"{where}: dtype {backend.dtype_name(value)}, torch {want_dtype}")
        if case.loss == "ctc_loss":
            ours = _through_log_softmax(case.arrays[0], backend.to_numpy(grads[0]))
            _compare(ours, _torch_ctc_grad(case, reduction, g), dtype, tally,
                     f"{where} gradient (through log_softmax)")
            continue
        if case.predates(torch_version()):
            tally.older += sum(1 for d in case.differentiable if d)
            continue
        _, torch_grads, _ = torch_call(case, reduction, True, g)
        for name, got_g, want_g in zip(("first", "second", "third"), grads, torch_grads):
            if want_g is None:
                continue
            _compare(backend.to_numpy(got_g), want_g, dtype, tally, f"{where} {name} gradient")


def run_check(backend_name: str, losses: list[str] | None = None, seed: int = 0,
              progress: Callable[[int, int, str], None] | None = None) -> dict[str, Tally]:
    """Check every case of ``losses`` (default: all) on one backend, exact ties included;
    results per loss."""
    backend = Backend(backend_name)
    if backend_name == "jax":
        enable_jax_x64()
    token = SEED.set(seed)
    try:
        work = [(loss, case, str(np.dtype(dt)))
                for loss in (losses or list(GENERATORS)) for dt in (np.float32, np.float64)
                for case in cases_of(loss, dt)]
    finally:
        SEED.reset(token)
    tallies = {loss: Tally() for loss in (losses or GENERATORS)}
    for done, (loss, case, dtype) in enumerate(work):
        if progress:
            progress(done, len(work), loss)
        try:
            check_case(backend, case, dtype, tallies[loss])
        except Exception as exc:  # a crash is a failure to report, not the end of the check
            tallies[loss].checks += 1
            tallies[loss].failed += 1
            tallies[loss].first_failure = tallies[loss].first_failure or (
                f"{case.id} {dtype}: {type(exc).__name__}: {exc}")
    if progress:
        progress(len(work), len(work), "done")
    return tallies


def table(tallies: dict[str, Tally]) -> Iterator[str]:
    yield f"{'loss':<34} {'checks':>7} {'passed':>7} {'failed':>7}  worst rel. error"
    for loss, t in tallies.items():
        mark = "" if not t.failed else "  FAIL"
        yield (f"{loss:<34} {t.checks:>7} {t.checks - t.failed:>7} {t.failed:>7}  "
               f"{t.worst:.1e}{mark}")
