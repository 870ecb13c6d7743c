"""score_maps and `oceaninterp score` on small synthetic OSSE/OSE files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from oceaninterp.cli.app import app
from oceaninterp.errors import ConfigError, InputError, OutputExistsError
from oceaninterp.report import RECORD_KEYS, open_map, score_maps

DIMS = ("time", "latitude", "longitude")


def field(rng: np.random.Generator, shape=(21, 13, 31)) -> xr.DataArray:
    from scipy.ndimage import gaussian_filter

    values = gaussian_filter(rng.normal(size=shape), (3, 2, 2), mode="wrap")
    values = 0.3 + 0.1 * values / values.std()
    nt, ny, nx = shape
    return xr.DataArray(
        values.astype(np.float32),
        dims=DIMS,
        coords={
            "time": np.datetime64("2012-10-01", "ns") + np.arange(nt) * np.timedelta64(1, "D"),
            "latitude": 33.1 + 0.2 * np.arange(ny),
            "longitude": -64.9 + 0.2 * np.arange(nx),
        },
    )


@pytest.fixture
def osse(tmp_path: Path, rng: np.random.Generator) -> dict[str, Path]:
    truth = field(rng)
    paths = {
        "truth": tmp_path / "truth.nc",
        "noisy": tmp_path / "noisy_map.nc",
        "oi": tmp_path / "oi.nc",
    }
    truth.to_dataset(name="ssh").to_netcdf(paths["truth"])
    noisy = truth + rng.normal(0, 0.02, truth.shape).astype(np.float32)
    noisy.to_dataset(name="adt").to_netcdf(paths["noisy"])
    damped = (truth * 0.8).assign_attrs(ssh_kind="adt")
    damped.to_dataset(name="ssh").to_netcdf(paths["oi"])
    return paths


def test_gridded_scores_and_outputs(osse: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "report"
    records = score_maps([osse["noisy"], osse["oi"]], truth=osse["truth"], output_dir=out)
    assert [r["name"] for r in records] == ["noisy_map", "oi"]
    assert all(set(r) == set(RECORD_KEYS) for r in records)
    truth = xr.open_dataset(osse["truth"])["ssh"].astype(np.float64)
    rms = float(np.sqrt((truth**2).mean()))
    assert records[0]["mu"] == pytest.approx(1 - 0.02 / rms, abs=0.003)
    assert records[0]["rmse_m"] == pytest.approx(0.02, rel=0.05)
    assert records[1]["mu"] == pytest.approx(0.8, abs=1e-5)
    assert records[1]["sigma"] == pytest.approx(0.0, abs=1e-5)
    for r in records:
        assert r["lambda_x_km"] == pytest.approx(
            r["lambda_x_deg"] * 111.19 * np.cos(np.deg2rad(34.3)), rel=0.01
        )
        assert r["lambda_t_days"] > 0
    assert json.loads((out / "scores.json").read_text()) == records
    assert (out / "scores.csv").read_text().splitlines()[0] == ",".join(RECORD_KEYS)
    for name in ("snapshots.png", "spectral_scores.png", "daily_scores.png"):
        assert (out / name).stat().st_size > 1000
    with pytest.raises(OutputExistsError):
        score_maps([osse["oi"]], truth=osse["truth"], output_dir=out)
    again = score_maps(
        [osse["oi"]],
        truth=osse["truth"],
        output_dir=out,
        overwrite=True,
        start="2012-10-05",
        end="2012-10-14",
    )
    assert again[0]["mu"] == pytest.approx(0.8, abs=1e-5)


@pytest.mark.parametrize("end", ["2012-10-06", "2012-10-08"])
def test_a_few_days_score_without_spectral_scores(
    osse: dict[str, Path], tmp_path: Path, end: str
) -> None:
    # 2 or 4 days hold no spectral-score contour: lambda NaN, no spectral figure
    out = tmp_path / "report"
    records = score_maps(
        [osse["oi"]], truth=osse["truth"], output_dir=out, start="2012-10-05", end=end
    )
    assert records[0]["mu"] == pytest.approx(0.8, abs=1e-5)
    assert records[0]["lambda_x_deg"] is None or np.isnan(records[0]["lambda_x_deg"])
    assert not (out / "spectral_scores.png").exists()
    assert (out / "daily_scores.png").exists()


def test_maps_are_interpolated_to_the_truth_grid(osse: dict[str, Path], tmp_path: Path) -> None:
    """A map on a coarser grid and a shorter period is scored on the common days."""
    coarse = xr.open_dataset(osse["truth"])["ssh"].isel(
        latitude=slice(None, None, 2), longitude=slice(None, None, 2), time=slice(2, 15)
    )
    path = tmp_path / "coarse.nc"
    coarse.to_dataset(name="adt").to_netcdf(path)
    records = score_maps([path], truth=osse["truth"], output_dir=tmp_path / "r")
    assert 0.9 < records[0]["mu"] < 1.0


def test_exactly_one_reference(osse: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="exactly one"):
        score_maps([osse["oi"]], output_dir=tmp_path)
    with pytest.raises(ConfigError, match="exactly one"):
        score_maps([osse["oi"]], truth=osse["truth"], tracks=[osse["truth"]], output_dir=tmp_path)


def test_kind_mismatch_is_refused(osse: dict[str, Path], tmp_path: Path) -> None:
    sla_only = tmp_path / "sla.nc"
    xr.open_dataset(osse["truth"])["ssh"].to_dataset(name="sla").to_netcdf(sla_only)
    with pytest.raises(InputError, match="--variable"):
        score_maps([sla_only], truth=osse["truth"], output_dir=tmp_path / "r")
    records = score_maps([sla_only], truth=osse["truth"], output_dir=tmp_path / "r", variable="sla")
    assert records[0]["mu"] == pytest.approx(1.0)


def _track_files(truth: xr.DataArray, folder: Path, kind: str = "adt") -> list[Path]:
    """One CMEMS L3 file a day (days 3..8): a meridional 1 Hz pass sampled from ``truth``."""
    from oceaninterp.products import cmems_l3
    from oceaninterp.products.schema import make_tracks

    folder.mkdir(exist_ok=True)
    paths = []
    for day in range(3, 9):
        # One 1 Hz pass a day, 6.5 km spacing, along a meridian, sampled from the truth.
        n = 330
        time = (
            truth["time"].values[day]
            + np.arange(n) * np.timedelta64(1, "s")
            + np.timedelta64(3, "h")
        )
        lat = np.linspace(33.2, 35.5, n)
        lon = np.full(n, -63.0 + 0.3 * day)
        ssh = truth.interp(
            time=xr.DataArray(time), latitude=xr.DataArray(lat), longitude=xr.DataArray(lon)
        ).values
        tracks = make_tracks(
            time,
            lat,
            lon,
            ssh,
            mission="c2",
            source="test",
            ssh_variable=kind,
            ssh_kind=kind,
            extra={"mdt": np.full(n, 0.3)},
        )
        paths.append(
            cmems_l3.write(tracks, folder / f"dt_global_c2_phy_l3_201210{day + 1:02d}_20200101.nc")
        )
    return paths


def test_alongtrack_scores_from_product_files(osse: dict[str, Path], tmp_path: Path) -> None:
    paths = _track_files(xr.open_dataset(osse["truth"])["ssh"], tmp_path / "tracks")
    records = score_maps([osse["noisy"], osse["oi"]], tracks=paths, output_dir=tmp_path / "ose")
    assert records[1]["mu"] == pytest.approx(0.8, abs=0.01)  # int16 x 1 mm packing
    assert records[0]["mu"] > records[1]["mu"]
    assert records[0]["lambda_t_days"] is None and records[0]["lambda_x_deg"] is None
    assert (tmp_path / "ose" / "daily_scores.png").exists()
    # The second map against the first, on the same points, with an interval by pass.
    gain = 1 - (records[1]["rmse_m"] / records[0]["rmse_m"]) ** 2
    assert records[0]["mse_gain"] is None
    assert records[1]["mse_gain"] == pytest.approx(gain)
    assert records[1]["mse_gain_low"] < gain < records[1]["mse_gain_high"]
    assert records[1]["mse_gain_high"] < 0  # the OI is worse than the noisy truth


def test_open_map_reads_real_duacs_l4(real_data: Path) -> None:
    path = real_data / "l4_duacs" / "dt_blacksea_allsat_phy_l4_20160707_20200801.nc"
    adt = open_map(path, kind="adt")
    sla = open_map(path, kind="sla")
    assert adt.dims == DIMS and adt.sizes["time"] == 1
    assert float(np.nanstd(adt.values - sla.values)) < float(
        np.nanstd(adt.values)
    )  # adt = sla + mdt


def test_cli_score(osse: dict[str, Path], tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "cli"
    result = runner.invoke(
        app,
        [
            "score",
            str(osse["noisy"]),
            str(osse["oi"]),
            "--truth",
            str(osse["truth"]),
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "noisy_map" in result.output and "0.800" in result.output
    records = json.loads((out / "scores.json").read_text())
    assert records[1]["name"] == "oi"
    # Gridded: the gain over the first map, without an interval (no passes to resample).
    gain = 1 - (records[1]["rmse_m"] / records[0]["rmse_m"]) ** 2
    assert records[1]["mse_gain"] == pytest.approx(gain) and records[1]["mse_gain_low"] is None
    assert f"{100 * gain:+.1f}%" in result.output
    result = runner.invoke(app, ["score", str(osse["oi"]), "-o", str(out), "--overwrite"])
    assert result.exit_code == 1
    assert "exactly one reference" in result.output


def test_alongtrack_scores_on_real_cmems_tracks(real_data: Path, tmp_path: Path) -> None:
    """Real CryoSat-2 L3 tracks (2021a OSE extract) against a zero map: mu is exactly 0."""
    track = real_data / "nadir" / "cmems_l3" / "l3_c2_subset.nc"
    time = np.arange("2016-12-15", "2017-01-31", dtype="datetime64[D]").astype("datetime64[ns]")
    zero = xr.DataArray(
        np.zeros((time.size, 41, 51), dtype=np.float32),
        dims=DIMS,
        coords={
            "time": time,
            "latitude": np.linspace(35.5, 39.5, 41),
            "longitude": np.linspace(-60.5, -55.5, 51),
        },
        attrs={"ssh_kind": "adt"},
    )
    path = tmp_path / "zero.nc"
    zero.to_dataset(name="ssh").to_netcdf(path)
    (record,) = score_maps([path], tracks=[track], output_dir=tmp_path / "ose")
    assert record["mu"] == pytest.approx(0.0, abs=1e-12)
    assert record["rmse_m"] > 0.3  # the ADT of the Gulf Stream region


def test_tracks_as_a_folder_a_glob_or_spilled_into_the_maps(
    osse: dict[str, Path], tmp_path: Path
) -> None:
    paths = _track_files(xr.open_dataset(osse["truth"])["ssh"], tmp_path / "tracks")
    maps = [osse["noisy"], osse["oi"]]
    one_by_one = score_maps(maps, tracks=paths, output_dir=tmp_path / "a")
    folder = score_maps(maps, tracks=[tmp_path / "tracks"], output_dir=tmp_path / "b")
    pattern = score_maps(maps, tracks=[f"{tmp_path}/tracks/*.nc"], output_dir=tmp_path / "c")
    assert folder == pattern == one_by_one
    # `score MAPS --tracks tracks/*.nc` unquoted: the shell puts 5 track files among the maps
    result = CliRunner().invoke(
        app,
        ["score", *map(str, maps), "--tracks", str(paths[0]), *map(str, paths[1:])]
        + ["-o", str(tmp_path / "d")],
    )
    assert result.exit_code == 0, result.output
    records = json.loads((tmp_path / "d" / "scores.json").read_text())
    assert [r["name"] for r in records] == ["noisy_map", "oi"]
    assert records == one_by_one


def test_maps_with_sla_and_adt_are_scored_on_sla_tracks_by_default(
    osse: dict[str, Path], tmp_path: Path
) -> None:
    """DUACS-like maps (sla and adt) against SLA-only tracks compare the SLA."""
    truth = xr.open_dataset(osse["truth"])["ssh"]
    sla_tracks = _track_files(truth - 0.3, tmp_path / "sla", kind="sla")
    both = tmp_path / "both.nc"
    xr.Dataset({"sla": truth - 0.3, "adt": truth + 5.0}).to_netcdf(both)  # adt way off
    (record,) = score_maps([both], tracks=sla_tracks, output_dir=tmp_path / "r")
    assert record["mu"] == pytest.approx(1.0, abs=0.01)  # the sla was compared


def _drawn(ax) -> bool:
    return bool(ax.lines or ax.images or ax.collections or ax.patches)


def test_figures_label_units_colour_bars_and_draw_the_observations(
    osse: dict[str, Path], tmp_path: Path
) -> None:
    """Snapshots: geographic axes in degrees with a latitude aspect, no empty panel."""
    from matplotlib.figure import Figure

    from oceaninterp.report_figures import plot_snapshots

    truth = xr.open_dataset(osse["truth"])["ssh"].isel(time=4)
    maps = [truth + 0.01, truth * 0.8]
    fig = Figure(layout="constrained")
    points = (np.array([-64.0, -62.0]), np.array([34.0, 35.0]))
    plot_snapshots(fig, truth, maps, ["a", "b"], points)
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert len(panels) == 6 and all(_drawn(ax) for ax in panels)  # no empty panel
    for ax in panels:
        assert "(" in ax.get_xlabel() and "(" in ax.get_ylabel(), ax.get_title()  # units
    maps_axes = [ax for ax in panels if ax.get_xlabel() == "longitude (degrees east)"]
    expected = 1 / np.cos(np.deg2rad(float(truth["latitude"].mean())))
    assert all(ax.get_aspect() == pytest.approx(expected) for ax in maps_axes)
    assert {ax.get_ylabel() for ax in bars} == {"SSH (m)", "SSH error (m)"}
    assert sum("observations" in line.get_label() for ax in panels for line in ax.lines) == 3
    assert fig.legends and not any(ax.get_legend() for ax in panels)  # legend off the panels


def test_ose_report_draws_the_tracks_and_no_empty_spectrum(
    osse: dict[str, Path], tmp_path: Path
) -> None:
    paths = _track_files(xr.open_dataset(osse["truth"])["ssh"], tmp_path / "tracks")
    out = tmp_path / "ose"
    score_maps([osse["noisy"], osse["oi"]], tracks=paths, output_dir=out)
    assert (out / "snapshots.png").stat().st_size > 1000
    assert not (out / "spectral_scores.png").exists()  # no 1000 km segment: no empty panel


def test_osse_report_with_the_observation_cube(osse: dict[str, Path], tmp_path: Path) -> None:
    truth = xr.open_dataset(osse["truth"])["ssh"]
    cube = tmp_path / "cube.nc"
    truth.where(truth.latitude < 34).to_dataset(name="ssh").to_netcdf(cube)
    result = CliRunner().invoke(
        app,
        ["score", str(osse["oi"]), "--truth", str(osse["truth"]), "--obs", str(cube)]
        + ["-o", str(tmp_path / "r")],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r" / "snapshots.png").stat().st_size > 1000


def test_a_duacs_like_truth_scores_as_our_own(osse: dict[str, Path], tmp_path: Path) -> None:
    """A truth named adt, with lat/lon and longitudes 0..360, gives the same scores."""
    own = score_maps([osse["noisy"]], truth=osse["truth"], output_dir=tmp_path / "a")
    ssh = xr.open_dataset(osse["truth"])["ssh"]
    duacs = ssh.assign_coords(longitude=ssh["longitude"].values % 360.0).rename(
        latitude="lat", longitude="lon"
    )
    duacs.to_dataset(name="adt").to_netcdf(tmp_path / "duacs.nc")
    other = score_maps([osse["noisy"]], truth=tmp_path / "duacs.nc", output_dir=tmp_path / "b")
    # the same up to the round trip of the longitudes through 0..360 (float rounding)
    assert other[0]["mu"] == pytest.approx(own[0]["mu"], abs=1e-3)
    assert other[0]["rmse_m"] == pytest.approx(own[0]["rmse_m"], rel=1e-3)
