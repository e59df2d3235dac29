"""A training live on the page: a Trainer, the thread that steps it, the thread that evaluates it.

No asyncio here: ``/ws/train`` (app.web.train_ws) runs ``train(post)`` in a thread
of its own and hands it ``post``, which queues messages for the client and returns
an event that is set once the client has room for more (app.web.connection).

- Training goes in chunks of about a frame (~12 ms), so a ``set``, a ``pause`` or a
  ``stop`` takes effect within one, and the client's pace holds the training: the
  thread computes the next chunk only once every chunk but the latest was granted.
- Evaluations run on one evaluator thread, on snapshots of the parameters, while
  training goes on (both kernels release the GIL, so they use the other core);
  training waits if more than a few are queued.  A training whose steps already keep
  both cores busy (app.mnist.engine.step_cores) leaves none free: its evaluations
  run in the training thread between steps instead, which at batch 1,000 took an
  end-to-end training from ~95 ms to ~55 ms per 60,000 samples (threads fighting
  for two cores cost more than the evaluations themselves; measured while OpenBLAS's
  idle threads still spun ~0.1 s, app/__init__.py, and not since).
  ``evaluate_snapshot`` calls share one network, so they all go to that one thread:
  the training's own and a save's.
- Step 0's evaluation (the untrained network) is the training thread's first work,
  posted with the first weight images before any step: a thread's first parallel call
  in the Numba engine starts OpenMP threads of its own, and its first calls each wait a
  full spin (~1.6 ms) until those run (they often begin on the calling thread's core,
  or on an idle core that takes as long to wake). Made on the evaluator thread, it paid
  that once more per training, and its idle team slowed every split step after it
  (app.mnist.fast.kernel.in_own_thread): over /ws/train at batch 1,000 the training
  thread's turn was 6–7 % faster (40 interleaved trainings each way), at 128 far more.
- ``snapshot()`` is the only way to read the parameters from outside the training
  thread: taken at once while no chunk runs, otherwise by the training thread as
  soon as its chunk ends — never a copy torn between two steps.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for_futures
from typing import Any

import numpy as np

from app.mnist.landscape import ParameterPath, landscape
from app.mnist.model_store import save_network
from app.mnist.network import Network
from app.mnist.training import Snapshot, Trainer, first_layer_images

__all__ = ["PAUSED", "LiveTraining", "network_from", "weights_message"]

CHUNK_SECONDS = 0.012  # training time per chunk: about one frame
WEIGHTS_EVERY = 0.25  # seconds between weight images
MAX_EVALS_PENDING = 2  # evaluations queued before training waits for them
MAX_WEIGHT_IMAGES = 16
WAKE = 0.05  # seconds a waiting training thread sleeps before looking at its flags again

#: what the training thread calls with its messages; returns an event set when there is room
Post = Callable[[list[dict]], threading.Event]
#: the status the training thread posts once it has stopped for a pause: it comes after the
#: progress of every step taken before it, so a page that sees it sees nothing move after
PAUSED = {"type": "status", "state": "paused"}


class LiveTraining:
    """One trainer of one session, with its evaluator thread, pause and stop switches."""

    def __init__(self, trainer: Trainer, running: threading.Event | None = None) -> None:
        self.trainer = trainer
        self.evaluator = ThreadPoolExecutor(1, thread_name_prefix="gdviz-evaluator")
        self.running = running or threading.Event()  # cleared while paused
        if running is None:
            self.running.set()
        self.stopped = threading.Event()
        self.held = threading.Event()  # set while the training waits for the client to catch up
        self.latest: dict | None = None  # the last evaluation made
        self._lock = threading.Lock()  # guards the two below
        self._in_chunk = False
        self._requests: list[Future] = []
        # The parameters at every evaluation, for the landscape's PCA (app.mnist.landscape).
        self.path = ParameterPath(trainer.network.parameter_count)
        self.path.record(trainer.step, trainer.network.flat)

    # --- from any thread ------------------------------------------------------------

    def stop(self) -> None:
        """Stop training after the current chunk; evaluations not yet begun are dropped."""
        self.stopped.set()
        self.running.set()  # a paused thread wakes to see it

    def close(self) -> None:
        """Stop, and let the evaluator thread go once it is idle."""
        self.stop()
        self.evaluator.shutdown(wait=False, cancel_futures=True)

    def snapshot(self) -> Future[Snapshot]:
        """The parameters between two steps: at once when no chunk runs, else at its end."""
        request: Future[Snapshot] = Future()
        with self._lock:
            if self._in_chunk:
                self._requests.append(request)
            else:
                request.set_result(self.trainer.snapshot())
        return request

    def evaluate(self) -> Future[dict]:
        """The network as it is now, evaluated on the evaluator thread: from a snapshot, on
        NumPy, never with the training's own kernel, whose split calls belong to the
        training thread (app.mnist.fast.kernel.in_own_thread says why)."""

        def evaluate_now() -> dict:
            return self._remember(self.trainer.evaluate_snapshot, self.snapshot().result())

        return self.evaluator.submit(evaluate_now)

    def evaluate_snapshot(self, snapshot: Snapshot) -> Future[dict]:
        return self.evaluator.submit(self._remember, self.trainer.evaluate_snapshot, snapshot)

    def save(self, path: Any = None) -> dict:
        """Save the network as it is between two steps, with that network's test accuracy.

        Blocks until the current chunk ends and the evaluator has scored the snapshot.
        Returns the metadata saved, with the file's ``path``; a ValueError if the
        parameters are not finite (a diverged training).
        """
        snapshot = self.snapshot().result()
        evaluation = self.evaluator.submit(self.trainer.evaluate_snapshot, snapshot).result()
        metadata = {
            "test_accuracy": evaluation["test_accuracy"],
            "step": snapshot.step,
            "source": self.trainer.data.source,
        }
        saved = save_network(network_from(self.trainer.network, snapshot), path, metadata)
        return {"path": str(saved), **metadata}

    def landscape(self, n: int, span: float, method: str, samples: int, directions: bool) -> dict:
        """(In a worker thread, never the training's) the cost landscape around the parameters
        as they are between two steps, over the first ``samples`` test digits, with the path."""
        snapshot = self.snapshot().result()
        if not np.isfinite(snapshot.flat).all():
            raise ValueError("the parameters are no longer finite numbers: the training diverged")
        _, path = self.path.vectors()
        trainer = self.trainer
        result = landscape(
            trainer.network,
            snapshot.flat,
            path,
            trainer.x_test[:samples],
            trainer.onehot_test[:samples],
            n=n,
            span=span,
            method=method,
            directions=directions,
        )
        return {"step": snapshot.step, "samples": min(samples, len(trainer.x_test)), **result}

    # --- the training thread -------------------------------------------------------------

    def train(self, post: Post) -> None:
        """The training thread's body: train until done or stopped, posting every message."""
        try:
            with self.trainer.threads():
                self._train(post)
        finally:
            with self._lock:
                self._in_chunk = False
                self._serve_requests()

    @property
    def evaluates_aside(self) -> bool:
        """True when evaluations go to the evaluator thread: the training leaves a core free."""
        return self.trainer.step_cores < 2

    def _train(self, post: Post) -> None:
        trainer, steps, last_weights = self.trainer, 1, time.monotonic()
        if self.latest is None:  # the untrained network: the page's first point and images
            post([{"type": "eval", **self._remember(trainer.evaluate)}, weights_message(trainer)])
        evaluations: deque[Future] = deque()
        grants: deque[threading.Event] = deque()  # of the posts the client has yet to make room for

        def evaluate(snapshot: Snapshot) -> None:
            self.path.record(snapshot.step, snapshot.flat)
            post([{"type": "eval", **self._remember(trainer.evaluate_snapshot, snapshot)}])

        paused_told = False
        while not trainer.done and not self.stopped.is_set():
            while evaluations and evaluations[0].done():
                evaluations.popleft().result()  # re-raises a bug in an evaluation
            while grants and grants[0].is_set():
                grants.popleft()
            if not self.running.is_set():
                if not paused_told:  # after every step made before the pause, never before one
                    post([PAUSED])
                    paused_told = True
                    trainer.rest()  # an idle team would slow other trainings' split steps
                self.running.wait(WAKE)  # paused
                continue
            paused_told = False
            if len(grants) > 1:  # the client is behind: the latest post may wait, no more
                self.held.set()
                grants[0].wait(WAKE)
                self.held.clear()
                continue
            if len(evaluations) > MAX_EVALS_PENDING:
                wait_for_futures([evaluations[0]], WAKE)
                continue
            started = time.perf_counter()
            chunk = self._run_chunk(steps)
            steps = next_chunk_size(steps, time.perf_counter() - started)
            messages = [{"type": "progress", "steps": chunk.progress}] if chunk.progress else []
            for record in chunk.evals:  # made in this thread (evaluates_aside is False)
                self.latest = record
                messages.append({"type": "eval", **record})
            if time.monotonic() - last_weights > WEIGHTS_EVERY or trainer.done:
                messages.append(weights_message(trainer))
                last_weights = time.monotonic()
            grants.append(post(messages))
            evaluations.extend(self.evaluator.submit(evaluate, s) for s in chunk.snapshots)
        for future in evaluations:
            if self.stopped.is_set():
                future.cancel()  # stopped: evaluations not yet begun are dropped
            else:
                future.result()  # finished: its last evaluations come before the status

    def _run_chunk(self, steps: int):
        with self._lock:
            self._serve_requests()
            self._in_chunk = True
        try:
            return self.trainer.run(steps, defer_evaluations=self.evaluates_aside)
        finally:
            with self._lock:
                self._in_chunk = False
                self._serve_requests()

    def _serve_requests(self) -> None:
        """(Holding the lock, between two chunks) answer every snapshot request with one copy."""
        if self._requests:
            snapshot = self.trainer.snapshot()
            for request in self._requests:
                request.set_result(snapshot)
            self._requests.clear()

    def _remember(self, evaluate: Callable[..., dict], *args: Any) -> dict:
        result = evaluate(*args)
        self.latest = result
        return result


def network_from(like: Network, snapshot: Snapshot) -> Network:
    """A network shaped as ``like`` holding the snapshot's parameters."""
    network = Network(like.sizes, like.activation, like.cost_name, dtype=like.dtype)
    network.flat[...] = snapshot.flat
    return network


def weights_message(trainer: Trainer) -> dict:
    """The first layer's weights as images, at most MAX_WEIGHT_IMAGES of them."""
    images = first_layer_images(trainer.network)[:MAX_WEIGHT_IMAGES]
    scale = float(abs(images).max()) or 1.0
    return {
        "type": "weights",
        "step": trainer.step,
        "size": int(images.shape[1]),
        "images": np.round(images.reshape(len(images), -1).astype(np.float64), 4).tolist(),
        "min": -scale,
        "max": scale,
    }


def next_chunk_size(steps: int, seconds: float) -> int:
    """Aim each chunk at CHUNK_SECONDS, changing by at most ×2 a time."""
    if seconds <= 0:
        return steps * 2
    wanted = steps * CHUNK_SECONDS / seconds
    return max(1, min(int(wanted), steps * 2, 100_000))
