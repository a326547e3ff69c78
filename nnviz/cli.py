"""The ``nnviz`` command: the app, and ``train``, ``classify``, ``bench``, ``data``.

``nnviz`` with no subcommand opens the desktop app. Every subcommand drives
the same :mod:`nnviz.core` the app uses.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nnviz import __version__
from nnviz.core import datasets
from nnviz.core.errors import ModelFileError, NnvizError
from nnviz.core.fileio import check_writable
from nnviz.core.network import ACTIVATIONS, COSTS, INITS
from nnviz.core.trainer import SCHEDULES
from nnviz.engine.runner import ENGINE_MODES

if TYPE_CHECKING:
    from nnviz.core.health import Guard, Trouble
    from nnviz.core.trainer import Trainer

EXIT_ERROR = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``nnviz`` command."""
    parser = argparse.ArgumentParser(
        prog="nnviz",
        description="Draw digits and watch the 3Blue1Brown network classify them and learn "
        "MNIST live. Without a command, the desktop app opens.",
    )
    parser.add_argument("--version", action="version", version=f"nnviz {__version__}")
    parser.add_argument("--model", type=Path, help="app: start with this model file")
    parser.add_argument("--data-dir", type=Path, help="app: folder holding the MNIST files")
    parser.add_argument(
        "--engine",
        choices=ENGINE_MODES,
        default="process",
        help="app: run training and the loss surface in child processes (the default, "
        "fastest) or in threads of the app's process",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_app(sub)
    _add_train(sub)
    _add_classify(sub)
    _add_bench(sub)
    _add_data(sub)
    _add_desktop(sub)
    return parser


def _add_app(sub: Any) -> None:
    p = sub.add_parser("app", help="open the desktop app (the default)")
    # SUPPRESS: "nnviz --model M app" keeps the value given before the command
    p.add_argument(
        "--model",
        type=Path,
        default=argparse.SUPPRESS,
        help="model file to open instead of the bundled one",
    )
    p.add_argument(
        "--data-dir", type=Path, default=argparse.SUPPRESS, help="folder holding the MNIST files"
    )
    p.add_argument("--engine", choices=ENGINE_MODES, default=argparse.SUPPRESS)


def _add_train(sub: Any) -> None:
    p = sub.add_parser(
        "train",
        help="train a network on MNIST in the terminal",
        description="Train on MNIST. Explicit options override the preset's values.",
    )
    p.add_argument("--preset", default="modern", help="classic or modern (default: modern)")
    p.add_argument("--epochs", type=int, help="number of epochs")
    p.add_argument("--batch-size", type=int, help="examples per mini-batch")
    p.add_argument("--lr", type=float, help="learning rate (peak value for cosine)")
    p.add_argument("--momentum", type=float, help="momentum in [0, 1)")
    p.add_argument("--weight-decay", type=float, help="L2 weight decay")
    p.add_argument("--schedule", choices=SCHEDULES, help="learning-rate schedule")
    p.add_argument("--hidden", type=int, nargs="+", metavar="N", help="hidden layer sizes")
    p.add_argument("--activation", choices=ACTIVATIONS, help="hidden activation")
    p.add_argument("--cost", choices=COSTS, help="cost function (and output layer)")
    p.add_argument("--init", choices=INITS, help="initialisation")
    p.add_argument("--seed", type=int, help="seed of initialisation and shuffling")
    p.add_argument("--out", type=Path, help="save the trained model to this .npz file")
    p.add_argument("--data-dir", type=Path, help="folder holding the MNIST files")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_classify(sub: Any) -> None:
    p = sub.add_parser("classify", help="classify a picture of a digit")
    p.add_argument("image", type=Path, help="an image file (PNG, JPEG, ...)")
    p.add_argument("--model", type=Path, help="model .npz (default: the bundled model)")
    p.add_argument("--show", action="store_true", help="print the 28x28 network input")


def _add_bench(sub: Any) -> None:
    p = sub.add_parser("bench", help="measure training and classification speed")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.add_argument("--data-dir", type=Path, help="folder holding the MNIST files")
    p.add_argument("--gui", action="store_true", help="also measure the live desktop app")
    p.add_argument(
        "--engine",
        choices=ENGINE_MODES,
        action="append",
        help="with --gui: the engine mode(s) to measure (default: both)",
    )
    p.add_argument("--quick", action="store_true", help="fewer rounds (less precise)")


def _add_data(sub: Any) -> None:
    p = sub.add_parser("data", help="find, check or download the data sets")
    p.add_argument("action", choices=("path", "verify", "download"))
    p.add_argument("--dataset", choices=tuple(datasets.DATASETS), default="mnist")
    p.add_argument("--dir", type=Path, help="folder to use instead of the lookup order")


def _add_desktop(sub: Any) -> None:
    p = sub.add_parser(
        "desktop-entry",
        help="put nnviz into the desktop's launcher (Linux)",
        description="Write a desktop entry and the icon into the user's data folder "
        "($XDG_DATA_HOME, usually ~/.local/share), so nnviz appears in the launcher.",
    )
    p.add_argument("--remove", action="store_true", help="take the entry and icon away again")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``nnviz`` command; returns the exit code."""
    args = build_parser().parse_args(argv)
    command = args.command or "app"
    try:
        if command == "app":
            return _run_app(args)
        handler = {
            "train": _train,
            "classify": _classify,
            "bench": _bench,
            "data": _data,
            "desktop-entry": _desktop_entry,
        }
        return handler[command](args)
    except NnvizError as exc:
        print(f"nnviz: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("\nnviz: interrupted", file=sys.stderr)
        return 130


def _run_app(args: argparse.Namespace) -> int:
    from nnviz.gui.app import run

    return run(
        model=getattr(args, "model", None),
        data_dir=getattr(args, "data_dir", None),
        engine=getattr(args, "engine", "process"),
    )


# ---------------------------------------------------------------------------- train
def _load_data(folder: Path | None) -> datasets.Dataset:
    return datasets.load_mnist(folder, progress=_download_progress)


def _train(args: argparse.Namespace) -> int:
    from nnviz.core import presets
    from nnviz.core.health import Guard, Trouble
    from nnviz.core.trainer import Trainer

    preset = presets.get_preset(args.preset)
    config = preset.train_config(
        learning_rate=args.lr,
        batch_size=args.batch_size,
        momentum=args.momentum,
        weight_decay=args.weight_decay,
        schedule=args.schedule,
        epochs=args.epochs,
        seed=args.seed,
    )
    hidden = tuple(args.hidden) if args.hidden else presets.DEFAULT_SIZES[1:-1]
    net = preset.network((784, *hidden, 10), config.seed, args.activation, args.cost, args.init)
    if args.out is not None:
        _check_out(args.out)  # before the training, not after it
    data = _load_data(args.data_dir)
    trainer = Trainer(net, data.train_x, data.train_y, config, data.test_x, data.test_y)
    guard = Guard(trainer, advice=TRAIN_ADVICE)
    print(f"nnviz train: {net.describe()}, {net.n_params:,} parameters, preset {preset.name}")
    print(_describe_config(config))
    quiet = args.quiet or not sys.stdout.isatty()  # no bar in logs and pipes
    history: list[dict[str, float]] = []
    outcome, restored = "complete", None
    try:
        for _ in range(config.epochs):
            figures = _train_epoch(guard, quiet=quiet)
            if isinstance(figures, Trouble):  # the healthy parameters are back in net
                print(f"\n{figures.message}", file=sys.stderr)
                outcome, restored = figures.kind, figures.restored_step
                break
            history.append(figures)
    except KeyboardInterrupt:
        print(f"\ninterrupted during epoch {trainer.epoch + 1}", file=sys.stderr)
        outcome = "interrupted"
    if args.out is not None and (history or restored is not None):
        _save_trained(args.out, preset.name, trainer, history, outcome, restored)
    return 0 if outcome == "complete" else EXIT_ERROR


#: The last sentence of the guard's messages in the terminal.
TRAIN_ADVICE = "Run nnviz train again with a lower --lr."


def _save_trained(
    path: Path,
    preset: str,
    trainer: Trainer,
    history: list[dict[str, float]],
    outcome: str,
    restored: int | None,
) -> None:
    """Save the network; after trouble, the healthy parameters the guard put back."""
    from nnviz.core.modelio import save_model

    accuracy = history[-1]["accuracy"] if restored is None else trainer.evaluate().accuracy
    meta = _train_meta(preset, trainer.net.describe(), trainer.config, history, outcome, accuracy)
    what = ""
    if restored is not None:
        meta["restored_step"] = restored
        what = f": the last healthy parameters, those of step {restored}"
    try:
        save_model(path, trainer.net, meta)
    except ModelFileError as exc:  # the disk filled up meanwhile, ...: keep the network
        rescue = _rescue_path(path)
        save_model(rescue, trainer.net, meta)
        print(f"nnviz: error: {exc}; the trained network was saved to {rescue}", file=sys.stderr)
        raise SystemExit(EXIT_ERROR) from exc
    print(f"saved {path}{what} ({outcome}, test accuracy {accuracy:.2%})")


def _check_out(path: Path) -> None:
    try:
        check_writable(path)
    except OSError as exc:
        raise ModelFileError(
            f"{path}: cannot write the model file there ({exc.strerror or exc}); "
            "nothing was trained"
        ) from exc


def _rescue_path(path: Path) -> Path:
    """Where a network goes when ``path`` cannot be written: nnviz's cache, else /tmp."""
    name = f"{path.stem}-{time.strftime('%Y%m%d-%H%M%S')}{path.suffix or '.npz'}"
    for folder in (datasets.user_cache_dir() / "rescued", Path(tempfile.gettempdir())):
        with contextlib.suppress(OSError):
            check_writable(folder / name)
            return folder / name
    return Path(tempfile.gettempdir()) / name


def _describe_config(config: Any) -> str:
    extras = f", momentum {config.momentum:g}" if config.momentum else ""
    if config.weight_decay:
        extras += f", weight decay {config.weight_decay:g}"
    return (
        f"learning rate {config.learning_rate:g} ({config.schedule}), batch size "
        f"{config.batch_size}{extras}, {config.epochs} epochs, seed {config.seed}"
    )


def _train_epoch(guard: Guard, quiet: bool) -> dict[str, float] | Trouble:
    """One epoch with a progress bar; returns its figures, or the trouble that ended it."""
    trainer = guard.trainer
    start = time.perf_counter()
    total = trainer.steps_per_epoch
    done, costs = 0, []
    epoch = trainer.epoch + 1
    while True:
        report, trouble = guard.step(max(total // 40, 1), stop_at_epoch_end=True)
        if trouble is not None:
            return trouble
        done += len(report.costs)
        costs.append(report.costs)
        if not quiet:
            _progress_bar(epoch, done, total, float(report.costs.mean()))
        if report.epochs_completed:
            break
    seconds = time.perf_counter() - start
    ev = trainer.evaluate()
    train_cost = float(np.concatenate(costs).mean())
    line = (
        f"epoch {epoch:3d}  train cost {train_cost:.4f}  test cost {ev.cost:.4f}  "
        f"test accuracy {ev.accuracy:.2%}  ({seconds:.2f} s)"
    )
    print(("\r" if not quiet else "") + line + " " * 8, flush=True)
    return {
        "epoch": epoch,
        "train_cost": train_cost,
        "test_cost": ev.cost,
        "accuracy": ev.accuracy,
        "seconds": seconds,
    }


def _progress_bar(epoch: int, done: int, total: int, cost: float) -> None:
    width = 30
    filled = round(width * done / total)
    bar = "#" * filled + "-" * (width - filled)
    sys.stdout.write(f"\repoch {epoch:3d} [{bar}] {done}/{total}  cost {cost:.4f}")
    sys.stdout.flush()


def _train_meta(
    preset: str,
    description: str,
    config: Any,
    history: list[dict[str, float]],
    outcome: str,
    accuracy: float,
) -> dict[str, Any]:
    import dataclasses

    return {
        "preset": preset,
        "network": description,
        "config": dataclasses.asdict(config),
        "history": history,
        "outcome": outcome,
        "epochs_trained": len(history),
        "test_accuracy": accuracy,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "nnviz_version": __version__,
        "command": "nnviz " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["train"] else "",
    }


# ---------------------------------------------------------------------------- classify
def _classify(args: argparse.Namespace) -> int:
    from nnviz.core.modelio import load_model
    from nnviz.core.preprocess import preprocess_drawing
    from nnviz.imagefile import read_drawing
    from nnviz.paths import bundled_model_path

    model_path = args.model or bundled_model_path()
    net, _ = load_model(model_path)
    if net.sizes[0] != 784:
        raise NnvizError(f"{model_path}: the model takes {net.sizes[0]} inputs, not 28x28 = 784")
    digit = preprocess_drawing(read_drawing(args.image))
    outputs = net.output(digit.reshape(1, -1))[0]
    if args.show:
        print(ascii_image(digit))
    kind = "probability" if net.cost == "cross_entropy" else "activation"
    winner = int(np.argmax(outputs))
    for k, value in enumerate(outputs):
        mark = "  <-" if k == winner else ""
        print(f"{k}  {kind} {value:.4f}  {'#' * round(float(value) * 40)}{mark}")
    if not digit.any():
        print("the picture has no ink: the network guesses anyway")
    print(f"digit: {winner}")
    return 0


def ascii_image(image: np.ndarray) -> str:
    """A 28x28 image as text, two characters per pixel."""
    shades = " .:-=+*#%@"
    rows = []
    for row in image:
        rows.append("".join(shades[min(int(v * len(shades)), len(shades) - 1)] * 2 for v in row))
    return "\n".join(rows)


# ---------------------------------------------------------------------------- bench
def _bench(args: argparse.Namespace) -> int:
    from nnviz.core import benchmark

    data = _load_data(args.data_dir)
    results = benchmark.run_all(data, quick=args.quick, progress=None if args.json else print)
    if args.gui:
        from nnviz.gui.bench import gui_benchmark

        for mode in args.engine or ENGINE_MODES:
            results[f"gui ({mode} engine)"] = gui_benchmark(data, quick=args.quick, engine=mode)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(benchmark.format_results(results))
    return 0


# ---------------------------------------------------------------------------- data
def _data(args: argparse.Namespace) -> int:
    spec = datasets.DATASETS[args.dataset]
    if args.action == "path":
        folder = datasets.find_data_dir(spec, args.dir)
        if folder is None:
            print(
                f"{spec.title} not found (looked in ${datasets.DATA_DIR_ENV} and "
                f"{datasets.default_data_dir(spec)}); run: nnviz data download",
                file=sys.stderr,
            )
            return EXIT_ERROR
        print(folder)
        return 0
    if args.action == "download":
        folder = datasets.download(spec, args.dir, progress=_download_progress)
        print(f"{spec.title} is in {folder}")
        return 0
    folder = datasets.find_data_dir(spec, args.dir)
    if folder is None:
        print(f"{spec.title} not found; run: nnviz data download", file=sys.stderr)
        return EXIT_ERROR
    reports = datasets.verify_dir(spec, folder)
    for r in reports:
        print(f"{'ok  ' if r.ok else 'BAD '} {r.path}" + ("" if r.ok else f": {r.problem}"))
    return 0 if all(r.ok for r in reports) else EXIT_ERROR


def _desktop_entry(args: argparse.Namespace) -> int:
    from nnviz import desktop

    if args.remove:
        removed = desktop.remove()
        print("removed " + ", ".join(map(str, removed)) if removed else "nothing to remove")
        return 0
    try:
        written = desktop.install()
    except OSError as exc:
        print(f"nnviz: error: cannot write the desktop entry ({exc})", file=sys.stderr)
        return EXIT_ERROR
    print("\n".join(f"wrote {path}" for path in written))
    print("nnviz is now in the desktop's launcher (it may take a moment to appear).")
    return 0


def _download_progress(name: str, done: int, total: int | None) -> None:
    size = f" of {total / 1e6:.1f}" if total else ""
    end = "\n" if total and done >= total else ""
    sys.stderr.write(f"\rdownloading {name}: {done / 1e6:.1f}{size} MB{end}")
    sys.stderr.flush()
