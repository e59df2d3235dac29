"""The FastAPI application factory: builds the app from one router per resource."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import plotly
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from app import __version__
from app.mnist.engine import resolve_engine, warm_up
from app.settings import SettingsError, asset_dir, settings
from app.web import descent_ws, mnist_api, pages, surfaces_api, train_ws
from app.web.basins_api import router as basins_router
from app.web.curves_api import router as curves_router
from app.web.formulas_api import router as formulas_router

PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Freeze start-up's objects; ready the training engine in the background, then freeze again.

    A full collection walks every object — the ~66,000 of FastAPI, pydantic and
    NumPy — and takes ~45 ms, often enough during a full-speed stream to hold a
    `set` back by that much (the slowest twentieth of round trips, before this).
    Frozen, they are never walked again; what the sessions create still is.

    The Numba engine's kernel compiles once per install (~25 s here; loaded from
    Numba's cache after that, 0.2–0.6 s): doing it now, beside start-up, spares the
    first training the wait, and the ~100,000 objects the loading makes are frozen
    too. The NumPy engine needs nothing.
    """
    gc.freeze()
    app.state.warm_up = warm_up(app.state.engine, then=gc.freeze)  # a thread, or None
    yield


def create_app() -> FastAPI:
    """Return a new gdviz application (one per server; tests build their own).

    The ``GDVIZ_*`` settings are read here, once: a bad value raises SettingsError
    naming the variable now, at start-up, rather than failing a session later.
    The sockets and routes use ``app.state.settings``.
    """
    config = settings()
    try:
        engine = resolve_engine(config.engine)
    except ValueError as problem:  # GDVIZ_ENGINE=numba without Numba installed
        raise SettingsError(f"GDVIZ_ENGINE={config.engine!r}: {problem}") from None
    # FastAPIOffline serves /docs and /redoc from local files: no CDN, so they work offline.
    app = FastAPIOffline(
        title="gdviz",
        version=__version__,
        description="Gradient descent on test surfaces and the MNIST digit network, live.",
        lifespan=lifespan,
    )
    app.state.settings = config
    app.state.engine = engine  # the training engine that runs: "numpy" or "numba"
    app.state.trainings = train_ws.TrainingSlots(config.max_trainings)
    app.mount("/static", StaticFiles(directory=asset_dir("static")), name="static")

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        """Plotly.js from the installed ``plotly`` package: the page needs no internet."""
        return FileResponse(PLOTLY_JS, media_type="text/javascript")

    app.add_exception_handler(RequestValidationError, readable_validation_error)
    for module in (pages, surfaces_api, descent_ws, mnist_api, train_ws):
        app.include_router(module.router)
    app.include_router(formulas_router)  # typed formulas (issue 11)
    app.include_router(basins_router)
    app.include_router(curves_router)
    return app


async def readable_validation_error(
    request: Request, error: RequestValidationError
) -> JSONResponse:
    """422 with a one-line ``detail`` a person can read ("n: Input should be ≤ 400")."""
    problems = []
    for item in error.errors()[:3]:
        where = ".".join(str(part) for part in item["loc"] if part not in ("query", "body", "path"))
        problems.append(f"{where}: {item['msg']}" if where else item["msg"])
    return JSONResponse({"detail": "; ".join(problems)}, status_code=422)
