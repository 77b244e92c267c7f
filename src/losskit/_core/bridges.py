"""Autograd through losskit: torch's and JAX's autodiff use losskit's analytic pullbacks.

A loss called on torch tensors that require gradients (with grad mode on) runs as one
``torch.autograd.Function`` whose backward is the loss's pullback; a loss called on JAX
tracers (under ``jax.grad``, ``jax.jit``, ...) runs as one ``jax.custom_vjp`` function whose
backward recomputes the forward and calls the pullback. So every backend gets the gradients
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


def _split(arrays: tuple[str, ...], arguments: dict[str, Any], kind: type
           ) -> tuple[list[str], dict[str, Any]]:
    names = [n for n in arrays if isinstance(arguments.get(n), kind)]
    return names, {k: v for k, v in arguments.items() if k not in names}


def _through_torch(forward: Callable[..., Any], arrays: tuple[str, ...],
                   arguments: dict[str, Any]) -> Array | None:
    import torch

    names, others = _split(arrays, arguments, torch.Tensor)
    wanted = frozenset(n for n in names if arguments[n].requires_grad)
    if not wanted or not torch.is_grad_enabled():
        return None
    call = functools.partial(forward, **others)
    return _torch_function().apply(call, names, wanted, *(arguments[n] for n in names))


@functools.cache
def _torch_function() -> Any:
    import torch
    from torch.autograd.function import once_differentiable

    class LosskitFunction(torch.autograd.Function):
        """One losskit loss as a node of torch's graph: forward, then its pullback."""

        @staticmethod
        def forward(ctx: Any, call: Any, names: list[str], wanted: frozenset[str],
                    *tensors: Any) -> Any:
            value, pullback = call(**dict(zip(names, tensors)), _want=Want(wanted))
            ctx.pullback, ctx.names, ctx.wanted = pullback, names, wanted
            return value

        @staticmethod
        @once_differentiable
        def backward(ctx: Any, g: Any) -> Any:
            grads = ctx.pullback(g)
            return (None, None, None,
                    *(grads.get(n) if n in ctx.wanted else None for n in ctx.names))

    return LosskitFunction


def _through_jax(forward: Callable[..., Any], arrays: tuple[str, ...],
                 arguments: dict[str, Any]) -> Array | None:
    import jax
    import numpy as np

    names, others = _split(arrays, arguments, jax.Array)
    if not any(isinstance(arguments[n], jax.core.Tracer) for n in names):
        return None  # concrete arrays: no transformation is watching

    def call(xs: tuple[Any, ...], want: Want | None = None) -> Any:
        return forward(**others, **dict(zip(names, xs)), _want=want)

    @jax.custom_vjp
    def loss(*xs: Any) -> Any:
        return call(xs)[0]

    def fwd(*xs: Any) -> Any:
        return loss(*xs), xs

    def bwd(xs: tuple[Any, ...], g: Any) -> tuple[Any, ...]:
        floating = frozenset(n for n, x in zip(names, xs)
                             if jax.numpy.issubdtype(x.dtype, jax.numpy.inexact))
        with warnings.catch_warnings():  # the forward has warned already
            warnings.simplefilter("ignore")
            grads = call(xs, Want(floating))[1](g)
        out = []
        for n, x in zip(names, xs):
            if n not in floating:  # integer arguments take float0 cotangents
                out.append(np.zeros(x.shape, dtype=jax.dtypes.float0))
            else:
                d = grads.get(n)
                out.append(jax.numpy.zeros_like(x) if d is None else d)
        return tuple(out)

    loss.defvjp(fwd, bwd)
    return loss(*(arguments[n] for n in names))
