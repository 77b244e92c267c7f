"""The embedding family: margin_ranking_loss, hinge_embedding_loss and
cosine_embedding_loss, losses that compare pairs of scores or embeddings with a ±1 label
(the triplet family compares three)."""

from __future__ import annotations

from .._core import reduction as _reduction
from .._core.elementwise import Terms, elementwise
from .._core.gradients import Pullback, Want, differentiable, grad_like
from .._core.namespace import (
    Array,
    astype,
    float_dtype,
    is_integer,
    namespace,
    opmath,
    quiet,
    shape_str,
)
from .._core.validation import (
    broadcast_shapes,
    check_number,
    check_same_ndim,
    refuse_bool,
    require_real,
)

__all__ = ["cosine_embedding_loss", "hinge_embedding_loss", "margin_ranking_loss"]


@differentiable
def margin_ranking_loss(
    input1: Array,
    input2: Array,
    target: Array,
    margin: float = 0.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    *,
    _want: Want | None = None,
) -> tuple[Array, Pullback]:
    """Margin ranking loss, as ``torch.nn.functional.margin_ranking_loss``.

    ``L = max(0, -target * (input1 - input2) + margin)``: ``target = 1`` says ``input1``
    should rank higher, ``-1`` that ``input2`` should. The target is a plain multiplier
    (not validated, as in torch).

    Args:
        input1: scores of the first items.
        input2: scores of the second items.
        target: ``1`` or ``-1`` per pair. All three need the same number of dimensions,
            then broadcast.
        margin: the required gap.
        size_average: deprecated (see Reductions in ``help(losskit)``).
        reduce: deprecated (see Reductions in ``help(losskit)``).
        reduction: ``'none'`` | ``'mean'`` | ``'sum'`` (see Reductions in ``help(losskit)``).

    Shape:
        ``'none'`` gives the broadcast shape; otherwise ``()``.

    Returns:
        The loss in the promoted floating dtype (integer inputs give the default float).

    Notes:
        Matches torch; at exactly the margin the gradient is the full one (torch's
        ``clamp_min`` convention).

    Example:
        >>> import numpy as np
        >>> x1, x2 = np.array([1.0, 2.0, 3.0]), np.array([2.0, 3.0, 4.0])
        >>> round(float(margin_ranking_loss(x1, x2, np.array([1.0, -1.0, 1.0]))), 4)
        0.6667
    """
    fn = "margin_ranking_loss"
    reduction = _reduction.resolve(fn, reduction, size_average, reduce)
    margin = check_number(fn, "margin", margin)
    xp = namespace(fn, input1=input1, input2=input2, target=target)
    refuse_bool(fn, xp, input1=input1, input2=input2, target=target)
    require_real(fn, xp, input1=input1, input2=input2, target=target)
    check_same_ndim(fn, input1=input1, input2=input2, target=target)
    shape = broadcast_shapes(
        fn, input1=tuple(input1.shape), input2=tuple(input2.shape), target=tuple(target.shape)
    )
    dtype = float_dtype(xp, input1, input2, target)
    def loss(x1: Array, x2: Array, y: Array) -> Array:
        # clip(min=0) has torch's clamp_min gradient: active at z == 0
        return xp.clip(margin - y * (x1 - x2), min=0.0)

    def derivatives(wanted: tuple[bool, ...], x1: Array, x2: Array, y: Array
                    ) -> tuple[Array | None, ...]:
        if not any(wanted):
            return None, None, None
        diff = x1 - x2
        # torch's clamp_min(z, 0) (2.14 on): no gradient at exactly the margin
        active = xp.astype(margin - y * diff > 0, diff.dtype)
        dx1 = -(y * active) if wanted[0] or wanted[1] else None
        return ((dx1 if wanted[0] else None), (-dx1 if wanted[1] else None),
                (-(diff * active) if wanted[2] else None))

    originals = (input1, input2, target)
    arrays = tuple(astype(xp, a, dtype) for a in originals)
    terms = Terms(("input1", "input2", "target"), originals, arrays, loss, derivatives,
                  kernel=("margin_ranking", (margin,)))
    return elementwise(xp, terms, shape, reduction, _want)


