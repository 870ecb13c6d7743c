"""The shared CF-1.11/ACDD-1.3 helpers, checked by compliance-checker."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from cfcheck import assert_cf_compliant, compliance_failures

import oceaninterp
from oceaninterp import cf
from oceaninterp.io import open_dataset, write_dataset


def small_grid(rng: np.random.Generator) -> xr.Dataset:
    dims = ("time", "latitude", "longitude")
    time = np.arange(np.datetime64("2022-01-01"), np.datetime64("2022-01-08")).astype("M8[ns]")
    return xr.Dataset(
        {
            "ssh": (
                dims,
                rng.normal(0, 0.1, (7, 37, 31)).astype(np.float32),
                {
                    "standard_name": "sea_surface_height_above_sea_level",
                    "units": "m",
                    "long_name": "sea level anomaly",
                    "coverage_content_type": "modelResult",
                },
            )
        },
        coords={
            "time": time,
            "latitude": 30 + 0.25 * (np.arange(37) + 0.5),
            "longitude": 170 + 0.25 * (np.arange(31) + 0.5),
        },
    )


def described(ds: xr.Dataset) -> xr.Dataset:
    ds = cf.cf_grid_coords(ds)
    ds.attrs.update(
        cf.global_attributes(
            ds, title="test", summary="a test grid", history="pytest", source_files=["/a/b.nc"]
        )
    )
    return ds


def test_coords_bounds_and_crs(rng: np.random.Generator) -> None:
    ds = described(small_grid(rng))
    assert ds["latitude"].attrs["axis"] == "Y" and ds["latitude"].attrs["bounds"] == "lat_bnds"
    np.testing.assert_allclose(ds["lon_bnds"].values[0], [170.0, 170.25])
    assert ds["time_bnds"].values[0, 1] - ds["time_bnds"].values[0, 0] == np.timedelta64(1, "D")
    assert ds["ssh"].attrs["grid_mapping"] == "crs"
    assert ds["crs"].attrs["grid_mapping_name"] == "latitude_longitude"
    attrs = ds.attrs
    assert attrs["Conventions"] == "CF-1.11, ACDD-1.3"
    # cell centres, as DUACS: min + k * resolution is the k-th centre
    assert (attrs["geospatial_lon_min"], attrs["geospatial_lon_max"]) == (170.125, 177.625)
    assert attrs["geospatial_lon_resolution"] == 0.25
    assert attrs["software_version"] == f"oceaninterp {oceaninterp.__version__}"
    assert attrs["references"] and attrs["contact"] and attrs["date_issued"]
    assert attrs["time_coverage_start"] == "2022-01-01T00:00:00Z"
    assert attrs["time_coverage_end"] == "2022-01-08T00:00:00Z"  # end of the last day
    assert attrs["time_coverage_duration"] == "P7D" and attrs["source_files"] == "b.nc"
    assert attrs["history"].endswith(": pytest")


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_encoding_round_trip(tmp_path: Path, rng: np.random.Generator, suffix: str) -> None:
    ds = described(small_grid(rng))
    path = write_dataset(
        ds,
        tmp_path / f"g{suffix}",
        encoding=cf.encoding(ds, "zarr" if suffix == ".zarr" else "netcdf"),
    )
    raw = open_dataset(path, decode_times=False)
    assert raw["time"].attrs["units"].startswith("days since 1950-01-01")
    assert raw["time"].attrs["calendar"] == "standard"
    assert raw["time"].attrs["units_metadata"] == "leap_seconds: none"
    assert "_FillValue" not in raw["latitude"].encoding
    assert "_FillValue" not in raw["lat_bnds"].encoding
    back = open_dataset(path)
    np.testing.assert_array_equal(back["ssh"].values, ds["ssh"].values)
    np.testing.assert_array_equal(back["time"].values, ds["time"].values)


def test_cf_checker_passes_and_catches(tmp_path: Path, rng: np.random.Generator) -> None:
    ds = described(small_grid(rng))
    good = write_dataset(ds, tmp_path / "good.nc", encoding=cf.encoding(ds))
    assert_cf_compliant(good)
    bad = ds.copy()
    bad["ssh"].attrs["standard_name"] = "not_a_standard_name"
    bad["ssh"].attrs["units"] = "furlongs"
    path = write_dataset(bad, tmp_path / "bad.nc", encoding=cf.encoding(bad))
    failures = compliance_failures(path)
    assert any("not_a_standard_name" in f for f in failures), failures
    with pytest.raises(AssertionError, match="not CF/ACDD compliant"):
        assert_cf_compliant(path)
