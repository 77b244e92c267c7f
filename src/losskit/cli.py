"""The ``losskit`` command line."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

import numpy as np

from . import __version__
from .modules import (
    KLDivLoss,
    L1Loss,
    MarginRankingLoss,
    MSELoss,
    MultiLabelMarginLoss,
    PoissonNLLLoss,
    SmoothL1Loss,
)

# (call as written in the tutorial, inputs shown, the loss, its arrays, what the number means)
_X = [2.0, 4.0, 6.0]
_Y = [1.0, 3.0, 5.0]


def _log_softmax(v: list[float]) -> np.ndarray:
    a = np.asarray(v)
    return a - (a.max() + np.log(np.exp(a - a.max()).sum()))


def _examples() -> list[tuple[str, str, object, tuple[np.ndarray, ...], str]]:
    x, y = np.asarray(_X), np.asarray(_Y)
    return [
        (
            "L1Loss()(input, target)",
            "input = [2, 4, 6], target = [1, 3, 5]",
            L1Loss(),
            (x, y),
            "each prediction is off by exactly 1, so the mean absolute error is 1.",
        ),
        (
            "MSELoss()(input, target)",
            "same input and target",
            MSELoss(),
            (x, y),
            "each squared error is 1² = 1; their mean is 1.",
        ),
        (
            "SmoothL1Loss()(input, target)",
            "same input and target",
            SmoothL1Loss(),
            (x, y),
            "|error| = 1 is not below beta = 1, so each term is the linear branch 1 - 0.5 = 0.5.",
        ),
        (
            "PoissonNLLLoss(log_input=False, full=False, eps=1e-8)(input, target)",
            "same input and target",
            PoissonNLLLoss(log_input=False, full=False, eps=1e-8),
            (x, y),
            "terms x - y·log(x) = {terms}: unequal, and the default reduction 'mean'\n"
            "   makes one scalar of them (full=True would add log(y!) where y > 1).",
        ),
        (
            "KLDivLoss(reduction='mean')(log_softmax([2, 4, 6]), target)",
            "target = [0.3, 0.5, 0.2]",
            KLDivLoss(reduction="mean"),
            (_log_softmax(_X), np.asarray([0.3, 0.5, 0.2])),
            "terms p·(log p - log q) = {terms} sum to {total}; 'mean' divides\n"
            "   by the 3 elements ('batchmean', the true KL per sample, agrees for 1-D input).",
        ),
        (
            "MarginRankingLoss(margin=0.0)(input1, input2, target)",
            "input1 = [1, 2, 3], input2 = [2, 3, 4], target = [1, -1, 1]",
            MarginRankingLoss(margin=0.0),
            (np.asarray([1.0, 2.0, 3.0]), np.asarray([2.0, 3.0, 4.0]), np.asarray([1.0, -1, 1])),
            "pairs 1 and 3 want input1 > input2 but are 1 short: terms {terms}, mean 2/3.",
        ),
        (
            "MultiLabelMarginLoss()(input, target)",
            "input = [[1, 2, 3, 4]], target = [[0, 3, -1, -1]]",
            MultiLabelMarginLoss(),
            (np.asarray([[1.0, 2.0, 3.0, 4.0]]), np.asarray([[0, 3, -1, -1]])),
            "targets {{0, 3}} vs non-targets {{1, 2}}: class 0 misses its margins by 2 + 3,\n"
            "   class 3 by 0; (5 + 0) / C = 5/4.",
        ),
    ]


def demo() -> int:
    """Print the seven tutorial examples with losskit's values and what they mean."""
    print("losskit demo: the loss-function tutorial's seven examples, computed by losskit")
    print("on NumPy arrays. torch 2.13 gives the same numbers.\n")
    for number, (call, inputs, loss, arrays, meaning) in enumerate(_examples(), start=1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # kl_div's 'mean' warning is explained instead
            value = float(loss(*arrays))
            terms = type(loss)(**{**loss.options(), "reduction": "none"})(*arrays)
        shown = "[" + ", ".join(f"{t:.4f}" for t in np.reshape(terms, -1)) + "]"
        meaning = meaning.format(terms=shown, total=f"{float(np.sum(terms)):.4f}")
        print(f"{number}. {call}")
        print(f"   {inputs}")
        print(f"   = {value:.4f}")
        print(f"   {meaning}\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="losskit",
        description="PyTorch's loss functions, with PyTorch's exact semantics, on any array "
        "library.",
    )
    parser.add_argument("--version", action="version", version=f"losskit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("demo", help="print the tutorial's seven examples with their true values")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo()
    parser.print_help(sys.stderr)
    return 2
