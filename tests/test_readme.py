"""The README's Python examples run as written."""

from __future__ import annotations

import ast
import re
import shlex
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


OPTIONAL = ("torch", "jax", "dask", "distributed", "array_api_strict", "matplotlib")


def _imported(block: str) -> set[str]:
    return {(node.names[0].name if isinstance(node, ast.Import) else node.module).split(".")[0]
            for node in ast.walk(ast.parse(block))
            if isinstance(node, (ast.Import, ast.ImportFrom))}


def _shown_results(block: str) -> list[tuple[str, str]]:
    """(expression, what its comment says it gives) for lines like ``f(x)  # array(1.)``."""
    shown = []
    for line in block.splitlines():
        code, _, comment = line.partition("  #")
        comment = comment.strip()
        if not comment.startswith(("array(", "tensor(")) or "..." in comment:
            continue
        tree = ast.parse(code.strip()) if code.strip() else None
        if tree and len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr):
            shown.append((code.strip(), comment))
    return shown


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index):
    """Every Python example runs (examples of a backend that is not installed are skipped
    with the reason), and every result a comment shows is the one it prints."""
    block = BLOCKS[index]
    for module in sorted(_imported(block) & set(OPTIONAL)):
        pytest.importorskip(module, reason=f"the README's example needs {module}")
    namespace: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(block, f"README.md[{index}]", "exec"), namespace)
        for expression, comment in _shown_results(block):
            got = " ".join(repr(eval(expression, namespace)).split())
            assert got == " ".join(comment.split()), expression


def test_readme_results_are_checked():
    """The checker above finds the results the README shows (it cannot pass by finding none)."""
    found = [e for block in BLOCKS for e, _ in _shown_results(block)]
    assert "x.grad" in found and "losskit.mse_loss(x, y)" in found


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
