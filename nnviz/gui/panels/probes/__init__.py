"""The input-probes panel: poke the current input and watch the prediction change.

Noise, a shift or a rotation, a nudge towards a digit or a dream of one: the
panel shows the input and the probed image side by side with their change,
the ten outputs before and after, and a sentence about what the probe found.
:mod:`.panel` holds :class:`ProbesPanel` (runs the probes, the slow ones in a
background thread, and shows their results); :mod:`.layout` builds its
widgets; :mod:`.pictures` are the before/after images, change and bars;
:mod:`.summary` says in words what a probe did.
"""

from nnviz.gui.panels.probes.panel import ProbesPanel

__all__ = ["ProbesPanel"]
