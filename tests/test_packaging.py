"""What the package imports is what it declares, and nothing declared goes unused."""

import ast
import importlib.metadata
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

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
    assert declared("fast") == {"numba", "llvmlite"}  # llvmlite: Numba's, used directly too
    probe = "app/mnist/engine.py"  # tries the import, to pick the engine
    assert all(path.startswith("app/mnist/fast/") or path == probe for path in used["numba"])
    assert all(path.startswith("app/mnist/fast/") for path in used["llvmlite"])
    assert not {"numba", "llvmlite"} & declared()  # the default install carries no LLVM


def test_every_declared_package_is_used():
    used = set(imported_distributions(ROOT / "app")) | set(USED_INDIRECTLY)
    unused = declared() - used
    assert not unused, f"declared in pyproject.toml but never imported: {sorted(unused)}"


def declared_floor(name: str) -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for requirement in project["dependencies"]:
        if canonical(re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0]) == name:
            return re.search(r">=\s*([\w.]+)", requirement).group(1)
    raise AssertionError(f"{name} is not declared")


@pytest.mark.needs_index
def test_the_oldest_uvicorn_allowed_has_the_websocket_implementation_gdviz_asks_for(tmp_path):
    """``gdviz serve`` runs uvicorn with ws="websockets-sansio": the declared floor must have it
    (the floor was 0.29, and 0.34 has no such implementation)."""
    floor = declared_floor("uvicorn")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(tmp_path),
         f"uvicorn=={floor}"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("uvicorn-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "uvicorn/protocols/websockets/websockets_sansio_impl.py" in names
    config = next(n for n in names if n == "uvicorn/config.py")
    assert '"websockets-sansio"' in zipfile.ZipFile(wheel).read(config).decode()
    assert 'ws="websockets-sansio"' in (ROOT / "app" / "cli" / "serve.py").read_text()
