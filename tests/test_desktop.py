"""``nnviz desktop-entry``: the launcher's entry and icon, and that the entry starts nnviz."""

from __future__ import annotations

import configparser
import os
import shlex
import subprocess
import sys
from pathlib import Path

from nnviz.desktop import entry_text

NNVIZ = Path(sys.executable).parent / "nnviz"


def run(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "XDG_DATA_HOME": str(home)}
    return subprocess.run(
        [str(NNVIZ), *args], capture_output=True, text=True, env=environment, timeout=60
    )


def test_the_entry_is_installed_starts_this_nnviz_and_is_removed(tmp_path: Path) -> None:
    done = run("desktop-entry", home=tmp_path)
    assert done.returncode == 0, done.stderr
    entry = tmp_path / "applications" / "nnviz.desktop"
    icon = tmp_path / "icons" / "hicolor" / "scalable" / "apps" / "nnviz.svg"
    assert f"wrote {entry}" in done.stdout and f"wrote {icon}" in done.stdout
    assert icon.read_bytes().startswith(b"<?xml") and b"<svg" in icon.read_bytes()
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string(entry.read_text())
    fields = parser["Desktop Entry"]
    assert fields["Type"] == "Application" and fields["Icon"] == "nnviz"
    assert fields["Name"] == "nnviz" and fields["Terminal"] == "false"
    command = shlex.split(fields["Exec"])  # no reserved characters here: plain words
    assert command[:3] == [sys.executable, "-m", "nnviz"]
    version = subprocess.run([*command, "--version"], capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("nnviz ")
    done = run("desktop-entry", "--remove", home=tmp_path)
    assert done.returncode == 0 and not entry.exists() and not icon.exists()


def test_exec_quotes_paths_as_the_specification_says() -> None:
    text = entry_text('/home/a user/with "quotes"/python')
    assert 'Exec="/home/a user/with \\\\"quotes\\\\"/python" -m nnviz\n' in text
    assert "Exec=/usr/bin/python3 -m nnviz\n" in entry_text("/usr/bin/python3")
