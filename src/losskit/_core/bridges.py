"""Autograd through losskit: torch's and JAX's autodiff use losskit's analytic pullbacks.

A loss called on torch tensors that require gradients (with grad mode on) runs as one
``torch.autograd.Function`` whose backward is the loss's pullback; a loss called on JAX
tracers (under ``jax.grad``, ``jax.jit``, ...) runs as one ``jax.custom_vjp`` function: for a
reduced loss (one number) its forward rule computes the gradients for an upstream of 1 in the
forward's own pass and the backward scales them by the upstream; otherwise the backward
recomputes the forward and calls the pullback. So every backend gets the gradients
``value_and_grad`` gives (torch's conventions at kinks and ties), and autograd never
differentiates through a forward's numerics (clamps, masks, stable rewrites).
torch and JAX are imported only when their arrays are seen.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any

from .gradients import Want
from .namespace import Array

__all__ = ["bridged", "watched"]


def _library(values: Any) -> str | None:
    for v in values:
        if isinstance(v, (list, tuple)):  # a sequence of arrays (the adaptive tails)
            inner = _library(v)
            if inner is not None:
                return inner
            continue
        module = type(v).__module__
        if module.startswith("torch"):
            return "torch"
        if module.startswith(("jax", "jaxlib")):
            return "jax"
    return None


def watched(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether a call has a torch or JAX value among its arguments (only then can autograd
    be watching it)."""
    return _library((*args, *kwargs.values())) is not None


def bridged(forward: Callable[..., Any], arrays: tuple[str, ...], arguments: dict[str, Any],
            traced: Callable[[dict[str, Any]], bool] | None) -> Array | None:
    """The loss's value through an autograd bridge when autodiff is watching (torch tensors
    that require grad, JAX tracers); ``None`` when the forward should simply be called."""
    library = _library(arguments.get(n) for n in arrays)
    if library is None or (traced is not None and traced(arguments)):
        return None
    if library == "torch":
        return _through_torch(forward, arrays, arguments)
    return _through_jax(forward, arrays, arguments)


#: an array argument, or one array inside a sequence argument: (name, positions)
Key = tuple[str, tuple[int, ...]]


def _reduced(arguments: dict[str, Any]) -> bool:
    """Whether the loss reduces to one number (torch's legacy ``size_average``/``reduce``
    flags, when given, decide; else ``reduction``)."""
    if arguments.get("size_average") is not None or arguments.get("reduce") is not None:
        return arguments.get("reduce") is not False
    return arguments.get("reduction", "mean") != "none"


def _walk(value: Any, path: tuple[int, ...] = ()) -> Any:
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _walk(item, (*path, i))
    else:
        yield path, value


def _split(arrays: tuple[str, ...], arguments: dict[str, Any], kind: type
           ) -> tuple[list[Key], list[Any], dict[str, Any]]:
    """The arrays of library ``kind`` among the array arguments (inside sequences too, such
    as the adaptive softmax's tail pairs) with their keys, and the other arguments."""
    keys, leaves = [], []
    for n in arrays:
        for path, leaf in _walk(arguments.get(n)):
            if isinstance(leaf, kind):
                keys.append((n, path))
                leaves.append(leaf)
    # the others keep no reference to the arrays taken out (a JAX rule closes over none)
    others = _rebuild(arguments, keys, [None] * len(keys))
    return keys, leaves, others


def _rebuild(arguments: dict[str, Any], keys: list[Key], leaves: Any) -> dict[str, Any]:
    """``arguments`` with the arrays at ``keys`` replaced by ``leaves`` (sequences rebuilt
    as tuples)."""
    out = dict(arguments)
    for (name, path), leaf in zip(keys, leaves):
        if not path:
            out[name] = leaf
        else:
            out[name] = _replaced(out[name], path, leaf)
    return out


