"""gdviz: a web-based gradient descent visualizer."""

__version__ = "0.1.0"
