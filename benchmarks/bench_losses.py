"""losskit (NumPy) against torch (CPU, eager), side by side on the same data.

Elementwise losses take 4,194,304-element inputs; cross_entropy and nll_loss (4096, 1000)
logits; multilabel_margin (65536, 64) with four labels per row; multi_margin and
multilabel_soft_margin (4096, 100); cosine and triplet losses (4096, 256) embeddings; ctc_loss
T=100, N=32, C=30, S=40 (targets of 20 to 40 labels).

For every loss, losskit / torch ratios (below 1.0: losskit is faster) of
  * the forward value;
  * the value with the input's gradient (``value_and_grad(..., argnums=0)`` against torch's
    forward + backward with only the input requiring grad);
  * the value with every gradient (every differentiable argument requiring grad in torch).
Runs alternate between the libraries, each after a short pause (torch's OpenMP pool spins
after a parallel region); the table shows medians. For the elementwise losses the
bandwidth floor is the bytes they must read and write (inputs; and gradients) over the copy
bandwidth measured here (``np.copyto`` of 64 MiB); "floor" columns are losskit's time over
it. The last line gives geometric means over the losses.

    python benchmarks/bench_losses.py [--repeat 15] [--only mse_loss,kl_div] [--dtype float64]
                                      [--jax]

With ``--jax``, losskit on JAX arrays under ``jax.jit`` is timed too (the elementwise losses
and cross_entropy): the forward, and ``jax.value_and_grad`` of it; ratios are to torch.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

import losskit
from losskit._core.stable import log_softmax as _log_softmax
from losskit.losses import _compiled

N = 4 * 1024 * 1024  # elements per array


#: losses of one output value per input element: the bandwidth floor applies
ELEMENTWISE = {
    "l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss", "poisson_nll_loss", "kl_div",
    "margin_ranking_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "soft_margin_loss", "gaussian_nll_loss", "hinge_embedding_loss",
}


def _cases(rng: np.random.Generator, dt: Any = np.float32
           ) -> dict[str, tuple[tuple[np.ndarray, ...], dict[str, Any], tuple[bool, ...]]]:
    x = rng.normal(size=(2048, 2048)).astype(dt)
    y = rng.normal(size=(2048, 2048)).astype(dt)
    counts = rng.poisson(3.0, size=(2048, 2048)).astype(dt)
    logits = rng.normal(size=(4096, 1024)).astype(dt)
    log_q = (logits - np.log(np.exp(logits).sum(1, keepdims=True))).astype(dt)
    p = rng.dirichlet(np.ones(1024), size=4096).astype(dt)
    sign = rng.choice(np.array([-1.0, 1.0], dt), size=N)
    n, c = 65536, 64
    labels = np.full((n, c), -1, np.int64)
    for k in range(4):  # four labels per sample, distinct
        labels[:, k] = (np.arange(n) * (k + 1) + 7 * k) % c
    class_logits = rng.normal(size=(4096, 1000)).astype(dt)
    classes = rng.integers(0, 1000, size=4096)
    scores = rng.normal(size=(4096, 100)).astype(dt)
    probs = rng.uniform(0.01, 0.99, size=(2048, 2048)).astype(dt)
    labels01 = (rng.uniform(size=(2048, 2048)) > 0.5).astype(dt)
    emb = [rng.normal(size=(4096, 256)).astype(dt) for _ in range(3)]
    pair_sign = rng.choice(np.array([-1.0, 1.0], dt), size=4096)
    var = rng.uniform(0.1, 2.0, size=(2048, 2048)).astype(dt)
    t_steps, batch, n_cls, s_len = 100, 32, 30, 40
    ctc_logits = rng.normal(size=(t_steps, batch, n_cls)).astype(dt)
    ctc_lp = log_softmax(ctc_logits.reshape(-1, n_cls)).reshape(t_steps, batch, n_cls)
    ctc_targets = rng.integers(1, n_cls, size=(batch, s_len))
    ctc_in = np.full(batch, t_steps)
    ctc_tl = rng.integers(s_len // 2, s_len + 1, size=batch)
    return {
        "l1_loss": ((x, y), {}, (True, True)),
        "mse_loss": ((x, y), {}, (True, True)),
        "smooth_l1_loss": ((x, y), {}, (True, True)),
        "huber_loss": ((x, y), {}, (True, True)),
        "poisson_nll_loss": ((x, counts), {}, (True, True)),
        "kl_div": ((log_q, p), {"reduction": "batchmean"}, (True, True)),
        "margin_ranking_loss": ((x.reshape(-1), y.reshape(-1), sign), {}, (True, True, True)),
        "multilabel_margin_loss": ((rng.normal(size=(n, c)).astype(dt), labels), {},
                                   (True, False)),
        "cross_entropy": ((class_logits, classes), {}, (True, False)),
        "nll_loss": ((log_softmax(class_logits), classes), {}, (True, False)),
        "binary_cross_entropy": ((probs, labels01), {}, (True, True)),
        "binary_cross_entropy_with_logits": ((x, labels01), {}, (True, True)),
        "soft_margin_loss": ((x, 2 * labels01 - 1), {}, (True, False)),
        "multilabel_soft_margin_loss": ((scores, (scores > 0.3).astype(dt)), {}, (True, True)),
        "multi_margin_loss": ((scores, classes % 100), {}, (True, False)),
        "gaussian_nll_loss": ((x, y, var), {}, (True, True, True)),
        "hinge_embedding_loss": ((np.abs(x), 2 * labels01 - 1), {}, (True, False)),
        "cosine_embedding_loss": ((emb[0], emb[1], pair_sign), {}, (True, True, False)),
        "triplet_margin_loss": (tuple(emb), {}, (True, True, True)),
        "triplet_margin_with_distance_loss": (tuple(emb), {}, (True, True, True)),
        "ctc_loss": ((ctc_lp, ctc_targets, ctc_in, ctc_tl), {}, (True, False, False, False)),
    }


def log_softmax(a: np.ndarray) -> np.ndarray:
    return _log_softmax(np, a)


def _time(fn: Callable[[], Any]) -> float:
    # let the other library's worker threads (torch's OpenMP pool spin-waits after each
    # parallel region) go idle, so that neither library is timed against the other's spinning
    time.sleep(0.02)
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# losskit on JAX arrays under jax.jit: the elementwise losses and cross_entropy
JAX_LOSSES = {
    "l1_loss", "mse_loss", "smooth_l1_loss", "huber_loss", "poisson_nll_loss", "kl_div",
    "margin_ranking_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "soft_margin_loss", "gaussian_nll_loss", "hinge_embedding_loss", "cross_entropy",
}


def _jax_runs(name: str, arrays, options, differentiable) -> dict[str, Callable[[], Any]]:
    """losskit under jax.jit: the value, and the value with jax.grad's gradients."""
    try:
        import jax
    except ImportError:
        return {}
    ours = getattr(losskit, name)
    data = [jax.device_put(a) for a in arrays]
    argnums = tuple(i for i, d in enumerate(differentiable) if d)
    forward = jax.jit(lambda *a: ours(*a, **options))
    both = jax.jit(jax.value_and_grad(lambda *a: ours(*a, **options), argnums=argnums))
    return {
        "jax-jit forward": lambda: forward(*data).block_until_ready(),
        "jax-jit value_and_grad": lambda: jax.block_until_ready(both(*data)),
    }


