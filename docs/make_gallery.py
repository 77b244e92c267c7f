"""Make docs/gallery.md and its pictures with ``losskit plot``'s own figure code.

    python docs/make_gallery.py        (needs matplotlib: pip install -e ".[plot]")

Each picture is the command shown above it; values are the losses' ``reduction='none'``
terms and the gradients their analytic ``value_and_grad``.
"""

from __future__ import annotations

from pathlib import Path

from losskit.cli.plot import figure

HERE = Path(__file__).parent
PICTURES = [
    ("regression", ["l1_loss", "mse_loss", "smooth_l1_loss:beta=2", "huber_loss:delta=2"],
     "Against the residual x - y. Both robust losses are quadratic near 0 and linear beyond "
     "2, but smooth_l1 divides its quadratic part by beta, so its gradient is capped at 1 "
     "while huber's is capped at delta = 2: huber(delta) = delta · smooth_l1(beta = delta). "
     "l1's gradient jumps from -1 to 1 (torch takes 0 at exactly 0), mse's grows without "
     "bound."),
    ("classification", ["soft_margin_loss", "binary_cross_entropy_with_logits",
                        "cross_entropy", "multi_margin_loss", "margin_ranking_loss"],
     "Against the margin: y·x for a ±1 label, the true class's logit minus the other's for "
     "two classes. soft_margin_loss, bce_with_logits (target 1) and two-class cross_entropy "
     "are the same logistic curve log(1 + exp(-m)); multi_margin_loss is the SVM hinge "
     "max(0, 1 - m) divided by C = 2; margin_ranking_loss with margin 0 is max(0, -m)."),
    ("probabilities", ["binary_cross_entropy"],
     "Against the probability given to the true class: -log x, whose gradient -1/x is what "
     "makes confident mistakes expensive (torch clamps the log at -100)."),
    ("likelihoods", ["poisson_nll_loss", "gaussian_nll_loss"],
     "poisson_nll_loss (log_input=True) against the log-rate, for a count of 2: exp(x) - 2x, "
     "lowest at x = log 2. gaussian_nll_loss with var = 1 against the residual: "
     "0.5·(x - y)², half the squared error."),
    ("embeddings", ["hinge_embedding_loss"],
     "Against a distance: a similar pair (y = 1) pays its distance, a dissimilar pair "
     "(y = -1) pays only while it is closer than the margin."),
]


def main() -> None:
    folder = HERE / "gallery"
    folder.mkdir(exist_ok=True)
    lines = ["# Gallery", "",
             "Made by `python docs/make_gallery.py` with `losskit plot`'s figure code; each "
             "picture is the command above it. Top row: the loss (`reduction='none'`); bottom "
             "row: its analytic gradient with respect to the plotted input.", ""]
    for name, losses, text in PICTURES:
        fig = figure(losses, grad=True)
        fig.savefig(folder / f"{name}.png", dpi=80, metadata={"Software": None})
        lines += [f"## {name.capitalize()}", "", f"`losskit plot {' '.join(losses)} --grad`",
                  "", f"![{name}](gallery/{name}.png)", "", text, ""]
    (HERE / "gallery.md").write_text("\n".join(lines))
    print(f"wrote {HERE / 'gallery.md'} and {len(PICTURES)} pictures")


if __name__ == "__main__":
    main()
