"""Mini-batch stochastic gradient descent, stepped from outside.

A :class:`Trainer` owns a network, the training data and the optimiser state.
``trainer.step(n)`` runs ``n`` mini-batches and returns their costs; the GUI
worker and the command line both drive it that way. Nothing here knows about
threads: settings change between calls through :meth:`Trainer.configure`.

The update (``eta`` the learning rate, ``mu`` the momentum, ``lam`` the L2
weight decay, applied to weights but not biases)::

    g = dC/dtheta + lam * mask * theta       # C: mean cost of the mini-batch
    v = mu * v - eta * g
    theta = theta + v

With ``mu = 0`` this is plain SGD, ``theta -= eta * g``.

A step whose cost or update is not a finite number raises
:class:`~nnviz.core.errors.DivergenceError` and is not applied. A run can blow
up long before that (the cost shooting up while still finite, or the neurons
saturating): :class:`nnviz.core.health.Guard` watches for that and goes back to
the last healthy parameters.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, NoReturn

import numpy as np
import numpy.typing as npt

from nnviz.core.errors import ConfigError, DivergenceError, plain_number
from nnviz.core.network import Network, check_choice

Array = npt.NDArray[Any]

SCHEDULES: tuple[str, ...] = ("constant", "cosine")


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser settings. Any of them may change between steps.

    Attributes
    ----------
    learning_rate
        ``eta``, the step size (peak value for the cosine schedule).
    batch_size
        Examples per mini-batch.
    momentum
        ``mu`` in [0, 1); 0 is plain SGD.
    weight_decay
        ``lam`` >= 0, the L2 penalty ``lam/2 * |W|^2`` on weights (not biases).
    schedule
        ``"constant"`` or ``"cosine"``: ``eta_t = eta/2 * (1 + cos(pi t/T))``
        over ``epochs`` epochs (``T`` steps), then ``eta_T = 0``.
    epochs
        Planned length of the run; the horizon of the cosine schedule.
    seed
        Seed of the shuffling; epoch ``e`` uses the permutation drawn from
        ``default_rng([seed, e])``, so the same seed gives the same run.
    """

    learning_rate: float = 1.5
    batch_size: int = 10
    momentum: float = 0.0
    weight_decay: float = 0.0
    schedule: str = "constant"
    epochs: int = 30
    seed: int = 0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.learning_rate) and self.learning_rate > 0):
            raise ConfigError(f"learning rate must be a positive number, got {self.learning_rate}")
        if int(self.batch_size) != self.batch_size or self.batch_size < 1:
            raise ConfigError(f"batch size must be a positive integer, got {self.batch_size}")
        if not 0.0 <= self.momentum < 1.0:
            raise ConfigError(f"momentum must lie in [0, 1), got {self.momentum}")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ConfigError(f"weight decay must be >= 0, got {self.weight_decay}")
        check_choice("learning-rate schedule", self.schedule, SCHEDULES)
        if int(self.epochs) != self.epochs or self.epochs < 1:
            raise ConfigError(f"epochs must be a positive integer, got {self.epochs}")


@dataclass(frozen=True)
class StepReport:
    """What :meth:`Trainer.step` did.

    Attributes
    ----------
    costs
        Mean cost of each mini-batch, in order, float64 ``(n,)``.
    first_step
        Global index (0-based) of the first of these mini-batches.
    learning_rates
        Learning rate used for each mini-batch.
    epochs_completed
        Epoch numbers (1-based) that ended during these steps.
    """

    costs: Array
    first_step: int
    learning_rates: Array
    epochs_completed: tuple[int, ...] = ()


@dataclass(frozen=True)
class Evaluation:
    """Cost and accuracy of the network on a labelled data set.

    Attributes
    ----------
    cost
        Mean cost, with the network's own cost function.
    accuracy
        Fraction of examples whose most active output is the label.
    confusion
        ``(k, k)`` integer counts; row = true label, column = prediction.
    outputs
        ``(n, k)`` output activations, for galleries of mistakes.
    labels
        ``(n,)`` the true labels.
    """

    cost: float
    accuracy: float
    confusion: Array
    outputs: Array = field(repr=False)
    labels: Array = field(repr=False)

    @property
    def predictions(self) -> Array:
        """The predicted class of every example."""
        return np.argmax(self.outputs, axis=1)


