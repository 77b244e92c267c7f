"""losskit (NumPy) against torch (CPU, eager), side by side on the same float32 data.

Elementwise losses take 4,194,304-element inputs; cross_entropy and nll_loss (4096, 1000)
logits; multilabel_margin (65536, 64) with four labels per row; multi_margin and
multilabel_soft_margin (4096, 100); cosine and triplet losses (4096, 256) embeddings; ctc_loss
T=100, N=32, C=30, S=40 (targets of 20 to 40 labels).

For every loss: the forward value, and the value with gradients (losskit.value_and_grad
against torch's forward + backward, with every differentiable argument requiring grad).
Runs alternate between the two libraries; the table shows medians and the ratio
losskit / torch (below 1.0: losskit is faster).

    python benchmarks/bench_losses.py [--repeat 15] [--only mse_loss,kl_div] [--jax]

With ``--jax``, losskit on JAX arrays under ``jax.jit`` is timed too (the elementwise losses
and cross_entropy): the forward, and ``jax.value_and_grad`` of it; ratios are to torch.
"""

from __future__ import annotations

import argparse
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

N = 4 * 1024 * 1024  # elements per array


def _cases(rng: np.random.Generator) -> dict[str, tuple[tuple[np.ndarray, ...], dict[str, Any],
                                                        tuple[bool, ...]]]:
    f32 = np.float32
    x = rng.normal(size=(2048, 2048)).astype(f32)
    y = rng.normal(size=(2048, 2048)).astype(f32)
    counts = rng.poisson(3.0, size=(2048, 2048)).astype(f32)
    logits = rng.normal(size=(4096, 1024)).astype(f32)
    log_q = (logits - np.log(np.exp(logits).sum(1, keepdims=True))).astype(f32)
    p = rng.dirichlet(np.ones(1024), size=4096).astype(f32)
    sign = rng.choice(np.array([-1.0, 1.0], f32), size=N)
    n, c = 65536, 64
    labels = np.full((n, c), -1, np.int64)
    for k in range(4):  # four labels per sample, distinct
        labels[:, k] = (np.arange(n) * (k + 1) + 7 * k) % c
    class_logits = rng.normal(size=(4096, 1000)).astype(f32)
    classes = rng.integers(0, 1000, size=4096)
    scores = rng.normal(size=(4096, 100)).astype(f32)
    probs = rng.uniform(0.01, 0.99, size=(2048, 2048)).astype(f32)
    labels01 = (rng.uniform(size=(2048, 2048)) > 0.5).astype(f32)
    emb = [rng.normal(size=(4096, 256)).astype(f32) for _ in range(3)]
    pair_sign = rng.choice(np.array([-1.0, 1.0], f32), size=4096)
    var = rng.uniform(0.1, 2.0, size=(2048, 2048)).astype(f32)
    t_steps, batch, n_cls, s_len = 100, 32, 30, 40
    ctc_logits = rng.normal(size=(t_steps, batch, n_cls)).astype(f32)
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
        "multilabel_margin_loss": ((rng.normal(size=(n, c)).astype(f32), labels), {},
                                   (True, False)),
        "cross_entropy": ((class_logits, classes), {}, (True, False)),
        "nll_loss": ((log_softmax(class_logits), classes), {}, (True, False)),
        "binary_cross_entropy": ((probs, labels01), {}, (True, True)),
        "binary_cross_entropy_with_logits": ((x, labels01), {}, (True, True)),
        "soft_margin_loss": ((x, 2 * labels01 - 1), {}, (True, False)),
        "multilabel_soft_margin_loss": ((scores, (scores > 0.3).astype(f32)), {}, (True, True)),
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
    leaves = [t.clone().requires_grad_(d) for t, d in zip(tensors, differentiable)]

    def torch_backward() -> None:
        for leaf in leaves:
            leaf.grad = None
        theirs(*leaves, **options).backward()

    runs = {
        "losskit forward": lambda: ours(*arrays, **options),
        "torch forward": lambda: theirs(*tensors, **options),
        "losskit value_and_grad": lambda: losskit.value_and_grad(ours, *arrays, **options),
        "torch forward+backward": torch_backward,
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--only", default="", help="comma-separated loss names")
    parser.add_argument("--jax", action="store_true",
                        help="add losskit on JAX under jax.jit (elementwise losses, cross_entropy)")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    cases = _cases(np.random.default_rng(0))
    only = [s for s in args.only.split(",") if s]
    print(f"losskit {losskit.__version__} (NumPy {np.__version__}) vs torch {torch.__version__} "
          f"CPU ({torch.get_num_threads()} threads); {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores; float32; median of "
          f"{args.repeat} alternating runs (ms)\n")
    header = (f"| {'loss':<33} | {'losskit fwd':>11} | {'torch fwd':>9} | {'ratio':>5} | "
              f"{'losskit v&g':>11} | {'torch f+b':>9} | {'ratio':>5} |")
    if args.jax:
        header += f" {'jax-jit fwd':>11} | {'ratio':>5} | {'jax-jit v&g':>11} | {'ratio':>5} |"
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    for name, (arrays, options, diff) in cases.items():
        if only and name not in only:
            continue
        t = bench(name, arrays, options, diff, args.repeat, args.jax)
        ms = {k: v * 1e3 for k, v in t.items()}
        line = (f"| {name:<33} | {ms['losskit forward']:>11.2f} | {ms['torch forward']:>9.2f} | "
                f"{ms['losskit forward'] / ms['torch forward']:>5.2f} | "
                f"{ms['losskit value_and_grad']:>11.2f} | {ms['torch forward+backward']:>9.2f} "
                f"| {ms['losskit value_and_grad'] / ms['torch forward+backward']:>5.2f} |")
        if args.jax:
            if "jax-jit forward" in ms:
                line += (f" {ms['jax-jit forward']:>11.2f} | "
                         f"{ms['jax-jit forward'] / ms['torch forward']:>5.2f} | "
                         f"{ms['jax-jit value_and_grad']:>11.2f} | "
                         f"{ms['jax-jit value_and_grad'] / ms['torch forward+backward']:>5.2f} |")
            else:
                line += f" {'':>11} | {'':>5} | {'':>11} | {'':>5} |"
        print(line, flush=True)


if __name__ == "__main__":
    main()
