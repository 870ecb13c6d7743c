"""oceaninterp.reconstruct: tiles -> device -> merge -> DUACS-named CF maps."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import xarray as xr
from cfcheck import assert_cf_compliant

from oceaninterp.cube import NO_LAND, check_compatible, land_cells, regrid
from oceaninterp.errors import ConfigError, InputError, OutputExistsError
from oceaninterp.model.inference import predict
from oceaninterp.products import duacs_l4
from oceaninterp.reconstruct import reconstruct
from oceaninterp.tiling import TileSpec

RES = 0.1


class GapsToZero(torch.nn.Module):
    """Stand-in model: returns the observations with gaps set to ``fill`` metres.

    Every tile then predicts exactly the cube's values, so any misplaced tile,
    weight or streamed window shows up in the merged map.
    """

    def __init__(self, tile_time: int, fill: float = 0.0) -> None:
        super().__init__()
        self.tile_time = tile_time
        self.fill = fill
        self.calls: list[tuple[int, ...]] = []
        self.register_buffer("anchor", torch.zeros(()))

    def reconstruct(self, obs: torch.Tensor, sst=None, oi=None) -> torch.Tensor:
        assert obs.shape[1] == self.tile_time and obs.shape[2] % 4 == 0 and obs.shape[3] % 4 == 0
        assert obs.device == self.anchor.device
        self.calls.append(tuple(obs.shape))
        return torch.nan_to_num(obs, nan=self.fill)


@dataclass
class Loaded:
    model: torch.nn.Module
    meta: dict[str, Any]


def _meta(tile=(7, 12, 16), **overrides) -> dict[str, Any]:
    meta = {
        "tile": {"time": tile[0], "latitude": tile[1], "longitude": tile[2]},
        "resolution": RES,
        "ssh_kind": "adt",
        "uses_sst": False,
        "normalisation": {"mean": 0.0, "std": 1.0, "sst_mean": 290.0, "sst_std": 5.0},
    }
    meta.update(overrides)
    return meta


def _tiny_checkpoint(path: Path, n_step: int, ssh_kind: str = "adt") -> Path:
    """A randomly initialised 5 x 16 x 16 SSH 4DVarNet saved as a real checkpoint."""
    from oceaninterp.config import ModelConfig
    from oceaninterp.model import build_model
    from oceaninterp.model.checkpoint import save_checkpoint

    cfg = ModelConfig(
        tile_time=5,
        tile_latitude=16,
        tile_longitude=16,
        prior_width=4,
        lstm_hidden=4,
        n_step=n_step,
    )
    meta = {"resolution": RES, "ssh_kind": ssh_kind, "training": {}, "validation": {}}
    return save_checkpoint(path, build_model(cfg), meta)


def make_cube(rng, shape=(23, 29, 37), kind="adt", res=RES, sst=False, coverage=0.15) -> xr.Dataset:
    nt, ny, nx = shape
    lat = 33.0 + res * (np.arange(ny) + 0.5)
    lon = -65.0 + res * (np.arange(nx) + 0.5)
    t = np.arange(nt)[:, None, None]
    field = 0.3 * np.sin(lon[None, None, :] / 2.0 + t / 9.0) * np.cos(lat[None, :, None] / 1.5)
    observed = rng.random(shape) < coverage
    ssh = np.where(observed, field, np.nan).astype(np.float32)
    count = observed.astype(np.int32)
    dims = ("time", "latitude", "longitude")
    ds = xr.Dataset(
        {
            "ssh": (dims, ssh, {"units": "m", "ssh_kind": kind}),
            "count": (dims, count),
            "mask": (dims, observed.astype(np.int8)),
        },
        coords={
            "time": np.arange(
                np.datetime64("2020-01-01"), np.datetime64("2020-01-01") + np.timedelta64(nt, "D")
            ).astype("datetime64[ns]"),
            "latitude": lat,
            "longitude": lon,
        },
        attrs={
            "ssh_kind": kind,
            "resolution": res,
            "history": "made by a test",
            "source_files": "",
        },
    )
    if sst:
        ds["sst"] = (dims, np.full(shape, 290.0, dtype=np.float32), {"units": "K"})
    return ds


@pytest.fixture
def cube(rng) -> xr.Dataset:
    return make_cube(rng)


@pytest.mark.parametrize(
    ("stride", "space"),
    [(1, 12), (3, 12), (7, 16), (3, None)],  # None: one automatic tile
)
def test_predict_merges_tiles_back_onto_the_cube(cube, stride, space) -> None:
    model = GapsToZero(7)
    # several streamed windows of days, several tiles in space unless automatic
    tiles = TileSpec(time_stride=stride, time_window=10, latitude=space, longitude=space)
    windows = list(predict(cube, model, _meta(), tiles=tiles, device="cpu", batch_size=3))
    starts = [w.start for w in windows]
    assert starts == sorted(starts) and len(windows) > 1
    merged = np.concatenate([w.ssh for w in windows])
    expected = np.nan_to_num(cube["ssh"].values, nan=0.0)
    np.testing.assert_allclose(merged, expected, rtol=0, atol=1e-6)
    assert all(shape[0] <= 3 for shape in model.calls)  # batches of at most 3 tiles


def test_predict_pads_a_cube_smaller_than_a_tile(rng) -> None:
    small = make_cube(rng, shape=(4, 5, 6))
    windows = list(predict(small, GapsToZero(7), _meta(), device="cpu"))
    merged = np.concatenate([w.ssh for w in windows])
    assert merged.shape == (4, 5, 6)
    np.testing.assert_allclose(merged, np.nan_to_num(small["ssh"].values), atol=1e-6)


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_reconstruct_writes_cf_compliant_duacs_maps(cube, tmp_path, suffix) -> None:
    out = tmp_path / f"maps{suffix}"
    calls = []
    path = reconstruct(
        cube,
        out,
        checkpoint=Loaded(GapsToZero(7), _meta()),
        device="cpu",
        tiles=TileSpec(time_stride=3, time_window=12),
        history="oceaninterp reconstruct test",
        progress=lambda done, total: calls.append((done, total)),
    )
    assert path == out and out.exists()
    assert calls[-1][0] == calls[-1][1] > 1
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries left
    maps = duacs_l4.open(out)
    assert list(maps.data_vars) == ["adt", "ugos", "vgos"]
    assert dict(maps.sizes) == {"time": 23, "latitude": 29, "longitude": 37}
    np.testing.assert_allclose(maps["adt"].values, np.nan_to_num(cube["ssh"].values), atol=0.51e-4)
    raw = (
        xr.open_zarr(out, consolidated=False, mask_and_scale=False)
        if suffix == ".zarr"
        else (xr.open_dataset(out, mask_and_scale=False))
    )
    assert raw["adt"].dtype == np.int32 and raw["adt"].attrs["scale_factor"] == 1e-4
    assert raw["adt"].attrs["standard_name"] == "sea_surface_height_above_geoid"
    assert "made by a test" in raw.attrs["history"] and "reconstruct test" in raw.attrs["history"]
    if suffix == ".nc":
        assert_cf_compliant(out)


def test_zarr_maps_carry_the_same_cf_metadata_as_the_compliant_netcdf(cube, tmp_path) -> None:
    """compliance-checker reads NetCDF only: check the Zarr store's attributes against it."""
    loaded = Loaded(GapsToZero(7), _meta())
    nc = reconstruct(cube, tmp_path / "m.nc", checkpoint=loaded, device="cpu")
    zr = reconstruct(cube, tmp_path / "m.zarr", checkpoint=loaded, device="cpu")
    assert_cf_compliant(nc)
    a = xr.open_dataset(nc, mask_and_scale=False, decode_times=False)
    b = xr.open_zarr(zr, consolidated=False, mask_and_scale=False, decode_times=False)
    assert set(a.variables) == set(b.variables)
    for name in a.variables:
        if not str(name).endswith("_bnds"):  # bounds inherit their parent's attributes (CF 7.1)
            assert a[name].attrs == b[name].attrs, name
        np.testing.assert_array_equal(a[name].values, b[name].values)
    skip = {"history", "date_created", "date_modified", "date_issued", "id"}
    assert {k: v for k, v in a.attrs.items() if k not in skip} == {
        k: v for k, v in b.attrs.items() if k not in skip
    }


