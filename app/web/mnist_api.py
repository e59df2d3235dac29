"""``/api/mnist``: which data is loaded, and classifying a drawing with the saved network."""

from __future__ import annotations

import asyncio
import base64
from typing import Annotated

import numpy as np
from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.mnist.classify import classify
from app.mnist.data import DataUnavailableError, dataset_info, load_mnist
from app.mnist.evaluation import evaluate_network
from app.mnist.model_store import ModelFileError, load_metadata, load_saved_network
from app.mnist.one_example import example_backprop
from app.web.train_schemas import gray8_canvas

router = APIRouter(prefix="/api/mnist", tags=["digits"])

MAX_SIDE = 1000
MAX_TEST_DIGITS = 1000  # digits per /test-digits page
Pixel = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
NO_MODEL = (
    "no trained network yet: train one on /mnist and press Save, or run `gdviz train` in a terminal"
)


class Drawing(BaseModel):
    """A canvas as gray levels, ink = 1, row-major."""

    model_config = ConfigDict(extra="forbid")
    width: Annotated[int, Field(ge=1, le=MAX_SIDE)]
    height: Annotated[int, Field(ge=1, le=MAX_SIDE)]
    pixels: Annotated[list[Pixel], Field(max_length=MAX_SIDE * MAX_SIDE)]


class DatasetInfo(BaseModel):
    source: str
    train: int
    test: int
    cached: bool
    engine: str = Field(description='the training engine that runs: "numpy" or "numba"')
    saved_model: bool = Field(False, description="whether a trained network has been saved")


class Classification(BaseModel):
    digit: int
    probabilities: list[float]
    input: list[float]
    activations: list[list[float]]


@router.get("/dataset", response_model=DatasetInfo)
async def dataset(request: Request) -> dict:
    """Which MNIST data is in use, loading it if needed (as a training would), and which
    engine trains. Where no source answers, the counts are 0 and ``source`` says why."""
    try:
        await asyncio.to_thread(load_mnist)
    except DataUnavailableError as problem:
        return {"source": str(problem), "train": 0, "test": 0, "cached": False,
                "engine": request.app.state.engine}  # fmt: skip
    return {**dataset_info(), "engine": request.app.state.engine, "saved_model": _has_model()}


def _has_model() -> bool:
    try:
        return load_saved_network() is not None
    except ModelFileError:
        return False


@router.post(
    "/classify",
    response_model=Classification,
    responses={409: {"description": "no network has been trained and saved yet"}},
)
async def classify_drawing(drawing: Drawing) -> dict:
    """The saved network's answer for a drawing, with the 28×28 input it saw."""
    network = await asyncio.to_thread(_saved_network)
    try:
        return await asyncio.to_thread(
            classify, network, drawing.width, drawing.height, drawing.pixels
        )
    except ValueError as problem:  # EmptyCanvasError included
        raise HTTPException(422, str(problem)) from None


def _saved_network():
    try:
        network = load_saved_network()
    except ModelFileError as problem:
        raise HTTPException(
            409, f"the saved network cannot be read ({problem}); train a new one"
        ) from None
    if network is None:
        raise HTTPException(409, NO_MODEL)
    return network


class TestDigits(BaseModel):
    total: int = Field(description="digits in the test split")
    labels: list[int]
    images: list[str] = Field(description="each digit as base64 of 784 bytes 0..255, row-major")


class Evaluation(BaseModel):
    accuracy: float
    cost: float | None = Field(description="mean cost; null when not a finite number")
    confusion: list[list[int]] = Field(
        description="10×10: rows the true digit, columns the read one"
    )
    mistakes: dict[str, list[int]] = Field(description='{"t,p": test indices of t read as p}')


class SavedModel(BaseModel):
    sizes: list[int]
    activation: str
    cost: str
    weights: list[list[list[float]]] = Field(description="per layer (n_out, n_in)")
    biases: list[list[float]]
    test_accuracy: float | None


@router.get("/test-digits", response_model=TestDigits)
async def test_digits(
    start: Annotated[int, Query(ge=0)] = 0,
    count: Annotated[int, Query(ge=1, le=MAX_TEST_DIGITS)] = 100,
) -> dict:
    """Digits of the test split in their stored order (the order evaluations and the
    landscape use), as base64 bytes; fewer than ``count`` at its end."""
    data = await asyncio.to_thread(_dataset)
    total = len(data.y_test)
    if start > total:
        raise HTTPException(422, f"start must lie between 0 and {total} (the test split's size)")
    images = gray_bytes(data.x_test[start : start + count])
    return {
        "total": total,
        "labels": [int(v) for v in data.y_test[start : start + count]],
        "images": [base64.b64encode(row.tobytes()).decode() for row in images],
    }


