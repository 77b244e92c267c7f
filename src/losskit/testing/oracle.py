"""torch as the oracle: its value and gradients for a case (torch is imported here only,
when called)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

import losskit

from .case import Case


def both(name: str, *arrays: Any, **options: Any) -> tuple[np.ndarray, np.ndarray]:
    """(losskit on NumPy, torch) for the same call, warnings silenced; arrays (and array
    options) go to torch as tensors, other values (a Python ``var``, a callable) as they are."""
    import torch

    def tensor(v: Any) -> Any:
        return torch.as_tensor(v) if isinstance(v, np.ndarray) else v

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = getattr(losskit, name)(*arrays, **options)
        theirs = getattr(torch.nn.functional, name)(
            *[tensor(np.asarray(a)) if isinstance(a, (list, np.ndarray)) else a for a in arrays],
            **{k: tensor(v) for k, v in options.items()},
        )
    return np.asarray(ours), theirs.detach().numpy()


def deviates_empty(case: Case, reduction: str) -> bool:
    """torch's multilabel_margin_loss and multi_margin_loss 'mean' and 'sum' of an empty
    batch are uninitialised memory (observed; the spec names only 'mean' for the first);
    losskit gives nan and 0."""
    x = case.arrays[0]
    return (case.loss in ("multilabel_margin_loss", "multi_margin_loss")
            and reduction != "none" and x.ndim == 2 and x.shape[0] == 0)


def torch_call(case: Case, reduction: str, requires_grad: bool = False,
               grad_output: np.ndarray | None = None) -> tuple[np.ndarray, list, str]:
    """The oracle: torch's value (and autograd gradients) for ``case``."""
    import torch
    import torch.nn.functional as F

    tensors = [torch.from_numpy(a.copy()) for a in case.arrays]
    for t, diff in zip(tensors, case.differentiable):
        if requires_grad and diff:
            t.requires_grad_(True)
    options = {
        k: torch.from_numpy(v.copy()) if isinstance(v, np.ndarray) else v
        for k, v in case.options.items()
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if case.loss == "adaptive_log_softmax_with_loss":
            value = _adaptive(tensors, options, reduction)
        else:
            value = getattr(F, case.loss)(*tensors, reduction=reduction, **options)
    grads: list = []
    if requires_grad:
        g = torch.ones_like(value) if grad_output is None else torch.from_numpy(grad_output)
        value.backward(g)
        grads = [t.grad.numpy() if t.grad is not None else None for t in tensors]
    result = value.detach().numpy()
    if deviates_empty(case, reduction):
        # torch returns uninitialised memory here; losskit's nan / 0 is a recorded deviation
        result = np.full_like(result, np.nan if reduction == "mean" else 0.0)
    return result, grads, str(value.dtype).rsplit(".", 1)[-1]


def _adaptive(tensors: list[Any], options: dict[str, Any], reduction: str) -> Any:
    """torch's ``nn.AdaptiveLogSoftmaxWithLoss`` holding the case's head (a differentiable
    argument) and tails: its loss ('mean'), or its output negated ('none') and summed."""
    import torch

    x, target, head = tensors
    tails = [tuple(torch.from_numpy(a.copy()) for a in pair) for pair in options["tail_weights"]]
    cutoffs = list(options["cutoffs"])
    n_classes = cutoffs[-1] + tails[-1][1].shape[0]
    bias = options.get("head_bias")
    module = torch.nn.AdaptiveLogSoftmaxWithLoss(x.shape[-1], n_classes, cutoffs,
                                                 head_bias=bias is not None, dtype=x.dtype)
    # the case's arrays in place of the module's parameters (the head keeps its gradient)
    parameters = {"head.weight": head}
    if bias is not None:
        parameters["head.bias"] = bias
    for i, (proj, out) in enumerate(tails):
        parameters[f"tail.{i}.0.weight"] = proj
        parameters[f"tail.{i}.1.weight"] = out
    result = torch.func.functional_call(module, parameters, (x, target))
    if reduction == "mean":
        return result.loss
    return -result.output if reduction == "none" else -result.output.sum()
