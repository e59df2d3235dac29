"""The ``/ws/descent`` client messages as typed models, parsed by one TypeAdapter.

Field names, defaults and limits follow DESIGN.md's protocol.  Models are strict
(no "0.1" strings for numbers, no unknown fields), so a typo gets an error naming
it instead of being silently ignored.  Whether a hyper-parameter fits the chosen
optimizer, and its range, is checked by the optimizer itself (one set of rules).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, TypeAdapter, model_validator

from app.curves import CURVES
from app.descent import COORDINATE_LIMIT
from app.optimizers import POINT_OPTIMIZERS
from app.surfaces import SURFACES
from app.web.control_messages import Ack, Message, Pause, Resume, Stop

MAX_RUNS = 16
MAX_STEPS = 1_000_000
MAX_SPEED = 100_000  # steps per second per run; 0 means as fast as possible
MAX_LR = 1e3
MAX_STEP_N = 10_000  # steps per "step" message
RUN_LETTERS = "abcdefghijklmnop"  # default ids, by position (MAX_RUNS of them)

SurfaceName = Literal[(*SURFACES, "custom")]  # type: ignore[valid-type]
CurveName = Literal[tuple(CURVES)]  # type: ignore[valid-type]
OptimizerName = Literal[tuple(POINT_OPTIMIZERS)]  # type: ignore[valid-type]
Finite = Annotated[float, Field(allow_inf_nan=False)]
Coordinate = Annotated[float, Field(ge=-COORDINATE_LIMIT, le=COORDINATE_LIMIT, allow_inf_nan=False)]
Point = Annotated[list[Coordinate], Field(min_length=2, max_length=2)]
LearningRate = Annotated[float, Field(gt=0, le=MAX_LR, allow_inf_nan=False)]
Speed = Annotated[float, Field(ge=0, le=MAX_SPEED, allow_inf_nan=False)]


def _run_id(value: str) -> str:
    if not RUN_ID.fullmatch(value):
        raise ValueError(f"a run id is 1 to 32 letters, digits, '_' or '-', not {value[:40]!r}")
    return value


RUN_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
RunId = Annotated[str, AfterValidator(_run_id)]


def _number_start(data: Any) -> Any:
    """Move a start given as one number (a curve's x) to ``start_x``.

    A pair stays in ``start``, so its errors read as they always have.
    """
    if isinstance(data, dict):
        start = data.get("start")
        if isinstance(start, int | float) and not isinstance(start, bool):
            data = {key: value for key, value in data.items() if key != "start"}
            data["start_x"] = start
    return data


class Hyper(Message):
    """torch's names; which ones apply depends on the optimizer."""

    momentum: Finite | None = None
    alpha: Finite | None = None
    betas: Annotated[list[Finite], Field(min_length=2, max_length=2)] | None = None
    eps: Finite | None = None
    temperature: Finite | None = None  # langevin and annealing
    cooling: Finite | None = None
    step: Finite | None = None  # annealing's proposal scale

    def given(self) -> dict[str, Any]:
        """Only the hyper-parameters the client named."""
        return self.model_dump(exclude_none=True)


class RunSpec(Message):
    id: RunId | None = None  # default: "a", "b", … by position
    start: Point | None = None  # default: the surface's default start
    start_x: Coordinate | None = None  # on a curve: the start, sent as "start": x
    optimizer: OptimizerName = "gd"
    lr: LearningRate | None = None  # default: the surface's default lr
    hyper: Hyper = Hyper()
    speed: Speed | None = None  # extension: this run's own speed (default: the start's)
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] = 0  # the noisy optimizers' generator

    _x_start = model_validator(mode="before")(_number_start)


class Start(Message):
    type: Literal["start"]
    surface: SurfaceName = "himmelblau"
    runs: Annotated[list[RunSpec], Field(min_length=1, max_length=MAX_RUNS)] = [RunSpec()]
    max_steps: Annotated[int, Field(ge=1, le=MAX_STEPS)] = 2000
    speed: Speed = 60
    paused: bool = False  # extension: send step 0 and wait for "resume" or "step"
    formula: str | None = None  # for surface "custom": the typed formula (app.formula)
    domain: Annotated[list[Point], Field(min_length=2, max_length=2)] | None = None
    curve: CurveName | None = None  # a 1-D curve instead of a surface: starts are numbers

    @model_validator(mode="after")
    def _starts_fit(self) -> Start:
        if self.curve is not None and "surface" in self.model_fields_set:
            raise ValueError("give a surface or a curve, not both")
        if self.curve is None and self.surface == "custom" and self.formula is None:
            raise ValueError('the custom surface needs its formula: "formula": "x^2 + y^2"')
        for index, run in enumerate(self.runs):
            if self.curve is not None and run.start is not None:
                raise ValueError(f"runs[{index}].start: on a curve a start is one number x")
            if self.curve is None and run.start_x is not None:
                raise ValueError(f"runs[{index}].start: on a surface a start is a pair [x, y]")
        return self


class Set(Message):
    type: Literal["set"]
    run: RunId | None = None  # None: every run
    lr: LearningRate | None = None
    speed: Speed | None = None
    hyper: Hyper | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> Set:
        if self.lr is None and self.speed is None and self.hyper is None:
            raise ValueError("a set message needs lr, speed or hyper")
        return self


class Move(Message):
    type: Literal["move"]
    run: RunId = "a"
    start: Point | None = None  # a pair on a surface …
    start_x: Coordinate | None = None  # … one number on a curve, sent as "start": x

    _x_start = model_validator(mode="before")(_number_start)

    @model_validator(mode="after")
    def _has_start(self) -> Move:
        if self.start is None and self.start_x is None:
            raise ValueError("start is missing")
        return self


class Step(Message):
    type: Literal["step"]
    n: Annotated[int, Field(ge=1, le=MAX_STEP_N)] = 1


ClientMessage = Start | Set | Move | Step | Pause | Resume | Stop | Ack
descent_messages: TypeAdapter[ClientMessage] = TypeAdapter(
    Annotated[ClientMessage, Field(discriminator="type")]
)
