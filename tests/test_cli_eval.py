"""``losskit list`` and ``losskit eval``: every input form, every option type, and bad input as
one line on standard error with exit status 2. Expected values come from torch (the oracle)."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest

import losskit
from losskit.cli import main

torch = pytest.importorskip("torch")
F = torch.nn.functional


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def eval_json(capsys, *argv: str) -> dict:
    code, out, err = run(capsys, "eval", *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_list_names_every_loss_with_its_torch_class(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0
    rows = [line.split() for line in out.splitlines()]
    assert len(rows) == 23
    for function, cls, *_ in rows:
        # torch has the adaptive softmax as a module only
        assert hasattr(F, function) or function == "adaptive_log_softmax_with_loss"
        assert hasattr(torch.nn, cls)
    listed = json.loads(run(capsys, "list", "--json")[1])
    assert {r["class"] for r in listed} == {r[1] for r in rows}
    assert all(r["family"] and r["description"] for r in listed)


def test_eval_prints_torchs_value_by_function_or_class_name(capsys):
    expected = float(F.mse_loss(torch.tensor([2.0, 4, 6]), torch.tensor([1.0, 3, 5])))
    for name in ("mse_loss", "MSELoss", "mseloss", "mse"):
        code, out, err = run(capsys, "eval", name, "[2, 4, 6]", "[1, 3, 5]")
        assert (code, err) == (0, "")
        assert float(out) == expected


def test_eval_grad_equals_torch_autograd(capsys):
    x = torch.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]], dtype=torch.float64,
                     requires_grad=True)
    t = torch.tensor([0, 2])
    value = F.cross_entropy(x, t, label_smoothing=0.1, reduction="sum")
    value.backward()
    value = value.detach()
    out = eval_json(capsys, "cross_entropy", "[[2, 0.5, -1], [0.1, 0.2, 3]]", "[0, 2]",
                    "--label-smoothing", "0.1", "--reduction=sum", "--grad")
    assert out["value"] == pytest.approx(float(value), rel=1e-12)
    np.testing.assert_allclose(out["grad"]["input"], x.grad.numpy(), rtol=1e-12)
    assert out["grad"]["target"] is None  # class indices get no gradient, as in torch
    assert out["options"] == {"label_smoothing": 0.1, "reduction": "sum"}
    _, text, _ = run(capsys, "eval", "cross_entropy", "[[2, 0.5, -1]]", "[0]", "--grad")
    assert text.startswith("value: ") and "grad input: [[" in text
    assert "grad target: none" in text


def test_eval_options_are_parsed_to_their_types(capsys):
    x, y = [1.5, 2.0, 4.0], [1.0, 3.0, 0.5]
    tx, ty = torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
    out = eval_json(capsys, "poisson_nll_loss", json.dumps(x), json.dumps(y), "--log_input",
                    "false", "--full", "true", "--eps", "1e-3", "--reduction", "none")
    want = F.poisson_nll_loss(tx, ty, log_input=False, full=True, eps=1e-3, reduction="none")
    np.testing.assert_allclose(out["value"], want.numpy(), rtol=1e-12)
    out = eval_json(capsys, "multi_margin_loss", "[[0.1, 0.2, 0.4, 0.8]]", "[3]", "--p", "2",
                    "--margin", "0.5", "--weight", "[1, 2, 3, 4]")
    want = F.multi_margin_loss(torch.tensor([[0.1, 0.2, 0.4, 0.8]], dtype=torch.float64),
                               torch.tensor([3]), p=2, margin=0.5,
                               weight=torch.tensor([1.0, 2, 3, 4], dtype=torch.float64))
    assert out["value"] == pytest.approx(float(want), rel=1e-12)
    out = eval_json(capsys, "huber_loss", "[0, 5]", "[0, 0]", "--delta", "2", "--dtype",
                    "float32")
    assert out["dtype"] == "float32"
    assert out["value"] == pytest.approx(float(F.huber_loss(torch.tensor([0.0, 5]),
                                                            torch.zeros(2), delta=2.0)))


def test_integers_in_text_are_floats_except_class_indices(capsys):
    # a float target of the input's shape is read as probabilities, integers as indices
    probs = eval_json(capsys, "cross_entropy", "[[1, 2]]", "[[0.0, 1.0]]")
    index = eval_json(capsys, "cross_entropy", "[[1, 2]]", "[1]")
    assert probs["value"] == pytest.approx(index["value"])
    out = eval_json(capsys, "ctc_loss", "[[[-0.7, -0.7]], [[-0.7, -0.7]]]", "[[1]]", "[2]",
                    "[1]")
    lp = torch.full((2, 1, 2), -0.7, dtype=torch.float64)
    want = F.ctc_loss(lp, torch.tensor([[1]]), torch.tensor([2]), torch.tensor([1]))
    assert out["value"] == pytest.approx(float(want), rel=1e-12)
    # one bare number is a 0-d array: the unbatched ctc form with 0-d lengths
    out = eval_json(capsys, "ctc_loss", "[[-0.7, -0.7], [-0.7, -0.7]]", "[1]", "2", "1")
    assert out["value"] == pytest.approx(float(want), rel=1e-12)
    assert eval_json(capsys, "mse_loss", "2", "1.5")["value"] == 0.25


def test_files_and_standard_input(capsys, tmp_path, monkeypatch):
    np.save(tmp_path / "x.npy", np.array([2.0, 4.0, 6.0], dtype=np.float32))
    (tmp_path / "y.csv").write_text("target\n1\n3\n5\n")
    (tmp_path / "y.txt").write_text("# three numbers\n1 3 5\n")
    (tmp_path / "m.csv").write_text("1,2\n3,4\n")
    for target in ("y.csv", "y.txt", "1,3,5", "1 3 5"):
        out = eval_json(capsys, "l1_loss", str(tmp_path / "x.npy"), str(tmp_path / target)
                        if target.startswith("y") else target, "--reduction", "none")
        # the .npy keeps its float32; the text target promotes with it, as torch does
        assert out["value"] == [1.0, 1.0, 1.0] and out["dtype"] == "float64"
    out = eval_json(capsys, "mse_loss", str(tmp_path / "m.csv"), "[[0, 0], [0, 0]]")
    assert out["value"] == pytest.approx(7.5)  # (1 + 4 + 9 + 16) / 4
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"[2, 4, 6]")))
    assert eval_json(capsys, "l1_loss", "-", "[1, 3, 5]")["value"] == 1.0
    buffer = io.BytesIO()
    np.save(buffer, np.array([2.0, 4.0, 6.0]))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(buffer.getvalue())))
    assert eval_json(capsys, "l1_loss", "[1, 3, 5]", "-")["value"] == 1.0


def test_json_output_spells_non_finite_numbers_as_strings(capsys):
    out = eval_json(capsys, "mse_loss", "[]", "[]")  # the mean of nothing is nan (as torch)
    assert out["value"] == "NaN"
    out = eval_json(capsys, "ctc_loss", "[[[-0.7, -0.7]]]", "[[1, 1]]", "[1]", "[2]",
                    "--reduction", "none")
    assert out["value"] == ["Infinity"]  # 1 step cannot emit 2 labels
    assert float(out["value"][0]) == float("inf")


BAD_INPUT = [
    (["eval", "mse_los", "[1]", "[2]"], "unknown loss 'mse_los'; did you mean mse_loss"),
    (["eval", "cross_entorpy", "[1]", "[2]"], "did you mean cross_entropy"),
    (["eval", "mse_loss", "[1]", "[2]", "--reductoin", "sum"],
     "mse_loss has no option --reductoin; did you mean --reduction"),
    (["eval", "mse_loss", "[1]", "[2]", "--reduction"], "--reduction needs a value"),
    (["eval", "mse_loss", "[1]", "[2]", "--reduction", "Mean"], "reduction='mean'"),
    (["eval", "huber_loss", "[1]", "[2]", "--delta", "abc"], "--delta: expected a number"),
    (["eval", "kl_div", "[1]", "[2]", "--log_target", "maybe"], "expected true or false"),
    (["eval", "multi_margin_loss", "[[1, 2]]", "[0]", "--p", "1.5"], "expected an integer"),
    (["eval", "mse_loss", "[1, 2]", "[1, 2, 3]"], "cannot be broadcast"),
    (["eval", "mse_loss", "[1]"], "mse_loss takes 2 arrays (input, target), got 1"),
    (["eval", "mse_loss", "[1, 2", "[1]"], "not valid JSON"),
    (["eval", "mse_loss", "[[1, 2], [3]]", "[1]"], "ragged"),
    (["eval", "mse_loss", '["a"]', "[1]"], 'expected numbers, found "a"'),
    (["eval", "mse_loss", "abc", "[1]"], "'abc', which is not a number"),
    (["eval", "mse_loss", "missing.csv", "[1]"], "missing.csv): no such file"),
    (["eval", "mse_loss", "-", "-"], "standard input (-) can feed only one array"),
    (["eval", "nll_loss", "[[0.1, 0.2]]", "[5]"], "out of bounds"),
    (["eval", "nll_loss", "[[0.1, 0.2]]", "[0.5]"], "nll_loss"),
    (["eval", "mse_loss", "[1]", "[2]", "--dtype", "float16"], "expected float32 or float64"),
    (["eval", "triplet_margin_with_distance_loss", "[[1.0]]", "[[1.0]]", "[[1.0]]",
      "--distance_function", "l1"], "a function cannot be given on the command line"),
    (["explain", "mse_loss", "[1]", "[2]", "--rows", "x"], "--rows: expected"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_INPUT, ids=lambda v: str(v)[:40])
def test_bad_input_is_one_line_with_exit_status_2(capsys, monkeypatch, tmp_path, argv,
                                                   message):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("losskit"), err
    assert message in err


def test_bad_files_are_one_line_with_exit_status_2(capsys, tmp_path):
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.savez(tmp_path / "pair.npz", a=np.ones(2))
    (tmp_path / "words.csv").write_text("1,2\n3,x\n")
    (tmp_path / "short.csv").write_text("1,2\n3\n")
    (tmp_path / "empty.txt").write_text("# nothing\n")
    (tmp_path / "binary.txt").write_bytes(b"\xff\xfe\x00")
    expectations = {
        "objects.npy": "never unpickles", "pair.npz": "an .npz archive",
        "words.csv": "line 2 holds 'x'", "short.csv": "line 2 has 1 numbers",
        "empty.txt": "no numbers found", "binary.txt": "",
    }
    for name, message in expectations.items():
        code, _, err = run(capsys, "eval", "mse_loss", str(tmp_path / name), "[1]")
        assert code == 2 and err.count("\n") == 1 and message in err, (name, err)


def test_the_installed_command_never_shows_a_traceback():
    done = subprocess.run([sys.executable, "-m", "losskit", "eval", "l1_loss", "[1, 2]",
                           "nope.npy"], capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr == "losskit eval: target (nope.npy): no such file\n"
    done = subprocess.run([sys.executable, "-m", "losskit", "eval", "mse_loss", "[2, 4, 6]",
                           "[1, 3, 5]"], capture_output=True, text=True, check=True)
    assert done.stdout == "1.0\n"


def test_eval_reports_torchs_warnings_on_stderr_and_still_answers(capsys):
    code, out, err = run(capsys, "eval", "mse_loss", "[[1], [2]]", "[1, 2]")
    with pytest.warns(UserWarning, match="target size"):
        expected = F.mse_loss(torch.tensor([[1.0], [2.0]]), torch.tensor([1.0, 2.0]))
    assert code == 0 and float(out) == float(expected)
    assert err.startswith("losskit eval: warning: ") and "target size" in err


def test_help_texts(capsys):
    for command in ("eval", "explain"):
        code, out, _ = run(capsys, command, "--help")
        assert code == 0 and f"usage: losskit {command}" in out
    assert "mse_loss INPUT TARGET" in run(capsys, "eval")[1]
    with pytest.raises(SystemExit):
        main(["--help"])
    shown = capsys.readouterr().out
    assert all(c in shown for c in ("demo", "list", "eval", "explain", "plot", "check"))
    assert losskit.__version__


def test_eval_grad_picks_arrays_like_argnums(capsys):
    """--grad=NAMES gives those gradients only, in that order (expected: torch autograd)."""
    x = torch.tensor([[2.0, 0.5], [0.1, 3.0]], dtype=torch.float64, requires_grad=True)
    w = torch.tensor([1.0, 2.0], dtype=torch.float64)
    F.cross_entropy(x, torch.tensor([0, 1]), weight=w).backward()
    out = eval_json(capsys, "cross_entropy", "[[2, 0.5], [0.1, 3]]", "[0, 1]",
                    "--weight", "[1, 2]", "--grad=input")
    assert list(out["grad"]) == ["input"]
    np.testing.assert_allclose(out["grad"]["input"], x.grad.numpy())
    both = eval_json(capsys, "mse_loss", "[2, 4]", "[1, 5]", "--grad=1,0")
    assert list(both["grad"]) == ["target", "input"]
    np.testing.assert_allclose(both["grad"]["target"], [-1.0, 1.0])  # d/dy mean (x-y)² = -(x-y)
    code, _, err = run(capsys, "eval", "mse_loss", "[2]", "[1]", "--grad=bias")
    assert code != 0 and "'bias' is not an array argument of mse_loss" in err


def test_eval_the_head_losses_from_weight_files(capsys, tmp_path):
    """linear_cross_entropy with a bias file and chunking options; the adaptive softmax with
    its tails in one .npz (P0, O0, P1, O1). Expected: torch's functional and module."""
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(5, 4)), rng.normal(size=(7, 4)), rng.normal(size=7)
    t = np.array([0, 6, 3, 3, 1])
    for name, a in {"x": x, "w": w, "b": b, "t": t}.items():
        np.save(tmp_path / f"{name}.npy", a)
    p = {k: str(tmp_path / f"{k}.npy") for k in "xwbt"}
    got = eval_json(capsys, "linear_cross_entropy", p["x"], p["w"], p["t"], "--linear-bias",
                    p["b"], "--options", "batch_chunk_size=2", "--label-smoothing", "0.2",
                    "--grad=input,linear_bias")
    xt, bt = torch.tensor(x, requires_grad=True), torch.tensor(b, requires_grad=True)
    want = F.linear_cross_entropy(xt, torch.tensor(w), torch.tensor(t), linear_bias=bt,
                                  label_smoothing=0.2)
    want.backward()
    assert got["value"] == pytest.approx(want.item(), rel=1e-12)
    np.testing.assert_allclose(got["grad"]["linear_bias"], bt.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(got["grad"]["input"], xt.grad.numpy(), rtol=1e-9)

    torch.manual_seed(0)
    module = torch.nn.AdaptiveLogSoftmaxWithLoss(4, 10, [3, 6], div_value=2.0,
                                                 dtype=torch.float64)
    np.save(tmp_path / "head.npy", module.head.weight.detach().numpy())
    np.savez(tmp_path / "tails.npz",
             *[layer.weight.detach().numpy() for pair in module.tail for layer in pair])
    t = np.array([0, 4, 9, 2, 7])
    np.save(p["t"], t)
    module(torch.tensor(x), torch.tensor(t)).loss.backward()
    got = eval_json(capsys, "adaptive_log_softmax_with_loss", p["x"], p["t"],
                    str(tmp_path / "head.npy"), str(tmp_path / "tails.npz"), "--cutoffs", "3,6",
                    "--grad=tail_weights")
    assert got["value"] == pytest.approx(module(torch.tensor(x), torch.tensor(t)).loss.item(),
                                         rel=1e-12)
    np.testing.assert_allclose(got["grad"]["tail_weights[1][1]"],
                               module.tail[1][1].weight.grad.numpy(), rtol=1e-9)
    code, _, err = run(capsys, "eval", "adaptive_log_softmax_with_loss", p["x"], p["t"],
                       str(tmp_path / "head.npy"), p["x"], "--cutoffs", "3,6")
    assert code == 2 and "expected an .npz file holding the tails" in err
    code, _, err = run(capsys, "eval", "linear_cross_entropy", p["x"], p["w"], p["t"],
                       "--options", "chunk=2")
    assert code == 2 and "NAME=VALUE pairs" in err
