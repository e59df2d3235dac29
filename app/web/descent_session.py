"""One ``/ws/descent`` connection's runs: applies client messages, produces server messages.

Plain Python with no I/O, so the protocol's rules are testable without a socket.
Everything the client should receive goes, in order, into ``outbox``; consecutive
steps of one run are merged into a single ``steps`` message (one per frame).
"""

from __future__ import annotations

import time
from collections import deque

from app.descent import DescentRun
from app.surfaces import SURFACES
from app.web.descent_schemas import Message, Move, Pause, Resume, Set, Start, Step, Stop
from app.web.ws_common import BadMessage

#: at speed 0 ("as fast as possible"), compute steps for this long per frame
FULL_SPEED_BUDGET = 0.012
MAX_FRAME_GAP = 0.1  # a stalled frame never turns into a burst of more than 0.1 s of steps


class RunSlot:
    """A run plus what the stream needs around it: its id, speed, pause and step credit."""

    def __init__(self, run_id: str, run: DescentRun, speed: float, paused: bool) -> None:
        self.id, self.run, self.speed, self.paused = run_id, run, speed, paused
        self.stopped = False
        self.credit = 0.0

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


class DescentSession:
    """The runs of one connection and the messages owed to the client."""

    def __init__(self) -> None:
        self.slots: dict[str, RunSlot] = {}
        self.outbox: deque[dict] = deque()

    # --- client messages --------------------------------------------------------------

    def handle(self, message: Message) -> None:
        """Apply one validated message; raise BadMessage when it cannot apply."""
        handler = getattr(self, f"_on_{message.type}")
        handler(message)

    def _on_start(self, message: Start) -> None:
        surface = SURFACES[message.surface]
        slots = {}
        for index, spec in enumerate(message.runs):
            run_id = spec.id or "abcdefghijklmnop"[index]
            if run_id in slots:
                raise BadMessage(f"two runs share the id {run_id!r}: give each run its own id")
            try:
                run = DescentRun(
                    surface, spec.start, spec.optimizer, spec.lr, spec.hyper, message.max_steps
                )
            except ValueError as error:
                raise BadMessage(str(error)) from None
            speed = message.speed if spec.speed is None else spec.speed
            slots[run_id] = RunSlot(run_id, run, speed, message.paused)
        self.slots = slots
        self.outbox.clear()
        for slot in slots.values():
            self._restart_announce(slot)

    def _on_set(self, message: Set) -> None:
        for slot in self._targets(message.run):
            if message.hyper:
                try:
                    slot.run.set_hyper(**message.hyper)
                except ValueError as error:
                    raise BadMessage(str(error)) from None
            if message.lr is not None:
                slot.run.set_lr(message.lr)
            if message.speed is not None:
                slot.speed = message.speed

    def _on_move(self, message: Move) -> None:
        slot = self._slot(message.run)
        slot.run.restart(message.start)
        slot.stopped, slot.paused, slot.credit = False, False, 0.0
        self._restart_announce(slot)

    def _on_step(self, message: Step) -> None:
        for slot in self.slots.values():
            if slot.live and slot.paused:
                self._emit_steps(slot, slot.run.advance(message.n))
                self._announce_if_ended(slot)

    def _on_pause(self, message: Pause) -> None:
        self._set_paused(True)

    def _on_resume(self, message: Resume) -> None:
        self._set_paused(False)

    def _on_stop(self, message: Stop) -> None:
        for slot in self.slots.values():
            if slot.live:
                slot.stopped = True
                self._status(slot, "stopped by the user")

    # --- the stream ------------------------------------------------------------------

    @property
    def has_work(self) -> bool:
        """True while some run would produce steps on the next frame."""
        return any(slot.live and not slot.paused for slot in self.slots.values())

    def produce(self, elapsed: float) -> None:
        """Compute the steps due after ``elapsed`` seconds and queue them."""
        elapsed = min(elapsed, MAX_FRAME_GAP)
        flat_out = [s for s in self.slots.values() if s.live and not s.paused and s.speed == 0]
        for slot in self.slots.values():
            if slot.live and not slot.paused and slot.speed > 0:
                slot.credit += slot.speed * elapsed
                due = int(slot.credit)
                slot.credit -= due
                if due:
                    self._emit_steps(slot, slot.run.advance(due))
                    self._announce_if_ended(slot)
        if flat_out:
            self._produce_flat_out(flat_out)

    def _produce_flat_out(self, slots: list[RunSlot]) -> None:
        """Speed 0: round-robin chunks of steps until this frame's time budget is used."""
        deadline = time.perf_counter() + FULL_SPEED_BUDGET
        chunk = 256
        while slots and time.perf_counter() < deadline:
            for slot in slots:
                self._emit_steps(slot, slot.run.advance(chunk))
                self._announce_if_ended(slot)
            slots = [slot for slot in slots if slot.live]

    # --- helpers -----------------------------------------------------------------------

    def _targets(self, run_id: str | None) -> list[RunSlot]:
        if run_id is None:
            return list(self.slots.values())
        return [self._slot(run_id)]

    def _slot(self, run_id: str) -> RunSlot:
        try:
            return self.slots[run_id]
        except KeyError:
            known = ", ".join(self.slots) or "none: send a start message first"
            raise BadMessage(f"no run with id {run_id!r} (runs: {known})") from None

    def _set_paused(self, paused: bool) -> None:
        for slot in self.slots.values():
            if slot.live and slot.paused != paused:
                slot.paused = paused
                slot.credit = 0.0
                self._status(slot)

    def _restart_announce(self, slot: RunSlot) -> None:
        self._emit_steps(slot, [slot.run.first_step()])
        self._status(slot, slot.run.reason)

    def _announce_if_ended(self, slot: RunSlot) -> None:
        if not slot.run.running:
            self._status(slot, slot.run.reason)

    def _emit_steps(self, slot: RunSlot, steps: list[dict]) -> None:
        if not steps:
            return
        last = self.outbox[-1] if self.outbox else None
        if last and last["type"] == "steps" and last["run"] == slot.id:
            last["steps"].extend(steps)
        else:
            self.outbox.append({"type": "steps", "run": slot.id, "steps": steps})

    def _status(self, slot: RunSlot, reason: str = "") -> None:
        self.outbox.append(
            {"type": "status", "run": slot.id, "state": slot.state, "reason": reason}
        )
