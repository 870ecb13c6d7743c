"""Training on several regions: pairing, shares of tiles, latitudes recorded, refusals."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from test_train import FAST, MODEL, write_osse
from typer.testing import CliRunner

from oceaninterp.cli.app import app
from oceaninterp.errors import ConfigError, InputError
from oceaninterp.model.checkpoint import describe_checkpoint, valid_latitudes
from oceaninterp.model.regions import shares
from oceaninterp.train import train

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _moved(cube: Path, truth: Path, folder: Path, shift: float) -> tuple[Path, Path]:
    """Copies of a cube and its truth moved ``shift`` degrees north (a DUACS-like truth:
    variable ``adt`` over ``lat``/``lon``)."""
    folder.mkdir()
    with xr.open_dataset(cube) as ds:
        ds.assign_coords(latitude=ds.latitude + shift).to_netcdf(folder / "cube.nc")
    with xr.open_dataset(truth) as ds:
        moved = ds.assign_coords(latitude=ds.latitude + shift).rename(
            ssh="adt", latitude="lat", longitude="lon"
        )
        moved.to_netcdf(folder / "truth.nc")
    return folder / "cube.nc", folder / "truth.nc"


@pytest.fixture(scope="module")
def two_regions(tmp_path_factory) -> list[tuple[Path, Path]]:
    """The test OSSE at 30..33.5N and the same moved to 40..36.5S."""
    root = tmp_path_factory.mktemp("regions")
    north = write_osse(root, n_days=30)
    return [north, _moved(*north, root / "south", -70.0)]


def test_shares_are_proportional_and_sum_to_the_count() -> None:
    assert list(shares(np.array([1, 1]), 5)) in ([3, 2], [2, 3])
    assert list(shares(np.array([3, 1]), 8)) == [6, 2]
    assert shares(np.array([10, 1, 7]), 13).sum() == 13


def test_two_regions_train_one_model_that_knows_both_latitudes(two_regions, tmp_path) -> None:
    (cube_n, truth_n), (cube_s, truth_s) = two_regions
    cfg = dataclasses.replace(FAST, epochs=1)
    result = train([cube_n, cube_s], [truth_n, truth_s], tmp_path / "m.pt", cfg, MODEL)
    assert np.isfinite(result.best_val_mu)
    info = describe_checkpoint(result.checkpoint)
    south, north = valid_latitudes(info)
    assert south <= -40.0 and north >= 33.5  # both regions, cell edges included
    assert info["valid_abs_latitudes"] == pytest.approx([30.0, 40.0])
    assert [r["truth"] for r in info["regions"]] == ["truth.nc", "truth.nc"]
    assert info["regions"][1]["latitude"][0] == pytest.approx(-39.95)
    assert info["validation"]["tiles"] == 8  # 2 x 2 tiles of the val period in each region


def test_regions_must_pair_and_agree(two_regions, tmp_path) -> None:
    (cube_n, truth_n), (cube_s, truth_s) = two_regions
    with pytest.raises(ConfigError, match="2 cube.* and 1 truth"):
        train([cube_n, cube_s], [truth_n], tmp_path / "m.pt", FAST, MODEL)
    with pytest.raises(ConfigError, match="one --mdt per cube"):
        train([cube_n, cube_s], [truth_n, truth_s], tmp_path / "m.pt", FAST, MODEL, mdt=[cube_n])
    with xr.open_dataset(cube_s) as ds:
        ds.assign_attrs(resolution=0.2).to_netcdf(tmp_path / "coarse.nc")
    with pytest.raises(InputError, match="coarse.nc.*resolution 0.2 deg differs"):
        train([cube_n, tmp_path / "coarse.nc"], [truth_n, truth_s], tmp_path / "m.pt", FAST, MODEL)


def test_cli_takes_several_cubes_and_refuses_unpaired_truths(two_regions, tmp_path) -> None:
    (cube_n, truth_n), (cube_s, truth_s) = two_regions
    config = tmp_path / "tiny.toml"
    config.write_text(
        "[model]\ntile_time = 7\ntile_latitude = 32\ntile_longitude = 32\nprior_width = 8\n"
        "lstm_hidden = 8\nn_step = 3\n[train]\ntiles_per_epoch = 4\nloss_border = 2\n"
    )
    out = tmp_path / "cli.pt"
    base = ["train", str(cube_n), str(cube_s), "-o", str(out), "--config", str(config)]
    bad = CliRunner().invoke(app, [*base, "--truth", str(truth_n)])
    assert bad.exit_code == 1 and "one --truth per cube" in bad.output
    args = [*base, "--truth", str(truth_n), "--truth", str(truth_s), "--epochs", "1"]
    result = CliRunner().invoke(app, [*args, "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert describe_checkpoint(out)["training"]["cube"] == "cube.nc, cube.nc"
