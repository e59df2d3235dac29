"""``python -m app`` runs the same command line as ``gdviz``."""

from app.cli import main

raise SystemExit(main())
