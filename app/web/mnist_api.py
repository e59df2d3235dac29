"""``/api/mnist``: which data is loaded, and classifying a drawing with the saved network."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from app.mnist.classify import classify
from app.mnist.data import DataUnavailableError, dataset_info, load_mnist
from app.mnist.model_store import ModelFileError, load_saved_network

router = APIRouter(prefix="/api/mnist", tags=["digits"])

MAX_SIDE = 1000
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
    return {**dataset_info(), "engine": request.app.state.engine}


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
