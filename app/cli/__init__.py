"""The ``gdviz`` command line: ``serve`` (the default), ``train`` and ``data``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from app.mnist.engine import resolve_engine
from app.settings import SettingsError, settings


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
    train.add_argument(
        "--batch-size",
        type=_batch_size,
        default=10,
        help='digits per step, or "full" for every training digit in every step',
    )
    train.add_argument("--hidden", type=int, nargs="*", default=[16, 16])
    train.add_argument("--cost", choices=["quadratic", "cross_entropy"], default="quadratic")
    train.add_argument("--activation", choices=["sigmoid", "relu", "step"], default="sigmoid")
    train.add_argument("--optimizer", default="gd")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument(
        "--augment",
        action="store_true",
        help="show each epoch its digits shifted, rotated and re-inked at random "
        "(better on drawn digits)",
    )

    data = commands.add_parser("data", help="show, fetch or import the MNIST data")
    data.add_argument("action", nargs="?", choices=["fetch", "import"], default=None)
    data.add_argument("file", nargs="?", help="with import: a mnist.npz or an IDX file")
    return parser


def _batch_size(text: str) -> int | str:
    """--batch-size: a whole number, or "full" (full-batch gradient descent)."""
    if text == "full":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'a whole number or "full", not {text!r}') from None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gdviz`` console script and ``python -m app``."""
    args = build_parser().parse_args(argv)
    try:  # a bad GDVIZ_* value stops here, named, before any work starts
        resolve_engine(settings().engine)
    except (SettingsError, ValueError) as problem:
        print(f"gdviz: {problem}", file=sys.stderr)
        return 2
    if args.command in (None, "serve"):
        from app.cli.serve import serve

        return serve(
            getattr(args, "host", "127.0.0.1"),
            getattr(args, "port", 8000),
            getattr(args, "open", False),
            getattr(args, "workers", 1),
        )
    if args.command == "train":
        from app.cli.train import run_train_command

        return run_train_command(args)
    from app.cli.data import run_data_command

    return run_data_command(args.action, args.file)
