"""The OSSE skill benchmark (benchmarks/skill.py): its bookkeeping, and a slow smoke run."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import xarray as xr
from benchscript import load_benchmark

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data"


@pytest.fixture(scope="module")
def skill() -> ModuleType:
    return load_benchmark("skill")


def test_table_has_one_line_per_method_and_system(skill: ModuleType, score_record) -> None:
    row = {
        "label": "4 nadirs",
        "oi": score_record(0.10, 1.5, name="oi"),
        "4dvarnet": score_record(0.05, None, name="4dvarnet"),
        "mse_gain": 0.75,
        "lambda_x_ratio": None,
        "oi_params": {"lx": 1.0, "lt": 7.0, "noise": 0.02},
        "target": "sla",
    }
    lines = skill.table([row]).splitlines()
    assert len(lines) == 4
    oi, net = lines[2], lines[3]
    assert "OI (lx 1 deg, lt 7 d, noise 0.02 m)" in oi and "| 1.50 |" in oi and "| 10.00 |" in oi
    assert "4DVarNet (SLA + MDT)" in net and "| +75 % |" in net
    assert "| n/a |" in net and "| 5.00 |" in net


def _setup(skill: ModuleType, tmp_path: Path, **changes: Any) -> Any:
    """A bookkeeping Setup of the sample's periods (nothing is trained)."""
    options = {
        "work": tmp_path,
        "truth": tmp_path / "t.nc",
        "obs": tmp_path,
        "periods": skill.read_periods(SAMPLE / "train.toml"),
        "epochs": 1,
        "tiles_per_epoch": 1,
        "seed": 0,
        "candidates": {},
        "quick": True,
        "last_day": "2022-12-31",
    }
    return skill.Setup(**{**options, **changes})


def test_periods_and_map_windows_follow_the_sample(skill: ModuleType, tmp_path: Path) -> None:
    periods = skill.read_periods(SAMPLE / "train.toml")
    assert periods["test_start"] == "2022-10-22" and periods["test_end"] == "2022-12-02"
    assert periods["val_end"] < periods["test_start"]
    setup = _setup(skill, tmp_path)
    assert skill.map_window(setup) == ("2022-10-01", "2022-12-02")
    validation = dataclasses.replace(setup, period="val")
    assert validation.scored() == (periods["val_start"], periods["val_end"])
    assert skill.map_window(validation) == ("2022-08-27", periods["val_end"])
    assert validation.suffix() == "_val" and setup.suffix() == ""
    assert skill.cube_path(setup, "nadir").name == "cube_nadir.nc"
    assert skill.cube_path(setup, "nadir_swot") == skill.cube_path(setup, "nadir_swot_sst")
    assert skill.oi_name("nadir_swot") == skill.oi_name("nadir_swot_sst") != skill.oi_name("nadir")


def test_cubes_are_gridded_at_the_setup_resolution(skill: ModuleType, tmp_path: Path) -> None:
    obs = tmp_path / "obs"
    for source in sorted((SAMPLE / "obs" / "nadir").glob("*/*_20221001-20221031_*.nc")):
        target = obs / "nadir" / source.parent.name / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    periods = {**skill.read_periods(SAMPLE / "train.toml"), "train_start": "2022-10-01"}
    observed = {}
    for resolution in (0.1, 0.05):
        setup = _setup(
            skill,
            tmp_path / f"work{resolution:g}",
            obs=obs,
            periods=periods,
            last_day="2022-10-02",
            resolution=resolution,
        )
        with xr.open_dataset(skill.make_cube(setup, "nadir")) as cube:
            n = round(10 / resolution)
            assert dict(cube["ssh"].sizes) == {"time": 2, "latitude": n, "longitude": n}
            assert np.diff(cube["longitude"].values) == pytest.approx(resolution)
            observed[resolution] = int(cube["ssh"].notnull().sum())
    # the same along-track points fall in more, smaller cells (1 Hz points ~7 km apart)
    assert observed[0.1] > 0 and observed[0.05] > observed[0.1]


@pytest.mark.slow
def test_quick_run_scores_both_methods(skill: ModuleType, tmp_path: Path) -> None:
    """The whole chain on the sample (grid, tuned OI, 2 short epochs, maps, scores): minutes."""
    work, results = tmp_path / "work", tmp_path / "results"
    argv = ["--quick", "--work", str(work), "--results", str(results)]
    assert skill.main(argv) == 0
    payload = json.loads((results / "skill.json").read_text())
    (row,) = payload["rows"]
    assert row["system"] == "nadir" and payload["meta"]["quick"]
    for method in ("oi", "4dvarnet"):
        assert 0 < row[method]["rmse_m"] < 1
    assert row["mse_gain"] == pytest.approx(
        1 - (row["4dvarnet"]["rmse_m"] / row["oi"]["rmse_m"]) ** 2
    )
    assert "| 4 nadirs | 4DVarNet (SLA + MDT) |" in (results / "skill.md").read_text()
    # the maps and scores came from the pipeline; a second run remakes nothing
    assert (work / "nadir_sla" / "pipeline" / "manifest.json").exists()
    made = {p: p.stat().st_mtime_ns for p in work.rglob("*") if p.suffix in (".nc", ".pt")}
    assert skill.main(argv) == 0
    assert {p: p.stat().st_mtime_ns for p in made} == made


def test_model_and_train_options_are_typed_like_the_defaults(skill: ModuleType) -> None:
    from oceaninterp.config import ModelConfig, TrainConfig

    assert skill._options("prior_width=64,use_sst=true", ModelConfig) == {
        "prior_width": 64,
        "use_sst": True,
    }
    assert skill._options("gradient_weight=4000", TrainConfig) == {"gradient_weight": 4000.0}
    with pytest.raises(ValueError, match="no option 'width'"):
        skill._options("width=3", ModelConfig)
