"""The head family's classes: ``LinearCrossEntropyLoss`` and ``AdaptiveLogSoftmaxWithLoss``
hold their parameters as arrays of whatever library they are given.

Unlike the other loss classes, which only store options, these own trainable arrays, as
torch's modules do. Three ways to make one: torch's constructor signature (NumPy parameters
drawn as ``torch.nn.Linear`` draws them, from NumPy's generator); :meth:`init` from arrays of
any library; :meth:`from_torch` from a trained torch module (torch is imported only there).
"""

from __future__ import annotations

import math
from collections import namedtuple
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from .._core.namespace import Array, namespace
from ._adaptive import adaptive, full_log_prob, predict
from .head import (
    LinearCrossEntropyOptions,
    adaptive_log_softmax_with_loss,
    linear_cross_entropy,
)

__all__ = ["ASMoutput", "AdaptiveLogSoftmaxWithLoss", "LinearCrossEntropyLoss"]

#: what :class:`AdaptiveLogSoftmaxWithLoss` returns, named as torch's result
ASMoutput = namedtuple("ASMoutput", ["output", "loss"])


def _uniform(rng: Any, shape: tuple[int, ...], fan_in: int, dtype: Any) -> Any:
    """torch.nn.Linear's initial values: uniform in ``±1/sqrt(fan_in)`` (NumPy)."""
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    return rng.uniform(-bound, bound, size=shape).astype(dtype or "float32")


def _rng(fn: str, device: Any) -> Any:
    """NumPy's generator for the initial values (torch draws from its global generator;
    :meth:`init` takes arrays made any other way)."""
    import numpy as np

    if device not in (None, "cpu"):
        raise ValueError(f"{fn}: the constructor makes NumPy arrays (device None or 'cpu'), "
                         f"got device={device!r}; make the arrays on your device and pass "
                         f"them to {fn}.init(...), or use {fn}.from_torch(module).")
    return np.random.default_rng()


def _numpy(t: Any) -> Any:
    return t.detach().cpu().numpy()


class _Parametric:
    """Shared surface: called with ``(input, target)``; ``options()`` are the keyword
    arguments (parameters included) of ``function``, which ``value_and_grad`` uses."""

    function: ClassVar[Callable[..., Any]]
    _options: ClassVar[tuple[str, ...]] = ()
    #: value_and_grad binds the call's arrays by name (they are not the function's first)
    by_name: ClassVar[bool] = True

    @classmethod
    def inputs(cls) -> tuple[str, ...]:
        return ("input", "target")

    def options(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._options}

    def forward(self, input: Array, target: Array) -> Any:
        """Same as calling the instance (torch's spelling)."""
        return self(input, target)


