"""``/ws/descent``: validate client messages, pace the runs, stream their steps.

A ``DescentConnection`` (app.web.connection) holds one ``DescentSession``.  Its
receive loop only validates messages and applies them to the session (cheap:
settings, restarts, step requests), so a ``set`` takes effect from the next step
computed.  Its send loop does all the stepping, once per frame (~60 Hz): it
computes what each run owes this frame, within a time budget, and sends one
``steps`` message per run per frame.  It computes only while the client keeps up
(a slow client slows its runs instead of growing memory) and sleeps or yields
between frames, so the receive loop always gets its turn.  When the client
leaves, both stop at once.

``DescentSession`` does no I/O: every message owed to the client goes, in order,
into its ``outbox``.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, WebSocket

from app.curves import CURVES
from app.descent import DescentRun, Step
from app.formula import FormulaError, formula_surface
from app.settings import Settings
from app.surfaces import SURFACES
from app.web.connection import Connection
from app.web.descent_schemas import (
    RUN_LETTERS,
    ClientMessage,
    Move,
    Pause,
    Resume,
    Set,
    Start,
    Stop,
    descent_messages,
)
from app.web.descent_schemas import Step as StepMessage
from app.web.ws_common import BadMessage

router = APIRouter()

FRAME = 1 / 60  # seconds: at most ~60 steps messages a second per run
# Seconds of stepping per frame at full speed.  Encoding the steps as JSON costs about
# as much again, so this fills a 60 Hz frame; more only delays a `set`'s visible effect.
COMPUTE_BUDGET = 0.008
# An acking client gets frames back to back at full speed (no sleeping between them),
# so they can be short: a `set` then shows after a few ms of steps, not a frame's worth.
# In a Chromium tab (python -m benchmarks.browser_stream, A/B in turns) 1 ms against 2 ms
# halved the `set` round trip's median (16 → 8 ms), 0.5 ms took it to ~5 ms, each at the
# same rate (~340k steps/s). A frame is at least one CHUNK of each run's steps, and with
# 512 that was ~0.5 ms whatever the budget: 0.25 ms and 256-step chunks (ten runs of the
# benchmark each, in turns) took the p50/p90/p99 from 2.8–3.0/5.8–6.0/14.2–16.5 ms to
# 2.0–2.1/3.6/12.3–13.8 ms, at 294k–307k steps/s against 335k–356k; 128-step chunks fell
# to 200k–235k steps/s, under the 250k the page must get.
ACKED_COMPUTE_BUDGET = 0.00025
MAX_FRAME_GAP = 0.1  # a late frame never turns into more than 0.1 s worth of steps
CHUNK = 256  # steps per run per turn when runs share the budget (round robin)
MAX_PENDING = 100_000  # "step" requests queued per paused run


@dataclass(eq=False)
class RunSlot:
    """A run plus what the stream needs around it: its id, speed, pause and step credit."""

    id: str
    run: DescentRun
    speed: float
    paused: bool
    stopped: bool = False
    credit: float = 0.0  # steps earned by elapsed time, not yet computed
    pending: int = 0  # steps asked for by "step" while paused
    curve: bool = False  # a run on a 1-D curve: starts are numbers, steps {i, x, f, g, lr}

    @property
    def live(self) -> bool:
        return self.run.running and not self.stopped

    @property
    def state(self) -> str:
        if self.stopped:
            return "stopped"
        if self.run.running:
            return "paused" if self.paused else "running"
        return self.run.state

    def due(self, elapsed: float) -> float:
        """Bank the credit earned in ``elapsed`` seconds; return the steps due this frame.

        inf means as many as the frame's time budget allows (speed 0).
        """
        if not self.live:
            return 0
        if self.paused:
            return self.pending
        if self.speed == 0:
            return math.inf
        self.credit = min(self.credit + self.speed * elapsed, self.speed * MAX_FRAME_GAP + 1)
        return int(self.credit)

    def computed(self, count: int) -> None:
        if self.paused:
            self.pending -= count
        elif self.speed:
            self.credit -= count
        if not self.live:
            self.credit, self.pending = 0.0, 0


class DescentSession:
    """The runs of one connection and the messages owed to its client."""

    def __init__(self, outbox: deque[dict] | None = None) -> None:
        self.slots: dict[str, RunSlot] = {}
        self.outbox: deque[dict] = deque() if outbox is None else outbox

    # --- client messages ------------------------------------------------------------

    def handle(self, message: ClientMessage) -> None:
        """Apply one validated message; raise BadMessage (changing nothing) if it cannot."""
        getattr(self, f"_on_{message.type}")(message)

    def _on_start(self, message: Start) -> None:
        on_curve = message.curve is not None
        if on_curve:
            surface = CURVES[message.curve].surface
        elif message.surface == "custom":
            try:  # parsed once per formula and domain (cached), small and bounded
                surface = formula_surface(message.formula, message.domain)
            except FormulaError as problem:
                raise BadMessage(f"formula: {problem}") from None
        else:
            surface = SURFACES[message.surface]
        slots: dict[str, RunSlot] = {}
        for index, spec in enumerate(message.runs):
            run_id = spec.id or RUN_LETTERS[index]
            if run_id in slots:
                raise BadMessage(f"two runs share the id {run_id!r}: give each run its own id")
            try:
                run = DescentRun(
                    surface,
                    _point(spec.start_x) if on_curve else spec.start,
                    spec.optimizer,
                    spec.lr,
                    spec.hyper.given(),
                    message.max_steps,
                    spec.seed,
                )
            except ValueError as problem:
                raise BadMessage(f"run {run_id!r}: {problem}") from None
            speed = message.speed if spec.speed is None else spec.speed
            slots[run_id] = RunSlot(run_id, run, speed, paused=message.paused, curve=on_curve)
        self.slots = slots  # a new start replaces every run
        for slot in slots.values():
            self._announce_start(slot)

    def _on_set(self, message: Set) -> None:
        targets = self._targets(message.run)
        hyper = message.hyper.given() if message.hyper else {}
        for slot in targets:  # check every run first: a bad set changes nothing
            try:
                slot.run.check_hyper(**hyper)
            except ValueError as problem:
                raise BadMessage(f"run {slot.id!r}: {problem}") from None
        for slot in targets:
            slot.run.set_hyper(**hyper)
            if message.lr is not None:
                slot.run.set_lr(message.lr)
            if message.speed is not None:
                slot.speed = message.speed

    def _on_move(self, message: Move) -> None:
        slot = self._targets(message.run)[0]
        if slot.curve != (message.start_x is not None):
            shape = "one number x" if slot.curve else "a pair [x, y]"
            raise BadMessage(f"run {slot.id!r} needs its start as {shape}")
        slot.run.restart(_point(message.start_x) if slot.curve else message.start)
        slot.stopped, slot.paused, slot.credit, slot.pending = False, False, 0.0, 0
        self._announce_start(slot)

    def _on_step(self, message: StepMessage) -> None:
        """Queue n more steps for every paused run; the stream computes them."""
        for slot in self._targets(None):
            if slot.live and slot.paused:
                slot.pending = min(slot.pending + message.n, MAX_PENDING)

    def _on_pause(self, message: Pause) -> None:
        for slot in self._targets(None):
            if slot.live and not slot.paused:
                slot.paused, slot.credit, slot.pending = True, 0.0, 0
                self._status(slot)

    def _on_resume(self, message: Resume) -> None:
        for slot in self._targets(None):
            if slot.live and slot.paused:
                slot.paused, slot.credit, slot.pending = False, 0.0, 0
                self._status(slot)

    def _on_stop(self, message: Stop) -> None:
        for slot in self._targets(None):
            if slot.live:
                slot.stopped = True
                self._status(slot, f"stopped at step {slot.run.i:,}")

    # --- the stream ---------------------------------------------------------------------

    @property
    def has_work(self) -> bool:
        """True while some run would compute steps on the next frame."""
        return any(s.live and (s.pending if s.paused else True) for s in self.slots.values())

    @property
    def full_speed(self) -> bool:
        """True while some run steps as fast as it can (speed 0)."""
        return any(s.live and not s.paused and s.speed == 0 for s in self.slots.values())

    def produce(self, elapsed: float, budget: float = COMPUTE_BUDGET) -> int:
        """Compute the steps due ``elapsed`` seconds after the last frame, queue them, count them.

        Runs take turns in chunks until each has what it is owed or ``budget``
        seconds are spent; each run's steps of this frame go out as one message.
        """
        elapsed = min(max(elapsed, 0.0), MAX_FRAME_GAP)
        owed = {slot: slot.due(elapsed) for slot in self.slots.values()}
        batches: dict[RunSlot, list[Step]] = {slot: [] for slot in owed if owed[slot] >= 1}
        deadline = time.perf_counter() + budget
        turn = list(batches)
        while turn:  # at least one turn per frame, however small the budget
            for slot in turn:
                batch = batches[slot]
                batch += slot.run.advance(int(min(CHUNK, owed[slot] - len(batch))))
            turn = [s for s in turn if s.run.running and len(batches[s]) < owed[s]]
            if time.perf_counter() >= deadline:
                break
        for slot, batch in batches.items():
            slot.computed(len(batch))
            self._emit(slot, batch)
            if not slot.run.running:
                self._status(slot, slot.run.reason)
        return sum(map(len, batches.values()))

    # --- helpers ------------------------------------------------------------------------

    def _targets(self, run_id: str | None) -> list[RunSlot]:
        if not self.slots:
            raise BadMessage('there are no runs yet: send {"type": "start"} first')
        if run_id is None:
            return list(self.slots.values())
        if run_id not in self.slots:
            raise BadMessage(f"no run with id {run_id!r} (the runs are {', '.join(self.slots)})")
        return [self.slots[run_id]]

    def _announce_start(self, slot: RunSlot) -> None:
        self._emit(slot, [slot.run.first_step()])
        self._status(slot, slot.run.reason)

    def _emit(self, slot: RunSlot, steps: list[Step]) -> None:
        if steps and slot.curve:  # y is always 0 on a curve: say only what the curve has
            steps = [
                {"i": s["i"], "x": s["x"], "f": s["f"], "g": s["g"][0], "lr": s["lr"]}
                for s in steps
            ]
        if steps:
            self.outbox.append({"type": "steps", "run": slot.id, "steps": steps})

    def _status(self, slot: RunSlot, reason: str = "") -> None:
        self.outbox.append(
            {"type": "status", "run": slot.id, "state": slot.state, "reason": reason}
        )


def _point(x: float | None) -> tuple[float, float] | None:
    """A curve's start as DescentRun takes it: the point (x, 0) of its flat-along-y surface."""
    return None if x is None else (x, 0.0)


