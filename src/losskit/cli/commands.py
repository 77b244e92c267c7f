"""The ``losskit`` commands: demo, list, eval, explain, plot, check.

Bad input (an unknown loss or option, an unreadable file, wrong shapes, a value of the wrong
type) prints one line on standard error and exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._core.gradients import value_and_grad
from .._version import __version__
from .catalog import ENTRIES, UnknownLossError, lookup
from .demo import demo
from .explain import explain
from .inputs import InputError, read_call, signature_line

# the errors a loss raises for bad input, and ours; anything else is a bug and shows its trace
BAD_INPUT = (InputError, UnknownLossError, ValueError, TypeError, IndexError, OSError)


COMMANDS = ("demo", "list", "eval", "explain", "plot", "check")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise InputError(message)


def list_losses(as_json: bool) -> int:
    rows = [(e.name, e.cls.__name__, e.family, e.summary) for e in ENTRIES.values()]
    if as_json:
        print(json.dumps([dict(zip(("function", "class", "family", "description"), r))
                          for r in rows], indent=1, ensure_ascii=False))
        return 0
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[3])
    return 0


def _jsonable(a: Any) -> Any:
    """Nested lists; nan and ±inf as the strings "NaN", "Infinity", "-Infinity" (standard
    JSON has no such numbers; Python's float() reads these spellings back)."""
    def number(v: Any) -> Any:
        v = v.item()
        if isinstance(v, float) and not np.isfinite(v):
            return "NaN" if v != v else ("Infinity" if v > 0 else "-Infinity")
        return v

    a = np.asarray(a)
    if a.ndim == 0:
        return number(a)
    return [_jsonable(x) for x in a]


def _shown(a: Any) -> str:
    a = np.asarray(a)
    return str(a[()]) if a.ndim == 0 else np.array2string(a, separator=", ")


def _leaves(name: str, g: Any) -> list[tuple[str, Any]]:
    """A gradient as labelled arrays: the adaptive softmax's tails (a sequence of pairs)
    become ``tail_weights[0][1]`` and so on."""
    if isinstance(g, (list, tuple)):
        return [leaf for i, sub in enumerate(g) for leaf in _leaves(f"{name}[{i}]", sub)]
    return [(name, g)]


def _option_json(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return _jsonable(v)
    if isinstance(v, (list, tuple)):
        return [_option_json(a) for a in v]
    return v if v is None or isinstance(v, (bool, int, float, str)) else repr(v)


def _call_flags(rest: list[str], flags: dict[str, bool], valued: dict[str, str | None]
                ) -> list[str]:
    """Take the command's own flags (``--grad``, ``--dtype float32``) out of ``rest``."""
    kept: list[str] = []
    it = iter(rest)
    for arg in it:
        name, eq, value = arg.partition("=")
        if name in flags and not eq:
            flags[name] = True
        elif name in valued:
            if not eq:
                value = next(it, None)
                if value is None:
                    raise InputError(f"{name} needs a value")
            valued[name] = value
        else:
            kept.append(arg)
    dtype = valued.get("--dtype")
    if dtype not in (None, "float32", "float64"):
        raise InputError(f"--dtype: expected float32 or float64, got {dtype!r}")
    return kept


def _warned(command: str, caught: list[warnings.WarningMessage]) -> None:
    for w in caught:
        print(f"losskit {command}: warning: {w.message}", file=sys.stderr)


def _grad_choice(argv: list[str]) -> list[str] | None:
    """The arrays named by ``--grad=input,target`` (``None`` when not given so)."""
    chosen = [a.partition("=")[2] for a in argv if a.startswith("--grad=")]
    if not chosen:
        return None
    names = [n.strip() for n in chosen[-1].split(",") if n.strip()]
    if not names:
        raise InputError("--grad=: name the arrays to differentiate, e.g. --grad=input")
    return names


def _grad_names(entry: Any, chosen: list[str]) -> list[str]:
    """Names of ``--grad=`` (a number picks a positional array; ``-`` reads as ``_``);
    ``value_and_grad`` says which names are not array arguments of the loss."""
    return [entry.arrays[int(n)] if n.isdigit() and int(n) < len(entry.arrays)
            else n.replace("-", "_") for n in chosen]


def eval_loss(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(EVAL_HELP)
        return 0
    entry = lookup(argv[0])
    flags = {"--grad": False, "--json": False}
    valued: dict[str, str | None] = {"--dtype": None}
    chosen = _grad_choice(argv[1:])
    rest = _call_flags([a for a in argv[1:] if not a.startswith("--grad=")], flags, valued)
    arrays, options = read_call(entry, rest, valued["--dtype"])
    names = _grad_names(entry, chosen) if chosen is not None else list(entry.arrays)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if flags["--grad"] or chosen is not None:
            value, grads = value_and_grad(entry.function, *arrays, argnums=tuple(names),
                                          **options)
        else:
            value, grads = entry.function(*arrays, **options), None
    _warned("eval", caught)
    value = np.asarray(value)
    if flags["--json"]:
        out: dict[str, Any] = {
            "loss": entry.name,
            "options": {k: _option_json(v) for k, v in options.items()},
            "value": _jsonable(value), "shape": list(value.shape), "dtype": str(value.dtype),
        }
        if grads is not None:
            out["grad"] = {k: None if a is None else _jsonable(a)
                           for name, g in zip(names, grads) for k, a in _leaves(name, g)}
        print(json.dumps(out))
        return 0
    if grads is None:
        print(_shown(value))
        return 0
    print(f"value: {_shown(value)}")
    for name, g in zip(names, grads):
        for label, a in _leaves(name, g):
            shown = "none (torch gives no gradient here)" if a is None else _shown(a)
            print(f"grad {label}: {shown}")
    return 0


def explain_loss(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(EXPLAIN_HELP)
        return 0
    entry = lookup(argv[0])
    flags = {"--markdown": False}
    valued: dict[str, str | None] = {"--dtype": None, "--rows": "20"}
    rest = _call_flags(argv[1:], flags, valued)
    try:
        rows = int(valued["--rows"] or "")
    except ValueError:
        raise InputError(f"--rows: expected a number of rows, got {valued['--rows']!r}") from None
    arrays, options = read_call(entry, rest, valued["--dtype"])
    explanation = explain(entry.function, *arrays, max_rows=max(rows, 1), **options)
    print(explanation.to_markdown() if flags["--markdown"] else explanation)
    return 0


EVAL_HELP = """usage: losskit eval LOSS ARRAY... [--OPTION VALUE ...] [--grad] [--json]
                    [--dtype float32|float64]

Compute a loss on your own numbers. LOSS is a function or class name (mse_loss or MSELoss).
Each ARRAY is inline JSON ("[2, 4, 6]"), numbers ("2,4,6"), a .npy file (never unpickled),
a .csv/.txt file of numbers, or - for standard input. Options are the loss's own keyword
arguments (--reduction sum, --weight "[1, 2]", --label-smoothing 0.1). Text has no dtype:
integers stay integers for class indices and lengths and are floats elsewhere (float64, or
--dtype). --grad adds the analytic gradients (--grad=input only the input's, or a list:
--grad=input,weight); --json prints machine-readable output. The adaptive softmax's
TAIL_WEIGHTS is one .npz of its tails' arrays in order (np.savez(path, P0, O0, P1, O1));
--cutoffs 4,9,15; linear_cross_entropy's --options batch_chunk_size=64,chunking_method=auto.

example: losskit eval mse_loss "[2, 4, 6]" "[1, 3, 5]" --grad=input
losses and their options:
""" + "\n".join(f"  {signature_line(e)}" for e in ENTRIES.values())

EXPLAIN_HELP = """usage: losskit explain LOSS ARRAY... [--OPTION VALUE ...] [--markdown] [--rows N]
                       [--dtype float32|float64]

Show how the value arises: the formula, each term beside the inputs that produced it, the
reduction written out and the pitfalls of that loss. Arrays and options as for losskit eval.

example: losskit explain multilabel_margin_loss "[[1, 2, 3, 4]]" "[[0, 3, -1, -1]]"
"""


def _parser() -> _Parser:
    parser = _Parser(prog="losskit", description="PyTorch's loss functions, with PyTorch's "
                     "exact semantics, on any array library.")
    parser.add_argument("--version", action="version", version=f"losskit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.add_parser("demo", help="the tutorial's seven examples and one per further loss, "
                        "with true values")
    listing = commands.add_parser("list", help="every loss: class, family, description")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    commands.add_parser("eval", help="compute a loss (and --grad) on your arrays or files",
                        add_help=False)
    commands.add_parser("explain", help="how the value arises, term by term", add_help=False)
    plot = commands.add_parser("plot", help="draw losses (and --grad) against residual, "
                               "margin or logit (needs losskit[plot])")
    plot.add_argument("losses", nargs="+", metavar="LOSS",
                      help="a loss name, optionally with options: huber_loss:delta=2")
    plot.add_argument("--grad", action="store_true", help="add the gradients below")
    plot.add_argument("-o", "--output", help="FILE.png or FILE.svg (default: LOSS-....png)")
    plot.add_argument("--range", nargs=2, type=float, metavar=("LO", "HI"),
                      help="the horizontal axis (default: -3 3)")
    check = commands.add_parser("check", help="compare losskit with the installed torch on "
                                "random inputs for every loss and option set")
    check.add_argument("--backend", default="numpy", help="numpy (default), array_api_strict, "
                       "torch, jax, dask, cupy or torch_cuda")
    check.add_argument("--loss", action="append", metavar="LOSS",
                       help="only this loss (repeatable)")
    check.add_argument("--seed", type=int, default=0, help="vary the random inputs")
    check.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _dispatch(argv: list[str]) -> int:
    if argv and argv[0] == "eval":
        return eval_loss(argv[1:])
    if argv and argv[0] == "explain":
        return explain_loss(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo()
    if args.command == "list":
        return list_losses(args.json)
    if args.command == "plot":
        from .plot import plot_command

        return plot_command(args.losses, grad=args.grad, output=args.output, span=args.range)
    if args.command == "check":
        from .check import check_command

        return check_command(args.backend, args.loss, seed=args.seed,
                             progress=not args.no_progress)
    parser.print_help(sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in COMMANDS else ""
    try:
        return _dispatch(argv)
    except BrokenPipeError:
        # the reader went away (losskit demo | head -1): stop quietly, as Unix tools do;
        # stdout is pointed at devnull so that Python's final flush cannot fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except BAD_INPUT as exc:
        prefix = f"losskit {command}: " if command else "losskit: "
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(prefix + message, file=sys.stderr)
        return 2
