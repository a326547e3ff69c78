"""Input probes: transformations, the input gradient, nudging and dreaming."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from nnviz.core import datasets
from nnviz.core.errors import ConfigError
from nnviz.core.modelio import load_model
from nnviz.core.network import ACTIVATIONS, COSTS, Network
from nnviz.core.probes import (
    CHANGE_TOLERANCE,
    add_noise,
    compare,
    dream,
    input_gradient,
    nudge_towards,
    rotate,
    shift,
)
from nnviz.paths import bundled_model_path


@pytest.fixture(scope="module")
def bundled() -> Network:
    return load_model(bundled_model_path())[0]


def digit(mnist: datasets.Dataset, i: int) -> np.ndarray:
    return np.asarray(mnist.test_x[i], dtype=np.float64)


def random_image(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random(784)


# ---------------------------------------------------------------- transformations


def test_add_noise_is_seeded_clipped_and_leaves_the_input_alone() -> None:
    x = random_image()
    x_before = x.copy()
    noisy = add_noise(x, 0.3, seed=5)
    assert noisy.shape == (784,) and noisy.dtype == np.float64
    assert noisy.min() >= 0 and noisy.max() <= 1
    np.testing.assert_array_equal(noisy, add_noise(x, 0.3, seed=5))
    assert not np.array_equal(noisy, add_noise(x, 0.3, seed=6))
    np.testing.assert_array_equal(add_noise(x, 0.0), x)
    np.testing.assert_array_equal(x, x_before)
    inside = (noisy > 0) & (noisy < 1)
    assert np.std(noisy[inside] - x[inside]) == pytest.approx(0.3, rel=0.25)


def test_shift_moves_whole_pixels_with_zero_fill() -> None:
    img = random_image(1).reshape(28, 28)
    for dy, dx in [(0, 0), (3, 0), (0, -2), (-5, 7), (27, -27)]:
        out = shift(img.ravel(), dy, dx).reshape(28, 28)
        expected = np.zeros((28, 28))
        for r, c in itertools.product(range(28), range(28)):
            if 0 <= r - dy < 28 and 0 <= c - dx < 28:
                expected[r, c] = img[r - dy, c - dx]
        np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(shift(img.ravel(), 28, 0), 0.0)
    np.testing.assert_array_equal(shift(img.ravel(), 0, -40), 0.0)


def test_rotate_by_0_90_180_360_degrees() -> None:
    img = random_image(2).reshape(28, 28)
    np.testing.assert_array_equal(rotate(img.ravel(), 0), img.ravel())
    np.testing.assert_allclose(rotate(img.ravel(), 90).reshape(28, 28), np.rot90(img), atol=1e-12)
    np.testing.assert_allclose(
        rotate(img.ravel(), -90).reshape(28, 28), np.rot90(img, -1), atol=1e-12
    )
    np.testing.assert_allclose(
        rotate(img.ravel(), 180).reshape(28, 28), img[::-1, ::-1], atol=1e-12
    )
    np.testing.assert_allclose(rotate(img.ravel(), 360), img.ravel(), atol=1e-12)


def reference_rotation(img: np.ndarray, degrees: float) -> np.ndarray:
    """Counter-clockwise on screen: output pixel (r, c) reads the inversely rotated spot."""
    t, c0 = np.radians(degrees), 13.5
    out = np.zeros((28, 28))
    for r, c in itertools.product(range(28), range(28)):
        u, v = c - c0, c0 - r
        col = c0 + np.cos(t) * u + np.sin(t) * v
        row = c0 - (-np.sin(t) * u + np.cos(t) * v)
        r0, q0 = int(np.floor(row)), int(np.floor(col))
        for rr, cc in itertools.product((r0, r0 + 1), (q0, q0 + 1)):
            if 0 <= rr < 28 and 0 <= cc < 28:
                weight = (1 - abs(row - rr)) * (1 - abs(col - cc))
                out[r, c] += weight * img[rr, cc]
    return out


def test_rotate_is_bilinear_about_the_centre_with_zero_fill(mnist: datasets.Dataset) -> None:
    x = digit(mnist, 0)
    out = rotate(x, 30)
    assert out.min() >= 0 and out.max() <= 1
    img = x.reshape(28, 28)
    rows, cols = np.mgrid[0:28, 0:28]

    def centre(a: np.ndarray) -> np.ndarray:
        mass = float(a.sum())
        return np.array([(rows * a).sum() / mass, (cols * a).sum() / mass])

    # the digit sits away from the border: ink and its centre of mass move with the rotation
    assert out.sum() == pytest.approx(x.sum(), rel=0.02)
    t = np.radians(30)
    u, v = centre(img)[1] - 13.5, 13.5 - centre(img)[0]
    expected_col, expected_row = (
        13.5 + np.cos(t) * u - np.sin(t) * v,
        13.5 - (np.sin(t) * u + np.cos(t) * v),
    )
    np.testing.assert_allclose(centre(out.reshape(28, 28)), [expected_row, expected_col], atol=0.1)
    # every output pixel against a pixel-by-pixel bilinear reference, zero outside
    np.testing.assert_allclose(out.reshape(28, 28), reference_rotation(img, 30), atol=1e-12)
    noise = random_image(4).reshape(28, 28)
    np.testing.assert_allclose(
        rotate(noise.ravel(), -117).reshape(28, 28), reference_rotation(noise, -117), atol=1e-12
    )
    corner = np.zeros((28, 28))
    corner[0, 0] = 1.0
    np.testing.assert_array_equal(rotate(corner.ravel(), 45), 0.0)  # rotated out of the frame


def test_transformations_reject_bad_input() -> None:
    with pytest.raises(ConfigError, match="shape"):
        shift(np.zeros((28, 28)), 1, 1)
    with pytest.raises(ConfigError, match="shape"):
        rotate(np.zeros(100), 10)
    with pytest.raises(ConfigError, match="strength"):
        add_noise(np.zeros(784), -0.1)
    with pytest.raises(ConfigError, match="angle"):
        rotate(np.zeros(784), float("nan"))


def test_compare_reports_the_prediction_before_and_after(
    bundled: Network, mnist: datasets.Dataset
) -> None:
    x = digit(mnist, 3)
    result = compare(bundled, x, rotate(x, 180))
    np.testing.assert_allclose(result.before_probs, bundled.output(x)[0], atol=1e-6)
    np.testing.assert_allclose(result.after_probs, bundled.output(rotate(x, 180))[0], atol=1e-6)
    assert result.before_label == int(bundled.predict(x)[0]) == mnist.test_y[3]
    assert result.changed == (result.before_label != result.after_label)
    same = compare(bundled, x, shift(x, 0, 0))
    assert not same.changed and same.before_label == same.after_label


# ---------------------------------------------------------------- the input gradient


def score(net: Network, x: np.ndarray, k: int) -> float:
    out = net.output(x)[0]
    return float(np.log(out[k]) if net.cost == "cross_entropy" else out[k])


@pytest.mark.parametrize(("activation", "cost"), list(itertools.product(ACTIVATIONS, COSTS)))
def test_input_gradient_against_finite_differences(activation: str, cost: str) -> None:
    net = Network((784, 16, 16, 10), activation, cost, seed=4, init="scaled", dtype=np.float64)
    x, k, eps = random_image(3), 6, 1e-6
    grad = input_gradient(net, x, k)
    assert grad.shape == (784,) and grad.dtype == np.float64
    for i in range(0, 784, 13):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        numeric = (score(net, up, k) - score(net, down, k)) / (2 * eps)
        assert grad[i] == pytest.approx(numeric, rel=1e-5, abs=1e-10)


def test_input_gradient_of_the_bundled_model(bundled: Network, mnist: datasets.Dataset) -> None:
    net64, x, eps = bundled.copy(np.float64), digit(mnist, 5), 1e-6
    for k in (0, int(mnist.test_y[5])):
        grad = input_gradient(bundled, x, k)
        for i in (100, 300, 406, 500):
            up, down = x.copy(), x.copy()
            up[i] += eps
            down[i] -= eps
            numeric = (score(net64, up, k) - score(net64, down, k)) / (2 * eps)
            assert grad[i] == pytest.approx(numeric, rel=1e-5, abs=1e-10)


def test_input_gradient_rejects_bad_class_and_shape(bundled: Network) -> None:
    with pytest.raises(ConfigError, match="class"):
        input_gradient(bundled, np.zeros(784), 10)
    with pytest.raises(ConfigError, match="input"):
        input_gradient(bundled, np.zeros(28), 1)


# ---------------------------------------------------------------- nudging


def test_nudge_raises_the_class_probability_monotonically_for_small_steps(
    bundled: Network, mnist: datasets.Dataset
) -> None:
    for i in range(12):
        x, k = digit(mnist, i), (int(mnist.test_y[i]) + 1 + i % 9) % 10
        result = nudge_towards(bundled, x, k, step=0.001, max_steps=10)
        assert np.all(np.diff(result.scores) > 0), i


def test_nudge_flips_most_real_digits(bundled: Network, mnist: datasets.Dataset) -> None:
    reached = 0
    for i in range(40):
        x, k = digit(mnist, i), (int(mnist.test_y[i]) + 3) % 10
        r = nudge_towards(bundled, x, k)
        reached += r.reached
        assert r.image.min() >= 0 and r.image.max() <= 1
        assert r.scores.shape == (r.steps + 1,) and r.scores[-1] > r.scores[0]
        assert r.reached == (int(np.argmax(r.probs_after)) == k) == (r.steps < 500 or r.reached)
        np.testing.assert_allclose(r.probs_after, bundled.output(r.image)[0], atol=1e-5)
        np.testing.assert_allclose(r.probs_before, bundled.output(x)[0], atol=1e-5)
        assert r.scores[0] == pytest.approx(r.probs_before[k]) and r.scores[-1] == r.probs_after[k]
        change = r.image - x
        assert r.linf == pytest.approx(np.abs(change).max()) and r.linf <= 0.01 * r.steps + 1e-12
        assert r.l2 == pytest.approx(np.linalg.norm(change))
        assert r.mean_abs == pytest.approx(np.abs(change).mean())
        assert r.changed_pixels == np.count_nonzero(np.abs(change) > CHANGE_TOLERANCE)
    assert reached >= 36


def test_nudge_of_a_quadratic_net_uses_the_output_activation(mnist: datasets.Dataset) -> None:
    net = Network(seed=1)  # sigmoid outputs
    x = digit(mnist, 7)
    k = (int(np.argmax(net.output(x)[0])) + 1) % 10
    r = nudge_towards(net, x, k, step=0.002, max_steps=5)
    np.testing.assert_allclose(r.scores, [net.output(r.original)[0][k], *r.scores[1:]], rtol=1e-5)
    assert np.all(np.diff(r.scores) > 0)


def test_nudge_edge_cases(bundled: Network, mnist: datasets.Dataset) -> None:
    x = digit(mnist, 0)
    label = int(mnist.test_y[0])
    already = nudge_towards(bundled, x, label)
    assert already.steps == 0 and already.reached and already.changed_pixels == 0
    np.testing.assert_array_equal(already.image, x)
    none = nudge_towards(bundled, x, (label + 1) % 10, max_steps=0)
    assert none.steps == 0 and not none.reached and none.scores.shape == (1,)
    x_before = x.copy()
    nudge_towards(bundled, x, (label + 2) % 10)
    np.testing.assert_array_equal(x, x_before)
    for kwargs in ({"step": 0.0}, {"step": -1.0}, {"max_steps": -1}, {"max_steps": 2.5}):
        with pytest.raises(ConfigError):
            nudge_towards(bundled, x, 1, **kwargs)


# ---------------------------------------------------------------- dreaming


@pytest.mark.parametrize("start", ["noise", "blank"])
def test_dreams_of_the_bundled_model_are_classified_confidently(
    bundled: Network, start: str
) -> None:
    for k in range(10):
        d = dream(bundled, k, start=start, seed=k)
        assert d.scores.shape == d.objective.shape == (201,)
        assert d.scores[-1] > d.scores[0]
        assert np.all(np.diff(d.scores) >= 0)  # no penalty: G = ln p_k never falls
        assert np.all(np.diff(d.objective) >= 0)
        assert d.image.min() >= 0 and d.image.max() <= 1
        assert d.label == k and d.probs[k] >= 0.9
        np.testing.assert_allclose(d.probs, bundled.output(d.image)[0], atol=1e-5)


def test_dream_start_images_and_seeds(bundled: Network) -> None:
    blank = dream(bundled, 3, steps=5, start="blank")
    np.testing.assert_array_equal(blank.start, 0.0)
    a, b = dream(bundled, 3, steps=5, seed=1), dream(bundled, 3, steps=5, seed=1)
    np.testing.assert_array_equal(a.image, b.image)
    assert not np.array_equal(a.start, dream(bundled, 3, steps=5, seed=2).start)
    zero = dream(bundled, 3, steps=0)
    np.testing.assert_array_equal(zero.image, zero.start)


def test_dream_ink_penalty_dims_the_image(bundled: Network) -> None:
    plain = dream(bundled, 8, seed=3)
    inked = dream(bundled, 8, seed=3, penalty=0.01)
    assert inked.image.mean() < 0.5 * plain.image.mean()
    assert np.all(np.diff(inked.objective) >= 0)
    assert inked.scores[-1] > inked.scores[0] and inked.label == 8


def test_dream_of_a_quadratic_net_raises_the_output_activation() -> None:
    net = Network(seed=2)
    for k in (0, 5):
        d = dream(net, k, steps=100, start="blank")
        assert np.all(np.diff(d.scores) >= 0) and d.scores[-1] > d.scores[0]


def test_dream_rejects_bad_settings(bundled: Network) -> None:
    for kwargs in (
        {"start": "grey"},
        {"rate": 0.0},
        {"penalty": -1.0},
        {"steps": -3},
        {"k": 10},
    ):
        args = {"k": 1, **kwargs}
        with pytest.raises(ConfigError):
            dream(bundled, **args)  # type: ignore[arg-type]