def test_sla_cube_gives_sla_and_velocity_anomalies(rng, tmp_path) -> None:
    cube = make_cube(rng, kind="sla")
    out = reconstruct(
        cube,
        tmp_path / "m.nc",
        checkpoint=Loaded(GapsToZero(7), _meta(ssh_kind="sla")),
        device="cpu",
    )
    assert list(duacs_l4.open(out).data_vars) == ["sla", "ugosa", "vgosa"]


def test_existing_output_is_refused_unless_overwrite(cube, tmp_path) -> None:
    out = tmp_path / "m.nc"
    out.write_text("old")
    loaded = Loaded(GapsToZero(7), _meta())
    with pytest.raises(OutputExistsError):
        reconstruct(cube, out, checkpoint=loaded, device="cpu")
    reconstruct(cube, out, checkpoint=loaded, device="cpu", overwrite=True)
    assert "adt" in duacs_l4.open(out)


@pytest.mark.parametrize(
    ("meta", "cube_kwargs", "message"),
    [
        (_meta(resolution=0.05), {}, "resolution 0.1 deg does not match .*0.05 deg"),
        (_meta(ssh_kind="sla"), {}, "adt.*sla"),
        (_meta(uses_sst=True), {}, "no 'sst' variable"),
    ],
)
def test_mismatched_checkpoint_is_refused(rng, tmp_path, meta, cube_kwargs, message) -> None:
    cube = make_cube(rng, **cube_kwargs)
    with pytest.raises(InputError, match=message):
        check_compatible(cube, meta)
    with pytest.raises(InputError, match=message):
        reconstruct(cube, tmp_path / "m.nc", checkpoint=Loaded(GapsToZero(7), meta), device="cpu")
    assert not (tmp_path / "m.nc").exists()


