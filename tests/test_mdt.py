"""The MDT module: reading CMEMS-like MDT files onto a cube's grid, writing one, the sample's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from cfcheck import assert_cf_compliant
from typer.testing import CliRunner

from oceaninterp.errors import InputError, OutputExistsError
from oceaninterp.mdt import mdt_digest, mdt_on_grid, read_mdt, write_mdt

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
# A cube's cell centres: 0.1 deg over 65W-62W, 33N-35N (odd sizes).
CUBE_LAT = 33.05 + 0.1 * np.arange(19)
CUBE_LON = -64.95 + 0.1 * np.arange(29)


def plane(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """A field linear in latitude and longitude (-180..180), metres: bilinear is exact."""
    return 0.2 + 0.05 * (lat[:, None] - 33.0) - 0.03 * (lon[None, :] + 65.0)


def cmems_mdt(path: Path, *, units: str = "m", names=("latitude", "longitude"), **edits) -> Path:
    """An MDT file laid out as the CMEMS product: (time=1, latitude, longitude), 0..360."""
    lat = np.arange(32.0, 36.01, 0.125)
    lon = np.arange(294.0, 299.01, 0.125)  # 66W..61W in 0..360
    values = plane(lat, lon - 360.0)
    if units == "cm":
        values = values * 100.0
    values = values.astype(np.float32)
    for key, value in edits.items():
        if key == "nan_at":
            i = np.argmin(np.abs(lat - value[0]))
            j = np.argmin(np.abs(lon - 360.0 - value[1]))
            values[i - 1 : i + 2, j - 1 : j + 2] = np.nan
    ds = xr.Dataset(
        {"mdt": (("time", *names), values[None], {"units": units})},
        coords={"time": [np.datetime64("2003-01-01", "ns")], names[0]: lat, names[1]: lon},
    )
    if edits.get("rename"):
        ds = ds.rename({"mdt": edits["rename"]})
    ds.to_netcdf(path)
    return path


@pytest.mark.parametrize(
    ("units", "names"), [("m", ("latitude", "longitude")), ("cm", ("lat", "lon"))]
)
def test_a_cmems_mdt_in_0_360_comes_onto_the_cube_grid(tmp_path: Path, units, names) -> None:
    path = cmems_mdt(tmp_path / "mdt.nc", units=units, names=names)
    observed = np.ones((CUBE_LAT.size, CUBE_LON.size), dtype=bool)
    gridded = mdt_on_grid(path, CUBE_LAT, CUBE_LON, observed)
    assert gridded.values.shape == (19, 29) and gridded.values.dtype == np.float32
    np.testing.assert_allclose(gridded.values, plane(CUBE_LAT, CUBE_LON), atol=1e-5)
    assert gridded.path == path
    assert gridded.sha256 == mdt_digest(read_mdt(path))


def test_the_digest_is_of_the_values_not_the_file(tmp_path: Path) -> None:
    a = cmems_mdt(tmp_path / "a.nc")
    b = cmems_mdt(tmp_path / "b.nc", names=("lat", "lon"))  # another layout, same values
    assert a.read_bytes() != b.read_bytes()
    assert mdt_digest(read_mdt(a)) == mdt_digest(read_mdt(b))
    other = read_mdt(a) + 0.01
    assert mdt_digest(other) != mdt_digest(read_mdt(a))


@pytest.mark.parametrize(
    ("edits", "lat", "message"),
    [
        ({"rename": "zos"}, CUBE_LAT, "no variable 'mdt'.*zos"),
        ({"units": "m s-1"}, CUBE_LAT, "units 'm s-1'; expected a length"),
        ({}, CUBE_LAT + 5.0, "does not cover the cube's box"),
        ({"nan_at": (34.0, -64.0)}, CUBE_LAT, r"NaN over \d+ cell\(s\) the cube observes"),
    ],
)
def test_unusable_mdt_files_are_refused_naming_the_file(
    tmp_path: Path, edits, lat, message
) -> None:
    path = cmems_mdt(tmp_path / "bad_mdt.nc", **edits)
    observed = np.ones((lat.size, CUBE_LON.size), dtype=bool)
    with pytest.raises(InputError, match=message) as err:
        mdt_on_grid(path, lat, CUBE_LON, observed)
    assert err.value.path == path and "bad_mdt.nc" in str(err.value)


def test_nan_mdt_where_the_cube_observes_nothing_is_accepted(tmp_path: Path) -> None:
    path = cmems_mdt(tmp_path / "mdt.nc", nan_at=(34.0, -64.0))
    observed = np.zeros((CUBE_LAT.size, CUBE_LON.size), dtype=bool)
    gridded = mdt_on_grid(path, CUBE_LAT, CUBE_LON, observed)
    assert np.isnan(gridded.values).any() and np.isfinite(gridded.values).mean() > 0.9


def test_coastal_cells_keep_the_mdt_of_their_ocean_neighbours(tmp_path: Path) -> None:
    """Land (NaN) neighbours are left out of the bilinear weights, not spread."""
    path = cmems_mdt(tmp_path / "mdt.nc", nan_at=(34.0, -64.0))
    native = read_mdt(path)
    gridded = mdt_on_grid(path, CUBE_LAT, CUBE_LON).values
    lat, lon = CUBE_LAT[:, None], CUBE_LON[None, :]
    # the MDT's land: its cells within 0.125 deg of (34, -64); cube cells farther
    # than a whole MDT cell from it have only ocean neighbours: the plane exactly
    near = (np.abs(lat - 34.0) <= 0.125 + 0.125) & (np.abs(lon + 64.0) <= 0.125 + 0.125)
    assert np.allclose(gridded[~near], plane(CUBE_LAT, CUBE_LON)[~near], atol=1e-6)
    # cells between land and ocean are finite (mean of their ocean neighbours)
    coastal = near & ~((np.abs(lat - 34.0) < 0.125) & (np.abs(lon + 64.0) < 0.125))
    assert np.isfinite(gridded[coastal]).all()
    # on the MDT's own grid every ocean cell keeps its value exactly
    own = native.sel(latitude=slice(33.0, 35.0), longitude=slice(295.0, 297.0))
    same = mdt_on_grid(path, own["latitude"].values, own["longitude"].values).values
    assert np.array_equal(np.isnan(same), np.isnan(own.values))
    assert np.allclose(same[np.isfinite(same)], own.values[np.isfinite(own.values)], atol=1e-6)


def test_written_mdt_is_cf_compliant_and_reads_back(tmp_path: Path) -> None:
    lat, lon = CUBE_LAT, CUBE_LON
    values = plane(lat, lon)
    values[0, 0] = np.nan  # land
    mdt = xr.DataArray(
        values, dims=("latitude", "longitude"), coords={"latitude": lat, "longitude": lon}
    )
    path = write_mdt(mdt, tmp_path / "mdt.nc", history="a test", source_files=["truth.nc"])
    assert_cf_compliant(path)
    back = read_mdt(path)
    np.testing.assert_allclose(back.values, values.astype(np.float32), equal_nan=True)
    with xr.open_dataset(path) as ds:
        assert ds["mdt"].attrs["standard_name"] == "sea_surface_height_above_geoid"
        assert ds["mdt"].attrs["units"] == "m" and ds.attrs["source_files"] == "truth.nc"
    with pytest.raises(OutputExistsError):
        write_mdt(mdt, path, history="again")
    zarr = write_mdt(mdt, tmp_path / "mdt.zarr", history="a test")
    assert mdt_digest(read_mdt(zarr)) == mdt_digest(back)


def test_sample_mdt_is_the_mdt_the_sample_files_carry() -> None:
    mdt = read_mdt(SAMPLE / "mdt.nc")
    assert (SAMPLE / "mdt.nc").stat().st_size < 100_000
    with xr.open_dataset(SAMPLE / "truth.nc") as truth:
        mean = truth["ssh"].mean("time").values
    np.testing.assert_allclose(mdt.values, mean, atol=1e-6)  # the time mean of the truth
    checked = 0
    for path in sorted((SAMPLE / "obs" / "nadir" / "j3").glob("*.nc"))[::30]:
        with xr.open_dataset(path) as raw:
            lat, lon, carried = (raw[v].values for v in ("latitude", "longitude", "mdt"))
        points = {
            "latitude": xr.DataArray(lat, dims="p"),
            "longitude": xr.DataArray((lon + 180.0) % 360.0 - 180.0, dims="p"),
        }
        at_tracks = mdt.interp(**points).values
        ok = np.isfinite(at_tracks) & np.isfinite(carried)
        # the files pack mdt in millimetres
        np.testing.assert_allclose(at_tracks[ok], carried[ok], atol=6e-4)
        checked += int(ok.sum())
    assert checked > 50


def test_cli_simulate_mdt_writes_the_truth_mean_and_refuses_to_overwrite(tmp_path: Path) -> None:
    from oceaninterp.cli.app import app

    days = np.arange(3).astype("timedelta64[D]") + np.datetime64("2022-01-01")
    ssh = np.stack([plane(CUBE_LAT, CUBE_LON) + k * 0.01 for k in range(3)]).astype(np.float32)
    xr.Dataset(
        {"ssh": (("time", "latitude", "longitude"), ssh, {"units": "m"})},
        coords={"time": days.astype("datetime64[ns]"), "latitude": CUBE_LAT, "longitude": CUBE_LON},
    ).to_netcdf(tmp_path / "truth.nc")
    args = ["simulate", "mdt", str(tmp_path / "truth.nc"), "-o", str(tmp_path / "mdt.nc")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    np.testing.assert_allclose(read_mdt(tmp_path / "mdt.nc").values, ssh.mean(0), atol=1e-6)
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 1 and "--overwrite" in again.output


def test_cube_centres_half_a_cell_outside_the_mdt_take_its_edge(tmp_path: Path) -> None:
    lat, lon = CUBE_LAT[:-1] + 0.05, CUBE_LON[:-1] + 0.05  # centres between the cube's
    mdt = xr.DataArray(
        plane(lat, lon), dims=("latitude", "longitude"), coords={"latitude": lat, "longitude": lon}
    )
    path = write_mdt(mdt, tmp_path / "mdt.nc", history="a test")
    gridded = mdt_on_grid(path, CUBE_LAT, CUBE_LON).values
    inner = plane(CUBE_LAT[1:-1], CUBE_LON[1:-1])
    np.testing.assert_allclose(gridded[1:-1, 1:-1], inner, atol=1e-6)  # bilinear: exact
    np.testing.assert_allclose(gridded[0, 1:-1], plane(lat[:1], CUBE_LON[1:-1])[0], atol=1e-6)
    with pytest.raises(InputError, match="does not cover"):
        mdt_on_grid(path, CUBE_LAT - 0.1, CUBE_LON)  # over half a cell outside
