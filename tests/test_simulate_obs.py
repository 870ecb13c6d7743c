"""Simulated observation files: exact sampling, noise levels, read back by the products and grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from oceaninterp.errors import InputError
from oceaninterp.simulate import errors, swath
from oceaninterp.simulate.observations import simulate_obs

DAYS = 5
START = np.datetime64("2022-03-01", "ns")
# A truth linear in longitude, latitude and time: bilinear/linear sampling is exact.
A, B, C, D = 0.4, 0.02, -0.03, 0.005  # m, m/deg, m/deg, m/day


def _inner(tracks: xr.Dataset) -> xr.Dataset:
    """Points between the first and last day centres (held constant outside)."""
    t = tracks["time"].values
    first = START + np.timedelta64(12, "h")
    return tracks.isel(obs=(t >= first) & (t <= first + (DAYS - 1) * np.timedelta64(1, "D")))


def _analytic(times, lat, lon):
    days = (np.asarray(times).astype("datetime64[ns]") - START) / np.timedelta64(1, "D") - 0.5
    return A + B * (lon + 60.0) + C * (lat - 38.0) + D * days


@pytest.fixture(scope="module")
def truth(tmp_path_factory):
    lat = np.linspace(32.9, 43.1, 35)
    lon = np.linspace(-65.1, -54.9, 33)
    times = START + np.arange(DAYS) * np.timedelta64(1, "D")
    t3 = times[:, None, None] + np.timedelta64(12, "h")
    ssh = _analytic(t3, lat[None, :, None], lon[None, None, :])
    sst = 290.0 + 0.1 * (lat[None, :, None] - 38.0) + 0.0 * ssh
    ds = xr.Dataset(
        {
            "ssh": (("time", "latitude", "longitude"), ssh.astype(np.float32)),
            "sst": (("time", "latitude", "longitude"), sst.astype(np.float32)),
        },
        coords={"time": times, "latitude": lat, "longitude": lon},
    )
    path = tmp_path_factory.mktemp("truth") / "truth.nc"
    ds.to_netcdf(path)
    return path


@pytest.fixture(scope="module")
def clean(truth, tmp_path_factory):
    out = tmp_path_factory.mktemp("clean")
    return out, simulate_obs(
        truth, out, noise=False, seed=4, files="product", systematic=False, mdt_error=0.0
    )


@pytest.fixture(scope="module")
def noisy(truth, tmp_path_factory):
    out = tmp_path_factory.mktemp("noisy")
    return out, simulate_obs(
        truth, out, noise=True, seed=4, files="product", systematic=False, mdt_error=0.0
    )


def test_every_mission_and_kind_is_written(clean) -> None:
    out, paths = clean
    kinds = {p.relative_to(out).parts[0] for p in paths}
    assert kinds == {"nadir", "swot", "sst"}
    assert (out / "mdt.nc").is_file()  # written beside them, not a product file
    missions = {p.parent.name for p in paths if p.parent.parent.name == "nadir"}
    assert missions == {"j3", "s3a", "s3b", "alg", "c2", "h2b"}
    assert len([p for p in paths if p.parent.name == "sst"]) == DAYS
    name = next(p.name for p in paths if p.parent.name == "j3")
    assert name.startswith("dt_global_j3_phy_l3_1hz_202203") and name.endswith("_20250101.nc")
    days = {p.name.split("_")[-2] for p in paths if p.parent.parent.name == "nadir"}
    assert days == {f"2022030{d}" for d in range(1, DAYS + 1)}  # no day outside the truth
    swot = [p.name for p in paths if p.parent.name == "swot"]
    assert all(name.startswith("SWOT_L3_LR_SSH_Expert_") for name in swot)


def test_mdt_file_is_the_mdt_the_files_carry(truth, clean) -> None:
    from oceaninterp.mdt import read_mdt

    out, paths = clean
    mdt = read_mdt(out / "mdt.nc")
    with xr.open_dataset(truth) as ds:
        np.testing.assert_allclose(mdt.values, ds["ssh"].mean("time").values, atol=1e-6)
    nadir = [p for p in paths if p.parent.parent.name == "nadir"][:5]
    with xr.open_mfdataset(nadir, combine="nested", concat_dim="time") as raw:
        lat, lon, carried = (raw[v].values for v in ("latitude", "longitude", "mdt"))
    lon = mdt["longitude"].values[0] + (lon - mdt["longitude"].values[0]) % 360.0
    at_tracks = mdt.interp(
        latitude=xr.DataArray(lat, dims="p"), longitude=xr.DataArray(lon, dims="p")
    ).values
    ok = np.isfinite(at_tracks) & np.isfinite(carried)
    assert ok.sum() > 100
    np.testing.assert_allclose(at_tracks[ok], carried[ok], atol=6e-4)  # int16 x 1 mm


def test_nadir_files_carry_the_truth_without_noise(clean) -> None:
    from oceaninterp.products import open_product

    _, paths = clean
    nadir = [p for p in paths if p.parent.parent.name == "nadir"]
    tracks = _inner(xr.concat([open_product(p, variable="adt") for p in nadir], dim="obs"))
    expected = _analytic(
        tracks["time"].values, tracks["latitude"].values, tracks["longitude"].values
    )
    assert tracks.sizes["obs"] > 1000
    np.testing.assert_allclose(tracks["ssh"].values, expected, atol=1.5e-3)  # int16 x 1 mm


def test_swot_files_carry_the_truth_on_the_karin_swaths(clean) -> None:
    from oceaninterp.products import open_product

    _, paths = clean
    swot = [p for p in paths if p.parent.name == "swot"]
    assert swot
    with xr.open_dataset(swot[0]) as ds:
        assert ds.sizes["num_pixels"] == 69
        np.testing.assert_array_equal(
            ds["cross_track_distance"].values, swath.cross_track_distance()
        )
        good = ds["quality_flag"].values == 0
        assert np.isfinite(ds["ssha_filtered"].values[good]).all()
        assert not good[:, ~swath.karin_pixels()].any()
        assert np.all(np.diff(ds["time"].values) > np.timedelta64(0))
    tracks = _inner(xr.concat([open_product(p, variable="adt") for p in swot], dim="obs"))
    expected = _analytic(
        tracks["time"].values, tracks["latitude"].values, tracks["longitude"].values
    )
    np.testing.assert_allclose(tracks["ssh"].values, expected, atol=2e-4)  # int32 x 0.1 mm


def test_noise_has_the_specified_std(clean, noisy) -> None:
    from oceaninterp.products import open_product

    for mission, sigma in errors.NADIR_NOISE.items():
        a = [p for p in clean[1] if p.parent.name == mission]
        b = [p for p in noisy[1] if p.parent.name == mission]
        assert [p.name for p in a] == [p.name for p in b]
        diff = np.concatenate(
            [
                open_product(q, variable="sla_unfiltered")["ssh"].values
                - open_product(p, variable="sla_unfiltered")["ssh"].values
                for p, q in zip(a, b, strict=True)
            ]
        )
        assert diff.std() == pytest.approx(sigma, rel=0.12), mission
        filtered = np.concatenate(
            [
                open_product(q, variable="sla_filtered")["ssh"].values
                - open_product(p, variable="sla_filtered")["ssh"].values
                for p, q in zip(a, b, strict=True)
            ]
        )
        assert filtered.std() < 0.6 * sigma  # the along-track low-pass removes most noise
    a = sorted(p for p in clean[1] if p.parent.name == "swot")
    b = sorted(p for p in noisy[1] if p.parent.name == "swot")
    diffs = []
    for p, q in zip(a, b, strict=True):
        with xr.open_dataset(p) as x, xr.open_dataset(q) as y:
            diffs.append(y["ssha_unfiltered"].values - x["ssha_unfiltered"].values)
    karin = swath.karin_pixels()
    std = np.nanstd(np.concatenate(diffs)[:, karin], axis=0)
    expected = errors.karin_noise_std(swath.cross_track_distance())[karin]
    np.testing.assert_allclose(std, expected, rtol=0.12)


def _grid(paths: list, output) -> xr.Dataset:
    """The observation files (and SST) gridded at 1/4 deg over the truth's box and days."""
    from oceaninterp.config import GridSpec
    from oceaninterp.grid import grid_files

    spec = GridSpec(-65.0, -55.0, 33.0, 43.0, 0.25, start="2022-03-01", end="2022-03-05")
    obs = [p for p in paths if p.parent.name != "sst"]
    sst = [p for p in paths if p.parent.name == "sst"]
    summary = grid_files(obs, output, spec, variable="adt", sst=sst)
    assert len(summary.read) == len(paths) and not summary.skipped
    return xr.load_dataset(summary.output)


