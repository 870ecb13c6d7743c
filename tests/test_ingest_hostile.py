"""Hostile and careless inputs to `oceaninterp grid` (issue 14, the ingest side; issue 13).

Each case ends as it must: either one `error:` line naming the file and the
problem, a non-zero exit, no traceback and nothing under the output name; or,
where the data is usable, exit 0 with a note naming the file and what was
dropped. Files are small synthetic CMEMS-like files written with netCDF4
directly, so every attribute (units, calendar, fill values, format) is under
the test's control.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import xarray as xr
from test_grid import BOX, DATES, SPEC, no_output_left, run_grid, write_day

from oceaninterp import mdt as mdt_module
from oceaninterp.errors import InputError
from oceaninterp.grid import check_grid_size, grid_files
from oceaninterp.io import open_dataset
from oceaninterp.products import cmems_l3, open_product, sst_l4
from oceaninterp.products._netcdf import classic_size

N = 211  # points per file (odd, small)


def cmems_file(
    path: Path,
    rng: np.random.Generator,
    *,
    day: str = "2022-03-02",
    sla: np.ndarray | None = None,
    sla_dtype: str = "f4",
    sla_attrs: dict | None = None,
    lon_units: str = "degrees_east",
    lat_units: str = "degrees_north",
    lon: np.ndarray | None = None,
    lat: np.ndarray | None = None,
    time_values: np.ndarray | None = None,
    time_attrs: dict | None = None,
    fmt: str = "NETCDF4",
) -> Path:
    """A CMEMS L3-like along-track file, every attribute explicit (no automatic fill)."""
    t0 = (np.datetime64(day, "s") - np.datetime64("1950-01-01", "s")).astype(float) / 86400
    times = t0 + np.sort(rng.uniform(0, 1, N)) if time_values is None else time_values
    with netCDF4.Dataset(path, "w", format=fmt) as nc:
        nc.createDimension("time", N)
        var = nc.createVariable("time", "f8", ("time",))
        var.setncatts(
            time_attrs or {"units": "days since 1950-01-01 00:00:00", "calendar": "standard"}
        )
        var[:] = times
        for name, units, values in (
            ("latitude", lat_units, rng.uniform(-9, 7, N) if lat is None else lat),
            ("longitude", lon_units, rng.uniform(171, 184, N) if lon is None else lon),
        ):
            var = nc.createVariable(name, "f8", ("time",))
            var.units = units
            var[:] = values
        values = rng.normal(0, 0.1, N) if sla is None else sla
        var = nc.createVariable("sla_filtered", sla_dtype, ("time",))
        var.set_auto_maskandscale(False)
        var.setncatts(sla_attrs or {"units": "m"})
        var[:] = values
    return path


def one_error_line(result, bad: Path, problem: str, out: Path) -> str:  # noqa: ANN001
    """Check the run failed cleanly; return the error line."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    assert bad.name in lines[0] and problem in lines[0], lines[0]
    assert no_output_left(out)
    return lines[0]


# ------------------------------------------------------------ implausible values


@pytest.mark.parametrize(
    ("dtype", "raw", "attrs"),
    [
        ("f4", 1e30, {"units": "m"}),
        ("f4", -9999.0, {"units": "m"}),
        # an int16 fill value left undeclared: 32767 x 0.001 = 32.767 m
        ("i2", 32767, {"units": "m", "scale_factor": 0.001, "add_offset": 0.0}),
    ],
    ids=["1e30", "-9999", "int16_fill"],
)
def test_implausible_values_are_dropped_and_counted(
    tmp_path: Path, rng: np.random.Generator, dtype: str, raw: float, attrs: dict
) -> None:
    sla = rng.normal(0, 0.1, N)
    bad = rng.choice(N, 17, replace=False)
    if dtype == "i2":
        packed = np.round(sla / 0.001).astype(np.int16)
        packed[bad] = raw
        values = packed
    else:
        values = sla.astype(np.float32)
        values[bad] = raw
    path = cmems_file(tmp_path / "odd.nc", rng, sla=values, sla_dtype=dtype, sla_attrs=attrs)
    tracks = open_product(path)
    assert tracks.attrs["implausible"] == 17 and tracks.sizes["obs"] == N - 17
    out = tmp_path / "cube.nc"
    result = run_grid([str(path), "-o", str(out), *BOX, *DATES, "--no-land-mask"])
    assert result.exit_code == 0, result.output
    assert "odd.nc" in result.output and "17 implausible value(s) dropped" in result.output
    assert "dropped 17 implausible value(s) in 1 file(s)" in result.output
    cube = open_dataset(out)
    assert float(np.nanmax(np.abs(cube["ssh"].values))) < 1.0
    summary = grid_files([path], tmp_path / "again.nc", SPEC)
    assert summary.implausible == 17 == summary.read[0].implausible
    info = CliRunnerInfo.invoke(path)
    assert info.exit_code == 0 and "17 dropped (outside the physical range)" in info.output


