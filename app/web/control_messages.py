"""The message models both WebSockets share: the strict base and the bare control messages."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class Message(BaseModel):
    """A client message: no unknown fields, no strings where numbers belong."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Pause(Message):
    type: Literal["pause"]


class Resume(Message):
    type: Literal["resume"]


class Stop(Message):
    type: Literal["stop"]
