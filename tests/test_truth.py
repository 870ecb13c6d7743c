"""Any gridded truth: names, units, longitudes, a DUACS-like L4 file through `simulate obs`."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from oceaninterp.errors import InputError
from oceaninterp.truth import open_truth, open_truth_sst

START = np.datetime64("2022-03-01", "ns")
DAYS = 4


def _duacs_like(path, *, lon, lat, variables=("adt", "sla")):
    """A DUACS L4-like file: int32 x 1e-4 m packing, lat descending, no SST."""
    rng = np.random.default_rng(0)
    shape = (DAYS, lat.size, lon.size)
    base = 0.3 + 0.02 * (lat[None, :, None] - 38.0) + 0.01 * np.cos(np.radians(lon))[None, None]
    data = {}
    for name in variables:
        values = base + 0.01 * rng.standard_normal(shape) - (0.3 if name == "sla" else 0.0)
        data[name] = (("time", "latitude", "longitude"), values, {"units": "m"})
    ds = xr.Dataset(
        data,
        coords={
            "time": START + np.arange(DAYS) * np.timedelta64(1, "D"),
            "latitude": lat,
            "longitude": lon,
        },
    )
    encoding = {
        name: {"dtype": "int32", "scale_factor": 1e-4, "_FillValue": np.int32(-2147483647)}
        for name in variables
    }
    ds.to_netcdf(path, encoding=encoding)
    return ds


def test_a_duacs_like_adt_file_reads_in_metres_ascending_and_west_of_greenwich(tmp_path) -> None:
    lat = np.arange(43.125, 32.8, -0.25)  # descending, as some files are
    lon = np.arange(294.875, 305.2, 0.25)  # 0..360
    ds = _duacs_like(tmp_path / "l4.nc", lon=lon, lat=lat)
    ssh = open_truth(tmp_path / "l4.nc")
    assert ssh.dims == ("time", "latitude", "longitude") and ssh.attrs["units"] == "m"
    assert ssh.name == "adt"  # a total height is preferred to the anomaly
    assert np.all(np.diff(ssh["latitude"].values) > 0)
    assert np.all(np.diff(ssh["longitude"].values) > 0)
    np.testing.assert_allclose(ssh["longitude"].values, lon - 360.0)
    expected = ds["adt"].sortby("latitude").values
    np.testing.assert_allclose(ssh.values, expected, atol=1e-4)
    assert open_truth(tmp_path / "l4.nc", variable="sla").name == "sla"
    assert open_truth_sst(tmp_path / "l4.nc") is None


@pytest.mark.parametrize(
    ("name", "units", "factor"), [("zos", "m", 1.0), ("sossheig", "cm", 0.01), ("ssh", None, 1.0)]
)
def test_model_names_lat_lon_and_units(tmp_path, name, units, factor) -> None:
    values = np.full((2, 5, 7), 50.0, np.float32)
    attrs = {"units": units} if units else {}
    xr.Dataset(
        {name: (("time", "lat", "lon"), values, attrs)},
        coords={
            "time": START + np.arange(2) * np.timedelta64(1, "D"),
            "lat": np.linspace(-40, -38, 5),
            "lon": np.linspace(10, 12, 7),
        },
    ).to_netcdf(tmp_path / "m.nc")
    ssh = open_truth(tmp_path / "m.nc")
    assert ssh.name == name and ssh.sizes == {"time": 2, "latitude": 5, "longitude": 7}
    np.testing.assert_allclose(ssh.values, 50.0 * factor)


def test_a_grid_across_the_antimeridian_stays_ascending(tmp_path) -> None:
    lon = np.r_[np.arange(170.5, 180.0), np.arange(-179.5, -170.0)]
    xr.Dataset(
        {"sla": (("time", "latitude", "longitude"), np.zeros((1, 3, lon.size)), {"units": "m"})},
        coords={"time": [START], "latitude": [40.0, 41.0, 42.0], "longitude": lon},
    ).to_netcdf(tmp_path / "pacific.nc")
    got = open_truth(tmp_path / "pacific.nc")["longitude"].values
    np.testing.assert_allclose(got, np.arange(170.5, 190.0))


def test_refusals_name_the_file_and_the_option(tmp_path) -> None:
    xr.Dataset(
        {"temp": (("time", "lat", "lon"), np.zeros((1, 3, 3)))},
        coords={"time": [START], "lat": [1.0, 2.0, 3.0], "lon": [1.0, 2.0, 3.0]},
    ).to_netcdf(tmp_path / "t.nc")
    with pytest.raises(InputError, match=r"t\.nc.*--variable"):
        open_truth(tmp_path / "t.nc")
    xr.Dataset(
        {"ssh": (("time", "lat", "lon"), np.zeros((1, 3, 3)), {"units": "K"})},
        coords={"time": [START], "lat": [1.0, 2.0, 3.0], "lon": [1.0, 2.0, 3.0]},
    ).to_netcdf(tmp_path / "k.nc")
    with pytest.raises(InputError, match="length"):
        open_truth(tmp_path / "k.nc")


def test_simulate_obs_from_a_duacs_like_adt_file_without_sst(tmp_path) -> None:
    from oceaninterp.cli.app import app
    from oceaninterp.products import open_product

    lat = np.arange(43.125, 32.8, -0.25)
    lon = np.arange(294.875, 305.2, 0.25)
    ds = _duacs_like(tmp_path / "l4.nc", lon=lon, lat=lat, variables=("adt", "sla"))
    out = tmp_path / "obs"
    args = ["simulate", "obs", str(tmp_path / "l4.nc"), "-o", str(out)]
    options = ["--missions", "j3,s3a,swot", "--no-noise", "--no-systematic", "--mdt-error", "0"]
    result = CliRunner().invoke(app, [*args, *options])
    assert result.exit_code == 0, result.output
    assert "no SST" in result.output
    assert not (out / "sst").exists()
    files = sorted((out / "nadir").rglob("*.nc")) + sorted((out / "swot").glob("*.nc"))
    assert {p.parent.name for p in files} == {"j3", "s3a", "swot"}
    tracks = xr.concat([open_product(p, variable="adt") for p in files], dim="obs")
    assert tracks.sizes["obs"] > 100
    # the adt sampled (to the 1 mm packing of the nadir files and the DUACS file's 0.1 mm)
    truth = ds["adt"].sortby("latitude")
    lo, hi = float(truth.min()), float(truth.max())
    assert lo - 0.002 <= float(tracks["ssh"].min()) and float(tracks["ssh"].max()) <= hi + 0.002


@pytest.mark.real
def test_real_duacs_l4_maps_open_as_truths_and_fly(real_data, tmp_path) -> None:
    from oceaninterp.simulate.observations import simulate_obs

    for path in sorted((real_data / "l4_duacs").glob("*.nc")):
        ssh = open_truth(path)
        assert ssh.name in ("adt", "sla") and np.isnan(ssh.values).any()  # land masked
        assert np.all(np.diff(ssh["longitude"].values) > 0)
    med = real_data / "l4_duacs" / "dt_med_allsat_phy_l4_20160515_20190101.nc"
    paths = simulate_obs(med, tmp_path, missions=["j3", "swot"], noise=False, seed=1)
    assert paths and not (tmp_path / "sst").exists()