def test_resample_coarsens_a_finer_cube_from_cell_sums(rng, tmp_path) -> None:
    fine = make_cube(rng, shape=(9, 24, 32), res=0.05, coverage=0.3)
    coarse = regrid(fine, 0.1)
    assert dict(coarse.sizes) == {"time": 9, "latitude": 12, "longitude": 16}
    np.testing.assert_allclose(coarse["latitude"].values[:2], [33.05, 33.15])
    block = fine["ssh"].values[3, 0:2, 2:4]
    expected = np.nanmean(block) if np.isfinite(block).any() else np.nan
    np.testing.assert_allclose(coarse["ssh"].values[3, 0, 1], expected, rtol=1e-6)
    assert int(coarse["count"].sum()) == int(fine["count"].sum())
    out = reconstruct(
        fine,
        tmp_path / "m.nc",
        checkpoint=Loaded(GapsToZero(7), _meta()),
        device="cpu",
        resample=True,
    )
    assert duacs_l4.open(out).sizes["latitude"] == 12


def test_land_needs_no_observation_and_no_sst(rng) -> None:
    cube = make_cube(rng, sst=True)
    assert not land_cells(make_cube(rng), NO_LAND).any()  # no SST: nothing is land
    cube["ssh"][:, 0:3, 0:4] = np.nan  # never observed ...
    cube["sst"][:, 0:3, 0:2] = np.nan  # ... and no SST: land
    land = land_cells(cube, NO_LAND)
    assert land[0:3, 0:2].all() and land.sum() == 6


def test_land_cells_are_masked_in_the_maps(rng, tmp_path) -> None:
    cube = make_cube(rng, sst=True)
    cube["ssh"][:, 10:14, 5:9] = np.nan
    cube["sst"][:, 10:14, 5:9] = np.nan
    out = reconstruct(
        cube, tmp_path / "m.nc", checkpoint=Loaded(GapsToZero(7), _meta()), device="cpu"
    )
    maps = duacs_l4.open(out)
    assert maps["adt"].isel(latitude=slice(10, 14), longitude=slice(5, 9)).isnull().all()
    assert maps["adt"].isel(latitude=slice(0, 9)).notnull().all()


