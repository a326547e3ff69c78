"""Where nnviz finds its shipped resources and keeps its cache (no Qt)."""

from __future__ import annotations

from pathlib import Path


def resources_dir() -> Path:
    """The folder of runtime resources (bundled model, icons).

    In a wheel they live in ``nnviz/resources``; in a source checkout or an
    editable install, in ``resources/`` at the top of the repository.
    """
    package = Path(__file__).resolve().parent
    for candidate in (package / "resources", package.parent / "resources"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"nnviz resources folder not found next to {package}; the installation is incomplete"
    )


def bundled_model_path() -> Path:
    """The trained model that ships with nnviz (784-16-16-10, preset modern)."""
    return resources_dir() / "mnist-784-16-16-10.npz"


def icon_path() -> Path:
    """nnviz's icon (SVG): the window's, the taskbar's and the desktop entry's."""
    return resources_dir() / "nnviz.svg"
