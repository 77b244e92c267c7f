"""``losskit.explain`` and ``losskit explain``: the numbers of the tutorial's seven examples
(equal to the demo's and torch's), and on the whole parity grid the written-out reduction
adds up to the loss's own value."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import losskit
from losskit.cli import main
from losskit.cli.catalog import ENTRIES, lookup
from losskit.cli.demo import examples
from losskit.cli.explain import _mean_divisor, _reduction
from losskit.cli.explain_terms import fmt
from losskit.testing.grid import all_cases, reductions_for

torch = pytest.importorskip("torch")
TUTORIAL = [e for e in examples() if e.tutorial]


def _torch_value(example) -> float:
    options = {k: torch.as_tensor(v) if isinstance(v, np.ndarray) else v
               for k, v in example.loss.options().items()}
    module = getattr(torch.nn, type(example.loss).__name__)(**options)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(module(*[torch.as_tensor(a) for a in example.arrays]))


def _demo_values(capsys) -> list[str]:
    main(["demo"])
    return re.findall(r"^   = (-?\d+\.\d{4})$", capsys.readouterr().out, flags=re.M)


def test_the_seven_tutorial_explanations_match_the_demo_and_torch(capsys):
    demo = _demo_values(capsys)
    assert len(TUTORIAL) == 7
    for example, shown in zip(TUTORIAL, demo):
        e = losskit.explain(example.loss, *example.arrays)
        assert round(float(e.value), 4) == float(shown) == round(_torch_value(example), 4)
        # the reduction line ends with the value itself
        assert e.reduction_line.split(" = ")[-1].split()[0] == fmt(e.value)


def test_the_tutorial_explanations_spell_out_the_classic_numbers():
    text = {type(e.loss).__name__: str(losskit.explain(e.loss, *e.arrays)) for e in TUTORIAL}
    assert "mean = (1 + 1 + 1) / 3 = 1" in text["L1Loss"]
    assert "|x - y| - 0.5·beta" in text["SmoothL1Loss"]
    assert "|2 - 1| - 0.5·1  0.5" in text["SmoothL1Loss"]  # |d| = beta: the linear branch
    # the tutorial's wrong outputs, with the true terms torch gives
    assert "mean = (1.3069 - 0.1589 - 2.9588) / 3 = -0.6036" in text["PoissonNLLLoss"]
    assert "full=True does not mean 'all samples'" in text["PoissonNLLLoss"]
    assert "mean = (0.8817 + 0.7249 - 0.2933) / 3 = 0.4378" in text["KLDivLoss"]
    assert "'batchmean'" in text["KLDivLoss"]
    assert "mean = (1 + 0 + 1) / 3 = 0.6667" in text["MarginRankingLoss"]
    assert "max(0, 0 - (-1)·(2 - 3))" in text["MarginRankingLoss"]
    mlm = text["MultiLabelMarginLoss"]
    assert "(2 + 3 + 0 + 0) / 4 = 1.25   [divided by C = 4 classes]" in mlm
    assert "not a multi-hot vector" in mlm
    pairs = re.findall(r"^  0 +(\d) +(\d) .* (\d)$", mlm, flags=re.M)
    assert pairs == [("0", "1", "2"), ("0", "2", "3"), ("3", "1", "0"), ("3", "2", "0")]


GRID = all_cases(np.float64)


@pytest.mark.parametrize("index", range(len(GRID)))
def test_the_written_out_reduction_adds_up_to_the_value(index):
    """For every case of the parity grid: 'sum' is the sum of the terms, and 'mean' (or
    'batchmean') is the summed terms over the divisor the explanation names."""
    case = GRID[index]
    fn = getattr(losskit, case.loss)
    for reduction in reductions_for(case.loss):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            e = losskit.explain(fn, *case.arrays, reduction=reduction, max_rows=4,
                                **case.options)
            value = np.asarray(fn(*case.arrays, reduction=reduction, **case.options))
        np.testing.assert_array_equal(e.value, value)
        assert len(e.rows) <= 4 and all(len(r) == len(e.header) for r in e.rows)
        assert e.omitted >= 0
        if reduction == "none":
            assert e.terms.shape == value.shape
            continue
        if reduction == "sum":
            np.testing.assert_allclose(np.sum(e.terms), value, rtol=1e-10, atol=1e-12)
            continue
        named = dict(zip(lookup(case.loss).arrays, map(np.asarray, case.arrays)))
        summed, divisor, _ = _mean_divisor(lookup(case.loss), named, case.options, e.terms,
                                           reduction)
        with np.errstate(all="ignore"):
            np.testing.assert_allclose(np.sum(summed) / divisor, value, rtol=1e-10,
                                       atol=1e-12, err_msg=case.id)
        if np.ndim(value) == 0 and np.isfinite(value):
            assert e.reduction_line.startswith(f"{reduction} = (")
            assert f"= {fmt(value)}   [divided by" in e.reduction_line


def test_each_terms_column_is_the_losss_own_reduction_none():
    for case in [c for c in GRID if c.loss in ENTRIES][::7]:
        if case.loss == "multilabel_margin_loss":
            continue  # its table lists pairs; the per-sample sums are tested above
        e = losskit.explain(getattr(losskit, case.loss), *case.arrays, **case.options)
        shown = [row[-1] for row in e.rows]
        assert shown == [fmt(t) for t in np.reshape(e.terms, -1)[: len(shown)]], case.id


def test_weighted_cross_entropy_names_its_divisor():
    x = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0], [1.0, 1.0, 1.0]])
    t = np.array([0, 2, 1])
    w = np.array([0.5, 2.0, 3.0])
    e = losskit.explain(losskit.cross_entropy, x, t, weight=w, ignore_index=1)
    want = float(torch.nn.functional.cross_entropy(torch.tensor(x), torch.tensor(t),
                                                   weight=torch.tensor(w), ignore_index=1))
    assert float(e.value) == pytest.approx(want)
    assert "/ 3.5 = " in e.reduction_line  # Σ weight[target] = 0.5 + 3, target 1 ignored
    assert "divided by Σ weight[target] of the non-ignored targets" in e.reduction_line
    assert "ignored (target = ignore_index)" in str(e)


def test_kl_div_mean_on_a_batch_shows_what_batchmean_gives():
    x = np.log(np.array([[0.2, 0.8], [0.5, 0.5]]))
    y = np.array([[0.3, 0.7], [0.9, 0.1]])
    e = losskit.explain(losskit.kl_div, x, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batchmean = float(torch.nn.functional.kl_div(torch.tensor(x), torch.tensor(y),
                                                     reduction="batchmean"))
    assert f"reduction='batchmean' gives {fmt(batchmean)}" in e.pitfalls[0]
    assert any("warning: reduction: 'mean' divides" in n for n in e.notes)
    e = losskit.explain(losskit.KLDivLoss(reduction="batchmean"), x, y)
    assert e.reduction_line.startswith("batchmean = (") and "batch size" in e.reduction_line


def test_markdown_rendering_and_instances():
    example = TUTORIAL[6]
    e = losskit.explain(example.loss, *example.arrays)
    md = e.to_markdown()
    assert md.startswith("### `multilabel_margin_loss(")
    assert "| sample | target j | other i | x[j] | x[i] | how | term |" in md
    assert md.count("\n| 0 |") == 4 and "**Reduction:** `mean = (1.25) / 1 = 1.25" in md
    assert e._repr_markdown_() == md
    assert repr(e) == "<Explanation of multilabel_margin_loss(input, target, " \
                      "reduction='mean') = 1.25>"


@pytest.mark.parametrize("library", ["torch", "jax", "array_api_strict"])
def test_explain_accepts_arrays_of_any_library(library):
    pytest.importorskip(library)
    from losskit.testing.backends import Backend

    backend = Backend(library)
    example = TUTORIAL[5]
    want = str(losskit.explain(example.loss, *example.arrays))
    got = str(losskit.explain(example.loss, *[backend.asarray(a) for a in example.arrays]))
    assert got == want


def test_explain_refuses_what_it_cannot_explain():
    with pytest.raises(TypeError, match="one of losskit's 23 loss functions"):
        losskit.explain(print, np.ones(2))
    with pytest.raises(TypeError, match="mse_loss takes 2 arrays"):
        losskit.explain(losskit.mse_loss, np.ones(2))
    with pytest.raises(ValueError, match="cannot be broadcast"):
        losskit.explain(losskit.mse_loss, np.ones(2), np.ones(3))


def test_legacy_arguments_give_the_reduction_they_stand_for():
    assert _reduction({"size_average": False}) == "sum"
    assert _reduction({"reduce": False}) == "none"
    assert _reduction({"reduction": "elementwise_mean"}) == "mean"


def test_the_explain_command(capsys):
    code = main(["explain", "margin_ranking_loss", "[1, 2, 3]", "[2, 3, 4]", "[1, -1, 1]"])
    out = capsys.readouterr().out
    assert code == 0 and "mean = (1 + 0 + 1) / 3 = 0.6667" in out
    assert main(["explain", "MSELoss", "[1, 2, 3]", "[0, 0, 0]", "--rows", "1",
                 "--markdown", "--reduction", "sum"]) == 0
    out = capsys.readouterr().out
    assert "… and 2 more" in out and "**Reduction:** `sum = 1 + 4 + 9 = 14`" in out
    assert main(["explain", "ctc_loss", "[[[-0.7, -0.7]], [[-0.7, -0.7]]]", "[[1]]", "[2]",
                 "[1]"]) == 0
    assert "divided by its target length" in capsys.readouterr().out
