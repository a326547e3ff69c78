"""The cost panel's status line: steps done, smoothed cost, test accuracy, as room allows.

The step is counted as the status bar counts it: mini-batches done. The
history numbers mini-batches from 0, so after five steps the newest is
number 4 and the line says "step 5" (it said "step 4" while the status bar
said "step 5"). When the panel is narrow the line drops its less important
parts rather than running under the buttons beside it.
"""

from __future__ import annotations

from nnviz.gui.panels.cost.history import CostHistory

NO_TRAINING = "no training yet: press Train"


def steps_done(history: CostHistory) -> int:
    """Mini-batches done: one more than the newest step's number (steps count from 0)."""
    return int(history.steps.view[-1]) + 1 if len(history) else 0


def status_texts(history: CostHistory) -> tuple[list[str], str]:
    """The status line from longest to shortest, and its tooltip."""
    if not len(history):
        return [NO_TRAINING, "no training yet"], ""
    done = steps_done(history)
    smoothed = float(history.smoothed.values[-1])
    step, cost = f"step {done:,}", f"smoothed {smoothed:.3g}"
    tip = [f"smoothed cost after {done:,} steps: {smoothed:.6g}"]
    if not len(history.accuracies):
        return [f"{step} · {cost}", step], tip[0]
    epoch, accuracy = int(history.eval_epochs.view[-1]), float(history.accuracies.view[-1])
    test = f"test {accuracy:.1%}"
    tip.append(f"test accuracy after epoch {epoch}: {accuracy:.2%}")
    return [f"{step} · {cost} · {test}", f"{step} · {test}", step], "\n".join(tip)
