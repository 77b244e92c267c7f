"""The tables of ``explain``: each loss's terms beside the inputs that produced them.

Every number in the *term* column is computed by the loss itself (``reduction='none'``); the
*how* column writes the same term with the inputs substituted, as a reader would check it by
hand (display only).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

Table = tuple[list[str], list[list[str]]]


def fmt(v: Any) -> str:
    """A number as a person writes it: 1, 0.5, -0.6036, 1e-08, nan, inf."""
    v = float(v)
    if math.isnan(v) or math.isinf(v):
        return str(v)
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    if abs(v) < 1e-3:
        return f"{v:.4g}"
    return f"{v:.4f}".rstrip("0").rstrip(".")


def par(v: Any) -> str:
    """A number inside an expression: negatives in parentheses."""
    s = fmt(v)
    return f"({s})" if s.startswith("-") else s


def vector(v: np.ndarray, limit: int = 6) -> str:
    """A short row of numbers: [1, 2, 3] or [1, 2, 3, …, 9] (n = 10); small arrays of more
    dimensions keep their nesting: [[1, 2], [3, 4]]."""
    v = np.asarray(v)
    if v.ndim == 0:
        return fmt(v)
    if v.ndim > 1 and 0 < v.size <= limit:
        return "[" + ", ".join(vector(row, limit) for row in v) + "]"
    flat = np.reshape(v, -1)
    if flat.size <= limit:
        return "[" + ", ".join(fmt(x) for x in flat) + "]"
    head = ", ".join(fmt(x) for x in flat[: limit - 1])
    return f"[{head}, …, {fmt(flat[-1])}] (n = {flat.size})"


def _index(idx: tuple[int, ...]) -> str:
    return "[" + ", ".join(map(str, idx)) + "]"


def _positions(shape: tuple[int, ...], limit: int) -> Iterator[tuple[int, ...]]:
    for count, idx in enumerate(np.ndindex(*shape)):
        if count >= limit:
            return
        yield idx


# --- elementwise losses ---------------------------------------------------------------------

def _weighted(expr: str, o: dict[str, Any], v: dict[str, float]) -> str:
    return f"{par(v['weight'])}·{expr}" if "weight" in v else expr


def _work_l1(v, o):
    return _weighted(f"|{par(v['input'])} - {par(v['target'])}|", o, v)


def _work_mse(v, o):
    return _weighted(f"({par(v['input'])} - {par(v['target'])})²", o, v)


def _work_smooth_l1(v, o):
    x, y, beta = par(v["input"]), par(v["target"]), o.get("beta", 1.0)
    if abs(v["input"] - v["target"]) < beta:
        return f"0.5·({x} - {y})²/{fmt(beta)}"
    return f"|{x} - {y}| - 0.5·{fmt(beta)}"


def _work_huber(v, o):
    x, y, delta = par(v["input"]), par(v["target"]), o.get("delta", 1.0)
    if abs(v["input"] - v["target"]) < delta:
        expr = f"0.5·({x} - {y})²"
    else:
        expr = f"{fmt(delta)}·(|{x} - {y}| - 0.5·{fmt(delta)})"
    return _weighted(expr, o, v)


def _work_poisson(v, o):
    x, y = par(v["input"]), par(v["target"])
    if o.get("log_input", True):
        expr = f"exp({fmt(v['input'])}) - {y}·{x}"
    else:
        expr = f"{x} - {y}·log({fmt(v['input'])} + {fmt(o.get('eps', 1e-8))})"
    if o.get("full", False) and v["target"] > 1:
        expr += f" + Stirling({fmt(v['target'])})"
    return expr


def _work_gaussian(v, o):
    var = max(v["var"], o.get("eps", 1e-6))
    expr = f"0.5·(log {fmt(var)} + ({par(v['input'])} - {par(v['target'])})²/{fmt(var)})"
    return expr + " + 0.5·log(2π)" if o.get("full", False) else expr


def _work_kl(v, o):
    x, y = par(v["input"]), v["target"]
    if o.get("log_target", False):
        return f"exp({fmt(y)})·({par(y)} - {x})"
    return "0 (y = 0)" if y == 0 else f"{par(y)}·(log {fmt(y)} - {x})"


def _work_margin_ranking(v, o):
    return (f"max(0, {par(o.get('margin', 0.0))} - {par(v['target'])}·"
            f"({par(v['input1'])} - {par(v['input2'])}))")


def _work_hinge(v, o):
    x, y, m = par(v["input"]), v["target"], par(o.get("margin", 1.0))
    if y == 1:
        return x
    if y == -1:
        return f"max(0, {m} - {x})"
    return f"{x} + max(0, {m} - {x})  (y is neither 1 nor -1)"


def _work_soft_margin(v, o):
    return f"log(1 + exp(-{par(v['target'])}·{par(v['input'])}))"


def _work_bce(v, o):
    x, y = v["input"], v["target"]
    return _weighted(f"-({par(y)}·log {fmt(x)} + {par(1 - y)}·log {fmt(1 - x)})", o, v)


def _work_bce_logits(v, o):
    x, y = par(v["input"]), v["target"]
    pos = f"{par(v['pos_weight'])}·" if "pos_weight" in v else ""
    return _weighted(f"-({pos}{par(y)}·log σ({fmt(v['input'])}) + {par(1 - y)}·"
                     f"log(1 - σ({x.strip('()')})))", o, v)


ELEMENTWISE: dict[str, Callable[[dict[str, float], dict[str, Any]], str]] = {
    "l1_loss": _work_l1,
    "mse_loss": _work_mse,
    "smooth_l1_loss": _work_smooth_l1,
    "huber_loss": _work_huber,
    "poisson_nll_loss": _work_poisson,
    "gaussian_nll_loss": _work_gaussian,
    "kl_div": _work_kl,
    "margin_ranking_loss": _work_margin_ranking,
    "hinge_embedding_loss": _work_hinge,
    "soft_margin_loss": _work_soft_margin,
    "binary_cross_entropy": _work_bce,
    "binary_cross_entropy_with_logits": _work_bce_logits,
}


def _spread(a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``a`` broadcast to the terms' shape; a var with one dimension less (gaussian_nll's
    homoscedastic form) gains its last axis back first."""
    try:
        return np.broadcast_to(a, shape)
    except ValueError:
        return np.broadcast_to(a[..., None], shape)


