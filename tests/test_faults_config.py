"""Hostile pipeline and training TOML files, and failing runs (issue 14).

Each case must end as one line naming the file or the key, exit code 1, no
traceback on the console (the run's log file keeps it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pytest
from test_pipeline import DAYS, make_pipeline

from oceaninterp.cli.app import main
from oceaninterp.config import read_train_config
from oceaninterp.errors import ConfigError, InputError
from oceaninterp.pipeline import run_pipeline
from oceaninterp.pipeline.config import RunConfig, cpu_count

BINARY = bytes(range(256)) * 4


@pytest.fixture
def pipeline(tmp_path: Path) -> Path:
    return make_pipeline(tmp_path, DAYS[:2], end=DAYS[1])


def _edited(path: Path, old: str, new: str) -> Path:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return path


def _raising(exc: Exception) -> Callable[..., NoReturn]:
    """A stand-in for a function or method that raises ``exc``."""

    def fail(*args: object, **kwargs: object) -> NoReturn:
        raise exc

    return fail


def _run_cli(args: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_:
        main(args)
    return int(exit_.value.code or 0), capsys.readouterr().err


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("resolution = 0.25", 'resolution = "0.25"', r"\[grid\] resolution: expected a number"),
        ("resolution = 0.25", "resolution = true", r"\[grid\] resolution: expected a number"),
        ("resolution = 0.25", "resolution = nan", r"\[grid\] resolution: expected a finite"),
        ("resolution = 0.25", "resolution = inf", r"\[grid\] resolution: expected a finite"),
        ("lon_min = -60.0", 'lon_min = "west"', r"\[grid\] lon_min: expected a number"),
        ("lon_min = -60.0", "lon_min = 500.0", r"\[grid\] lon_min: expected degrees_east"),
        ('name = "test"', "name = 3", r"\[pipeline\] name: expected a string"),
        ("block_days = 4", "block_days = 4.5", r"block_days: expected an integer"),
        ("block_days = 4", "block_days = true", r"block_days: expected an integer"),
        ('on_error = "skip"', "on_error = []", r"\[pipeline\] on_error: expected a string"),
        ("[[reconstruct]]", "[dask]\nworkers = 1000\n\n[[reconstruct]]", "at most"),
        ("[[reconstruct]]", "[dask]\nworkers = 2.0\n\n[[reconstruct]]", "expected an integer"),
    ],
)
def test_pipeline_values_of_the_wrong_type_name_the_key(
    pipeline: Path, old: str, new: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        RunConfig.from_toml(_edited(pipeline, old, new))


def test_workers_are_bounded_by_the_cpus(pipeline: Path) -> None:
    text = pipeline.read_text().replace(
        "[[reconstruct]]", "[dask]\nworkers = 1000\n\n[[reconstruct]]"
    )
    pipeline.write_text(text)
    with pytest.raises(ConfigError, match=rf"at most {cpu_count()} \(the CPUs of this machine\)"):
        RunConfig.from_toml(pipeline)


@pytest.mark.parametrize("content", [BINARY, b"\xff\xfe[pipeline]\n", "é".encode("latin-1")])
def test_binary_files_are_refused_in_one_line(
    tmp_path: Path, content: bytes, capsys: pytest.CaptureFixture
) -> None:
    path = tmp_path / "p.toml"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        RunConfig.from_toml(path)
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        read_train_config(path)
    code, err = _run_cli(["run", str(path)], capsys)
    assert code == 1 and err.startswith("error: ") and "Traceback" not in err
    code, err = _run_cli(
        ["train", "c.nc", "--truth", "t.nc", "-o", str(tmp_path / "m.pt"), "--config", str(path)],
        capsys,
    )
    assert code == 1 and "not UTF-8 text" in err and "Traceback" not in err


def test_a_folder_or_a_huge_file_is_not_a_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="a folder, not a pipeline file"):
        RunConfig.from_toml(tmp_path)
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * (5 * 2**20))
    with pytest.raises(ConfigError, match="too large"):
        RunConfig.from_toml(big)


def test_train_config_types_name_the_key(tmp_path: Path) -> None:
    path = tmp_path / "train.toml"
    path.write_text("[model]\nn_step = 10000000\n")
    with pytest.raises(ConfigError, match=r"n_step: expected an integer in 1\.\.100"):
        read_train_config(path)
    path.write_text("[train]\nepochs = true\n")
    with pytest.raises(ConfigError, match=r"\[train\] epochs: expected an integer"):
        read_train_config(path)
    path.write_text("[train]\ntrain_start = 2020-01-01\n")  # a TOML date is an ISO date
    with pytest.raises(ConfigError, match="give all six dates or none"):
        read_train_config(path)


@pytest.mark.parametrize("where", ["toml", "option"])
def test_an_output_root_that_is_a_file_is_refused(pipeline: Path, where: str) -> None:
    blocker = pipeline.parent / "out"
    blocker.write_text("a file")
    if where == "toml":
        with pytest.raises(InputError, match=r"\[pipeline\] output_root: .* is a file"):
            run_pipeline(pipeline)
    else:
        with pytest.raises(InputError, match=r"-o/--output: .* is a file"):
            run_pipeline(pipeline, output_root=blocker / "sub")
    assert blocker.read_text() == "a file"


def test_an_unreachable_scheduler_fails_fast_in_one_line(
    pipeline: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from oceaninterp.pipeline import executor

    monkeypatch.setattr(executor, "CONNECT_TIMEOUT_S", 1)
    _edited(
        pipeline, "[[reconstruct]]", '[dask]\nscheduler = "tcp://127.0.0.1:9"\n\n[[reconstruct]]'
    )
    code, err = _run_cli(["run", str(pipeline)], capsys)
    assert code == 1
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert lines == [lines[0]] and "[dask] scheduler tcp://127.0.0.1:9: no answer within 1 s" in err
    assert "Traceback" not in err


def test_a_failing_unit_is_one_console_line_and_a_traceback_in_the_log(
    pipeline: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from oceaninterp.pipeline import tasks

    def broken(*args, **kwargs):
        raise ValueError("bad\nvalue  spread over\nlines")

    monkeypatch.setattr(tasks, "grid_day", broken)
    code, err = _run_cli(["run", str(pipeline)], capsys)
    assert code == 1 and "Traceback" not in err
    failed = [line for line in err.splitlines() if "grid/" in line and "failed:" in line]
    assert len(failed) == 2  # one line a day
    assert all(line.endswith("ValueError: bad value spread over lines") for line in failed)
    (log,) = (pipeline.parent / "out" / "logs").glob("run-*.log")
    text = log.read_text()
    assert "Traceback" in text and 'raise ValueError("bad' in text


def test_with_log_level_debug_the_console_shows_the_traceback(
    pipeline: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from oceaninterp.pipeline import tasks

    monkeypatch.setattr(tasks, "grid_day", _raising(ValueError("bad value")))
    code, err = _run_cli(["run", str(pipeline), "--log-level", "debug"], capsys)
    assert code == 1 and "Traceback" in err


def test_an_unexpected_error_is_one_line_and_a_debug_traceback(
    pipeline: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from oceaninterp.pipeline import runner

    monkeypatch.setattr(runner, "target_days", _raising(RuntimeError("a bug")))
    code, err = _run_cli(["run", str(pipeline)], capsys)
    assert code == 1 and "Traceback" not in err
    assert err.startswith("error: unexpected RuntimeError: a bug") and err.count("\n") <= 2
    code, err = _run_cli(["run", str(pipeline), "--log-level", "debug"], capsys)
    assert code == 1 and "Traceback" in err and "error: unexpected RuntimeError" in err


def test_a_bug_during_a_run_keeps_its_traceback_in_the_log_file(
    pipeline: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from oceaninterp.pipeline import runner

    monkeypatch.setattr(runner._Run, "execute", _raising(KeyError("lost")))
    code, err = _run_cli(["run", str(pipeline)], capsys)
    assert code == 1 and "Traceback" not in err
    assert "error: unexpected KeyError: 'lost'" in err
    (log,) = (pipeline.parent / "out" / "logs").glob("run-*.log")
    assert "FAILED | KeyError: 'lost'" in log.read_text() and "Traceback" in log.read_text()


@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe", b"[1, 2]"])
def test_a_damaged_manifest_is_forgotten_with_a_warning(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    from oceaninterp.pipeline.manifest import Manifest

    (tmp_path / "manifest.json").write_bytes(content)
    with caplog.at_level(logging.WARNING):
        manifest = Manifest(tmp_path)
    assert manifest.units == {} and manifest.inputs == {}
    assert "unreadable" in caplog.text or content == b"[1, 2]"


def test_a_two_worker_run_ends_without_a_traceback(
    pipeline: Path, capfd: pytest.CaptureFixture
) -> None:
    if cpu_count() < 2:
        pytest.skip("needs 2 CPUs")
    _edited(pipeline, "[[reconstruct]]", "[dask]\nworkers = 2\n\n[[reconstruct]]")
    with pytest.raises(SystemExit) as exit_:
        main(["run", str(pipeline)])
    err = capfd.readouterr().err  # the workers' stderr too
    assert exit_.value.code == 0, err
    assert "Traceback" not in err and "CommClosedError" not in err
    assert "distributed.scheduler" not in err  # its INFO chatter is for --log-level debug
