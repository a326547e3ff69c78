"""A guard around a :class:`~nnviz.core.trainer.Trainer`: it notices a run that went wrong.

``guard.step(n)`` trains like ``trainer.step(n)`` and also returns a
:class:`Trouble` when the run diverged or stalled; the parameters of the last
healthy check are then back in the network, so lowering the learning rate and
training on works. Everything is counted in mini-batches, never in seconds: the
same seed gives the same run, with or without the guard.

Checkpoint
    One copy of ``theta`` (the only extra memory besides 500 probe images, 1.5
    MB). :meth:`Guard.check` runs a forward pass of the probe images -- the
    first 50 training images of each class, so that a network that always
    answers the same class scores exactly 10% -- and measures their mean cost,
    the accuracy and, for each hidden layer (and the sigmoid outputs of the
    quadratic cost), how many neurons are saturated (:data:`SATURATION`) on
    every probe image. It takes 0.36-0.6 ms for 784-16-16-10 (a mini-batch
    step takes 0.04-0.07 ms) and pushes the training data out of the caches:
    a check every 250 mini-batches slowed training by 10%, every 1000 by about
    3%, so :meth:`Guard.step` checks every 1000; the app checks twice a second
    on top. The
    parameters become the new checkpoint when the probe cost is at most
    ``healthy = 1.5`` times ``R = max(chance cost, checkpoint cost)`` and the
    network is not stuck (below). The chance cost is that of answering ``1/k``
    for every class: ``ln 10 = 2.30`` for cross-entropy, 0.9 for the quadratic
    cost.

Diverged (cross-entropy)
    The mean cost of the last ``window = 5`` mini-batches (or the probe cost)
    passes ``blowup = 10`` times ``R`` (23 once the net beats chance), or the
    trainer raises :class:`~nnviz.core.errors.DivergenceError` (a cost or
    update that is not finite). Measured on MNIST, 784-16-16-10, three seeds:
    the largest mean of 5 costs over ``R`` in 6000 steps was 1.00 for the
    modern preset at learning rate 0.1, 1.04 at 0.3, 1.19 at 1, 0.97 with tanh
    at 0.1 (1.95 with tanh at 0.3, a run that does not learn). Runs that blow
    up pass 10 at once: from scratch (``R = 2.5``) the mean of the modern
    preset's costs at learning rate 1000 is 117 at step 2 (costs 2.7, 232,
    1214, ...), at 100 it is 37 at step 3, at 30 it is 31 at step 9; the guard
    looks at every window of 5, so it reports steps 2, 3 and 9. After 300 steps at
    0.1, a switch to 1000 is reported 5 steps later (cost from 0.79 to 2989), a
    switch to 10 after 10-15 steps. A factor of 5 would also call modern at 10
    from scratch diverged (its cost wanders between 8 and 14, 4-6 ``R``; found
    after 70-235 steps); it is reported as stalled instead. A factor of 20 is
    slower: 30-45 steps at learning rate 30. The guard looks at the costs after
    every ``look_every = 25`` mini-batches, so a few more may run before it
    does. The quadratic cost with sigmoid outputs is at most ``k`` and cannot
    blow up: it stalls.

Stalled
    A check finds a layer with at least ``stuck = 75%`` of its neurons
    saturated on every probe image while the probe accuracy is at most
    ``near_chance / k`` (20%), and checks keep finding it for ``patience =
    500`` mini-batches. Measured with a check every 100 steps over 6000 steps,
    three seeds: no run that learns was stuck for more than 100 steps in a row.
    The closest is classic at learning rate 10: in its first 300 steps 7 to 9
    of its 10 outputs are saturated at 10% accuracy, then it reaches 71-88%
    (with a 50% threshold that stretch lasts 300 steps). An untrained network
    has no stuck neuron (classic: 52% of the first layer's activations are
    saturated, but no neuron on every image) and a trained one is far above
    chance. Runs that do not learn: classic at 20, 100 and 1000 (all 10 outputs
    stuck, cost 1.0 or 1.8, accuracy 10-16%; at 1000 all of hidden layer 2 too)
    are reported at step 750 when checked every 250 steps (checks at 250, 500
    and 750; 2000 with the default check every 1000, sooner in the app, which
    also checks twice a second), from scratch or 750 steps after a switch;
    modern at 10 (all of hidden layer 2 stuck, cost 7-13) at 750; modern at 2
    and 3 after 750-2250 steps; ReLU 32-32 at 0.1 with
    momentum 0.9 after 1750-2250 (30 of 32 ReLUs of hidden layer 2 dead, 15%
    right; unguarded it diverges at step 3796); tanh at 0.3 after 1250-2500.
    The guard goes back to the last healthy checkpoint here too.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from nnviz.core.errors import ConfigError, DivergenceError, plain_number
from nnviz.core.network import Network, Workspace
from nnviz.core.trainer import StepReport, Trainer

Array = npt.NDArray[Any]

#: A neuron is saturated on an image when the derivative of its activation is
#: below this fraction of its peak: sigmoid ``a(1 - a) < 0.01 * 1/4`` (``|z| > 6``),
#: tanh ``1 - a**2 < 0.01`` (``|z| > 3``), ReLU ``a = 0``.
SATURATION = 0.01

#: What to do, the last sentence of every message (the app's wording).
DEFAULT_ADVICE = "Lower the learning rate and press Train, or press Reset to start again."


@dataclass(frozen=True)
class Trouble:
    """A run that went wrong, and what the guard did about it.

    Attributes
    ----------
    kind
        ``"diverged"`` (the cost shot up or overflowed) or ``"stalled"``
        (saturated neurons, accuracy near chance).
    step
        The mini-batch count at which it happened (the run diverged after
        mini-batch ``step``), or of the check that found it. The trainer may
        have run a few more mini-batches (at most ``look_every - 1``) before the
        guard looked.
    restored_step
        The step whose parameters were put back.
    message
        What happened, what nnviz did and what to do, in plain words.
    """

    kind: str
    step: int
    restored_step: int
    message: str


@dataclass(frozen=True)
class Health:
    """One look at the network through the probe images.

    Attributes
    ----------
    step
        ``trainer.step_count`` when it was measured.
    cost
        Mean cost on the probe images.
    accuracy
        Fraction of the probe images classified right.
    stuck
        For each watched layer (the hidden layers, then the output layer when
        it is sigmoid, i.e. for the quadratic cost): how many of its neurons
        are saturated (:data:`SATURATION`) on every probe image.
    units
        The number of neurons of each watched layer.
    """

    step: int
    cost: float
    accuracy: float
    stuck: tuple[int, ...]
    units: tuple[int, ...]

    @property
    def worst_layer(self) -> int:
        """Index (into ``stuck``) of the layer with the largest stuck fraction."""
        return int(np.argmax(np.divide(self.stuck, self.units))) if self.units else -1

    @property
    def stuck_fraction(self) -> float:
        """The largest fraction of stuck neurons in any watched layer (0 if none)."""
        l = self.worst_layer
        return self.stuck[l] / self.units[l] if self.units else 0.0


def chance_cost(net: Network) -> float:
    """The cost of a network that knows nothing and outputs ``1/k`` for every class.

    ``ln k`` for cross-entropy (2.30 for 10 classes), ``(k - 1)/k`` for the
    quadratic cost (0.9).
    """
    k = net.sizes[-1]
    return math.log(k) if net.cost == "cross_entropy" else (k - 1) / k


def probe_indices(labels: Array, n_classes: int, per_class: int) -> Array:
    """The first ``per_class`` examples of each class, in data-set order."""
    picks = [np.flatnonzero(labels == k)[:per_class] for k in range(n_classes)]
    return np.sort(np.concatenate(picks))


def watched_layers(net: Network) -> list[str]:
    """The activation of each layer whose saturation is measured (see :class:`Health`)."""
    kinds = [net.activation] * (net.n_layers - 1)
    return [*kinds, "sigmoid"] if net.cost == "quadratic" else kinds


def stuck_units(activation: str, a: Array) -> int:
    """How many rows (neurons) of ``a`` (neurons, images) are saturated on every image."""
    if activation == "relu":
        saturated = a <= 0
    elif activation == "tanh":
        saturated = 1 - a * a < SATURATION
    else:
        saturated = 4 * a * (1 - a) < SATURATION
    return int(np.count_nonzero(saturated.all(axis=1)))


def probe_cost(net: Network, ws: Workspace, labels: Array) -> float:
    """Mean cost of the batch whose forward pass is in ``ws`` (see :mod:`network`).

    For softmax, :meth:`Network.forward_into` leaves ``z - max z`` in
    ``ws.z[-1]`` and ``ln sum exp(z - max z)`` in ``ws.lse``, so that
    ``-ln a_y = lse - (z_y - max z)`` does not underflow.
    """
    if net.cost == "cross_entropy":
        return float(np.mean(ws.lse - ws.z[-1][labels, ws.columns], dtype=np.float64))
    diff = ws.a[-1].astype(np.float64)
    diff[labels, ws.columns] -= 1.0
    return float(np.vdot(diff, diff)) / ws.n


class Probe:
    """A fixed set of training images and the forward pass that measures :class:`Health`.

    Parameters
    ----------
    trainer
        Its training images and labels are used.
    per_class
        Images of each class (the first ones of the training set), so that a
        network that always answers the same class scores exactly ``1/k``.
    """

    def __init__(self, trainer: Trainer, per_class: int) -> None:
        idx = probe_indices(trainer.train_y, trainer.net.sizes[-1], per_class)
        self.x = trainer.train_x[idx]
        self.labels = trainer.train_y[idx]

    def __len__(self) -> int:
        return len(self.labels)

    def measure(self, net: Network, step: int) -> Health:
        """A forward pass of the probe images through ``net``; allocates little."""
        ws = net.workspace(len(self.labels))
        net.forward_into(self.x, ws)
        right = np.argmax(ws.a[-1], axis=0) == self.labels
        kinds = watched_layers(net)
        stuck = tuple(stuck_units(kind, ws.a[l]) for l, kind in enumerate(kinds))
        units = tuple(net.sizes[1 : len(kinds) + 1])
        cost = probe_cost(net, ws, self.labels)
        return Health(step, cost, float(np.mean(right)), stuck, units)


class Guard:
    """Runs a trainer; when the run blows up or stalls, goes back to healthy parameters.

    The rules and their thresholds are explained (with the measurements that
    chose them) in the module docstring; every one is a keyword here.

    Parameters
    ----------
    trainer
        The trainer to guard. Its current parameters are the first checkpoint
        (assumed healthy).
    per_class
        Probe images per class (500 in all for MNIST).
    check_every
        :meth:`step` runs :meth:`check` after this many mini-batches.
    look_every
        :meth:`step` runs at most this many mini-batches in one go before the
        blow-up rule looks at their costs (each look has a small cost: looking
        after every 5 took 6% of the training time, after every 25 about 2%).
    window
        Mini-batches whose mean cost is compared with the blow-up limit; also
        the longest stretch :meth:`step` runs without looking at the costs.
    blowup
        Cross-entropy only: the run diverged when the mean cost of the last
        ``window`` mini-batches (or the probe cost) passes ``blowup * R``,
        ``R`` the larger of :func:`chance_cost` and the checkpoint's cost.
    healthy
        A check becomes the new checkpoint only if its probe cost is at most
        ``healthy * R`` (and the network is not stuck, below).
    stuck
        A layer with at least this fraction of its neurons saturated on every
        probe image is stuck ...
    near_chance
        ... and while one is and the probe accuracy is at most
        ``near_chance / k`` (twice chance), the network is not learning ...
    patience
        ... which is reported as stalled once checks have seen it for this many
        mini-batches in a row.
    advice
        The last sentence of every message: what the user should do.

    Attributes
    ----------
    trainer : Trainer
        The guarded trainer.
    probe : Probe
        The probe images.
    last : Health
        The latest measurement (of a check or a rebase).
    peak_rate : float
        The largest learning rate used since the checkpoint.
    calm : tuple of (int, float)
        Step and cost of the last mini-batch (or check) whose cost was at most
        ``healthy * R``: where "the cost shot up from" in a message.
    """

    def __init__(
        self,
        trainer: Trainer,
        *,
        per_class: int = 50,
        check_every: int = 1000,
        look_every: int = 25,
        window: int = 5,
        blowup: float = 10.0,
        healthy: float = 1.5,
        stuck: float = 0.75,
        near_chance: float = 2.0,
        patience: int = 500,
        advice: str = DEFAULT_ADVICE,
    ) -> None:
        counts = (per_class, check_every, look_every, window, patience)
        if min(counts) < 1 or min(blowup, healthy) < 1:
            raise ConfigError("the guard's counts must be >= 1 and its factors >= 1")
        self.trainer = trainer
        self.probe = Probe(trainer, per_class)
        self.check_every, self.look_every = check_every, look_every
        self.patience, self.advice = patience, advice
        self.blowup, self.healthy = blowup, healthy
        self.stuck, self.near_chance = stuck, near_chance
        self.chance = chance_cost(trainer.net)
        self._theta = trainer.net.theta.copy()  # the checkpoint: the one extra copy
        self._recent: deque[float] = deque(maxlen=window)  # the last mini-batch costs
        self._stuck_since: int | None = None  # step of the first check of a stuck stretch
        self._checked = trainer.step_count  # step of the last check
        self._saved: Health  # the checkpoint's health; rebase() sets these four
        self.last: Health
        self.peak_rate: float
        self.calm: tuple[int, float]
        self.rebase()

    # ------------------------------------------------------------------ state
    @property
    def checkpoint(self) -> Health:
        """The health of the checkpoint (its step, cost and accuracy)."""
        return self._saved

    @property
    def reference_cost(self) -> float:
        """``R``: the larger of the chance cost and the checkpoint's cost."""
        return max(self.chance, self._saved.cost)

    def rebase(self) -> None:
        """Take the current parameters as the checkpoint and forget the recent history.

        For parameters replaced from outside (a single-example step, an undo, a
        loaded model).
        """
        health = self.probe.measure(self.trainer.net, self.trainer.step_count)
        self.last = health
        self._save(health)
        self._forget()

    def _save(self, health: Health) -> None:
        np.copyto(self._theta, self.trainer.net.theta)
        self._saved = health
        self.peak_rate = 0.0
        self.calm = (health.step, health.cost)

    def _forget(self) -> None:
        self._recent.clear()
        self._stuck_since = None
        self._checked = self.trainer.step_count

    # ------------------------------------------------------------------ training
    def step(
        self, n: int = 1, stop_at_epoch_end: bool = False
    ) -> tuple[StepReport, Trouble | None]:
        """Run up to ``n`` mini-batches, watching their costs and checking every so often.

        The trainer runs ``look_every`` mini-batches at a time (fewer where a
        check is due: :meth:`check` runs every ``check_every`` of them); then
        the blow-up rule looks at every window of their costs. A run that blew
        up part-way through is caught at the mini-batch where it did (the few
        after it ran too and are reported; the checkpoint is put back all the
        same).

        Parameters
        ----------
        n
            Mini-batches to run.
        stop_at_epoch_end
            Stop early when the epoch ends, as :meth:`Trainer.step` does.

        Returns
        -------
        report : StepReport
            The mini-batches that ran (all ``n`` unless the epoch ended with
            ``stop_at_epoch_end`` or there was trouble), with their finite costs.
        trouble : Trouble or None
            Set when the run diverged or stalled. The parameters of the last
            healthy check are then back in ``trainer.net.theta`` and the
            momentum is cleared; ``step_count`` keeps counting.
        """
        first, done = self.trainer.step_count, 0
        parts: list[StepReport] = []
        trouble: Trouble | None = None
        while done < n and trouble is None:
            report, trouble = self._chunk(self._chunk_size(n - done), stop_at_epoch_end)
            parts.append(report)
            done += len(report.costs)
            if stop_at_epoch_end and report.epochs_completed:
                break
        return _joined(parts, first), trouble

    def _chunk_size(self, left: int) -> int:
        due = self._checked + self.check_every - self.trainer.step_count
        return max(1, min(left, due, self.look_every))

    def _chunk(self, size: int, stop_at_epoch_end: bool) -> tuple[StepReport, Trouble | None]:
        trainer = self.trainer
        first, epoch = trainer.step_count, trainer.epoch
        try:
            report = trainer.step(size, stop_at_epoch_end)
        except DivergenceError as exc:  # a cost or update that is not finite
            rates = np.array([trainer.learning_rate_at(s) for s in range(first, exc.step + 1)])
            report = StepReport(
                np.asarray(exc.costs, dtype=np.float64),
                first,
                rates[:-1],
                tuple(range(epoch + 1, trainer.epoch + 1)),
            )
            self._record(report.costs, first, rates)
            return report, self._diverged(math.inf, trainer.step_count)
        costs, rates = report.costs, report.learning_rates
        means = self._window_means(costs)
        bad = np.flatnonzero(means > self.blowup * self.reference_cost)
        if len(bad):  # blown up at mini-batch first + bad[0]
            end = int(bad[0]) + 1
            self._record(costs[:end], first, rates[:end])
            return report, self._diverged(float(means[bad[0]]), first + end)
        self._record(costs, first, rates)
        trouble = None
        if trainer.step_count - self._checked >= self.check_every:
            trouble = self.check()
        return report, trouble

    def _record(self, costs: Array, first: int, rates: Array) -> None:
        """Remember the costs (and the rates) of mini-batches ``first, first + 1, ...``."""
        if len(rates):
            self.peak_rate = max(self.peak_rate, float(rates.max()))
        self._recent.extend(costs[-(self._recent.maxlen or 1) :].tolist())
        sane = np.flatnonzero(costs <= self.healthy * self.reference_cost)
        if len(sane):
            self.calm = (first + int(sane[-1]), float(costs[sane[-1]]))

    def _window_means(self, costs: Array) -> Array:
        """The blow-up rule's figure after each of these mini-batches: the mean cost of
        the last ``window`` ones (fewer just after a checkpoint); all 0 for a cost
        that cannot blow up (the quadratic cost is bounded: it saturates instead)."""
        if self.trainer.net.cost != "cross_entropy":
            return np.zeros(len(costs))
        held = len(self._recent)
        x = np.concatenate([np.fromiter(self._recent, float, held), costs])
        total = np.concatenate([[0.0], np.cumsum(x)])
        ends = np.arange(held + 1, len(x) + 1)  # windows ending at each new mini-batch
        starts = np.maximum(0, ends - (self._recent.maxlen or 1))
        means: Array = (total[ends] - total[starts]) / (ends - starts)
        return means

    # ------------------------------------------------------------------ checks
    def check(self) -> Trouble | None:
        """A health check of the current parameters on the probe images.

        Healthy parameters become the new checkpoint. Does nothing (returns
        None) when no mini-batch ran since the last check, trouble or rebase.
        A forward pass of the probe images: about 0.4 ms for 784-16-16-10.
        """
        if self.trainer.step_count == self._checked:
            return None
        self._checked = self.trainer.step_count
        self.last = health = self.probe.measure(self.trainer.net, self.trainer.step_count)
        limit = self.reference_cost
        if not math.isfinite(health.cost) or (
            self.trainer.net.cost == "cross_entropy" and health.cost > self.blowup * limit
        ):
            return self._diverged(health.cost, health.step)
        if self._is_stuck(health):
            return self._stalled(health)
        self._stuck_since = None
        if health.cost <= self.healthy * limit:
            self._save(health)
        return None

    def _is_stuck(self, health: Health) -> bool:
        k = self.trainer.net.sizes[-1]
        return health.stuck_fraction >= self.stuck and health.accuracy <= self.near_chance / k

    def _stalled(self, health: Health) -> Trouble | None:
        if self._stuck_since is None:
            self._stuck_since = health.step
        if health.step - self._stuck_since < self.patience:
            return None
        return self._fail("stalled", stalled_text(self, health), health.step)

    # ------------------------------------------------------------------ trouble
    def _diverged(self, cost: float, step: int) -> Trouble:
        return self._fail("diverged", diverged_text(self, cost, step), step)

    def _fail(self, kind: str, what: str, step: int) -> Trouble:
        trainer, saved = self.trainer, self._saved
        message = (
            f"{what} nnviz went back to the parameters of step {saved.step}, whose cost "
            f"was {plain_number(saved.cost)}. {self.advice}"
        ).strip()
        trouble = Trouble(kind, step, saved.step, message)
        trainer.net.theta[...] = self._theta
        trainer.clear_momentum()
        self.peak_rate = 0.0
        self._forget()
        return trouble