class LinearCrossEntropyLoss(_Parametric):
    """torch's ``nn.LinearCrossEntropyLoss``: :func:`losskit.linear_cross_entropy` with its
    linear weight ``(C, *out_features, in_features)`` and optional bias held here.

    Example:
        >>> import numpy as np
        >>> loss = LinearCrossEntropyLoss.init(np.array([[1.0, 0.0], [0.0, 1.0]]))
        >>> round(float(loss(np.array([[1.0, 2.0], [0.5, -1.0]]), np.array([1, 0]))), 4)
        0.2573
    """

    function = staticmethod(linear_cross_entropy)
    _options = ("linear_weight", "linear_bias", "weight", "reduction", "ignore_index",
                "label_smoothing", "options")

    def __init__(self, in_features: int, num_classes: int, *,
                 out_features: tuple[int, ...] = (), bias: bool = False, device: Any = None,
                 dtype: Any = None, reduction: str = "mean", weight: Array | None = None,
                 ignore_index: int | None = None, label_smoothing: float = 0.0,
                 options: LinearCrossEntropyOptions | None = None) -> None:
        rows = math.prod(out_features, start=num_classes)
        rng = _rng("LinearCrossEntropyLoss", device)
        linear_weight = _uniform(rng, (rows, in_features), in_features, dtype).reshape(
            (num_classes, *out_features, in_features))
        linear_bias = _uniform(rng, (rows,), in_features, dtype).reshape(
            (num_classes, *out_features)) if bias else None
        self._set(linear_weight, linear_bias, reduction, weight, ignore_index,
                  label_smoothing, options)

    def _set(self, linear_weight: Array, linear_bias: Array | None, reduction: str,
             weight: Array | None, ignore_index: int | None, label_smoothing: float,
             options: LinearCrossEntropyOptions | None) -> None:
        fn = "LinearCrossEntropyLoss"
        num_classes = linear_weight.shape[0]
        if weight is not None and tuple(weight.shape) != (num_classes,):
            raise ValueError(f"{fn}: `weight` must have shape ({num_classes},), got "
                             f"{tuple(weight.shape)}.")
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"{fn}: `label_smoothing` must be in [0, 1], got "
                             f"{label_smoothing!r}.")
        self.linear_weight, self.linear_bias = linear_weight, linear_bias
        self.weight, self.reduction, self.ignore_index = weight, reduction, ignore_index
        self.label_smoothing = label_smoothing
        #: the LinearCrossEntropyOptions (torch's ``options`` attribute)
        self.chunking = options

    @property
    def num_classes(self) -> int:
        return self.linear_weight.shape[0]

    @property
    def out_features(self) -> tuple[int, ...]:
        return tuple(self.linear_weight.shape[1:-1])

    @property
    def in_features(self) -> int:
        return self.linear_weight.shape[-1]

    def options(self) -> dict[str, Any]:
        """The keyword arguments this instance passes to :func:`linear_cross_entropy`
        (its arrays included; ``chunking`` is passed as ``options``)."""
        return {"linear_weight": self.linear_weight, "linear_bias": self.linear_bias,
                "weight": self.weight, "reduction": self.reduction,
                "ignore_index": self.ignore_index, "label_smoothing": self.label_smoothing,
                "options": self.chunking}

    @classmethod
    def init(cls, linear_weight: Array, linear_bias: Array | None = None, **options: Any
             ) -> LinearCrossEntropyLoss:
        """An instance holding these arrays (any library; ``linear_weight`` ``(C, *out,
        D)``); ``options`` as the constructor's (reduction, weight, ...)."""
        namespace("LinearCrossEntropyLoss", linear_weight=linear_weight,
                  linear_bias=linear_bias)
        self = cls.__new__(cls)
        self._set(linear_weight, linear_bias, options.pop("reduction", "mean"),
                  options.pop("weight", None), options.pop("ignore_index", None),
                  options.pop("label_smoothing", 0.0), options.pop("options", None))
        if options:
            raise TypeError(f"LinearCrossEntropyLoss.init: unexpected options "
                            f"{sorted(options)}.")
        return self

    @classmethod
    def from_torch(cls, module: Any, array: Callable[[Any], Array] = _numpy
                   ) -> LinearCrossEntropyLoss:
        """An instance with a torch ``nn.LinearCrossEntropyLoss``'s parameters and options,
        each tensor converted by ``array`` (default: a NumPy copy; ``jax.numpy.asarray``
        of that for JAX, ``lambda t: t`` to keep the tensors)."""
        shape = (module.num_classes, *module.out_features, module.linear.in_features)
        weight = array(module.linear.weight.reshape(shape))
        bias = None if module.linear.bias is None else array(
            module.linear.bias.reshape(shape[:-1]))
        options = None
        if module.options is not None:
            o = module.options
            options = LinearCrossEntropyOptions(
                o.allow_retain_graph, o.batch_chunk_size, o.chunking_method, o.acc_policy,
                None if o.acc_dtype is None else str(o.acc_dtype).removeprefix("torch."))
        return cls.init(weight, bias, reduction=module.reduction,
                        weight=None if module.weight is None else array(module.weight),
                        ignore_index=module.ignore_index,
                        label_smoothing=module.label_smoothing, options=options)

    def __call__(self, input: Array, target: Array) -> Array:
        return linear_cross_entropy(input, self.linear_weight, target, **{
            k: v for k, v in self.options().items() if k != "linear_weight"})

    def __repr__(self) -> str:
        return (f"LinearCrossEntropyLoss(in_features={self.in_features}, "
                f"num_classes={self.num_classes}, out_features={self.out_features}, "
                f"bias={self.linear_bias is not None}, reduction={self.reduction!r}, "
                f"ignore_index={self.ignore_index}, label_smoothing={self.label_smoothing}, "
                f"options={self.chunking})")