def test_implausible_values_logged_as_a_warning(
    tmp_path: Path, rng: np.random.Generator, caplog: pytest.LogCaptureFixture
) -> None:
    values = rng.normal(0, 0.1, N).astype(np.float32)
    values[:5] = -9999.0
    path = cmems_file(tmp_path / "odd.nc", rng, sla=values)
    with caplog.at_level("WARNING", logger="oceaninterp"):
        grid_files([path], tmp_path / "cube.nc", SPEC)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("odd.nc" in w and "5 implausible" in w for w in warnings), warnings


def test_centimetres_labelled_metres_are_refused(tmp_path: Path, rng: np.random.Generator) -> None:
    path = cmems_file(tmp_path / "cm.nc", rng, sla=rng.normal(0, 10.0, N))  # cm, says "m"
    out = tmp_path / "cube.nc"
    result = run_grid(
        [str(write_day(tmp_path / "ok.nc", rng, "2022-03-02")), str(path)]
        + [
            "-o",
            str(out),
            *BOX,
            *DATES,
        ]
    )
    line = one_error_line(result, path, "wrong units", out)
    assert "'sla_filtered'" in line and "outside +-3 m" in line


# ------------------------------------------------------------------ coordinates


def test_degrees_west_is_converted(tmp_path: Path, rng: np.random.Generator) -> None:
    lon_east = rng.uniform(171, 184, N)
    east = cmems_file(tmp_path / "east.nc", np.random.default_rng(3), lon=lon_east)
    west = cmems_file(
        tmp_path / "west.nc", np.random.default_rng(3), lon=-lon_east, lon_units="degrees_west"
    )
    a, b = open_product(east), open_product(west)
    np.testing.assert_allclose(a["longitude"].values, b["longitude"].values)
    ca = grid_files([east], tmp_path / "a.nc", SPEC).points
    cb = grid_files([west], tmp_path / "b.nc", SPEC).points
    assert ca == cb > 0


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"lon_units": "radians"}, "units 'radians'; expected degrees_east"),
        ({"lat_units": "degrees_east"}, "units 'degrees_east'; expected degrees_north"),
        ({"lat": np.linspace(0, 120, N)}, "beyond +-90 degrees"),
    ],
    ids=["radians", "swapped_units", "latitude_120"],
)
def test_bad_coordinates_are_refused(
    tmp_path: Path, rng: np.random.Generator, kwargs: dict, problem: str
) -> None:
    path = cmems_file(tmp_path / "coords.nc", rng, **kwargs)
    out = tmp_path / "cube.nc"
    one_error_line(run_grid([str(path), "-o", str(out), *BOX, *DATES]), path, problem, out)


# --------------------------------------------------------- truncated NetCDF-3


@pytest.mark.parametrize("fmt", ["NETCDF3_CLASSIC", "NETCDF3_64BIT_OFFSET", "NETCDF3_64BIT_DATA"])
def test_truncated_netcdf3_is_refused(tmp_path: Path, rng: np.random.Generator, fmt: str) -> None:
    whole = cmems_file(tmp_path / "whole.nc", rng, fmt=fmt)
    assert classic_size(whole) == whole.stat().st_size
    assert open_product(whole).sizes["obs"] == N  # the format itself is read
    cut = tmp_path / "cut.nc"
    cut.write_bytes(whole.read_bytes()[: int(whole.stat().st_size * 0.9)])
    with netCDF4.Dataset(cut) as nc:  # the library opens it and would read zeros
        assert nc.dimensions["time"].size == N
    out = tmp_path / "cube.nc"
    result = run_grid([str(whole), str(cut), "-o", str(out), *BOX, *DATES])
    one_error_line(result, cut, "truncated NetCDF-3 file", out)


