"""`[inputs] mdt` of a pipeline: every method gets the MDT; a changed MDT re-maps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from test_pipeline import DAYS, MDT, computed, make_pipeline, tiny_checkpoint, truth_ssh

from oceaninterp.mdt import write_mdt
from oceaninterp.pipeline import run_pipeline
from oceaninterp.pipeline.plan import map_path
from oceaninterp.products import duacs_l4

pytestmark = pytest.mark.usefixtures("one_torch_thread")
LAT = np.arange(35.125, 37, 0.25)  # the test pipeline's grid
LON = np.arange(-59.875, -58, 0.25)
METHODS = """
[[reconstruct]]
name = "net"
method = "4dvarnet"
checkpoint = "sla.pt"
block_days = 4

[[reconstruct]]
name = "adtnet"
method = "4dvarnet"
checkpoint = "adt.pt"
block_days = 4
"""


def mdt_file(path: Path, value: float = MDT) -> Path:
    """A constant MDT (metres) a little larger than the pipeline's box."""
    lat, lon = np.arange(34.5, 37.6, 0.5), np.arange(-60.5, -57.4, 0.5)
    field = xr.DataArray(
        np.full((lat.size, lon.size), value),
        dims=("latitude", "longitude"),
        coords={"latitude": lat, "longitude": lon},
    )
    return write_mdt(field, path, history="a test", overwrite=True)


def sla_checkpoint(folder: Path, mdt: Path) -> Path:
    """A tiny 4DVarNet for the pipeline's grid trained (1 epoch, 4 tiles) with ``mdt``."""
    from oceaninterp.config import ModelConfig, TrainConfig
    from oceaninterp.train import train

    rng = np.random.default_rng(3)
    days = np.datetime64("2023-06-01", "ns") + np.arange(30) * np.timedelta64(1, "D")
    dims = ("time", "latitude", "longitude")
    ssh = truth_ssh(days[:, None, None], LAT[None, :, None], LON[None, None, :])
    observed = rng.random(ssh.shape) < 0.2
    obs = np.where(observed, ssh + rng.normal(0, 0.01, ssh.shape), np.nan)
    coords = {"time": days, "latitude": LAT, "longitude": LON}
    xr.Dataset(
        {
            "ssh": (dims, obs.astype(np.float32), {"units": "m"}),
            "mask": (dims, observed.astype(np.int8)),
        },
        coords=coords,
        attrs={"ssh_kind": "adt", "resolution": 0.25},
    ).to_netcdf(folder / "train_cube.nc")
    xr.Dataset({"ssh": (dims, ssh.astype(np.float32), {"units": "m"})}, coords=coords).to_netcdf(
        folder / "train_truth.nc"
    )
    model = ModelConfig(
        tile_time=5, tile_latitude=8, tile_longitude=8, prior_width=4, lstm_hidden=4, n_step=2
    )
    cfg = TrainConfig(
        epochs=1, tiles_per_epoch=4, loss_border=1, val_fraction=0.3, test_fraction=0.0
    )
    out = folder / "sla.pt"
    train(
        folder / "train_cube.nc", folder / "train_truth.nc", out, cfg, model, device="cpu", mdt=mdt
    )
    return out


@pytest.fixture
def pipeline(tmp_path: Path) -> Path:
    """The test pipeline (OI) plus an MDT-trained and an ADT 4DVarNet, with ``[inputs] mdt``."""
    path = make_pipeline(tmp_path, DAYS[:5], end=DAYS[3])  # one block of 4 days
    mdt = mdt_file(tmp_path / "mdt.nc")
    sla_checkpoint(tmp_path, mdt)
    tiny_checkpoint(tmp_path / "adt.pt")
    text = path.read_text().replace('variable = "adt"\n', 'variable = "adt"\nmdt = "mdt.nc"\n')
    path.write_text(text + METHODS)
    return path


def test_every_method_writes_sla_and_adt_and_a_new_mdt_remaps(pipeline: Path) -> None:
    summary = run_pipeline(pipeline)
    assert summary.ok, summary.line()
    root = pipeline.parent / "out"
    mapped = {"oi": "sla", "net": "sla", "adtnet": "adt"}  # what each method mapped
    for name, kind in mapped.items():
        maps = duacs_l4.open(map_path(root, name, DAYS[1]))
        assert {"sla", "adt", "ugos", "vgos", "ugosa", "vgosa"} <= set(maps.data_vars), name
        np.testing.assert_allclose((maps["adt"] - maps["sla"]).values, MDT, atol=2e-4)
        assert maps.attrs["mdt"] == "mdt.nc" and maps.attrs["ssh_kind"] == kind, name
        assert "mdt.nc" in maps.attrs["source_files"]
    oi = duacs_l4.open(map_path(root, "oi", DAYS[1]))
    assert abs(float(oi["sla"].mean())) < 0.15  # the anomaly (the ADT is about 0.5 m)
    assert run_pipeline(pipeline).computed == 0  # nothing new
    mdt_file(pipeline.parent / "mdt.nc", value=MDT)  # rewritten, same values: still nothing
    assert run_pipeline(pipeline, dry_run=True).computed == 0
    mdt_file(pipeline.parent / "mdt.nc", value=0.4)  # a new MDT re-maps every method, only
    plan = run_pipeline(pipeline, dry_run=True)
    assert computed(plan, "grid") == []
    for name in mapped:
        assert computed(plan, f"maps/{name}") == DAYS[:4]


def test_a_checkpoint_trained_with_an_mdt_fails_in_a_pipeline_without_one(
    pipeline: Path,
) -> None:
    pipeline.write_text(pipeline.read_text().replace('mdt = "mdt.nc"\n', ""))
    summary = run_pipeline(pipeline)
    assert not summary.ok
    assert not summary.stages["maps/oi"].failed and not summary.stages["maps/adtnet"].failed
    errors = list(summary.stages["maps/net"].failed.values())
    assert errors and all("sla.pt maps sla" in e and "--mdt" in e for e in errors)
