"""The parity grid: for every loss, inputs of many shapes and every option set.

Data are drawn away from the kinks, where subgradient conventions are tested separately;
the SEED of ``losskit.testing.case`` varies the draws (0: the test suite's).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from .case import Case, away_from, rng_for
from .grid_head import adaptive_cases, linear_cross_entropy_cases
from .ties import tie_cases

REDUCTIONS = ("none", "mean", "sum")

# (input shape, target shape): equal, 0-d, empty, K-dim and broadcasting pairs
POINTWISE_SHAPES = [
    ((), ()),
    ((5,), (5,)),
    ((3, 4), (3, 4)),
    ((2, 3, 4), (2, 3, 4)),
    ((0,), (0,)),
    ((0, 3), (0, 3)),
    ((3, 4), (4,)),
    ((3, 1), (1, 4)),
    ((), (3,)),
    ((4,), ()),
]


def _pointwise(loss: str, options_grid: list[dict[str, Any]], dtype: Any) -> Iterator[Case]:
    for (xs, ys), options in itertools.product(POINTWISE_SHAPES, options_grid):
        rng = rng_for(loss, xs, ys, sorted(options.items(), key=str), str(dtype))
        x = rng.normal(size=xs) * 2
        y = rng.normal(size=ys) * 2
        options = dict(options)
        if options.pop("weighted", False):
            if xs != ys:
                continue
            options["weight"] = rng.uniform(0.1, 2.0, size=xs).astype(dtype)
        kinks = [options.get("beta", 1.0), options.get("delta", 1.0), 0.0]
        d = away_from(x - np.broadcast_to(y, np.broadcast_shapes(xs, ys)), kinks)
        if xs == np.broadcast_shapes(xs, ys):
            x = y + d
        yield Case(loss, (np.asarray(x, dtype), np.asarray(y, dtype)), options)


def l1_cases(dtype: Any) -> Iterator[Case]:
    yield from _pointwise("l1_loss", [{}, {"weighted": True}], dtype)


def mse_cases(dtype: Any) -> Iterator[Case]:
    yield from _pointwise("mse_loss", [{}, {"weighted": True}], dtype)


def smooth_l1_cases(dtype: Any) -> Iterator[Case]:
    grid = [{}, {"beta": 0.5}, {"beta": 0.0}, {"beta": 2.5}]
    yield from _pointwise("smooth_l1_loss", grid, dtype)


def huber_cases(dtype: Any) -> Iterator[Case]:
    grid = [{}, {"delta": 0.5}, {"delta": 2.5}, {"weighted": True, "delta": 1.5}]
    yield from _pointwise("huber_loss", grid, dtype)


def poisson_cases(dtype: Any) -> Iterator[Case]:
    grid = [
        {"log_input": li, "full": full, "eps": eps}
        for li, full, eps in itertools.product((True, False), (False, True), (1e-8, 0.1))
    ]
    for (xs, ys), options in itertools.product(POINTWISE_SHAPES, grid):
        rng = rng_for("poisson", xs, ys, sorted(options.items()), str(dtype))
        x = rng.normal(size=xs) if options["log_input"] else rng.uniform(0.2, 5.0, size=xs)
        # counts on both sides of the full=True cut at 1, never 0 (torch's NaN gradient)
        y = rng.choice(np.array([0.5, 1.0, 2.0, 3.0, 7.0]), size=ys) + rng.uniform(0, 0.2, ys)
        yield Case("poisson_nll_loss", (np.asarray(x, dtype), np.asarray(y, dtype)), options)


def kl_cases(dtype: Any) -> Iterator[Case]:
    shapes = [s for s in POINTWISE_SHAPES] + [((4, 3), (4, 3))]
    for (xs, ys), log_target in itertools.product(shapes, (False, True)):
        rng = rng_for("kl", xs, ys, log_target, str(dtype))
        x = np.log(rng.uniform(0.05, 1.0, size=xs))
        y = rng.uniform(0.05, 1.0, size=ys)
        if log_target:
            y = np.log(y)
        options = {"log_target": log_target}
        yield Case("kl_div", (np.asarray(x, dtype), np.asarray(y, dtype)), options)


def margin_ranking_cases(dtype: Any) -> Iterator[Case]:
    shapes = [((), (), ()), ((6,), (6,), (6,)), ((6,), (1,), (6,)), ((2, 3), (2, 3), (1, 3)),
              ((0,), (0,), (0,)), ((3, 1), (1, 4), (3, 4))]
    for shapes_, margin in itertools.product(shapes, (0.0, 0.5, -0.3)):
        rng = rng_for("ranking", shapes_, margin, str(dtype))
        x1, x2 = (rng.normal(size=s) for s in shapes_[:2])
        y = rng.choice(np.array([-1.0, 1.0]), size=shapes_[2])
        z = margin - y * (x1 - x2)
        x1 = x1 - np.where(np.abs(z) < 0.05, 0.1 * y, 0.0) if x1.shape == z.shape else x1
        arrays = tuple(np.asarray(a, dtype) for a in (x1, x2, y))
        yield Case("margin_ranking_loss", arrays, {"margin": margin}, (True, True, True))


def multilabel_targets(rng: np.random.Generator, n: int, c: int) -> np.ndarray:
    """Index targets padded with -1, of every length from 0 to c, duplicates included."""
    rows = []
    for _ in range(n):
        k = int(rng.integers(0, c + 1))
        row = list(rng.permutation(c)[:k])
        if k >= 2 and rng.uniform() < 0.2:
            row[-1] = row[0]  # a duplicate index: torch counts it twice
        rows.append(row + [-1] * (c - k))
    out = np.array(rows, dtype=np.int64).reshape(n, c)
    if c >= 2 and n:
        # entries after the first -1 are ignored but must still be in range
        out[0, -1] = rng.integers(-1, c) if out[0, -2] == -1 else out[0, -1]
    return out


def multilabel_margin_cases(dtype: Any) -> Iterator[Case]:
    for shape in [(5,), (1, 4), (6, 5), (0, 3), (), (8, 2), (3, 1)]:
        rng = rng_for("mlm", shape, str(dtype))
        x = rng.normal(size=shape)
        if shape == ():
            t = np.array(0, dtype=np.int64)
        else:
            n, c = (1, shape[0]) if len(shape) == 1 else shape
            t = multilabel_targets(rng, n, c).reshape(shape)
        yield Case("multilabel_margin_loss", (np.asarray(x, dtype), t), {}, (True, False))


def _index_target(rng, n_classes, shape, ignore=None):
    t = rng.integers(0, n_classes, size=shape).astype(np.int64)
    if ignore is not None and t.size:
        t.reshape(-1)[:: 3] = ignore  # every third position ignored
    return t


INDEX_SHAPES = [((4,), ()), ((5, 4), (5,)), ((3, 4, 2), (3, 2)), ((2, 3, 2, 2), (2, 2, 2)),
                ((0, 4), (0,)), ((1, 3), (1,))]


def cross_entropy_cases(dtype: Any) -> Iterator[Case]:
    grid = [
        {}, {"weight": True}, {"ignore_index": 1}, {"label_smoothing": 0.2},
        {"weight": True, "ignore_index": 2, "label_smoothing": 0.3}, {"label_smoothing": -0.5},
    ]
    for (xs, ts), options in itertools.product(INDEX_SHAPES, grid):
        rng = rng_for("ce", xs, ts, sorted(options.items(), key=str), str(dtype))
        c = xs[1] if len(xs) > 1 else xs[0]
        x = rng.normal(size=xs) * 2
        opts = dict(options)
        if opts.pop("weight", False):
            opts["weight"] = rng.uniform(0.2, 2.0, size=c).astype(dtype)
        t = _index_target(rng, c, ts, opts.get("ignore_index"))
        yield Case("cross_entropy", (np.asarray(x, dtype), t), opts, (True, False))
    # class probabilities: the target has the input's shape
    for xs, options in itertools.product([(4,), (5, 4), (3, 4, 2)],
                                         [{}, {"weight": True}, {"label_smoothing": 0.25}]):
        rng = rng_for("ce-p", xs, sorted(options.items(), key=str), str(dtype))
        x = rng.normal(size=xs) * 2
        y = rng.uniform(0, 1, size=xs)  # any real values: torch does not normalise them
        opts = dict(options)
        if opts.pop("weight", False):
            opts["weight"] = rng.uniform(0.2, 2.0, size=xs[1] if len(xs) > 1 else xs[0])
            opts["weight"] = opts["weight"].astype(dtype)
        yield Case("cross_entropy", (np.asarray(x, dtype), np.asarray(y, dtype)), opts)
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0], [3.0, 3.0, 3.0]])
    yield Case("cross_entropy", (np.asarray(x, dtype), np.array([1, 1, 2])), {}, (True, False))


def nll_cases(dtype: Any) -> Iterator[Case]:
    for (xs, ts), options in itertools.product(
        INDEX_SHAPES, [{}, {"weight": True}, {"ignore_index": 0}, {"weight": True,
                                                                    "ignore_index": 1}]
    ):
        rng = rng_for("nll", xs, ts, sorted(options.items(), key=str), str(dtype))
        c = xs[1] if len(xs) > 1 else xs[0]
        x = np.log(rng.uniform(0.05, 1.0, size=xs))
        opts = dict(options)
        if opts.pop("weight", False):
            opts["weight"] = rng.uniform(0.2, 2.0, size=c).astype(dtype)
        t = _index_target(rng, c, ts, opts.get("ignore_index"))
        yield Case("nll_loss", (np.asarray(x, dtype), t), opts, (True, False))


BINARY_SHAPES = [(), (6,), (3, 4), (2, 3, 4), (0,), (0, 3)]


def bce_cases(dtype: Any) -> Iterator[Case]:
    for shape, weight in itertools.product(BINARY_SHAPES, (None, "full", "last")):
        rng = rng_for("bce", shape, weight, str(dtype))
        x = rng.uniform(0.02, 0.98, size=shape)
        y = rng.choice(np.array([0.02, 0.97, 0.3]), size=shape)  # interior: finite differences
        opts = {}
        if weight == "full":
            opts["weight"] = rng.uniform(0.1, 2, size=shape).astype(dtype)
        elif weight == "last" and len(shape) >= 1:
            opts["weight"] = rng.uniform(0.1, 2, size=shape[-1:]).astype(dtype)
        yield Case("binary_cross_entropy", (np.asarray(x, dtype), np.asarray(y, dtype)), opts)


def bce_logits_cases(dtype: Any) -> Iterator[Case]:
    grid = [{}, {"weight": "last"}, {"pos_weight": "last"}, {"pos_weight": "full",
                                                            "weight": "full"}]
    for shape, options in itertools.product(BINARY_SHAPES, grid):
        rng = rng_for("bcel", shape, sorted(options.items()), str(dtype))
        x = rng.normal(size=shape) * 3
        y = rng.uniform(0, 1, size=shape)
        opts = {}
        for name, kind in options.items():
            if kind == "full":
                opts[name] = rng.uniform(0.1, 3, size=shape).astype(dtype)
            elif len(shape) >= 1:
                opts[name] = rng.uniform(0.1, 3, size=shape[-1:]).astype(dtype)
        yield Case("binary_cross_entropy_with_logits",
                   (np.asarray(x, dtype), np.asarray(y, dtype)), opts)


def soft_margin_cases(dtype: Any) -> Iterator[Case]:
    for xs, ys in [((), ()), ((6,), (6,)), ((3, 4), (3, 4)), ((3, 4), (4,)), ((0, 2), (0, 2)),
                   ((2, 3, 2), (1, 3, 2))]:
        rng = rng_for("softm", xs, ys, str(dtype))
        x = rng.normal(size=xs) * 3
        y = rng.choice(np.array([-1.0, 1.0]), size=ys)
        yield Case("soft_margin_loss", (np.asarray(x, dtype), np.asarray(y, dtype)), {},
                   (True, False))


def multilabel_soft_margin_cases(dtype: Any) -> Iterator[Case]:
    for xs, weight in itertools.product([(5,), (4, 5), (2, 3, 4), (0, 3), (1, 1)],
                                        (None, "class", "full")):
        rng = rng_for("mlsm", xs, weight, str(dtype))
        x = rng.normal(size=xs) * 2
        y = rng.choice(np.array([0.0, 1.0]), size=xs)
        opts = {}
        if weight == "class":
            opts["weight"] = rng.uniform(0.1, 2, size=xs[-1:]).astype(dtype)
        elif weight == "full":
            opts["weight"] = rng.uniform(0.1, 2, size=xs).astype(dtype)
        yield Case("multilabel_soft_margin_loss", (np.asarray(x, dtype), np.asarray(y, dtype)),
                   opts)


def multi_margin_cases(dtype: Any) -> Iterator[Case]:
    shapes = [((5, 4), (5,)), ((4,), ()), ((1, 3), ()), ((4,), (1,)), ((0, 3), (0,))]
    grid = [{}, {"p": 2}, {"margin": 0.5, "weight": True}, {"p": 2, "margin": -0.2,
                                                            "weight": True}]
    for (xs, ts), options in itertools.product(shapes, grid):
        rng = rng_for("mm", xs, ts, sorted(options.items(), key=str), str(dtype))
        c = xs[-1]
        x = rng.normal(size=xs)
        opts = dict(options)
        if opts.pop("weight", False):
            opts["weight"] = rng.uniform(0.2, 2, size=c).astype(dtype)
        t = rng.integers(0, c, size=ts).astype(np.int64)
        yield Case("multi_margin_loss", (np.asarray(x, dtype), t), opts, (True, False))


def gaussian_nll_cases(dtype: Any) -> Iterator[Case]:
    shapes = [((4, 3), (4, 3), (4, 3)), ((4, 3), (4, 3), (4,)), ((4, 3), (4, 3), (4, 1)),
              ((4, 3), (4, 3), (1, 3)), ((), (), ()), ((5,), (5,), ()), ((2, 3), (2, 1), (2, 3)),
              ((0, 3), (0, 3), (0, 3))]
    for (xs, ys, vs), options in itertools.product(
        shapes, [{}, {"full": True}, {"eps": 0.1, "full": True}]
    ):
        rng = rng_for("gauss", xs, ys, vs, sorted(options.items()), str(dtype))
        arrays = (rng.normal(size=xs), rng.normal(size=ys), rng.uniform(0.2, 2.0, size=vs))
        yield Case("gaussian_nll_loss", tuple(np.asarray(a, dtype) for a in arrays), options,
                   (True, True, True))


def hinge_embedding_cases(dtype: Any) -> Iterator[Case]:
    for (xs, ys), margin in itertools.product(POINTWISE_SHAPES, (1.0, 0.5)):
        rng = rng_for("hinge", xs, ys, margin, str(dtype))
        x = away_from(rng.uniform(-0.5, 2.5, size=xs), [margin])
        y = rng.choice(np.array([1.0, -1.0, -1.0, 0.0]), size=ys)  # 0: torch's "other" rule
        yield Case("hinge_embedding_loss", (np.asarray(x, dtype), np.asarray(y, dtype)),
                   {"margin": margin}, (True, False))


def cosine_embedding_cases(dtype: Any) -> Iterator[Case]:
    shapes = [((5, 4), (5, 4), (5,)), ((4,), (4,), ()), ((5, 4), (1, 4), (5,)),
              ((3, 4), (3, 4), (1,)), ((0, 4), (0, 4), (0,))]
    for (s1, s2, ts), margin in itertools.product(shapes, (0.0, 0.3)):
        rng = rng_for("cos", s1, s2, ts, margin, str(dtype))
        y = rng.choice(np.array([1.0, -1.0, 0.0]), size=ts)
        arrays = (rng.normal(size=s1), rng.normal(size=s2), y)
        yield Case("cosine_embedding_loss", tuple(np.asarray(a, dtype) for a in arrays),
                   {"margin": margin}, (True, True, False))


TRIPLET_SHAPES = [((5, 4),) * 3, ((4,),) * 3, ((2, 3, 4),) * 3, ((5, 4), (1, 4), (5, 4)),
                  ((0, 4),) * 3]


def triplet_cases(dtype: Any) -> Iterator[Case]:
    grid = [{}, {"p": 1.0, "swap": True}, {"p": 3.0, "margin": 0.5}, {"p": float("inf")},
            {"eps": 0.0, "swap": True}]
    for shapes, options in itertools.product(TRIPLET_SHAPES, grid):
        rng = rng_for("triplet", shapes, sorted(options.items()), str(dtype))
        arrays = tuple(np.asarray(rng.normal(size=s), dtype) for s in shapes)
        yield Case("triplet_margin_loss", arrays, options, (True, True, True))


def triplet_distance_cases(dtype: Any) -> Iterator[Case]:
    for shapes, options in itertools.product(TRIPLET_SHAPES[:4], [{}, {"swap": True,
                                                                       "margin": 0.7}]):
        rng = rng_for("tripletd", shapes, sorted(options.items()), str(dtype))
        arrays = tuple(np.asarray(rng.normal(size=s), dtype) for s in shapes)
        yield Case("triplet_margin_with_distance_loss", arrays, options, (True, True, True))


def ctc_cases(dtype: Any) -> Iterator[Case]:
    """Mixed lengths in a batch, repeated labels, empty targets, infeasible samples."""
    T, C = 8, 5
    layouts = [
        ("padded", [8, 6, 3, 5], [3, 2, 0, 3], {}),
        ("padded", [8, 2, 5, 7], [3, 2, 2, 1], {"zero_infinity": True}),  # 2 steps, "a a"
        ("padded", [8, 2, 5, 7], [3, 2, 2, 1], {}),  # infeasible: inf
        ("concatenated", [8, 7, 6, 8], [2, 3, 1, 4], {"blank": 2}),
        ("unbatched", [8], [3], {}),
    ]
    for layout, il, tl, options in layouts:
        rng = rng_for("ctc", layout, il, tl, sorted(options.items()), str(dtype))
        blank = options.get("blank", 0)
        n = len(il)
        x = rng.normal(size=(T, n, C))
        lp = x - np.log(np.exp(x).sum(-1, keepdims=True))
        labels = [c for c in range(C) if c != blank]
        tgt = rng.choice(np.array(labels), size=(n, 4))
        tgt[:, 1] = tgt[:, 0]  # repeated labels need a blank between them
        if layout == "concatenated":
            tgt = np.concatenate([tgt[i, : tl[i]] for i in range(n)])
        if layout == "unbatched":  # a 1-D target is the concatenated form: exactly tl labels
            lp, tgt = lp[:, 0, :], tgt[0, : tl[0]]
        arrays = (np.asarray(lp, dtype), tgt.astype(np.int64), np.array(il), np.array(tl))
        if layout == "unbatched":
            arrays = (arrays[0], arrays[1], np.array(il[0]), np.array(tl[0]))
        yield Case("ctc_loss", arrays, options, (True, False, False, False))


GENERATORS: dict[str, Callable[[Any], Iterator[Case]]] = {
    "l1_loss": l1_cases,
    "mse_loss": mse_cases,
    "smooth_l1_loss": smooth_l1_cases,
    "huber_loss": huber_cases,
    "poisson_nll_loss": poisson_cases,
    "kl_div": kl_cases,
    "margin_ranking_loss": margin_ranking_cases,
    "multilabel_margin_loss": multilabel_margin_cases,
    "cross_entropy": cross_entropy_cases,
    "nll_loss": nll_cases,
    "binary_cross_entropy": bce_cases,
    "binary_cross_entropy_with_logits": bce_logits_cases,
    "soft_margin_loss": soft_margin_cases,
    "multilabel_soft_margin_loss": multilabel_soft_margin_cases,
    "multi_margin_loss": multi_margin_cases,
    "gaussian_nll_loss": gaussian_nll_cases,
    "hinge_embedding_loss": hinge_embedding_cases,
    "cosine_embedding_loss": cosine_embedding_cases,
    "triplet_margin_loss": triplet_cases,
    "triplet_margin_with_distance_loss": triplet_distance_cases,
    "ctc_loss": ctc_cases,
    "linear_cross_entropy": linear_cross_entropy_cases,
    "adaptive_log_softmax_with_loss": adaptive_cases,
}


def cases_of(loss: str, dtype: Any) -> Iterator[Case]:
    """The grid's cases of ``loss``, then its exact ties (``ties``)."""
    yield from GENERATORS[loss](dtype)
    yield from tie_cases(loss, dtype)


def all_cases(dtype: Any) -> list[Case]:
    return [case for loss in GENERATORS for case in cases_of(loss, dtype)]


def reductions_for(loss: str) -> tuple[str, ...]:
    return ("none", "mean", "sum", "batchmean") if loss == "kl_div" else REDUCTIONS
