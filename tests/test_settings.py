"""Every GDVIZ_* setting comes through app.settings: typed, checked, named when wrong."""

from pathlib import Path

import platformdirs
import pytest

from app.settings import SettingsError, asset_dir, settings


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("DATA_DIR", "MODEL_PATH", "ALLOWED_ORIGINS", "MAX_TRAININGS", "ENGINE"):
        monkeypatch.delenv(f"GDVIZ_{name}", raising=False)
    return monkeypatch


def test_the_cache_folder_follows_the_platform_and_the_model_lives_in_it(clean_env):
    current = settings()
    assert current.data_dir == Path(platformdirs.user_cache_dir("gdviz"))
    assert current.saved_model == current.data_dir / "model.npz"


def test_variables_override_the_defaults(clean_env, tmp_path):
    clean_env.setenv("GDVIZ_DATA_DIR", str(tmp_path))
    clean_env.setenv("GDVIZ_ALLOWED_ORIGINS", " https://Gdviz.example.org/ ,http://10.0.0.5:8000")
    clean_env.setenv("GDVIZ_MAX_TRAININGS", "2")
    clean_env.setenv("GDVIZ_ENGINE", "numpy")
    current = settings()
    assert current.saved_model == tmp_path / "model.npz"
    assert current.allowed_origins == {"https://gdviz.example.org", "http://10.0.0.5:8000"}
    assert (current.max_trainings, current.engine) == (2, "numpy")
    clean_env.setenv("GDVIZ_MODEL_PATH", "~/nets/digits.npz")
    assert settings().saved_model == Path.home() / "nets" / "digits.npz"


@pytest.mark.parametrize(
    "name, value, words",
    [
        ("MAX_TRAININGS", "abc", "valid integer"),
        ("MAX_TRAININGS", "0", "greater than or equal to 1"),
        ("ENGINE", "gpu", "'auto', 'numpy' or 'numba'"),
    ],
)
def test_a_bad_value_is_named_with_the_reason(clean_env, name, value, words):
    clean_env.setenv(f"GDVIZ_{name}", value)
    with pytest.raises(SettingsError) as raised:
        settings()
    assert f"GDVIZ_{name}={value!r}" in str(raised.value) and words in str(raised.value)


def test_the_page_files_are_found_from_a_checkout():
    assert (asset_dir("static") / "favicon.svg").is_file()
    assert (asset_dir("templates") / "mnist.html").is_file()
