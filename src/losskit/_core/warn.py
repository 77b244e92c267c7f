"""Warnings that point at the caller's line, not into losskit."""

from __future__ import annotations

import os
import sys
import warnings

__all__ = ["warn"]

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """Issue ``message`` attributed to the first frame outside the losskit package (the
    user's call), however deep inside losskit it is raised; torch's wording is kept."""
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level + 1)
