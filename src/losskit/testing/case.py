"""One parity case: a loss, NumPy arrays and options, with an id that names them.

The grid (``losskit.testing.grid``) yields cases; the test suite and ``losskit check`` run
each through losskit on every backend and through torch (``losskit.testing.oracle``).
"""

from __future__ import annotations

import contextvars
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["SEED", "Case", "away_from", "rng_for"]


@dataclass
class Case:
    loss: str
    arrays: tuple[np.ndarray, ...]
    options: dict[str, Any] = field(default_factory=dict)
    # which positional arrays torch differentiates (integer targets are not)
    differentiable: tuple[bool, ...] = (True, True)
    # "tie" for the cases that sit exactly on a kink (``losskit.testing.ties``)
    label: str = ""
    # the torch version since which torch's gradient follows losskit's convention here
    since: tuple[int, int] | None = None

    def predates(self, version: tuple[int, int]) -> bool:
        """Whether torch ``version`` is older than the convention this case follows."""
        return self.since is not None and version < self.since

    @property
    def shapes(self) -> str:
        """The arrays' shapes: ``3x4,4`` (``0d`` for a 0-d array)."""
        return ",".join(_shape(a) for a in self.arrays)

    @property
    def option_text(self) -> str:
        """The options as ``delta=2,weight=[3x4]`` (array options by their shape; empty
        when there are none)."""
        return ",".join(f"{k}={_option(v)}" for k, v in self.options.items())

    @property
    def id(self) -> str:
        """``huber_loss-3x4,4-delta=2``: the loss, the shapes and the options."""
        return "-".join(p for p in (self.loss, self.label, self.shapes, self.option_text) if p)

    def test_id(self, backend: str, dtype: str, reduction: str) -> str:
        """A test id naming the loss first: ``huber_loss-numpy-float32-3x4,4-delta=2,
        reduction=sum`` (``pytest -k huber_loss`` selects it)."""
        options = ",".join(p for p in (self.option_text, f"reduction={reduction}") if p)
        label = f"{self.label}-" if self.label else ""
        return f"{self.loss}-{backend}-{dtype}-{label}{self.shapes}-{options}"


def torch_version() -> tuple[int, int]:
    """The installed torch's (major, minor)."""
    import torch

    major, minor = torch.__version__.split(".")[:2]
    return int(major), int(minor)


def _shape(a: np.ndarray) -> str:
    return "x".join(map(str, a.shape)) or "0d"


def _option(v: Any) -> Any:
    """An option in a case id: arrays by their shape (inside sequences too)."""
    if isinstance(v, np.ndarray):
        return _shape(v)
    if isinstance(v, (list, tuple)) and any(isinstance(i, (np.ndarray, list, tuple)) for i in v):
        return "[" + ";".join(str(_option(i)) for i in v) + "]"
    return v


#: the seed of the random draws (0: the test suite's); ``losskit check --seed`` changes it
SEED: contextvars.ContextVar[int] = contextvars.ContextVar("SEED", default=0)


def rng_for(*key: Any) -> np.random.Generator:
    """A generator seeded by ``key`` (and :data:`SEED`): each case draws the same data
    whatever runs before it."""
    seed = SEED.get()
    return np.random.default_rng(zlib.crc32(repr(key if seed == 0 else (seed, *key)).encode()))


def away_from(values: np.ndarray, kinks: list[float], gap: float = 0.05) -> np.ndarray:
    """Nudge ``values`` off the kinks so finite differences and subgradients agree."""
    for k in kinks:
        close = np.abs(np.abs(values) - k) < gap
        values = np.where(close, values + 2 * gap * np.sign(values + 1e-9), values)
    return values
