"""The layout holds: one family per loss everywhere, small modules, small functions, imports
one way (core <- losses <- nn/functional <- cli/testing), nothing outside the repository cited.
"""

from __future__ import annotations

import ast
import inspect
import pathlib
import re

import pytest

import losskit
from losskit.cli.catalog import ENTRIES, FAMILIES

PACKAGE = pathlib.Path(losskit.__file__).parent
ROOT = PACKAGE.parent.parent
SOURCES = sorted(PACKAGE.rglob("*.py"))
MAX_MODULE_LINES = 450  # "about 400": the largest are nn.py and the categorical family
MAX_FUNCTION_LINES = 60  # lines of code: docstrings, comments and blank lines not counted


def _code_lines(node: ast.AST, lines: list[str]) -> int:
    """Lines of a function that hold code (not its docstring, comments or blank lines)."""
    body = node.body
    start = body[0].end_lineno if isinstance(body[0], ast.Expr) and isinstance(
        getattr(body[0], "value", None), ast.Constant) else body[0].lineno - 1
    counted = lines[start:node.end_lineno]
    return sum(1 for line in counted if line.strip() and not line.strip().startswith("#"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_and_functions_are_small(path):
    text = path.read_text()
    lines = text.splitlines()
    assert len(lines) <= MAX_MODULE_LINES, f"{path.name} has {len(lines)} lines"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            n = _code_lines(node, lines)
            assert n <= MAX_FUNCTION_LINES, f"{path.name}:{node.lineno} {node.name}: {n} lines"


LAYERS = {"_core": 0, "losses": 1, "nn": 2, "functional": 2, "cli": 3, "testing": 3}


def _layer(module: str) -> int | None:
    top = module.split(".")[0]
    return LAYERS.get(top)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_one_way(path):
    """A module imports only from its own layer or the layers below it."""
    relative = path.relative_to(PACKAGE).with_suffix("")
    parts = list(relative.parts)
    own = _layer(".".join(parts))
    if own is None:
        return  # __init__, __main__, _version: the package's surface
    package = parts[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            base = package[: len(package) - (node.level - 1)]
            target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            layer = _layer(target) if target else None
            if layer is not None:
                assert layer <= own, f"{relative} imports {target}"
        if isinstance(node, ast.Import) and any(a.name == "array_api_compat"
                                                for a in node.names):
            assert relative.as_posix() == "_core/namespace", "array-api-compat outside namespace"


def test_every_loss_has_one_family_everywhere():
    """The family is the loss's module; its class, catalog entry, test file and doc section
    carry the same name."""
    docs = (ROOT / "docs" / "architecture.md").read_text()
    for entry in ENTRIES.values():
        family = entry.family
        assert family in FAMILIES
        assert entry.cls.function is entry.function
        assert (ROOT / "tests" / f"test_{family}.py").exists(), family
        test_text = (ROOT / "tests" / f"test_{family}.py").read_text()
        assert entry.name in test_text, (entry.name, family)
        assert re.search(rf"^\| `{family}` .*`{entry.name}`", docs, re.M), (family, entry.name)
        assert inspect.getmodule(entry.function).__name__ == f"losskit.losses.{family}"


def test_nothing_outside_the_repository_is_cited():
    checked = [*SOURCES, *(ROOT / "docs").glob("*.md"), ROOT / "README.md"]
    for path in checked:
        text = path.read_text()
        for outside in ("DESIGN.md", "../shared", "shared/spec", "torch-loss-semantics"):
            assert outside not in text, f"{path.name} cites {outside}"


def test_help_texts_name_no_repository_paths():
    """Docstrings point to sections a pip install ships (help(losskit)), not to docs/ files."""
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.Module)):
                doc = ast.get_docstring(node) or ""
                assert "docs/" not in doc.replace("``docs/deviations.md`` in the source", ""), (
                    path.name, getattr(node, "name", "module"))
