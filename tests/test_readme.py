"""The README's Python examples run as written."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
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


CONSOLE = re.findall(r"```console\n(.*?)```", README.read_text(), flags=re.S)
SHELL = re.findall(r"```bash\n(.*?)```", README.read_text().split("## Command line")[1]
                   .split("\n## ")[0], flags=re.S)


def _commands(block: str) -> list[tuple[str, str]]:
    """(command, the output shown under it) pairs of a console block."""
    pairs: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            pairs.append((line[2:], []))
        else:
            pairs[-1][1].append(line)
    return [(c, "\n".join(out)) for c, out in pairs]


@pytest.mark.parametrize("index", range(len(CONSOLE)))
def test_readme_console_examples_print_what_they_show(index, tmp_path):
    pytest.importorskip("torch")  # the suite's environment; the commands need only numpy
    for command, shown in _commands(CONSOLE[index]):
        assert command.startswith("losskit ")
        done = subprocess.run([sys.executable, "-m", "losskit", *shlex.split(command)[1:]],
                              capture_output=True, text=True, cwd=tmp_path)
        assert (done.stdout + done.stderr).rstrip("\n") == shown, command


@pytest.mark.parametrize("index", range(len(SHELL)))
def test_readme_shell_examples_run(index, tmp_path):
    pytest.importorskip("matplotlib")
    script = SHELL[index].replace("losskit ", f"{sys.executable} -m losskit ")
    script = script.replace("python -c", f"{sys.executable} -c")
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True,
                          text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