@differentiable
def hinge_embedding_loss(
    input: Array,
    target: Array,
    margin: float = 1.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    *,
    _want: Want | None = None,
) -> tuple[Array, Pullback]:
    """Hinge embedding loss, as ``torch.nn.functional.hinge_embedding_loss``.

    ``L = x`` where ``target = 1``, ``max(0, margin - x)`` where ``target = -1``, and (as in
    torch, for any other target value) ``x + max(0, margin - x)``. ``input`` is usually a
    distance between two embeddings.

    Args:
        input: distances (or scores), any shape.
        target: ``1`` (similar) or ``-1`` (dissimilar), broadcasting with ``input``.
        margin: the distance a dissimilar pair should exceed.
        size_average: deprecated (see Reductions in ``help(losskit)``).
        reduce: deprecated (see Reductions in ``help(losskit)``).
        reduction: ``'none'`` | ``'mean'`` | ``'sum'`` (see Reductions in ``help(losskit)``).

    Shape:
        ``'none'`` gives the broadcast shape; otherwise ``()``.

    Returns:
        The loss in the input's dtype (an integer input stays integer, with the margin
        truncated, as in torch; its ``'mean'`` needs a float).

    Notes:
        Matches torch; the gradient is active at exactly the margin. The target gets
        no gradient.

    Example:
        >>> import numpy as np
        >>> d, y = np.array([0.3, 1.5, 0.4]), np.array([1.0, -1.0, -1.0])
        >>> hinge_embedding_loss(d, y, reduction='none')
        array([0.3, 0. , 0.6])
    """
    fn = "hinge_embedding_loss"
    reduction = _reduction.resolve(fn, reduction, size_average, reduce)
    margin = check_number(fn, "margin", margin)
    xp = namespace(fn, input=input, target=target)
    refuse_bool(fn, xp, input=input, target=target)
    require_real(fn, xp, input=input, target=target)
    shape = broadcast_shapes(fn, input=tuple(input.shape), target=tuple(target.shape))
    if is_integer(xp, input.dtype):
        if reduction == "mean":
            raise TypeError(
                f"{fn}: reduction='mean' needs a floating-point input, got {input.dtype}; "
                "cast it to a floating dtype."
            )
        margin = int(margin)  # torch computes integer inputs in their dtype
    zero = xp.zeros((), dtype=input.dtype)

    def loss(x: Array, y: Array) -> Array:
        hinge = xp.where(y != 1, xp.clip(margin - x, min=0), zero)
        return hinge + xp.where(y != -1, x, zero)

    def derivatives(wanted: tuple[bool, ...], x: Array, y: Array) -> tuple[Array | None, ...]:
        one = xp.ones((), dtype=x.dtype)
        # torch's clamp_min(margin - x, 0) (2.14 on): no gradient at exactly the margin
        active = xp.where((y != 1) & (margin - x > 0), one, zero)
        return xp.where(y != -1, one, zero) - active, None

    terms = Terms(("input", "target"), (input, target), (input, target), loss, derivatives,
                  kernel=("hinge", (margin,)))
    return elementwise(xp, terms, shape, reduction, _want)


_COSINE_EPS = 1e-12  # torch's EPSILON, added to each squared norm


