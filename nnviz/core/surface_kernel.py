"""The fast kernel of loss-surface cost grids: many points of one plane at once.

:func:`nnviz.core.surface.cost_grid` checks its inputs, chooses the chunk
sizes and drives a :class:`GridKernel` row by row.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import numpy.typing as npt

from nnviz.core.network import Network
from nnviz.core.planes import Plane

__all__ = ["GridKernel"]

Array = npt.NDArray[Any]


class GridKernel:
    """The cost on one plane and one image set, for many points ``(a, b)`` at once.

    With ``theta = c + a d1 + b d2`` every layer block is ``B_c + a B_1 + b B_2``.
    The first layer's pre-activations ``B(a, b) [x; 1]`` are therefore
    ``S_c + a S_1 + b S_2`` with ``S_k = B_k [x; 1]`` computed once per image; a
    batch of points costs one product with inner dimension 3 for that layer,
    and batched products with per-point weights for the small layers.

    A sigmoid is evaluated as ``(1 + tanh(z/2)) / 2``; the factors 1/2 are folded
    into the (linear) blocks, so a sigmoid layer costs one ``tanh``: the block
    of a sigmoid layer is halved, and a block fed by sigmoid outputs
    ``s = (1 + t)/2`` gets weights ``W/2`` and biases ``b + W 1/2``. The
    quadratic cost of sigmoid outputs ``(1 + t)/2`` is then
    ``sum_k (t_k + 1 - 2 y_k)**2 / 4``. Same maths as :class:`Network`,
    different float32 rounding.

    Parameters
    ----------
    net
        The network, float32 (its parameters are not read: the plane's are).
    plane
        The plane of the grid points.
    x, labels
        ``(n, sizes[0])`` float32 images and their ``(n,)`` class indices.
    image_chunk
        Images per pass (keeps the pass's buffers in cache).
    work_bytes
        Size of the largest activation buffer of one pass; sets how many
        grid points share a pass.
    """

    def __init__(
        self,
        net: Network,
        plane: Plane,
        x: Array,
        labels: Array,
        image_chunk: int,
        work_bytes: int,
    ) -> None:
        self.net, self.n = net, len(x)
        self.stacks = [self._stack(plane, l) for l in range(net.n_layers)]  # (3, out, in+1)
        first = self.stacks[0].astype(np.float32).reshape(-1, net.sizes[0] + 1)
        self.images = []  # (S (3, n1 * m), labels (m,), 1 - 2 y (k, m)) per chunk of m
        for start in range(0, len(x), image_chunk):
            xs, ys = x[start : start + image_chunk], labels[start : start + image_chunk]
            s = first[:, :-1] @ xs.T + first[:, -1:]  # (3 n1, m)
            shift = np.ones((net.sizes[-1], len(ys)), dtype=np.float32)
            shift[ys, np.arange(len(ys))] = -1.0
            self.images.append((s.reshape(3, -1), ys, shift))
        per_point = max(image_chunk * (size + 1) * 4 for size in net.sizes[1:])
        self.batch = max(1, work_bytes // per_point)  # grid points per pass
        self._local = threading.local()  # buffers per thread: rows may run in parallel

    def _stack(self, plane: Plane, l: int) -> Array:
        net = self.net
        cols = slice(net.offsets[l], net.offsets[l + 1])
        stack = np.stack([v[cols] for v in (plane.origin, plane.d1, plane.d2)])
        stack = stack.reshape(3, *net.blocks[l].shape)
        if l > 0 and net.activation == "sigmoid":  # input s = (1 + t) / 2
            stack[..., -1] += 0.5 * stack[..., :-1].sum(axis=-1)
            stack[..., :-1] *= 0.5
        last = l == net.n_layers - 1
        if (not last and net.activation == "sigmoid") or (last and net.cost == "quadratic"):
            stack *= 0.5  # sigmoid(z) = (1 + tanh(z/2)) / 2
        return stack

    def row(self, a_values: Array, b: float) -> Array:
        """Mean cost at ``(a, b)`` for every ``a`` in ``a_values``, float64.

        Safe to call from several threads at once (each has its own buffers).
        """
        coef = np.stack([np.ones_like(a_values), a_values, np.full_like(a_values, b)], axis=1)
        coef32 = coef.astype(np.float32)
        total = np.zeros(len(a_values))
        for i in range(0, len(a_values), self.batch):
            part = slice(i, i + self.batch)
            # (points, out, in + 1) per layer after the first, for this batch of points
            # only: for wide layers all of a row's points at once took hundreds of MB
            weights = [
                (coef[part] @ s.reshape(3, -1)).astype(np.float32).reshape(-1, *s.shape[1:])
                for s in self.stacks[1:]
            ]
            for s, ys, shift in self.images:
                total[part] += self._pass(coef32[part], weights, s, ys, shift)
        return total / self.n

    def _pass(self, coef: Array, weights: list[Array], s: Array, ys: Array, shift: Array) -> Array:
        """Summed cost over one chunk of images for a batch of points."""
        sizes, p, m = self.net.sizes, len(coef), len(ys)
        bufs = self._buffers(p, m)
        out = bufs[0][:, : sizes[1] * m]  # (p, n1 m) view skipping the row of ones
        np.matmul(coef, s, out=out)
        for l, w in enumerate(weights, start=1):
            self._hidden(out)
            prev = bufs[l - 1].reshape(p, sizes[l] + 1, m)
            out = bufs[l].reshape(p, -1, m)[:, : sizes[l + 1]]
            np.matmul(w, prev, out=out)
        return self._cost(out.reshape(p, sizes[-1], m), ys, shift)

    def _buffers(self, p: int, m: int) -> list[Array]:
        """Per layer ``(p, (n + 1) m)``: activations with a last row of ones, reused."""
        cache: dict[tuple[int, int], list[Array]] = self._local.__dict__.setdefault("bufs", {})
        bufs = cache.get((p, m))
        if bufs is None:
            bufs = [np.ones((p, (n + 1) * m), dtype=np.float32) for n in self.net.sizes[1:]]
            cache[(p, m)] = bufs
        return bufs

    def _hidden(self, z: Array) -> None:
        if self.net.activation == "relu":
            np.maximum(z, np.float32(0), out=z)
        else:  # tanh, or a sigmoid with its factors 1/2 folded into the blocks
            np.tanh(z, out=z)

    def _cost(self, z: Array, ys: Array, shift: Array) -> Array:
        """Summed cost per point from output pre-activations ``z (p, k, m)``."""
        if self.net.cost == "quadratic":
            np.tanh(z, out=z)
            z += shift  # t + 1 - 2 y
            np.square(z, out=z)
            per_image: Array = z.sum(axis=1)  # 4 x the cost of each example
            return 0.25 * np.sum(per_image, axis=1, dtype=np.float64)
        top = z.max(axis=1)  # (p, m)
        picked = z[:, ys, np.arange(len(ys))]  # z of the right class
        z -= top[:, None, :]
        np.exp(z, out=z)
        lse: Array = np.log(z.sum(axis=1)) + top - picked  # -ln softmax of the right class
        return np.sum(lse, axis=1, dtype=np.float64)
