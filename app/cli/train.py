"""``gdviz train``: train the digit network in the terminal and save it for the page.

Progress goes to stderr (tqdm's bar on a terminal, one line per epoch into a
file); the final accuracy and the saved file's path go to stdout.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TextIO

from tqdm import tqdm

from app.cli.progress import TqdmProgress
from app.mnist.engine import resolve_engine, warm_up
from app.mnist.training import TrainConfig, Trainer
from app.settings import settings

__all__ = ["config_from_args", "run_train_command"]

REDRAW_SECONDS = 0.1  # at most ten redraws a second on a terminal
CHUNK_STEPS = 500  # steps between progress updates


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The TrainConfig that ``gdviz train``'s options describe (validated)."""
    config = TrainConfig(
        hidden=tuple(args.hidden),
        activation=args.activation,
        cost=args.cost,
        optimizer=args.optimizer,
        lr=args.lr,
        batch_size=args.batch_size,
        epochs=args.epochs,
        seed=args.seed,
        augment=args.augment,
    )
    config.validate()
    return config


def run_train_command(args: argparse.Namespace) -> int:
    """Load the digits, train, report the test accuracy and save the network; the exit code."""
    from app.mnist import data as mnist_data

    try:
        config = config_from_args(args)
    except ValueError as exc:
        print(f"gdviz train: error: {exc}", file=sys.stderr)
        return 2
    try:
        with TqdmProgress() as bar:
            dataset = mnist_data.load_mnist(progress=bar)
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"gdviz train: could not load the digits: {exc}", file=sys.stderr)
        return 1
    print(
        f"data: {dataset.source}: {len(dataset.y_train):,} training and "
        f"{len(dataset.y_test):,} test digits",
        file=sys.stderr,
    )
    try:
        engine = resolve_engine(settings().engine, config.activation)
    except ValueError as exc:
        print(f"gdviz train: {exc}", file=sys.stderr)
        return 2
    _compile_kernel(engine, sys.stderr)
    try:
        trainer, seconds = _train(config, dataset, sys.stderr, engine)
    except KeyboardInterrupt:
        print("\ngdviz train: interrupted; nothing saved", file=sys.stderr)
        return 130
    if trainer.diverged:
        print(
            f"gdviz train: training diverged after {trainer.step:,} steps (the cost is no longer "
            f"a finite number): try a smaller learning rate than {config.lr:g}; nothing saved",
            file=sys.stderr,
        )
        return 1
    return _report_and_save(trainer, seconds)


def _compile_kernel(engine: str, stream: TextIO) -> None:
    """Say which engine trains; compile (or load) Numba's kernel before the clock starts."""
    started = time.perf_counter()
    warm_up(engine, background=False)
    seconds = time.perf_counter() - started
    note = f" (compiled in {seconds:.1f} s, once per install)" if seconds > 2 else ""
    hint = "" if engine == "numba" else ' (pip install "gdviz[fast]" for the compiled one)'
    print(f"engine: {engine}{note or hint}", file=stream)


def _train(
    config: TrainConfig, dataset, stream: TextIO, engine: str = "auto"
) -> tuple[Trainer, float]:
    """Run every epoch, with BLAS threads as the engine wants them; time it."""
    started = time.perf_counter()
    trainer = Trainer(config, dataset, engine=engine)
    if trainer.step_cores > 1:  # BLAS's threads, or the compiled loops' parts
        print(f"each step on {trainer.step_cores} cores", file=stream)
    with trainer.threads():
        line = _ProgressLine(trainer, stream)
        first = trainer.evaluate()
        line.update(first["train_cost"], first["test_accuracy"])
        while not trainer.done:
            # Chunks end on epoch boundaries, so each epoch's evaluation closes a chunk.
            to_epoch_end = (trainer.epoch + 1) * trainer.steps_per_epoch - trainer.step
            chunk = trainer.run(min(CHUNK_STEPS, to_epoch_end))
            if not chunk.progress:
                break
            mean_cost = sum(p["cost"] for p in chunk.progress) / len(chunk.progress)
            accuracy = chunk.evals[-1]["test_accuracy"] if chunk.evals else None
            line.update(mean_cost, accuracy)
        line.close()
    return trainer, time.perf_counter() - started


def _duration(seconds: float) -> str:
    """Seconds as a person reads them: a short training is not "0.0 s"."""
    if seconds < 0.1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s" if seconds < 10 else f"{seconds:.1f} s"


def _report_and_save(trainer: Trainer, seconds: float) -> int:
    from app.mnist.model_store import save_network

    final = trainer.evaluate()
    n_test = len(trainer.y_test)
    correct = round(final["test_accuracy"] * n_test)
    print(
        f"test accuracy: {final['test_accuracy']:.2%} ({correct:,} of {n_test:,} test digits) "
        f"after {trainer.epoch} epochs, {trainer.step:,} steps, {_duration(seconds)}"
    )
    metadata = {
        **{k: final[k] for k in ("test_accuracy", "test_cost", "train_cost", "step")},
        "source": trainer.data.source,
        "train": int(trainer.n_train),
        "test": int(n_test),
        "config": {**asdict(trainer.config), "hidden": list(trainer.config.hidden)},
        "seconds": round(seconds, 3),
        "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    try:
        path = save_network(trainer.network, metadata=metadata)
    except OSError as exc:
        print(f"gdviz train: could not save the network: {exc}", file=sys.stderr)
        return 1
    print(f"saved the network to {path} (POST /api/mnist/classify uses it from now on)")
    return 0


class _ProgressLine:
    """tqdm's bar over the steps, ``epoch 3/30`` before it and the latest cost and accuracy after.

    On a terminal the bar redraws in place; into a file or a pipe (no terminal) tqdm
    stays silent and one plain line per epoch is written instead.
    """

    def __init__(self, trainer: Trainer, stream: TextIO) -> None:
        self.trainer, self.stream = trainer, stream
        interactive = bool(getattr(stream, "isatty", lambda: False)())
        self.bar = tqdm(
            total=trainer.total_steps,
            unit="step",
            file=stream,
            disable=not interactive,
            mininterval=REDRAW_SECONDS,
            bar_format="{desc} {bar:20} {percentage:3.0f}% {n_fmt}/{total_fmt} steps{postfix}",
        )
        self.accuracy: float | None = None

    def update(self, cost: float | None, accuracy: float | None) -> None:
        """Show the latest mean batch cost and, when there is a new one, test accuracy."""
        t = self.trainer
        if accuracy is not None:
            self.accuracy = accuracy
        epoch = max(math.ceil(t.samples_seen / t.n_train), 1)  # the current one
        summary = "cost not finite" if cost is None else f"cost {cost:.4f}"
        if self.accuracy is not None:
            summary += f"  test accuracy {self.accuracy:.1%}"
        if self.bar.disable:
            if t.step and t.step % t.steps_per_epoch == 0:
                self.stream.write(f"epoch {epoch}/{t.config.epochs}: {summary}\n")
            return
        self.bar.set_description_str(f"epoch {epoch}/{t.config.epochs}", refresh=False)
        self.bar.set_postfix_str(summary, refresh=False)
        self.bar.update(t.step - self.bar.n)

    def close(self) -> None:
        """Draw the final state and end the line (on a terminal)."""
        self.bar.close()
