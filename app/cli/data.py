"""``gdviz data [fetch | import FILE]``: show, fetch or import the MNIST digits.

Exit code 0 when the command did what was asked, 1 with a message on stderr when not.
Downloads draw a tqdm bar per file on stderr, fed by the data layer's progress callback.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator

from app.cli.progress import TqdmProgress
from app.mnist.data import (
    DataFormatError,
    Dataset,
    DataUnavailableError,
    dataset_info,
    fetch_mnist,
    import_file,
)
from app.settings import settings

__all__ = ["run_data_command"]


def run_data_command(action: str | None, file: str | None) -> int:
    """Run ``gdviz data``; ``action`` is None (show), ``"fetch"`` or ``"import"``."""
    if action is None:
        if file:
            return _fail(f"unexpected argument {file!r}; did you mean `gdviz data import {file}`?")
        return _show()
    if action == "fetch":
        if file:
            return _fail("`gdviz data fetch` takes no FILE; use `gdviz data import FILE`")
        return _fetch()
    if action == "import":
        if not file:
            return _fail(
                "`gdviz data import` needs a FILE: a Keras mnist.npz or one of MNIST's "
                "four IDX files (e.g. train-images-idx3-ubyte.gz)"
            )
        return _import(file)
    return _fail(f"unknown action {action!r}: use `gdviz data`, `fetch` or `import FILE`")


def _show() -> int:
    info = dataset_info()
    folder = settings().data_dir
    if not info["cached"]:
        print(f"MNIST data: none cached yet in {folder}")
        print("  Run `gdviz data fetch` (training fetches it too), or `gdviz data import FILE`.")
        return 0
    print(f"MNIST data: {info['source']}")
    print(f"  train: {info['train']:,} digits   test: {info['test']:,} digits")
    print(f"  folder: {folder}")
    return 0


def _fetch() -> int:
    with _warnings_to_stderr(), TqdmProgress() as bar:
        try:
            dataset, failures = fetch_mnist(progress=bar)
        except DataUnavailableError as err:
            bar.close()
            return _fail(str(err))
    if failures:
        print("No mirror of the full set answered:", file=sys.stderr)
        for reason in failures:
            print(f"  - {reason}", file=sys.stderr)
    _report("Using", dataset)
    return 0


def _import(file: str) -> int:
    try:
        dataset = import_file(file)
    except (DataFormatError, OSError) as err:
        return _fail(f"cannot import {file}: {err}")
    _report("Imported", dataset)
    return 0


def _report(verb: str, dataset: Dataset) -> None:
    print(f"{verb} {dataset.source}")
    print(f"  train: {len(dataset.y_train):,} digits   test: {len(dataset.y_test):,} digits")
    print(f"  folder: {settings().data_dir}")


def _fail(message: str) -> int:
    print(f"gdviz data: {message}", file=sys.stderr)
    return 1


@contextlib.contextmanager
def _warnings_to_stderr() -> Iterator[None]:
    """Show the data layer's warnings (e.g. a damaged cache) while fetching."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("gdviz data: %(message)s"))
    logger = logging.getLogger("gdviz.mnist")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
