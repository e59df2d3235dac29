"""Mini-batch gradient descent on the digit network, in chunks of steps.

A ``Trainer`` is a plain object that a caller advances with ``run(max_steps)``:
the command line runs it to the end, the page's WebSocket runs a few steps per
frame and may change the learning rate between chunks. Each step is Nielsen's
``update_mini_batch``: backprop on one mini-batch, then one optimizer update
(the same optimizer classes that move the point in the surface lab).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from app.mnist import placement
from app.mnist.augment import augment_digits
from app.mnist.engine import (
    Kernel,
    make_kernel,
    release_step_threads,
    resolve_engine,
    step_cores,
    stepping,
)
from app.mnist.evaluation import confusion_matrix
from app.mnist.kernel import NumpyKernel
from app.mnist.network import ACTIVATIONS, COSTS, Network
from app.optimizers import OPTIMIZERS, make_optimizer

if TYPE_CHECKING:
    from app.mnist.data import Dataset

__all__ = ["Snapshot", "TrainChunk", "TrainConfig", "Trainer", "first_layer_images"]

N_CLASSES = 10
MAX_HIDDEN_LAYERS = 4
MAX_LAYER_SIZE = 512
MAX_BATCH = 60_000
MAX_EPOCHS = 1000
MAX_LR = 1000.0
#: the batch size that means every training digit in every step: full-batch gradient descent
FULL_BATCH = "full"
#: evaluate()'s training cost uses at most this many samples, to stay fast
TRAIN_EVAL_SAMPLES = 10_000
#: digits augmented at a time ahead of the batches (~10 ms of work: never a visible stall)
AUGMENT_AHEAD = 256
#: the gradient sizes per layer an evaluation reports are of the cost on this many digits
GRADIENT_SAMPLES = 1000


@dataclass
class TrainConfig:
    """Every setting of a training run; the defaults are ``gdviz train``'s."""

    hidden: tuple[int, ...] = (16, 16)
    activation: str = "sigmoid"
    cost: str = "quadratic"
    optimizer: str = "gd"
    lr: float = 3.0
    batch_size: int | str = 10  # or "full": the whole training set every step
    epochs: int = 30
    shuffle_labels: bool = False
    augment: bool = False  # each epoch's digits shifted, rotated, scaled, re-inked (augment.py)
    seed: int = 0
    eval_every: int = 1000  # steps between evaluations, besides every epoch's end
    hyper: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        """Raise a ValueError that names the bad setting and its allowed range."""
        hidden = tuple(self.hidden)
        if len(hidden) > MAX_HIDDEN_LAYERS:
            raise ValueError(f"at most {MAX_HIDDEN_LAYERS} hidden layers, not {len(hidden)}")
        for size in hidden:
            _check_int("hidden layer size", size, 1, MAX_LAYER_SIZE)
        _check_choice("activation", self.activation, ACTIVATIONS)
        _check_choice("cost", self.cost, COSTS)
        if self.activation == "step" and self.cost != "quadratic":
            raise ValueError("the step activation goes with the quadratic cost only")
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_lr(self.lr)
        if self.batch_size != FULL_BATCH:
            _check_int("batch size", self.batch_size, 1, MAX_BATCH)
        _check_int("epochs", self.epochs, 1, MAX_EPOCHS)
        _check_int("seed", self.seed, 0, 2**32 - 1)
        _check_int("eval_every", self.eval_every, 1, 10**9)
        for name in ("shuffle_labels", "augment"):
            if not isinstance(getattr(self, name), bool | np.bool_):
                raise ValueError(f"{name} must be true or false")
        if not isinstance(self.hyper, dict):
            raise ValueError("hyper must be a mapping of hyper-parameter names to values")
        make_optimizer(self.optimizer, self.lr, self.hyper)  # checks the hyper-parameters


def check_lr(lr: float) -> float:
    """Return lr as a float if it is a usable learning rate, else raise a ValueError."""
    if isinstance(lr, bool) or not isinstance(lr, int | float | np.number):
        raise ValueError(f"learning rate must be a number, not {lr!r}")
    lr = float(lr)
    if not (math.isfinite(lr) and 0.0 < lr <= MAX_LR):
        raise ValueError(f"learning rate must be a number in (0, {MAX_LR:g}], not {lr}")
    return lr