class AdaptiveLogSoftmaxWithLoss(_Parametric):
    """torch's ``nn.AdaptiveLogSoftmaxWithLoss`` with its parameters held here: calling it
    gives ``ASMoutput(output, loss)`` (each row's target log-probability, and their negated
    mean); :meth:`log_prob` and :meth:`predict` as torch's.

    Example:
        >>> import numpy as np
        >>> asm = AdaptiveLogSoftmaxWithLoss(4, 10, cutoffs=[3, 6])
        >>> out = asm(np.ones((2, 4), np.float32), np.array([1, 8]))
        >>> out.output.shape, out.loss.shape, asm.log_prob(np.ones((2, 4))).shape
        ((2,), (), (2, 10))
    """

    function = staticmethod(adaptive_log_softmax_with_loss)
    _options = ("head_weight", "tail_weights", "cutoffs", "head_bias")

    def __init__(self, in_features: int, n_classes: int, cutoffs: Sequence[int],
                 div_value: float = 4.0, head_bias: bool = False, device: Any = None,
                 dtype: Any = None) -> None:
        cuts = list(cutoffs)
        if not cuts:
            raise ValueError("AdaptiveLogSoftmaxWithLoss: cutoffs should be a sequence of "
                             "length larger than 0")
        rng, head = _rng("AdaptiveLogSoftmaxWithLoss", device), len(cuts) + cuts[0]
        full = [*cuts, n_classes]
        self.head_weight = _uniform(rng, (head, in_features), in_features, dtype)
        self.head_bias = _uniform(rng, (head,), in_features, dtype) if head_bias else None
        self.tail_weights = []
        for i in range(len(cuts)):
            hidden = int(in_features // (div_value ** (i + 1)))
            self.tail_weights.append((_uniform(rng, (hidden, in_features), in_features, dtype),
                                      _uniform(rng, (full[i + 1] - full[i], hidden), hidden,
                                               dtype)))
        self.cutoffs, self.div_value = cuts, div_value
        adaptive("AdaptiveLogSoftmaxWithLoss", None, self.head_weight, self.tail_weights,
                 self.cutoffs, self.head_bias)

    @property
    def n_classes(self) -> int:
        return self.cutoffs[-1] + self.tail_weights[-1][1].shape[0]

    @property
    def in_features(self) -> int:
        return self.head_weight.shape[1]

    @property
    def shortlist_size(self) -> int:
        return self.cutoffs[0]

    @property
    def n_clusters(self) -> int:
        return len(self.cutoffs)

    @property
    def head_size(self) -> int:
        return self.shortlist_size + self.n_clusters

    @classmethod
    def init(cls, head_weight: Array, tail_weights: Sequence[tuple[Array, Array]],
             cutoffs: Sequence[int], head_bias: Array | None = None
             ) -> AdaptiveLogSoftmaxWithLoss:
        """An instance holding these arrays (any library): the head ``(cutoffs[0] +
        clusters, D)``, one ``(projection, output)`` pair per cluster, torch's cutoffs."""
        self = cls.__new__(cls)
        self.head_weight, self.head_bias = head_weight, head_bias
        self.tail_weights = [tuple(pair) for pair in tail_weights]
        self.cutoffs, self.div_value = list(cutoffs), None
        adaptive("AdaptiveLogSoftmaxWithLoss", None, head_weight, self.tail_weights,
                 self.cutoffs, head_bias)
        return self

    @classmethod
    def from_torch(cls, module: Any, array: Callable[[Any], Array] = _numpy
                   ) -> AdaptiveLogSoftmaxWithLoss:
        """An instance with a torch module's parameters, each converted by ``array``."""
        tails = [(array(seq[0].weight), array(seq[1].weight)) for seq in module.tail]
        self = cls.init(array(module.head.weight), tails, module.cutoffs[:-1],
                        None if module.head.bias is None else array(module.head.bias))
        self.div_value = module.div_value
        return self

    def _adaptive(self, input: Array) -> Any:
        xp = namespace("AdaptiveLogSoftmaxWithLoss", input=input,
                       head_weight=self.head_weight)
        return xp, adaptive("AdaptiveLogSoftmaxWithLoss", xp, self.head_weight,
                            self.tail_weights, self.cutoffs, self.head_bias)

    def __call__(self, input: Array, target: Array) -> ASMoutput:
        losses = adaptive_log_softmax_with_loss(input, target, **self.options(),
                                                reduction="none")
        xp = namespace("AdaptiveLogSoftmaxWithLoss", output=losses)
        return ASMoutput(-losses, xp.mean(xp.reshape(losses, (-1,))))

    def log_prob(self, input: Array) -> Array:
        """``(N, n_classes)`` log-probabilities of every class."""
        xp, a = self._adaptive(input)
        return full_log_prob(xp, a, input)

    def predict(self, input: Array) -> Array:
        """The most probable class of each row of ``(N, in_features)``."""
        xp, a = self._adaptive(input)
        return predict(xp, a, input)

    def __repr__(self) -> str:
        return (f"AdaptiveLogSoftmaxWithLoss(in_features={self.in_features}, "
                f"n_classes={self.n_classes}, cutoffs={self.cutoffs}, "
                f"head_bias={self.head_bias is not None})")
