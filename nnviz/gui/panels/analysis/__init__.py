"""The test-set analysis panel: which digits does the network confuse, and which ones exactly?

After every epoch (or on "Analyse now") the 10,000 test digits are evaluated;
the panel shows the confusion matrix with each digit's accuracy, and a
gallery of test digits: the surest mistakes, the least sure right answers, or
the digits of one clicked cell. :mod:`.panel` holds :class:`AnalysisPanel`
(results, selection, the gallery's views, the layout); :mod:`.matrix` draws
the matrix and the accuracy strip; :mod:`.gallery` paints the thumbnails.
"""

from nnviz.gui.panels.analysis.panel import AnalysisPanel

__all__ = ["AnalysisPanel"]
