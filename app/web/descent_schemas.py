"""The ``/ws/descent`` client messages as typed models, parsed by one TypeAdapter."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from app.optimizers import OPTIMIZERS
from app.surfaces import SURFACES
from app.web.ws_common import register_tags

SurfaceName = Literal[tuple(SURFACES)]  # type: ignore[valid-type]
OptimizerName = Literal[tuple(OPTIMIZERS)]  # type: ignore[valid-type]
Coordinate = Annotated[float, Field(ge=-1e6, le=1e6, allow_inf_nan=False)]
Point = tuple[Coordinate, Coordinate]
LearningRate = Annotated[float, Field(gt=0, le=1e3, allow_inf_nan=False)]
Speed = Annotated[float, Field(ge=0, le=100_000, allow_inf_nan=False)]
RunId = Annotated[str, Field(min_length=1, max_length=32)]
HyperValue = Annotated[float, Field(allow_inf_nan=False)] | tuple[float, float]
Hyper = Annotated[dict[Literal["momentum", "alpha", "betas", "eps"], HyperValue], Field()]

MAX_RUNS = 16
MAX_STEPS = 1_000_000


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunSpec(Message):
    id: RunId | None = None
    start: Point | None = None
    optimizer: OptimizerName = "gd"
    lr: LearningRate | None = None
    hyper: Hyper = {}
    speed: Speed | None = None


class Start(Message):
    type: Literal["start"]
    surface: SurfaceName = "himmelblau"
    runs: Annotated[list[RunSpec], Field(min_length=1, max_length=MAX_RUNS)] = [RunSpec()]
    max_steps: Annotated[int, Field(ge=1, le=MAX_STEPS)] = 2000
    speed: Speed = 60
    paused: bool = False


class Set(Message):
    type: Literal["set"]
    run: RunId | None = None
    lr: LearningRate | None = None
    speed: Speed | None = None
    hyper: Hyper | None = None


class Move(Message):
    type: Literal["move"]
    run: RunId = "a"
    start: Point


class Step(Message):
    type: Literal["step"]
    n: Annotated[int, Field(ge=1, le=10_000)] = 1


class Pause(Message):
    type: Literal["pause"]


class Resume(Message):
    type: Literal["resume"]


class Stop(Message):
    type: Literal["stop"]


DescentMessage = Annotated[
    Start | Set | Move | Step | Pause | Resume | Stop, Field(discriminator="type")
]
descent_messages: TypeAdapter = TypeAdapter(DescentMessage)
register_tags("start", "set", "move", "step", "pause", "resume", "stop")
