"""The parity grid's cases of the head family: linear_cross_entropy (every cross_entropy option,
K-dimensional heads, probabilities, several chunks) and the adaptive softmax."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np

from .case import Case, rng_for

#: (N or None for an unbatched input, in_features, classes, out_features): C > D over 40 rows
#: makes several chunks under torch's aspect-ratio rule
LCE_SHAPES = [(6, 3, 4, ()), (40, 3, 16, ()), (5, 4, 3, (2,)), (None, 3, 5, ()), (0, 3, 4, ())]
LCE_OPTIONS = [{}, {"linear_bias": True}, {"weight": True}, {"ignore_index": 1},
               {"label_smoothing": 0.2},
               {"linear_bias": True, "weight": True, "ignore_index": 0, "label_smoothing": 0.1}]


def linear_cross_entropy_cases(dtype: Any) -> Iterator[Case]:
    for (n, d, c, out), options in itertools.product(LCE_SHAPES, LCE_OPTIONS):
        rng = rng_for("lce", n, d, c, out, sorted(options.items(), key=str), str(dtype))
        batch = () if n is None else (n,)
        x = rng.normal(size=(*batch, d))
        w = rng.normal(size=(c, *out, d)) / np.sqrt(d)
        opts = dict(options)
        if opts.pop("linear_bias", False):
            opts["linear_bias"] = rng.normal(size=(c, *out)).astype(dtype)
        if opts.pop("weight", False):
            opts["weight"] = rng.uniform(0.2, 2.0, size=c).astype(dtype)
        t = rng.integers(0, c, size=(*batch, *out)).astype(np.int64)
        if "ignore_index" in opts and t.size:
            t.reshape(-1)[::3] = opts["ignore_index"]
        yield Case("linear_cross_entropy", (np.asarray(x, dtype), np.asarray(w, dtype), t),
                   opts, (True, True, False))
    # class probabilities: the target has the logits' shape (and a gradient)
    for (n, d, c, out), smoothing in itertools.product(LCE_SHAPES[:4], (0.0, 0.3)):
        rng = rng_for("lce-p", n, d, c, out, smoothing, str(dtype))
        batch = () if n is None else (n,)
        y = rng.uniform(0, 1, size=(*batch, c, *out))
        opts = {"label_smoothing": smoothing} if smoothing else {}
        yield Case("linear_cross_entropy",
                   (np.asarray(rng.normal(size=(*batch, d)), dtype),
                    np.asarray(rng.normal(size=(c, *out, d)), dtype), np.asarray(y, dtype)),
                   opts, (True, True, True))


#: (N or None, in_features, n_classes, cutoffs, hidden sizes, head bias)
ADAPTIVE = [(9, 6, 12, [3, 7], (3, 2), False), (11, 8, 20, [4, 9, 15], (4, 2, 1), True),
            (None, 4, 6, [2], (2,), False), (0, 4, 6, [2], (2,), True)]


def adaptive_cases(dtype: Any) -> Iterator[Case]:
    for n, d, classes, cutoffs, hidden, bias in ADAPTIVE:
        rng = rng_for("adaptive", n, d, classes, cutoffs, str(dtype))
        full = [*cutoffs, classes]
        head = rng.normal(size=(cutoffs[0] + len(cutoffs), d)) / np.sqrt(d)
        tails = [(np.asarray(rng.normal(size=(h, d)) / np.sqrt(d), dtype),
                  np.asarray(rng.normal(size=(full[i + 1] - full[i], h)), dtype))
                 for i, h in enumerate(hidden)]
        if n is None:
            x, t = rng.normal(size=d), np.asarray(classes - 1, np.int64)
        else:
            x = rng.normal(size=(n, d))
            t = (np.arange(n) * 5 % classes).astype(np.int64)  # every cluster, in turn
        opts: dict[str, Any] = {"tail_weights": tails, "cutoffs": cutoffs}
        if bias:
            opts["head_bias"] = np.asarray(rng.normal(size=head.shape[0]), dtype)
        yield Case("adaptive_log_softmax_with_loss",
                   (np.asarray(x, dtype), t, np.asarray(head, dtype)), opts, (True, False, True))
