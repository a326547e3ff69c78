"""nnviz: the 3Blue1Brown neural-network lessons, live on your desktop.

Importing :mod:`nnviz` imports no Qt; the numerical core is :mod:`nnviz.core`.
"""

__version__ = "0.1.0"
