"""The ``gdviz`` command line: ``serve`` (the default), ``train`` and ``data``."""

from __future__ import annotations

import argparse
import sys
import threading
import webbrowser
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    """Describe every sub-command; ``gdviz`` alone means ``gdviz serve``."""
    parser = argparse.ArgumentParser(
        prog="gdviz", description="Watch gradient descent happen, live in the browser."
    )
    commands = parser.add_subparsers(dest="command")

    serve = commands.add_parser("serve", help="serve the app (default)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on")
    serve.add_argument("--open", action="store_true", help="open the page in a browser")
    serve.add_argument(
        "--workers", type=int, default=1, help="worker processes (uvicorn's own multi-process mode)"
    )

    train = commands.add_parser("train", help="train the digit network and save it")
    train.add_argument("--epochs", type=int, default=30)
    train.add_argument("--lr", type=float, default=3.0)
    train.add_argument("--batch-size", type=int, default=10)
    train.add_argument("--hidden", type=int, nargs="*", default=[16, 16])
    train.add_argument("--cost", choices=["quadratic", "cross_entropy"], default="quadratic")
    train.add_argument("--activation", choices=["sigmoid", "relu"], default="sigmoid")
    train.add_argument("--optimizer", default="gd")
    train.add_argument("--seed", type=int, default=0)

    data = commands.add_parser("data", help="show, fetch or import the MNIST data")
    data.add_argument("action", nargs="?", choices=["fetch", "import"], default=None)
    data.add_argument("file", nargs="?", help="with import: a mnist.npz or an IDX file")
    return parser


def serve(host: str, port: int, open_browser: bool, workers: int = 1) -> int:
    """Run the app with uvicorn until interrupted."""
    import uvicorn

    if workers < 1:
        print("gdviz: --workers must be at least 1", file=sys.stderr)
        return 2
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"warning: serving on {host}: other machines on the network can reach gdviz",
            file=sys.stderr,
        )
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    print(f"gdviz: open {url}")
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    # Each worker builds its own app; every session lives in one connection, so any
    # worker can hold it, and the saved model and data cache are shared files.
    uvicorn.run(
        "app.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        ws="websockets-sansio",
        ws_per_message_deflate=False,  # compression costs ~30 % of streaming throughput
        log_level="info",
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gdviz`` console script and ``python -m app``."""
    args = build_parser().parse_args(argv)
    if args.command in (None, "serve"):
        return serve(
            getattr(args, "host", "127.0.0.1"),
            getattr(args, "port", 8000),
            getattr(args, "open", False),
            getattr(args, "workers", 1),
        )
    if args.command == "train":
        from app.mnist.train_command import run_train_command

        return run_train_command(args)
    from app.mnist.data_command import run_data_command

    return run_data_command(args.action, args.file)
