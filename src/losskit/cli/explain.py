"""``losskit.explain``: how a loss value arises, term by term.

>>> import numpy as np, losskit
>>> e = losskit.explain(losskit.margin_ranking_loss, np.array([1., 2, 3]),
...                     np.array([2., 3, 4]), np.array([1., -1, 1]))
>>> print(e.reduction_line)
mean = (1 + 0 + 1) / 3 = 0.6667   [divided by 3 terms]
"""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._core.gradients import divisor_of
from .._core.reduction import legacy_reduction
from ..losses.triplet import pairwise_distance
from . import explain_head as head_terms
from . import explain_terms as terms_of
from .catalog import Entry, entry_of
from .explain_terms import fmt

_PER_SAMPLE = ("cross_entropy", "nll_loss", "multi_margin_loss", "multilabel_soft_margin_loss")


@dataclass
class Explanation:
    """An explained loss call. ``str()`` gives text, ``to_markdown()`` Markdown (also shown by
    Jupyter); ``value`` is the loss's own result and ``terms`` its ``reduction='none'`` terms."""

    loss: str
    call: str
    summary: str
    formula: str
    inputs: list[str]
    caption: str
    header: list[str]
    rows: list[list[str]]
    omitted: int
    reduction_line: str
    value: Any
    terms: Any
    notes: list[str] = field(default_factory=list)
    pitfalls: list[str] = field(default_factory=list)

    def _table_text(self) -> list[str]:
        cells = [self.header, *self.rows]
        widths = [max(len(r[i]) for r in cells) for i in range(len(self.header))]
        lines = ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]
        lines.insert(1, "  " + "  ".join("-" * w for w in widths))
        return lines

    def __str__(self) -> str:
        summary = textwrap.fill(self.summary, 100, initial_indent="  ", subsequent_indent="  ")
        out = [f"{self.call}", summary, "", "formula", f"  {self.formula}", "", "inputs",
               *(f"  {line}" for line in self.inputs), "", self.caption, *self._table_text()]
        if self.omitted:
            out.append(f"  … and {self.omitted} more")
        out += [*(f"  {n}" for n in self.notes), "", "reduction", f"  {self.reduction_line}"]
        if self.pitfalls:
            out += ["", "pitfalls", *(textwrap.fill(p, 100, initial_indent="  - ",
                                                    subsequent_indent="    ")
                                      for p in self.pitfalls)]
        return "\n".join(out)

    def to_markdown(self) -> str:
        def row(cells: list[str]) -> str:
            return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

        out = [f"### `{self.call}`", "", self.summary, "", f"**Formula:** `{self.formula}`", "",
               "**Inputs:**", "", *(f"- `{line}`" for line in self.inputs), "",
               f"**{self.caption[:1].upper()}{self.caption[1:]}:**", "", row(self.header),
               row(["---"] * len(self.header)), *(row(r) for r in self.rows)]
        if self.omitted:
            out += ["", f"… and {self.omitted} more"]
        if self.notes:
            out += ["", *(f"- {n}" for n in self.notes)]
        out += ["", f"**Reduction:** `{self.reduction_line}`"]
        if self.pitfalls:
            out += ["", "**Pitfalls:**", "", *(f"- {p}" for p in self.pitfalls)]
        return "\n".join(out)

    _repr_markdown_ = to_markdown

    def __repr__(self) -> str:
        return f"<Explanation of {self.call} = {self._shown_value()}>"

    def _shown_value(self) -> str:
        v = np.asarray(self.value)
        return fmt(v) if v.ndim == 0 else f"array of shape {v.shape}"


def _numpy(a: Any) -> Any:
    """Inputs of any array library as NumPy (explain shows values, so it computes them)."""
    if a is None or isinstance(a, (bool, int, float, str)) or callable(a):
        return a
    if isinstance(a, (list, tuple)):
        return np.asarray(a)
    if not hasattr(a, "shape"):  # an options object (LinearCrossEntropyOptions)
        return a
    if hasattr(a, "compute"):  # Dask
        a = a.compute()
    try:
        return np.asarray(a)
    except Exception:  # array-api-strict refuses __array__
        return np.from_dlpack(a)


def _input_line(name: str, a: Any) -> str:
    if isinstance(a, list):  # the adaptive tails
        shapes = "; ".join(" and ".join(str(tuple(v.shape)) for v in pair) for pair in a)
        return f"{name} = {len(a)} (projection, output) pairs of shapes {shapes}"
    return f"{name} = {terms_of.vector(a, 12)}  ({a.dtype}, shape {tuple(a.shape)})"


def _pairs(a: Any) -> list[tuple[Any, ...]]:
    """A sequence of array pairs (the adaptive tails), each array as NumPy."""
    return [tuple(_numpy(v) for v in pair) for pair in a]