def test_random_init_model_from_a_real_checkpoint(cube, tmp_path) -> None:
    """The real model and checkpoint path: load, check, tile, write."""
    torch.manual_seed(0)
    ckpt = _tiny_checkpoint(tmp_path / "tiny.pt", n_step=2)
    out = reconstruct(cube, tmp_path / "m.zarr", checkpoint=ckpt, device="cpu", batch_size=8)
    maps = duacs_l4.open(out)
    assert np.isfinite(maps["adt"].values).all()
    assert maps.attrs["checkpoint"] == "tiny.pt" and maps.attrs["method"] == "4dvarnet"
    bad = _tiny_checkpoint(tmp_path / "sla.pt", n_step=2, ssh_kind="sla")
    with pytest.raises(InputError, match="sla.pt"):
        reconstruct(cube, tmp_path / "bad.nc", checkpoint=bad, device="cpu")


def test_observations_normalisation_makes_the_maps_follow_the_observed_amplitude(
    rng, tmp_path
) -> None:
    """Normalised by its observations, a model maps a*y+b as a*(its map of y)+b (to packing)."""
    from oceaninterp.model.checkpoint import load_checkpoint
    from oceaninterp.model.inference import observed_normalisation

    torch.manual_seed(0)
    loaded = load_checkpoint(_tiny_checkpoint(tmp_path / "tiny.pt", n_step=2), device="cpu")
    trained = loaded.model.normalisation()
    cube = make_cube(rng, shape=(9, 21, 25), coverage=0.3)
    scaled = cube.assign(ssh=3.0 * cube["ssh"] + 0.5)
    maps = {}
    for name, ds in (("plain", cube), ("scaled", scaled)):
        for how in ("checkpoint", "observations"):
            out = reconstruct(
                ds,
                tmp_path / f"{name}_{how}.nc",
                checkpoint=loaded,
                device="cpu",
                land=NO_LAND,
                normalise=how,
            )
            maps[name, how] = duacs_l4.open(out).load()
    assert loaded.model.normalisation() == trained  # the caller's model is left as it was
    plain, scaled_map = maps["plain", "observations"], maps["scaled", "observations"]
    assert float(plain["adt"].std()) > 0.003  # a map (30 packing steps), not a constant
    np.testing.assert_allclose(
        scaled_map["adt"].values, 3.0 * plain["adt"].values + 0.5, rtol=0, atol=4e-4
    )
    np.testing.assert_allclose(
        scaled_map["ugos"].values, 3.0 * plain["ugos"].values, rtol=1e-2, atol=1e-3
    )
    with_training = maps["scaled", "checkpoint"]["adt"].values
    assert not np.allclose(with_training, 3.0 * maps["plain", "checkpoint"]["adt"].values + 0.5)
    observed = scaled["ssh"].values[np.isfinite(scaled["ssh"].values)]
    assert (
        f"mean {observed.mean():.4f} m and std {observed.std():.4f} m"
        in (scaled_map.attrs["comment"])
    )
    assert "observations' mean" not in maps["scaled", "checkpoint"].attrs.get("comment", "")
    lonely = cube.assign(ssh=cube["ssh"].where(cube["ssh"].isnull(), np.nan))
    lonely["ssh"][0, 0, 0] = 0.1
    with pytest.raises(InputError, match="no spread"):
        observed_normalisation(loaded.model, lonely["ssh"])
    with pytest.raises(ConfigError, match="normalise"):
        reconstruct(cube, tmp_path / "x.nc", checkpoint=loaded, normalise="truth")


def test_oi_weight_blends_the_model_with_the_oi_of_its_observations(rng, tmp_path) -> None:
    """W = 0: the model; W = 1: the default OI; W = 0.5: their mean (to packing)."""
    from oceaninterp.model.checkpoint import load_checkpoint

    torch.manual_seed(0)
    loaded = load_checkpoint(_tiny_checkpoint(tmp_path / "tiny.pt", n_step=2), device="cpu")
    cube = make_cube(rng, shape=(9, 21, 25), coverage=0.3)
    maps = {}
    for weight in (0.0, 0.5, 1.0):
        out = reconstruct(
            cube,
            tmp_path / f"w{weight}.nc",
            checkpoint=loaded,
            device="cpu",
            land=NO_LAND,
            oi_weight=weight,
        )
        maps[weight] = duacs_l4.open(out).load()
    oi = duacs_l4.open(reconstruct(cube, tmp_path / "oi.nc", method="oi", land=NO_LAND)).load()
    model, half, full = (maps[w]["adt"].values for w in (0.0, 0.5, 1.0))
    assert float(np.sqrt(np.mean((model - oi["adt"].values) ** 2))) > 0.01  # two maps differ
    np.testing.assert_allclose(full, oi["adt"].values, rtol=0, atol=1e-3)
    np.testing.assert_allclose(half, (model + oi["adt"].values) / 2, rtol=0, atol=1e-3)
    assert "0.5 x the 4DVarNet + 0.5 x the optimal interpolation" in maps[0.5].attrs["comment"]
    assert "optimal interpolation" not in maps[0.0].attrs.get("comment", "")
    with pytest.raises(ConfigError, match="oi_weight"):
        reconstruct(cube, tmp_path / "x.nc", checkpoint=loaded, oi_weight=1.5)
    with pytest.raises(ConfigError, match="oi_weight"):
        reconstruct(cube, tmp_path / "y.nc", method="oi", oi_weight=0.5)


