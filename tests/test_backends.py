"""The backends beyond the parity grid: JAX under jit and jax.grad, Dask without computing
(and on a LocalCluster), and the result's device."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest

import losskit
from losskit.testing.grid import all_cases, reductions_for

CASES = all_cases(np.float64)
# jit compiles per call: every third case of the grid (all losses, all option sets appear)
SAMPLE = [pytest.param(i, id=CASES[i].id) for i in range(0, len(CASES), 3)]
EVERY = [pytest.param(i, id=CASES[i].id) for i in range(len(CASES))]


def _has_arrays(v):
    """An array, or a sequence of arrays (the adaptive softmax's tail pairs)."""
    return isinstance(v, np.ndarray) or (isinstance(v, (list, tuple)) and bool(v)
                                         and all(_has_arrays(a) for a in v))


def _to(v, convert):
    """``v`` with its NumPy arrays (inside sequences too) converted."""
    if isinstance(v, np.ndarray):
        return convert(v)
    return [_to(a, convert) for a in v] if _has_arrays(v) else v


def _split(case):
    """Array options (traced) and the rest (static)."""
    arrays = {k: v for k, v in case.options.items() if _has_arrays(v)}
    static = {k: v for k, v in case.options.items() if not _has_arrays(v)}
    return arrays, static


def _concatenated_ctc(case) -> bool:
    # concatenated targets are laid out by the lengths' values: not traceable (documented)
    return case.loss == "ctc_loss" and case.arrays[1].ndim == 1 and case.arrays[2].ndim == 1


@pytest.mark.slow
@pytest.mark.parametrize("index", SAMPLE)
def test_every_loss_runs_under_jax_jit(index):
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    case = CASES[index]
    if _concatenated_ctc(case):
        pytest.skip("concatenated CTC targets need the lengths' values (use padded targets)")
    fn = getattr(losskit, case.loss)
    array_options, static = _split(case)
    for reduction in reductions_for(case.loss):
        @functools.partial(jax.jit, static_argnames=())
        def jitted(arrays, options, reduction=reduction):
            return fn(*arrays, reduction=reduction, **options, **static)

        arrays = [jnp.asarray(a) for a in case.arrays]
        options = {k: _to(v, jnp.asarray) for k, v in array_options.items()}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = jitted(arrays, options)
            want = fn(*case.arrays, reduction=reduction, **case.options)
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-10, atol=1e-12,
                                   equal_nan=True, err_msg=f"{case.id} {reduction}")


@pytest.mark.slow
@pytest.mark.parametrize("index", SAMPLE)
def test_jax_grad_equals_value_and_grad(index):
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    case = CASES[index]
    if case.loss == "ctc_loss" and _concatenated_ctc(case):
        pytest.skip("concatenated CTC targets need the lengths' values")
    argnums = tuple(i for i, d in enumerate(case.differentiable) if d)
    fn = getattr(losskit, case.loss)

    options = {k: _to(v, jnp.asarray) for k, v in case.options.items()}

    def total(*arrays):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*arrays, reduction="sum", **options)

    arrays = [jnp.asarray(a) for a in case.arrays]
    if not np.isfinite(np.asarray(total(*arrays))).all():
        pytest.skip("an infinite or NaN loss: gradients follow conventions, not calculus")
    got = jax.grad(total, argnums=argnums)(*arrays)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, want = losskit.value_and_grad(fn, *case.arrays, reduction="sum", **case.options)
    for g, i in zip(got, argnums):
        np.testing.assert_allclose(np.asarray(g), want[i], rtol=1e-8, atol=1e-10,
                                   err_msg=case.id)


def _refuse(*args, **kwargs):
    raise AssertionError("a loss asked Dask to compute")


@pytest.mark.slow
@pytest.mark.parametrize("index", EVERY)
def test_dask_losses_stay_lazy(index):
    """Building a loss (and its gradients) on Dask arrays must compute nothing."""
    dask = pytest.importorskip("dask")
    da = pytest.importorskip("dask.array")
    case = CASES[index]
    fn = getattr(losskit, case.loss)
    arrays = [da.from_array(a, chunks=tuple(max(1, -(-n // 2)) for n in a.shape) or ())
              for a in case.arrays]
    if _concatenated_ctc(case):
        arrays[2:] = [a.tolist() for a in case.arrays[2:]]
    options = {k: _to(v, da.from_array)
               for k, v in case.options.items()}
    with dask.config.set(scheduler=_refuse), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for reduction in reductions_for(case.loss):
            value = fn(*arrays, reduction=reduction, **options)
            assert isinstance(value, da.Array)
            _, grads = losskit.value_and_grad(fn, *arrays, reduction=reduction, **options)
            assert all(g is None or isinstance(g, da.Array) for g in grads)


@pytest.mark.parametrize("backend_name", ["numpy", "torch", "jax"])
def test_results_stay_on_the_inputs_device(backend_name):
    pytest.importorskip(backend_name)
    import array_api_compat

    from losskit.testing.backends import Backend

    backend = Backend(backend_name)
    x = backend.asarray(np.array([[0.2, 0.7, 0.1]]))
    t = backend.asarray(np.array([1]))
    value, (dx, _) = losskit.value_and_grad(losskit.cross_entropy, x, t)
    assert array_api_compat.device(value) == array_api_compat.device(x)
    assert array_api_compat.device(dx) == array_api_compat.device(x)


def test_gpu_backends_run_the_suite_or_say_why_not():
    from conftest import GPU_BACKENDS, NO_GPU_REASON

    if not GPU_BACKENDS:
        pytest.skip(f"no GPU backend here ({NO_GPU_REASON}); the parity suite runs on CuPy "
                    "and torch CUDA tensors where a GPU is present")
    import array_api_compat

    from losskit.testing.backends import Backend

    for name in GPU_BACKENDS:
        backend = Backend(name)
        x = backend.asarray(np.array([[0.2, 0.7, 0.1]]))
        value = losskit.cross_entropy(x, backend.asarray(np.array([1])))
        assert array_api_compat.device(value) == array_api_compat.device(x)  # no host copy
