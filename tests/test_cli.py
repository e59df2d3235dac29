"""The command line: sub-commands, defaults and `python -m app`."""

import subprocess
import sys

import pytest

from app.cli import build_parser, main


def test_defaults_match_the_design():
    serve = build_parser().parse_args(["serve"])
    assert (serve.host, serve.port, serve.open, serve.workers) == ("127.0.0.1", 8000, False, 1)
    train = build_parser().parse_args(["train"])
    assert (train.epochs, train.lr, train.batch_size, train.hidden) == (30, 3.0, 10, [16, 16])
    assert (train.cost, train.activation, train.optimizer) == ("quadratic", "sigmoid", "gd")
    assert build_parser().parse_args([]).command is None  # plain `gdviz` serves


def test_zero_workers_is_refused(capsys):
    assert main(["serve", "--workers", "0"]) == 2
    assert "at least 1" in capsys.readouterr().err


def test_python_dash_m_app_runs_the_same_cli():
    done = subprocess.run(
        [sys.executable, "-m", "app", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "serve" in done.stdout and "train" in done.stdout


def test_other_hosts_than_loopback_are_served_only_with_a_warning(capsys, monkeypatch):
    import uvicorn

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    assert main(["serve"]) == 0
    assert calls[-1]["host"] == "127.0.0.1" and "warning" not in capsys.readouterr().err
    assert main(["serve", "--host", "0.0.0.0", "--port", "8123"]) == 0
    output = capsys.readouterr()
    assert calls[-1]["host"] == "0.0.0.0" and calls[-1]["port"] == 8123
    assert "warning: serving on 0.0.0.0" in output.err
    assert "http://127.0.0.1:8123" in output.out  # the address to open on this machine
    assert main(["serve", "--workers", "3"]) == 0
    assert calls[-1]["workers"] == 3 and calls[-1]["factory"] is True  # one app per process


def test_a_bad_setting_stops_every_command_before_it_starts(capsys, monkeypatch):
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: pytest.fail("served despite a bad setting"))
    monkeypatch.setenv("GDVIZ_MAX_TRAININGS", "abc")
    for command in (["serve"], ["train"], ["data"]):
        assert main(command) == 2
        assert "GDVIZ_MAX_TRAININGS='abc'" in capsys.readouterr().err


def test_asking_for_numba_without_it_stops_serve_with_the_way_to_get_it(capsys, monkeypatch):
    import uvicorn

    from app.mnist import engine

    monkeypatch.setattr(engine, "numba_available", lambda: False)
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: pytest.fail("served without its engine"))
    monkeypatch.setenv("GDVIZ_ENGINE", "numba")
    assert main(["serve"]) == 2
    assert 'pip install "gdviz[fast]"' in capsys.readouterr().err
