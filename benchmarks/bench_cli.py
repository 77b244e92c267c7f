"""``losskit eval`` on a large CSV file against NumPy's own reader of the same file.

    python benchmarks/bench_cli.py [--rows 1000000]

Prints the median of a few runs of reading the file with ``numpy.loadtxt`` and of the whole
``losskit eval mse_loss FILE FILE`` command in-process (reading both files, the loss, the
output), and their ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import tempfile
import time

import numpy as np

from losskit.cli import main


def _median(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run(rows: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "predictions.csv")
        np.savetxt(path, np.random.default_rng(0).random((rows, 1)), header="prediction")
        numpy_s = _median(lambda: np.loadtxt(path), repeat)

        def command() -> None:
            with contextlib.redirect_stdout(io.StringIO()):
                assert main(["eval", "mse_loss", path, path]) == 0

        eval_s = _median(command, repeat)
    print(f"{rows} rows: numpy.loadtxt {numpy_s:.2f} s, losskit eval (two files, the loss) "
          f"{eval_s:.2f} s, ratio {eval_s / numpy_s:.1f} (two reads: 2.0 is NumPy's speed)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    run(args.rows, args.repeat)
