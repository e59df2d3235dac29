"""What the package imports is what it declares, and nothing declared goes unused."""

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: declared but never imported by name: what they are for
USED_INDIRECTLY = {
    "jinja2": "fastapi.templating renders the pages with it",
}


def declared(group: str | None = None) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = (
        project["dependencies"] if group is None else project["optional-dependencies"][group]
    )
    return {canonical(re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0]) for r in requirements}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def imported_distributions(folder: Path) -> dict[str, set[str]]:
    """Every third-party distribution imported under ``folder`` → the files importing it."""
    modules_to_dists = importlib.metadata.packages_distributions()
    found: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top == "app" or top in sys.stdlib_module_names:
                    continue
                for dist in modules_to_dists.get(top, [top]):
                    found.setdefault(canonical(dist), set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_imported_package_is_declared():
    used = imported_distributions(ROOT / "app")
    allowed = declared() | declared("fast")
    missing = {dist: sorted(files) for dist, files in used.items() if dist not in allowed}
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_only_the_compiled_engine_needs_the_fast_extra():
    used = imported_distributions(ROOT / "app")
    assert declared("fast") == {"numba"}
    probe = "app/mnist/engine.py"  # tries the import, to pick the engine
    assert all(path.startswith("app/mnist/fast/") or path == probe for path in used["numba"])
    assert "numba" not in declared()  # the default install carries no LLVM


def test_every_declared_package_is_used():
    used = set(imported_distributions(ROOT / "app")) | set(USED_INDIRECTLY)
    unused = declared() - used
    assert not unused, f"declared in pyproject.toml but never imported: {sorted(unused)}"