@differentiable
def cosine_embedding_loss(
    input1: Array,
    input2: Array,
    target: Array,
    margin: float = 0.0,
    size_average: bool | None = None,
    reduce: bool | None = None,
    reduction: str = "mean",
    *,
    _want: Want | None = None,
) -> tuple[Array, Pullback]:
    """Cosine embedding loss, as ``torch.nn.functional.cosine_embedding_loss``.

    With ``cos = Σ x1·x2 / sqrt((Σ x1² + 1e-12)·(Σ x2² + 1e-12))`` over the embedding axis:
    ``L = 1 - cos`` where ``target = 1``, ``max(0, cos - margin)`` where ``target = -1``,
    and 0 for any other target value (as in torch).

    Args:
        input1: embeddings ``(N, D)`` (or ``(D)`` with a 0-d target).
        input2: embeddings of the same rank, broadcasting with ``input1``.
        target: ``1`` or ``-1`` per pair, ``(N)`` (or ``()``).
        margin: how dissimilar (in cosine) a ``-1`` pair must be.
        size_average: deprecated (see Reductions in ``help(losskit)``).
        reduce: deprecated (see Reductions in ``help(losskit)``).
        reduction: ``'none'`` | ``'mean'`` | ``'sum'`` (see Reductions in ``help(losskit)``).

    Shape:
        ``'none'`` gives ``(N)`` (``()`` for 1-D inputs).

    Returns:
        The loss in the promoted floating dtype.

    Notes:
        Matches torch, including its 1e-12 on each squared norm (a zero vector gives
        cos = 0). The target gets no gradient.

    Example:
        >>> import numpy as np
        >>> a, b = np.array([[1.0, 0.0], [1.0, 1.0]]), np.array([[1.0, 1.0], [1.0, 1.0]])
        >>> cosine_embedding_loss(a, b, np.array([1, -1]), reduction='none').round(4)
        array([0.2929, 1.    ])
    """
    fn = "cosine_embedding_loss"
    reduction = _reduction.resolve(fn, reduction, size_average, reduce)
    margin = check_number(fn, "margin", margin)
    xp = namespace(fn, input1=input1, input2=input2, target=target)
    refuse_bool(fn, xp, input1=input1, input2=input2, target=target)
    require_real(fn, xp, input1=input1, input2=input2, target=target)
    if target.ndim > 1:
        raise ValueError(
            f"{fn}: target must be 0-D or 1-D (one label per pair), got shape "
            f"{shape_str(target.shape)}."
        )
    rank = target.ndim + 1
    if input1.ndim != rank or input2.ndim != rank:
        raise ValueError(
            f"{fn}: a {target.ndim}-D target expects {rank}-D inputs "
            f"({'(N, D)' if rank == 2 else '(D)'}), got input1 {shape_str(input1.shape)} and "
            f"input2 {shape_str(input2.shape)}."
        )
    full = broadcast_shapes(fn, input1=tuple(input1.shape), input2=tuple(input2.shape))
    shape = broadcast_shapes(fn, pairs=full[:-1], target=tuple(target.shape))
    dtype = float_dtype(xp, input1, input2)
    work = opmath(xp, dtype)  # half precision in float32, as torch's CPU kernels
    x1, x2 = astype(xp, input1, work), astype(xp, input2, work)
    # vecdot: each sum of products in one fused pass
    n1 = xp.vecdot(x1, x1, axis=-1) + _COSINE_EPS
    n2 = xp.vecdot(x2, x2, axis=-1) + _COSINE_EPS
    root = xp.sqrt(n1 * n2)
    prod = xp.vecdot(x1, x2, axis=-1)
    cos = prod / root
    zero = xp.zeros((), dtype=work)
    similar, dissimilar = target == 1, target == -1
    losses = xp.where(similar, 1.0 - cos, xp.where(dissimilar, xp.clip(cos - margin, min=0),
                                                    zero))
    value = astype(xp, _reduction.apply(xp, losses, reduction), dtype)

    def pullback(g: Array) -> dict[str, Array | None]:
        if _want is None or not ("input1" in _want or "input2" in _want):
            return {}
        ge = _reduction.per_term(xp, astype(xp, g, work), reduction, losses)
        one = xp.ones((), dtype=work)
        # dL/dcos: -1 for similar pairs; 1 for dissimilar ones above the margin (strict:
        # torch's clamp_min from 2.14 on)
        slope = xp.where(similar, -one, xp.where(dissimilar & (cos - margin > 0), one, zero))
        g_cos = slope * ge
        # the chain through cos = prod / sqrt(n1·n2), step by step as torch's autograd takes
        # it, so that overflowing norms give its nan (inf / inf) rather than 0
        with quiet(xp):
            g_prod = (g_cos / root)[..., None]
            g_n = -g_cos * prod / (root * root) / (2.0 * root)  # through sqrt(n1·n2)
            dx1 = g_prod * x2 + (g_n * n2)[..., None] * (2.0 * x1) if (
                "input1" in _want) else None
            dx2 = g_prod * x1 + (g_n * n1)[..., None] * (2.0 * x2) if (
                "input2" in _want) else None
        grad_shape = (*shape, full[-1])
        return {"input1": grad_like(xp, dx1, input1, grad_shape),
                "input2": grad_like(xp, dx2, input2, grad_shape)}

    return value, pullback