def test_netcdf3_with_records_and_one_record_variable(tmp_path: Path) -> None:
    """The size rule of record variables (one alone is not padded)."""
    for n_vars in (1, 2):
        path = tmp_path / f"rec{n_vars}.nc"
        with netCDF4.Dataset(path, "w", format="NETCDF3_CLASSIC") as nc:
            nc.createDimension("time", None)
            nc.createDimension("x", 3)
            for k in range(n_vars):
                nc.createVariable(f"v{k}", "i2", ("time",))[:] = np.arange(7)
            nc.createVariable("fixed", "f8", ("x",))[:] = [1.0, 2.0, 3.0]
        assert path.stat().st_size - 4 < classic_size(path) <= path.stat().st_size
        short = tmp_path / f"short{n_vars}.nc"
        short.write_bytes(path.read_bytes()[:-5])
        assert classic_size(short) > short.stat().st_size


# ----------------------------------------------------------------------- times


@pytest.mark.parametrize("calendar", ["noleap", "360_day", "julian"])
def test_non_standard_calendar_is_refused(
    tmp_path: Path, rng: np.random.Generator, calendar: str
) -> None:
    attrs = {"units": "days since 1950-01-01", "calendar": calendar}
    path = cmems_file(tmp_path / "cal.nc", rng, time_attrs=attrs)
    out = tmp_path / "cube.nc"
    for dates in (DATES, []):  # the dates given, or read from the data
        line = one_error_line(
            run_grid([str(path), "-o", str(out), *BOX, *dates]), path, f"calendar {calendar!r}", out
        )
        assert "units" not in line.split("calendar")[1]


def test_undeclared_time_fill_is_refused(tmp_path: Path, rng: np.random.Generator) -> None:
    t0 = (np.datetime64("2022-03-02") - np.datetime64("1950-01-01")).astype(float)
    times = t0 + np.linspace(0, 0.9, N)
    times[[3, 40]] = 9.96921e36
    path = cmems_file(tmp_path / "tfill.nc", rng, time_values=times)
    out = tmp_path / "cube.nc"
    for args in ([*DATES], []):  # with dates, and with the dates read from the data
        result = run_grid([str(path), "-o", str(out), *BOX, *args])
        one_error_line(result, path, "2 value(s) outside 1900..2200", out)
        assert "undeclared fill value" in result.output
    result = CliRunnerInfo.invoke(path)  # info describes it, with the reason it is unusable
    assert "Traceback" not in result.output and "undeclared fill value" in result.output


class CliRunnerInfo:
    """`oceaninterp info` on a file."""

    @staticmethod
    def invoke(path: Path):  # noqa: ANN205
        from typer.testing import CliRunner

        from oceaninterp.cli.app import app

        return CliRunner().invoke(app, ["info", str(path)])


def test_declared_time_fill_drops_the_points(tmp_path: Path, rng: np.random.Generator) -> None:
    t0 = (np.datetime64("2022-03-02") - np.datetime64("1950-01-01")).astype(float)
    times = t0 + np.linspace(0, 0.9, N)
    times[[3, 40]] = -1.0e9
    attrs = {"units": "days since 1950-01-01", "calendar": "gregorian", "_FillValue": -1.0e9}
    path = cmems_file(tmp_path / "declared.nc", rng, time_values=times, time_attrs=attrs)
    assert open_product(path).sizes["obs"] == N - 2


# ------------------------------------------------------- unreadable files, folders


