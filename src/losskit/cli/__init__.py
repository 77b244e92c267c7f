"""The command line (``losskit``, ``python -m losskit``) and what it shows: ``commands`` (the
commands and their one-line errors), ``inputs`` (arrays and typed options from text),
``catalog`` (each loss's family, description, formula and pitfalls), ``explain`` and
``explain_terms`` (``losskit.explain``), ``plot``, ``demo`` (the built-in examples) and
``check`` (``losskit check``, over ``losskit.testing``)."""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``losskit`` command line; returns the exit status."""
    from .commands import main as run

    return run(argv)
