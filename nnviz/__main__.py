"""``python -m nnviz``: the same as the ``nnviz`` command."""

from nnviz.cli import main

if __name__ == "__main__":  # not when the training process (spawn) imports this module
    raise SystemExit(main())
