"""``/ws/train``: train the digit network live and stream every step's cost.

A ``TrainConnection`` (app.web.connection) validates, paces and sends; the work
lives in a ``LiveTraining`` (app.web.live_training): a worker thread that trains
in chunks of about a frame, so the event loop stays free for other sessions, and
posts its messages back here.  A slow client slows its training instead of
growing the server's memory.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from fastapi import APIRouter, WebSocket

from app.mnist.classify import classify
from app.mnist.data import DataUnavailableError, load_mnist
from app.mnist.evaluation import cell_mistakes
from app.mnist.model_store import ModelFileError, load_saved_network
from app.mnist.network import Network
from app.mnist.training import TrainConfig, Trainer
from app.settings import Settings, SettingsError
from app.web.connection import Connection, app_state
from app.web.live_training import PAUSED, LiveTraining, network_from
from app.web.train_schemas import (
    MAX_CLASSIFY_BYTES,
    Classify,
    Landscape,
    Mistakes,
    Start,
    train_messages,
)
from app.web.ws_common import MAX_MESSAGE_BYTES, BadMessage, error, parse_message

router = APIRouter()
log = logging.getLogger("gdviz.train")
#: said while a training waits for the server's first compile of the Numba kernels
COMPILING = "compiling the fast training kernel (once after installing: up to half a minute)…"


class TrainingSlots:
    """The trainings at once in one server process (``GDVIZ_MAX_TRAININGS``).

    A slot is taken when a ``start`` is accepted — not later, when its training
    begins, so simultaneous starts cannot pass the cap — and given back when that
    training ends, however it ends.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.taken = 0

    def take(self) -> Callable[[], None] | None:
        """A slot's give-back (call it any number of times), or None when all are taken."""
        if self.taken >= self.limit:
            return None
        self.taken += 1
        given_back = False

        def give_back(*_: object) -> None:
            nonlocal given_back
            if not given_back:
                given_back = True
                self.taken -= 1

        return give_back


@router.websocket("/ws/train")
async def train_socket(websocket: WebSocket) -> None:
    """Train for one client until it leaves; every message as DESIGN.md describes."""
    await TrainConnection.open(websocket)