# ---------------------------------------------------------------------- messages
def diverged_text(guard: Guard, cost: float, step: int) -> str:
    """What happened, for a run whose cost shot up to ``cost`` by ``step`` (not finite:
    the next mini-batch overflowed)."""
    calm_step, calm_cost = guard.calm
    if math.isfinite(cost):
        what = (
            f"the cost shot up from {plain_number(calm_cost)} to {plain_number(cost)} in "
            f"{_steps(step - calm_step)}"
        )
    else:  # the step after the last one overflowed
        what = (
            f"within {_steps(step + 1 - calm_step)} the numbers grew larger than the computer "
            f"can hold (the cost was {plain_number(calm_cost)} before)"
        )
    return (
        f"Training diverged at step {step}: {what}. With {_rate_phrase(guard)} each step "
        "overshoots: it jumps right across the valley of the cost and lands higher up on "
        "the other side, so the cost grows instead of falling."
    )


def _steps(n: int) -> str:
    return "1 step" if n == 1 else f"{n} steps"


def stalled_text(guard: Guard, health: Health) -> str:
    """What happened, for a run whose neurons saturated (``health``)."""
    return (
        f"Training stalled at step {guard.trainer.step_count}: "
        f"{_stuck_phrase(guard.trainer.net, health)} on every one of {len(guard.probe)} "
        "training images, so almost no gradient flows back through them and the network "
        f"has stopped learning: it gets {health.accuracy:.0%} of those images right, no "
        f"better than guessing. The steps are too large ({_rate_phrase(guard)}): they threw "
        "the weights so far that the neurons sit on the flat parts of their activation, "
        "where its slope is 0."
    )


