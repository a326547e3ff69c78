"""The canvas panel: draw a digit and watch the network classify it.

The drawing is pre-processed like MNIST and becomes the network input; the
panel shows that 28x28 input enlarged, the ten outputs with the winner
highlighted and the answer in words. :mod:`.panel` holds :class:`CanvasPanel`
(buttons, test digits and noise, input and outputs, the layout);
:mod:`.drawing` is the drawing surface (white ink on black); :mod:`.readouts`
the input preview and the output bars.
"""

from nnviz.gui.panels.canvas.panel import CanvasPanel

__all__ = ["CanvasPanel"]