def _reduction(options: dict[str, Any]) -> str:
    if options.get("size_average") is not None or options.get("reduce") is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return legacy_reduction(options.get("size_average"), options.get("reduce"))
    reduction = options.get("reduction", "mean")
    return "mean" if reduction == "elementwise_mean" else reduction


def _joined(values: np.ndarray, limit: int = 8) -> str:
    """1 + 0 + 1, or 1 + 0 + 1 + … + 0.5 for long sums; negatives subtract."""
    flat = [float(v) for v in np.reshape(values, -1)]
    shown = flat if len(flat) <= limit else [*flat[: limit - 2], None, flat[-1]]
    out = ""
    for k, v in enumerate(shown):
        if v is None:
            out += " + …"
        elif k == 0:
            out = fmt(v)
        else:
            out += f" - {fmt(-v)}" if v < 0 else f" + {fmt(v)}"
    return out or "0"


def _mean_divisor(entry: Entry, named: dict[str, np.ndarray], options: dict[str, Any],
                  terms: np.ndarray, reduction: str) -> tuple[np.ndarray, float, str]:
    """What 'mean' (or kl_div's 'batchmean') sums and what it divides by: the loss's own
    declared divisor, evaluated on these arguments, else the number of terms."""
    rule = divisor_of(entry.function)
    arguments = {**_defaults(entry), **named, **options, "reduction": reduction}
    if rule is not None:
        summed = terms if rule.terms is None else np.asarray(rule.terms(np, terms, **arguments))
        divisor = rule.of(np, **arguments)
        if divisor is not None:
            return summed, float(divisor), f"{rule.what} = {fmt(divisor)}"
        if rule.terms is not None:
            return summed, summed.size, f"{rule.what}: N = {summed.size}"
    word = "term" if entry.name in terms_of.ELEMENTWISE else "sample"
    return terms, terms.size, f"{terms.size} {word}{'s' if terms.size != 1 else ''}"


def _defaults(entry: Entry) -> dict[str, Any]:
    return {k: p.default for k, p in entry.options.items()}


def _reduction_line(entry: Entry, named: dict[str, np.ndarray], options: dict[str, Any],
                    terms: np.ndarray, value: np.ndarray, reduction: str) -> str:
    if reduction == "none":
        return (f"none: the terms above are the result (shape {tuple(terms.shape)}), "
                f"not reduced")
    if reduction == "sum":
        return f"sum = {_joined(terms)} = {fmt(value)}"
    summed, divisor, what = _mean_divisor(entry, named, options, terms, reduction)
    return (f"{reduction} = ({_joined(summed)}) / {fmt(divisor)} = {fmt(value)}"
            f"   [divided by {what}]")


def _call_text(entry: Entry, named: dict[str, np.ndarray], options: dict[str, Any]) -> str:
    """The call with every option in effect, defaults included (legacy arguments folded into
    ``reduction``)."""
    defaults = {k: p.default for k, p in entry.options.items()
                if p.default is not None and k not in ("size_average", "reduce")}
    options = {**defaults, **{k: v for k, v in options.items()
                              if k not in ("size_average", "reduce")}}
    arrays = {k for k, v in options.items()
              if isinstance(v, (list, tuple)) and v and not isinstance(v[0], (int, float))}
    shown = [f"{k}={v!r}" for k, v in options.items()
             if not isinstance(v, np.ndarray) and not callable(v) and k not in arrays]
    shown += [f"{k}=<{len(options[k])} array pairs>" for k in arrays]
    shown += [f"{k}=<array {tuple(v.shape)}>" for k, v in options.items()
              if isinstance(v, np.ndarray)]
    shown += [f"{k}={getattr(v, '__name__', 'fn')}" for k, v in options.items() if callable(v)]
    return f"{entry.name}({', '.join([*named, *shown])})"


def _table(entry: Entry, named: dict[str, np.ndarray], options: dict[str, Any],
           terms: np.ndarray, max_rows: int
           ) -> tuple[str, list[str], list[list[str]], list[str], int]:
    """The caption, header and rows of the terms table, notes under it, and the number of
    rows before ``max_rows`` cut it."""
    name, notes, total = entry.name, [], terms.size
    if name in terms_of.ELEMENTWISE:
        extra = {k: np.asarray(options[k]) for k in ("weight", "pos_weight")
                 if options.get(k) is not None}
        header, rows = terms_of.elementwise(name, {**named, **extra}, options, terms, max_rows)
        caption = "elementwise terms"
    elif name in _PER_SAMPLE:
        header, rows = terms_of.per_sample(name, named, options, terms, max_rows)
        caption = "per-sample terms"
    elif name == "multilabel_margin_loss":
        (header, rows), notes, total = terms_of.pairs(named, terms, max_rows)
        caption = "pairs (target class j, non-target class i)"
    elif name == "cosine_embedding_loss":
        header, rows = terms_of.cosine_rows(named, options, terms, max_rows)
        caption = "per-pair terms"
    elif name == "ctc_loss":
        header, rows = terms_of.ctc_rows(named, terms, max_rows)
        caption = "per-sample terms"
    elif name == "linear_cross_entropy":
        (header, rows), notes = head_terms.lce_rows(named, options, terms, max_rows)
        caption = "per-position terms"
    elif name == "adaptive_log_softmax_with_loss":
        header, rows = head_terms.adaptive_rows(named, options, terms, max_rows)
        caption = "per-sample terms"
    else:
        if name == "triplet_margin_loss":
            def distance(u, v):
                return pairwise_distance(u, v, p=options.get("p", 2), eps=options.get("eps", 1e-6))
        else:
            distance = options.get("distance_function") or pairwise_distance
        header, rows = terms_of.triplet_rows(named, options, terms, distance, max_rows)
        caption = "per-triplet terms"
    return caption, header, rows, notes, total


