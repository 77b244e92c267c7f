"""The README's Python examples run as written."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index):
    if "torch" in BLOCKS[index]:
        pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(BLOCKS[index], f"README.md[{index}]", "exec"), {})


def test_readme_shows_both_setup_commands():
    text = README.read_text()
    assert "pip install . && losskit demo" in text
    assert 'pip install -e ".[test]" && pytest' in text
