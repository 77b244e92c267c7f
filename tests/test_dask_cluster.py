"""Losses on a Dask cluster (two worker processes on loopback) over 10 million rows."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import losskit

ROWS = 10_000_000
CHUNK = 1_000_000


def _log_softmax(da, z):
    top = z.max(axis=1, keepdims=True)
    return z - top - da.log(da.exp(z - top).sum(axis=1, keepdims=True))


@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, memory_limit="3GiB",
            host="127.0.0.1", dashboard_address=None,
        )
        client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def _cases(da):
    rng = da.random.default_rng(0)
    x = rng.standard_normal(ROWS, chunks=CHUNK)
    y = rng.standard_normal(ROWS, chunks=CHUNK)
    log_q = _log_softmax(da, rng.standard_normal((ROWS, 3), chunks=(CHUNK, 3)))
    p = da.exp(_log_softmax(da, rng.standard_normal((ROWS, 3), chunks=(CHUNK, 3))))
    logits = rng.standard_normal((ROWS, 4), chunks=(CHUNK, 4))
    classes = rng.integers(0, 4, size=ROWS, chunks=CHUNK)
    return [
        (losskit.mse_loss, (x, y), {}),
        (losskit.kl_div, (log_q, p), {"reduction": "batchmean"}),
        (losskit.cross_entropy, (logits, classes), {"label_smoothing": 0.1}),
    ]


@pytest.mark.slow
def test_losses_and_gradients_on_a_local_cluster_equal_numpy(client):
    da = pytest.importorskip("dask.array")
    for fn, arrays, options in _cases(da):
        value, grads = losskit.value_and_grad(fn, *arrays, **options)  # lazy: a graph
        assert isinstance(value, da.Array)
        computed_value, computed_grad = client.compute([value, grads[0]], sync=True)
        local = [np.asarray(a) for a in client.compute(list(arrays), sync=True)]
        assert local[0].shape[0] == ROWS
        want_value, want_grads = losskit.value_and_grad(fn, *local, **options)
        np.testing.assert_allclose(computed_value, want_value, rtol=1e-10)
        np.testing.assert_allclose(computed_grad, want_grads[0], rtol=1e-9, atol=1e-18)
