"""The layers stay clean: nnviz.core never imports Qt, pyqtgraph or the GUI."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import nnviz.core

FORBIDDEN = ("PySide6", "pyqtgraph", "nnviz.gui", "nnviz.cli", "shiboken6")


def test_core_sources_import_no_gui_module() -> None:
    offenders = []
    for path in Path(nnviz.core.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.startswith(FORBIDDEN)]
    assert offenders == []


def test_importing_core_loads_no_qt() -> None:
    code = (
        "import sys, nnviz, nnviz.core, nnviz.core.surface, nnviz.core.benchmark;"
        "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
