"""The weight-image panel: what each first-layer neuron "looks for" in the 28x28 input.

A neuron's 784 weights form an image: blue where a bright pixel excites it,
red where it inhibits it. :mod:`.panel` holds :class:`WeightsPanel` (the
mosaic of every neuron's image, its scale, hover and selection);
:mod:`.tiles` the pieces it shares with the hidden-neuron panel: the grid's
shape, the number plates and the colour bar.
"""

from nnviz.gui.panels.weights.panel import WeightsPanel

__all__ = ["WeightsPanel"]