def test_grid_reads_every_file_and_gives_back_the_truth(clean, tmp_path) -> None:
    cube = _grid(clean[1], tmp_path / "cube.nc")
    seen = cube["count"].values > 0
    assert seen.mean() > 0.05
    lat = cube["latitude"].values[None, :, None]
    lon = cube["longitude"].values[None, None, :]
    noon = cube["time"].values[:, None, None] + np.timedelta64(12, "h")
    expected = np.broadcast_to(_analytic(noon, lat, lon), seen.shape)
    np.testing.assert_allclose(cube["ssh"].values[seen], expected[seen], atol=0.01)
    assert np.isfinite(cube["sst"].values).all()


def test_month_files_are_few_and_grid_like_the_product_files(truth, noisy, tmp_path) -> None:
    from oceaninterp.pipeline.catalogue import name_days
    from oceaninterp.products.cmems_l3 import production_key

    paths = simulate_obs(
        truth, tmp_path / "obs", noise=True, seed=4, systematic=False, mdt_error=0.0
    )  # default: by month
    assert len(paths) == 6 + 1 + 1  # six nadirs, SWOT and SST: one file each for 5 days
    j3 = next(p for p in paths if p.parent.name == "j3")
    assert j3.name == "dt_global_j3_phy_l3_1hz_20220301-20220305_20250101.nc"
    assert production_key(j3) is None  # not mistaken for a one-day CMEMS file
    swot = next(p for p in paths if p.parent.name == "swot")
    assert name_days(swot) == ("2022-03-01", "2022-03-05")
    sst = next(p for p in paths if p.parent.name == "sst")
    assert sst.name.startswith("20220301-20220305-") and name_days(sst) is None
    month = _grid(paths, tmp_path / "month.nc")
    product = _grid(noisy[1], tmp_path / "product.nc")
    assert int(month["count"].sum()) > 100
    for name in ("ssh", "count", "sst"):
        np.testing.assert_array_equal(month[name].values, product[name].values)


