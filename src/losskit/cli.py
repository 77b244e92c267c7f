"""The ``losskit`` command line."""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence

import numpy as np

from . import __version__
from .examples import examples


def demo() -> int:
    """Print the tutorial's seven examples, then one per further loss, with their values."""
    print("losskit demo: the loss-function tutorial's seven examples, then one example of each")
    print("further loss, computed by losskit on NumPy arrays. torch 2.13 gives the same numbers.")
    for number, example in enumerate(examples(), start=1):
        if number == 1 or (not example.tutorial and examples()[number - 2].tutorial):
            title = "The tutorial's examples" if example.tutorial else "More losses"
            print(f"\n{title}\n")
        loss = example.loss
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # kl_div's 'mean' warning is explained instead
            value = float(loss(*example.arrays))
            terms = type(loss)(**{**loss.options(), "reduction": "none"})(*example.arrays)
        shown = "[" + ", ".join(f"{t:.4f}" for t in np.reshape(terms, -1)) + "]"
        meaning = example.meaning.format(terms=shown, total=f"{float(np.sum(terms)):.4f}")
        print(f"{number}. {example.call}")
        print(f"   {example.inputs}")
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
    commands.add_parser(
        "demo",
        help="print the tutorial's seven examples and one per further loss, with true values",
    )
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo()
    parser.print_help(sys.stderr)
    return 2