def elementwise(name: str, named: dict[str, np.ndarray], options: dict[str, Any],
                terms: np.ndarray, limit: int) -> Table:
    columns = {k: _spread(np.asarray(a), terms.shape) for k, a in named.items()}
    header = ["element", *columns, "how", "term"]
    rows = []
    for idx in _positions(terms.shape, limit):
        values = {k: float(a[idx]) for k, a in columns.items()}
        rows.append([_index(idx), *(fmt(x) for x in values.values()),
                     ELEMENTWISE[name](values, options), fmt(terms[idx])])
    return header, rows


# --- per-sample losses ----------------------------------------------------------------------

def per_sample(name: str, named: dict[str, np.ndarray], options: dict[str, Any],
               terms: np.ndarray, limit: int) -> Table:
    """One row per sample: the sample's vectors, its target and its term."""
    x = np.asarray(named["input"])
    class_axis = 1 if name in ("cross_entropy", "nll_loss") and x.ndim >= 2 else -1
    rows_x = np.moveaxis(x, class_axis, -1) if x.ndim else x
    t = np.asarray(named["target"])
    index_target = np.issubdtype(t.dtype, np.integer)
    rows_t = t if index_target else np.moveaxis(t, class_axis, -1)
    weight = options.get("weight")
    ignore = options.get("ignore_index", -100)
    header = ["sample", "input", "target", "how", "term"]
    rows = []
    for idx in _positions(terms.shape, limit):
        target = rows_t[idx]
        shown = fmt(target) if index_target else vector(target)
        how = ""
        if index_target and name in ("cross_entropy", "nll_loss") and int(target) == ignore:
            how = "ignored (target = ignore_index)"
        elif index_target and name == "nll_loss":
            w = "" if weight is None else f"{fmt(weight[int(target)])}·"
            how = f"-{w}input[{int(target)}]"
        elif index_target and name == "cross_entropy":
            w = 1.0 if weight is None else float(weight[int(target)])
            if options.get("label_smoothing", 0.0) <= 0 and w > 0:
                p = math.exp(-float(terms[idx]) / w)
                prefix = "" if weight is None else f"{fmt(w)}·"
                how = f"-{prefix}log softmax(input)[{int(target)}] = -{prefix}log {fmt(p)}"
            else:
                how = "smoothed: (1-ε)·(-w[y]·log p[y]) + ε/C·Σ_c(-w_c·log p_c)"
        elif name == "cross_entropy":
            how = "-Σ_c w_c·y_c·log softmax(input)_c"
        elif name == "multi_margin_loss":
            power = "²" if options.get("p", 1) == 2 else ""
            how = (f"Σ_i≠{int(target)} max(0, {fmt(options.get('margin', 1.0))} - "
                   f"x[{int(target)}] + x[i]){power} / {rows_x.shape[-1]}")
        elif name == "multilabel_soft_margin_loss":
            how = f"Σ_c logistic(x_c, y_c) / {rows_x.shape[-1]}"
        rows.append([_index(idx), vector(rows_x[idx]), shown, how, fmt(terms[idx])])
    return header, rows