@router.get(
    "/evaluation",
    response_model=Evaluation,
    responses={409: {"description": "no network has been trained and saved yet"}},
)
async def evaluation() -> dict:
    """The saved network on the whole test split: accuracy, cost, confusion and mistakes."""
    network = await asyncio.to_thread(_saved_network)
    data = await asyncio.to_thread(_dataset)
    return await asyncio.to_thread(evaluate_network, network, data.x_test, data.y_test)


@router.get(
    "/model",
    response_model=SavedModel,
    responses={409: {"description": "no network has been trained and saved yet"}},
)
async def model() -> dict:
    """The saved network's layers, weights and biases (each weight matrix (n_out, n_in))."""
    network = await asyncio.to_thread(_saved_network)
    try:
        metadata = await asyncio.to_thread(load_metadata)
    except (OSError, ValueError):  # replaced or removed since: the network is what counts
        metadata = {}
    accuracy = metadata.get("test_accuracy")
    return {
        "sizes": list(network.sizes),
        "activation": network.activation,
        "cost": network.cost_name,
        "weights": [w.astype(np.float64).tolist() for w in network.weights],
        "biases": [b.astype(np.float64).tolist() for b in network.biases],
        "test_accuracy": accuracy if isinstance(accuracy, int | float) else None,
    }


def gray_bytes(x: np.ndarray) -> np.ndarray:
    """Pixels 0..1 back to the bytes 0..255 they were read from."""
    return np.rint(np.clip(x, 0.0, 1.0) * 255.0).astype(np.uint8)


def _dataset():
    try:
        return load_mnist()
    except DataUnavailableError as problem:
        raise HTTPException(503, f"no MNIST digits to show: {problem}") from None


class BackpropRequest(BaseModel):
    """A drawing — ``pixels`` (gray 0..1, row-major) or ``gray8`` (base64 bytes 0..255),
    exactly one — and the digit it is meant to be."""

    model_config = ConfigDict(extra="forbid")
    width: Annotated[int, Field(ge=1, le=MAX_SIDE)]
    height: Annotated[int, Field(ge=1, le=MAX_SIDE)]
    pixels: Annotated[list[Pixel], Field(max_length=MAX_SIDE * MAX_SIDE)] | None = None
    gray8: Annotated[str, Field(max_length=4 * MAX_SIDE * MAX_SIDE // 3 + 4)] | None = None
    label: Annotated[int, Field(ge=0, le=9, strict=True)]

    @model_validator(mode="after")
    def _one_canvas(self) -> BackpropRequest:
        if (self.pixels is None) == (self.gray8 is None):
            raise ValueError("send the drawing as pixels or as gray8, exactly one of them")
        return self


class Gradients(BaseModel):
    weights: list[list[list[float]]] = Field(description="∂C/∂W per layer, each (n_out, n_in)")
    biases: list[list[float]] = Field(description="∂C/∂b per layer")


class Backprop(BaseModel):
    digit: int
    label: int
    probabilities: list[float]
    input: list[float]
    activations: list[list[float]]
    cost: float = Field(description="this example's cost")
    nudges: list[list[float]] = Field(
        description="−∂C/∂a per layer, hidden layers first, the output layer last"
    )
    gradients: Gradients


@router.post(
    "/backprop",
    response_model=Backprop,
    responses={409: {"description": "no network has been trained and saved yet"}},
)
async def backprop(request: BackpropRequest) -> dict:
    """One drawing's backprop through the saved network: the desired nudges of every
    layer's activations and the gradient of this example's cost."""
    network = await asyncio.to_thread(_saved_network)
    try:
        canvas = (
            request.pixels
            if request.pixels is not None
            else gray8_canvas(request.gray8, request.width, request.height)
        )
        return await asyncio.to_thread(
            example_backprop, network, request.width, request.height, canvas, request.label
        )
    except ValueError as problem:  # EmptyCanvasError included
        raise HTTPException(422, str(problem)) from None
