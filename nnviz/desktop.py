"""``nnviz desktop-entry``: put nnviz into the desktop's launcher (Linux, freedesktop.org).

Writes a desktop entry and the icon into the user's data folder
(``$XDG_DATA_HOME``, usually ``~/.local/share``), where GNOME, KDE, Xfce and
other desktops look for applications: ``applications/nnviz.desktop`` and
``icons/hicolor/scalable/apps/nnviz.svg``. The entry starts this very
installation (the Python that runs this command, ``-m nnviz``), so it keeps
working for a venv, pipx or uv installation. No Qt here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs

from nnviz.core.fileio import atomic_write_bytes
from nnviz.paths import icon_path

ENTRY = "nnviz.desktop"
ICON = Path("icons", "hicolor", "scalable", "apps", "nnviz.svg")


def data_home() -> Path:
    """The user's data folder (``$XDG_DATA_HOME`` or ``~/.local/share``)."""
    return Path(platformdirs.user_data_dir())


def entry_text(python: str = sys.executable) -> str:
    """The desktop entry that starts nnviz with ``python``."""
    command = " ".join(_quote(arg) for arg in (python, "-m", "nnviz"))
    return "\n".join(
        [
            "[Desktop Entry]",
            "Type=Application",
            "Name=nnviz",
            "GenericName=Neural network, live",
            "Comment=Draw digits and watch the 3Blue1Brown network learn MNIST live",
            f"Exec={command}",
            "Icon=nnviz",
            "Terminal=false",
            "Categories=Education;Science;ArtificialIntelligence;",
            "Keywords=neural;network;MNIST;3Blue1Brown;gradient;descent;",
            "StartupWMClass=nnviz",
            "",
        ]
    )


_ESCAPES = {'"': '\\\\"', "`": "\\\\`", "$": "\\\\$", "\\": "\\\\\\\\"}


def _quote(arg: str) -> str:
    """An ``Exec`` argument, quoted as the Desktop Entry Specification says (in double
    quotes, with the double quote, backtick, dollar and backslash escaped) when it holds a
    reserved character."""
    if not any(c in arg for c in " \t\n\"'\\><~|&;$*?#()`"):
        return arg
    # The file's string escapes apply first: the quoting's "\\" is written "\\\\".
    escaped = "".join(_ESCAPES.get(c, c) for c in arg)
    return f'"{escaped}"'


def install(home: Path | None = None) -> list[Path]:
    """Write the entry and the icon (atomically); returns the files written."""
    home = data_home() if home is None else home
    entry, icon = home / "applications" / ENTRY, home / ICON
    atomic_write_bytes(icon, icon_path().read_bytes())
    atomic_write_bytes(entry, entry_text().encode())
    return [entry, icon]


def remove(home: Path | None = None) -> list[Path]:
    """Remove the entry and the icon; returns the files that were there."""
    home = data_home() if home is None else home
    removed = []
    for path in (home / "applications" / ENTRY, home / ICON):
        if path.exists():
            path.unlink()
            removed.append(path)
    return removed