def _replaced(value: Any, path: tuple[int, ...], leaf: Any) -> Any:
    items = list(value)
    items[path[0]] = leaf if len(path) == 1 else _replaced(items[path[0]], path[1:], leaf)
    return tuple(items)


def _picked(grads: dict[str, Any], key: Key) -> Any:
    """The gradient of one array argument (or of one array inside a sequence argument)."""
    g = grads.get(key[0])
    for i in key[1]:
        g = None if g is None else g[i]
    return g


def _through_torch(forward: Callable[..., Any], arrays: tuple[str, ...],
                   arguments: dict[str, Any]) -> Array | None:
    import torch

    keys, leaves, others = _split(arrays, arguments, torch.Tensor)
    wanted = frozenset(k[0] for k, leaf in zip(keys, leaves) if leaf.requires_grad)
    if not wanted or not torch.is_grad_enabled():
        return None

    def call(*tensors: Any, _want: Want) -> Any:
        return forward(**_rebuild(others, keys, tensors), _want=_want)

    return _torch_function().apply(call, keys, wanted, *leaves)


@functools.cache
def _torch_function() -> Any:
    import torch
    from torch.autograd.function import once_differentiable

    class LosskitFunction(torch.autograd.Function):
        """One losskit loss as a node of torch's graph: forward, then its pullback."""

        @staticmethod
        def forward(ctx: Any, call: Any, keys: list[Key], wanted: frozenset[str],
                    *tensors: Any) -> Any:
            value, pullback = call(*tensors, _want=Want(wanted))
            ctx.pullback, ctx.keys, ctx.wanted = pullback, keys, wanted
            return value

        @staticmethod
        @once_differentiable
        def backward(ctx: Any, g: Any) -> Any:
            grads = ctx.pullback(g)
            return (None, None, None,
                    *(_picked(grads, k) if k[0] in ctx.wanted else None for k in ctx.keys))

    return LosskitFunction


def _through_jax(forward: Callable[..., Any], arrays: tuple[str, ...],
                 arguments: dict[str, Any]) -> Array | None:
    import jax
    import numpy as np

    keys, leaves, others = _split(arrays, arguments, jax.Array)
    if not any(isinstance(leaf, jax.core.Tracer) for leaf in leaves):
        return None  # concrete arrays: no transformation is watching

    def call(xs: tuple[Any, ...], want: Want | None = None) -> Any:
        return forward(**_rebuild(others, keys, xs), _want=want)

    inexact = [jax.numpy.issubdtype(x.dtype, jax.numpy.inexact) for x in leaves]
    floating = frozenset(k[0] for k, f in zip(keys, inexact) if f)

    @jax.custom_vjp
    def loss(*xs: Any) -> Any:
        return call(xs)[0]

    def fwd(*xs: Any) -> Any:
        if not _reduced(others):
            return loss(*xs), (xs, None)
        # one number out: the gradients are g times those for an upstream of 1, which the
        # forward's own pass computes (Want.scalar); no second forward in the backward
        value, pullback = call(xs, Want(floating, 1.0))
        if value.ndim != 0:
            return value, (xs, None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            grads = pullback(jax.numpy.ones((), dtype=value.dtype))
        return value, (xs, [_picked(grads, k) for k in keys])

    def bwd(residual: Any, g: Any) -> tuple[Any, ...]:
        xs, unit = residual
        if unit is None:
            with warnings.catch_warnings():  # the forward has warned already
                warnings.simplefilter("ignore")
                grads = call(xs, Want(floating))[1](g)
            unit = [_picked(grads, k) for k in keys]
        else:
            unit = [None if d is None else (g * d).astype(d.dtype) for d in unit]
        out = []
        for x, f, d in zip(xs, inexact, unit):
            if not f:  # integer arguments take float0 cotangents
                out.append(np.zeros(x.shape, dtype=jax.dtypes.float0))
            else:
                out.append(jax.numpy.zeros_like(x) if d is None else d)
        return tuple(out)

    loss.defvjp(fwd, bwd)
    return loss(*leaves)
