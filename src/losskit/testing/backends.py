"""The array libraries losskit is checked on, and how NumPy data moves in and out of them.

Used by the test suite's backend fixture and by ``losskit check --backend NAME``.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Backend:
    """One array library: how to move NumPy test data in and results out."""

    name: str

    @property
    def lazy(self) -> bool:
        return self.name == "dask"

    def asarray(self, a: Any) -> Any:
        if a is None:
            return None
        a = np.asarray(a)
        if self.name == "numpy":
            return a.copy()
        if self.name == "array_api_strict":
            import array_api_strict

            return array_api_strict.asarray(a.copy())
        if self.name == "jax":
            import jax.numpy as jnp

            return jnp.asarray(a)
        if self.name == "cupy":
            import cupy

            return cupy.asarray(a)
        if self.name == "torch_cuda":
            import torch

            return torch.from_numpy(a.copy()).cuda()
        if self.name == "dask":
            import dask.array as da

            # two chunks along the first axis, so that reductions really combine chunks
            chunks = tuple(max(1, -(-n // 2)) if i == 0 else n for i, n in enumerate(a.shape))
            return da.from_array(a.copy(), chunks=chunks or ())
        import torch

        return torch.from_numpy(a.copy())

    def to_numpy(self, x: Any) -> np.ndarray:
        if x is None:
            return None
        if self.name in ("torch", "torch_cuda"):
            return x.detach().cpu().numpy()
        if self.name == "cupy":
            import cupy

            return cupy.asnumpy(x)
        if self.name == "array_api_strict":
            return np.from_dlpack(x)
        if self.name == "dask":
            # the chunks compute here, outside losskit's own silencing of NumPy's warnings
            # (0/0 = nan of an empty or all-ignored mean, log(0) before a clamp)
            with np.errstate(all="ignore"):
                return np.asarray(x.compute(scheduler="sync"))
        return np.asarray(x)

    def dtype_name(self, x: Any) -> str:
        return str(x.dtype).rsplit(".", 1)[-1]

    def __str__(self) -> str:
        return self.name


CPU_BACKENDS = [
    name
    for name, module in [
        ("numpy", "numpy"),
        ("array_api_strict", "array_api_strict"),
        ("torch", "torch"),
        ("jax", "jax"),
        ("dask", "dask"),
    ]
    if importlib.util.find_spec(module) is not None
]


def gpu_backends() -> tuple[list[str], str]:
    """CuPy and torch CUDA when a GPU is present, with the reason when not."""
    found, missing = [], []
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() > 0:
            found.append("cupy")
    except Exception as exc:  # ImportError, or CUDA without a device
        missing.append(f"cupy: {type(exc).__name__}")
    try:
        import torch

        if torch.cuda.is_available():
            found.append("torch_cuda")
        else:
            missing.append("torch: no CUDA device")
    except ImportError:
        missing.append("torch: not installed")
    return found, "; ".join(missing)


def enable_jax_x64() -> None:
    """float64 parity needs JAX's 64-bit mode (JAX computes in float32 otherwise)."""
    import jax

    jax.config.update("jax_enable_x64", True)
