"""`oceaninterp info`: what a file is."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from oceaninterp.cli.app import app
from oceaninterp.config import GridSpec
from oceaninterp.grid import grid_files
from oceaninterp.products import cmems_l3, describe
from oceaninterp.products.schema import make_tracks


def info(path: Path):  # noqa: ANN201
    return CliRunner().invoke(app, ["info", str(path)], terminal_width=200)


def shows(path: Path, *texts: str):  # noqa: ANN201
    """``oceaninterp info path``, checked to succeed and print each of ``texts``."""
    result = info(path)
    assert result.exit_code == 0, result.output
    for text in texts:
        assert text in result.output, text
    return result


@pytest.fixture
def along_track(tmp_path: Path, rng: np.random.Generator) -> Path:
    n = 41
    tracks = make_tracks(
        np.datetime64("2022-05-02T03:00", "ns") + np.arange(n).astype("m8[s]"),
        np.linspace(10, 12, n),
        np.linspace(-30, -29, n),
        rng.normal(0, 0.1, n),
        mission="s3b",
        source="test",
        ssh_variable="sla",
        extra={"mdt": np.full(n, 0.2, np.float32)},
    )
    return cmems_l3.write(tracks, tmp_path / cmems_l3.file_name("s3b", "2022-05-02"))


def test_info_along_track(along_track: Path) -> None:
    shows(
        along_track,
        "cmems_l3",
        "s3b",
        "sla_filtered (41 valid points)",
        "adt (41 valid points)",
        "2022-05-02T03:00:00 .. 2022-05-02T03:00:40",
        "time=41",
    )


def test_info_cube(along_track: Path, tmp_path: Path) -> None:
    spec = GridSpec(-31, -28, 9, 13, resolution=1, start="2022-05-01", end="2022-05-03")
    cube = tmp_path / "cube.zarr"
    grid_files([along_track], cube, spec)
    shows(
        cube,
        "cube (oceaninterp grid)",
        "time=3",
        "latitude=4",
        "longitude=3",
        "observations",
        "41",
        "ssh (m)",
        "ssh_kind",
    )
    assert describe(cube)["observed cells"].endswith("of 36")


def test_info_refuses_unknown_files(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    result = info(path)
    assert result.exit_code == 1 and "notes.txt: not a readable NetCDF file" in result.output
    result = info(tmp_path / "absent.nc")
    assert result.exit_code == 1 and "absent.nc: no such file" in result.output


def test_info_checkpoint_without_model_package(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    path = tmp_path / "model.pt"
    path.write_bytes(b"PK\x03\x04")
    monkeypatch.setitem(sys.modules, "oceaninterp.model.checkpoint", None)  # import fails
    result = info(path)
    assert result.exit_code == 1 and "model package is unavailable" in result.output


def test_info_checkpoint(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from oceaninterp.config import ModelConfig
    from oceaninterp.model import build_model
    from oceaninterp.model.checkpoint import save_checkpoint

    cfg = ModelConfig(
        tile_time=5, tile_latitude=12, tile_longitude=16, prior_width=6, lstm_hidden=6, n_step=2
    )
    meta = {
        "resolution": 0.1,
        "ssh_kind": "adt",
        "training": {"cube": "cube.nc"},
        "validation": {"mu": 0.9},
    }
    path = save_checkpoint(tmp_path / "model.pt", build_model(cfg), meta)
    shows(path, "model checkpoint", "variable", "adt", "parameters", "mu 0.9000, RMSE -")
    shows(path, "unknown: applied anywhere")
    both = {**meta, "valid_latitudes": [-45, 43], "valid_abs_latitudes": [20, 45]}
    save_checkpoint(path, build_model(cfg), both)
    shows(path, "-45 .. -20 N, 20 .. 45 N (elsewhere: reconstruct --outside")
    path.write_bytes(b"not a checkpoint")
    result = info(path)
    assert result.exit_code == 1 and "model.pt" in result.output  # refused in one line


@pytest.mark.real
def test_info_real_nasa_ssh(real_data: Path) -> None:
    result = info(real_data / "nadir/nasa_ssh_jason3/GSFC-alt_ssh20220105.nc")
    assert result.exit_code == 0, result.output
    assert "nasa_ssh" in result.output and "j3" in result.output
    assert "2022-01-05" in result.output


@pytest.fixture
def checkpoint(tmp_path: Path) -> Path:
    """A tiny checkpoint described as `train` writes it, with absolute paths in it."""
    from oceaninterp.config import ModelConfig
    from oceaninterp.model import build_model
    from oceaninterp.model.checkpoint import save_checkpoint

    cfg = ModelConfig(
        tile_time=5, tile_latitude=16, tile_longitude=16, prior_width=4, lstm_hidden=4, n_step=1
    )
    history = [{"epoch": e, "train_loss": 1.0 / e, "val_mu": 0.5 + 0.1 * e} for e in (1, 2, 3)]
    meta = {
        "resolution": 0.1,
        "ssh_kind": "sla",
        "mdt": {
            "file": "mdt.nc",
            "path": "/home/someone/run/mdt.nc",
            "sha256": "ab" * 32,
            "cube_ssh_kind": "adt",
        },
        "training": {
            "cube": "/home/someone/run/cube.nc",
            "truth": "/home/someone/run/truth.nc",
            "train_dates": ["2020-01-01", "2020-02-10"],
            "val_dates": ["2020-02-11", "2020-02-25"],
            "config": {"epochs": 3},
        },
        "validation": {"mu": 0.8, "rmse_m": 0.012, "tiles": 4, "epoch": 3, "history": history},
    }
    return save_checkpoint(tmp_path / "model.pt", build_model(cfg), meta)


def test_info_checkpoint_summary_first_history_with_verbose(checkpoint: Path) -> None:
    from oceaninterp.cli.info import checkpoint_summary

    summary = checkpoint_summary(describe(checkpoint))
    assert list(summary)[:10] == [
        "kind",
        "architecture",
        "parameters",
        "tile",
        "resolution",
        "variable",
        "needs",
        "latitudes",
        "validation",
        "trained on",
    ]
    assert summary["tile"] == "5 days x 16 x 16 cells (1.6 x 1.6 deg)"
    assert summary["resolution"] == "0.1 deg"
    assert summary["variable"] == "sla (maps sla; with --mdt also adt = sla + mdt)"
    assert "an adt cube with an MDT (--mdt; trained with mdt.nc" in summary["needs"]
    assert summary["validation"] == "mu 0.8000, RMSE 1.20 cm on 4 tiles of 2020-02-11..2020-02-25"
    assert summary["trained on"].startswith("cube.nc against truth.nc")
    result = shows(checkpoint, "architecture", "4DVarNet", "mu 0.8000", "--verbose")
    assert "/home/someone" not in result.output  # no path of the training machine
    assert "train loss" not in result.output and "sst_std" not in result.output
    verbose = CliRunner().invoke(app, ["info", str(checkpoint), "--verbose"], terminal_width=200)
    assert verbose.exit_code == 0, verbose.output
    assert "train loss" in verbose.output and "sst_std" in verbose.output
    assert "0.8000" in verbose.output and "/home/someone" not in verbose.output
