"""``/ws/train``: train the digit network live and stream every step's cost.

Training runs in a worker thread, a chunk of steps at a time sized to about one
frame (~12 ms), so the event loop stays free for other sessions and a ``set``
takes effect within a frame.  One sender task drains an outbox; the training loop
waits whenever the client falls behind, so a slow client slows its training
instead of growing the server's memory.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from fastapi import APIRouter, WebSocket
from threadpoolctl import ThreadpoolController

from app.mnist.classify import classify
from app.mnist.data import DataUnavailableError, load_mnist
from app.mnist.model_store import ModelFileError, load_saved_network, save_network
from app.mnist.training import Snapshot, TrainConfig, Trainer, first_layer_images
from app.settings import settings
from app.web.control_messages import Ack
from app.web.flow import AckWindow
from app.web.origin import accept_if_same_origin
from app.web.train_schemas import MAX_CLASSIFY_BYTES, Classify, Start, train_messages
from app.web.ws_common import (
    MAX_MESSAGE_BYTES,
    BadMessage,
    dumps,
    error,
    parse_message,
    receive_raw,
    run_until_one_ends,
)

router = APIRouter()

CHUNK_SECONDS = 0.012  # training time per chunk: about one frame
WEIGHTS_EVERY = 0.25  # seconds between weight images
MAX_OWED = 8  # messages queued for a client before training waits for it
MAX_AHEAD = 4  # messages an acking client may not yet have handled (app.web.flow)
MAX_EVALS_PENDING = 2  # evaluations queued before training waits for them
MAX_WEIGHT_IMAGES = 16
#: found once: threadpool_limits() would search the loaded BLAS libraries on every chunk
BLAS = ThreadpoolController()


_active_trainings = 0


@router.websocket("/ws/train")
async def train_socket(websocket: WebSocket) -> None:
    """Train for one client until it leaves; every message as DESIGN.md describes."""
    if await accept_if_same_origin(websocket):
        await TrainConnection(websocket).serve()


class TrainConnection:
    """One client's training session: its trainer, its outbox, its pause switch."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.outbox: asyncio.Queue[dict] = asyncio.Queue()
        self.trainer: Trainer | None = None
        self.training: asyncio.Task | None = None
        self.running = threading.Event()  # cleared while paused; the training thread waits on it
        self.running.set()
        self.flow = AckWindow()

    async def serve(self) -> None:
        try:
            await run_until_one_ends(self._receive(), self._send())
        finally:
            await self._stop_training()

    def put(self, message: dict) -> None:
        self.outbox.put_nowait(message)
        self.flow.on_sent()  # counted when queued: the queue is part of the lead

    async def _send(self) -> None:
        while True:
            message = await self.outbox.get()
            await self.websocket.send_text(dumps(message))

    async def _receive(self) -> None:
        while True:
            raw = await receive_raw(self.websocket)
            try:
                message = parse_message(raw, train_messages, limit=_size_limit(raw))
                await getattr(self, f"_on_{message.type}")(message)
            except BadMessage as problem:
                self.put(error(str(problem)))

    # --- client messages --------------------------------------------------------------

    async def _on_start(self, message: Start) -> None:
        await self._stop_training()
        if _active_trainings >= settings().max_trainings:
            raise BadMessage(
                f"the server is busy: {settings().max_trainings} networks are training already; "
                "try again when one has finished"
            )
        config = TrainConfig(**message.model_dump(exclude={"type"}))
        config.hidden = tuple(config.hidden)
        try:
            config.validate()
        except ValueError as problem:
            raise BadMessage(str(problem)) from None
        self.running.set()
        self.training = asyncio.create_task(self._train(config))

    async def _on_set(self, message) -> None:
        if self.trainer is None:
            raise BadMessage("nothing is training: send start first")
        self.trainer.set_lr(message.lr)

    async def _on_ack(self, message: Ack) -> None:
        self.flow.on_ack(message.received)

    async def _on_pause(self, message) -> None:
        if self._is_training():
            self.running.clear()
            self._status("paused")

    async def _on_resume(self, message) -> None:
        if self._is_training() and not self.running.is_set():
            self.running.set()
            self._status("running")

    async def _on_stop(self, message) -> None:
        if self._is_training():
            await self._stop_training()
            self._status("stopped", message="stopped by the user")

    async def _on_save(self, message) -> None:
        if self.trainer is None:
            raise BadMessage("nothing to save yet: train a network first")
        trainer = self.trainer
        evaluation = await asyncio.to_thread(trainer.evaluate)
        metadata = {
            "test_accuracy": evaluation["test_accuracy"],
            "step": trainer.step,
            "source": trainer.data.source,
        }
        path = await asyncio.to_thread(save_network, trainer.network, None, metadata)
        self.put({"type": "saved", "path": str(path), **metadata})

    async def _on_classify(self, message: Classify) -> None:
        network, by = (self.trainer.network, "live") if self.trainer else (None, "saved")
        if network is None:
            try:
                network = await asyncio.to_thread(load_saved_network)
            except ModelFileError as problem:
                raise BadMessage(f"the saved network cannot be read: {problem}") from None
        if network is None:
            raise BadMessage("no network to ask yet: start training, or save a trained one")
        try:
            canvas = message.canvas()
            result = await asyncio.to_thread(
                classify, network, message.width, message.height, canvas
            )
        except ValueError as problem:
            raise BadMessage(str(problem)) from None
        self.put({"type": "classified", "by": by, **result})

    # --- training ---------------------------------------------------------------------

    def _is_training(self) -> bool:
        return self.training is not None and not self.training.done()

    async def _stop_training(self) -> None:
        if self.training is not None and not self.training.done():
            self.training.cancel()
            try:
                await self.training
            except (asyncio.CancelledError, Exception):
                pass

    def _may_compute(self) -> bool:
        """False while the client is behind: too much queued here, or unacknowledged."""
        return self.outbox.qsize() <= MAX_OWED and self.flow.open(MAX_AHEAD)

    def _status(self, state: str, **fields) -> None:
        self.put({"type": "status", "state": state, **fields})

    async def _train(self, config: TrainConfig) -> None:
        global _active_trainings
        _active_trainings += 1
        try:
            trainer = await self._prepare(config)
            if trainer is not None:
                await self._run(trainer)
        finally:
            _active_trainings -= 1

    async def _prepare(self, config: TrainConfig) -> Trainer | None:
        self._status("loading", message="loading the MNIST digits…")
        loop = asyncio.get_running_loop()
        last = [0.0]

        def progress(label: str, done: int, total: int | None) -> None:
            now = time.monotonic()
            if now - last[0] > 0.2 or done == total:
                last[0] = now
                note = {"type": "status", "state": "loading", "message": f"downloading {label}",
                        "done": done, "total": total}  # fmt: skip
                loop.call_soon_threadsafe(self.put, note)

        try:
            data = await asyncio.to_thread(load_mnist, progress)
        except DataUnavailableError as problem:
            self._status("stopped", message=str(problem))
            return None
        trainer = await asyncio.to_thread(Trainer, config, data)
        self.trainer = trainer
        self._status(
            "running",
            total_steps=trainer.total_steps,
            steps_per_epoch=trainer.steps_per_epoch,
            epochs=config.epochs,
            parameter_count=trainer.network.parameter_count,
            source=data.source,
            train=len(data.y_train),
            test=len(data.y_test),
            shuffle_labels=config.shuffle_labels,
        )
        self.put({"type": "eval", **await asyncio.to_thread(trainer.evaluate)})
        self._send_weights(trainer)
        return trainer

    async def _run(self, trainer: Trainer) -> None:
        """Train in one worker thread that posts its messages back to this loop.

        One long-lived thread rather than a thread hop per chunk: every hop costs a
        wake-up of the event loop and of the worker, which at small batches cost more
        than the training itself.  Evaluations run in a second thread, on snapshots of
        the parameters, while training goes on (the compiled kernel releases the GIL, so
        they use the other core); training waits if they fall behind.
        """
        loop = asyncio.get_running_loop()
        stop = threading.Event()
        latest: list[dict] = []  # the last evaluation made

        def post(messages: list[dict]) -> None:
            if stop.is_set():  # stopped meanwhile: nothing may follow the "stopped" status
                return
            for message in messages:
                self.put(message)

        def evaluate(snapshot: Snapshot) -> None:
            result = trainer.evaluate_snapshot(snapshot)  # sets trainer.diverged if need be
            latest[:] = [result]
            loop.call_soon_threadsafe(post, [{"type": "eval", **result}])

        def work(evaluator: ThreadPoolExecutor) -> None:
            steps, last_weights, pending = 1, time.monotonic(), deque()
            while not trainer.done and not stop.is_set():
                while pending and pending[0].done():
                    pending.popleft().result()  # re-raises a bug in an evaluation
                if (
                    not self.running.wait(0.05)
                    or not self._may_compute()
                    or len(pending) > MAX_EVALS_PENDING
                ):
                    time.sleep(0.002)  # paused, or the client or the evaluations are behind
                    continue
                started = time.perf_counter()
                chunk = trainer.run(steps, defer_evaluations=True)
                steps = _next_chunk_size(steps, time.perf_counter() - started)
                messages = [{"type": "progress", "steps": chunk.progress}] if chunk.progress else []
                if time.monotonic() - last_weights > WEIGHTS_EVERY or trainer.done:
                    messages.append(_weights_message(trainer))
                    last_weights = time.monotonic()
                loop.call_soon_threadsafe(post, messages)
                pending.extend(evaluator.submit(evaluate, s) for s in chunk.snapshots)
            for future in pending:
                future.result()

        def train() -> None:
            with BLAS.limit(limits=1, user_api="blas"), ThreadPoolExecutor(1) as evaluator:
                try:
                    work(evaluator)
                finally:
                    if stop.is_set():  # stopped: evaluations not yet begun are dropped
                        evaluator.shutdown(cancel_futures=True)

        try:
            await asyncio.to_thread(train)
        finally:
            stop.set()  # also when cancelled: the thread ends after its current chunk
        if trainer.diverged:
            self._status("stopped", message="diverged: the cost stopped being a finite number — "
                         "lower the learning rate and train again")  # fmt: skip
            return
        if not latest or latest[0]["step"] != trainer.step:  # the last epoch's is usually it
            latest[:] = [await asyncio.to_thread(trainer.evaluate)]
        self._status("finished", step=trainer.step, test_accuracy=latest[0]["test_accuracy"])

    def _send_weights(self, trainer: Trainer) -> None:
        self.put(_weights_message(trainer))


def _weights_message(trainer: Trainer) -> dict:
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


def _size_limit(raw: str | bytes) -> int:
    """Only a canvas to classify may exceed the usual cap (its "type" comes first)."""
    head = raw[:200] if isinstance(raw, str) else raw[:200].decode(errors="replace")
    return MAX_CLASSIFY_BYTES if '"classify"' in head else MAX_MESSAGE_BYTES


def _next_chunk_size(steps: int, seconds: float) -> int:
    """Aim each chunk at CHUNK_SECONDS, changing by at most ×2 a time."""
    if seconds <= 0:
        return steps * 2
    wanted = steps * CHUNK_SECONDS / seconds
    return max(1, min(int(wanted), steps * 2, 100_000))
