"""Real sizes on JAX and Dask, and NumPy's ctc_loss against torch.

    python benchmarks/bench_scale.py [--only jit,ctc-jit,dask,numpy-ctc]

* ``jit``: the first call (trace + compile) of ``jax.jit(jax.value_and_grad(loss))`` for
  every loss at the sizes of bench_losses.py.
* ``ctc-jit``: the same for ctc_loss at T = 50, 200, 1000 (N=8, C=30, S=10), and a run at
  T=1000 beside optax's ``ctc_loss`` (if installed).
* ``dask``: ctc_loss at T=1000, N=64 in 8 batch chunks and multilabel_margin_loss at
  (10^6, 100) in 10 chunks: tasks in the graph, and compute time beside the NumPy path.
* ``numpy-ctc``: losskit's value_and_grad against torch's forward+backward at
  (T=100, N=32, C=30, S=40) and (T=1000, N=16, C=50, S=100), alternating runs (medians).
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from typing import Any

import numpy as np

import losskit

warnings.filterwarnings("ignore")


def _log_probs(rng: np.random.Generator, t: int, n: int, c: int, dtype: Any) -> np.ndarray:
    z = rng.normal(size=(t, n, c))
    return (z - np.log(np.exp(z).sum(-1, keepdims=True))).astype(dtype)


def _first_call(fn: Any, *args: Any) -> float:
    started = time.perf_counter()
    out = fn(*args)
    import jax

    jax.block_until_ready(out)
    return time.perf_counter() - started


def jit_every_loss() -> None:
    import jax

    from bench_losses import _cases

    cases = _cases(np.random.default_rng(0))
    print("jax.jit(jax.value_and_grad(loss)), first call (trace and compile), float32:")
    for name, (arrays, options, differentiable) in cases.items():
        fn = getattr(losskit, name)
        floating = tuple(i for i, d in enumerate(differentiable) if d)
        jarrays = [jax.numpy.asarray(a) for a in arrays]

        def total(*xs: Any, fn: Any = fn, jarrays: list = jarrays, floating: tuple = floating,
                  options: dict = options) -> Any:
            args = list(jarrays)
            for i, v in zip(floating, xs):
                args[i] = v
            return jax.numpy.sum(fn(*args, **options))

        step = jax.jit(jax.value_and_grad(total, argnums=tuple(range(len(floating)))))
        seconds = _first_call(step, *[jarrays[i] for i in floating])
        print(f"  {name:<34} {seconds:6.2f} s")


def ctc_jit() -> None:
    import jax

    print("ctc_loss under jax.jit(jax.value_and_grad), N=8, C=30, S=10, float32:")
    rng = np.random.default_rng(0)
    runs = {}
    for t in (50, 200, 1000):
        x = jax.numpy.asarray(rng.normal(size=(t, 8, 30)).astype(np.float32))
        tgt = jax.numpy.asarray(rng.integers(1, 30, size=(8, 10)))
        lengths = jax.numpy.full((8,), t), jax.numpy.full((8,), 10)

        def loss(x: Any, tgt: Any = tgt, lengths: tuple = lengths) -> Any:
            return losskit.ctc_loss(jax.nn.log_softmax(x, -1), tgt, *lengths)

        step = jax.jit(jax.value_and_grad(loss))
        compile_s = _first_call(step, x)
        runs[t] = (step, x)
        run_s = statistics.median(_first_call(step, x) for _ in range(5))
        print(f"  T={t:<5} first call {compile_s:5.2f} s, run {run_s * 1e3:7.2f} ms")
    try:
        import optax
    except ImportError:
        return
    x = runs[1000][1]
    xt = jax.numpy.transpose(x, (1, 0, 2))
    labels = jax.numpy.asarray(rng.integers(1, 30, size=(8, 10)))
    zeros_t, zeros_s = jax.numpy.zeros((8, 1000)), jax.numpy.zeros((8, 10))
    step = jax.jit(jax.value_and_grad(
        lambda z: optax.ctc_loss(z, zeros_t, labels, zeros_s).mean()))
    compile_s = _first_call(step, xt)
    run_s = statistics.median(_first_call(step, xt) for _ in range(5))
    print(f"  optax T=1000 first call {compile_s:5.2f} s, run {run_s * 1e3:7.2f} ms")


def dask_sizes() -> None:
    import dask.array as da

    rng = np.random.default_rng(0)
    t, n, c, s = 1000, 64, 30, 40
    lp = _log_probs(rng, t, n, c, np.float64)
    arrays = [lp, rng.integers(1, c, size=(n, s)), np.full(n, t), rng.integers(1, s + 1, n)]
    lazy = [da.from_array(lp, chunks=(-1, n // 8, -1)),
            *(da.from_array(a, chunks=n // 8) if a.ndim == 1 else
              da.from_array(a, chunks=(n // 8, -1)) for a in arrays[1:])]
    _dask_row("ctc_loss T=1000, N=64, 8 chunks", losskit.ctc_loss, arrays, lazy)
    rows, classes = 1_000_000, 100
    x = rng.normal(size=(rows, classes)).astype(np.float32)
    target = np.full((rows, classes), -1, dtype=np.int8)
    target[:, :4] = rng.integers(0, classes, size=(rows, 4))
    lazy = [da.from_array(x, chunks=(rows // 10, -1)),
            da.from_array(target, chunks=(rows // 10, -1))]
    _dask_row("multilabel_margin_loss (10^6, 100), 10 chunks", losskit.multilabel_margin_loss,
              [x, target], lazy)


def _dask_row(label: str, fn: Any, arrays: list, lazy: list) -> None:
    fn(*arrays)  # compiled kernels (numba) compile on their first call: not timed
    value = fn(*lazy)
    tasks = len(dict(value.__dask_graph__()))
    value.compute()  # the first compute also starts Dask's worker threads (and numba's)
    started = time.perf_counter()
    value.compute()
    dask_s = time.perf_counter() - started
    started = time.perf_counter()
    fn(*arrays)
    numpy_s = time.perf_counter() - started
    print(f"  {label:<48} {tasks:4d} tasks, compute {dask_s:6.2f} s, NumPy {numpy_s:6.2f} s, "
          f"ratio {dask_s / numpy_s:4.2f}")


def numpy_ctc() -> None:
    import torch

    from losskit.losses import _compiled

    path = "compiled (numba)" if _compiled.available() else "array API (install numba)"
    print(f"ctc_loss value_and_grad against torch forward+backward, float32, {path}:")
    for t, n, c, s in ((100, 32, 30, 40), (1000, 16, 50, 100)):
        rng = np.random.default_rng(0)
        lp = _log_probs(rng, t, n, c, np.float32)
        tl = rng.integers(s // 2, s + 1, size=n)
        tgt, il = rng.integers(1, c, size=(n, s)), np.full(n, t)
        lpt = torch.tensor(lp, requires_grad=True)
        targets = [torch.tensor(a) for a in (tgt, il, tl)]

        def torch_run(lpt: Any = lpt, targets: list = targets) -> None:
            lpt.grad = None
            torch.nn.functional.ctc_loss(lpt, *targets).backward()

        def ours(arrays: tuple = (lp, tgt, il, tl)) -> None:
            losskit.value_and_grad(losskit.ctc_loss, *arrays)

        times: dict[str, list[float]] = {"torch": [], "losskit": []}
        for run in (torch_run, ours, torch_run, ours):
            run()
        for _ in range(9):
            for name, run in (("torch", torch_run), ("losskit", ours)):
                time.sleep(0.02)  # let the other library's threads go idle
                started = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - started)
        mt, ml = statistics.median(times["torch"]), statistics.median(times["losskit"])
        print(f"  T={t}, N={n}, C={c}, S={s}: torch {mt * 1e3:7.2f} ms, losskit "
              f"{ml * 1e3:7.2f} ms, ratio {ml / mt:4.2f}")


PARTS = {"jit": jit_every_loss, "ctc-jit": ctc_jit, "dask": dask_sizes, "numpy-ctc": numpy_ctc}

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(PARTS))
    for part in parser.parse_args().only.split(","):
        PARTS[part]()
