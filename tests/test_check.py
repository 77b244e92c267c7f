"""``losskit check``: the whole grid against torch on NumPy, the failure path (exit 1 with the
failing loss named), the progress bar, the seed, and its bad input (exit 2)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from losskit.cli import main
from losskit.testing import check as _check
from losskit.testing.case import SEED
from losskit.testing.grid import GENERATORS

pytest.importorskip("torch")


def test_every_loss_passes_on_numpy(capsys):
    assert main(["check", "--no-progress"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines()[2:2 + len(GENERATORS)]]
    assert [r[0] for r in rows] == list(GENERATORS)
    for name, checks, passed, failed, _ in rows:
        assert int(checks) == int(passed) > 0 and failed == "0", name
    assert "FAIL" not in out and out.rstrip().endswith("s")


def test_a_disagreement_fails_with_exit_status_1(capsys, monkeypatch):
    real = _check.torch_call

    def off_by_a_bit(case, reduction, *args):
        value, grads, dtype = real(case, reduction, *args)
        if case.loss == "mse_loss":
            value = value * 1.01 + 0.01
        return value, grads, dtype

    monkeypatch.setattr(_check, "torch_call", off_by_a_bit)
    assert main(["check", "--loss", "mse_loss", "--loss", "l1", "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "mse_loss" in out and "FAIL" in out
    assert "first failure of mse_loss: mse_loss-" in out and "max abs difference" in out
    assert "first failure of l1_loss" not in out


def test_a_wrong_dtype_is_a_failure(monkeypatch):
    real = _check.torch_call
    monkeypatch.setattr(_check, "torch_call",
                        lambda case, *args: (*real(case, *args)[:2], "float16"))
    tally = _check.run_check("numpy", ["soft_margin_loss"])["soft_margin_loss"]
    assert tally.failed > 0 and "dtype float" in tally.first_failure
    assert "torch float16" in tally.first_failure


def test_a_crash_is_reported_as_a_failure(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(_check.losskit, "value_and_grad", broken)
    tallies = _check.run_check("numpy", ["l1_loss"])
    assert tallies["l1_loss"].failed == tallies["l1_loss"].checks > 0
    assert "RuntimeError: boom" in tallies["l1_loss"].first_failure


def test_progress_bar_goes_to_stderr(capsys):
    assert main(["check", "--loss", "kl_div"]) == 0
    captured = capsys.readouterr()
    assert "[##############################]" in captured.err and "done" in captured.err
    assert "[#" not in captured.out


def test_the_seed_draws_other_inputs():
    default = next(GENERATORS["mse_loss"](np.float64))
    token = SEED.set(1)
    try:
        other = next(GENERATORS["mse_loss"](np.float64))
    finally:
        SEED.reset(token)
    assert default.arrays[0].shape == other.arrays[0].shape
    assert not np.array_equal(default.arrays[0], other.arrays[0])
    assert _check.run_check("numpy", ["huber_loss"], seed=7)["huber_loss"].failed == 0


@pytest.mark.parametrize("backend", ["array_api_strict", "torch"])
def test_other_backends(backend, capsys):
    pytest.importorskip(backend)
    assert main(["check", "--backend", backend, "--loss", "cross_entropy",
                 "--no-progress"]) == 0
    assert f"on {backend}" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "message"), [
    (["check", "--backend", "jaxx"], "unknown backend 'jaxx'; did you mean jax?"),
    (["check", "--loss", "mse_los"], "did you mean mse_loss"),
    (["check", "--seed", "x"], "invalid int value"),
])
def test_bad_check_input_is_one_line(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_missing_oracle_or_backend_says_what_to_install(capsys, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("torch", "cupy") else real(name, *a))
    assert main(["check"]) == 2
    assert "needs torch, the oracle: pip install torch" in capsys.readouterr().err
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "cupy" else real(name, *a))
    assert main(["check", "--backend", "cupy"]) == 2
    assert "backend cupy is not installed: pip install cupy" in capsys.readouterr().err
