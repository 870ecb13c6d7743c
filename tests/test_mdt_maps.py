"""SLA + MDT, as DUACS: train on the SLA, map it (4DVarNet and OI), add the MDT back."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from cfcheck import assert_cf_compliant
from test_reconstruct import _tiny_checkpoint
from test_train import FAST, MODEL, write_osse
from typer.testing import CliRunner

from oceaninterp.cli.app import app
from oceaninterp.errors import InputError
from oceaninterp.mdt import mdt_digest, mdt_on_grid, read_mdt, write_mdt
from oceaninterp.model.checkpoint import FORMAT_VERSION, describe_checkpoint
from oceaninterp.model.data import load_training_data
from oceaninterp.products import duacs_l4
from oceaninterp.reconstruct import reconstruct
from oceaninterp.train import train

pytestmark = pytest.mark.usefixtures("one_torch_thread")
BOTH = {"sla", "adt", "ugos", "vgos", "ugosa", "vgosa"}
PACKING = 2e-4  # metres: two int32 x 1e-4 roundings


@pytest.fixture(scope="module")
def osse(tmp_path_factory) -> tuple[Path, Path, Path]:
    """A cube, its truth (0..360 longitudes, 1/20 deg) and the truth's time mean as the MDT."""
    folder = tmp_path_factory.mktemp("osse_mdt")
    cube, truth = write_osse(folder)
    with xr.open_dataset(truth) as ds:
        mean = ds["ssh"].mean("time").load()
    return cube, truth, write_mdt(mean, folder / "mdt.nc", history="a test")


@pytest.fixture(scope="module")
def sla_checkpoint(osse, tmp_path_factory) -> Path:
    """A tiny 4DVarNet trained 1 epoch of 8 tiles on the SLA (``--mdt``)."""
    cube, truth, mdt = osse
    out = tmp_path_factory.mktemp("ckpt") / "sla.pt"
    cfg = dataclasses.replace(FAST, epochs=1)
    train(cube, truth, out, cfg, MODEL, device="cpu", mdt=mdt)
    return out


def _mdt_on_cube(cube: Path, mdt: Path) -> np.ndarray:
    with xr.open_dataset(cube) as ds:
        return mdt_on_grid(mdt, ds["latitude"].values, ds["longitude"].values).values


def test_training_data_with_an_mdt_is_the_sla(osse, tmp_path: Path) -> None:
    cube, truth, mdt = osse
    plain = load_training_data(cube, truth, use_sst=False)
    sla = load_training_data(cube, truth, use_sst=False, mdt=mdt)
    assert sla.mdt is not None and sla.mdt.sha256 == mdt_digest(read_mdt(mdt))
    m = _mdt_on_cube(cube, mdt)
    np.testing.assert_allclose(sla.truth, plain.truth - m, atol=1e-6)
    np.testing.assert_allclose(sla.obs, plain.obs - m, atol=1e-6)  # NaN where unobserved
    assert abs(np.nanmean(plain.truth)) > 0.2 and abs(np.nanmean(sla.truth)) < 0.02
    # An SLA cube is taken as relative to the MDT already: only the truth loses it.
    with xr.open_dataset(cube) as ds:
        ds.load().assign_attrs(ssh_kind="sla").to_netcdf(tmp_path / "sla_cube.nc")
    as_sla = load_training_data(tmp_path / "sla_cube.nc", truth, use_sst=False, mdt=mdt)
    np.testing.assert_array_equal(as_sla.obs, plain.obs)
    np.testing.assert_allclose(as_sla.truth, sla.truth)


def test_checkpoint_says_it_maps_the_sla_and_needs_the_mdt(osse, sla_checkpoint) -> None:
    _, _, mdt = osse
    meta = describe_checkpoint(sla_checkpoint)
    assert meta["format_version"] == FORMAT_VERSION == 2
    assert meta["ssh_kind"] == "sla"
    assert meta["mdt"]["file"] == "mdt.nc" and meta["mdt"]["cube_ssh_kind"] == "adt"
    assert meta["mdt"]["sha256"] == mdt_digest(read_mdt(mdt))
    assert abs(meta["normalisation"]["mean"]) < 0.05  # learnt on the SLA, not the ADT
    assert meta["requires"].startswith("an sla cube as it is; an adt cube with an MDT (--mdt")
    assert "mdt.nc" in meta["requires"]
    shown = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["info", str(sla_checkpoint)])
    assert shown.exit_code == 0 and "needs" in shown.output and "--mdt" in shown.output
    assert "latitudes" in shown.output


