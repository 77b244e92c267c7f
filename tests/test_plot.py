"""``losskit plot``: the curves are the losses' own values and analytic gradients (checked
against their closed forms, derived in each test), files are written, and a missing
matplotlib or an unplottable loss is one line with exit status 2."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

from losskit.cli import main
from losskit.cli.plot import CURVES, figure

pytest.importorskip("matplotlib")
DOCS = Path(__file__).parent.parent / "docs"


def test_regression_curves_are_the_closed_forms():
    fig = figure(["l1_loss", "mse_loss", "huber_loss:delta=2", "smooth_l1_loss:beta=2"],
                 grad=True, span=(-4, 4))
    top, bottom = fig.axes[0], fig.axes[1]
    values = {ln.get_label(): ln.get_ydata() for ln in top.lines if ln.get_label()[0] != "_"}
    grads = {ln.get_label(): ln.get_ydata() for ln in bottom.lines
             if ln.get_label()[0] != "_"}
    r = top.lines[0].get_xdata()
    assert r[0] == -4 and r[-1] == 4
    a = np.abs(r)
    # huber: 0.5 r² below delta, delta·(|r| - delta/2) above; derivative clip(r, -delta, delta)
    np.testing.assert_allclose(values["huber_loss (delta=2)"],
                               np.where(a < 2, 0.5 * r**2, 2 * (a - 1)), atol=1e-12)
    np.testing.assert_allclose(grads["huber_loss (delta=2)"], np.clip(r, -2, 2), atol=1e-12)
    # smooth_l1 = huber / beta: its derivative is clip(r / beta, -1, 1)
    np.testing.assert_allclose(grads["smooth_l1_loss (beta=2)"], np.clip(r / 2, -1, 1),
                               atol=1e-12)
    np.testing.assert_allclose(values["mse_loss"], r**2, atol=1e-12)
    np.testing.assert_allclose(grads["l1_loss"], np.sign(r), atol=1e-12)


def test_classification_curves_share_the_logistic_form():
    fig = figure(["soft_margin_loss", "binary_cross_entropy_with_logits", "cross_entropy",
                  "multi_margin_loss"], grad=True)
    top, bottom = fig.axes[0], fig.axes[1]
    m = top.lines[0].get_xdata()
    logistic = np.log1p(np.exp(-m))  # -log σ(m) = -log softmax([m, 0])[0]
    for line in top.lines[:3]:
        np.testing.assert_allclose(line.get_ydata(), logistic, rtol=1e-12)
    for line in bottom.lines[:3]:  # d/dm log(1 + e^-m) = -1 / (1 + e^m)
        np.testing.assert_allclose(line.get_ydata(), -1 / (1 + np.exp(m)), rtol=1e-10)
    # the SVM hinge over C = 2 classes
    np.testing.assert_allclose(top.lines[3].get_ydata(), np.maximum(0, 1 - m) / 2, atol=1e-12)


def test_one_column_per_kind_of_axis():
    fig = figure(["mse_loss", "binary_cross_entropy", "hinge_embedding_loss:margin=2"])
    assert len(fig.axes) == 3
    labels = [ln.get_label() for ln in fig.axes[2].lines if ln.get_label()[0] != "_"]
    assert labels == ["hinge_embedding_loss (y=1, margin=2)",
                      "hinge_embedding_loss (y=-1, margin=2)"]
    p = fig.axes[1].lines[0].get_xdata()
    assert 0 < p.min() and p.max() < 1  # probabilities stay inside (0, 1)
    np.testing.assert_allclose(fig.axes[1].lines[0].get_ydata(), -np.log(p), rtol=1e-12)


def test_the_command_writes_png_and_svg(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["plot", "l1", "mse", "smooth_l1", "huber", "--grad"]) == 0
    assert capsys.readouterr().out == "wrote l1-mse-smooth_l1-huber.png\n"
    assert (tmp_path / "l1-mse-smooth_l1-huber.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["plot", "cross_entropy", "-o", "ce.svg", "--range", "-5", "5"]) == 0
    assert (tmp_path / "ce.svg").read_text().lstrip().startswith("<?xml")


@pytest.mark.parametrize(("argv", "message"), [
    (["plot", "ctc_loss"], "ctc_loss has no one-variable picture"),
    (["plot", "mse_loss", "-o", "x.jpg"], "expected a .png, .svg or .pdf"),
    (["plot", "mse_loss", "-o", "no/such/dir/x.png"], "no such folder"),
    (["plot", "mse_loss", "--range", "2", "1"], "LO must be below HI"),
    (["plot", "huber_loss:delt=2"], "options of huber_loss (delta)"),
    (["plot", "huber_loss:delta=x"], "expected a number"),
    (["plot", "mse_los"], "did you mean mse_loss"),
])
def test_bad_plot_input_is_one_line(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_without_matplotlib_the_command_says_how_to_install_it(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # import now fails
    assert main(["plot", "mse_loss"]) == 2
    assert "pip install 'losskit[plot]'" in capsys.readouterr().err


def test_every_plottable_loss_draws_with_gradients():
    fig = figure(list(CURVES), grad=True)
    drawn = sum(len([ln for ln in ax.lines if ln.get_label()[0] != "_"]) for ax in fig.axes)
    assert drawn == 2 * sum(len(c) for c in CURVES.values())
    for ax in fig.axes:
        for line in ax.lines:
            assert np.all(np.isfinite(line.get_ydata()))


def test_the_gallery_matches_its_script():
    sys.path.insert(0, str(DOCS))
    try:
        import make_gallery
    finally:
        sys.path.pop(0)
    text = (DOCS / "gallery.md").read_text()
    for name, losses, _ in make_gallery.PICTURES:
        assert f"`losskit plot {' '.join(losses)} --grad`" in text
        assert (DOCS / "gallery" / f"{name}.png").is_file()
    assert len(re.findall(r"!\[", text)) == len(make_gallery.PICTURES)
