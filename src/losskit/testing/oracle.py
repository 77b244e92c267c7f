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
