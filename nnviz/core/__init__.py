"""nnviz.core: the NumPy library under nnviz (no Qt)."""
