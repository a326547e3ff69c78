"""What a probe did, in words: the sentence under the pictures.

Pure functions of a probe's numbers (no Qt widgets), and the probes'
settings that the sentences quote. The HTML they return goes into rich-text
labels: numbers that may hold ``<`` or ``>`` (such as ``">99.9%"``) are
escaped (:func:`~.pictures.value_text`).
"""

from __future__ import annotations

from typing import Any

import numpy.typing as npt

from nnviz.core import probes
from nnviz.gui.panels.probes.pictures import value_text

Array = npt.NDArray[Any]

NUDGE_STEP, NUDGE_MAX_STEPS = 0.01, 500
DREAM_STEPS = 200


def a_digit(k: int) -> str:
    """``"a 3"``, ``"an 8"``."""
    return f"an {k}" if str(k)[0] == "8" or k in (11, 18) else f"a {k}"


def transform_text(dy: int, dx: int, degrees: int) -> str:
    """``"shifted 2 px down, 1 px left, rotated 15° counter-clockwise"``."""
    parts = []
    if dy:
        parts.append(f"{abs(dy)} px {'down' if dy > 0 else 'up'}")
    if dx:
        parts.append(f"{abs(dx)} px {'right' if dx > 0 else 'left'}")
    text = f"shifted {', '.join(parts)}" if parts else ""
    if degrees:
        turn = "counter-clockwise" if degrees > 0 else "clockwise"
        text += f"{', ' if text else ''}rotated {abs(degrees)}\u00b0 {turn}"
    return text or "not moved (shift and angle are 0)"


def dream_text(result: probes.DreamResult, label: int, value: float, softmax: bool) -> str:
    """What a dream of ``result.target`` gave: the network now says ``label``.

    ``value`` is the target's output for the dreamt image with the live weights.
    """
    k = result.target
    start = "noise" if result.start.any() else "a blank image"
    head = f"Dreamt from {start} by {DREAM_STEPS} steps of gradient ascent on output {k}"
    if label != k and softmax:
        return f"{head}: output {k} reached only {value_text(value, softmax)}; it says {label}."
    if label != k:
        return (
            f"{head}: output {k} rose to {value:.2f}, but output {label} is higher still, "
            f"so the network says {label} (sigmoid outputs do not compete)."
        )
    if softmax:
        sure = f"the network is {value_text(value, softmax)} sure this is {a_digit(k)}"
    else:
        sure = (
            f"output {k} is at {value:.2f} (a sigmoid activation, not a probability): "
            f"the network calls it {a_digit(k)}"
        )
    return f"{head}: <b>{sure}</b>. Its idea of {a_digit(k)} need not look like one."


def nudge_text(result: probes.NudgeResult) -> str:
    """What a nudge did, in words and the change figures of ``result``."""
    k, n = result.target, result.steps
    if n == 0:
        return f"The input is already classified as {k}: nothing to nudge."
    size = (
        f"the image changed by at most {result.linf:.2f} per pixel "
        f"(mean {result.mean_abs:.3f}, {result.changed_pixels} of {result.image.size} pixels)"
    )
    if not result.reached:
        return (
            f"Gave up after {n} steps: still not {a_digit(k)} (output {k} rose from "
            f"{result.scores[0]:.2f} to {result.scores[-1]:.2f}); {size}."
        )
    steps = "1 step" if n == 1 else f"{n} steps"
    return (
        f"Nudged towards {k}: <b>now {a_digit(k)}</b> after {steps} of \u00b1{NUDGE_STEP}; {size}."
    )
