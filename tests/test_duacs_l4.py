"""DUACS L4 reader/writer (oceaninterp.products.duacs_l4) and geostrophy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from cfcheck import assert_cf_compliant

from oceaninterp.errors import InputError
from oceaninterp.geostrophy import (
    EARTH_RADIUS,
    GRAVITY,
    OMEGA,
    add_geostrophic_velocity,
    geostrophic_velocity,
)
from oceaninterp.products import duacs_l4

L4 = "l4_duacs"
BLACK_SEA_DT = "dt_blacksea_allsat_phy_l4_20160707_20200801.nc"
MED_NO_TIME = "dt_med_allsat_phy_l4_20160515_20190101.nc"
MED_OLD = "dt_med_allsat_msla_h_20140221_20140829.nc"
BLACK_SEA_NRT = "nrt_blacksea_allsat_phy_l4_20190601_20190607.nc"


def _maps(rng, shape=(3, 11, 17), kind="sla", error=True) -> xr.Dataset:
    nt, ny, nx = shape
    dims = ("time", "latitude", "longitude")
    lat = 30.0 + 0.25 * np.arange(ny)
    lon = -70.0 + 0.25 * np.arange(nx)
    ssh = rng.normal(scale=0.2, size=shape).astype(np.float32)
    ssh[:, 0, 0] = np.nan  # a masked cell
    maps = xr.Dataset(
        {kind: (dims, ssh)},
        coords={
            "time": np.datetime64("2021-03-01", "ns") + np.arange(nt) * np.timedelta64(1, "D"),
            "latitude": lat,
            "longitude": lon,
        },
    )
    maps = add_geostrophic_velocity(maps, kind, *duacs_l4.VELOCITY_NAMES[kind])
    if error:
        maps["err_sla"] = (dims, np.abs(ssh) / 10)
    return maps


@pytest.mark.real
@pytest.mark.parametrize(
    ("name", "variables", "day", "shape"),
    [
        (
            BLACK_SEA_DT,
            ["sla", "adt", "ugos", "vgos", "ugosa", "vgosa"],
            "2016-07-07",
            (1, 56, 120),
        ),
        (MED_NO_TIME, ["sla", "adt"], "2016-05-15", (1, 128, 344)),
        (MED_OLD, ["sla", "err_sla"], "2014-02-21", (1, 128, 344)),
        (BLACK_SEA_NRT, ["sla", "ugosa", "vgosa", "err_sla"], "2019-06-01", (1, 56, 120)),
    ],
)
def test_reader_on_real_duacs_files(real_data: Path, name, variables, day, shape) -> None:
    path = real_data / L4 / name
    assert duacs_l4.can_open(path)
    maps = duacs_l4.open(path)
    assert sorted(maps.data_vars) == sorted(variables)
    assert tuple(maps.sizes[d] for d in duacs_l4.DIMS) == shape
    assert str(maps["time"].values[0])[:10] == day
    lon = maps["longitude"].values
    assert np.all(np.diff(lon) > 0) and lon.min() >= -180 and lon.max() < 180
    for v in variables:
        values = maps[v].values
        assert values.dtype == np.float32
        assert np.isnan(values).any() and np.isfinite(values).any()  # land masked, sea mapped
        assert np.nanmax(np.abs(values)) < 3.0  # metres or m/s, decoded
    if name == MED_OLD:  # 354..397 deg east in the file, wrapped to -6..37
        np.testing.assert_allclose(lon[[0, -1]], [-5.9375, 36.9375])


@pytest.mark.real
def test_reader_refuses_along_track_and_sst_files(real_data: Path) -> None:
    assert not duacs_l4.can_open(real_data / "nadir" / "cmems_l3" / "l3_c2_subset.nc")
    sst = next((real_data / "sst_l4").glob("*.nc"))
    assert not duacs_l4.can_open(sst)
    with pytest.raises(InputError, match="missing variable"):
        duacs_l4.open(real_data / L4 / MED_NO_TIME, variables=["ugos"])


@pytest.mark.real
def test_our_geostrophy_matches_duacs_velocities(real_data: Path) -> None:
    maps = duacs_l4.open(real_data / L4 / BLACK_SEA_DT)
    ours = add_geostrophic_velocity(maps[["adt"]], "adt", "u", "v")
    for mine, theirs in (("u", "ugos"), ("v", "vgos")):
        x, y = ours[mine].values.ravel(), maps[theirs].values.ravel()
        ok = np.isfinite(x) & np.isfinite(y)
        assert ok.sum() > 0.95 * np.isfinite(y).sum()
        assert np.corrcoef(x[ok], y[ok])[0, 1] > 0.99
        rms = np.sqrt(np.mean(y[ok] ** 2))
        assert np.sqrt(np.mean((x[ok] - y[ok]) ** 2)) < 0.15 * rms


@pytest.mark.real
def test_real_file_round_trips_through_our_writer(real_data: Path, tmp_path: Path) -> None:
    maps = duacs_l4.open(real_data / L4 / BLACK_SEA_NRT)
    out = duacs_l4.write(maps, tmp_path / "copy.nc", history="test")
    back = duacs_l4.open(out)
    for v in maps.data_vars:
        np.testing.assert_array_equal(np.isnan(back[v].values), np.isnan(maps[v].values))
        np.testing.assert_allclose(back[v].values, maps[v].values, atol=0.51e-4, equal_nan=True)
    assert_cf_compliant(out)


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
@pytest.mark.parametrize("kind", ["sla", "adt"])
def test_writer_round_trip_names_and_encodings(rng, tmp_path, suffix, kind) -> None:
    maps = _maps(rng, kind=kind)
    out = duacs_l4.write(maps, tmp_path / f"maps{suffix}", history="unit test", method="test")
    assert duacs_l4.can_open(out)
    back = duacs_l4.open(out)
    assert list(back.data_vars) == list(maps.data_vars)
    np.testing.assert_array_equal(back["time"].values, maps["time"].values)
    for v in maps.data_vars:
        np.testing.assert_allclose(back[v].values, maps[v].values, atol=0.51e-4, equal_nan=True)
    if suffix == ".nc":
        raw = xr.open_dataset(out, mask_and_scale=False, decode_times=False)
    else:
        raw = xr.open_zarr(out, consolidated=False, mask_and_scale=False, decode_times=False)
    assert raw[kind].dtype == np.int32
    assert raw[kind].attrs["scale_factor"] == 1e-4
    assert raw[kind].attrs["_FillValue"] == -2147483647 or raw[kind].encoding.get("_FillValue") == (
        -2147483647
    )
    assert int(raw[kind].values[0, 0, 0]) == -2147483647
    assert raw["time"].attrs["units"].startswith("days since 1950-01-01")
    assert {"lat_bnds", "lon_bnds", "crs"} <= set(raw.variables) and raw.sizes["nv"] == 2
    assert raw[kind].attrs["grid_mapping"] == "crs"
    u, v = duacs_l4.VELOCITY_NAMES[kind]
    assert raw[u].attrs["units"] == "m s-1" and raw[v].attrs["standard_name"].endswith(
        "northward_sea_water_velocity" + ("_assuming_sea_level_for_geoid" if kind == "sla" else "")
    )
    assert (
        raw["err_sla"].attrs["standard_name"] == "sea_surface_height_above_sea_level standard_error"
    )
    if suffix == ".nc":
        assert_cf_compliant(out)


def test_writer_refuses_unknown_names(rng, tmp_path) -> None:
    maps = _maps(rng).rename({"sla": "ssh"})
    with pytest.raises(ValueError, match="not DUACS L4 variable names"):
        duacs_l4.write(maps, tmp_path / "m.nc")


def test_geostrophy_of_linear_fields_is_exact() -> None:
    lat = np.linspace(20.0, 50.0, 31)
    lon = np.linspace(-70.0, -40.0, 41)
    phi, lam = np.deg2rad(lat)[:, None], np.deg2rad(lon)[None, :]
    f = 2 * OMEGA * np.sin(phi)
    # eta = a * phi (radians): u = -(g / f) * a / R, v = 0
    a = 1.0
    u, v = geostrophic_velocity(a * phi + 0 * lam, lat, lon)
    np.testing.assert_allclose(
        u, np.broadcast_to(-GRAVITY / f * a / EARTH_RADIUS, u.shape), rtol=1e-5
    )
    np.testing.assert_allclose(v, 0.0, atol=1e-9)
    # eta = b * lambda: u = 0, v = (g / f) * b / (R cos(phi))
    b = 0.5
    u, v = geostrophic_velocity(b * lam + 0 * phi, lat, lon)
    expected = GRAVITY / f * b / (EARTH_RADIUS * np.cos(phi))
    np.testing.assert_allclose(v, np.broadcast_to(expected, v.shape), rtol=1e-5)
    np.testing.assert_allclose(u, 0.0, atol=1e-9)


def test_geostrophy_of_a_gaussian_eddy() -> None:
    """A 0.3 m Gaussian eddy of 80 km radius at 37N: analytic azimuthal velocity."""
    lat = np.arange(33.0, 41.0, 0.05)
    lon = np.arange(-62.0, -52.0, 0.05)
    phi, lam = np.deg2rad(lat)[:, None], np.deg2rad(lon)[None, :]
    phi0, lam0 = np.deg2rad(37.0), np.deg2rad(-57.0)
    y = EARTH_RADIUS * (phi - phi0)
    x = EARTH_RADIUS * np.cos(phi) * (lam - lam0)
    r0, amp = 80e3, 0.3
    eta = amp * np.exp(-(x**2 + y**2) / r0**2)
    f = 2 * OMEGA * np.sin(phi)
    # d(eta)/dy on the sphere includes the change of cos(phi) in x: differentiate exactly.
    deta_dphi = eta * (-2 / r0**2) * (y * EARTH_RADIUS - x**2 * np.tan(phi))
    deta_dlam = eta * (-2 / r0**2) * x * EARTH_RADIUS * np.cos(phi)
    u_true = -GRAVITY / f * deta_dphi / EARTH_RADIUS
    v_true = GRAVITY / f * deta_dlam / (EARTH_RADIUS * np.cos(phi))
    u, v = geostrophic_velocity(eta, lat, lon)
    speed = np.hypot(u_true, v_true).max()
    assert 0.2 < speed < 1.0  # m/s: a realistic ring (about 0.36)
    assert np.abs(u - u_true).max() < 0.02 * speed
    assert np.abs(v - v_true).max() < 0.02 * speed


def test_geostrophy_masks_the_equator_and_nan_neighbours() -> None:
    lat = np.arange(-10.0, 10.5, 0.5)
    lon = np.arange(0.0, 5.0, 0.5)
    eta = np.tile(0.01 * lat[:, None], (1, lon.size))
    eta[30, 4] = np.nan
    u, v = geostrophic_velocity(eta, lat, lon)
    assert np.isnan(u[np.abs(lat) < 5]).all() and np.isfinite(u[np.abs(lat) > 6][:, 0]).all()
    assert np.isnan(u[29:32, 4]).all() and np.isnan(v[30, 3:6]).all()