@pytest.mark.gpu
def test_cuda_bf16_matches_cpu(cube, tmp_path) -> None:
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    from oceaninterp.config import ModelConfig
    from oceaninterp.model import build_model

    torch.manual_seed(0)
    model = build_model(ModelConfig(tile_time=7, tile_latitude=12, tile_longitude=16))
    meta = _meta()
    cpu = np.concatenate([w.ssh for w in predict(cube, model, meta, device="cpu")])
    gpu = np.concatenate([w.ssh for w in predict(cube, model, meta, device="cuda", bf16=True)])
    rms = float(np.sqrt(np.mean(cpu**2)))
    assert float(np.sqrt(np.mean((gpu - cpu) ** 2))) < 0.02 * rms


def test_unknown_method_and_missing_checkpoint(cube, tmp_path: Path) -> None:
    from oceaninterp.errors import ConfigError

    with pytest.raises(ConfigError, match="method"):
        reconstruct(cube, tmp_path / "m.nc", method="kriging")
    with pytest.raises(ConfigError, match="checkpoint"):
        reconstruct(cube, tmp_path / "m.nc")


def test_cli_reconstructs_and_refuses_in_one_line(cube, tmp_path) -> None:
    from typer.testing import CliRunner

    from oceaninterp.cli.app import app

    cube_path = tmp_path / "cube.nc"
    cube.to_netcdf(cube_path)
    ckpt = _tiny_checkpoint(tmp_path / "m.pt", n_step=1)
    runner = CliRunner()
    out = tmp_path / "maps.nc"
    base = ["reconstruct", str(cube_path), "-c", str(ckpt), "--device", "cpu"]
    ok = runner.invoke(
        app, [*base, "-o", str(out), "--time-stride", "2", "--normalise", "observations"]
    )
    assert ok.exit_code == 0, ok.output
    assert "pixel-days/s" in ok.output and list(duacs_l4.open(out).data_vars)[0] == "adt"
    assert "observations' mean" in duacs_l4.open(out).attrs["comment"]
    wrong = runner.invoke(app, [*base, "-o", str(tmp_path / "w.nc"), "--normalise", "truth"])
    assert wrong.exit_code != 0 and "normalise" in wrong.output
    blended = runner.invoke(app, [*base, "-o", str(tmp_path / "b.nc"), "--oi-weight", "0.5"])
    assert blended.exit_code == 0, blended.output
    assert "optimal interpolation" in duacs_l4.open(tmp_path / "b.nc").attrs["comment"]
    heavy = runner.invoke(app, [*base, "-o", str(tmp_path / "h.nc"), "--oi-weight", "2"])
    assert heavy.exit_code == 1 and "oi_weight" in heavy.output
    again = runner.invoke(app, ["reconstruct", str(cube_path), "-c", str(ckpt), "-o", str(out)])
    assert again.exit_code == 1 and "--overwrite" in again.output
    missing = runner.invoke(app, ["reconstruct", str(cube_path), "-o", str(tmp_path / "x.nc")])
    assert missing.exit_code == 1 and "checkpoint" in missing.output
    assert "Traceback" not in missing.output


