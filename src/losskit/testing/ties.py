"""Exact ties: inputs that sit on a loss's kink, where only a convention decides the gradient.

torch's conventions (and losskit's): ``|d|`` has gradient 0 at 0; smooth_l1 and huber take
the linear branch's ±1 and ±delta at ``|d| = beta`` (``delta``); multi_margin and
multilabel_margin are strict (no gradient at exactly the margin); and since torch 2.14 the
``clamp_min`` losses (margin_ranking, hinge_embedding, cosine_embedding, the triplets) are
strict too, where torch 2.13 gave the full gradient at the margin. Every value here is exact
in float32 and float64, so the tie is a tie in both.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .case import Case

#: the torch version whose tie convention losskit follows, for the losses it changed in
STRICT_CLAMP_SINCE = (2, 14)


def _case(loss: str, arrays: list[Any], options: dict[str, Any], dtype: Any,
          differentiable: tuple[bool, ...], since: tuple[int, int] | None = None) -> Case:
    cast = tuple(np.asarray(a, dtype) if np.asarray(a).dtype.kind == "f" else np.asarray(a)
                 for a in arrays)
    return Case(loss, cast, options, differentiable, label="tie", since=since)


def tie_cases(loss: str, dtype: Any) -> Iterator[Case]:
    """The tie cases of ``loss`` (none for losses without a kink)."""
    clamp = STRICT_CLAMP_SINCE
    if loss == "l1_loss":
        yield _case(loss, [[1.0, 2.0, -3.0], [1.0, 0.0, -3.0]], {}, dtype, (True, True))
    elif loss == "smooth_l1_loss":
        for beta in (1.0, 0.5):
            yield _case(loss, [[1.5, 0.0, -2.0, 3.0], [0.5, 0.0, -1.0, 2.5]], {"beta": beta},
                        dtype, (True, True))
    elif loss == "huber_loss":
        yield _case(loss, [[2.0, 0.0, -3.0], [0.0, 0.0, -1.0]], {"delta": 2.0}, dtype,
                    (True, True))
    elif loss == "margin_ranking_loss":
        yield _case(loss, [[0.5, 1.0, 0.0], [0.0, 0.5, 0.0], [-1.0, 1.0, 1.0]],
                    {"margin": 0.5}, dtype, (True, True, True), clamp)
    elif loss == "hinge_embedding_loss":
        yield _case(loss, [[1.0, 0.5, 2.0, 1.0], [-1.0, -1.0, -1.0, 1.0]], {"margin": 1.0},
                    dtype, (True, False), clamp)
    elif loss == "cosine_embedding_loss":
        yield _case(loss, [[[1.0, 0.0], [1.0, 1.0]], [[0.0, 1.0], [1.0, 1.0]], [-1.0, -1.0]],
                    {"margin": 0.0}, dtype, (True, True, False), clamp)
    elif loss == "triplet_margin_loss":
        yield _case(loss, [[[0.0, 0.0], [0.0, 0.0]], [[1.0, 0.0], [1.0, 0.0]],
                           [[2.0, 0.0], [3.0, 0.0]]], {"eps": 0.0}, dtype, (True, True, True),
                    clamp)
    elif loss == "multi_margin_loss":
        yield _case(loss, [[[1.0, 0.0, 0.5]], [0]], {}, dtype, (True, False))
    elif loss == "multilabel_margin_loss":
        yield _case(loss, [[[1.0, 0.0, 0.5]], [[0, -1, -1]]], {}, dtype, (True, False))