# --- the connection ---------------------------------------------------------------------


@router.websocket("/ws/descent")
async def descent_socket(websocket: WebSocket) -> None:
    """Run descents for one client until it disconnects."""
    await DescentConnection.open(websocket)


class DescentConnection(Connection):
    """One client's runs, stepped by the send loop once per frame (app.web.connection).

    A client that acks (app.web.flow) is never more than a frame of every run and
    one message behind: the runs wait for it, and at speed 0 the next frame follows
    as soon as it has caught up, instead of a fixed frame later.
    """

    messages = descent_messages

    @property
    def window(self) -> int:
        """A frame of every run and one message more (a status, a reply) ahead, where a
        training's socket allows two frames and two more: a `set` shows only after the
        frames already sent, so each frame in flight adds to its round trip. In a Chromium
        tab (python -m benchmarks.browser_stream, runs of each in turns) the `set` round
        trip's p99 went from 26–31 ms to 16–23 ms and its p50 from ~6 to ~4 ms, at the
        same rate (230k–310k against 220k–280k steps/s); a frame alone (stop and wait)
        kept the p99 at 19–20 ms but lost a third of the rate."""
        return self.frame_messages + 1

    def __init__(self, websocket: WebSocket, config: Settings | None = None) -> None:
        super().__init__(websocket, config)
        self.session = DescentSession(self.outbox)
        self._last = self._began = asyncio.get_running_loop().time()

    def handle(self, message: ClientMessage) -> Any:
        if isinstance(message, Start) and message.surface == "custom":
            return self._start_custom(message)
        self.session.handle(message)
        return None

    async def _start_custom(self, message: Start) -> None:
        """Parse and differentiate a typed formula in a worker thread first (a long one takes
        SymPy a second or two), so the event loop serves everyone else meanwhile; the start
        then finds it in app.formula's cache."""
        with contextlib.suppress(FormulaError):  # the start itself reports it
            await asyncio.to_thread(formula_surface, message.formula, message.domain)
        self.session.handle(message)

    @property
    def frame_messages(self) -> int:
        return max(len(self.session.slots), 1)

    def wants_frame(self) -> bool:
        return self.session.has_work and self.ready()

    def idle_ended(self) -> None:
        self._last = asyncio.get_running_loop().time()  # time spent idle earns no steps

    def frame(self) -> bool:
        """Compute what the runs owe since the last frame, if the client keeps up."""
        began = asyncio.get_running_loop().time()
        budget = ACKED_COMPUTE_BUDGET if self.flow.acking else COMPUTE_BUDGET
        produced = self.session.produce(began - self._last, budget) if self.ready() else 0
        self._last = self._began = began
        return bool(produced or self.session.has_work)  # pace steps; answer the rest at once

    async def pace(self) -> None:
        """Sleep out the frame: not at all at full speed for an acking client."""
        if self.flow.acking and self.session.full_speed:
            await asyncio.sleep(0)  # the receive loop still gets its turn
            return
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(FRAME - (loop.time() - self._began), 0.0))
