"""Self-supervised fine-tuning: track segments, a short run, its checkpoint, refusals, CLI."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from test_train import FAST, MODEL, write_osse
from typer.testing import CliRunner

from oceaninterp.cli.app import app
from oceaninterp.errors import ConfigError, InputError
from oceaninterp.finetune import FinetuneSettings, finetune
from oceaninterp.model.checkpoint import describe_checkpoint, valid_latitudes
from oceaninterp.model.selfsup import track_segments
from oceaninterp.train import train

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    """The test OSSE's cube and a tiny model trained on it (2 epochs)."""
    root = tmp_path_factory.mktemp("finetune")
    cube, truth = write_osse(root)
    train(cube, truth, root / "init.pt", FAST, MODEL, device="cpu")
    return cube, root / "init.pt"


def test_segments_are_pieces_of_one_days_tracks_cut_by_blocks() -> None:
    observed = np.zeros((2, 9, 9), dtype=bool)
    observed[0, 4, :] = True  # a zonal track on day 0 ...
    observed[0, :, 4] = True  # ... crossing a meridional one: one connected set
    observed[1, 2, 1:3] = True  # a short track on day 1
    segments, n = track_segments(observed, block=5)
    assert (segments >= 0).sum() == observed.sum() and (segments[~observed] == -1).all()
    # the cross is cut by the 5-cell blocks into 3 pieces (the centre block holds
    # both arms); day 1 adds one
    assert n == 4
    assert len(np.unique(segments[0][observed[0]])) == 3
    assert segments[0, 4, 0] == segments[0, 4, 4] != segments[0, 4, 5]


def test_finetuning_scores_held_out_segments_and_writes_a_usable_checkpoint(
    trained, tmp_path
) -> None:
    from oceaninterp.reconstruct import reconstruct

    cube, init = trained
    cfg = dataclasses.replace(FAST, epochs=1, tiles_per_epoch=8)
    result = finetune(cube, init, tmp_path / "tuned.pt", cfg, FinetuneSettings(), device="cpu")
    first, last = result.history[0], result.history[-1]
    assert [r.epoch for r in result.history] == [0, 1]
    assert np.isfinite(first.val_rmse_m) and np.isfinite(last.val_rmse_m)
    assert np.isfinite(last.train_loss) and result.held_cells > 0 and result.val_tiles > 0
    assert result.best.val_mu == max(r.val_mu for r in result.history)
    info = describe_checkpoint(result.checkpoint)
    assert info["finetuning"]["cube"] == "cube.nc" and info["finetuning"]["init"] == "init.pt"
    assert info["finetuning"]["days"] == ["2020-01-01", "2020-02-14"]
    assert info["validation"]["mu"] == pytest.approx(result.best.val_mu)
    assert info["normalisation"] == describe_checkpoint(init)["normalisation"]
    south, north = valid_latitudes(info)
    assert south <= 30.0 and north >= 33.5
    maps = reconstruct(cube, tmp_path / "maps.nc", checkpoint=result.checkpoint, device="cpu")
    with xr.open_dataset(maps) as ds:
        assert np.isfinite(ds["adt"].values).any()


def test_refuses_another_resolution_and_bad_settings(trained, tmp_path) -> None:
    cube, init = trained
    with xr.open_dataset(cube) as ds:
        ds.assign_attrs(resolution=0.25).to_netcdf(tmp_path / "coarse.nc")
    with pytest.raises(InputError, match="coarse.nc.*resolution 0.25"):
        finetune(tmp_path / "coarse.nc", init, tmp_path / "t.pt", FAST, device="cpu")
    with pytest.raises(ConfigError, match="hidden_share"):
        FinetuneSettings(hidden_share=1.0)


def test_cli_self_supervised(trained, tmp_path) -> None:
    cube, init = trained
    out = tmp_path / "cli.pt"
    base = ["train", str(cube), "-o", str(out), "--self-supervised", "--device", "cpu"]
    missing = CliRunner().invoke(app, base)
    assert missing.exit_code == 1 and "--init" in missing.output
    config = tmp_path / "tiny.toml"
    config.write_text("[train]\nepochs = 1\ntiles_per_epoch = 4\nloss_border = 2\n")
    done = CliRunner().invoke(app, [*base, "--init", str(init), "--config", str(config)])
    assert done.exit_code == 0, done.output
    assert "fine-tuned" in done.output and "held-out" in done.output
    no_truth = CliRunner().invoke(app, ["train", str(cube), "-o", str(tmp_path / "x.pt")])
    assert no_truth.exit_code == 1 and "--truth" in no_truth.output


def test_nearly_empty_tiles_are_left_out_and_the_cube_may_renormalise(trained, tmp_path) -> None:
    cube, init = trained
    cfg = dataclasses.replace(FAST, epochs=1, tiles_per_epoch=4)
    settings = FinetuneSettings(min_shown=10**6, renormalise=True)  # no tile shows that many
    result = finetune(cube, init, tmp_path / "t.pt", cfg, settings, device="cpu")
    assert np.isnan(result.history[1].train_loss)  # no step was taken ...
    assert result.history[1].val_mu == result.history[0].val_mu  # ... the model is unchanged
    info = describe_checkpoint(result.checkpoint)
    assert info["finetuning"]["initial_normalisation"] == describe_checkpoint(init)["normalisation"]
    with xr.open_dataset(cube) as ds:
        seen = ds["ssh"].values[np.isfinite(ds["ssh"].values)]
    # the cube's observations but the held-out tenth
    assert info["normalisation"]["std"] == pytest.approx(seen.std(), rel=0.1)
    assert info["normalisation"]["mean"] == pytest.approx(seen.mean(), abs=0.02)


def test_an_oi_input_step_sees_the_oi_of_the_shown_observations_only(trained) -> None:
    from oceaninterp.model.regions import draw_origins, region_batch
    from oceaninterp.model.selfsup import load_observed_region, shown_oi

    cube, _ = trained
    cfg = dataclasses.replace(MODEL, oi_input=True)
    observed = load_observed_region(cube, cfg, segment_deg=1.0, val_share=0.1, seed=0)
    data = observed.region.data
    assert data.oi is not None and np.isfinite(data.oi).all()
    origins = draw_origins([observed.region], cfg, 2, np.random.default_rng(0))
    inputs = region_batch([observed.region], origins, cfg).obs
    oi = shown_oi(observed, origins, inputs)
    assert oi.shape == inputs.shape and np.isfinite(oi).all()
    hidden = inputs.copy()
    hidden[0, :, :, :8] = np.nan  # hide more: the OI of the tile changes, the other's does not
    again = shown_oi(observed, origins, hidden)
    assert not np.allclose(again[0], oi[0]) and np.array_equal(again[1], oi[1])
