"""The backend fixture: every parity test runs on each array library that is installed."""

from __future__ import annotations

import pytest

from losskit._backends import CPU_BACKENDS, Backend, enable_jax_x64, gpu_backends

GPU_BACKENDS, NO_GPU_REASON = gpu_backends()
BACKENDS = CPU_BACKENDS + GPU_BACKENDS

if "jax" in BACKENDS:
    enable_jax_x64()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    return Backend(request.param)
