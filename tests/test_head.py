"""The head family: linear_cross_entropy (chunked, every option, torch's OpInfo samples on
every backend) and the adaptive softmax (AdaptiveLogSoftmaxWithLoss and its function).

Expected values and gradients come from torch (the oracle): ``F.linear_cross_entropy`` and
``nn.AdaptiveLogSoftmaxWithLoss`` with the same arrays, called side by side.
"""

from __future__ import annotations

import functools
import itertools
import warnings

import numpy as np
import pytest

import losskit
from losskit import LinearCrossEntropyOptions as Options
from losskit.losses import _chunked

torch = pytest.importorskip("torch")
F = torch.nn.functional


@functools.cache
def _opinfo_samples():
    """torch's OpInfo samples of linear_cross_entropy, all three variants, float64."""
    pytest.importorskip("expecttest")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torch.testing._internal.common_methods_invocations import op_db
    ops = [o for o in op_db if o.name == "nn.functional.linear_cross_entropy"]
    if not ops:
        pytest.skip(f"torch {torch.__version__} has no linear_cross_entropy OpInfo")
    torch.manual_seed(0)
    return [(o.variant_test_name or "reference", s) for o in ops
            for s in o.sample_inputs("cpu", torch.float64, requires_grad=True)]


def _ours(opts):
    if opts is None:
        return None
    return Options(opts.allow_retain_graph, opts.batch_chunk_size, opts.chunking_method,
                   opts.acc_policy)


def _expected(sample):
    """torch's value and gradients (random upstream gradient) for one OpInfo sample."""
    x, (w, t), kw = sample.input, sample.args, dict(sample.kwargs)
    leaves = {"input": x, "linear_weight": w, "target": t, "linear_bias": kw.get("linear_bias")}
    leaves = {k: v for k, v in leaves.items() if v is not None and v.requires_grad}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = F.linear_cross_entropy(x, w, t, **kw)
    g = torch.randn_like(value)
    grads = torch.autograd.grad(value, list(leaves.values()), g)
    return value.detach().numpy(), g.numpy(), list(leaves), [a.numpy() for a in grads]


def _check_samples(backend, to_numpy, every=1):
    samples = _opinfo_samples()
    assert len(samples) == 329  # 119 + 133 + 77, the three variants
    for variant, sample in samples[::every]:
        value, g, names, grads = _expected(sample)
        kw = dict(sample.kwargs)
        opts = _ours(kw.pop("options", None))
        args = [backend(a.detach().numpy()) for a in (sample.input, *sample.args)]
        kw = {k: backend(v.detach().numpy()) if isinstance(v, torch.Tensor) else v
              for k, v in kw.items()}
        got, ours = losskit.value_and_grad(losskit.linear_cross_entropy, *args,
                                           argnums=tuple(names), grad_output=backend(g),
                                           options=opts, **kw)
        where = f"{variant}: {tuple(sample.input.shape)}, {tuple(sample.args[0].shape)}"
        np.testing.assert_allclose(to_numpy(got), value, rtol=1e-10, atol=1e-12, err_msg=where)
        for name, a, b in zip(names, ours, grads):
            np.testing.assert_allclose(to_numpy(a), b, rtol=1e-9, atol=1e-12,
                                       err_msg=f"{where} d/d{name}")


def test_torchs_opinfo_samples_on_numpy():
    """All 329 samples: values and the gradients of input, weight, bias and probabilities."""
    _check_samples(np.asarray, np.asarray)


def test_torchs_opinfo_samples_through_torch_autograd():
    """On torch tensors, losskit's value and torch autograd through it (the bridge)."""
    for variant, sample in _opinfo_samples()[::3]:
        value, g, names, grads = _expected(sample)
        kw = dict(sample.kwargs)
        opts = _ours(kw.pop("options", None))
        x, w, t = (a.detach().clone().requires_grad_(a.requires_grad)
                   for a in (sample.input, *sample.args))
        bias = kw.pop("linear_bias", None)
        bias = None if bias is None else bias.detach().clone().requires_grad_(True)
        got = losskit.linear_cross_entropy(x, w, t, linear_bias=bias, options=opts, **kw)
        leaves = {"input": x, "linear_weight": w, "target": t, "linear_bias": bias}
        ours = torch.autograd.grad(got, [leaves[n] for n in names], torch.from_numpy(g))
        np.testing.assert_allclose(got.detach().numpy(), value, rtol=1e-10, err_msg=variant)
        for a, b in zip(ours, grads):
            np.testing.assert_allclose(a.numpy(), b, rtol=1e-9, atol=1e-12, err_msg=variant)


