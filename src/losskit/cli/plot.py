"""``losskit plot``: losses (and their gradients) as functions of one variable.

Each plottable loss is shown on the axis where its picture means something: the residual
``x - y`` (regression), the margin ``y·x`` or logit difference (classification), the
probability given to the true class (binary_cross_entropy), a distance (hinge_embedding_loss)
or a log-rate (poisson_nll_loss). Values are the loss's own ``reduction='none'`` terms,
gradients its analytic ``value_and_grad``. matplotlib is an optional extra:
``pip install 'losskit[plot]'``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._core.gradients import value_and_grad
from .catalog import lookup
from .inputs import InputError, parse_option

Build = Callable[[np.ndarray], tuple[tuple[np.ndarray, ...], dict[str, Any]]]


@dataclass(frozen=True)
class Axis:
    label: str
    span: tuple[float, float]
    fixed: bool = False  # probabilities live in (0, 1) whatever --range says


RESIDUAL = Axis("residual x - y", (-3.0, 3.0))
MARGIN = Axis("margin: y·x, or true-class logit minus the other's (2 classes)", (-3.0, 3.0))
PROBABILITY = Axis("probability x given to the true class (y = 1)", (0.005, 0.995), True)
DISTANCE = Axis("distance x", (0.0, 3.0))
LOG_RATE = Axis("log-rate x (target y = 2)", (-2.0, 3.0))


def _pair(t: np.ndarray) -> np.ndarray:
    """Two-class scores [t, 0]: the true class (0) leads by t."""
    return np.stack([t, np.zeros_like(t)], axis=-1)


ones, zeros = np.ones_like, np.zeros_like
CURVES: dict[str, list[tuple[Axis, str, Build]]] = {
    "l1_loss": [(RESIDUAL, "", lambda t: ((t, zeros(t)), {}))],
    "mse_loss": [(RESIDUAL, "", lambda t: ((t, zeros(t)), {}))],
    "smooth_l1_loss": [(RESIDUAL, "beta=1", lambda t: ((t, zeros(t)), {}))],
    "huber_loss": [(RESIDUAL, "delta=1", lambda t: ((t, zeros(t)), {}))],
    "gaussian_nll_loss": [(RESIDUAL, "var=1", lambda t: ((t, zeros(t), ones(t)), {}))],
    "poisson_nll_loss": [(LOG_RATE, "", lambda t: ((t, 2 * ones(t)), {}))],
    "soft_margin_loss": [(MARGIN, "", lambda t: ((t, ones(t)), {}))],
    "binary_cross_entropy_with_logits": [(MARGIN, "", lambda t: ((t, ones(t)), {}))],
    "multilabel_soft_margin_loss": [(MARGIN, "C=1", lambda t: ((t[:, None], ones(t)[:, None]),
                                                               {}))],
    "cross_entropy": [(MARGIN, "C=2", lambda t: ((_pair(t), zeros(t, dtype=np.int64)), {}))],
    "multi_margin_loss": [(MARGIN, "C=2, divided by C",
                           lambda t: ((_pair(t), zeros(t, dtype=np.int64)), {}))],
    "margin_ranking_loss": [(MARGIN, "margin=0", lambda t: ((t, zeros(t), ones(t)), {}))],
    "binary_cross_entropy": [(PROBABILITY, "", lambda t: ((t, ones(t)), {}))],
    "hinge_embedding_loss": [(DISTANCE, "y=1", lambda t: ((t, ones(t)), {})),
                             (DISTANCE, "y=-1, margin=1", lambda t: ((t, -ones(t)), {}))],
}


def curve(name: str, build: Build, t: np.ndarray, options: dict[str, Any] | None = None
          ) -> tuple[np.ndarray, np.ndarray]:
    """The loss and its derivative along ``t`` (the first array holds ``t``; for two-class
    scores the derivative is the one with respect to the true class's score)."""
    fn = lookup(name).function
    arrays, defaults = build(t)
    options = {**defaults, **(options or {})}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value, grads = value_and_grad(fn, *arrays, reduction="none", **options)
    g = np.asarray(grads[0])
    return np.reshape(np.asarray(value), t.shape), np.reshape(g[..., 0] if g.ndim > 1 else g,
                                                              t.shape)


def parse_spec(spec: str) -> tuple[str, dict[str, Any]]:
    """``huber_loss:delta=2,reduction=none`` → the loss and its options (typed as in eval)."""
    name, _, rest = spec.partition(":")
    entry = lookup(name)
    options: dict[str, Any] = {}
    for item in filter(None, rest.split(",")):
        key, eq, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not eq or key not in entry.options or key in ("reduction", "size_average",
                                                         "reduce"):
            shown = ", ".join(k for k, p in entry.options.items()
                              if k not in ("reduction", "size_average", "reduce")
                              and not str(p.annotation).startswith(("Array", "Callable")))
            raise InputError(f"{spec}: expected LOSS:OPTION=VALUE,... with options of "
                             f"{entry.name} ({shown or 'it has none to set here'})")
        options[key] = parse_option(entry, key, value.strip(), None)
    return entry.name, options


def _label(name: str, variant: str, options: dict[str, Any]) -> str:
    parts = [p for p in variant.split(", ") if p and p.split("=")[0] not in options]
    parts += [f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in options.items()]
    return f"{name} ({', '.join(parts)})" if parts else name


def figure(losses: list[str], grad: bool = False, span: tuple[float, float] | None = None,
           points: int = 601) -> Any:
    """A matplotlib Figure: one column per kind of axis, the losses above, gradients below.
    Each loss is a name, optionally with options: ``huber_loss:delta=2``."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise InputError("plot needs matplotlib: pip install 'losskit[plot]' (or pip install "
                         "matplotlib)") from None
    specs = [parse_spec(spec) for spec in losses]
    names = [name for name, _ in specs]
    for name in names:
        if name not in CURVES:
            raise InputError(f"{name} has no one-variable picture (it needs whole rows, "
                             f"sequences or triplets); plottable: {', '.join(CURVES)}")
    axes: list[Axis] = list(dict.fromkeys(a for n in names for a, _, _ in CURVES[n]))
    rows = 2 if grad else 1
    fig = Figure(figsize=(5.2 * len(axes), 3.4 * rows), layout="constrained")
    grid = fig.subplots(rows, len(axes), squeeze=False, sharex="col")
    for col, axis in enumerate(axes):
        lo, hi = axis.span if axis.fixed or span is None else span
        t = np.linspace(lo, hi, points)
        for name, options in specs:
            for kind, variant, build in CURVES[name]:
                if kind is not axis:
                    continue
                value, derivative = curve(name, build, t, options)
                label = _label(name, variant, options)
                grid[0][col].plot(t, value, label=label)
                if grad:
                    grid[1][col].plot(t, derivative, label=label)
        grid[0][col].set_ylabel("loss (reduction='none')")
        grid[-1][col].set_xlabel(axis.label)
        for row in range(rows):
            grid[row][col].grid(alpha=0.3)
            grid[row][col].axhline(0, color="0.6", linewidth=0.8)
        grid[0][col].legend(fontsize=8)
        if grad:
            grid[1][col].set_ylabel("gradient d loss / d x")
    return fig


def plot_command(losses: list[str], grad: bool = False, output: str | None = None,
                 span: list[float] | None = None) -> int:
    names = [parse_spec(spec)[0] for spec in losses]
    output = output or "-".join(n.removesuffix("_loss") for n in names) + ".png"
    if not output.lower().endswith((".png", ".svg", ".pdf")):
        raise InputError(f"-o {output}: expected a .png, .svg or .pdf file name")
    if span is not None and not span[0] < span[1]:
        raise InputError(f"--range {span[0]} {span[1]}: LO must be below HI")
    fig = figure(losses, grad, None if span is None else (span[0], span[1]))
    folder = os.path.dirname(output)
    if folder and not os.path.isdir(folder):
        raise InputError(f"-o {output}: no such folder {folder!r}")
    fig.savefig(output, dpi=110, metadata={"Software": None} if output.endswith(".png")
                else None)
    print(f"wrote {output}")
    return 0