def test_unreadable_file_in_a_folder(tmp_path: Path, rng: np.random.Generator) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    write_day(folder / cmems_l3.file_name("s3a", "2022-03-02"), rng, "2022-03-02")
    (folder / "gone.nc").symlink_to(tmp_path / "nowhere.nc")
    out = tmp_path / "cube.nc"
    result = run_grid([str(folder), "-o", str(out), *BOX, *DATES])
    one_error_line(result, folder / "gone.nc", "broken symbolic link", out)
    result = run_grid([str(folder), "-o", str(out), *BOX, *DATES, "--on-error", "skip"])
    assert result.exit_code == 3 and "Traceback" not in result.output
    assert "gone.nc" in result.output and "1 file(s) read, 1 not used (1 skipped)" in result.output
    assert open_dataset(out)["count"].sum() > 0
    # a glob gives the same
    out.unlink()
    result = run_grid([str(folder / "*.nc"), "-o", str(out), *BOX, *DATES, "--on-error", "skip"])
    assert result.exit_code == 3 and "gone.nc" in result.output


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_file_without_read_permission(tmp_path: Path, rng: np.random.Generator) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    write_day(folder / "a.nc", rng, "2022-03-02")
    locked = write_day(folder / "locked.nc", rng, "2022-03-03")
    locked.chmod(0)
    out = tmp_path / "cube.nc"
    one_error_line(run_grid([str(folder), "-o", str(out), *BOX, *DATES]), locked, "cannot", out)
    result = run_grid([str(folder), "-o", str(out), *BOX, *DATES, "--on-error", "skip"])
    assert result.exit_code == 3 and "locked.nc" in result.output


