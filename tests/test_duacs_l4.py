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
from oceaninterp.io import open_dataset, write_dataset
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
    assert raw[u].attrs["units"] == "m/s" and raw[v].attrs["standard_name"].endswith(
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


# ------------------------------------------------------------------ DUACS parity


def _netcdf_layout(path: Path) -> dict[str, dict]:
    """Per variable: dtype, dims, HDF5 chunks and attributes, as netCDF4 reads them."""
    import netCDF4

    with netCDF4.Dataset(path) as nc:
        return {
            "": {k: nc.getncattr(k) for k in nc.ncattrs()},
            **{
                name: {
                    "dtype": var.dtype,
                    "dims": var.dimensions,
                    "chunks": var.chunking(),
                    **{k: var.getncattr(k) for k in var.ncattrs()},
                }
                for name, var in nc.variables.items()
            },
        }


#: Attributes a DUACS script reads, compared value for value with a real file.
PARITY_ATTRS = ("units", "standard_name", "scale_factor", "_FillValue", "grid_mapping", "axis")


@pytest.mark.real
def test_attributes_match_a_real_duacs_file(real_data: Path, tmp_path: Path) -> None:
    """Attribute by attribute against DUACS DT Black Sea: what a script could trip on."""
    real = real_data / L4 / BLACK_SEA_DT
    ours = duacs_l4.write(duacs_l4.open(real), tmp_path / "ours.nc", history="test", method="oi")
    theirs, mine = _netcdf_layout(real), _netcdf_layout(ours)
    for key in ("platform", "software_version", "references", "processing_level"):
        assert mine[""][key], key
    for key in ("time_coverage_duration", "time_coverage_resolution", "geospatial_lat_min"):
        assert mine[""][key] == theirs[""][key], key
    for name, expected in theirs.items():
        if not name:
            continue
        got = mine[name]
        assert got["dims"] == expected["dims"], name
        if name in ("latitude", "longitude", "lat_bnds", "lon_bnds", "nv") or "_FillValue" in (
            expected
        ):
            assert got["dtype"] == expected["dtype"], name
        if "_FillValue" in expected:  # data variables: DUACS's 1 x 50 x 50 chunks
            assert got["chunks"] == expected["chunks"], name
        for attr in (*PARITY_ATTRS, "coordinates", "valid_min", "valid_max", "bounds"):
            if attr in expected and name not in ("lat_bnds", "lon_bnds"):  # CF: bounds inherit
                assert attr in got, f"{name}.{attr}"
                clean = (str(a).removesuffix(" 00:00:00") for a in (got[attr], expected[attr]))
                assert next(clean) == next(clean), f"{name}.{attr}"
        assert "comment" in got or "comment" not in expected, name
    assert_cf_compliant(ours)


def test_land_becomes_fill_and_velocity_units_are_duacs(rng, tmp_path) -> None:
    maps = _maps(rng, kind="adt", error=False)
    maps["adt"][:, 2:4, 5:9] = np.nan  # a small island
    maps = add_geostrophic_velocity(maps[["adt"]], "adt", "ugos", "vgos")
    out = duacs_l4.write(maps, tmp_path / "m.nc", history="test", method="4dvarnet")
    raw = xr.open_dataset(out, mask_and_scale=False)
    assert (raw["adt"].values[:, 2:4, 5:9] == duacs_l4.FILL_VALUE).all()
    assert (raw["ugos"].values[:, 2:4, 5:9] == duacs_l4.FILL_VALUE).all()
    assert raw["ugos"].attrs["units"] == raw["vgos"].attrs["units"] == "m/s"
    assert _netcdf_layout(out)["adt"]["coordinates"] == "longitude latitude"
    assert raw["latitude"].dtype == np.float32 and raw["lat_bnds"].dtype == np.float32
    assert raw["latitude"].attrs["valid_min"] == np.float32(30.0)
    assert raw["longitude"].attrs["valid_max"] == raw["longitude"].values.max()
    assert "no err_sla" in raw.attrs["comment"].lower()  # a 4DVarNet gives no error map
    assert "Fablet" in raw.attrs["references"]
    kept = duacs_l4.to_product(maps, method="4dvarnet", comment="Rows 30..31 N mapped by OI.")
    comment = kept.attrs["comment"]
    assert comment.startswith("Rows 30..31 N") and "No err_sla" in comment


def test_sla_comment_names_its_reference_and_platforms_are_spelled_out(rng, tmp_path) -> None:
    maps = _maps(rng, kind="sla")
    with_mdt = duacs_l4.to_product(maps, mdt="mdt.nc", platform="alg, c2, j3", method="oi")
    assert "mdt.nc" in with_mdt["sla"].attrs["comment"]
    assert with_mdt.attrs["platform"] == "SARAL/AltiKa, Cryosat-2, Jason-3" or (
        "Jason-3" in with_mdt.attrs["platform"] and "Cryosat-2" in with_mdt.attrs["platform"]
    )
    assert "comment" not in with_mdt.attrs or "err_sla" not in with_mdt.attrs["comment"]
    plain = duacs_l4.to_product(maps)
    assert "[1993, 2012]" in plain["sla"].attrs["comment"]
    assert plain["ugosa"].attrs["comment"].startswith("Geostrophic velocity computed from sla")


def test_multi_day_netcdf_through_a_zarr_store_is_cf_compliant(rng, tmp_path) -> None:
    """The route of ``reconstruct`` to NetCDF: a Zarr store laid out, read back, rewritten."""
    product = duacs_l4.to_product(_maps(rng, shape=(6, 11, 17)), history="test")
    store = tmp_path / "s.zarr"
    product.to_zarr(store, mode="w", encoding=duacs_l4.encoding(product, "zarr"), zarr_format=3)
    written = open_dataset(store).drop_encoding()
    out = write_dataset(written, tmp_path / "m.nc", encoding=duacs_l4.encoding(written, "netcdf"))
    raw = xr.open_dataset(out, decode_times=False)
    assert (
        raw["time_bnds"].attrs.get("units", raw["time"].attrs["units"])
        == (raw["time"].attrs["units"])
    )
    assert_cf_compliant(out)


def test_zarr_fill_value_is_the_cf_fill_and_metadata_is_consolidated(rng, tmp_path) -> None:
    import warnings

    import zarr

    maps = _maps(rng)
    product = duacs_l4.to_product(maps).chunk({"time": 1})  # lazy, as reconstruct's template
    laid_out = tmp_path / "layout.zarr"  # laid out, nothing written: must read as masked
    product.to_zarr(
        laid_out,
        mode="w",
        compute=False,
        encoding=duacs_l4.encoding(product, "zarr"),
        zarr_format=3,
        consolidated=False,
    )
    array = zarr.open_group(laid_out, mode="r")["sla"]
    assert array.fill_value == array.attrs["_FillValue"] == duacs_l4.FILL_VALUE
    assert np.isnan(open_dataset(laid_out)["sla"].values).all()
    out = duacs_l4.write(maps, tmp_path / "m.zarr", history="test")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        back = xr.open_zarr(out)  # consolidated: no warning
    np.testing.assert_allclose(back["sla"].values, maps["sla"].values, atol=0.51e-4)