def _rate_phrase(guard: Guard) -> str:
    """``"learning rate 1000 and momentum 0.9"``, with the largest rate since the checkpoint."""
    trainer = guard.trainer
    rate = guard.peak_rate or trainer.learning_rate_at(trainer.step_count)
    momentum = trainer.config.momentum
    extra = f" and momentum {plain_number(momentum)}" if momentum else ""
    return f"learning rate {plain_number(rate)}{extra}"


def _stuck_phrase(net: Network, health: Health) -> str:
    """``"all 16 neurons of hidden layer 2 are stuck at 0 or 1"``, for the worst layer."""
    l = health.worst_layer
    stuck, units = health.stuck[l], health.units[l]
    count = f"all {units}" if stuck == units else f"{stuck} of the {units}"
    layer = "output neurons" if l == net.n_layers - 1 else f"neurons of hidden layer {l + 1}"
    kind = watched_layers(net)[l]
    if kind == "relu":
        return f"{count} {layer} are dead (a ReLU that outputs 0)"
    return f"{count} {layer} are stuck at {'-1 or 1' if kind == 'tanh' else '0 or 1'}"


def _joined(parts: list[StepReport], first: int) -> StepReport:
    """One report for consecutive reports."""
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return StepReport(np.zeros(0), first, np.zeros(0))
    return StepReport(
        np.concatenate([p.costs for p in parts]),
        first,
        np.concatenate([p.learning_rates for p in parts]),
        tuple(e for p in parts for e in p.epochs_completed),
    )
