"""The backend fixture: every parity test runs on each array library that is installed."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest


@dataclass(frozen=True)
class Backend:
    """One array library: how to move NumPy test data in and results out."""

    name: str

    @property
    def xp(self) -> Any:
        if self.name == "numpy":
            return np
        if self.name == "array_api_strict":
            import array_api_strict

            return array_api_strict
        import torch

        return torch

    def asarray(self, a: Any) -> Any:
        if a is None:
            return None
        a = np.asarray(a)
        if self.name == "numpy":
            return a.copy()
        if self.name == "array_api_strict":
            import array_api_strict

            return array_api_strict.asarray(a.copy())
        import torch

        return torch.from_numpy(a.copy())

    def to_numpy(self, x: Any) -> np.ndarray:
        if x is None:
            return None
        if self.name == "torch":
            return x.detach().numpy()
        if self.name == "array_api_strict":
            return np.from_dlpack(x)
        return np.asarray(x)

    def dtype_name(self, x: Any) -> str:
        return str(x.dtype).rsplit(".", 1)[-1]

    def __str__(self) -> str:
        return self.name


BACKENDS = [
    name
    for name, module in [
        ("numpy", "numpy"),
        ("array_api_strict", "array_api_strict"),
        ("torch", "torch"),
    ]
    if importlib.util.find_spec(module) is not None
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    return Backend(request.param)
