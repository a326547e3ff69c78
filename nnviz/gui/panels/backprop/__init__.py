"""The backprop panel: the lessons' chapter 3 for the current input, live and touchable.

For the input and a target digit it shows what backpropagation computes: how
the cost wants each output to move, where the selected neuron's wish comes
from, how its incoming weights want to change, and one plain SGD step on this
example with the outputs before and after. :mod:`.panel` holds
:class:`BackpropPanel` (the controls, the backward pass, step and undo, the
layout); :mod:`.wishes` the wishes' words and pictures (signed bars with
their sum, the weight image beside its wish); :mod:`.step` the step's bars
and words.
"""

from nnviz.gui.panels.backprop.panel import BackpropPanel

__all__ = ["BackpropPanel"]