def test_unexpected_read_failure_is_one_line(
    tmp_path: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader failing with a library error (not an InputError) still gives one line."""
    path = write_day(tmp_path / "odd.nc", rng, "2022-03-02")

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("NetCDF: HDF error")

    monkeypatch.setattr(cmems_l3, "load", broken)
    out = tmp_path / "cube.nc"
    result = run_grid([str(path), "-o", str(out), *BOX, *DATES])
    one_error_line(result, path, "cannot be read (RuntimeError: NetCDF: HDF error)", out)


# ------------------------------------------------------------- grid size, output


@pytest.mark.parametrize(
    "args",
    [
        ["--resolution", "1e-6", *BOX[:8]],
        ["--resolution", "0.001"],  # global
    ],
    ids=["1e-6_box", "0.001_global"],
)
def test_absurd_grid_is_refused_before_allocating(
    tmp_path: Path, rng: np.random.Generator, args: list[str]
) -> None:
    path = write_day(tmp_path / "a.nc", rng, "2022-03-02")
    out = tmp_path / "cube.nc"
    started = time.perf_counter()
    for dates in (DATES, []):
        result = run_grid([str(path), "-o", str(out), *args, *dates])
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        line = [x for x in result.output.splitlines() if x.startswith("error:")][0]
        assert "grid too large" in line and "cells" in line and "on disk" in line, line
    assert time.perf_counter() - started < 10
    assert no_output_left(out)


def test_grid_size_check_numbers() -> None:
    check_grid_size(SPEC, 8)  # small: fine
    with pytest.raises(InputError, match=r"7 day\(s\) x 37 x 31 = 8029 cells \(72\.3 kB on disk\)"):
        check_grid_size(SPEC, 8, memory=1000)


def test_output_that_is_an_input_is_refused(tmp_path: Path, rng: np.random.Generator) -> None:
    path = write_day(tmp_path / "a.nc", rng, "2022-03-02")
    before = path.read_bytes()
    spelled = tmp_path / "sub" / ".." / "a.nc"
    (tmp_path / "sub").mkdir()
    for out in (path, spelled):
        result = run_grid([str(path), "-o", str(out), *BOX, *DATES, "--overwrite"])
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert "the output is also an input" in result.output
    assert path.read_bytes() == before
    link = tmp_path / "link.nc"
    link.symlink_to(path)
    result = run_grid([str(link), "-o", str(path), *BOX, *DATES, "--overwrite"])
    assert result.exit_code == 1 and "the output is also an input" in result.output
    assert path.read_bytes() == before


# ---------------------------------------------------------------- issue 13: folders


def osse_folder(tmp_path: Path, rng: np.random.Generator) -> Path:
    """A folder laid out as `oceaninterp simulate obs` writes it."""
    root = tmp_path / "obs"
    for mission, days in (("s3a", ("2022-03-02", "2022-03-05")), ("j3", ("2022-03-03",))):
        folder = root / "nadir" / mission
        folder.mkdir(parents=True)
        for day in days:
            write_day(folder / cmems_l3.file_name(mission, day), rng, day, mission=mission)
    lat, lon = np.arange(-12, 10, 0.5) + 0.25, np.arange(165, 195, 0.5) + 0.25
    (root / "sst").mkdir()
    for day in ("2022-03-02", "2022-03-03"):
        sst = xr.DataArray(
            280.0 + rng.normal(0, 0.1, (1, lat.size, lon.size)),
            dims=("time", "lat", "lon"),
            coords={"time": [np.datetime64(day, "ns")], "lat": lat, "lon": (lon + 180) % 360 - 180},
        ).sortby("lon")
        sst_l4.write(sst, root / "sst" / f"{day}-sst.nc")
    mdt = xr.DataArray(
        rng.normal(0.4, 0.1, (lat.size, lon.size)),
        dims=("latitude", "longitude"),
        coords={"latitude": lat, "longitude": lon},
    )
    mdt_module.write_mdt(mdt, root / "mdt.nc", history="test")
    return root


def test_simulate_obs_folder_grids_as_is_with_dates_from_the_data(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    root = osse_folder(tmp_path, rng)
    out = tmp_path / "cube.nc"
    result = run_grid([str(root), "-o", str(out), *BOX, "--no-land-mask"])
    assert result.exit_code == 0, result.output
    assert "dates from the observations: 2022-03-02 .. 2022-03-05" in result.output
    assert "MDT file found" in result.output and "mdt.nc" in result.output
    assert "3 file(s) read" not in result.output  # 3 nadir + 2 SST
    assert "5 file(s) read, 1 not used (1 mdt)" in result.output
    cube = open_dataset(out)
    assert cube.sizes["time"] == 4 and str(cube["time"].values[0])[:10] == "2022-03-02"
    assert "sst" in cube and np.isfinite(cube["sst"].values[:2]).all()
    assert np.isnan(cube["sst"].values[2:]).all()
    # one date given, the other from the data
    result = run_grid([str(root), "-o", str(tmp_path / "c2.nc"), *BOX, "-T", "2022-03-03"])
    assert result.exit_code == 0, result.output
    assert open_dataset(tmp_path / "c2.nc").sizes["time"] == 2


def test_no_dates_and_no_readable_time(tmp_path: Path, one_day_sst: Path) -> None:
    bad = tmp_path / "x.nc"
    bad.write_text("not netcdf")
    out = tmp_path / "cube.nc"
    result = run_grid([str(bad), "-o", str(out), *BOX])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "x.nc: not a readable NetCDF file" in result.output
    sst = one_day_sst
    result = run_grid([str(sst), "-o", str(out), *BOX])
    assert result.exit_code == 1 and "give them (-t/-T" in result.output


def test_help_gives_units_and_flags() -> None:
    from typer.testing import CliRunner

    from oceaninterp.cli.app import app

    text = CliRunner().invoke(app, ["grid", "--help"], env={"COLUMNS": "200"}).output
    rows = {line.split()[1]: line for line in text.splitlines() if line.startswith("│    --")}
    rows.update({line.split()[2]: line for line in text.splitlines() if line.startswith("│ *  --")})
    for option, unit in (
        ("--minimum-longitude", "degrees_east"),
        ("--maximum-longitude", "degrees_east"),
        ("--minimum-latitude", "degrees_north"),
        ("--maximum-latitude", "degrees_north"),
        ("--resolution", "degrees"),
        ("--start-datetime", "YYYY-MM-DD"),
        ("--end-datetime", "YYYY-MM-DD"),
        ("--time-chunk", "Days"),
        ("--variable", "metres"),
        ("--sst", "kelvin"),
    ):
        assert unit in rows[option], rows[option]
    for flag in ("--overwrite", "--drop-nadir", "--no-land-mask"):
        assert "<bool>" not in rows[flag] and "bool" not in rows[flag].split(flag)[1][:12]


# ------------------------------------------------------------------ land mask


def test_user_land_mask(tmp_path: Path, rng: np.random.Generator) -> None:
    lat, lon = SPEC.latitudes(), SPEC.longitudes()
    land = np.zeros((lat.size, lon.size), np.int8)
    land[:, :10] = 1  # the ten westmost columns are land
    mask_file = tmp_path / "mask.nc"
    xr.Dataset(
        {"land": (("latitude", "longitude"), land)},
        coords={"latitude": lat, "longitude": lon},
    ).to_netcdf(mask_file)
    days = [write_day(tmp_path / f"d{k}.nc", rng, f"2022-03-0{k}", n=2001) for k in (2, 3)]
    free = grid_files(days, tmp_path / "free.nc", SPEC)
    masked = grid_files(days, tmp_path / "masked.nc", SPEC, land_mask=mask_file)
    a, b = open_dataset(tmp_path / "free.nc"), open_dataset(tmp_path / "masked.nc")
    on_land = int(a["count"].values[:, :, :10].sum())
    assert on_land > 0 and masked.on_land == on_land
    assert masked.points == free.points - on_land
    assert (b["count"].values[:, :, :10] == 0).all() and (b["mask"].values[:, :, :10] == 0).all()
    assert np.isnan(b["ssh"].values[:, :, :10]).all()
    np.testing.assert_array_equal(b["count"].values[:, :, 10:], a["count"].values[:, :, 10:])
    assert b["land"].dims == ("latitude", "longitude") and b["land"].dtype == np.int8
    np.testing.assert_array_equal(b["land"].values, land)
    assert b["land"].attrs["flag_meanings"] == "sea land"
    assert b.attrs["land_mask_source"] == "mask.nc"
    assert "land" not in a and "land_mask_source" not in a.attrs
    # a file whose every point is on land is left out and counted, not an error
    coast = write_day(tmp_path / "coast.nc", rng, "2022-03-04", lon=(170.1, 174.9))
    summary = grid_files([*days, coast], tmp_path / "c3.nc", SPEC, land_mask=mask_file)
    assert [f.status for f in summary.files if f.path == coast] == ["on land"]
    assert summary.points == masked.points and not summary.failed
    # a mask file that does not cover the grid: one line naming it
    small = tmp_path / "small.nc"
    xr.Dataset(
        {"land": (("latitude", "longitude"), land[:5, :5])},
        coords={"latitude": lat[:5], "longitude": lon[:5]},
    ).to_netcdf(small)
    out = tmp_path / "c.nc"
    result = run_grid([str(days[0]), "-o", str(out), *BOX, *DATES, "--land-mask", str(small)])
    one_error_line(result, small, "does not cover the grid", out)


def test_coastline_land_mask_by_default(tmp_path: Path, rng: np.random.Generator) -> None:
    """The default CLI mask (GSHHG): Sicily is land in a Mediterranean box."""
    path = tmp_path / "med.nc"
    cmems_file(path, rng, lon=rng.uniform(12.0, 16.0, N), lat=rng.uniform(36.0, 39.0, N))
    box = ["-x", "12", "-X", "16", "-y", "36", "-Y", "39", "--resolution", "0.25"]
    out = tmp_path / "cube.nc"
    result = run_grid([str(path), "-o", str(out), *box, *DATES])
    assert result.exit_code == 0, result.output
    assert "land mask: GSHHG" in result.output
    cube = open_dataset(out)
    land = cube["land"].values.astype(bool)
    i = int(np.argmin(np.abs(cube["latitude"].values - 37.5)))
    j = int(np.argmin(np.abs(cube["longitude"].values - 14.25)))
    assert land[i, j]  # inner Sicily
    assert not land[0, 0]  # open sea south-west of Sicily (36.1 N, 12.1 E)
    assert (cube["count"].values[:, land] == 0).all()
    assert "GSHHG" in cube.attrs["land_mask_source"]
    result = run_grid([str(path), "-o", str(tmp_path / "n.nc"), *box, *DATES, "--no-land-mask"])
    assert result.exit_code == 0 and "no land mask" in result.output
    assert int(open_dataset(tmp_path / "n.nc")["count"].sum()) > int(cube["count"].sum())


def test_corrupt_netcdf3_headers_never_raise(tmp_path: Path, rng: np.random.Generator) -> None:
    """The header parser returns a size or None on any corruption (the library reports)."""
    whole = cmems_file(tmp_path / "whole.nc", rng, fmt="NETCDF3_64BIT_DATA")
    base = whole.read_bytes()
    path = tmp_path / "corrupt.nc"
    for _ in range(300):
        data = bytearray(base[: rng.integers(8, len(base) + 1)])
        for i in rng.integers(4, min(len(data), 300), 3):
            data[i] = rng.integers(0, 256)
        path.write_bytes(bytes(data))
        size = classic_size(path)
        assert size is None or size >= 8
