"""What the app keeps between runs, read back with every value checked.

Saved settings come from a file a person (or another version of nnviz) may
have edited. Each value is checked against what the controls can show and
what nnviz supports; one that is unreadable or out of range falls back to its
default, and :attr:`UserSettings.reset` names it, so the window can say which
settings were reset. Reading settings never fails.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QSettings

from nnviz.core.errors import ConfigError, plain_number
from nnviz.core.limits import check_sizes
from nnviz.core.network import ACTIVATIONS, COSTS
from nnviz.core.presets import DEFAULT_SIZES, PRESETS, get_preset
from nnviz.core.trainer import TrainConfig
from nnviz.engine.messages import PLANES, SurfaceSettings
from nnviz.gui.controls import BATCH, EPOCHS, LR, MOMENTUM, SEED, SPEEDS, Architecture, parse_hidden
from nnviz.gui.surface_controller import RESOLUTIONS, SUBSETS

T = TypeVar("T")

DEFAULT_ARCH = Architecture("modern", DEFAULT_SIZES[1:-1], "sigmoid", "cross_entropy", 0)


@dataclass(frozen=True)
class SurfaceChoice:
    """The loss-surface panel's choices kept between runs: the engine's settings and log colours."""

    settings: SurfaceSettings = field(default_factory=SurfaceSettings)
    log: bool = False


@dataclass
class UserSettings:
    """The settings read back (each one valid), and the names of those that were reset."""

    arch: Architecture = DEFAULT_ARCH
    config: TrainConfig = field(default_factory=lambda: get_preset("modern").config)
    speed_index: int = len(SPEEDS) - 1
    dark: bool = False
    colour_blind: bool = False
    data_folder: Path | None = None
    reset: list[str] = field(default_factory=list)
    #: The loss-surface panel's choices.
    surface: SurfaceChoice = field(default_factory=SurfaceChoice)

    def reset_text(self) -> str:
        """One sentence for the status bar, or "" when every setting was usable."""
        if not self.reset:
            return ""
        return (
            "Some saved settings could not be used and were reset to their defaults: "
            + "; ".join(self.reset)
            + "."
        )


def read_settings(store: QSettings) -> UserSettings:
    """Every setting from ``store``, checked; unusable ones fall back to their defaults."""
    out = UserSettings()
    reader = _Reader(store, out.reset)
    preset = reader.get("net/preset", "preset", "modern", _choice(tuple(PRESETS)))
    out.arch = Architecture(
        preset,
        reader.get("net/hidden", "hidden layers", DEFAULT_ARCH.hidden, _hidden),
        reader.get("net/activation", "activation", "sigmoid", _choice(ACTIVATIONS)),
        reader.get("net/cost", "cost", "cross_entropy", _choice(COSTS)),
        reader.get("net/seed", "seed", 0, _integer(*SEED)),
    )
    base = get_preset(preset).config
    out.config = TrainConfig(
        learning_rate=reader.get("train/lr", "learning rate", base.learning_rate, _number(*LR)),
        batch_size=reader.get("train/batch", "batch size", base.batch_size, _integer(*BATCH)),
        momentum=reader.get("train/momentum", "momentum", base.momentum, _number(*MOMENTUM)),
        weight_decay=base.weight_decay,
        schedule=base.schedule,
        epochs=reader.get("train/epochs", "epochs", base.epochs, _integer(*EPOCHS)),
        seed=out.arch.seed,
    )
    out.speed_index = reader.get(
        "train/speed_index", "speed", out.speed_index, _integer(0, len(SPEEDS) - 1)
    )
    out.dark = reader.get("appearance/dark", "dark palette", False, _boolean)
    out.colour_blind = reader.get("appearance/colour_blind", "colour-blind map", False, _boolean)
    out.data_folder = reader.get("data/folder", "MNIST folder", None, _folder)
    out.surface = _read_surface(reader)
    return out


def _read_surface(reader: _Reader) -> SurfaceChoice:
    default = SurfaceSettings()
    settings = SurfaceSettings(
        plane=reader.get("surface/plane", "surface plane", default.plane, _choice(PLANES)),
        resolution=reader.get(
            "surface/resolution", "surface resolution", default.resolution, _member(RESOLUTIONS)
        ),
        subset=reader.get("surface/images", "surface images", default.subset, _member(SUBSETS)),
        auto_refit=reader.get("surface/auto_refit", "surface auto-refit", True, _boolean),
    )
    log = reader.get("surface/log", "surface log colours", False, _boolean)
    return SurfaceChoice(settings, log)


def write_settings(store: QSettings, settings: UserSettings) -> None:
    """Write ``settings`` (the window's layout is written by the window itself)."""
    arch, config, surface = settings.arch, settings.config, settings.surface
    for key, value in (
        ("net/preset", arch.preset),
        ("net/hidden", " ".join(map(str, arch.hidden))),
        ("net/activation", arch.activation),
        ("net/cost", arch.cost),
        ("net/seed", arch.seed),
        ("train/lr", config.learning_rate),
        ("train/batch", config.batch_size),
        ("train/momentum", config.momentum),
        ("train/epochs", config.epochs),
        ("train/speed_index", settings.speed_index),
        ("appearance/dark", settings.dark),
        ("appearance/colour_blind", settings.colour_blind),
        ("surface/plane", surface.settings.plane),
        ("surface/resolution", surface.settings.resolution),
        ("surface/images", surface.settings.subset),
        ("surface/auto_refit", surface.settings.auto_refit),
        ("surface/log", surface.log),
    ):
        store.setValue(key, value)
    if settings.data_folder is not None:
        store.setValue("data/folder", str(settings.data_folder))


class _Reader:
    """Reads one setting at a time; a bad one is reset and its reason noted."""

    def __init__(self, store: QSettings, reset: list[str]) -> None:
        self.store, self.reset = store, reset

    def get(self, key: str, name: str, default: T, parse: Callable[[str], T]) -> T:
        if not self.store.contains(key):
            return default
        text = str(self.store.value(key))
        try:
            return parse(text)
        except (ValueError, ConfigError) as exc:
            self.reset.append(f"{name} ({exc})")
            return default


def _choice(allowed: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in allowed:
            raise ValueError(f"{_shown(text)} is not one of {', '.join(allowed)}")
        return text

    return parse


def _integer(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise ValueError(f"{_shown(text)} is not a whole number") from None
        if not low <= value <= high:
            raise ValueError(f"{value:,} is outside {low:,} to {high:,}")
        return value

    return parse


def _member(allowed: tuple[int, ...]) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = _integer(min(allowed), max(allowed))(text)
        if value not in allowed:
            raise ValueError(f"{value:,} is not one of {', '.join(f'{a:,}' for a in allowed)}")
        return value

    return parse


def _number(low: float, high: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            raise ValueError(f"{_shown(text)} is not a number") from None
        if not (math.isfinite(value) and low <= value <= high):
            raise ValueError(
                f"{plain_number(value)} is outside {plain_number(low)} to {plain_number(high)}"
            )
        return value

    return parse


def _hidden(text: str) -> tuple[int, ...]:
    hidden = parse_hidden(text)
    if hidden is None:
        raise ValueError(f"{_shown(text)} is not a list of layer sizes")
    check_sizes((DEFAULT_SIZES[0], *hidden, DEFAULT_SIZES[-1]))
    return hidden


def _boolean(text: str) -> bool:
    if text.lower() in ("true", "1"):
        return True
    if text.lower() in ("false", "0"):
        return False
    raise ValueError(f"{_shown(text)} is not true or false")


def _folder(text: str) -> Path:
    path = Path(text)
    if not path.is_dir():
        raise ValueError(f"{_shown(text)} is not a folder")
    if not os.access(path, os.R_OK | os.X_OK):
        raise ValueError(f"{_shown(text)} cannot be read")
    return path


def _shown(text: str) -> str:
    """A saved value quoted for a message, shortened if long."""
    return repr(text if len(text) <= 40 else text[:37] + "...")
