"""linear_cross_entropy at real sizes: time and peak memory, forward + backward, side by side.

    python benchmarks/bench_lce.py [--sizes 4096,256,32000] [--rounds 3] [--repeat 2]
                                   [--only losskit,torch-reference,...] [--chunk ROWS]

Every measurement runs in a fresh process (one per method and round, methods alternating):
the process builds the inputs (float32, ``x`` (N, D), ``W`` (C, D), ``t`` (N)), imports the
library and converts the inputs to it, resets the kernel's peak-RSS counter
(``/proc/self/clear_refs``), makes a first call (JAX: trace and compile) and times
``--repeat`` more. "peak MB" is the highest resident memory during all of these above the
resident memory before them (inputs and libraries): the memory the computation needed,
outputs (the gradients of x and W) included.

Methods (gradients of ``x`` and ``W``; mean reduction):

* ``losskit``: ``losskit.value_and_grad(linear_cross_entropy, x, W, t, argnums=(0, 1))`` on
  NumPy (chunks of torch's 'aspect_ratio' rows; BLAS matmuls);
* ``torch-reference``: ``F.linear_cross_entropy(x, W, t)`` + ``backward()``: torch's
  reference path (the full (N, C) logits);
* ``torch-chunked``: the same with ``options=nn.LinearCrossEntropyOptions()``;
* ``losskit-jax``: ``jax.jit(jax.value_and_grad(...))`` of losskit's function on JAX arrays
  (``lax.scan`` over chunks);
* ``optax``: ``jax.jit(jax.value_and_grad(...))`` of
  ``optax.softmax_cross_entropy_with_integer_labels`` on materialised logits ``x @ W.T``
  (the usual JAX spelling).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from typing import Any

import numpy as np

warnings.filterwarnings("ignore")

METHODS = ("losskit", "torch-reference", "torch-chunked", "losskit-jax", "optax")


def _inputs(n: int, d: int, c: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, d), dtype=np.float32)
    w = rng.standard_normal((c, d), dtype=np.float32) / np.float32(np.sqrt(d))
    return x, w, rng.integers(0, c, size=n)


def _status(field: str) -> int:
    """A ``/proc/self/status`` memory field in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _options(chunk: int | None) -> Any:
    import losskit

    return None if chunk is None else losskit.LinearCrossEntropyOptions(
        batch_chunk_size=chunk, chunking_method=None)


def _step(method: str, x: np.ndarray, w: np.ndarray, t: np.ndarray, chunk: int | None
          ) -> Any:
    """A function running one forward + backward, returning something to wait on."""
    if method == "losskit":
        import losskit

        options = _options(chunk)
        return lambda: losskit.value_and_grad(losskit.linear_cross_entropy, x, w, t,
                                              argnums=(0, 1), options=options)
    if method.startswith("torch"):
        import torch

        torch.set_num_threads(os.cpu_count() or 1)
        xt, wt, tt = torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(t)
        opts = torch.nn.LinearCrossEntropyOptions() if method == "torch-chunked" else None

        def run() -> Any:
            xg, wg = xt.requires_grad_(True), wt.requires_grad_(True)
            loss = torch.nn.functional.linear_cross_entropy(xg, wg, tt, options=opts)
            return torch.autograd.grad(loss, (xg, wg))

        return run
    import jax

    xj, wj, tj = jax.numpy.asarray(x), jax.numpy.asarray(w), jax.numpy.asarray(t)
    if method == "losskit-jax":
        import losskit

        options = _options(chunk)

        def loss(a: Any, b: Any) -> Any:
            return losskit.linear_cross_entropy(a, b, tj, options=options)
    else:
        import optax

        def loss(a: Any, b: Any) -> Any:
            return optax.softmax_cross_entropy_with_integer_labels(a @ b.T, tj).mean()

    step = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))
    return lambda: jax.block_until_ready(step(xj, wj))


def worker(method: str, n: int, d: int, c: int, repeat: int, chunk: int | None
           ) -> dict[str, float]:
    x, w, t = _inputs(n, d, c)
    run = _step(method, x, w, t, chunk)  # imports the library, converts the inputs
    before = _status("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM (the peak) to the current resident size
    started = time.perf_counter()
    run()  # the first call: JIT compilation, thread pools, allocator growth
    first = time.perf_counter() - started
    times = []
    for _ in range(repeat):
        time.sleep(0.5)  # torch's thread pool idle before each timed call
        started = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - started)
        del out
    return {"seconds": statistics.median(times), "first": first,
            "peak_mb": (_status("VmHWM") - before) / 2**20}


def _measure(method: str, size: tuple[int, int, int], repeat: int, chunk: int | None
             ) -> dict[str, float] | str:
    cmd = [sys.executable, __file__, "--worker", method, "--sizes", ",".join(map(str, size)),
           "--repeat", str(repeat)] + ([] if chunk is None else ["--chunk", str(chunk)])
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        return (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
    return json.loads(done.stdout.strip().splitlines()[-1])


def losskit_rows(n: int, d: int, c: int) -> int:
    from losskit.losses._chunked import chunk_rows

    return chunk_rows(n, d, c, None, "aspect_ratio", False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="4096,256,32000", help="N,D,C[;N,D,C...]")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--only", default=",".join(METHODS))
    parser.add_argument("--chunk", type=int, help="losskit's rows per chunk (default: "
                        "torch's 'aspect_ratio' rule)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [tuple(int(v) for v in s.split(",")) for s in args.sizes.split(";")]
    if args.worker:
        print(json.dumps(worker(args.worker, *sizes[0], args.repeat, args.chunk)))
        return
    methods = [m for m in args.only.split(",") if m]
    for size in sizes:
        n, d, c = size
        rows = args.chunk or losskit_rows(n, d, c)
        print(f"\nN={n}, D={d}, C={c}, float32, forward + backward (x and W), "
              f"{args.rounds} rounds x {args.repeat} calls, fresh process each; "
              f"losskit's chunks: {rows} rows:")
        results: dict[str, list[dict[str, float]]] = {m: [] for m in methods}
        failed: dict[str, str] = {}
        for _ in range(args.rounds):
            for m in methods:
                if m in failed:
                    continue
                got = _measure(m, size, args.repeat, args.chunk)
                if isinstance(got, str):
                    failed[m] = got
                else:
                    results[m].append(got)
        ref = results.get("torch-reference") or results.get("torch-chunked")
        ref_s = statistics.median(r["seconds"] for r in ref) if ref else None
        print(f"  {'method':<16} {'seconds':>8} {'vs torch ref':>12} {'peak MB':>9} "
              f"{'first call s':>12}")
        for m in methods:
            if m in failed:
                print(f"  {m:<16} failed: {failed[m][:90]}")
                continue
            s = statistics.median(r["seconds"] for r in results[m])
            peak = statistics.median(r["peak_mb"] for r in results[m])
            first = statistics.median(r["first"] for r in results[m])
            ratio = f"{s / ref_s:12.2f}" if ref_s else f"{'':>12}"
            print(f"  {m:<16} {s:8.2f} {ratio} {peak:9.0f} {first:12.2f}")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    main()
