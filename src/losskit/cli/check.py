"""``losskit check``: the parity check of ``losskit.testing.check`` with a progress bar,
a table and an exit status (1 on any failure, 2 when torch or the backend is missing)."""

from __future__ import annotations

import difflib
import importlib.util
import sys
import time
from typing import TextIO

import losskit

from ..testing.check import KNOWN_BACKENDS, run_check, table
from ..testing.ties import STRICT_CLAMP_SINCE
from .catalog import lookup
from .inputs import InputError


def _bar(done: int, total: int, label: str, started: float, out: TextIO) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    if 0 < done < total and int(100 * done / total) == int(100 * (done - 1) / total):
        return  # redraw once a percent
    elapsed = time.perf_counter() - started
    out.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} "
              f"{elapsed:5.1f}s {label:<34}")
    out.flush()


def _requirements(backend_name: str) -> None:
    if importlib.util.find_spec("torch") is None:
        raise InputError("needs torch, the oracle: pip install torch")
    if backend_name not in KNOWN_BACKENDS:
        close = difflib.get_close_matches(backend_name, list(KNOWN_BACKENDS), n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise InputError(f"unknown backend {backend_name!r}{hint} (one of "
                         f"{', '.join(KNOWN_BACKENDS)})")
    module = {"torch_cuda": "torch", "array_api_strict": "array_api_strict"}.get(
        backend_name, backend_name)
    if importlib.util.find_spec(module) is None:
        raise InputError(f"backend {backend_name} is not installed: pip install "
                         f"{KNOWN_BACKENDS[backend_name]}")
    if backend_name in ("cupy", "torch_cuda"):
        from ..testing.backends import gpu_backends

        found, why = gpu_backends()
        if backend_name not in found:
            raise InputError(f"backend {backend_name} needs a GPU ({why})")


def check_command(backend_name: str, losses: list[str] | None, seed: int = 0,
                  progress: bool = True, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    _requirements(backend_name)
    names = [lookup(n).name for n in losses] if losses else None
    import torch

    print(f"losskit {losskit.__version__} against torch {torch.__version__} on "
          f"{backend_name}, seed {seed}: values, dtypes, shapes and gradients", file=out)
    started = time.perf_counter()
    bar = (lambda d, n, label: _bar(d, n, label, started, sys.stderr)) if progress else None
    tallies = run_check(backend_name, names, seed, bar)
    if progress:
        sys.stderr.write("\n")
    for line in table(tallies):
        print(line, file=out)
    failed = [(loss, t) for loss, t in tallies.items() if t.failed]
    checks = sum(t.checks for t in tallies.values())
    for loss, t in failed:
        print(f"first failure of {loss}: {t.first_failure}", file=out)
    older = sum(t.older for t in tallies.values())
    if older:
        since = ".".join(map(str, STRICT_CLAMP_SINCE))
        print(f"{older} gradient checks at exact ties were not made: torch {torch.__version__} "
              f"predates the convention losskit follows (torch {since} and later give no "
              "gradient at exactly the margin of a clamp_min loss); they are not counted as "
              "passed", file=out)
    print(f"{checks - sum(t.failed for _, t in failed)} of {checks} checks passed in "
          f"{time.perf_counter() - started:.1f} s", file=out)
    return 1 if failed else 0