@pytest.mark.slow
def test_torchs_opinfo_samples_on_jax():
    jax = pytest.importorskip("jax")
    from losskit.testing.backends import enable_jax_x64

    enable_jax_x64()
    _check_samples(jax.numpy.asarray, np.asarray, every=2)


@pytest.mark.slow
def test_torchs_opinfo_samples_on_dask():
    da = pytest.importorskip("dask.array")

    def lazy(a):  # batch chunks of 3 rows: several tasks, chunk sizes that do not divide N
        return da.from_array(a, chunks=(3, *a.shape[1:]) if a.ndim else ())

    _check_samples(lazy, lambda a: np.asarray(a.compute()), every=4)


def test_options_resolve_chunks_as_torch_does():
    """LinearCrossEntropyOptions' rows per chunk against torch's own _adjust (torch 2.14 and
    later; 2.13 resolved 'auto' to 'aspect_ratio:2' on the CPU, without the memory cap)."""
    import inspect

    if "prob_target" not in inspect.signature(torch.nn.LinearCrossEntropyOptions._adjust
                                              ).parameters:
        pytest.skip(f"torch {torch.__version__} resolves 'auto' by the older rule")
    grid = [(n, d, c) for n in (1, 7, 64, 1000) for d in (3, 64) for c in (2, 50, 3000)]
    settings = [(m, s, p) for m in ("auto", "aspect_ratio", "aspect_ratio:4", None)
                for s in (None, 5) for p in ("auto", "accurate", "compact")
                if m is not None or s is not None]
    for (method, size, policy), (n, d, c), prob, dtype in itertools.product(
            settings, grid, (False, True), (torch.float32, torch.float16)):
        theirs = torch.nn.LinearCrossEntropyOptions(
            batch_chunk_size=size, chunking_method=method, acc_policy=policy)
        ours = Options(batch_chunk_size=size, chunking_method=method, acc_policy=policy)
        where = (method, size, policy, n, d, c, prob, dtype)
        try:
            want = theirs._adjust(num_batches=n, in_features=d, num_classes=c, dtype=dtype,
                                  device=torch.device("cpu"),
                                  prob_target=prob).batch_chunk_size
        except ValueError:
            with pytest.raises(ValueError, match="give different chunk sizes"):
                ours.rows(n, d, c, probabilities=prob, half=dtype == torch.float16)
            continue
        assert ours.rows(n, d, c, probabilities=prob, half=dtype == torch.float16) == want, \
            where


def test_options_are_checked_like_torchs():
    for bad in ({"acc_policy": "fast"}, {"chunking_method": "square"},
                {"chunking_method": "aspect_ratio:0"}, {"batch_chunk_size": 0},
                {"batch_chunk_size": 2.5}):
        with pytest.raises(ValueError):
            torch.nn.LinearCrossEntropyOptions(**bad)
        with pytest.raises(ValueError, match="LinearCrossEntropyOptions"):
            Options(**bad)
    with pytest.raises(TypeError, match="LinearCrossEntropyOptions or None"):
        losskit.linear_cross_entropy(np.ones((2, 3)), np.ones((4, 3)), np.array([0, 1]),
                                     options={"batch_chunk_size": 2})


