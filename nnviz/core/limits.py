"""The network sizes the app supports, and a refusal in plain words beyond them.

The app keeps many copies of the parameters at once: the trainer's (the
parameters, the momentum buffer, the weight-decay mask, the gradient and a
scratch vector), a snapshot copy per frame on each side of the pipe, the
window's network and its undo steps, and the loss surface's path (up to
128 MB), plane directions and fitted points. Every layer's activations are
computed for the 10,000 test images at each evaluation, and the loss
surface's first-layer products for its images. A network whose parameters
or layers are too large makes all of that slow and large, so the toolbar,
model files and saved settings are all checked against the same limits.
The core itself trains networks of any size (``nnviz train`` does not ask).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from nnviz.core.errors import ConfigError

#: Most neurons in one hidden layer.
MAX_WIDTH = 1024
#: Most hidden layers.
MAX_HIDDEN_LAYERS = 6
#: Most parameters (weights and biases): 8 MB per float32 copy.
MAX_PARAMETERS = 2_000_000


def parameter_count(sizes: Sequence[int]) -> int:
    """Weights and biases of a fully connected network with layer ``sizes``."""
    return sum((n_in + 1) * n_out for n_in, n_out in itertools.pairwise(sizes))


def check_sizes(sizes: Sequence[int]) -> None:
    """Refuse a network the app does not support, saying why and what it does support.

    Raises
    ------
    ConfigError
        Too many hidden layers, a hidden layer too wide, or too many parameters.
    """
    name = "-".join(str(s) for s in sizes)
    hidden = list(sizes[1:-1])
    if len(hidden) > MAX_HIDDEN_LAYERS:
        raise ConfigError(
            f"a {name} network has {len(hidden)} hidden layers; nnviz supports up to "
            f"{MAX_HIDDEN_LAYERS}"
        )
    if any(width > MAX_WIDTH for width in hidden):
        raise ConfigError(
            f"a {name} network has a hidden layer of {max(hidden):,} neurons; nnviz supports "
            f"up to {MAX_WIDTH:,} per layer (the window draws every neuron, and the loss "
            "surface keeps every layer's activations for thousands of images)"
        )
    count = parameter_count(sizes)
    if count > MAX_PARAMETERS:
        raise ConfigError(
            f"a {name} network has {count:,} parameters ({count * 4 / 1e6:,.0f} MB per "
            f"copy); nnviz supports up to {MAX_PARAMETERS:,}: it keeps dozens of copies at "
            "once across training, the window and the loss surface"
        )
