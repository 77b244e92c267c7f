"""``explain``'s tables for the head family: linear_cross_entropy row by row with the chunk each
row is computed in, and the adaptive softmax's head and cluster terms (display only; the
*term* column is the loss's own ``reduction='none'``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._core.stable import log_softmax
from ..losses._adaptive import adaptive
from ..losses._chunked import chunk_rows
from .explain_terms import Table, _index, _positions, fmt, par, vector


def lce_rows(named: dict[str, np.ndarray], options: dict[str, Any], terms: np.ndarray,
             limit: int) -> tuple[Table, list[str]]:
    """One row per position: its chunk, its logits ``x·Wᵀ + b``, the target and the term; the
    note writes the chunking out."""
    x, w, t = (np.asarray(named[k]) for k in ("input", "linear_weight", "target"))
    x2 = np.reshape(x, (-1, x.shape[-1]))
    n, d, classes, out = x2.shape[0], w.shape[-1], w.shape[0], w.shape[1:-1]
    z = x2 @ np.reshape(w, (-1, d)).T
    if options.get("linear_bias") is not None:
        z = z + np.reshape(options["linear_bias"], -1)
    z = np.reshape(z, (n, classes, *out))
    chosen = options.get("options")
    index = np.issubdtype(t.dtype, np.integer)
    rows_per = chosen.rows(n, d, classes, probabilities=not index,
                           half=x.dtype == np.float16) if chosen is not None else chunk_rows(
        n, d, classes, None, "aspect_ratio", False)
    ignore = -100 if options.get("ignore_index") is None else options["ignore_index"]
    header = ["position", "chunk", "logits x·Wᵀ + b", "target", "how", "term"]
    rows = []
    flat_terms = np.reshape(terms, (n, *out))
    for idx in _positions((n, *out), limit):
        logits = z[(idx[0], slice(None), *idx[1:])]
        lo = idx[0] // rows_per * rows_per
        chunk = f"{idx[0] // rows_per} (rows {lo}–{min(lo + rows_per, n) - 1})"
        target = t.reshape((n, *out))[idx] if index else np.moveaxis(
            t.reshape((n, classes, *out)), 1, -1)[idx]
        if not index:
            how = "-Σ_c y_c·log softmax(z)_c"
        elif int(target) == ignore:
            how = "ignored (target = ignore_index)"
        elif options.get("label_smoothing", 0.0) > 0 or options.get("weight") is not None:
            how = "cross_entropy of z (weighted / smoothed)"
        else:
            p = float(np.exp(log_softmax(np, logits)[int(target)]))
            how = f"-log softmax(z)[{int(target)}] = -log {fmt(p)}"
        rows.append([_index(idx), chunk, vector(logits), fmt(target) if index else
                     vector(target), how, fmt(flat_terms[idx])])
    count = max(1, math.ceil(n / rows_per)) if n else 0
    rule = ("the rows per chunk of `options`" if chosen is not None else
            f"torch's aspect-ratio rule next_pow2(ceil(N / ceil(C / D))) = next_pow2(ceil({n} / "
            f"{math.ceil(classes / max(d, 1))}))")
    note = (f"chunked: {count} chunk{'s' if count != 1 else ''} of {rows_per} rows ({rule}); "
            f"only one chunk's ({rows_per}, {classes}) logits exist at a time, and the "
            "gradients of input, weight and bias are accumulated chunk by chunk.")
    return (header, rows), [note]


def adaptive_rows(named: dict[str, np.ndarray], options: dict[str, Any], terms: np.ndarray,
                  limit: int) -> Table:
    """One row per sample: where its target lies (head or cluster) and the log-probabilities
    that make its term."""
    x = np.reshape(np.asarray(named["input"]), (-1, named["input"].shape[-1]))
    t = np.reshape(np.asarray(named["target"]), -1)
    a = adaptive("explain", np, named["head_weight"], named["tail_weights"],
                 options["cutoffs"], options.get("head_bias"))
    head = x @ a.head.T + (0 if a.bias is None else a.bias)
    head_lp = log_softmax(np, head)
    header = ["sample", "target", "where", "how", "term"]
    rows = []
    flat = np.reshape(terms, -1)
    for (i,) in _positions((x.shape[0],), limit):
        y = int(t[i])
        if y < a.shortlist:
            where, how = "head", f"-log p_head[{y}] = -({fmt(head_lp[i, y])})"
        else:
            k = next(j for j in range(len(a.tails)) if y < a.cutoffs[j + 1])
            proj, out = a.tails[k]
            tail_lp = log_softmax(np, (x[i] @ proj.T) @ out.T)
            local = y - a.cutoffs[k]
            where = f"cluster {k} (classes {a.cutoffs[k]}–{a.cutoffs[k + 1] - 1})"
            how = (f"-(log p_head[{a.shortlist + k}] + log p_tail[{local}]) = "
                   f"-({fmt(head_lp[i, a.shortlist + k])} + {par(tail_lp[local])})")
        rows.append([str(i), str(y), where, how, fmt(flat[i])])
    return header, rows

