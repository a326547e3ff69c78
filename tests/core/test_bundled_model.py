"""The bundled model and drawn input: what the app relies on at first start."""

from __future__ import annotations

import numpy as np
import pytest

from nnviz.core import datasets
from nnviz.core.modelio import load_model
from nnviz.core.preprocess import preprocess_drawing
from nnviz.core.trainer import evaluate
from nnviz.paths import bundled_model_path


def test_bundled_model_is_the_lessons_net_at_96_percent(mnist: datasets.Dataset) -> None:
    net, meta = load_model(bundled_model_path())
    assert net.sizes == (784, 16, 16, 10)
    assert meta["preset"] == "modern"
    result = evaluate(net, mnist.test_x, mnist.test_y)
    assert result.accuracy >= 0.96
    assert result.accuracy == pytest.approx(meta["test_accuracy"], abs=1e-4)
    assert len(meta["history"]) == meta["epochs_trained"] <= 30


def _on_canvas(digit: np.ndarray, scale: float, rng: np.random.Generator) -> np.ndarray:
    """A 28x28 digit scaled by ``scale`` (bilinear) and pasted at a random spot of 400x400."""
    size = round(28 * scale)
    coords = (np.arange(size) + 0.5) / scale - 0.5
    i0 = np.clip(np.floor(coords).astype(int), 0, 27)
    i1 = np.clip(i0 + 1, 0, 27)
    t = np.clip(coords - i0, 0, 1)
    rows = digit[i0] * (1 - t)[:, None] + digit[i1] * t[:, None]
    big = rows[:, i0] * (1 - t)[None, :] + rows[:, i1] * t[None, :]
    canvas = np.zeros((400, 400), dtype=np.float32)
    top, left = rng.integers(0, 400 - size, 2)
    canvas[top : top + size, left : left + size] = big
    return canvas


def test_moved_and_rescaled_digits_are_classified_like_the_originals(
    mnist: datasets.Dataset,
) -> None:
    net, _ = load_model(bundled_model_path())
    rng = np.random.default_rng(0)
    pick = rng.choice(len(mnist.test_x), 1000, replace=False)
    originals = mnist.test_x[pick]
    labels = mnist.test_y[pick]
    drawn = np.stack(
        [
            preprocess_drawing(_on_canvas(img.reshape(28, 28), rng.uniform(3, 10), rng)).ravel()
            for img in originals
        ]
    )
    original_accuracy = np.mean(net.predict(originals) == labels)
    drawn_accuracy = np.mean(net.predict(drawn) == labels)
    assert original_accuracy > 0.95
    assert abs(drawn_accuracy - original_accuracy) <= 0.02
