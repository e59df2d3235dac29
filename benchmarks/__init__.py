"""Reproducible speed measurements: ``python -m benchmarks`` (see the README).

``app`` is imported first, before NumPy: the trainings measured in this process then
run with the OpenBLAS setting the app makes for itself (app/__init__.py).
"""

import app  # noqa: F401
