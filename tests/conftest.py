"""The backends the suite runs on: every array library that is installed (JAX and Dask runs
are marked ``slow``; ``pytest -m "not slow"`` is the quick subset)."""

from __future__ import annotations

import pytest

from losskit.testing.backends import CPU_BACKENDS, Backend, enable_jax_x64, gpu_backends

GPU_BACKENDS, NO_GPU_REASON = gpu_backends()
BACKENDS = CPU_BACKENDS + GPU_BACKENDS
#: the backends whose runs are marked slow (compilation, task graphs)
SLOW_BACKENDS = ("jax", "dask")

if "jax" in BACKENDS:
    enable_jax_x64()


@pytest.fixture(params=[pytest.param(name, marks=[pytest.mark.slow] * (name in SLOW_BACKENDS))
                        for name in BACKENDS])
def backend(request: pytest.FixtureRequest) -> Backend:
    return Backend(request.param)