def test_the_logits_exist_one_chunk_at_a_time(monkeypatch):
    """Memory stays bounded: every logits block is (chunk, C), counted, not timed; torch's
    aspect-ratio rule gives 32 rows here (next_pow2(ceil(1000 / ceil(500 / 10))))."""
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(1000, 10)), rng.normal(size=(500, 10)) / 3
    t = rng.integers(0, 500, size=1000)
    seen = []
    real = _chunked.Head.logits

    def logits(self, xp, rows):
        seen.append(rows.shape[0])
        return real(self, xp, rows)

    monkeypatch.setattr(_chunked.Head, "logits", logits)
    value, (dx, dw) = losskit.value_and_grad(losskit.linear_cross_entropy, x, w, t, argnums=(0, 1))
    assert max(seen) == 32 and sum(seen) == 1000  # one pass: value and gradients together
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    expected = F.linear_cross_entropy(xt, wt, torch.tensor(t))
    expected.backward()
    np.testing.assert_allclose(value, expected.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(dw, wt.grad.numpy(), rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: (np.ones((2, 2, 3)), np.ones((4, 3)), np.zeros((2, 2), int)), "input must be"),
    (lambda: (np.ones((2, 3)), np.ones(3), np.zeros(2, int)), "linear_weight must be"),
    (lambda: (np.ones((2, 3)), np.ones((4, 5)), np.zeros(2, int)), "share their last"),
    (lambda: (np.ones(3), np.ones((4, 2, 3)), np.zeros((), int)), "needs a batched input"),
    (lambda: (np.ones((2, 3)), np.ones((4, 3)), np.zeros(3, int)), "one class index per"),
])
def test_shape_errors_are_refused_where_torch_refuses_them(call, message):
    x, w, t = call()
    with pytest.raises((RuntimeError, ValueError)):  # torch raises one or the other
        F.linear_cross_entropy(torch.tensor(x), torch.tensor(w), torch.tensor(t))
    with pytest.raises(ValueError, match=message):
        losskit.linear_cross_entropy(x, w, t)


def test_other_errors():
    x, w, t = np.ones((2, 3)), np.ones((4, 3)), np.array([0, 4])
    with pytest.raises(IndexError, match="target 4 is out of bounds for 4 classes"):
        losskit.linear_cross_entropy(x, w, t)
    with pytest.raises(ValueError, match="linear_bias must have shape"):
        losskit.linear_cross_entropy(x, w, np.array([0, 1]), linear_bias=np.ones(3))
    with pytest.raises(ValueError, match="ignore_index` applies to class-index"):
        losskit.linear_cross_entropy(x, w, np.ones((2, 4)) / 4, ignore_index=-100)
    with pytest.raises(TypeError, match="must have the input's dtype"):
        losskit.linear_cross_entropy(x, w.astype(np.float32), np.array([0, 1]))
    with pytest.raises(ValueError, match="label_smoothing"):
        losskit.linear_cross_entropy(x, w, np.array([0, 1]), label_smoothing=1.5)