class TrainConnection(Connection):
    """One client's training session: its live training and the task that runs it."""

    messages = train_messages

    def __init__(
        self,
        websocket: WebSocket,
        config: Settings | None = None,
        trainings: TrainingSlots | None = None,
    ) -> None:
        super().__init__(websocket, config)
        self.trainings = trainings or app_state(websocket, "trainings")
        if self.trainings is None:  # a session without an app (tests): a cap of its own
            self.trainings = TrainingSlots(self.settings.max_trainings)
        self.live: LiveTraining | None = None
        self.training: asyncio.Task | None = None
        self.running = threading.Event()  # cleared while paused (before the training's thread, too)
        self.running.set()
        self.landscaping: asyncio.Task | None = None  # the landscape being computed, if any

    @property
    def trainer(self) -> Trainer | None:
        return self.live.trainer if self.live else None

    def parse(self, raw: str | bytes) -> Any:
        return parse_message(raw, train_messages, limit=_size_limit(raw))

    async def close(self) -> None:
        if self.landscaping is not None:
            self.landscaping.cancel()
        await self._stop_training()
        if self.live is not None:
            self.live.close()

    # --- client messages --------------------------------------------------------------

    async def _on_start(self, message: Start) -> None:
        await self._stop_training()
        config = TrainConfig(**message.model_dump(exclude={"type"}))
        config.hidden = tuple(config.hidden)
        try:
            config.validate()
        except ValueError as problem:
            raise BadMessage(str(problem)) from None
        give_back = self.trainings.take()
        if give_back is None:
            raise BadMessage(
                f"the server is busy: {self.trainings.limit} networks are training already; "
                "try again when one has finished"
            )
        self.running.set()
        self.training = asyncio.create_task(self._train(config))
        self.training.add_done_callback(give_back)  # also if cancelled before it began

    def _on_set(self, message) -> None:
        if self.trainer is None:
            raise BadMessage("nothing is training: send start first")
        self.trainer.set_lr(message.lr)

    def _on_pause(self, message) -> None:
        if self._is_training() and self.running.is_set():
            self.running.clear()
            if self.live is None:  # still loading: no training thread to say it
                self._status("paused")
            # otherwise the training thread says "paused" once its current chunk's steps
            # are posted (live_training.PAUSED): nothing it made before then comes after

    def _on_resume(self, message) -> None:
        if self._is_training() and not self.running.is_set():
            self.running.set()
            self._status("running")

    async def _on_stop(self, message) -> None:
        if self._is_training():
            await self._stop_training()
            self._status("stopped", message="stopped by the user")

    async def _on_save(self, message) -> None:
        if self.live is None:
            raise BadMessage("nothing to save yet: train a network first")
        try:
            saved = await asyncio.to_thread(self.live.save)
        except ValueError as problem:  # weights no longer finite
            raise BadMessage(f"cannot save this network: {problem}") from None
        self.put({"type": "saved", **saved})

    async def _on_classify(self, message: Classify) -> None:
        network, by = await self._network_to_ask()
        try:
            canvas = message.canvas()
            result = await asyncio.to_thread(
                classify, network, message.width, message.height, canvas
            )
        except ValueError as problem:
            raise BadMessage(str(problem)) from None
        self.put({"type": "classified", "by": by, **result})

    def _on_landscape(self, message: Landscape) -> None:
        """Computed in a worker thread while this connection goes on serving (a pause or a
        stop is not held behind it); the reply comes when it is ready. One at a time."""
        if self.live is None:
            raise BadMessage("landscape: no network to draw it around yet: start a training")
        if self.landscaping is not None and not self.landscaping.done():
            raise BadMessage("landscape: one is being computed already: wait for it")
        options = message.model_dump(exclude={"type"})
        self.landscaping = asyncio.create_task(self._landscape(self.live, options))

    async def _landscape(self, live: LiveTraining, options: dict) -> None:
        try:
            result = await asyncio.to_thread(live.landscape, **options)
        except ValueError as problem:  # e.g. a path too short for principal directions
            self.put(error(f"landscape: {problem}"))
            return
        except Exception:  # a bug: said, logged, and the page may ask again
            log.exception("computing a landscape failed")
            self.put(error("landscape: it could not be computed (the server's log says why)"))
            return
        self.put({"type": "landscape", **result})

    async def _on_mistakes(self, message: Mistakes) -> None:
        """The live network's mistakes of one kind (else the saved network's), with the
        digits as base64 bytes and the network's probabilities for each."""
        live, (network, by) = self.live, await self._network_to_ask()
        if by == "live":
            data = live.trainer.data
        else:
            try:
                data = await asyncio.to_thread(load_mnist)
            except (DataUnavailableError, SettingsError) as problem:
                raise BadMessage(str(problem)) from None
        x, labels = data.x_test, data.y_test
        found = await asyncio.to_thread(
            cell_mistakes, network, x, labels, message.true, message.predicted, message.limit
        )
        pixels = [np.rint(np.clip(x[k], 0, 1) * 255).astype(np.uint8) for k in found["indices"]]
        images = [base64.b64encode(p.tobytes()).decode() for p in pixels]
        self.put({"type": "mistakes", "true": message.true, "predicted": message.predicted,
                  "by": by, "images": images, **found})  # fmt: skip

    async def _network_to_ask(self) -> tuple[Network, str]:
        """(network, "live") — the live training's parameters between two steps, never a
        network caught mid-update — or else (the saved network, "saved"); BadMessage if none."""
        if self.live is not None:
            snapshot = await asyncio.wrap_future(self.live.snapshot())
            return network_from(self.live.trainer.network, snapshot), "live"
        return await self._saved_network(), "saved"

    async def _saved_network(self) -> Network:
        try:
            network = await asyncio.to_thread(load_saved_network)
        except ModelFileError as problem:
            raise BadMessage(f"the saved network cannot be read: {problem}") from None
        if network is None:
            raise BadMessage("no network to ask yet: start training, or save a trained one")
        return network

    # --- training ---------------------------------------------------------------------

    def _is_training(self) -> bool:
        return self.training is not None and not self.training.done()

    async def _stop_training(self) -> None:
        """Stop the training (if any) and wait until its thread has ended."""
        if self.live is not None:
            self.live.stop()
            self.release_all()  # a thread waiting for the client wakes to see the stop
        if self._is_training():
            self.training.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.training

    def _status(self, state: str, **fields) -> None:
        self.put({"type": "status", "state": state, **fields})

    async def _train(self, config: TrainConfig) -> None:
        live = await self._prepare(config)
        if live is None:
            return
        loop = asyncio.get_running_loop()

        def post(messages: list[dict]) -> threading.Event:
            def accept() -> bool:
                if live.stopped.is_set():  # nothing may follow the "stopped" status
                    return False
                # a "paused" overtaken by a resume (its "running" is out already) is stale
                return not (messages == [PAUSED] and self.running.is_set())

            return self.post_from_thread(loop, messages, accept=accept)

        thread = _start_thread(loop, lambda: live.train(post), "gdviz-training")
        try:
            await asyncio.shield(thread)
        except asyncio.CancelledError:
            live.stop()
            with contextlib.suppress(Exception):
                await thread  # the thread ends after its current chunk
            raise
        trainer = live.trainer
        if trainer.diverged:
            self._status("stopped", message="diverged: the cost stopped being a finite number — "
                         "lower the learning rate and train again")  # fmt: skip
            return
        if live.latest is None or live.latest["step"] != trainer.step:
            await asyncio.wrap_future(live.evaluate())  # the last epoch's is usually it
        self._status("finished", step=trainer.step, test_accuracy=live.latest["test_accuracy"])

    def _kernel_compiling(self) -> bool:
        """Whether the server's start is still compiling the Numba kernels (app.web.app)."""
        warming = app_state(self.websocket, "warm_up")
        return warming is not None and warming.is_alive()

    async def _prepare(self, config: TrainConfig) -> LiveTraining | None:
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
        except (DataUnavailableError, SettingsError) as problem:  # a variable changed since
            self._status("stopped", message=str(problem))
            return None
        if self._kernel_compiling():  # a training's first call waits for Numba's compile lock
            self._status("loading", message=COMPILING)
        trainer = await asyncio.to_thread(Trainer, config, data, self.settings.engine)
        if self.live is not None:
            self.live.close()
        live = self.live = LiveTraining(trainer, self.running)
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
            augment=config.augment,
            engine=trainer.engine,
        )
        return live


def _start_thread(
    loop: asyncio.AbstractEventLoop, body: Callable[[], None], name: str
) -> asyncio.Future:
    """Run ``body`` in a thread of its own; the future is done when the thread has ended.

    A thread of its own, not the default executor's: a training holds it for minutes.
    """
    done = loop.create_future()

    def finish(problem: BaseException | None) -> None:
        if done.cancelled():
            return
        if problem is None:
            done.set_result(None)
        else:
            done.set_exception(problem)

    def run() -> None:
        problem = None
        try:
            body()
        except BaseException as error:  # handed to the event loop, which raises it there
            problem = error
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits any more
            loop.call_soon_threadsafe(finish, problem)

    threading.Thread(target=run, name=name, daemon=True).start()
    return done


def _size_limit(raw: str | bytes) -> int:
    """Only a canvas to classify may exceed the usual cap (its "type" comes first)."""
    head = raw[:200] if isinstance(raw, str) else raw[:200].decode(errors="replace")
    return MAX_CLASSIFY_BYTES if '"classify"' in head else MAX_MESSAGE_BYTES
