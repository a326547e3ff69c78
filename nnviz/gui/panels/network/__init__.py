"""The network panel: the lessons' picture of the network, live.

Left to right the 28x28 input, a column of circles per hidden layer and the
outputs: a circle's brightness is the neuron's activation, a line a weight.
:mod:`.panel` holds :class:`NetworkPanel` (the view, the per-frame updates,
hover and selection); :mod:`.layout` computes where nodes, pixels and edges
go (NumPy only); :mod:`.diagram` draws the edges, digit labels and captions;
:mod:`.info` is the box under the diagram (one neuron's numbers and incoming
weights, or how to read the picture); :mod:`.nudges` draws backpropagation's
wishes over the diagram ("Show nudges").
"""

from nnviz.gui.panels.network.panel import NetworkPanel

__all__ = ["NetworkPanel"]
