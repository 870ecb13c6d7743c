"""The quick start: the sample pipeline with the shipped checkpoint beats the OI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_sample_pipeline_maps_better_than_the_oi(tmp_path: Path) -> None:
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    command = [sys.executable, "-m", "oceaninterp", "run", str(ROOT / "pipelines" / "sample.toml")]
    done = subprocess.run(
        [*command, "-o", str(tmp_path)], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    scores = {r["name"]: r for r in json.loads((tmp_path / "scores" / "scores.json").read_text())}
    assert scores["4dvarnet"]["rmse_m"] < scores["oi"]["rmse_m"]
    assert scores["4dvarnet"]["mu"] > scores["oi"]["mu"]
    again = subprocess.run(
        [*command, "-o", str(tmp_path)], env=env, capture_output=True, text=True, check=False
    )
    assert again.returncode == 0
    assert json.loads((tmp_path / "scores" / "scores.json").read_text()) == list(scores.values())


@pytest.mark.parametrize(
    ("name", "oi_input", "sst"),
    [
        ("checkpoint.pt", False, False),
        ("midlatitude.pt", False, False),
        ("midlatitude_sst.pt", False, True),
        ("one_altimeter.pt", True, False),
    ],
)
def test_shipped_checkpoints_load_safely_and_say_what_they_take(
    name: str, oi_input: bool, sst: bool
) -> None:
    from oceaninterp.model.checkpoint import load_checkpoint

    loaded = load_checkpoint(ROOT / "sample_data" / name)  # weights_only, digest checked
    assert loaded.description.oi_input is oi_input
    assert loaded.description.uses_sst is sst
    assert loaded.description.resolution == 0.1


def test_one_altimeter_checkpoint_maps_the_sample_jason3_passes(tmp_path: Path) -> None:
    import numpy as np
    import xarray as xr

    from oceaninterp.config import GridSpec
    from oceaninterp.grid import grid_files
    from oceaninterp.reconstruct import reconstruct

    spec = GridSpec(-62.0, -57.0, 36.0, 41.0, 0.1, "2022-03-01", "2022-03-20")
    cube = tmp_path / "cube.nc"
    grid_files([ROOT / "sample_data" / "obs" / "nadir" / "j3"], cube, spec, variable="adt")
    maps = reconstruct(
        cube,
        tmp_path / "maps.nc",
        checkpoint=ROOT / "sample_data" / "one_altimeter.pt",
        mdt=ROOT / "sample_data" / "mdt.nc",
        device="cpu",
    )
    with xr.open_dataset(maps) as ds, xr.open_dataset(ROOT / "sample_data" / "truth.nc") as truth:
        adt = ds["adt"].values
        true = truth["ssh"].interp(
            time=ds["time"], latitude=ds["latitude"], longitude=ds["longitude"]
        )
        err = adt - true.values
    assert np.isfinite(adt).all()
    assert np.sqrt(np.mean(err**2)) < np.std(true.values)  # better than the truth's own mean
