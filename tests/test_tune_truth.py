"""`reconstruct --tune-truth` reads any gridded truth (adt over lat/lon in 0..360, sla, ...)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from test_reconstruct import make_cube

from oceaninterp.errors import ConfigError
from oceaninterp.oi import DEFAULT_CANDIDATES, tune_oi
from oceaninterp.reconstruct import reconstruct


def _duacs_like(truth: xr.Dataset, name: str) -> xr.Dataset:
    """The truth as a DUACS L4 file: variable ``name`` in cm over lat/lon, 0..360, north first."""
    ds = truth[["ssh"]].rename(ssh=name, latitude="lat", longitude="lon")
    ds[name] = ds[name] * 100.0
    ds[name].attrs["units"] = "cm"
    ds = ds.assign_coords(lon=ds["lon"] % 360.0)
    return ds.isel(lat=slice(None, None, -1))


def test_tuning_against_a_duacs_like_adt_truth_picks_what_tune_oi_picks(tmp_path) -> None:
    cube = make_cube(np.random.default_rng(1), shape=(9, 15, 19), coverage=0.2)
    truth = make_cube(np.random.default_rng(0), shape=(9, 15, 19), coverage=1.0)
    _duacs_like(truth, "adt").to_netcdf(tmp_path / "adt.nc")
    out = reconstruct(
        cube, tmp_path / "oi.nc", method="oi", tune_days=9, tune_truth=tmp_path / "adt.nc"
    )
    expected = tune_oi(cube, DEFAULT_CANDIDATES, truth=truth["ssh"])
    with xr.open_dataset(out) as maps:
        picked = maps.attrs["oi_parameters"]
    assert picked.startswith(
        f"lx={expected.lx} deg, ly={expected.ly} deg, lt={expected.lt} days, "
        f"noise={expected.noise} m"
    )
    _duacs_like(truth, "sla").to_netcdf(tmp_path / "sla.nc")
    with pytest.raises(ConfigError, match="sla.nc is an SLA truth and the cube holds ADT"):
        reconstruct(
            cube, tmp_path / "x.nc", method="oi", tune_days=9, tune_truth=tmp_path / "sla.nc"
        )
