"""The message models both WebSockets share: the strict base and the bare control messages."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class Message(BaseModel):
    """A client message: no unknown fields, no strings where numbers belong."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Pause(Message):
    type: Literal["pause"]


class Resume(Message):
    type: Literal["resume"]


class Stop(Message):
    type: Literal["stop"]


class Ack(Message):
    """The client has handled ``received`` messages of this connection (see app.web.flow)."""

    type: Literal["ack"]
    received: Annotated[int, Field(ge=0, le=2**53)]
