"""The ``/ws/train`` client messages as typed models, parsed by one TypeAdapter."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, TypeAdapter, model_validator

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
    activation: Literal["sigmoid", "relu", "step"] = "sigmoid"
    cost: Literal["quadratic", "cross_entropy"] = "quadratic"
    optimizer: OptimizerName = "gd"
    lr: LearningRate = 3.0
    #: "full": every training digit in one batch (full-batch gradient descent)
    batch_size: Annotated[int, Field(ge=1, le=MAX_BATCH)] | Literal["full"] = 10
    epochs: Annotated[int, Field(ge=1, le=MAX_EPOCHS)] = 30
    shuffle_labels: bool = False
    augment: bool = False
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = 0
    eval_every: Annotated[int, Field(ge=10, le=10**9)] = 500


class Set(Message):
    type: Literal["set"]
    lr: LearningRate


class Save(Message):
    type: Literal["save"]


class Classify(Message):
    """A drawing to classify: ``pixels`` (gray levels 0..1, row-major, as DESIGN.md has it)
    or ``gray8``, the same canvas as base64 bytes 0..255 — what the page sends, since a
    280×280 list of numbers is 400 KB of JSON that takes ~10 ms to parse, check and
    convert, and its 78 KB of bytes take 0.1 ms."""

    type: Literal["classify"]
    width: Annotated[int, Field(ge=1, le=MAX_SIDE)]
    height: Annotated[int, Field(ge=1, le=MAX_SIDE)]
    pixels: Annotated[list[Pixel], Field(max_length=MAX_SIDE * MAX_SIDE)] | None = None
    gray8: Annotated[str, Field(max_length=4 * MAX_SIDE * MAX_SIDE // 3 + 4)] | None = None

    @model_validator(mode="after")
    def _one_canvas(self) -> Classify:
        if (self.pixels is None) == (self.gray8 is None):
            raise ValueError(
                "send the drawing as pixels (gray levels 0..1) or as gray8 (base64 bytes), "
                "exactly one of them"
            )
        return self

    def canvas(self) -> list[float] | np.ndarray:
        """The gray levels 0..1, row-major; a ValueError saying what is wrong with gray8."""
        if self.pixels is not None:
            return self.pixels
        return gray8_canvas(self.gray8, self.width, self.height)


def gray8_canvas(gray8: str, width: int, height: int) -> np.ndarray:
    """A base64 canvas (one byte 0..255 per pixel) as gray levels 0..1; a ValueError
    saying what is wrong with it."""
    try:
        data = base64.b64decode(gray8, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("gray8 must be base64 (the canvas's bytes, one per pixel)") from None
    if len(data) != width * height:
        raise ValueError(
            f"gray8 holds {len(data):,} bytes; a {width}×{height} canvas needs {width * height:,}"
        )
    return np.frombuffer(data, dtype=np.uint8) / 255.0


class Landscape(Message):
    """The cost over a plane through the parameters (app.mnist.landscape), with the path."""

    type: Literal["landscape"]
    n: Annotated[int, Field(ge=3, le=101)] = 41
    span: Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)] = 1.0
    method: Literal["pca", "random"] = "pca"
    samples: Annotated[int, Field(ge=1, le=10_000)] = 1000
    directions: bool = False


class Mistakes(Message):
    """The test digits labelled ``true`` that the network reads as ``predicted``."""

    type: Literal["mistakes"]
    true: Annotated[int, Field(ge=0, le=9)]
    predicted: Annotated[int, Field(ge=0, le=9)]
    limit: Annotated[int, Field(ge=1, le=200)] = 48


TrainMessage = Annotated[
    Start | Set | Pause | Resume | Stop | Save | Classify | Ack | Landscape | Mistakes,
    Field(discriminator="type"),
]
train_messages: TypeAdapter = TypeAdapter(TrainMessage)