def test_same_seed_same_files(truth, noisy, tmp_path) -> None:
    from oceaninterp.products import open_product

    again = simulate_obs(
        truth,
        tmp_path,
        missions=["j3"],
        noise=True,
        sst=False,
        seed=4,
        files="product",
        mdt_error=0.0,
    )
    first = [p for p in noisy[1] if p.parent.name == "j3"]
    assert [p.name for p in again] == [p.name for p in first]
    for p, q in zip(first, again, strict=True):
        np.testing.assert_array_equal(open_product(p)["ssh"].values, open_product(q)["ssh"].values)


def test_cli_obs_writes_files_and_refuses_to_overwrite(truth, tmp_path) -> None:
    from oceaninterp.cli.app import app

    args = ["simulate", "obs", str(truth), "-o", str(tmp_path), "--missions", "j3,s3a", "--no-sst"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert any((tmp_path / "nadir" / "j3").iterdir())
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 1 and "--overwrite" in again.output
    bad = CliRunner().invoke(
        app, ["simulate", "obs", str(tmp_path / "nope.nc"), "-o", str(tmp_path / "x")]
    )
    assert bad.exit_code == 1 and "nope.nc" in bad.output


def test_cli_truth_prints_statistics(tmp_path) -> None:
    from oceaninterp.cli.app import app

    result = CliRunner().invoke(
        app,
        [
            "simulate",
            "truth",
            "-o",
            str(tmp_path),
            "--days",
            "2",
            "--resolution",
            "1.0",
            "--grid-points",
            "32",
            "--spinup-days",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "eddy" in result.output and (tmp_path / "truth.nc").exists()


def test_a_users_map_with_land_and_other_names(tmp_path) -> None:
    from oceaninterp.products import open_product

    lat = np.linspace(32.9, 43.1, 21)
    lon = np.linspace(294.9, 305.1, 23)  # 0..360 longitudes
    zos = np.full((3, lat.size, lon.size), 0.5, np.float32)
    zos[:, :, :18] = np.nan  # land in the west: some passes see only land
    ds = xr.Dataset(
        {"zos": (("time", "lat", "lon"), zos)},
        coords={"time": START + np.arange(3) * np.timedelta64(1, "D"), "lat": lat, "lon": lon},
    )
    ds.to_netcdf(tmp_path / "map.nc")
    paths = simulate_obs(
        tmp_path / "map.nc",
        tmp_path / "obs",
        missions=["j3", "s3a", "swot"],
        sst=False,
        noise=False,
        variable="zos",
        systematic=False,
        mdt_error=0.0,
    )
    parts = [open_product(p, variable="adt") for p in paths]
    assert all(np.isfinite(part["ssh"].values).any() for part in parts)  # no all-land file
    tracks = xr.concat(parts, dim="obs")
    assert tracks.sizes["obs"] > 20
    assert (tracks["longitude"].values % 360 >= lon[17]).all()  # nothing over land
    np.testing.assert_allclose(tracks["ssh"].values, 0.5, atol=1e-3)
    # no SST in the map: no SST files, a note (not an error); zos found by its name
    again = simulate_obs(tmp_path / "map.nc", tmp_path / "obs2", missions=["j3"], noise=False)
    assert again and not (tmp_path / "obs2" / "sst").exists()
    with pytest.raises(InputError, match="no SSH variable 'eta'"):
        simulate_obs(tmp_path / "map.nc", tmp_path / "obs3", missions=["j3"], variable="eta")


def _swot_error(truth, clean, out, **options) -> list[np.ndarray]:
    """Per SWOT file, its ``ssha_unfiltered`` minus the clean file's (no noise, seed 4), m."""
    paths = simulate_obs(
        truth, out, missions=["swot"], sst=False, noise=False, seed=4, files="product", **options
    )
    base = sorted(p for p in clean[1] if p.parent.name == "swot")
    assert [p.name for p in sorted(paths)] == [p.name for p in base]
    diffs = []
    for path, ref in zip(sorted(paths), base, strict=True):
        with xr.open_dataset(path) as x, xr.open_dataset(ref) as y:
            diffs.append(x["ssha_unfiltered"].values - y["ssha_unfiltered"].values)
    return diffs


def test_karin_systematic_errors_are_smooth_along_track(truth, clean, tmp_path) -> None:
    diff = _swot_error(truth, clean, tmp_path, systematic=True)[0]
    karin = swath.karin_pixels()
    assert 0.002 < np.nanstd(diff[:, karin]) < 0.1  # metres: a few cm
    along = np.nanstd(np.diff(diff[:, karin], axis=0))
    assert along < 0.05 * np.nanstd(diff[:, karin])  # red along track, not white


def test_swot_roll_error_is_linear_across_the_swath(truth, clean, tmp_path) -> None:
    """Roll alone: the error of each line is ``a(t) x_ac``, a ramp through nadir."""
    roll = errors.SystematicErrors(roll=0.03, phase=0.0, dilation=0.0, timing=0.0)
    xtd = swath.cross_track_distance()
    slopes, residuals = [], []
    for diff in _swot_error(truth, clean, tmp_path, systematic=roll, mdt_error=0.0):
        for line in diff:
            ok = np.isfinite(line)
            if ok.sum() < 10 or (xtd[ok] > 0).all() or (xtd[ok] < 0).all():
                continue  # both sides needed to see the ramp through nadir
            a = np.sum(line[ok] * xtd[ok]) / np.sum(xtd[ok] ** 2)  # fit through the origin
            slopes.append(a)
            residuals.append(np.abs(line[ok] - a * xtd[ok]).max())
    assert len(slopes) > 50
    assert max(residuals) < 3e-4  # metres: linear to the 0.1 mm packing
    edge = 60.0 * np.asarray(slopes)
    assert 0.005 < np.std(edge) < 0.1  # metres at 60 km: the roll amplitude's order


def test_default_mdt_carries_a_correlated_error_and_the_sla_does_not(
    truth, clean, tmp_path
) -> None:
    from oceaninterp.mdt import read_mdt

    paths = simulate_obs(truth, tmp_path, missions=["j3"], sst=False, noise=False, seed=4)
    exact = read_mdt(clean[0] / "mdt.nc").values
    carried = read_mdt(tmp_path / "mdt.nc").values
    error = carried - exact
    assert 0.015 < error.std() < 0.025  # metres (2 cm by default)
    assert np.corrcoef(error[:, :-1].ravel(), error[:, 1:].ravel())[0, 1] > 0.9  # smooth
    with xr.open_dataset(paths[0]) as got:
        sla, mdt = got["sla_unfiltered"].values, got["mdt"].values
    ref = [p for p in clean[1] if p.parent.name == "j3"]
    with xr.open_mfdataset(ref, combine="nested", concat_dim="time") as clean_j3:
        np.testing.assert_allclose(sla, clean_j3["sla_unfiltered"].values, atol=1.5e-3)
        assert 0.005 < np.std(mdt - clean_j3["mdt"].values) < 0.04


SAMPLE_OBS = Path(__file__).resolve().parents[1] / "sample_data" / "obs"


def test_the_sample_observations_are_few_small_files() -> None:
    """sample_data/obs repacked by month (issue 13): 72 files, 13 MB (2 026 files, 74 MB before)."""
    files = sorted(SAMPLE_OBS.rglob("*.nc"))
    assert len(files) == 72
    assert sum(p.stat().st_size for p in files) < 16e6  # bytes


@pytest.mark.slow
def test_the_sample_observations_grid_to_the_published_points(tmp_path) -> None:
    """The repacked files hold the published 675 279 points of the year (about a minute)."""
    from oceaninterp.config import GridSpec
    from oceaninterp.grid import grid_files

    spec = GridSpec(-65.0, -55.0, 33.0, 43.0, 0.1, start="2022-01-01", end="2022-12-31")
    tracks = [p for p in sorted(SAMPLE_OBS.rglob("*.nc")) if p.parent.name != "sst"]
    summary = grid_files(tracks, tmp_path / "cube.nc", spec, variable="adt")
    with xr.open_dataset(summary.output) as cube:
        assert int(cube["count"].sum()) == 675_279  # sample_data/README.md
