"""The ``/ws/train`` client messages as typed models, parsed by one TypeAdapter."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from app.mnist.training import MAX_BATCH, MAX_EPOCHS, MAX_HIDDEN_LAYERS, MAX_LAYER_SIZE
from app.optimizers import OPTIMIZERS
from app.web.control_messages import Ack, Message, Pause, Resume, Stop

OptimizerName = Literal[tuple(OPTIMIZERS)]  # type: ignore[valid-type]
LearningRate = Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False)]
Pixel = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
MAX_SIDE = 1000
#: a classify message carries a whole canvas: 280×280 gray levels is ~0.5 MB of JSON
MAX_CLASSIFY_BYTES = 8 * 1024 * 1024


class Start(Message):
    type: Literal["start"]
    hidden: Annotated[
        list[Annotated[int, Field(ge=1, le=MAX_LAYER_SIZE)]], Field(max_length=MAX_HIDDEN_LAYERS)
    ] = [16, 16]
    activation: Literal["sigmoid", "relu"] = "sigmoid"
    cost: Literal["quadratic", "cross_entropy"] = "quadratic"
    optimizer: OptimizerName = "gd"
    lr: LearningRate = 3.0
    batch_size: Annotated[int, Field(ge=1, le=MAX_BATCH)] = 10
    epochs: Annotated[int, Field(ge=1, le=MAX_EPOCHS)] = 30
    shuffle_labels: bool = False
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = 0
    eval_every: Annotated[int, Field(ge=10, le=10**9)] = 500


class Set(Message):
    type: Literal["set"]
    lr: LearningRate


class Save(Message):
    type: Literal["save"]


class Classify(Message):
    type: Literal["classify"]
    width: Annotated[int, Field(ge=1, le=MAX_SIDE)]
    height: Annotated[int, Field(ge=1, le=MAX_SIDE)]
    pixels: Annotated[list[Pixel], Field(max_length=MAX_SIDE * MAX_SIDE)]


TrainMessage = Annotated[
    Start | Set | Pause | Resume | Stop | Save | Classify | Ack, Field(discriminator="type")
]
train_messages: TypeAdapter = TypeAdapter(TrainMessage)
