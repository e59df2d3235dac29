"""A descent run on a surface: a plain iterator of steps, testable without a server.

Step 0 is the start (``lr`` None); step i+1 is one optimizer update from step i,
made with the learning rate it carries (for ``gd``: x_{i+1} = x_i − lr_{i+1}·g_i).
The run stops by itself when it converges, diverges or reaches ``max_steps``
updates.  A diverging step (a non-finite value, or a coordinate beyond 1e6) is
never produced, so nothing downstream ever sees NaN or Infinity.

Speed matters here (a full-speed run streams hundreds of thousands of steps a
second), so the loop keeps the point, value and gradient as Python floats: the
optimizer's ``step_point`` is the update of the same class that trains the digit
network, done in floats (NumPy costs more per call than a whole 2-D update).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from app.optimizers import make_optimizer
from app.surfaces import Surface

__all__ = [
    "COORDINATE_LIMIT",
    "DescentRun",
    "GRADIENT_TOLERANCE",
    "STILL",
    "Step",
]

GRADIENT_TOLERANCE = 1e-6  # |∇f| below this: converged
COORDINATE_LIMIT = 1e6  # a coordinate beyond this: diverged (it left any plot)
STILL = 1e-12  # a move shorter than STILL·(1 + |x|): the point stopped moving

RUNNING, CONVERGED, DIVERGED, MAX_STEPS = "running", "converged", "diverged", "max_steps"

Step = dict[str, Any]  # {"i", "x", "y", "f", "g": [gx, gy], "lr"}, exactly DESIGN.md's


class DescentRun:
    """One optimizer descending one surface from one start.

    ``state`` is "running" until the run ends as "converged", "diverged" or
    "max_steps"; ``reason`` then says why in a sentence.  ``lr`` and the
    hyper-parameters may change between steps (``set_lr``, ``set_hyper``);
    ``restart`` goes back to step 0 with fresh optimizer state, as dragging the
    start marker does.
    """

    def __init__(
        self,
        surface: Surface,
        start: tuple[float, float] | None = None,
        optimizer: str = "gd",
        lr: float | None = None,
        hyper: dict[str, Any] | None = None,
        max_steps: int = 2000,
        seed: int = 0,
    ) -> None:
        if int(max_steps) != max_steps or max_steps < 0:
            raise ValueError(f"max_steps must be a whole number ≥ 0, not {max_steps!r}")
        self.surface = surface
        self.optimizer = make_optimizer(
            optimizer, _check_lr(surface.default_lr if lr is None else lr), hyper, seed
        )
        # the random optimizers only end at max_steps or by diverging: noise never settles
        self.settles = not self.optimizer.noisy
        if self.optimizer.name == "annealing":
            self.optimizer.objective = self._value_or_inf
        self.max_steps = int(max_steps)
        self.restart(surface.default_start if start is None else start)

    # --- settings, effective from the next step ---------------------------------------

    @property
    def lr(self) -> float:
        return self.optimizer.lr

    def set_lr(self, lr: float) -> None:
        """Use ``lr`` from the next step on."""
        self.optimizer.lr = _check_lr(lr)

    def set_hyper(self, **hyper: Any) -> None:
        """Change hyper-parameters (momentum, alpha, betas, eps) from the next step.

        Raises ValueError, changing nothing, for a name this optimizer does not have
        or a value out of range.
        """
        self.check_hyper(**hyper)
        self.optimizer.set_hyper(**hyper)

    def check_hyper(self, **hyper: Any) -> None:
        """Raise ValueError if ``set_hyper(**hyper)`` would; change nothing."""
        make_optimizer(self.optimizer.name, self.optimizer.lr, {**self.optimizer.hyper, **hyper})

    def restart(self, start: tuple[float, float]) -> None:
        """Go back to step 0 at ``start``, forgetting the optimizer's state."""
        x, y = float(start[0]), float(start[1])
        if not (abs(x) <= COORDINATE_LIMIT and abs(y) <= COORDINATE_LIMIT):
            raise ValueError(f"the start ({x:g}, {y:g}) must lie within ±1e6")
        self.optimizer.reset()
        self.i = 0
        self.state, self.reason = RUNNING, ""
        self.x, self.y = x, y
        evaluated = self._evaluate(x, y)
        if evaluated is None:
            self.f, self.gx, self.gy = 0.0, 0.0, 0.0
            self._stop(DIVERGED, "the surface has no finite value at the start point")
            return
        self.f, self.gx, self.gy = evaluated
        self._check_limits(math.hypot(self.gx, self.gy))

    # --- the steps ----------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.state == RUNNING

    def first_step(self) -> Step:
        """Step 0: the start, with no learning rate."""
        return {"i": 0, "x": self.x, "y": self.y, "f": self.f, "g": [self.gx, self.gy], "lr": None}

    def advance(self, n: int) -> list[Step]:
        """Compute up to ``n`` further steps; fewer when the run ends on the way."""
        steps: list[Step] = []
        todo = min(int(n), self.max_steps - self.i)
        if self.state != RUNNING or todo <= 0:
            return steps
        step_point, lr = self.optimizer.step_point, self.optimizer.lr
        x, y, i, gx, gy = self.x, self.y, self.i, self.gx, self.gy
        evaluate, append, hypot = self._evaluate, steps.append, math.hypot
        settles = self.settles
        with np.errstate(all="ignore"):  # once per batch: np.errstate costs more than a step
            for _ in range(todo):
                nx, ny = step_point(x, y, gx, gy)
                # written so that NaN fails it too
                inside = abs(nx) <= COORDINATE_LIMIT and abs(ny) <= COORDINATE_LIMIT
                evaluated = evaluate(nx, ny) if inside else None
                if evaluated is None:
                    self._diverge(i + 1, nx, ny, lr)
                    break
                f, gx, gy = evaluated
                i += 1
                append({"i": i, "x": nx, "y": ny, "f": f, "g": [gx, gy], "lr": lr})
                moved = hypot(nx - x, ny - y)
                x, y = nx, ny
                if settles and (
                    hypot(gx, gy) < GRADIENT_TOLERANCE or moved <= STILL * (1.0 + hypot(x, y))
                ):
                    break
        if steps:
            self.i, self.x, self.y = i, x, y
            self.f, self.gx, self.gy = steps[-1]["f"], *steps[-1]["g"]
            if self.state == RUNNING:
                self._check_limits(hypot(self.gx, self.gy), moved)
        return steps

    def __iter__(self) -> Iterator[Step]:
        """Every step from step 0 (after a (re)start) to the end: ``list(run)`` is a run."""
        if self.i == 0:
            yield self.first_step()
        while self.state == RUNNING:
            yield from self.advance(4096)

    # --- helpers ------------------------------------------------------------------------

    def _evaluate(self, x: float, y: float) -> tuple[float, float, float] | None:
        """(f, gx, gy) as Python floats at (x, y), or None where any is not finite."""
        try:  # the formulas themselves: Surface's wrappers only matter for arrays
            gx, gy = self.surface.gradient_fn(x, y)
            f, gx, gy = float(self.surface.value_fn(x, y)), float(gx), float(gy)
        except ArithmeticError:  # Python floats raise on overflow where NumPy says inf
            return None
        if math.isfinite(f) and math.isfinite(gx) and math.isfinite(gy):
            return f, gx, gy
        return None

    def _check_limits(self, gradient_norm: float, moved: float | None = None) -> None:
        """End the run if the current step converged or used the last allowed update."""
        if not self.settles:
            if self.i >= self.max_steps:
                self._stop(MAX_STEPS, f"reached the step limit ({self.max_steps:,} steps)")
            return
        if gradient_norm < GRADIENT_TOLERANCE:
            where = "at the start" if self.i == 0 else f"at step {self.i:,}"
            self._stop(CONVERGED, f"converged {where}: |∇f| = {gradient_norm:.2e} < 1e-6")
        elif moved is not None and moved <= STILL * (1.0 + math.hypot(self.x, self.y)):
            self._stop(
                CONVERGED,
                f"converged at step {self.i:,}: the point stopped moving, each step too "
                f"small to change it (f = {self.f:.6g}, |∇f| = {gradient_norm:.2e})",
            )
        elif self.i >= self.max_steps:
            self._stop(MAX_STEPS, f"reached the step limit ({self.max_steps:,} steps)")

    def _diverge(self, i: int, x: float, y: float, lr: float) -> None:
        """End the run at the update that would have produced step ``i`` at (x, y)."""
        if not (math.isfinite(x) and math.isfinite(y)):
            what = "the point became infinite"
        elif abs(x) > COORDINATE_LIMIT or abs(y) > COORDINATE_LIMIT:
            axis = "x" if abs(x) > COORDINATE_LIMIT else "y"
            what = f"the point left the plot (|{axis}| > 1e6)"
        else:
            what = "f or its gradient stopped being a finite number"
        new_f = self._value_or_inf(x, y)
        if new_f < self.f:  # still going downhill: nothing holds it in that direction
            why = "the surface keeps falling that way, with no minimum to stop in"
        else:  # uphill: each step overshoots the valley and lands higher on the far side
            why = f"learning rate {lr:g} too large for this curvature"
        self._stop(DIVERGED, f"diverged: {why}: {what} at step {i:,}")

    def _value_or_inf(self, x: float, y: float) -> float:
        try:
            with np.errstate(all="ignore"):
                value = float(self.surface.value(x, y))
        except ArithmeticError:
            return math.inf
        return value if not math.isnan(value) else math.inf

    def _stop(self, state: str, reason: str) -> None:
        self.state, self.reason = state, reason


def _check_lr(lr: float) -> float:
    lr = float(lr)
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"the learning rate must be a positive finite number, not {lr!r}")
    return lr