def test_checkpoint_trained_with_an_mdt_is_refused_without_one_on_an_adt_cube(
    osse, sla_checkpoint, tmp_path
) -> None:
    cube, _, _ = osse
    with pytest.raises(InputError, match=r"holds adt and checkpoint sla\.pt maps sla.*--mdt"):
        reconstruct(cube, tmp_path / "maps.nc", checkpoint=sla_checkpoint, device="cpu")
    args = ["reconstruct", str(cube), "-c", str(sla_checkpoint), "-o", str(tmp_path / "m.nc")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "--mdt" in lines[0] and "sla.pt" in lines[0]
    assert not (tmp_path / "m.nc").exists()


def test_an_sla_cube_maps_without_the_mdt(osse, sla_checkpoint, tmp_path) -> None:
    """A model of the SLA needs no MDT for an SLA cube: it writes sla, ugosa, vgosa."""
    cube, _, mdt = osse
    adt = xr.open_dataset(cube)
    gridded = mdt_on_grid(mdt, adt["latitude"].values, adt["longitude"].values).values
    sla = adt.assign(ssh=adt["ssh"] - gridded).assign_attrs(ssh_kind="sla")
    out = reconstruct(sla, tmp_path / "sla.nc", checkpoint=sla_checkpoint, device="cpu")
    maps = duacs_l4.open(out)
    assert {"sla", "ugosa", "vgosa"} <= set(maps.data_vars) and "adt" not in maps
    with_mdt = duacs_l4.open(
        reconstruct(cube, tmp_path / "adt.nc", checkpoint=sla_checkpoint, device="cpu", mdt=mdt)
    )
    np.testing.assert_allclose(maps["sla"].values, with_mdt["sla"].values, atol=2e-4)


def test_4dvarnet_with_the_mdt_writes_sla_and_adt(osse, sla_checkpoint, tmp_path) -> None:
    cube, truth, mdt = osse
    out = tmp_path / "maps.nc"
    args = ["reconstruct", str(cube), "-c", str(sla_checkpoint), "-o", str(out), "--mdt", str(mdt)]
    result = CliRunner().invoke(app, [*args, "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert_cf_compliant(out)
    maps = duacs_l4.open(out)
    assert set(maps.data_vars) == BOTH
    m = _mdt_on_cube(cube, mdt)
    np.testing.assert_allclose(
        (maps["adt"] - maps["sla"]).values, np.broadcast_to(m, maps["sla"].shape), atol=PACKING
    )
    assert maps.attrs["mdt"] == "mdt.nc" and maps.attrs["ssh_kind"] == "sla"
    assert maps.attrs["mdt_sha256"] == mdt_digest(read_mdt(mdt))
    assert "mdt.nc" in maps.attrs["source_files"]
    with xr.open_dataset(out) as raw:
        assert (
            raw["ugos"].attrs["standard_name"] == "surface_geostrophic_eastward_sea_water_velocity"
        )
        assert raw["ugosa"].attrs["long_name"].startswith("Geostrophic velocity anomalies")
    # The maps are the SLA: their mean is near 0, the ADT's near the truth's.
    truth_on_grid = load_training_data(cube, truth, use_sst=False).truth
    assert abs(float(maps["sla"].mean())) < 0.1
    assert abs(float(maps["adt"].mean()) - float(np.nanmean(truth_on_grid))) < 0.1


def test_oi_with_the_mdt_follows_it_far_from_the_tracks(osse, tmp_path) -> None:
    """Far from observations the OI of the ADT relaxes to a flat sea, SLA OI + MDT to the MDT."""
    cube, truth, mdt = osse
    with xr.open_dataset(cube) as ds:
        days = ds.isel(time=slice(10, 22)).load()
    lat, lon = days["latitude"].values, days["longitude"].values
    slope = (0.5 * (lon - lon[0]) / (lon[-1] - lon[0]))[None, :] + 0.0 * lat[:, None]  # a jet
    m = _mdt_on_cube(cube, mdt) + slope
    steep = xr.DataArray(
        m, dims=("latitude", "longitude"), coords={"latitude": lat, "longitude": lon}
    )
    steep_mdt = write_mdt(steep, tmp_path / "steep_mdt.nc", history="a test")
    east = lon > -58.5  # observed; nothing west of it
    days["ssh"] = (days["ssh"] + slope).where(xr.DataArray(east, dims="longitude"))
    truth_on_grid = load_training_data(cube, truth, use_sst=False).truth[10:22] + slope
    plain = duacs_l4.open(reconstruct(days, tmp_path / "adt.nc", method="oi", device="cpu"))
    with_mdt = duacs_l4.open(
        reconstruct(days, tmp_path / "sla.nc", method="oi", device="cpu", mdt=steep_mdt)
    )
    assert set(plain.data_vars) == {"adt", "ugos", "vgos", "err_sla"}
    assert set(with_mdt.data_vars) == BOTH | {"err_sla"}
    np.testing.assert_allclose(
        (with_mdt["adt"] - with_mdt["sla"]).values,
        np.broadcast_to(m, days["ssh"].shape),
        atol=PACKING,
    )
    far = lon < -59.5  # over 1 deg (the OI's default lx) from any observation
    rmse = {
        name: float(np.sqrt(np.mean((maps["adt"].values - truth_on_grid)[..., far] ** 2)))
        for name, maps in (("adt", plain), ("sla", with_mdt))
    }
    assert rmse["sla"] < 0.7 * rmse["adt"], rmse


def test_a_checkpoint_trained_without_mdt_maps_as_before_and_adds_the_sla(osse, tmp_path) -> None:
    cube, _, mdt = osse
    ckpt = _tiny_checkpoint(tmp_path / "adt.pt", n_step=1)
    before = duacs_l4.open(reconstruct(cube, tmp_path / "a.nc", checkpoint=ckpt, device="cpu"))
    after = duacs_l4.open(
        reconstruct(cube, tmp_path / "b.nc", checkpoint=ckpt, device="cpu", mdt=mdt)
    )
    assert set(after.data_vars) == BOTH and after.attrs["ssh_kind"] == "adt"
    for name in ("adt", "ugos", "vgos"):
        np.testing.assert_array_equal(after[name].values, before[name].values)
    m = _mdt_on_cube(cube, mdt)
    np.testing.assert_allclose(after["sla"].values, after["adt"].values - m, atol=PACKING)


def test_train_cli_refuses_an_unusable_mdt_in_one_line(osse, tmp_path) -> None:
    cube, truth, _ = osse
    xr.Dataset({"zos": (("latitude", "longitude"), np.zeros((3, 3)))}).to_netcdf(
        tmp_path / "nomdt.nc"
    )
    args = ["train", str(cube), "--truth", str(truth), "-o", str(tmp_path / "m.pt")]
    result = CliRunner().invoke(app, [*args, "--mdt", str(tmp_path / "nomdt.nc")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "nomdt.nc" in result.output and "no variable 'mdt'" in result.output
    assert not (tmp_path / "m.pt").exists()


def test_an_sla_checkpoint_maps_the_adt_cube_minus_the_mdt(osse, tmp_path) -> None:
    cube, _, mdt = osse
    ckpt = _tiny_checkpoint(tmp_path / "sla.pt", n_step=1, ssh_kind="sla")  # no MDT record
    m = _mdt_on_cube(cube, mdt)
    with xr.open_dataset(cube) as ds:
        by_hand = ds.load().assign_attrs(ssh_kind="sla")
    by_hand["ssh"] = (by_hand["ssh"] - m).assign_attrs(ssh_kind="sla")
    alone = duacs_l4.open(reconstruct(by_hand, tmp_path / "a.nc", checkpoint=ckpt, device="cpu"))
    given = duacs_l4.open(
        reconstruct(cube, tmp_path / "b.nc", checkpoint=ckpt, device="cpu", mdt=mdt)
    )
    assert given.attrs["ssh_kind"] == "sla" and set(given.data_vars) == BOTH
    np.testing.assert_allclose(given["sla"].values, alone["sla"].values, atol=1e-4)
    np.testing.assert_allclose(given["adt"].values, alone["sla"].values + m, atol=PACKING)