def explain(fn: Callable | Any, *arrays: Any, max_rows: int = 20, **options: Any) -> Explanation:
    """Explain ``fn(*arrays, **options)``: the formula, the terms beside their inputs, the
    reduction written out and the classic pitfalls of that loss.

    Every number shown is computed by the loss itself (its value, and its terms with
    ``reduction='none'``); the *how* column writes each term with the inputs substituted.

    Args:
        fn: one of losskit's loss functions, or a loss instance (its options are used, and
            ``options`` override them).
        *arrays: the loss's positional arrays, of any array library (converted to NumPy to
            be shown; Dask arrays are computed).
        max_rows: the most table rows shown; the rest are counted.
        **options: the loss's keyword arguments.

    Returns:
        An ``Explanation``: ``str()`` is text, ``to_markdown()`` Markdown (Jupyter shows it);
        ``value``, ``terms``, ``rows`` and ``reduction_line`` hold the parts.

    Example:
        >>> import numpy as np, losskit
        >>> e = losskit.explain(losskit.l1_loss, np.array([2., 4, 6]), np.array([1., 3, 5]))
        >>> e.rows[0]
        ['[0]', '2', '1', '|2 - 1|', '1']
        >>> e.reduction_line
        'mean = (1 + 1 + 1) / 3 = 1   [divided by 3 terms]'
    """
    entry = entry_of(fn)
    if not callable(getattr(fn, "options", None)) or fn is entry.function:
        base: dict[str, Any] = {}
    else:
        base = fn.options()
    # lists among the options stay lists (the adaptive softmax's cutoffs)
    options = {k: v if isinstance(v, list) else _numpy(v) for k, v in {**base, **options}.items()}
    # positional arrays may come by name (the adaptive softmax's tail_weights)
    arrays = (*arrays, *(options.pop(n) for n in entry.arrays[len(arrays):] if n in options))
    arrays = tuple(_pairs(a) if name == "tail_weights" else _numpy(a)
                   for name, a in zip(entry.arrays, arrays))
    if len(arrays) != len(entry.arrays):
        raise TypeError(f"explain: {entry.name} takes {len(entry.arrays)} arrays "
                        f"({', '.join(entry.arrays)}), got {len(arrays)}")
    named = {k: a if k == "tail_weights" else np.asarray(a)
             for k, a in zip(entry.arrays, arrays)}
    reduction = _reduction(options)
    plain = {k: v for k, v in options.items() if k not in ("size_average", "reduce")}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = np.asarray(entry.function(*arrays, **options))
        terms = np.asarray(entry.function(*arrays, **{**plain, "reduction": "none"}))
    notes = [f"warning: {w.message}" for w in caught if "reduction='none'" not in str(w.message)]
    caption, header, rows, table_notes, total = _table(entry, named, options, terms, max_rows)
    pitfalls = list(entry.pitfalls)
    if entry.name == "kl_div" and reduction == "mean" and named["input"].ndim > 1:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            batchmean = entry.function(*arrays, **{**plain, "reduction": "batchmean"})
        pitfalls.insert(0, f"here reduction='batchmean' gives {fmt(batchmean)}, the KL "
                           f"divergence per sample; 'mean' also divides by the size of "
                           f"each sample.")
    return Explanation(
        loss=entry.name,
        call=_call_text(entry, named, {**options, "reduction": reduction}),
        summary=f"{entry.summary} ({entry.family}; class {entry.cls.__name__})",
        formula=entry.formula,
        inputs=[_input_line(k, a) for k, a in named.items()],
        caption=caption,
        header=header,
        rows=rows,
        omitted=total - len(rows),
        reduction_line=_reduction_line(entry, named, options, terms, value, reduction),
        value=value,
        terms=terms,
        notes=[*table_notes, *notes],
        pitfalls=pitfalls,
    )
