"""The house rules that keep the code in layers, checked on every run.

``nnviz.core`` is NumPy and the standard library (usable from a notebook with no
Qt); ``nnviz.engine`` runs core work in the background and imports only the
core; neither imports Qt. The whole package passes ``mypy --strict``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "nnviz"
#: Packages a layer may import (with their submodules) besides the standard library.
ALLOWED = {
    "core": {"numpy", "threadpoolctl", "platformdirs", "nnviz.core"},
    "engine": {"numpy", "nnviz.core", "nnviz.engine"},
}
#: Qt-free modules at the top of the package any layer may use: the version, resource paths.
SHARED = {"nnviz", "nnviz.paths"}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports (absolute names), at any depth of the file."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def foreign(name: str, allowed: set[str]) -> bool:
    top = name.split(".")[0]
    if top in sys.stdlib_module_names or top == "__future__" or name in SHARED:
        return False
    return not any(name == a or name.startswith(a + ".") for a in allowed)


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_a_layer_imports_only_what_it_may(layer: str) -> None:
    files = sorted((PACKAGE / layer).rglob("*.py"))
    assert files, f"no files in nnviz/{layer}"
    offences = [
        f"{path.relative_to(PACKAGE.parent)} imports {name}"
        for path in files
        for name in sorted(imported_modules(path))
        if foreign(name, ALLOWED[layer])
    ]
    assert offences == []


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom PySide6.QtCore import QObject\nimport nnviz.gui.state\n")
    names = {n for n in imported_modules(bad) if foreign(n, ALLOWED["engine"])}
    assert names == {"PySide6.QtCore", "nnviz.gui.state"}


def test_mypy_strict_passes_on_the_whole_package() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mypy"],
        cwd=PACKAGE.parent,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
