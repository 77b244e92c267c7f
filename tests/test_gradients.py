"""value_and_grad's choice of gradients (argnums, keyword arrays) and that gradients nobody
asked for are never computed: counted in array operations, not timed."""

from __future__ import annotations

import collections
import warnings
from typing import ClassVar

import array_api_compat
import numpy as np
import pytest

import losskit
from losskit.testing.grid import all_cases

torch = pytest.importorskip("torch")
F = torch.nn.functional


class _Counting:
    """The NumPy namespace, counting calls of each function (the NumPy fast paths, which
    recognise the real namespace, step aside); the arrays it returns count their ufuncs."""

    def __init__(self, xp):
        self._xp = xp
        self.calls: collections.Counter = collections.Counter()

    def __getattr__(self, name):
        attribute = getattr(self._xp, name)
        if not callable(attribute) or isinstance(attribute, type):
            return attribute

        def counted(*args, **kwargs):
            self.calls[name] += 1
            result = attribute(*args, **kwargs)
            # what it computes is counted too
            return result.view(_Counted) if type(result) is np.ndarray else result

        return counted


class _Counted(np.ndarray):
    """An array counting every ufunc applied to it or to arrays computed from it
    (operators such as ``-x`` and ``2.0 * d`` included, which a namespace never sees)."""

    calls: ClassVar[collections.Counter] = collections.Counter()

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        _Counted.calls[f"{ufunc.__name__}.{method}"] += 1
        plain = tuple(np.asarray(i) if isinstance(i, _Counted) else i for i in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(np.asarray(o) if isinstance(o, _Counted) else o
                                  for o in kwargs["out"])
        result = getattr(ufunc, method)(*plain, **kwargs)
        if isinstance(result, tuple):
            return tuple(r.view(_Counted) if type(r) is np.ndarray else r for r in result)
        return result.view(_Counted) if type(result) is np.ndarray else result


@pytest.fixture
def counting(monkeypatch):
    real = array_api_compat.array_namespace
    namespace = _Counting(real(np.zeros(1)))

    def array_namespace(*arrays, **kwargs):
        xp = real(*arrays, **kwargs)
        return namespace if array_api_compat.is_numpy_namespace(xp) else xp

    monkeypatch.setattr(array_api_compat, "array_namespace", array_namespace)
    # the shortcut for plain NumPy arrays, which skips array_namespace's search
    monkeypatch.setattr(losskit._core.namespace, "_numpy_namespace", lambda: namespace)
    return namespace


def _operations(counting, call) -> int:
    """Namespace calls and ufunc applications of ``call``."""
    counting.calls.clear()
    _Counted.calls.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        call()
    return sum(counting.calls.values()) + sum(_Counted.calls.values())


CASES = [c for c in all_cases(np.float64) if sum(c.differentiable) >= 2
         and all(a.size > 0 for a in c.arrays)]


@pytest.mark.parametrize("case", CASES[::4], ids=lambda c: c.id)
def test_gradients_not_asked_for_are_not_computed(case, counting):
    fn = getattr(losskit, case.loss)
    differentiable = [i for i, d in enumerate(case.differentiable) if d]
    arrays = [a.view(_Counted) for a in case.arrays]

    def grads(argnums):
        return lambda: losskit.value_and_grad(fn, *arrays, argnums=argnums, **case.options)

    value_only = _operations(counting, lambda: fn(*arrays, **case.options))
    nothing = _operations(counting, grads(()))
    one = _operations(counting, grads(differentiable[0]))
    every = _operations(counting, grads(tuple(differentiable)))
    assert nothing <= value_only + 2  # the upstream gradient (ones), and nothing else
    assert nothing < one <= every
    assert one < every


def test_the_target_gradient_of_bce_with_logits_is_skipped(counting):
    x, y, pw = np.linspace(-3, 3, 7), np.linspace(0, 1, 7), np.full(7, 2.0)
    fn = losskit.binary_cross_entropy_with_logits
    _operations(counting, lambda: losskit.value_and_grad(fn, x, y, argnums=0, pos_weight=pw))
    input_only = counting.calls["log1p"]
    _operations(counting, lambda: losskit.value_and_grad(fn, x, y, pos_weight=pw))
    assert counting.calls["log1p"] > input_only  # log σ(±x) for the target's gradient


def test_argnums_picks_positions_and_names_in_order():
    x, y, w = np.array([1.0, -2.0, 3.0]), np.array([0.5, 0.0, 1.0]), np.array([1.0, 2.0, 0.5])
    _, grads = losskit.value_and_grad(losskit.mse_loss, x, y, argnums=("weight", 0), weight=w)
    tensors = [torch.tensor(a, requires_grad=True) for a in (x, y, w)]
    F.mse_loss(tensors[0], tensors[1], weight=tensors[2]).backward()
    np.testing.assert_allclose(grads[0], tensors[2].grad.numpy())  # (L - mean) / Σw
    np.testing.assert_allclose(grads[1], tensors[0].grad.numpy())
    single = losskit.grad(losskit.mse_loss, x, y, argnums=1, weight=w)
    np.testing.assert_allclose(single, tensors[1].grad.numpy())
    assert isinstance(single, np.ndarray)  # an int or a name: one gradient, not a tuple
    assert len(losskit.grad(losskit.mse_loss, x, y, argnums=(1,))) == 1
    negative = losskit.grad(losskit.mse_loss, x, y, argnums=-1, weight=w)
    np.testing.assert_allclose(negative, single)


@pytest.mark.parametrize(("name", "arrays", "options", "weight"), [
    ("l1_loss", ([1.0, -2.0], [0.0, 0.0]), {}, [1.0, 3.0]),
    ("huber_loss", ([1.0, -2.5], [0.0, 0.0]), {}, [1.0, 3.0]),
    ("multilabel_soft_margin_loss", ([[1.0, -2.0, 0.5]], [[1.0, 0.0, 1.0]]), {},
     [1.0, 2.0, 0.5]),
    ("cross_entropy", ([[1.0, -2.0, 0.5]], [[0.2, 0.3, 0.5]]), {"label_smoothing": 0.1},
     [1.0, 2.0, 0.5]),
])
def test_keyword_arrays_that_torch_differentiates(name, arrays, options, weight):
    arrays = [np.asarray(a) for a in arrays]
    w = np.asarray(weight)
    got = losskit.grad(getattr(losskit, name), *arrays, argnums="weight", weight=w, **options)
    tensors = [torch.tensor(a) for a in arrays]
    tw = torch.tensor(w, requires_grad=True)
    getattr(F, name)(*tensors, weight=tw, **options).backward()
    np.testing.assert_allclose(got, tw.grad.numpy(), rtol=1e-12)


def test_keyword_arrays_torch_does_not_differentiate_get_none():
    x, t, w = np.array([[1.0, 2.0]]), np.array([0]), np.array([1.0, 2.0])
    assert losskit.grad(losskit.cross_entropy, x, t, argnums="weight", weight=w) is None
    assert losskit.grad(losskit.binary_cross_entropy_with_logits, np.zeros(2), np.ones(2),
                        argnums=("pos_weight",), pos_weight=np.ones(2)) == (None,)
    assert losskit.grad(losskit.mse_loss, np.zeros(2), np.ones(2), argnums="weight") is None


def test_argnums_errors():
    x = np.zeros(3)
    with pytest.raises(ValueError, match=r"argnums 2 is out of range for 2 positional arrays "
                       r"\(input, target\)"):
        losskit.grad(losskit.mse_loss, x, x, argnums=2)
    with pytest.raises(ValueError, match=r"'pos_weight' is not an array argument of mse_loss "
                       r"\(those are input, target, weight\)"):
        losskit.grad(losskit.mse_loss, x, x, argnums="pos_weight")
    with pytest.raises(TypeError, match=r"`argnums` must be ints or names"):
        losskit.grad(losskit.mse_loss, x, x, argnums=(0.5,))
