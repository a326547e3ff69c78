"""The panels of the main window: one package per panel, and what they share.

Each package's ``__init__`` names its panel class and says which of its
modules does what: :mod:`.network`, :mod:`.canvas`, :mod:`.cost`,
:mod:`.weights`, :mod:`.hidden`, :mod:`.backprop`, :mod:`.probes`,
:mod:`.analysis` and :mod:`.surface`. Shared by all of them: :mod:`.plots`
(how a plot is set up: palette, stillness, ranges that follow data, and the
one way to put text on a plot), :mod:`.words` (a line of text that says the
longest of its wordings that fits) and :mod:`.visibility` (when a panel does
its drawing: not while out of sight, not all at once).
"""