def evaluate(net: Network, x: npt.ArrayLike, labels: npt.ArrayLike) -> Evaluation:
    """Evaluate ``net`` on a data set: cost, accuracy and confusion matrix."""
    cost, outputs = net.evaluate(x, labels)
    lab = np.asarray(labels).astype(np.intp)
    k = net.sizes[-1]
    predictions = np.argmax(outputs, axis=1)
    confusion = np.bincount(lab * k + predictions, minlength=k * k).reshape(k, k)
    accuracy = float(np.mean(predictions == lab)) if len(lab) else 0.0
    return Evaluation(cost, accuracy, confusion, outputs, lab)


class Trainer:
    """Mini-batch SGD with momentum, weight decay and schedules; stepped from outside.

    Parameters
    ----------
    net
        The network to train (its ``theta`` is updated in place).
    train_x, train_y
        Training images ``(n, sizes[0])`` and integer labels ``(n,)``.
    config
        Optimiser settings (:class:`TrainConfig`).
    test_x, test_y
        Optional test set for :meth:`evaluate`.
    """

    def __init__(
        self,
        net: Network,
        train_x: npt.ArrayLike,
        train_y: npt.ArrayLike,
        config: TrainConfig | None = None,
        test_x: npt.ArrayLike | None = None,
        test_y: npt.ArrayLike | None = None,
    ) -> None:
        self.net = net
        self.train_x = net.check_input(train_x)
        self.train_y = net.check_labels(train_y, len(self.train_x))
        if len(self.train_x) == 0:
            raise ConfigError("the training set is empty")
        self.test_x = None if test_x is None else net.check_input(test_x)
        self.test_y = None
        if test_y is not None and self.test_x is not None:
            self.test_y = net.check_labels(test_y, len(self.test_x))
        self.config = config or TrainConfig()
        self.step_count = 0  # mini-batches done
        self.epoch = 0  # epochs completed
        self.position = 0  # examples of the current epoch done
        self.samples_seen = 0
        self._order = self._permutation(0)
        self._velocity = np.zeros_like(net.theta)
        self._decay = np.zeros_like(net.theta)  # lam on weights, 0 on biases
        self._scratch = np.empty_like(net.theta)
        self._set_decay_mask()

    # ------------------------------------------------------------------ settings
    def configure(self, **changes: Any) -> TrainConfig:
        """Change settings between steps without resetting anything.

        Accepts the fields of :class:`TrainConfig` (``learning_rate``,
        ``batch_size``, ``momentum``, ...). The epoch, the position in it, the
        momentum buffer and the parameters are kept. Changing ``seed`` affects
        the shuffling of the following epochs.
        """
        unknown = set(changes) - {f.name for f in dataclasses.fields(TrainConfig)}
        if unknown:
            raise ConfigError(f"unknown training setting(s): {', '.join(sorted(unknown))}")
        self.config = dataclasses.replace(self.config, **changes)
        self._set_decay_mask()
        return self.config

    def _set_decay_mask(self) -> None:
        net = self.net
        for l, block in enumerate(net.blocks):
            mask = self._decay[net.offsets[l] : net.offsets[l + 1]].reshape(block.shape)
            mask[:, :-1] = self.config.weight_decay  # weights
            mask[:, -1] = 0.0  # biases

    @property
    def steps_per_epoch(self) -> int:
        """Mini-batches in one epoch at the current batch size."""
        return math.ceil(len(self.train_x) / self.config.batch_size)

    def learning_rate_at(self, step: int) -> float:
        """The scheduled learning rate for global mini-batch ``step``."""
        cfg = self.config
        if cfg.schedule == "constant":
            return cfg.learning_rate
        horizon = cfg.epochs * self.steps_per_epoch
        progress = min(step / horizon, 1.0)
        return 0.5 * cfg.learning_rate * (1.0 + math.cos(math.pi * progress))

    @property
    def finished(self) -> bool:
        """Whether the planned number of epochs is complete."""
        return self.epoch >= self.config.epochs

    def _permutation(self, epoch: int) -> Array:
        return np.random.default_rng([self.config.seed, epoch]).permutation(len(self.train_x))

    # ------------------------------------------------------------------ training
    def step(self, n: int = 1, stop_at_epoch_end: bool = False) -> StepReport:
        """Run ``n`` mini-batches (fewer if ``stop_at_epoch_end`` and the epoch ends).

        Raises
        ------
        DivergenceError
            When a mini-batch cost or the update is NaN or infinite. That
            mini-batch is not applied (the parameters from before it are kept,
            the momentum buffer is cleared); the error carries the costs of the
            mini-batches completed before it in this call as ``costs``.
        """
        first = self.step_count
        costs = np.empty(n)
        rates = np.empty(n)
        ended: list[int] = []
        done = 0
        while done < n:
            rates[done] = eta = self.learning_rate_at(self.step_count)
            costs[done] = self._one_step(eta, costs[:done])
            done += 1
            if self.position >= len(self.train_x):
                self._next_epoch()
                ended.append(self.epoch)
                if stop_at_epoch_end:
                    break
        return StepReport(costs[:done], first, rates[:done], tuple(ended))

    def step_epoch(self) -> StepReport:
        """Run the mini-batches left in the current epoch."""
        left = math.ceil((len(self.train_x) - self.position) / self.config.batch_size)
        return self.step(left, stop_at_epoch_end=True)

    def upcoming_batches(self, n: int) -> list[Array]:
        """Indices of the next ``n`` mini-batches of this epoch (fewer at its end)."""
        bs, start = self.config.batch_size, self.position
        stops = range(start, min(start + n * bs, len(self.train_x)), bs)
        return [self._order[i : i + bs] for i in stops]

    def _next_epoch(self) -> None:
        self.epoch += 1
        self.position = 0
        self._order = self._permutation(self.epoch)

    def _one_step(self, eta: float, previous_costs: Array) -> float:
        net, cfg = self.net, self.config
        idx = self._order[self.position : self.position + cfg.batch_size]
        x, labels = self.train_x[idx], self.train_y[idx]
        ws = net.workspace(len(idx))
        cost = net.backprop(x, labels, ws, eta / len(idx)) / len(idx)
        step = ws.grad  # eta * dC/dtheta, to be subtracted from theta
        if cfg.weight_decay:
            np.multiply(self._decay, net.theta, out=self._scratch)
            self._scratch *= eta
            step += self._scratch
        if cfg.momentum:
            self._velocity *= cfg.momentum
            self._velocity -= step
            np.negative(self._velocity, out=step)
        # vdot is NaN or inf exactly when some entry is (or the step is absurdly large)
        if not math.isfinite(cost):
            self._diverged(cost, "the cost", previous_costs)
        if not math.isfinite(float(np.vdot(step, step))):
            self._diverged(cost, "the change of the weights", previous_costs)
        np.subtract(net.theta, step, out=net.theta)
        self.step_count += 1
        self.position += len(idx)
        self.samples_seen += len(idx)
        return cost

    def _diverged(self, cost: float, what: str, previous_costs: Array) -> NoReturn:
        self.clear_momentum()  # undo this step's change of the velocity
        eta = self.learning_rate_at(self.step_count)
        raise DivergenceError(
            f"training diverged at step {self.step_count + 1}: {what} grew too large for "
            f"the computer to hold, with learning rate {plain_number(eta)}. Each step "
            "overshot the valley of the cost and made the weights larger, until the numbers "
            "overflowed. That step was not applied and the parameters from before it are "
            "kept; lower the learning rate.",
            step=self.step_count,
            cost=cost,
            costs=previous_costs.tolist(),
        )

    def clear_momentum(self) -> None:
        """Forget the velocity ``v`` (set it to 0), e.g. after replacing the parameters."""
        self._velocity[...] = 0.0

    def resume(self, step: int, epoch: int, position: int, samples_seen: int) -> None:
        """Go on counting from a point of an earlier run of the same network and settings.

        The step, the epoch, the position in it (examples done) and the samples
        seen are taken over, and epoch ``epoch``'s shuffle order is drawn again
        from the seed, so the next mini-batch is the one that run would have
        trained next. The momentum buffer starts at 0.
        """
        if min(step, epoch, position, samples_seen) < 0:
            raise ConfigError(
                f"a run cannot be resumed at step {step}, epoch {epoch}, position {position}"
            )
        self.step_count, self.epoch, self.samples_seen = step, epoch, samples_seen
        self.position = min(position, len(self.train_x))
        self._order = self._permutation(epoch)
        if self.position >= len(self.train_x):
            self._next_epoch()
        self.clear_momentum()

    # ------------------------------------------------------------------ evaluation
    def evaluate(
        self, x: npt.ArrayLike | None = None, y: npt.ArrayLike | None = None
    ) -> Evaluation:
        """Evaluate on the test set (or on ``x``, ``y``)."""
        if x is None:
            if self.test_x is None or self.test_y is None:
                raise ConfigError("no test set was given to this trainer")
            x, y = self.test_x, self.test_y
        if y is None:
            raise ConfigError("labels are needed to evaluate")
        return evaluate(self.net, x, y)
