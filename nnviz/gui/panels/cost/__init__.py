"""The cost panel: the training curve, the test results of every epoch, settings changes.

Every mini-batch's cost is kept and drawn, raw and smoothed, at the same cost
after a thousand steps or a million; test cost and accuracy (on its own
axis) mark each epoch, dashed lines each change of the settings.
:mod:`.panel` holds :class:`CostPanel` (the plot, following the run or
zoomed, the status line, CSV export); :mod:`.history` the NumPy buffers it
draws from (growing arrays, the moving average, a min/max pyramid; no Qt).
"""

from nnviz.gui.panels.cost.panel import CostPanel

__all__ = ["CostPanel"]