def pairs(named: dict[str, np.ndarray], terms: np.ndarray, limit: int
          ) -> tuple[Table, list[str], int]:
    """multilabel_margin_loss: one row per (target class, non-target class) pair, and each
    sample's sum over C."""
    x = np.atleast_2d(np.asarray(named["input"], dtype=float))
    t = np.atleast_2d(np.asarray(named["target"]))
    flat_terms = np.reshape(terms, -1)
    c = x.shape[-1]
    header = ["sample", "target j", "other i", "x[j]", "x[i]", "how", "term"]
    rows: list[list[str]] = []
    sums = []
    count = 0
    for n in range(x.shape[0]):
        labels: list[int] = []
        for label in t[n]:
            if label < 0:
                break
            labels.append(int(label))
        others = [i for i in range(c) if i not in labels]
        parts = []
        for j in labels:
            for i in others:
                hinge = max(0.0, 1 - (x[n, j] - x[n, i]))
                parts.append(hinge)
                count += 1
                if len(rows) < limit:
                    rows.append([str(n), str(j), str(i), fmt(x[n, j]), fmt(x[n, i]),
                                 f"max(0, 1 - ({fmt(x[n, j])} - {par(x[n, i])}))",
                                 fmt(hinge)])
        total = " + ".join(fmt(p) for p in parts) or "0 (no pairs)"
        sums.append(f"sample {n}: targets {labels or '{}'} against {others or '{}'}: "
                    f"({total}) / {c} = {fmt(flat_terms[n])}   [divided by C = {c} classes]")
    return (header, rows), sums, count


def triplet_rows(named: dict[str, np.ndarray], options: dict[str, Any], terms: np.ndarray,
                 distance: Callable, limit: int) -> Table:
    """One row per triplet with its two distances (the distance function is the loss's own)."""
    a, p, n = (np.asarray(named[k]) for k in ("anchor", "positive", "negative"))
    d_ap, d_an = np.asarray(distance(a, p)), np.asarray(distance(a, n))
    if options.get("swap", False):
        d_an = np.minimum(d_an, np.asarray(distance(p, n)))
    shape = terms.shape
    d_ap, d_an = np.broadcast_to(d_ap, shape), np.broadcast_to(d_an, shape)
    rows_a, rows_p, rows_n = (np.broadcast_to(v, (*shape, v.shape[-1])) for v in (a, p, n))
    margin = fmt(options.get("margin", 1.0))
    rows = []
    for idx in _positions(shape, limit):
        rows.append([_index(idx), vector(rows_a[idx]), vector(rows_p[idx]),
                     vector(rows_n[idx]),
                     f"max(0, {fmt(d_ap[idx])} - {fmt(d_an[idx])} + {margin})",
                     fmt(terms[idx])])
    return ["triplet", "anchor", "positive", "negative", "how (d(a,p) - d(a,n) + margin)",
            "term"], rows


def cosine_rows(named: dict[str, np.ndarray], options: dict[str, Any], terms: np.ndarray,
                limit: int) -> Table:
    x1, x2, y = (np.asarray(named[k]) for k in ("input1", "input2", "target"))
    shape = terms.shape
    r1, r2 = (np.broadcast_to(v, (*shape, v.shape[-1])) for v in (x1, x2))
    y = np.broadcast_to(y, shape)
    rows = []
    for idx in _positions(shape, limit):
        how = {1: "1 - cos(x1, x2)",
               -1: f"max(0, cos(x1, x2) - {fmt(options.get('margin', 0.0))})"}.get(
                   float(y[idx]), "0 (target is neither 1 nor -1)")
        rows.append([_index(idx), vector(r1[idx]), vector(r2[idx]), fmt(y[idx]), how,
                     fmt(terms[idx])])
    return ["pair", "input1", "input2", "target", "how", "term"], rows


def ctc_labels(targets: np.ndarray, target_lengths: np.ndarray, n: int) -> list[list[int]]:
    """Each sample's labels, from padded (N, S) or concatenated targets."""
    lengths = np.reshape(target_lengths, -1).astype(int)
    if targets.ndim == 2:
        return [list(map(int, targets[i, : lengths[i]])) for i in range(n)]
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    return [list(map(int, targets[s: s + k])) for s, k in zip(starts, lengths)]


def ctc_rows(named: dict[str, np.ndarray], terms: np.ndarray, limit: int) -> Table:
    flat = np.reshape(terms, -1)
    il = np.reshape(np.asarray(named["input_lengths"]), -1)
    tl = np.reshape(np.asarray(named["target_lengths"]), -1)
    labels = ctc_labels(np.asarray(named["targets"]), tl, flat.size)
    rows = []
    for i in range(min(flat.size, limit)):
        rows.append([str(i), str(int(il[i])), vector(np.array(labels[i]), 10), str(int(tl[i])),
                     "-log Σ_alignments Π_t p_t", fmt(flat[i])])
    return ["sample", "input length", "target labels", "target length", "how", "term"], rows
