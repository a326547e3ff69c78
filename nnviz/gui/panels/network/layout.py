"""Geometry of the network diagram: where nodes, pixels and edges go.

No Qt here, only NumPy: the layout is computed once per architecture, and per
frame :func:`edge_segments` turns the current weights into line segments with a
sign and a magnitude bin. View coordinates have y pointing DOWN (the view box
is inverted) so that the input image's row 0 is at the top, as in MNIST.

Units: the tallest column is about 1.0 high; the input image is a square of
side :data:`IMAGE_SIDE` to the left of the first hidden layer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]

IMAGE_SIDE = 0.5
#: Gap between the input image and the first hidden column, then between columns.
FIRST_GAP, COLUMN_GAP = 0.45, 0.40
#: Height below the columns kept for their captions.
CAPTION_ROOM = 0.155
#: Above this many neurons a layer becomes a compact grid of several sub-columns.
COMPACT_ROWS = 40
MAX_SPACING = 0.065
#: Strongest input pixels drawn per first-layer neuron (never all 784), and
#: about how many input edges in all: a wide first layer gets fewer each.
INPUT_EDGES_PER_NEURON = 4
INPUT_EDGE_BUDGET = 100
#: Layer pairs with more weights than this show only each neuron's strongest
#: few (at most :data:`HIDDEN_EDGES_PER_NEURON`), and at most this many in all.
MAX_DENSE_EDGES = 600
HIDDEN_EDGES_PER_NEURON = 24
#: Magnitude bins of |w| relative to the layer's largest |w|.
N_BINS = 4


@dataclass(frozen=True)
class Layout:
    """Node and pixel positions for one architecture (view coordinates, y down).

    Attributes
    ----------
    sizes
        Neurons per layer, input first.
    image_rect
        ``(x, y, width, height)`` of the 28x28 input image.
    x, y, diameter
        Per node, hidden and output layers concatenated (layer 1 first).
    layer, index
        Per node: the layer (1 = first hidden) and the neuron's index in it.
    starts
        ``starts[l - 1]`` is the node number of neuron 0 of layer ``l``.
    column_x
        Centre x of every column, the input image first.
    bounds
        ``(x0, y0, x1, y1)`` of everything drawn (labels included).
    """

    sizes: tuple[int, ...]
    image_rect: tuple[float, float, float, float]
    x: Array
    y: Array
    diameter: Array
    layer: Array
    index: Array
    starts: tuple[int, ...]
    column_x: tuple[float, ...]
    bounds: tuple[float, float, float, float]

    @property
    def n_nodes(self) -> int:
        """Number of drawn neurons (every layer but the input)."""
        return int(self.x.size)

    def node(self, layer: int, neuron: int) -> int:
        """The node number of ``neuron`` in ``layer`` (1 = first hidden layer)."""
        return self.starts[layer - 1] + neuron

    def image_shape(self) -> tuple[int, int]:
        """``(rows, cols)`` of the input image: 28x28 for MNIST.

        An input size that is not a square fills the rows of a near-square
        image; the pixels left over stay black.
        """
        cols = math.ceil(math.sqrt(self.sizes[0]))
        return math.ceil(self.sizes[0] / cols), cols

    @cached_property
    def pixel_centres(self) -> tuple[Array, Array]:
        """View ``(x, y)`` of the centre of every input pixel, row-major."""
        rows, cols = self.image_shape()
        x0, y0, w, h = self.image_rect
        r, c = np.divmod(np.arange(self.sizes[0]), cols)
        return x0 + (c + 0.5) * w / cols, y0 + (r + 0.5) * h / rows


def column_shape(n: int) -> tuple[int, int, float]:
    """``(sub_columns, rows, spacing)`` of a column of ``n`` neurons."""
    cols = 1 if n <= COMPACT_ROWS else math.ceil(n / COMPACT_ROWS)
    rows = math.ceil(n / cols)
    return cols, rows, min(MAX_SPACING, 0.98 / rows)


def compute_layout(sizes: Sequence[int]) -> Layout:
    """Place the input image and a column per hidden/output layer, left to right."""
    sizes = tuple(int(s) for s in sizes)
    image_rect = (0.0, 0.5 - IMAGE_SIDE / 2, IMAGE_SIDE, IMAGE_SIDE)
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    ds: list[np.ndarray] = []
    layers: list[np.ndarray] = []
    indices: list[np.ndarray] = []
    starts: list[int] = []
    centres: list[float] = [IMAGE_SIDE / 2]
    left = IMAGE_SIDE + FIRST_GAP
    for l, n in enumerate(sizes[1:], start=1):
        cols, rows, spacing = column_shape(n)
        j = np.arange(n)
        col, row = np.divmod(j, rows)
        width = (cols - 1) * spacing
        starts.append(sum(len(a) for a in xs))
        xs.append(left + col * spacing)
        ys.append(0.5 + (row - (rows - 1) / 2) * spacing)
        ds.append(np.full(n, spacing * (0.78 if cols == 1 else 0.86)))
        layers.append(np.full(n, l))
        indices.append(j)
        centres.append(left + width / 2)
        left += width + COLUMN_GAP
    x = np.concatenate(xs)
    right = float(x.max() + ds[-1][0] / 2) + 0.14  # room for the output labels
    return Layout(
        sizes=sizes,
        image_rect=image_rect,
        x=x,
        y=np.concatenate(ys),
        diameter=np.concatenate(ds),
        layer=np.concatenate(layers),
        index=np.concatenate(indices),
        starts=tuple(starts),
        column_x=tuple(centres),
        bounds=(-0.02, -0.02, right, 1.005 + CAPTION_ROOM),
    )


@dataclass(frozen=True)
class Segments:
    """Line segments of the edges for one set of weights.

    ``xy`` is ``(E, 4)``: ``x0, y0, x1, y1`` per edge; ``sign`` is +1/-1 (0 for
    an exact zero weight, which is not drawn); ``bin`` in ``[0, N_BINS)``.
    ``src`` and ``dst`` are the source index (pixel or neuron of the previous
    layer) and the target neuron index; ``layer`` the weight layer (0 = input).
    """

    xy: Array
    sign: Array
    bin: Array
    src: Array
    dst: Array
    layer: Array


def strongest_inputs(w: Array, k: int) -> Array:
    """Indices ``(k, n_out)`` of the ``k`` largest ``|w|`` in every column of ``w``."""
    k = min(k, w.shape[0])
    return np.argpartition(np.abs(w), w.shape[0] - k, axis=0)[-k:]


def input_edges_per_neuron(n_first: int) -> int:
    """How many pixels are drawn into each of the ``n_first`` first-layer neurons."""
    return max(1, min(INPUT_EDGES_PER_NEURON, INPUT_EDGE_BUDGET // n_first))


def layer_edges(w: Array, l: int) -> tuple[Array, Array]:
    """``(src, dst)`` of the edges drawn for weight layer ``l`` (``w`` is ``(n_in, n_out)``).

    Every weight between small hidden layers; otherwise the strongest ``k``
    into each neuron, and of those at most a budget's worth, strongest first
    (a 784-neuron first layer gets its 100 strongest single pixels).
    """
    n_in, n_out = w.shape
    if l > 0 and n_in * n_out <= MAX_DENSE_EDGES:
        src, dst = np.divmod(np.arange(n_in * n_out), n_out)
        return src, dst
    if l == 0:
        k, budget = input_edges_per_neuron(n_out), INPUT_EDGE_BUDGET
    else:
        k, budget = max(1, min(HIDDEN_EDGES_PER_NEURON, MAX_DENSE_EDGES // n_out)), MAX_DENSE_EDGES
    top = strongest_inputs(w, k)  # (k, n_out)
    src, dst = top.ravel(), np.broadcast_to(np.arange(n_out), top.shape).ravel()
    if src.size > budget:
        keep = np.argpartition(np.abs(w[src, dst]), src.size - budget)[-budget:]
        src, dst = src[keep], dst[keep]
    return src, dst


def edge_segments(layout: Layout, weights: Sequence[Array]) -> Segments:
    """Segments, signs and magnitude bins of every drawn edge for ``weights``.

    Magnitudes are binned relative to each layer's largest ``|w|`` (all of its
    weights, drawn or not), so every layer uses the full range of widths.
    """
    px, py = layout.pixel_centres
    parts: list[tuple[Array, ...]] = []
    for l, w in enumerate(weights):
        src, dst = layer_edges(w, l)
        values = w[src, dst]
        if l == 0:
            x0, y0 = px[src], py[src]
        else:
            first = layout.starts[l - 1]
            x0, y0 = layout.x[first + src], layout.y[first + src]
        target = layout.starts[l] + dst
        biggest = float(np.max(np.abs(w))) or 1.0
        bins = np.minimum((np.abs(values) / biggest * N_BINS).astype(np.intp), N_BINS - 1)
        xy = np.stack([x0, y0, layout.x[target], layout.y[target]], axis=1)
        parts.append((xy, np.sign(values).astype(np.int8), bins, src, dst, np.full(src.size, l)))
    xy, sign, bins, src, dst, layer = (np.concatenate(p) for p in zip(*parts, strict=True))
    return Segments(xy, sign, bins, src, dst, layer)


def pairs_xy(xy: Array) -> tuple[Array, Array]:
    """``(x, y)`` arrays for ``PlotCurveItem(connect="pairs")`` from ``(E, 4)`` segments."""
    return xy[:, 0::2].ravel(), xy[:, 1::2].ravel()


def brightness(a: Array, kind: str) -> Array:
    """Fill brightness in [0, 1] for activations ``a`` of one layer.

    ``kind`` is ``"sigmoid"``, ``"softmax"`` (both already in [0, 1]),
    ``"relu"`` (scaled by the layer's largest activation, which has no upper
    bound) or ``"tanh"`` (-1 dark, 0 mid-grey, +1 bright).
    """
    a = np.asarray(a, dtype=np.float64)
    if kind == "relu":
        top = float(a.max(initial=0.0))
        return np.clip(a / top, 0.0, 1.0) if top > 0 else np.zeros_like(a)
    if kind == "tanh":
        return np.clip((a + 1.0) / 2.0, 0.0, 1.0)
    return np.clip(a, 0.0, 1.0)


def layer_kinds(sizes: Sequence[int], activation: str, cost: str) -> list[str]:
    """The brightness kind of every drawn layer (hidden layers, then the output)."""
    output = "softmax" if cost == "cross_entropy" else "sigmoid"
    return [activation] * (len(sizes) - 2) + [output]