def test_oi_method_writes_sla_error_and_velocities(rng, tmp_path) -> None:
    from oceaninterp.config import OIConfig

    cube = make_cube(rng, shape=(9, 15, 19), coverage=0.05)
    calls = []
    out = reconstruct(
        cube,
        tmp_path / "oi.nc",
        method="oi",
        oi_config=OIConfig(),
        progress=lambda done, total: calls.append((done, total)),
    )
    maps = duacs_l4.open(out)
    assert list(maps.data_vars) == ["adt", "ugos", "vgos", "err_sla"]
    assert np.isfinite(maps["adt"].values).all() and (maps["err_sla"].values > 0).all()
    assert calls and calls[-1][0] == calls[-1][1]
    assert_cf_compliant(out)


def test_oi_tuning_mode_records_the_parameters_it_picked(rng, tmp_path) -> None:
    from oceaninterp.oi import DEFAULT_CANDIDATES

    cube = make_cube(rng, shape=(9, 15, 19), coverage=0.2)
    out = reconstruct(cube, tmp_path / "oi.nc", method="oi", tune_days=9)
    picked = dict(kv.split("=") for kv in xr.open_dataset(out).attrs["oi_parameters"].split(", "))
    assert float(picked["lx"].split()[0]) in DEFAULT_CANDIDATES["lx"]
    assert float(picked["noise"].split()[0]) in DEFAULT_CANDIDATES["noise"]


def test_oi_tuning_against_a_truth_picks_what_tune_oi_picks(rng, tmp_path) -> None:
    from oceaninterp.oi import DEFAULT_CANDIDATES, tune_oi

    cube = make_cube(rng, shape=(9, 15, 19), coverage=0.2)
    truth = make_cube(np.random.default_rng(0), shape=(9, 15, 19), coverage=1.0)
    truth.to_netcdf(tmp_path / "truth.nc")
    out = reconstruct(
        cube, tmp_path / "oi.nc", method="oi", tune_days=9, tune_truth=tmp_path / "truth.nc"
    )
    expected = tune_oi(cube, DEFAULT_CANDIDATES, truth=truth["ssh"])
    picked = xr.open_dataset(out).attrs["oi_parameters"]
    assert picked.startswith(
        f"lx={expected.lx} deg, ly={expected.ly} deg, lt={expected.lt} days, "
        f"noise={expected.noise} m, signal_std=estimated"
    )
    with pytest.raises(ConfigError, match="tune_truth"):
        reconstruct(cube, tmp_path / "x.nc", method="oi", tune_truth=tmp_path / "truth.nc")
    with pytest.raises(InputError, match="lacks 3 tuning day"):
        truth.isel(time=slice(0, 6)).to_netcdf(tmp_path / "short.nc")
        reconstruct(
            cube, tmp_path / "y.nc", method="oi", tune_days=9, tune_truth=tmp_path / "short.nc"
        )


def test_cli_tunes_the_oi_against_a_truth(rng, tmp_path) -> None:
    from typer.testing import CliRunner

    from oceaninterp.cli.app import app

    make_cube(rng, shape=(9, 15, 19), coverage=0.2).to_netcdf(tmp_path / "cube.nc")
    make_cube(np.random.default_rng(0), shape=(9, 15, 19), coverage=1.0).to_netcdf(
        tmp_path / "truth.nc"
    )
    base = ["reconstruct", str(tmp_path / "cube.nc"), "--method", "oi"]
    truth = ["--tune-truth", str(tmp_path / "truth.nc")]
    runner = CliRunner()
    ok = runner.invoke(app, [*base, "--tune", "9", *truth, "-o", str(tmp_path / "oi.nc")])
    assert ok.exit_code == 0, ok.output
    from oceaninterp.oi import DEFAULT_CANDIDATES, tune_oi

    expected = tune_oi(
        xr.open_dataset(tmp_path / "cube.nc"),
        DEFAULT_CANDIDATES,
        truth=xr.open_dataset(tmp_path / "truth.nc")["ssh"],
    )
    picked = xr.open_dataset(tmp_path / "oi.nc").attrs["oi_parameters"]
    assert f"lx={expected.lx} deg" in picked and f"lt={expected.lt} days" in picked
    refused = runner.invoke(app, [*base, *truth, "-o", str(tmp_path / "x.nc")])
    assert refused.exit_code == 1 and "--tune N" in refused.output
    assert "Traceback" not in refused.output and not (tmp_path / "x.nc").exists()
