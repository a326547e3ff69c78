"""What the Backprop panel says: titles, numbers and tooltips in plain words."""

from __future__ import annotations

import html

from nnviz.core.backprop import Nudges, StepResult
from nnviz.gui.panels.network_info import neuron_title, wish_name
from nnviz.gui.state import AppState

MINUS = "\N{MINUS SIGN}"

TARGET_TIP = (
    "The digit the cost wants: the input's true label (a test digit), the\n"
    "network's answer (a drawing has no label), or any digit you pick."
)
SHOW_TIP = (
    "Draw these nudges on the Network panel (arrows at the outputs, halos on hidden neurons)."
)
STEP_TIP = (
    "Apply exactly one plain SGD step (no momentum) on this single example:\n"
    "every weight and bias moves by −η × its gradient of this example's cost.\n"
    "Training is paused; the step is marked on the cost curve."
)
UNDO_TIP = "Put back the parameters from before the last step."
NO_SELECTION = (
    "<i>Click a neuron on the Network panel to see where its wish comes from:<br>"
    "the sum of what every neuron of the next layer wants from it.</i>"
)


def signed(value: float, digits: int = 4) -> str:
    """``+0.0123`` or the same with a real minus sign (U+2212) for negatives."""
    text = f"{value:+.3g}" if abs(value) < 1e-3 and value else f"{value:+.{digits}f}"
    return text.replace("-", MINUS)


def way(value: float) -> str:
    """Which way a wish points."""
    return "wants up" if value > 0 else "wants down" if value < 0 else "content"


def cost_formula(cost: str, target: int) -> str:
    """The cost of one example, as a formula."""
    if cost == "quadratic":
        return "Σ (a − y)², quadratic"
    return f"{MINUS}ln a<sub>{target}</sub>, cross-entropy"


def auto_target_text(label: int | None, answer: int) -> str:
    """The combo box's first item: what "automatic" aims at now."""
    return f"true label ({label})" if label is not None else f"network's answer ({answer})"


def summary_html(state: AppState, result: Nudges) -> str:
    """One line about the example: its label, the answer, the target and the cost."""
    outputs = result.a[-1]
    answer = int(outputs.argmax())
    label = state.label
    source = f"a test digit, true label {label}" if label is not None else "a drawing (no label)"
    return (
        f"<b>This example</b>: {source} · the network says {answer} "
        f"(a = {outputs[answer]:.3f})<br>"
        f"Target <b>{result.target}</b> · its cost C = <b>{result.cost:.4g}</b> "
        f"({cost_formula(state.net.cost, result.target)})"
    )


def content_note(result: Nudges, bound: float) -> str:
    """A remark when the outputs' wishes are too small to see (the network is right)."""
    if float(abs(result.wish_out).max()) >= 0.02 * bound:
        return ""
    a = float(result.a[-1][result.target])
    return f"almost nothing to change:\nthe network already gives {result.target}\na = {a:.3f}"


def wish_title(cost: str) -> str:
    """Title of the output wishes' bars."""
    name = wish_name(1, 1, cost)
    return f"Desired change of each output: {name}"


def sources_title(layer: int, n_layers: int) -> str:
    """Title of the breakdown of a hidden neuron's wish."""
    nxt = "output k" if layer + 1 == n_layers else f"neuron k of layer {layer + 1}"
    return f"Its wish = Σ<sub>k</sub> {MINUS}w<sub>kj</sub>·δ<sub>k</sub>: a bar per {nxt}"


def sent_title(j: int, layer: int) -> str:
    """Title of what an output neuron wants from each neuron of the layer below."""
    below = "pixel" if layer == 1 else f"neuron k of layer {layer - 1}"
    return f"What output {j} wants from each {below}: {MINUS}w<sub>jk</sub>·δ<sub>j</sub>"


def gradient_title(layer: int, n_layers: int) -> str:
    """Title of the bars of a neuron's weight changes."""
    if layer == 1:
        return f"Its weights w and their wish {MINUS}∂C/∂w = {MINUS}δ·x"
    return f"Its weights' wish {MINUS}∂C/∂w = {MINUS}δ·a (a: hidden layer {layer - 1})"


def neuron_html(result: Nudges, layer: int, j: int, cost: str, eta: float) -> str:
    """The selected neuron: activation, wish, delta and its bias gradient."""
    L = result.n_layers
    a, wish = float(result.a[layer][j]), float(result.wish(layer)[j])
    delta = float(result.delta[layer][j])
    title = html.escape(neuron_title(layer, j, L))
    how = "a − y" if layer == L and cost != "quadratic" else "f′(z)·∂C/∂a"
    how = "∂C/∂z = " + how if layer == L else how
    return (
        f"<b>{title}</b>: a = {a:.4f} · wish {wish_name(layer, L, cost)} = "
        f"<b>{signed(wish)}</b> ({way(wish)})<br>"
        f"δ = {how} = {signed(delta)} = ∂C/∂b; the step moves b by "
        f"{MINUS}η·δ = {signed(-eta * delta)}"
    )


def step_title(step: StepResult, undone: bool) -> str:
    """Title of the before/after bars."""
    text = f"One step towards {step.target}: cost {step.cost_before:.3g} → {step.cost_after:.3g}"
    return text + "<br><i>undone</i>" if undone else text + "<br>grey = before, colour = after"
