"""The loss-surface panel: the SGD path on a 2-D slice of the cost landscape, live.

A worker fits a plane through parameter space to the path training takes and
computes the exact cost on a grid of it; the panel renders what comes back
and says how far to trust it. :mod:`.panel` holds :class:`SurfacePanel`
(results in, settings out, hint and hover read-out, the layout);
:mod:`.toolbar` its controls; :mod:`.map` the heatmap with contours, colour
bar and the path; :mod:`.grid` the numbers behind the map (contours,
interpolation, log ticks, path thinning; NumPy only); :mod:`.honesty` the
figures in words and the chart of true cost against the surface.
"""

from nnviz.gui.panels.surface.panel import SurfacePanel

__all__ = ["SurfacePanel"]
