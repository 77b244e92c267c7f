"""A property-based differential test against the installed torch (hypothesis).

Random shapes (empty and K-dimensional ones included), layouts (Fortran order, negative
strides, strided views, read-only arrays), float16/32/64, every integer dtype for class
indices, special values (±inf, nan, ±1e30, tiny numbers, exact ties at margins, thresholds,
betas and deltas) and every option, through losskit on NumPy (value_and_grad against torch's
autograd) and on torch tensors (autograd through losskit against torch's). Inputs are never
modified. Differences torch and losskit agree to have are listed in ``ACCEPTED`` with the
deviation they are (docs/deviations.md), each also pinned by a test in its family's file.

``LOSSKIT_FUZZ_EXAMPLES`` raises the number of examples per loss (CI runs the default);
``LOSSKIT_FUZZ_RANDOM=1`` draws new examples instead of the fixed, derandomized ones.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import losskit
from fuzz_cases import CASES, Draw
from losskit.testing.case import torch_version
from losskit.testing.ties import STRICT_CLAMP_SINCE

torch = pytest.importorskip("torch")

CLAMP_MIN_LOSSES = ("margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss",
                    "triplet_margin_loss", "triplet_margin_with_distance_loss")
EXAMPLES = int(os.environ.get("LOSSKIT_FUZZ_EXAMPLES", "60"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    derandomize=not os.environ.get("LOSSKIT_FUZZ_RANDOM"),
                    suppress_health_check=list(HealthCheck), database=None)
TOLERANCE = {"float16": 2e-2, "float32": 2e-4, "float64": 1e-7}


def _widen(a):
    if isinstance(a, np.ndarray) and a.dtype == np.float16:
        return a.astype(np.float32)
    return a


def _torch_value(draw: Draw, requires_grad: bool, library=None, half: bool = False):
    """torch's value (and its tensors) for a drawn call, or the exception it raises; with
    ``library=losskit``, losskit's on the same tensors (class indices in their own dtype)."""
    arrays = draw.torch_arrays if library is None else draw.arrays
    options = draw.options
    if library is None and draw.dtype == "float16" and not half:
        # the oracle for float16: torch in float32 on the same values, the arithmetic that
        # torch's fused CPU kernels (and losskit) do before rounding once; its composite
        # losses round intermediates to float16 instead (docs/deviations.md)
        arrays = [_widen(a) for a in arrays]
        options = {k: _widen(v) for k, v in options.items()}
    tensors = [torch.tensor(np.array(a, order="C")) for a in arrays]
    for t, diff in zip(tensors, draw.differentiable):
        if requires_grad and diff and t.is_floating_point():
            t.requires_grad_(True)
    options = {k: torch.tensor(np.array(v, order="C")) if isinstance(v, np.ndarray) else v
               for k, v in options.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = getattr(library or torch.nn.functional, draw.loss)(*tensors, **options)
    return value, tensors


def _term_scale(draw: Draw) -> float:
    """The sum of the magnitudes of the unreduced terms: the scale of a 'sum' or 'mean' in
    which large terms cancel (summation order then decides the last digits)."""
    if draw.options.get("reduction", "mean") == "none":
        return 0.0
    terms, _ = _torch_value(replace(draw, options={**draw.options, "reduction": "none"}),
                            requires_grad=False)
    terms = np.abs(terms.detach().numpy().astype(np.float64))
    return float(np.sum(terms[np.isfinite(terms)]))


def _compare(got, want, dtype: str, what: str, draw: Draw | None = None,
             scale: float = 0.0) -> None:
    got = np.asarray(got, dtype=np.float64)
    with np.errstate(over="ignore"):  # the float16 oracle, rounded (to inf, maybe)
        want = np.asarray(want, dtype=dtype).astype(np.float64)
    if draw is not None and got.shape == want.shape:
        want = draw.accepted(what, got, want)
    assert got.shape == want.shape, f"{what}: shape {got.shape}, torch {want.shape}"
    assert np.array_equal(np.isnan(got), np.isnan(want)), f"{what}: nan\n{got}\n{want}"
    finite = np.isfinite(want)
    assert np.array_equal(got[~finite & ~np.isnan(want)], want[~finite & ~np.isnan(want)]), (
        f"{what}: inf\n{got}\n{want}")
    assert np.array_equal(np.isfinite(got), finite), f"{what}: finite\n{got}\n{want}"
    if finite.any():
        rtol = TOLERANCE[dtype]
        scale = max(float(np.max(np.abs(want[finite]))), scale)
        # subnormal numbers carry fewer digits: an absolute floor at their scale
        floor = np.finfo(dtype).tiny * (1.0 if dtype == "float16" else 1e4)
        # absolute: at the scale of the values, and at least of 1 (a loss such as 1 - cos
        # is a difference of numbers near 1: its last bits are absolute, not relative)
        np.testing.assert_allclose(got[finite], want[finite], rtol=rtol,
                                   atol=rtol * max(scale, 1.0) + floor, err_msg=what)


def _check(draw: Draw) -> None:
    before = [np.array(a, copy=True) for a in draw.arrays]
    option_arrays = {k: np.array(v, copy=True) for k, v in draw.options.items()
                     if isinstance(v, np.ndarray)}
    try:
        want, tensors = _torch_value(draw, requires_grad=True)
    except Exception as exc:  # torch refuses: losskit must refuse with a clear error
        with pytest.raises((ValueError, TypeError, IndexError)), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            losskit.value_and_grad(getattr(losskit, draw.loss), *draw.arrays, **draw.options)
        assert type(exc).__name__ in ("RuntimeError", "ValueError", "IndexError",
                                      "NotImplementedError", "TypeError")
        return
    g = draw.grad_output(tuple(want.shape))
    # torch 2.13's clamp_min gradient at exactly 0 predates the convention losskit follows
    # (tests/test_embedding.py and test_triplet.py pin both): no gradients compared there
    torch_backward = want.requires_grad and not (
        draw.loss in CLAMP_MIN_LOSSES and torch_version() < STRICT_CLAMP_SINCE)
    if torch_backward:
        try:
            want.backward(torch.tensor(g, dtype=want.dtype))
        except RuntimeError:  # torch's own backward fails (huber with an integer target)
            torch_backward = False
    fn = getattr(losskit, draw.loss)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch's warnings, as torch gives them
        warnings.simplefilter("error", RuntimeWarning)  # NumPy's: losskit computes silently
        value, grads = losskit.value_and_grad(fn, *draw.arrays, grad_output=g, **draw.options)
    dtype = draw.dtype
    want_dtype = want.dtype
    if dtype == "float16":
        want_dtype = _torch_value(draw, requires_grad=False, half=True)[0].dtype
    assert str(value.dtype) == str(want_dtype).rsplit(".", 1)[-1], (value.dtype, want_dtype)
    _compare(value, want.detach().numpy(), dtype, "value", draw, _term_scale(draw))
    for name, got, t, diff in zip(draw.names, grads, tensors, draw.differentiable):
        if torch_backward and diff and t.grad is not None and draw.gradient_comparable(name):
            _compare(draw.comparable(name, got), draw.comparable(name, t.grad.numpy()), dtype,
                     f"gradient of {name}", draw)
    for a, b in zip(draw.arrays, before):
        np.testing.assert_array_equal(a, b)  # never modified (also read-only)
    for k, v in option_arrays.items():
        np.testing.assert_array_equal(draw.options[k], v)
    _check_through_torch(draw, want, dtype, torch_backward)


def _check_through_torch(draw: Draw, want, dtype: str, torch_backward: bool) -> None:
    """losskit on torch tensors: the same value, and autograd through losskit's pullbacks."""
    ours, tensors = _torch_value(draw, requires_grad=True, library=losskit)
    _compare(ours.detach().numpy(), want.detach().numpy(), dtype, "value on torch tensors",
             draw, _term_scale(draw))
    if not ours.requires_grad or not torch_backward:
        return
    g = torch.tensor(draw.grad_output(tuple(ours.shape)), dtype=ours.dtype)
    ours.backward(g)
    theirs, their_tensors = _torch_value(draw, requires_grad=True)
    theirs.backward(g)
    for name, t, u, diff in zip(draw.names, tensors, their_tensors, draw.differentiable):
        if diff and u.grad is not None and draw.gradient_comparable(name):
            got = t.grad.numpy() if t.grad is not None else np.zeros_like(u.grad.numpy())
            _compare(draw.comparable(name, got), draw.comparable(name, u.grad.numpy()), dtype,
                     f"autograd through losskit, {name}", draw)


@pytest.mark.parametrize("loss", sorted(CASES))
def test_differential_against_torch(loss):
    @SETTINGS
    @given(data=st.data())
    def run(data):
        draw = data.draw(CASES[loss](), label=loss)
        _check(draw)

    run()


def test_the_fuzz_sees_special_values_and_layouts():
    """The strategies reach what they are for (checked on a fixed sample)."""
    seen = {"inf": False, "nan": False, "fortran": False, "negative": False, "f16": False,
            "int8": False, "empty": False}

    @settings(max_examples=300, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def sample(data):
        draw = data.draw(st.sampled_from(sorted(CASES)).flatmap(lambda n: CASES[n]()))
        for a in draw.arrays:
            a = np.asarray(a)
            if np.issubdtype(a.dtype, np.floating):
                seen["inf"] |= bool(np.isinf(a).any())
                seen["nan"] |= bool(np.isnan(a).any())
                seen["f16"] |= a.dtype == np.float16
            seen["int8"] |= a.dtype == np.int8
            seen["empty"] |= a.size == 0
            seen["fortran"] |= a.ndim >= 2 and a.flags.f_contiguous and not a.flags.c_contiguous
            seen["negative"] |= any(s < 0 for s in a.strides)

    sample()
    assert all(seen.values()), seen
    assert math.isfinite(EXAMPLES)
