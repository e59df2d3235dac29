"""A descent run on a surface: a plain iterator of steps, testable without a server.

Step 0 is the start; step i+1 is one optimizer update from step i, made with the
learning rate it carries.  The run stops by itself when it converges, diverges
or reaches ``max_steps``; a diverging step (non-finite, or off beyond 1e6) is
never produced, so nothing downstream ever sees NaN or Infinity.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from app.optimizers import make_optimizer
from app.surfaces import Surface

__all__ = ["DescentRun", "GRADIENT_TOLERANCE", "COORDINATE_LIMIT"]

GRADIENT_TOLERANCE = 1e-6  # |∇f| below this: converged
COORDINATE_LIMIT = 1e6  # a coordinate beyond this: diverged
STILL = 1e-12  # a step shorter than this (relative to |x|): the point stopped moving

RUNNING, CONVERGED, DIVERGED, MAX_STEPS = "running", "converged", "diverged", "max_steps"


class DescentRun:
    """One optimizer descending one surface from one start.

    ``lr`` and hyper-parameters may change between steps (``set_lr``,
    ``set_hyper``); ``restart`` goes back to step 0 from a new start with fresh
    optimizer state, as dragging the start marker does.
    """

    def __init__(
        self,
        surface: Surface,
        start: tuple[float, float] | None = None,
        optimizer: str = "gd",
        lr: float | None = None,
        hyper: dict[str, Any] | None = None,
        max_steps: int = 2000,
    ) -> None:
        self.surface = surface
        self.optimizer = make_optimizer(optimizer, surface.default_lr if lr is None else lr, hyper)
        self.max_steps = int(max_steps)
        self.restart(surface.default_start if start is None else start)

    @property
    def lr(self) -> float:
        return self.optimizer.lr

    def set_lr(self, lr: float) -> None:
        """Use ``lr`` from the next step on."""
        self.optimizer.lr = float(lr)

    def set_hyper(self, **hyper: Any) -> None:
        """Change hyper-parameters (momentum, alpha, betas, eps) from the next step."""
        self.optimizer.set_hyper(**hyper)

    def restart(self, start: tuple[float, float]) -> None:
        """Go back to step 0 at ``start``, forgetting the optimizer's state."""
        self.point = np.array([float(start[0]), float(start[1])])
        self.optimizer.reset()
        self.i = 0
        self.state = RUNNING
        self.reason = ""
        self.f, gx, gy = self._evaluate()
        self.grad = np.array([gx, gy])
        if not self._finite(self.f, gx, gy):
            self._stop(DIVERGED, "the surface is not finite at the start point")

    @property
    def running(self) -> bool:
        return self.state == RUNNING

    def first_step(self) -> dict:
        """Step 0: the start, with no learning rate."""
        return self._record(None)

    def advance(self, n: int) -> list[dict]:
        """Compute up to ``n`` further steps; fewer when the run stops on the way."""
        steps = []
        while len(steps) < n and self.state == RUNNING:
            step = self._update()
            if step is not None:
                steps.append(step)
        return steps

    def __iter__(self) -> Iterator[dict]:
        """Every step from the current one to the end: ``list(run)`` is a whole run."""
        if self.i == 0:
            yield self.first_step()
        while self.state == RUNNING:
            yield from self.advance(1)

    # --- one update -------------------------------------------------------------------

    def _update(self) -> dict | None:
        if self.i >= self.max_steps:
            self._stop(MAX_STEPS, f"stopped after {self.max_steps:,} steps (the step limit)")
            return None
        lr = self.optimizer.lr
        previous = self.point.copy()
        self.optimizer.step([self.point], [self.grad])
        x, y = float(self.point[0]), float(self.point[1])
        if not (math.isfinite(x) and math.isfinite(y)) or max(abs(x), abs(y)) > COORDINATE_LIMIT:
            self.point = previous
            return self._diverge(lr)
        f, gx, gy = self._evaluate()
        if not self._finite(f, gx, gy):
            self.point = previous
            return self._diverge(lr)
        self.i += 1
        self.f = f
        self.grad[0], self.grad[1] = gx, gy
        step = self._record(lr)
        self._check_converged(previous)
        return step

    def _evaluate(self) -> tuple[float, float, float]:
        x, y = float(self.point[0]), float(self.point[1])
        with np.errstate(all="ignore"):
            gx, gy = self.surface.gradient(x, y)
            return float(self.surface.value(x, y)), float(gx), float(gy)

    @staticmethod
    def _finite(*values: float) -> bool:
        return all(math.isfinite(v) and abs(v) < 1e300 for v in values)

    def _check_converged(self, previous: np.ndarray) -> None:
        gradient_norm = math.hypot(self.grad[0], self.grad[1])
        moved = math.hypot(*(self.point - previous))
        if gradient_norm < GRADIENT_TOLERANCE:
            self._stop(CONVERGED, f"|∇f| = {gradient_norm:.1e} < 1e-6")
        elif moved <= STILL * (1.0 + math.hypot(*self.point)):
            self._stop(CONVERGED, "the point stopped moving")

    def _diverge(self, lr: float) -> None:
        if self.surface.minima:
            why = f"learning rate {lr:g} is too large for this curvature: the steps overshoot"
        else:
            why = "this surface has no minimum that way: the point slid off to infinity"
        self._stop(DIVERGED, f"at step {self.i + 1}: {why}")

    def _stop(self, state: str, reason: str) -> None:
        self.state, self.reason = state, reason

    def _record(self, lr: float | None) -> dict:
        return {
            "i": self.i,
            "x": float(self.point[0]),
            "y": float(self.point[1]),
            "f": self.f,
            "g": [float(self.grad[0]), float(self.grad[1])],
            "lr": lr,
        }