def test_the_class_ports_a_torch_module_and_differentiates_its_parameters():
    torch.manual_seed(1)
    module = torch.nn.LinearCrossEntropyLoss(6, 10, out_features=(2,), bias=True,
                                             label_smoothing=0.1, dtype=torch.float64)
    x = torch.randn(5, 6, dtype=torch.float64, requires_grad=True)
    t = torch.randint(0, 10, (5, 2))
    expected = module(x, t)
    expected.backward()
    loss = losskit.LinearCrossEntropyLoss.from_torch(module)
    assert loss.linear_weight.shape == (10, 2, 6) and loss.linear_bias.shape == (10, 2)
    value, (dx, dw, db) = losskit.value_and_grad(
        loss, x.detach().numpy(), t.numpy(), argnums=("input", "linear_weight", "linear_bias"))
    np.testing.assert_allclose(value, expected.item(), rtol=1e-12)
    np.testing.assert_allclose(dx, x.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(dw.reshape(20, 6), module.linear.weight.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(db.reshape(-1), module.linear.bias.grad.numpy(), rtol=1e-9)
    assert "num_classes=10, out_features=(2,), bias=True" in repr(loss)


def test_the_class_constructor_and_init():
    fresh = losskit.LinearCrossEntropyLoss(4, 3, bias=True)
    assert fresh.linear_weight.shape == (3, 4) and fresh.linear_bias.shape == (3,)
    assert np.all(np.abs(fresh.linear_weight) <= 0.5)  # torch.nn.Linear's ±1/sqrt(4)
    w = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    loss = losskit.LinearCrossEntropyLoss.init(w, reduction="sum",
                                               options=Options(batch_chunk_size=1))
    x, t = np.array([[1.0, 2.0], [0.5, -1.0]]), np.array([1, 0])
    expected = F.linear_cross_entropy(torch.tensor(x), torch.tensor(w), torch.tensor(t),
                                      reduction="sum")
    np.testing.assert_allclose(loss(x, t), expected.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="device"):
        losskit.LinearCrossEntropyLoss(4, 3, device="cuda")
    with pytest.raises(ValueError, match="weight` must have shape"):
        losskit.LinearCrossEntropyLoss.init(w, weight=np.ones(2))


# --- the adaptive softmax ----------------------------------------------------------------


def _adaptive_module(head_bias=True, dtype=torch.float64):
    torch.manual_seed(2)
    return torch.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [4, 9, 15], div_value=2.0,
                                               head_bias=head_bias, dtype=dtype)


TARGETS = [0, 3, 4, 8, 9, 14, 15, 19, 1, 2, 16, 10, 5]


@pytest.mark.parametrize("head_bias", [False, True])
def test_adaptive_matches_torchs_module(head_bias):
    module = _adaptive_module(head_bias)
    x = torch.randn(13, 8, dtype=torch.float64, requires_grad=True)
    t = torch.tensor(TARGETS)
    expected = module(x, t)
    expected.loss.backward()
    ours = losskit.AdaptiveLogSoftmaxWithLoss.from_torch(module)
    got = ours(x.detach().numpy(), t.numpy())
    np.testing.assert_allclose(got.output, expected.output.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(got.loss, expected.loss.item(), rtol=1e-12)
    np.testing.assert_allclose(ours.log_prob(x.detach().numpy()),
                               module.log_prob(x).detach().numpy(), rtol=1e-12)
    np.testing.assert_array_equal(ours.predict(x.detach().numpy()), module.predict(x).numpy())
    names = ("input", "head_weight", "tail_weights") + (("head_bias",) if head_bias else ())
    _, grads = losskit.value_and_grad(ours, x.detach().numpy(), t.numpy(), argnums=names)
    np.testing.assert_allclose(grads[0], x.grad.numpy(), rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(grads[1], module.head.weight.grad.numpy(), rtol=1e-9,
                               atol=1e-15)
    for (dp, do), seq in zip(grads[2], module.tail):
        np.testing.assert_allclose(dp, seq[0].weight.grad.numpy(), rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(do, seq[1].weight.grad.numpy(), rtol=1e-9, atol=1e-15)
    if head_bias:
        np.testing.assert_allclose(grads[3], module.head.bias.grad.numpy(), rtol=1e-9)


def test_adaptive_through_torch_autograd_every_parameter():
    module = _adaptive_module()
    x = torch.randn(13, 8, dtype=torch.float64, requires_grad=True)
    t = torch.tensor(TARGETS)
    module(x, t).loss.backward()
    ours = losskit.AdaptiveLogSoftmaxWithLoss.from_torch(
        module, array=lambda p: p.detach().clone().requires_grad_(True))
    x2 = x.detach().clone().requires_grad_(True)
    _output, loss = ours(x2, t)
    loss.backward()
    np.testing.assert_allclose(x2.grad.numpy(), x.grad.numpy(), rtol=1e-9, atol=1e-15)
    for (p, o), seq in zip(ours.tail_weights, module.tail):  # inside the sequence argument
        np.testing.assert_allclose(p.grad.numpy(), seq[0].weight.grad.numpy(), rtol=1e-9,
                                   atol=1e-15)
        np.testing.assert_allclose(o.grad.numpy(), seq[1].weight.grad.numpy(), rtol=1e-9,
                                   atol=1e-15)
    np.testing.assert_allclose(ours.head_bias.grad.numpy(), module.head.bias.grad.numpy(),
                               rtol=1e-9)


@pytest.mark.slow
def test_adaptive_under_jax_jit_and_grad():
    jax = pytest.importorskip("jax")
    from losskit.testing.backends import enable_jax_x64

    enable_jax_x64()
    module = _adaptive_module()
    x = torch.randn(13, 8, dtype=torch.float64, requires_grad=True)
    t = torch.tensor(TARGETS)
    module(x, t).loss.backward()
    ours = losskit.AdaptiveLogSoftmaxWithLoss.from_torch(
        module, array=lambda p: jax.numpy.asarray(p.detach().numpy()))
    options = {k: v for k, v in ours.options().items() if k != "tail_weights"}

    def loss(xs, tails):
        return losskit.adaptive_log_softmax_with_loss(xs, jax.numpy.asarray(t.numpy()),
                                                      tail_weights=tails, **options)

    _value, (dx, dtails) = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))(
        jax.numpy.asarray(x.detach().numpy()), ours.tail_weights)
    np.testing.assert_allclose(np.asarray(dx), x.grad.numpy(), rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(np.asarray(dtails[1][0]), module.tail[1][0].weight.grad.numpy(),
                               rtol=1e-9, atol=1e-15)


def test_adaptive_errors_are_torchs():
    head, tails = np.ones((3, 2)), [(np.ones((1, 2)), np.ones((2, 1)))]
    x, t = np.ones((2, 2)), np.array([0, 3])
    for bad in ([], [0], [2, 1], [1, 1]):  # n_classes comes from the last tail
        with pytest.raises(ValueError, match="cutoffs"):
            losskit.adaptive_log_softmax_with_loss(x, t, head, tails * max(1, len(bad)),
                                                   cutoffs=bad)
    with pytest.raises(ValueError, match="1-D target needs a 2-D input"):
        losskit.adaptive_log_softmax_with_loss(np.ones(2), t, head, tails, cutoffs=[2])
    with pytest.raises(ValueError, match="multi-target is not supported"):
        losskit.adaptive_log_softmax_with_loss(x, np.zeros((2, 1), int), head, tails,
                                               cutoffs=[2])
    with pytest.raises(IndexError, match="target 4 is out of bounds"):
        losskit.adaptive_log_softmax_with_loss(x, np.array([0, 4]), head, tails, cutoffs=[2])
    with pytest.raises(ValueError, match="tail 0 must be"):
        losskit.adaptive_log_softmax_with_loss(x, t, head, [(np.ones((1, 3)), np.ones((2, 1)))],
                                               cutoffs=[2])
    with pytest.raises(ValueError, match="cutoffs should be a sequence"):
        torch.nn.AdaptiveLogSoftmaxWithLoss(2, 4, [1, 1])


@pytest.mark.parametrize("options", [
    {}, {"label_smoothing": 0.3}, {"ignore_index": 2}, {"weight": "w"},
    {"weight": "w", "label_smoothing": 0.2, "ignore_index": 1}, {"reduction": "sum"},
    {"reduction": "none"},
], ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "defaults")
def test_numpys_in_place_chunks_equal_the_general_path_and_torch(options, monkeypatch):
    """NumPy's chunks run softmax_rows (logits overwritten in place) and MatmulSum's blocked
    accumulation; the general path (cross_entropy per chunk) is what every other library
    runs. Both against torch, with logits of ±1e4 and an ignored row; tiny chunks and
    scratch so that every loop runs many times."""
    from losskit._core import blocks, softmax_rows

    rng = np.random.default_rng(3)
    x, w, b = rng.normal(size=(23, 5)), rng.normal(size=(11, 5)), rng.normal(size=11)
    x[4] *= 4e3  # logits of about ±1e4 in row 4
    t = rng.integers(0, 11, size=23)
    t[[0, 7]] = options.get("ignore_index", 0)
    kw = {k: (rng.uniform(0.5, 2.0, size=11) if v == "w" else v) for k, v in options.items()}
    g = rng.normal(size=23) if kw.get("reduction") == "none" else 1.7
    monkeypatch.setattr(blocks, "SCRATCH", 12)  # 2 rows of the (11, 5) weight gradient a call
    results = []
    for fast in (True, False):
        if not fast:
            monkeypatch.setattr(softmax_rows, "applies", lambda *a: False)
        results.append(losskit.value_and_grad(
            losskit.linear_cross_entropy, x, w, t, linear_bias=b, grad_output=g,
            argnums=("input", "linear_weight", "linear_bias"),
            options=Options(batch_chunk_size=4), **kw))
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    expected = F.linear_cross_entropy(xt, wt, torch.tensor(t), linear_bias=bt, **tkw)
    expected.backward(torch.as_tensor(g, dtype=torch.float64).expand_as(expected))
    for value, grads in results:
        np.testing.assert_allclose(value, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
        for ours, theirs in zip(grads, (xt.grad, wt.grad, bt.grad)):
            np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-9, atol=1e-12)
