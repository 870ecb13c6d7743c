"""Gridding: binning against a brute-force computation, cubes, SST, bad inputs."""

from __future__ import annotations

import shutil
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import xarray as xr
from cfcheck import assert_cf_compliant
from typer.testing import CliRunner

from oceaninterp.binning import CellAccumulator, CellGrid, bin_points
from oceaninterp.cli.app import app
from oceaninterp.config import GridSpec
from oceaninterp.grid import grid_files
from oceaninterp.io import open_dataset
from oceaninterp.products import cmems_l3, open_product, sst_l4
from oceaninterp.products.schema import make_tracks

# 7 days x 37 x 31 cells of 0.5 degree, over the antimeridian (170E .. 175.5W)
SPEC = GridSpec(
    lon_min=170.0,
    lon_max=-174.5,
    lat_min=-10.0,
    lat_max=8.5,
    resolution=0.5,
    start="2022-03-01",
    end="2022-03-07",
)
BOX = ["-x", "170", "-X", "-174.5", "-y", "-10", "-Y", "8.5", "--resolution", "0.5"]
DATES = ["-t", "2022-03-01", "-T", "2022-03-07"]


def random_points(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    """Points around and inside SPEC, longitudes in mixed conventions."""
    time = np.datetime64("2022-02-28", "ns") + rng.integers(0, 9 * 86400, n).astype("m8[s]")
    lat = rng.uniform(-12, 10, n)
    lon = rng.uniform(165, 195, n)
    lon = np.where(rng.random(n) < 0.5, lon, (lon + 180) % 360 - 180)  # -180..180 for half
    return time, lat, lon, rng.normal(0, 0.1, n)


def brute_force(spec: GridSpec, time, lat, lon, values):  # noqa: ANN001, ANN201
    """Sums and counts by testing every point against every cell's edges."""
    shape = spec.shape
    half = spec.resolution / 2
    sums, counts = np.zeros(shape), np.zeros(shape, dtype=np.int64)
    for k, day in enumerate(spec.days().astype("M8[D]")):
        on_day = time.astype("M8[D]") == day
        for i, clat in enumerate(spec.latitudes()):
            in_row = on_day & (lat >= clat - half) & (lat < clat + half)
            if not in_row.any():
                continue
            for j, clon in enumerate(spec.longitudes()):
                dlon = (lon[in_row] - clon + 180.0) % 360.0 - 180.0
                sel = (dlon >= -half) & (dlon < half)
                sums[k, i, j] = values[in_row][sel].sum()
                counts[k, i, j] = sel.sum()
    return sums, counts


def test_bin_points_matches_brute_force(rng: np.random.Generator) -> None:
    time, lat, lon, values = random_points(rng, 4001)
    grid = CellGrid.from_spec(SPEC)
    assert grid.shape == (7, 37, 31)
    sums, counts = bin_points(grid, grid.day_index(time), lat, lon, values)
    expected_sums, expected_counts = brute_force(SPEC, time, lat, lon, values)
    np.testing.assert_array_equal(counts, expected_counts)
    np.testing.assert_allclose(sums, expected_sums, atol=1e-12)
    assert 0 < counts.sum() < lat.size  # some points fall outside


def test_antimeridian_and_greenwich_cells() -> None:
    grid = CellGrid.from_spec(SPEC)
    day = np.zeros(4, np.int64)
    _, counts = bin_points(
        grid, day, np.zeros(4), np.array([179.9, -179.9, 180.1, 169.9]), np.ones(4)
    )
    # 179.9 -> column 19, -179.9 and 180.1 (same place) -> column 20, 169.9 outside
    assert counts[0, 20, 19] == 1 and counts[0, 20, 20] == 2 and counts.sum() == 3
    greenwich = GridSpec(
        lon_min=-5,
        lon_max=5,
        lat_min=0,
        lat_max=1,
        resolution=1,
        start="2022-01-01",
        end="2022-01-01",
    )
    g = CellGrid.from_spec(greenwich)
    _, counts = bin_points(
        g, np.zeros(3, np.int64), np.full(3, 0.5), np.array([359.5, -0.5, 0.5]), np.ones(3)
    )
    assert counts[0, 0, 4] == 2 and counts[0, 0, 5] == 1


def test_accumulator_flushes_give_the_same_result(rng: np.random.Generator) -> None:
    grid = CellGrid.from_spec(SPEC)
    acc = CellAccumulator(grid)
    parts = [random_points(rng, n) for n in (120_001, 90_003, 7)]  # a flush after 2^16 points
    flushed = []
    for time, lat, lon, values in parts:
        acc.add(time, lat, lon, values)
        flushed.append(int(acc.counts.sum()))
    assert flushed[0] == 0 and flushed[1] > 0  # the buffer was binned once, mid-way
    mean, count = acc.mean_and_count()
    time, lat, lon, values = (np.concatenate(x) for x in zip(*parts, strict=True))
    sums, counts = bin_points(grid, grid.day_index(time), lat, lon, values)
    np.testing.assert_array_equal(count, counts)
    np.testing.assert_allclose(
        mean, np.where(counts > 0, sums / np.maximum(counts, 1), np.nan), rtol=1e-6
    )
    assert count.dtype == np.int32 and mean.dtype == np.float32


def sst_field(lat: np.ndarray, lon: np.ndarray) -> xr.Dataset:
    values = 280.0 + lat[:, None] * 0.5 + np.cos(np.deg2rad(lon))[None, :]
    return xr.Dataset(
        {"sst": (("time", "latitude", "longitude"), values[None])},
        coords={"time": [np.datetime64("2022-03-02", "ns")], "latitude": lat, "longitude": lon},
    )


def test_regrid_sst_cell_average_and_nearest() -> None:
    grid = CellGrid.from_spec(SPEC)
    fine = sst_field(np.arange(-12, 10, 0.1) + 0.05, np.arange(-180, 180, 0.1) + 0.05)
    sums, counts = sst_l4.regrid(fine, grid)
    assert counts[1].all() and not counts[0].any()  # the SST day only
    # cell (lat -10..-9.5, lon 170..170.5): the mean of its 5 x 5 pixels
    lat = -10 + 0.1 * (np.arange(5) + 0.5)
    lon = 170 + 0.1 * (np.arange(5) + 0.5)
    expected = (280.0 + lat[:, None] * 0.5 + np.cos(np.deg2rad(lon))[None, :]).mean()
    assert sums[1, 0, 0] == pytest.approx(expected, abs=1e-9)
    coarse = sst_field(np.arange(-15.0, 15.0, 2.0), np.arange(0.0, 360.0, 2.0))  # 0..360
    sums, counts = sst_l4.regrid(coarse, grid)
    assert counts[1].all()
    # cell centre (-9.75, 170.25): nearest pixel is (-9, 170)
    assert sums[1, 0, 0] == pytest.approx(280.0 - 4.5 + np.cos(np.deg2rad(170.0)))


def write_day(
    path: Path,
    rng: np.random.Generator,
    day: str,
    n: int = 301,
    *,
    mission: str = "s3a",
    lon=(168.0, 192.0),
    ssh=None,
) -> Path:  # noqa: ANN001
    time = np.datetime64(day, "ns") + np.sort(rng.integers(0, 86399, n)).astype("m8[s]")
    tracks = make_tracks(
        time,
        rng.uniform(-11, 9, n),
        rng.uniform(*lon, n),
        rng.normal(0, 0.1, n) if ssh is None else ssh,
        mission=mission,
        source="test",
        ssh_variable="sla",
        extra={"mdt": np.full(n, 0.4, np.float32)},
    )
    return cmems_l3.write(tracks, path)


@pytest.fixture
def three_days(tmp_path: Path, rng: np.random.Generator) -> list[Path]:
    folder = tmp_path / "obs"
    folder.mkdir()
    return [
        write_day(folder / cmems_l3.file_name("s3a", "2022-03-01"), rng, "2022-03-01"),
        write_day(folder / cmems_l3.file_name("j3", "2022-03-01"), rng, "2022-03-01", mission="j3"),
        write_day(folder / cmems_l3.file_name("s3a", "2022-03-04"), rng, "2022-03-04"),
    ]


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_grid_files_equals_direct_mean(tmp_path: Path, three_days: list[Path], suffix: str) -> None:
    out = tmp_path / f"cube{suffix}"
    summary = grid_files(
        [three_days[0].parent], out, SPEC, variable="adt", time_chunk=3, history="pytest grid"
    )
    assert summary.shape == (7, 37, 31) and len(summary.read) == 3
    points = [open_product(p, variable="adt") for p in three_days]
    time, lat, lon, ssh = (
        np.concatenate([t[v].values for t in points])
        for v in ("time", "latitude", "longitude", "ssh")
    )
    sums, counts = brute_force(SPEC, time, lat, lon, ssh.astype(np.float64))
    cube = open_dataset(out)
    assert cube["ssh"].dims == ("time", "latitude", "longitude")
    np.testing.assert_array_equal(cube["count"].values, counts)
    np.testing.assert_array_equal(cube["mask"].values, (counts > 0).astype(np.int8))
    with np.errstate(invalid="ignore"):
        expected = np.where(counts > 0, sums / counts, np.nan)
    np.testing.assert_allclose(cube["ssh"].values, expected, rtol=1e-5, atol=1e-6)
    assert summary.points == counts.sum() > 0
    assert cube.attrs["ssh_kind"] == "adt" == cube["ssh"].attrs["ssh_kind"]
    assert cube.attrs["resolution"] == 0.5
    assert "pytest grid" in cube.attrs["history"]
    assert cube.attrs["source_files"].count(".nc") == 3
    assert cube.attrs["platform"] == "j3, s3a"
    np.testing.assert_allclose(cube["longitude"].values[[0, -1]], [170.25, 185.25])
    if suffix == ".nc":
        assert_cf_compliant(out)


def test_grid_with_sst(tmp_path: Path, three_days: list[Path]) -> None:
    lat, lon = np.arange(-12, 10, 0.25) + 0.125, np.arange(160, 200, 0.25) + 0.125
    field = sst_field(lat, (lon + 180) % 360 - 180).sortby("longitude")
    values = field["sst"].values.copy()
    values[:, :10, :] = np.nan  # land south of 9.5S
    sst = xr.DataArray(
        values,
        dims=("time", "lat", "lon"),
        coords={
            "time": field["time"].values,
            "lat": field["latitude"].values,
            "lon": field["longitude"].values,
        },
    )
    sst_path = sst_l4.write(sst, tmp_path / "sst.nc")
    out = tmp_path / "cube.nc"
    grid_files(three_days, out, SPEC, sst=[sst_path])
    cube = open_dataset(out)
    assert cube["sst"].attrs["units"] == "K"
    assert np.isnan(cube["sst"].values[0]).all() and np.isfinite(cube["sst"].values[1, 1:]).all()
    assert np.isnan(cube["sst"].values[1, 0]).all()  # land (lat < -9.5) stays NaN
    assert cube["sst"].values[1, 5, 0] == pytest.approx(
        280.0 + (-7.25) * 0.5 + np.cos(np.deg2rad(170.25)), abs=0.02
    )
    assert_cf_compliant(out)


def test_an_empty_sst_file_outside_the_dates_is_left_out(
    tmp_path: Path, three_days: list[Path], one_day_sst: Path
) -> None:
    # an SST file of other dates is left out before its values are judged
    # (a simulated month after its truth blew up used to stop the grid)
    with xr.open_dataset(one_day_sst) as ds:
        empty = ds["analysed_sst"].load() * np.nan
    empty = empty.assign_coords(time=[np.datetime64("2022-06-01", "ns")])
    late = sst_l4.write(empty, tmp_path / "late-sst.nc")
    out = tmp_path / "cube.nc"
    grid_files(three_days, out, SPEC, sst=[late])
    assert "sst" not in open_dataset(out)  # no SST in the dates: none gridded


# ----------------------------------------------------------------- bad inputs (CLI)


def run_grid(args: list[str]):  # noqa: ANN201
    return CliRunner().invoke(app, ["grid", *args])


def no_output_left(out: Path) -> bool:
    return not out.exists() and not list(out.parent.glob(f".tmp-*{out.name}"))


def _truncated(tmp: Path, rng: np.random.Generator) -> tuple[Path, str]:
    good = write_day(tmp / "good.nc", rng, "2022-03-02", n=4001)
    cut = tmp / "cut.nc"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    good.unlink()
    return cut, "not a readable NetCDF file"


def _not_netcdf(tmp: Path, rng: np.random.Generator) -> tuple[Path, str]:
    path = tmp / "readme.nc"
    path.write_text("hello")
    return path, "not a readable NetCDF file"


def _missing_variable(tmp: Path, rng: np.random.Generator) -> tuple[Path, str]:
    path = write_day(tmp / "x.nc", rng, "2022-03-02")
    with netCDF4.Dataset(path, "a") as nc:
        nc.renameVariable("sla_filtered", "sla_other")
    return path, "missing variable 'sla_filtered'"


def _unknown_units(tmp: Path, rng: np.random.Generator) -> tuple[Path, str]:
    path = write_day(tmp / "x.nc", rng, "2022-03-02")
    with netCDF4.Dataset(path, "a") as nc:
        nc["sla_filtered"].units = "parsecs"
    return path, "units 'parsecs'"


def _all_nan(tmp: Path, rng: np.random.Generator) -> tuple[Path, str]:
    return write_day(tmp / "x.nc", rng, "2022-03-02", ssh=np.full(301, np.nan)), "no valid"


BAD = {
    "truncated": _truncated,
    "not_netcdf": _not_netcdf,
    "missing": _missing_variable,
    "units": _unknown_units,
    "all_nan": _all_nan,
}


def test_files_outside_the_dates_are_left_out_not_errors(
    tmp_path: Path, rng: np.random.Generator, three_days: list[Path]
) -> None:
    """A folder of a whole archive gridded over a few days and a region: files of
    other days, or of other regions, are left out and counted, not errors."""
    other_year = write_day(tmp_path / "x.nc", rng, "2021-03-02")
    elsewhere = write_day(tmp_path / "y.nc", rng, "2022-03-02", lon=(10.0, 20.0))
    out = tmp_path / "cube.nc"
    args = [*map(str, three_days), str(other_year), str(elsewhere), "-o", str(out), *BOX, *DATES]
    result = run_grid(args)
    assert result.exit_code == 0, result.output
    assert "no point in the dates" in result.output and "no point inside the box" in result.output
    assert "3 file(s) read, 2 not used (1 outside box, 1 outside period)" in result.output
    result = run_grid([str(other_year), "-o", str(tmp_path / "none.nc"), *BOX, *DATES])
    assert result.exit_code == 1 and "no usable observation file" in result.output


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_fails_cleanly(
    tmp_path: Path, rng: np.random.Generator, case: str, three_days: list[Path]
) -> None:
    bad, problem = BAD[case](tmp_path, rng)
    out = tmp_path / "cube.nc"
    result = run_grid([str(three_days[0]), str(bad), "-o", str(out), *BOX, *DATES])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and bad.name in lines[0] and problem in lines[0], result.output
    assert no_output_left(out)


def test_skip_mode_writes_the_rest_and_says_so(
    tmp_path: Path, rng: np.random.Generator, three_days: list[Path]
) -> None:
    bad, _ = _not_netcdf(tmp_path, rng)
    out = tmp_path / "cube.zarr"
    result = run_grid(
        [*map(str, three_days), str(bad), "-o", str(out), *BOX, *DATES, "--on-error", "skip"]
    )
    assert result.exit_code == 3, result.output
    assert "readme.nc" in result.output and "3 file(s) read, 1 not used" in result.output
    assert open_dataset(out)["count"].sum() > 0


def test_duplicates_and_superseded(
    tmp_path: Path, rng: np.random.Generator, three_days: list[Path]
) -> None:
    copy = tmp_path / "copy_of_first.nc"
    shutil.copy(three_days[0], copy)
    out = tmp_path / "cube.nc"
    result = run_grid([*map(str, three_days), str(copy), "-o", str(out), *BOX, *DATES])
    assert result.exit_code == 1 and "copy_of_first.nc: duplicate of" in result.output
    assert no_output_left(out)
    # an older production of the same day is left out (not an error), and said so
    older = three_days[0].with_name(three_days[0].name.replace("_20220301.nc", "_20220228.nc"))
    write_day(older, rng, "2022-03-01")
    summary = grid_files(three_days + [older], out, SPEC)
    assert [f.status for f in summary.files if f.path == older] == ["superseded"]
    assert len(summary.read) == 3


def test_empty_date_range_and_existing_output(tmp_path: Path, three_days: list[Path]) -> None:
    out = tmp_path / "cube.nc"
    result = run_grid(
        [str(three_days[0]), "-o", str(out), *BOX, "-t", "2022-03-07", "-T", "2022-03-01"]
    )
    assert result.exit_code == 1 and "empty date range" in result.output
    assert no_output_left(out)
    out.write_text("precious")
    result = run_grid([str(three_days[0]), "-o", str(out), *BOX, *DATES])
    assert result.exit_code == 1 and "output exists" in result.output
    assert out.read_text() == "precious"
    result = run_grid([str(three_days[0]), "-o", str(out), *BOX, *DATES, "--overwrite"])
    assert result.exit_code == 0, result.output
    assert open_dataset(out)["count"].sum() > 0


def test_sst_file_given_as_observations(
    tmp_path: Path, three_days: list[Path], one_day_sst: Path
) -> None:
    path = one_day_sst
    result = run_grid([str(path), "-o", str(tmp_path / "c.nc"), *BOX, *DATES])
    assert result.exit_code == 1 and "no usable observation file" in result.output
    # beside observations, an L4 SST file is used as with --sst
    out = tmp_path / "with_sst.nc"
    result = run_grid([*map(str, three_days), str(path), "-o", str(out), *BOX, *DATES])
    assert result.exit_code == 0, result.output
    assert "sst" in open_dataset(out).data_vars


# ------------------------------------------------------------------------- real


@pytest.mark.real
def test_real_jason3_north_atlantic(real_data: Path, tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = real_data / "nadir/nasa_ssh_jason3"
    out = tmp_path / "natl.nc"
    result = run_grid(
        [
            str(folder),
            "-o",
            str(out),
            "-x",
            "-80",
            "-X",
            "-10",
            "-y",
            "20",
            "-Y",
            "60",
            "-t",
            "2022-01-01",
            "-T",
            "2022-01-10",
            "--resolution",
            "0.25",
            "--variable",
            "ssh",
            "--no-land-mask",  # every point counted, to compare with the files
        ]
    )
    assert result.exit_code == 0, result.output
    cube = xr.open_dataset(out)
    assert dict(cube.sizes) == {"time": 10, "latitude": 160, "longitude": 280, "nv": 2}
    expected = 0
    for path in sorted(folder.glob("*.nc")):
        t = open_product(path, variable="ssh")
        inside = (
            (t["longitude"] >= -80)
            & (t["longitude"] < -10)
            & (t["latitude"] >= 20)
            & (t["latitude"] < 60)
        )
        expected += int(inside.sum())
    assert int(cube["count"].sum()) == expected > 30_000
    assert int(cube["ssh"].notnull().sum()) == int(cube["mask"].sum())
    assert abs(float(cube["ssh"].mean())) < 0.3
    assert_cf_compliant(out)
    fig, ax = plt.subplots()
    cube["ssh"].mean("time").plot(ax=ax)
    fig.savefig(tmp_path / "natl.png")
    plt.close(fig)
    assert (tmp_path / "natl.png").stat().st_size > 10_000


def test_box_defaults_to_the_observations_extent() -> None:
    from oceaninterp.grid import spec_from_data
    from oceaninterp.ingest import _lon_range

    sample = Path(__file__).resolve().parents[1] / "sample_data" / "obs" / "nadir" / "j3"
    files = sorted(sample.glob("*_20221001-20221031_*.nc"))
    spec = spec_from_data(files, resolution=0.25, start="2022-10-01", end="2022-10-02")
    assert (spec.lon_min, spec.lon_max, spec.lat_min, spec.lat_max) == (-65, -55, 33, 43)
    given = spec_from_data(files, lon_min=-60.0, resolution=0.25)
    assert given.lon_min == -60.0 and given.lon_max == -55 and given.start == "2022-10-01"
    assert _lon_range(np.array([170.0, 179.0, -178.0])) == (170.0, -178.0)  # across 180
    assert _lon_range(np.array([-10.0, 5.0])) == (-10.0, 5.0)
