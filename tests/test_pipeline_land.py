"""`oceaninterp run`: `[inputs] land_mask` (issue 12) and the stages' progress (issue 13)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from test_pipeline import DAYS, HALO, MISSIONS, computed, make_pipeline, write_day
from typer.testing import CliRunner

from oceaninterp.cli.app import app
from oceaninterp.errors import InputError
from oceaninterp.pipeline import run_pipeline
from oceaninterp.pipeline.plan import cube_path, map_path

LAT = np.arange(35.125, 37, 0.25)  # the test pipeline's grid (all sea on the coastline)
LON = np.arange(-59.875, -58, 0.25)
WEST = LON < -59.5  # the two western columns: land in the mask file below


def mask_file(path: Path, west: float = -59.5) -> Path:
    """A land mask (``land`` = 1 west of ``west`` degrees_east) a little larger than the box."""
    lat, lon = np.arange(34.125, 38, 0.25), np.arange(-60.875, -57, 0.25)
    land = np.broadcast_to(lon < west, (lat.size, lon.size)).astype(np.int8)
    xr.Dataset(
        {"land": (("latitude", "longitude"), land)},
        coords={"latitude": lat, "longitude": lon},
    ).to_netcdf(path)
    return path


def with_land_mask(pipeline: Path, value: str) -> None:
    """Set ``[inputs] land_mask`` of the test pipeline to ``value``."""
    lines = [line for line in pipeline.read_text().splitlines() if not line.startswith("land_mask")]
    i = lines.index('variable = "adt"')
    lines.insert(i + 1, f'land_mask = "{value}"')
    pipeline.write_text("\n".join(lines) + "\n")


def cube_of(root: Path, day: str) -> xr.Dataset:
    with xr.open_dataset(cube_path(root, day)) as ds:
        return ds.load()


def map_of(root: Path, day: str) -> xr.Dataset:
    with xr.open_dataset(map_path(root, "oi", day)) as ds:
        return ds.load()


def test_land_mask_reaches_cubes_and_maps_and_changing_it_recomputes(tmp_path: Path) -> None:
    pipeline = make_pipeline(tmp_path)
    root = tmp_path / "out"
    everything = {"grid": sorted(DAYS + HALO), "maps/oi": DAYS}

    default = run_pipeline(pipeline)  # land_mask = "coastline": the box is open ocean
    assert default.ok, default.line()
    cube = cube_of(root, DAYS[0])
    assert "land" in cube and int(cube["land"].sum()) == 0
    assert "GSHHG" in cube.attrs["land_mask_source"]
    assert "GSHHG" in map_of(root, DAYS[0]).attrs["land_mask_source"]

    with_land_mask(pipeline, "none")
    none = run_pipeline(pipeline)
    assert none.ok, none.line()
    assert {s: computed(none, s) for s in everything} == everything
    assert "land" not in cube_of(root, DAYS[0])
    assert np.isfinite(map_of(root, DAYS[0])["adt"].values).all()

    mask_file(tmp_path / "mask.nc")
    with_land_mask(pipeline, "mask.nc")  # relative to the TOML's folder
    masked = run_pipeline(pipeline)
    assert masked.ok, masked.line()
    assert {s: computed(masked, s) for s in everything} == everything
    for day in DAYS[:6]:
        cube = cube_of(root, day)
        assert (cube["land"].values.astype(bool) == WEST[None, :]).all()
        assert cube.attrs["land_mask_source"] == "mask.nc"
        assert int(cube["count"].values[..., WEST].sum()) == 0  # observations there dropped
        assert int(cube["count"].values[..., ~WEST].sum()) > 0
    for day in DAYS:
        adt = map_of(root, day)["adt"].values[0]
        assert np.isnan(adt[:, WEST]).all() and np.isfinite(adt[:, ~WEST]).all()

    mask_file(tmp_path / "mask.nc")  # the same values rewritten: nothing to do
    assert run_pipeline(pipeline).computed == 0

    mask_file(tmp_path / "mask.nc", west=-59.0)  # other land: everything is stale again
    plan = run_pipeline(pipeline, dry_run=True)
    assert {s: computed(plan, s) for s in everything} == everything


def test_a_missing_mask_file_or_one_not_covering_the_grid_names_the_key(tmp_path: Path) -> None:
    pipeline = make_pipeline(tmp_path, DAYS[:1])
    with_land_mask(pipeline, "masks/none_here.nc")
    with pytest.raises(InputError, match=r"\[inputs\] land_mask: no such file"):
        run_pipeline(pipeline, dry_run=True)

    small = tmp_path / "small.nc"
    xr.Dataset(
        {"land": (("latitude", "longitude"), np.zeros((3, 3), np.int8))},
        coords={"latitude": [35.0, 35.25, 35.5], "longitude": [-60.0, -59.75, -59.5]},
    ).to_netcdf(small)
    with_land_mask(pipeline, "small.nc")
    with pytest.raises(InputError, match=r"small.nc: \[inputs\] land_mask: .*does not cover"):
        run_pipeline(pipeline)
    assert not (tmp_path / "out" / "cubes").exists()  # nothing computed


def test_progress_reports_the_units_of_each_stage(tmp_path: Path) -> None:
    pipeline = make_pipeline(tmp_path, score=True)
    calls: list[tuple[str, float, int]] = []
    summary = run_pipeline(pipeline, progress=lambda *a: calls.append(a))
    assert summary.ok, summary.line()
    stages = {"grid": 11, "maps/oi": 7, "score": 1}
    assert [s for s in dict.fromkeys(c[0] for c in calls)] == list(stages)
    for stage, total in stages.items():
        seen = [(done, n) for name, done, n in calls if name == stage]
        assert {n for _, n in seen} == {total} == {len(summary.stages[stage].computed)}
        done = [d for d, _ in seen]
        assert done[0] == 5 if stage == "grid" else done[0] == 0  # 5 days without data at once
        assert done[-1] == total and done == sorted(done)
    # The OI of each of the 2 map blocks reports its own batches too (start and end here).
    assert len([c for c in calls if c[0] == "maps/oi"]) >= 1 + 2 + 2 * 2

    before = len(calls)
    assert not run_pipeline(pipeline, progress=lambda *a: calls.append(a)).computed
    assert len(calls) == before  # nothing to compute: nothing reported


def test_run_logs_progress_lines_and_still_ends_with_the_summary(tmp_path: Path) -> None:
    pipeline = make_pipeline(tmp_path)
    assert run_pipeline(pipeline).ok
    for j, mission in enumerate(MISSIONS):  # a new day: one cube, the last map block
        write_day(tmp_path / "obs", DAYS[6], mission, seed=700 + j)
    result = CliRunner().invoke(app, ["run", str(pipeline)])
    assert result.exit_code == 0, result.output
    assert "grid: 1/1 (100%)" in result.output
    assert "maps/oi: 3/3 (100%)" in result.output
    log = max((tmp_path / "out" / "logs").glob("run-*.log"))
    lines = log.read_text().splitlines()
    assert any("maps/oi: 3/3 (100%)" in line for line in lines)
    assert "oceaninterp run test: OK" in lines[-1]


def test_a_window_starting_on_a_day_without_data_keeps_the_cubes_land(tmp_path: Path) -> None:
    from oceaninterp.pipeline.tasks import assemble_window

    land = np.broadcast_to(WEST, (LAT.size, LON.size)).astype(np.int8)
    dims = ("time", "latitude", "longitude")
    ssh = np.where(land[None] > 0, np.nan, 0.1).astype(np.float32)
    count = (land[None] == 0).astype(np.int32)
    path = tmp_path / "cube.nc"
    xr.Dataset(
        {
            "ssh": (dims, ssh),
            "count": (dims, count),
            "mask": (dims, count.astype(np.int8)),
            "land": (("latitude", "longitude"), land),
        },
        coords={"time": [np.datetime64(DAYS[1], "ns")], "latitude": LAT, "longitude": LON},
    ).to_netcdf(path)
    window = assemble_window([(DAYS[0], None), (DAYS[1], str(path)), (DAYS[2], None)])
    assert window.sizes["time"] == 3 and window["land"].dims == ("latitude", "longitude")
    np.testing.assert_array_equal(window["land"].values, land)
    assert int(window["count"].isel(time=0).sum()) == 0
    assert np.isnan(window["ssh"].isel(time=[0, 2]).values).all()