def bench(name: str, arrays, options, differentiable, repeat: int,
          with_jax: bool = False) -> dict[str, float]:
    ours = getattr(losskit, name)
    theirs = getattr(F, name)
    tensors = [torch.from_numpy(a) for a in arrays]
    every = [t.clone().requires_grad_(d) for t, d in zip(tensors, differentiable)]
    first = [t.clone().requires_grad_(k == 0) for k, t in enumerate(tensors)]

    def torch_backward(leaves: list[torch.Tensor]) -> Callable[[], None]:
        def run() -> None:
            for leaf in leaves:
                leaf.grad = None
            theirs(*leaves, **options).backward()
        return run

    runs = {
        "losskit forward": lambda: ours(*arrays, **options),
        "torch forward": lambda: theirs(*tensors, **options),
        "losskit v&g input": lambda: losskit.value_and_grad(ours, *arrays, argnums=0,
                                                            **options),
        "torch f+b input": torch_backward(first),
        "losskit v&g all": lambda: losskit.value_and_grad(ours, *arrays, **options),
        "torch f+b all": torch_backward(every),
    }
    if with_jax and name in JAX_LOSSES:
        runs.update(_jax_runs(name, arrays, options, differentiable))
    times: dict[str, list[float]] = {k: [] for k in runs}
    for fn in runs.values():  # warm-up
        fn()
    for _ in range(repeat):
        for key, fn in runs.items():  # alternate the libraries within each round
            times[key].append(_time(fn))
    return {k: statistics.median(v) for k, v in times.items()}


def copy_bandwidth(repeat: int) -> float:
    """Bytes per second of ``np.copyto`` between two preallocated 64 MiB arrays (read +
    write), the median of ``repeat`` runs: what a single pass over memory costs here."""
    src = np.ones(1 << 24, np.float32)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    times = [_time(lambda: np.copyto(dst, src)) for _ in range(max(repeat, 5))]
    return 2 * src.nbytes / statistics.median(times)


