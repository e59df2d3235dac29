"""Settings read from ``GDVIZ_*`` environment variables, in one place."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_ROOT.parent
STATIC_DIR = PROJECT_ROOT / "static"
TEMPLATES_DIR = PROJECT_ROOT / "templates"


def data_dir() -> Path:
    """Where MNIST caches and saved networks live (``$GDVIZ_DATA_DIR`` or a user cache)."""
    configured = os.environ.get("GDVIZ_DATA_DIR")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "gdviz"


def model_path() -> Path:
    """The saved digit network that ``POST /api/mnist/classify`` uses (``$GDVIZ_MODEL_PATH``)."""
    configured = os.environ.get("GDVIZ_MODEL_PATH")
    return Path(configured).expanduser() if configured else data_dir() / "model.npz"
