"""Optimizers with exactly ``torch.optim``'s update rules.

One implementation moves both the 2-D point of the surface lab and the weight
arrays of the digit network: an optimizer steps a list of NumPy arrays in place,
given their gradients.  ``lr`` and the hyper-parameters are plain attributes, so
they may change between steps (the learning-rate slider does exactly that).

Per-parameter state (momentum buffers, running averages, and scratch arrays for
the intermediate results) is allocated once, on the first step, with the
parameter's own dtype, so float32 weights stay float32 and no step allocates.

``step_point`` is the same update for a 2-D point held in Python floats: NumPy
costs about a microsecond per call on a 2-element array, more than the whole
update, and a full-speed surface run takes hundreds of thousands of steps a
second.  It performs the same IEEE operations in the same order as ``step``, so
both give bit-identical points (tests/test_optimizers.py checks it).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

__all__ = ["NOISY_OPTIMIZERS", "OPTIMIZERS", "POINT_OPTIMIZERS", "Optimizer", "make_optimizer"]


class Optimizer:
    """Base class: holds ``lr``, validated hyper-parameters and per-array state."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    #: hyper-parameter name -> torch default
    defaults: ClassVar[dict[str, Any]] = {}

    #: True for the random optimizers: their runs never converge, they cool down
    noisy: ClassVar[bool] = False

    def __init__(self, lr: float, seed: int = 0, **hyper: Any) -> None:
        self.lr = float(lr)
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise ValueError(f"seed must be a whole number ≥ 0, not {seed!r}")
        self.seed = int(seed)  # only the noisy optimizers draw from it
        unknown = sorted(set(hyper) - set(self.defaults))
        if unknown:
            allowed = ", ".join(sorted(self.defaults)) or "none"
            raise ValueError(
                f"{self.name} has no hyper-parameter {', '.join(unknown)} (allowed: {allowed})"
            )
        self.hyper: dict[str, Any] = {**self.defaults}
        self.set_hyper(**hyper)
        self.t = 0  # number of steps taken, as torch's state["step"]
        self.state: list[dict[str, np.ndarray]] = []
        self.point_state: list[list[float]] = []  # step_point's state: one list per axis

    def set_hyper(self, **hyper: Any) -> None:
        """Change hyper-parameters between steps (validated like the constructor)."""
        for key, value in hyper.items():
            if key not in self.defaults:
                raise ValueError(f"{self.name} has no hyper-parameter {key}")
            self.hyper[key] = self._check_hyper(key, value)

    def _check_hyper(self, key: str, value: Any) -> Any:
        if key == "betas":
            if not isinstance(value, list | tuple) or len(value) != 2:
                raise ValueError("betas must be a pair of numbers, e.g. [0.9, 0.999]")
            b1, b2 = (_number("betas", v) for v in value)
            if not (0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0):
                raise ValueError("betas must both lie in [0, 1)")
            return (b1, b2)
        value = _number(key, value)
        if not math.isfinite(value):
            raise ValueError(f"{key} must be a finite number")
        if key in ("momentum", "alpha") and not 0.0 <= value < 1.0:
            raise ValueError(f"{key} must lie in [0, 1)")
        if key == "eps" and not 0.0 < value <= 1.0:
            raise ValueError("eps must lie in (0, 1]")
        if key == "temperature" and not 0.0 <= value <= 1e6:
            raise ValueError("temperature must lie in [0, 1e6]")
        if key == "cooling" and not 0.0 < value <= 1.0:
            raise ValueError("cooling must lie in (0, 1]")
        if key == "step" and not 0.0 < value <= 1e6:
            raise ValueError("step must lie in (0, 1e6]")
        return value

    def reset(self) -> None:
        """Forget all state, as a freshly built torch optimizer would."""
        self.t = 0
        self.state = []
        self.point_state = []

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        """Move every array of ``params`` in place, one update against ``grads``."""
        if not self.state:
            self.state = [self._new_state(p) for p in params]
        self.t += 1
        for p, g, s in zip(params, grads, self.state, strict=True):
            self._update(p, g, s)

    def keep(self, mask: np.ndarray) -> None:
        """Keep only the entries ``mask`` selects of every state array.

        For parameters that are many independent points (a basin map's starts):
        the finished ones leave the arrays, and each survivor keeps its own state.
        """
        self.state = [{key: a[mask] for key, a in s.items()} for s in self.state]

    def step_point(self, x: float, y: float, gx: float, gy: float) -> tuple[float, float]:
        """One update of the point (x, y) given ∇f = (gx, gy): exactly ``step`` on [x, y]."""
        if not self.point_state:
            self.point_state = [[0.0] * self.scalar_state_size, [0.0] * self.scalar_state_size]
        self.t += 1
        sx, sy = self.point_state
        return self._update_scalar(x, gx, sx), self._update_scalar(y, gy, sy)

    def _new_state(self, param: np.ndarray) -> dict[str, np.ndarray]:
        """This optimizer's buffers for one parameter array; s1 holds each step's update."""
        return {"s1": np.empty_like(param)}

    def _update(self, p: np.ndarray, g: np.ndarray, s: dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    def _descend(
        self, p: np.ndarray, g: np.ndarray, s: dict[str, np.ndarray], scale: np.ndarray
    ) -> None:
        """p -= lr·g / scale, computed as that expression is, in the scratch array s1."""
        step = np.multiply(g, self.lr, out=s["s1"])
        step /= scale
        p -= step

    def _scale(self, total: np.ndarray, s: dict[str, np.ndarray]) -> np.ndarray:
        """√total + eps, into s["s2"] (the denominator of Adagrad and RMSprop, which
        allocate s2 for it)."""
        scale = np.sqrt(total, out=s["s2"])
        scale += self.hyper["eps"]
        return scale

    #: floats of state per coordinate that ``_update_scalar`` keeps
    scalar_state_size: ClassVar[int] = 0

    def _update_scalar(self, p: float, g: float, s: list[float]) -> float:
        """``_update`` for one coordinate in Python floats; returns the new coordinate."""
        raise NotImplementedError


def _number(name: str, value: Any) -> float:
    """``value`` as a float, or a ValueError naming the hyper-parameter."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise ValueError(f"{name} must be a number, not {value!r}")
    return float(value)


class GD(Optimizer):
    """Plain gradient descent: x -= lr·g (torch.optim.SGD, no momentum)."""

    name = "gd"
    title = "Gradient descent"

    def _update(self, p, g, s):
        p -= np.multiply(g, self.lr, out=s["s1"])  # lr·g: multiplication commutes exactly

    def _update_scalar(self, p, g, s):
        return p - self.lr * g


class Momentum(Optimizer):
    """Heavy ball: b = μb + g; x -= lr·b (torch.optim.SGD with momentum)."""

    name = "momentum"
    title = "Momentum"
    defaults = {"momentum": 0.9}

    def _new_state(self, param):
        return {**super()._new_state(param), "b": np.zeros_like(param)}

    def _update(self, p, g, s):
        b = s["b"]
        b *= self.hyper["momentum"]
        b += g
        p -= np.multiply(self._direction_into(g, b, s["s1"]), self.lr, out=s["s1"])

    def _direction_into(self, g: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
        """The direction of the step: b itself (Nesterov writes its own into ``out``)."""
        return b

    def _direction(self, g: float, b: float) -> float:
        return b

    scalar_state_size = 1

    def _update_scalar(self, p, g, s):
        b = s[0] * self.hyper["momentum"] + g
        s[0] = b
        return p - self.lr * self._direction(g, b)


class Nesterov(Momentum):
    """Nesterov momentum as torch writes it: b = μb + g; x -= lr·(g + μb)."""

    name = "nesterov"
    title = "Nesterov"

    def _direction_into(self, g, b, out):
        direction = np.multiply(b, self.hyper["momentum"], out=out)
        direction += g  # g + μb: addition commutes exactly
        return direction

    def _direction(self, g, b):
        return g + self.hyper["momentum"] * b


class Adagrad(Optimizer):
    """Adagrad: G += g²; x -= lr·g / (√G + eps)."""

    name = "adagrad"
    title = "Adagrad"
    defaults = {"eps": 1e-10}

    def _new_state(self, param):
        state = {**super()._new_state(param), "s2": np.empty_like(param)}
        return {**state, "sum": np.zeros_like(param)}

    def _update(self, p, g, s):
        total = s["sum"]
        total += np.multiply(g, g, out=s["s1"])
        self._descend(p, g, s, self._scale(total, s))

    scalar_state_size = 1

    def _update_scalar(self, p, g, s):
        total = s[0] + g * g
        s[0] = total
        return p - self.lr * g / (math.sqrt(total) + self.hyper["eps"])


class RMSprop(Optimizer):
    """RMSprop: v = αv + (1−α)g²; x -= lr·g / (√v + eps)."""

    name = "rmsprop"
    title = "RMSprop"
    defaults = {"alpha": 0.99, "eps": 1e-8}

    def _new_state(self, param):
        state = {**super()._new_state(param), "s2": np.empty_like(param)}
        return {**state, "v": np.zeros_like(param)}

    def _update(self, p, g, s):
        alpha = self.hyper["alpha"]
        v = s["v"]
        v *= alpha
        square = np.multiply(g, 1.0 - alpha, out=s["s1"])
        square *= g  # (1 − α)·g·g, in that order
        v += square
        self._descend(p, g, s, self._scale(v, s))

    scalar_state_size = 1

    def _update_scalar(self, p, g, s):
        alpha = self.hyper["alpha"]
        v = s[0] * alpha + (1.0 - alpha) * g * g
        s[0] = v
        return p - self.lr * g / (math.sqrt(v) + self.hyper["eps"])


class Adam(Optimizer):
    """Adam with bias correction, written exactly as torch.optim.Adam computes it."""

    name = "adam"
    title = "Adam"
    defaults = {"betas": (0.9, 0.999), "eps": 1e-8}

    def _new_state(self, param):
        state = {**super()._new_state(param), "s2": np.empty_like(param)}
        return {**state, "m": np.zeros_like(param), "v": np.zeros_like(param)}

    def _update(self, p, g, s):
        beta1, beta2 = self.hyper["betas"]
        m, v, scratch = s["m"], s["v"], s["s1"]
        m *= beta1
        m += np.multiply(g, 1.0 - beta1, out=scratch)
        v *= beta2
        square = np.multiply(g, 1.0 - beta2, out=scratch)
        square *= g  # (1 − β2)·g·g, in that order
        v += square
        step_size = self.lr / (1.0 - beta1**self.t)
        denom = np.sqrt(v, out=s["s2"])
        denom /= math.sqrt(1.0 - beta2**self.t)
        denom += self.hyper["eps"]
        step = np.multiply(m, step_size, out=scratch)
        step /= denom
        p -= step

    scalar_state_size = 2

    def _update_scalar(self, p, g, s):
        beta1, beta2 = self.hyper["betas"]
        m = s[0] * beta1 + (1.0 - beta1) * g
        v = s[1] * beta2 + (1.0 - beta2) * g * g
        s[0], s[1] = m, v
        step_size = self.lr / (1.0 - beta1**self.t)
        denom = math.sqrt(v) / math.sqrt(1.0 - beta2**self.t) + self.hyper["eps"]
        return p - step_size * m / denom


OPTIMIZERS: dict[str, type[Optimizer]] = {
    cls.name: cls for cls in (GD, Momentum, Nesterov, Adagrad, RMSprop, Adam)
}


# --- escaping a pit: noise that cools down ------------------------------------------------


class _Cooling(Optimizer):
    """A random optimizer with a temperature T = temperature·cooling^t (t = steps before this).

    Its generator is seeded by ``seed`` and reseeded by ``reset``, so a restarted run
    replays the same steps bit for bit.
    """

    noisy = True
    defaults = {"temperature": 1.0, "cooling": 0.999}

    def __init__(self, lr: float, seed: int = 0, **hyper: Any) -> None:
        super().__init__(lr, seed, **hyper)
        self.rng = np.random.default_rng(self.seed)

    def reset(self) -> None:
        super().reset()
        self.rng = np.random.default_rng(self.seed)

    def temperature(self) -> float:
        """T of the step being taken (self.t already counts it)."""
        return self.hyper["temperature"] * self.hyper["cooling"] ** (self.t - 1)


class Langevin(_Cooling):
    """Langevin dynamics: x -= lr·g + √(2·lr·T)·ξ, ξ ~ N(0, I) — gradient descent plus heat."""

    name = "langevin"
    title = "Langevin (noisy GD)"

    def _update(self, p, g, s):
        kick = self.rng.standard_normal(p.shape).astype(p.dtype, copy=False)
        kick *= math.sqrt(2.0 * self.lr * self.temperature())
        step = np.multiply(g, self.lr, out=s["s1"])
        step += kick
        p -= step

    def step_point(self, x: float, y: float, gx: float, gy: float) -> tuple[float, float]:
        self.t += 1
        scale = math.sqrt(2.0 * self.lr * self.temperature())
        xi, eta = self.rng.standard_normal(2).tolist()
        return x - (self.lr * gx + scale * xi), y - (self.lr * gy + scale * eta)


class Annealing(_Cooling):
    """Simulated annealing: propose x + step·ξ; accept it with probability min(1, e^(−Δf/T)).

    It needs f, not the gradient (``lr`` is unused): ``objective(x, y)`` is set by
    the run, and a proposal where f is not finite is refused.
    """

    name = "annealing"
    title = "Simulated annealing"
    defaults = {**_Cooling.defaults, "step": 0.5}
    objective: Any = None  # f(x, y) -> float, given by the run

    def step(self, params, grads):
        raise ValueError("annealing moves a point on a surface; it cannot train weights")

    def step_point(self, x: float, y: float, gx: float, gy: float) -> tuple[float, float]:
        self.t += 1
        temperature = self.temperature()
        xi, eta = self.rng.standard_normal(2).tolist()
        u = float(self.rng.random())  # drawn every step, so the stream never depends on f
        nx, ny = x + self.hyper["step"] * xi, y + self.hyper["step"] * eta
        f_new = self.objective(nx, ny)
        if not math.isfinite(f_new):
            return x, y
        delta = f_new - self.objective(x, y)
        if delta <= 0.0 or (temperature > 0.0 and u < math.exp(-delta / temperature)):
            return nx, ny
        return x, y


NOISY_OPTIMIZERS: dict[str, type[Optimizer]] = {cls.name: cls for cls in (Langevin, Annealing)}
#: every optimizer a point on a surface can use (OPTIMIZERS alone train the digit network)
POINT_OPTIMIZERS: dict[str, type[Optimizer]] = {**OPTIMIZERS, **NOISY_OPTIMIZERS}


def make_optimizer(
    name: str, lr: float, hyper: dict[str, Any] | None = None, seed: int = 0
) -> Optimizer:
    """Build the optimizer called ``name``; a clear ValueError for an unknown name."""
    try:
        cls = POINT_OPTIMIZERS[name]
    except KeyError:
        raise ValueError(
            f"unknown optimizer {name!r} (choose from {', '.join(POINT_OPTIMIZERS)})"
        ) from None
    return cls(lr, seed, **(hyper or {}))
