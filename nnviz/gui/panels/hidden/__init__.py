"""The hidden-neuron panel ("What neurons see"): one picture per neuron, with a saturation bar.

Layer 1 shows the first-layer weights, a deeper layer its neurons' effective
images (their weights pushed back through the layers below, a linear view);
under each picture a bar tells how often the neuron sits in a flat part of its
activation. :mod:`.panel` holds :class:`HiddenPanel` (layer and scale
choice, refreshes, hover and selection); :mod:`.mosaic` draws the tiles,
plates, outline and colour bar; :mod:`.saturation` the bars, their sample
of training images and their words.
"""

from nnviz.gui.panels.hidden.panel import HiddenPanel

__all__ = ["HiddenPanel"]