def _check_int(name: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be a whole number, not {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must lie between {low} and {high}, not {value}")


def _check_choice(name: str, value: Any, choices: Any) -> None:
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r} (choose from {', '.join(choices)})")


@dataclass
class Snapshot:
    """The parameters at one step, for ``evaluate_snapshot`` to evaluate later, elsewhere."""

    step: int
    samples_seen: int
    flat: np.ndarray  # a copy of Network.flat


@dataclass
class TrainChunk:
    """What one ``Trainer.run`` did: every step's batch cost and the evaluations due."""

    progress: list[dict] = field(default_factory=list)  # {"step", "epoch", "cost", "samples_seen"}
    evals: list[dict] = field(default_factory=list)  # Trainer.evaluate() results
    snapshots: list[Snapshot] = field(default_factory=list)  # instead, when deferring them


class Trainer:
    """Trains a fresh network on ``data`` with the settings of ``config``.

    Steps are numbered from 1; step 0 is the untrained network (ask ``evaluate()``
    for it). ``epoch`` in progress and evaluation records is the number of epochs
    done so far, as a fraction (``samples_seen / n_train``). ``engine`` names the
    training kernel (app.mnist.engine): "auto" takes Numba when it is installed and
    NumPy otherwise; ``self.engine`` is the one that runs.
    """

    def __init__(self, config: TrainConfig, data: Dataset, engine: str = "auto") -> None:
        config.validate()
        self.config = config
        self.data = data
        x_train = np.ascontiguousarray(data.x_train, dtype=np.float32)
        self.n_train = len(x_train)
        full = config.batch_size == FULL_BATCH
        self.batch_size = self.n_train if full else min(config.batch_size, self.n_train)
        self.engine = resolve_engine(engine, config.activation)
        sizes = (x_train.shape[1], *config.hidden, N_CLASSES)
        self.network = Network(sizes, config.activation, config.cost, config.seed)
        self.optimizer = make_optimizer(config.optimizer, config.lr, config.hyper)
        y_train = np.asarray(data.y_train)
        if config.shuffle_labels:
            # A fixed random relabelling: no structure left to learn, only samples to memorise.
            y_train = np.random.default_rng([config.seed, 2]).permutation(y_train)
        self.x_train, self.y_train = x_train, y_train
        self.x_test = np.ascontiguousarray(data.x_test, dtype=np.float32)
        self.y_test = np.asarray(data.y_test)
        self.onehot_train = _one_hot(y_train)  # made once; batches are row selections of it
        self.onehot_test = _one_hot(self.y_test)
        self.steps_per_epoch = math.ceil(self.n_train / self.batch_size)
        self.total_steps = self.steps_per_epoch * config.epochs
        self.step = 0
        self.epoch = 0  # completed epochs
        self.samples_seen = 0
        self.diverged = False
        # The gradient, filled in place by every step's backprop; laid out like the
        # parameters' flat array, so one optimizer update moves them all.
        self._grad_flat = np.zeros_like(self.network.flat)
        # Network.backprop's mathematics without per-step allocations, on the engine.
        self._kernel = make_kernel(self.network, self.engine)
        #: BLAS threads that ``threads()`` sets: what this engine and batch size run fastest on
        self.blas_threads = _blas_threads(self.engine, self.batch_size)
        #: cores a step keeps busy: with one, evaluations can run beside it on the other
        self.step_cores = step_cores(self.engine, self.batch_size)
        # evaluate() runs between steps. On the NumPy engine, and where the Numba engine
        # splits its steps over threads, with the step's own kernel (the Numba one splits
        # the evaluation too: over /ws/train at batch 1,000, 0.083 against 0.098 s per
        # 60,000 samples on NumPy's one BLAS thread). Otherwise on NumPy, which on one
        # thread computes a forward pass in ~75 % of the compiled loops' time, as does
        # evaluate_snapshot() beside a running training, on the core its steps leave free.
        own = self.engine == "numpy" or self.step_cores > 1
        self._evaluator: Kernel = self._kernel if own else NumpyKernel(self.network)
        self._snapshot_evaluator: NumpyKernel | None = None  # evaluate_snapshot's, on demand
        self._rng = np.random.default_rng([config.seed, 1])
        self._augment_rng = np.random.default_rng([config.seed, 3])
        # this epoch's inputs: with config.augment, changed copies made ahead of the batches
        self._x_epoch = x_train.copy() if config.augment else x_train
        self._augmented_to = 0  # positions in this epoch's order augmented so far
        self._order = np.arange(self.n_train)
        self._position = 0  # where in this epoch's order the next batch starts

    @property
    def done(self) -> bool:
        """True once every epoch has run (or training stopped on a non-finite cost)."""
        return self.diverged or self.step >= self.total_steps

    def set_lr(self, lr: float) -> None:
        """Change the learning rate from the next step on."""
        self.optimizer.lr = check_lr(lr)

    def run(self, max_steps: int, defer_evaluations: bool = False) -> TrainChunk:
        """Take up to ``max_steps`` optimizer steps; fewer when training ends first.

        Evaluations fall due at every epoch's end and every ``eval_every`` steps.
        ``defer_evaluations`` hands them back as snapshots of the parameters instead,
        for another thread to evaluate (``evaluate_snapshot``) while training goes on.
        """
        chunk = TrainChunk()
        # overflow is reported as divergence, not warned about
        with np.errstate(all="ignore"), stepping():
            self._run(chunk, max_steps, defer_evaluations)
        return chunk

    def _run(self, chunk: TrainChunk, max_steps: int, defer_evaluations: bool) -> None:
        for _ in range(max(0, int(max_steps))):
            if self.done:
                break
            record = self._train_step()
            if record is None:
                break
            chunk.progress.append(record)
            if self._position == 0:
                self.epoch += 1
            elif self.step % self.config.eval_every:
                continue
            if defer_evaluations:
                chunk.snapshots.append(self.snapshot())
            else:
                chunk.evals.append(self.evaluate())

    def snapshot(self) -> Snapshot:
        """A copy of the current parameters, to evaluate (``evaluate_snapshot``) or to save."""
        return Snapshot(self.step, self.samples_seen, self.network.flat.copy())

    @contextlib.contextmanager
    def threads(self) -> Iterator[None]:
        """Enter around training (in the training thread): the BLAS threads this engine wants,
        and, where a step runs BLAS on two of them and no other training is in the process,
        those two on two cores (app.mnist.placement says why).

        BLAS's thread count is one setting for the whole process, so this sets it for
        every thread until the block ends.
        """
        two_blas_threads = self.engine == "numpy" and self.blas_threads >= 2
        with _blas_limit(self.blas_threads), placement.placed(two_blas_threads):
            yield

    def rest(self) -> None:
        """(In the training thread) about to idle, as when paused: let go of the threads a
        step is split over, which would otherwise hold up other trainings' steps
        (app.mnist.engine.release_step_threads), and of the cores its threads keep to
        (app.mnist.placement). The next step makes the threads anew."""
        release_step_threads(self.engine)
        placement.let_go()

    def _train_step(self) -> dict | None:
        """One mini-batch update; None (and ``diverged``) if the cost is no longer finite."""
        if self._position == 0:
            self._order = self._rng.permutation(self.n_train)
            self._augmented_to = 0
        if self.config.augment and self._position + self.batch_size > self._augmented_to:
            self._augment_ahead()
        batch = self._order[self._position : self._position + self.batch_size]
        x, onehot = self._x_epoch, self.onehot_train
        cost, finite = self._kernel.backprop(x, onehot, batch, self._grad_flat)
        if not finite:
            self.diverged = True
            return None
        self.optimizer.step([self.network.flat], [self._grad_flat])
        self.step += 1
        self.samples_seen += len(batch)
        self._position += len(batch)
        if self._position >= self.n_train:
            self._position = 0
        return {
            "step": self.step,
            "epoch": self.samples_seen / self.n_train,
            "cost": cost,
            "samples_seen": self.samples_seen,
        }

    def _augment_ahead(self) -> None:
        """Augment the digits of the next batch and AUGMENT_AHEAD positions more of this
        epoch's order, in place in ``_x_epoch``: a few milliseconds at a time, where a whole
        epoch at once would stall the page's training for a fraction of a second."""
        start = self._position
        end = min(self.n_train, start + max(self.batch_size, AUGMENT_AHEAD))
        rows = self._order[start:end]
        self._x_epoch[rows] = augment_digits(self.x_train[rows], self._augment_rng)
        self._augmented_to = end

    def evaluate(self) -> dict:
        """Cost on (a fixed part of) the training set, cost and accuracy on the test set.

        In the training thread only: with the Numba engine's split steps its kernel's
        OpenMP threads belong to that thread (app.mnist.fast.kernel.in_own_thread says
        why); any other thread evaluates a ``snapshot()`` with ``evaluate_snapshot``.
        A cost that is not a finite number (weights grown so large that a sum
        overflows on samples training has not seen) is reported as None, and
        training stops as diverged: never NaN or Infinity in a record.
        """
        with np.errstate(all="ignore"):
            return self._evaluate(self._evaluator, self.step, self.samples_seen)

    def evaluate_snapshot(self, snapshot: Snapshot) -> dict:
        """``evaluate()`` of the parameters a snapshot holds; safe beside a running ``run``.

        Calls must not overlap each other (one evaluating thread): they share one network.
        """
        if self._snapshot_evaluator is None:
            net = self.network
            copy = Network(net.sizes, net.activation, net.cost_name, dtype=net.dtype)
            self._snapshot_evaluator = NumpyKernel(copy)
        self._snapshot_evaluator.network.flat[...] = snapshot.flat
        with np.errstate(all="ignore"):
            return self._evaluate(self._snapshot_evaluator, snapshot.step, snapshot.samples_seen)

    def _evaluate(self, evaluator: Kernel, step: int, samples_seen: int) -> dict:
        train_cost, gradient_norms = self._train_cost_and_gradient_norms(evaluator)
        read = np.empty(len(self.x_test), np.int64)  # each test digit as the network reads it
        test_cost, accuracy = evaluator.evaluate(self.x_test, self.onehot_test, read)
        if not (math.isfinite(train_cost) and math.isfinite(test_cost)):
            self.diverged = True
            train_cost = train_cost if math.isfinite(train_cost) else None
            test_cost = test_cost if math.isfinite(test_cost) else None
        return {
            "step": step,
            "epoch": samples_seen / self.n_train,
            "samples_seen": samples_seen,
            "train_cost": train_cost,
            "test_cost": test_cost,
            "test_accuracy": accuracy,
            # rows: the true digit, columns: the one read (app.mnist.evaluation)
            "confusion": confusion_matrix(self.y_test, read).tolist(),
            "gradient_norms": gradient_norms,
        }

    def _train_cost_and_gradient_norms(self, evaluator: Kernel) -> tuple[float, list[float] | None]:
        """The cost on a fixed part of the training set, and ‖∂C/∂b‖ of each layer (output
        last) for the cost on the first GRADIENT_SAMPLES training digits: how fast each
        layer learns (Nielsen, chapter 5; with sigmoids the layers nearer the input learn
        slower — the vanishing gradient). Norms None if not finite.

        The part holds as many training digits as the test set (both costs then carry the
        same sampling noise; with the 4,000-digit offline sample an evaluation, due after
        every 4,000 digits trained, reads 2,000 digits rather than 5,000). Its first rows
        are the gradient's, so one forward pass gives both.
        """
        n = min(self.n_train, len(self.x_test) or self.n_train, TRAIN_EVAL_SAMPLES)
        g = min(self.n_train, GRADIENT_SAMPLES)
        x, onehot = self.x_train, self.onehot_train
        grad = [np.zeros(size, self.network.dtype) for size in self.network.sizes[1:]]
        both = min(n, g)
        cost, _ = evaluator.evaluate(x[:both], onehot[:both], bias_gradient=grad)
        if n > both:  # the rest of the cost's part
            rest, _ = evaluator.evaluate(x[both:n], onehot[both:n])
            cost = (cost * both + rest * (n - both)) / n
        if g > both:  # the rest of the gradient's digits (a test set smaller than 1,000)
            more = [np.zeros_like(part) for part in grad]
            evaluator.evaluate(x[both:g], onehot[both:g], bias_gradient=more)
            grad = [(a * both + b * (g - both)) / g for a, b in zip(grad, more, strict=True)]
        norms = [float(np.linalg.norm(part.astype(np.float64))) for part in grad]
        return cost, norms if all(math.isfinite(v) for v in norms) else None


def _blas_threads(engine: str, batch_size: int) -> int:
    """The BLAS threads a training wants: NumPy's steps, as many as they keep busy. Numba's
    loops use no BLAS: one thread keeps the evaluations' BLAS calls off the loops' cores
    (and out of the way of Numba's own threads, which spin for a moment after a step)."""
    return 1 if engine == "numba" else step_cores(engine, batch_size)


_BLAS = None  # threadpoolctl's controller, found once: it searches the loaded libraries


@contextlib.contextmanager
def _blas_limit(threads: int) -> Iterator[None]:
    """BLAS on at most ``threads`` threads until the block ends (threadpoolctl, imported here
    only: the maths imports no more than NumPy)."""
    global _BLAS
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController

        _BLAS = ThreadpoolController()
    with _BLAS.limit(limits=threads, user_api="blas"):
        yield


def _one_hot(labels: np.ndarray) -> np.ndarray:
    """Labels 0..9 as float32 one-hot rows."""
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= N_CLASSES):
        raise ValueError(f"labels must lie in 0..{N_CLASSES - 1}")
    return np.eye(N_CLASSES, dtype=np.float32)[labels]


def first_layer_images(network: Network) -> np.ndarray:
    """The first layer's weights as (n_hidden, 28, 28) float32 images: what each neuron seeks."""
    w = network.weights[0]
    side = math.isqrt(w.shape[1])
    if side * side != w.shape[1]:
        raise ValueError(f"{w.shape[1]} inputs do not form a square image")
    return w.reshape(len(w), side, side).astype(np.float32, copy=True)
