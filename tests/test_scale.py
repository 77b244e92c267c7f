"""Real sizes on JAX and Dask: programs and task graphs that do not grow with the data.

Not timed (benchmarks/bench_scale.py times them): a traced loss's program (jaxpr) has the
same number of equations at two sizes of every dimension, and the Dask graphs of the
per-sample losses have the same number of tasks at two sizes of T and C.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import losskit


def _arrays(name: str, size: int) -> tuple[list, dict]:
    """A call of ``name`` whose every dimension grows with ``size`` (2 or 3)."""
    rng = np.random.default_rng(size)
    n, c, d, t = 2 * size, 3 * size, 4 * size, 5 * size
    x, y = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    label = rng.choice(np.array([-1.0, 1.0]), size=n)
    calls = {
        "l1_loss": [x, y], "mse_loss": [x, y], "smooth_l1_loss": [x, y], "huber_loss": [x, y],
        "poisson_nll_loss": [x, np.abs(y)], "gaussian_nll_loss": [x, y, np.abs(y) + 0.1],
        "kl_div": [-np.abs(x), np.abs(y)], "binary_cross_entropy": [1 / (1 + np.exp(x)),
                                                                     np.abs(np.tanh(y))],
        "binary_cross_entropy_with_logits": [x, np.abs(np.tanh(y))],
        "soft_margin_loss": [x, np.sign(y)], "hinge_embedding_loss": [np.abs(x), np.sign(y)],
        "margin_ranking_loss": [x[:, 0], y[:, 0], label],
        "cosine_embedding_loss": [x, y, label], "triplet_margin_loss": [x, y, x + y],
        "triplet_margin_with_distance_loss": [x, y, x + y],
        "cross_entropy": [rng.normal(size=(n, c)), rng.integers(0, c, size=n)],
        "nll_loss": [-np.abs(rng.normal(size=(n, c))), rng.integers(0, c, size=n)],
        "multi_margin_loss": [rng.normal(size=(n, c)), rng.integers(0, c, size=n)],
        "multilabel_soft_margin_loss": [rng.normal(size=(n, c)),
                                        rng.integers(0, 2, size=(n, c)).astype(float)],
        "multilabel_margin_loss": [rng.normal(size=(n, c)), _padded_labels(rng, n, c)],
        "ctc_loss": [_log_probs(rng, t, n, c), rng.integers(1, c, size=(n, size)),
                     np.full(n, t), np.full(n, size)],
        # a head wider than the input, so that there are several chunks
        "linear_cross_entropy": [rng.normal(size=(8 * n, size)),
                                 rng.normal(size=(8 * c, size)), rng.integers(0, 8 * c, 8 * n)],
        "adaptive_log_softmax_with_loss": [x, rng.integers(0, 3 * c, size=n),
                                           rng.normal(size=(c + 2, d))],
    }
    if name == "adaptive_log_softmax_with_loss":  # two clusters of c classes each
        tails = [(rng.normal(size=(size, d)), rng.normal(size=(c, size))) for _ in range(2)]
        return calls[name], {"tail_weights": tails, "cutoffs": [c, 2 * c]}
    return calls[name], {}


def _padded_labels(rng, n, c):
    rows = np.full((n, c), -1)
    rows[:, :2] = np.stack([rng.permutation(c)[:2] for _ in range(n)])
    return rows


def _log_probs(rng, t, n, c):
    z = rng.normal(size=(t, n, c))
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def _equations(jaxpr) -> int:
    """Equations of a jaxpr and of every jaxpr nested in it (scan bodies, custom rules)."""
    from jax.extend.core import Jaxpr

    count = 0
    for eqn in jaxpr.eqns:
        count += 1
        for param in eqn.params.values():
            for sub in param if isinstance(param, (list, tuple)) else [param]:
                inner = getattr(sub, "jaxpr", sub)
                if isinstance(inner, Jaxpr):
                    count += _equations(inner)
    return count


LOSSES = sorted(losskit.cli.catalog.ENTRIES)


@pytest.mark.slow
@pytest.mark.parametrize("name", LOSSES)
def test_traced_programs_do_not_grow_with_the_data(name):
    """jax.make_jaxpr of value and gradient: the same program at two sizes of every axis
    (time steps, classes, target slots, features, batch), up to a constant that JAX shares
    when two constants happen to be equal at one size (an unrolled loop would add an
    equation per step, class or slot)."""
    jax = pytest.importorskip("jax")
    fn = getattr(losskit, name)
    counts = []
    for size in (2, 4):
        arrays, options = _arrays(name, size)
        floating = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"
                    and not (name == "ctc_loss" and i > 0)]
        arrays = [jax.numpy.asarray(a) for a in arrays]
        if "tail_weights" in options:
            options = {**options, "tail_weights": [tuple(map(jax.numpy.asarray, pair))
                                                   for pair in options["tail_weights"]]}

        def total(*xs, arrays=arrays, floating=floating, options=options):
            args = list(arrays)
            for i, v in zip(floating, xs):
                args[i] = v
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return fn(*args, **options)

        grad = jax.value_and_grad(total, argnums=tuple(range(len(floating))))
        counts.append(_equations(jax.make_jaxpr(grad)(*[arrays[i] for i in floating]).jaxpr))
    assert abs(counts[0] - counts[1]) <= 2, counts


def _tasks(value) -> int:
    return len(dict(value.__dask_graph__()))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ctc_loss", "multilabel_margin_loss"])
def test_dask_graphs_do_not_grow_with_time_steps_or_classes(name):
    da = pytest.importorskip("dask.array")
    tasks = []
    for size in (2, 6):
        arrays, _ = _arrays(name, size)
        batch = 2 * size  # four batch chunks at either size
        lazy = [da.from_array(a, chunks=tuple(
            batch // 4 if axis == (1 if name == "ctc_loss" and a.ndim == 3 else 0) else -1
            for axis in range(a.ndim)) or ()) for a in arrays]
        value, grads = losskit.value_and_grad(getattr(losskit, name), *lazy)
        tasks.append((_tasks(value), _tasks(grads[0])))
        np.testing.assert_allclose(value.compute(), getattr(losskit, name)(*arrays))
    assert tasks[0] == tasks[1], tasks


@pytest.mark.slow
def test_torchs_ctc_samples_on_dask():
    """torch's own OpInfo samples of ctc_loss, on Dask arrays in two batch chunks."""
    torch = pytest.importorskip("torch")
    da = pytest.importorskip("dask.array")
    pytest.importorskip("expecttest")
    from torch.testing._internal.common_methods_invocations import op_db

    op = next(o for o in op_db if o.name == "nn.functional.ctc_loss")
    samples = list(op.sample_inputs("cpu", torch.float64, requires_grad=False))
    assert samples
    for sample in samples:
        lp = sample.input.numpy()
        targets, il, tl = (np.asarray(a) if isinstance(a, (list, torch.Tensor)) else a
                           for a in sample.args)
        n = lp.shape[1]
        lazy = [da.from_array(lp, chunks=(-1, n // 2, -1)),
                da.from_array(targets, chunks=(n // 2, -1)) if targets.ndim == 2 else targets,
                da.from_array(il, chunks=n // 2), tl.tolist()]
        ours = losskit.ctc_loss(*lazy, **sample.kwargs).compute()
        want = torch.nn.functional.ctc_loss(sample.input, *sample.args, **sample.kwargs)
        np.testing.assert_allclose(ours, want.numpy(), rtol=1e-9)
