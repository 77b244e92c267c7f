"""torch-side helpers of the family tests: the same call through losskit and through torch."""

from __future__ import annotations

import warnings

import numpy as np

import losskit
from losskit.testing.oracle import both

__all__ = ["STRICT_TIES", "TORCH_VERSION", "both", "first_grad_both", "grads_both"]


def _torch_version() -> tuple[int, int]:
    try:
        import torch
    except ImportError:
        return (0, 0)
    major, minor = torch.__version__.split(".")[:2]
    return int(major), int(minor)


#: the installed torch's (major, minor)
TORCH_VERSION = _torch_version()
#: torch 2.14 made clamp_min's gradient 0 at exactly 0 (margin_ranking, hinge_embedding,
#: cosine_embedding and the triplets give no gradient at exactly the margin); losskit follows
#: that on every torch, so on 2.13 the tests expect torch's older convention from torch
STRICT_TIES = TORCH_VERSION >= (2, 14)


def grads_both(name, *arrays, **options):
    """Gradients of every array: losskit.value_and_grad, and torch autograd on float64."""
    import torch

    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, ours = losskit.value_and_grad(getattr(losskit, name), *arrays, **options)
        getattr(torch.nn.functional, name)(*tensors, **options).backward()
    return [np.asarray(g) for g in ours], [t.grad.numpy() for t in tensors]


def first_grad_both(name, x, *rest, **options):
    """Gradient of the first array only (the others may be integer targets)."""
    import torch

    xt = torch.tensor(x, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, grads = losskit.value_and_grad(getattr(losskit, name), x, *rest, **options)
        topts = {k: torch.as_tensor(v) if isinstance(v, np.ndarray) else v
                 for k, v in options.items()}
        getattr(torch.nn.functional, name)(xt, *[torch.as_tensor(a) for a in rest],
                                           **topts).backward()
    return np.asarray(grads[0]), xt.grad.numpy()