def floor_bytes(arrays: tuple[np.ndarray, ...], differentiable: tuple[bool, ...],
                grads: str) -> int:
    """Bytes an elementwise loss must move: read every input; write the gradients
    (``grads``: '' for none, 'input' or 'all')."""
    read = sum(a.nbytes for a in arrays)
    if not grads:
        return read
    written = [a.nbytes for a, d in zip(arrays, differentiable) if d]
    return read + (written[0] if grads == "input" else sum(written))


def _geomean(values: list[float]) -> float:
    return math.exp(statistics.fmean(math.log(v) for v in values)) if values else math.nan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--only", default="", help="comma-separated loss names")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--jax", action="store_true",
                        help="add losskit on JAX under jax.jit (elementwise losses, cross_entropy)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    cases = _cases(np.random.default_rng(0), np.dtype(args.dtype).type)
    only = [s for s in args.only.split(",") if s]
    bandwidth = copy_bandwidth(args.repeat)
    print(f"losskit {losskit.__version__} (NumPy {np.__version__}"
          f"{', numba kernels' if _compiled.available() else ''}) vs torch {torch.__version__} "
          f"CPU ({torch.get_num_threads()} threads); {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores; {args.dtype}; copy bandwidth {bandwidth / 1e9:.1f} GB/s; "
          f"median of {args.repeat} alternating runs (ms)\n")
    columns = ["loss", "fwd", "torch", "ratio", "floor", "v&g input", "torch", "ratio",
               "v&g all", "torch", "ratio", "floor"]
    if args.jax:
        columns += ["jax-jit fwd", "ratio", "jax-jit v&g", "ratio"]
    widths = [33] + [max(6, len(c)) for c in columns[1:]]
    print("| " + " | ".join(f"{c:<{w}}" if i == 0 else f"{c:>{w}}"
                            for i, (c, w) in enumerate(zip(columns, widths))) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    ratios: dict[str, list[float]] = {"fwd": [], "input": [], "all": []}
    for name, (arrays, options, diff) in cases.items():
        if only and name not in only:
            continue
        t = bench(name, arrays, options, diff, args.repeat, args.jax)
        ms = {k: v * 1e3 for k, v in t.items()}
        fwd = ms["losskit forward"] / ms["torch forward"]
        inp = ms["losskit v&g input"] / ms["torch f+b input"]
        every = ms["losskit v&g all"] / ms["torch f+b all"]
        ratios["fwd"].append(fwd)
        ratios["input"].append(inp)
        ratios["all"].append(every)
        floor_fwd = floor_all = ""
        if name in ELEMENTWISE:
            floor_fwd = f"{t['losskit forward'] * bandwidth / floor_bytes(arrays, diff, ''):.2f}"
            floor_all = f"{t['losskit v&g all'] * bandwidth / floor_bytes(arrays, diff, 'all'):.2f}"
        cells = [name, f"{ms['losskit forward']:.2f}", f"{ms['torch forward']:.2f}", f"{fwd:.2f}",
                 floor_fwd, f"{ms['losskit v&g input']:.2f}", f"{ms['torch f+b input']:.2f}",
                 f"{inp:.2f}", f"{ms['losskit v&g all']:.2f}", f"{ms['torch f+b all']:.2f}",
                 f"{every:.2f}", floor_all]
        if args.jax:
            if "jax-jit forward" in ms:
                cells += [f"{ms['jax-jit forward']:.2f}",
                          f"{ms['jax-jit forward'] / ms['torch forward']:.2f}",
                          f"{ms['jax-jit value_and_grad']:.2f}",
                          f"{ms['jax-jit value_and_grad'] / ms['torch f+b all']:.2f}"]
            else:
                cells += [""] * 4
        print("| " + " | ".join(f"{c:<{w}}" if i == 0 else f"{c:>{w}}"
                                for i, (c, w) in enumerate(zip(cells, widths))) + " |",
              flush=True)
    print(f"\ngeometric mean of the ratios over {len(ratios['fwd'])} losses: forward "
          f"{_geomean(ratios['fwd']):.2f}, value_and_grad (input) {_geomean(ratios['input']):.2f}"
          f", value_and_grad (all) {_geomean(ratios['all']):.2f}; above 1.0: "
          + (", ".join(f"{n} {k}" for n, k in _above(cases, only, ratios)) or "none"))


def _above(cases: dict[str, Any], only: list[str], ratios: dict[str, list[float]]
           ) -> list[tuple[str, str]]:
    names = [n for n in cases if not only or n in only]
    return [(n, f"{col} {r[i]:.2f}") for col, r in ratios.items()
            for i, n in enumerate(names) if r[i] > 1.0]


if __name__ == "__main__":
    main()
