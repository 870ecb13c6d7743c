"""Training: data pairing and splits, a tiny run that learns, repeatability, resume, CLI."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
import xarray as xr
from typer.testing import CliRunner

from oceaninterp.cli.app import app
from oceaninterp.config import ModelConfig, TrainConfig
from oceaninterp.config import read_train_config as read_config
from oceaninterp.errors import ConfigError, InputError, OutputExistsError
from oceaninterp.model.checkpoint import describe_checkpoint, load_checkpoint
from oceaninterp.model.data import load_training_data, make_batch, split_days, tile_starts
from oceaninterp.model.regions import adapt_periods, fit_tile
from oceaninterp.train import resume_path, tile_window, train

MODEL = ModelConfig(
    tile_time=7, tile_latitude=32, tile_longitude=32, prior_width=8, lstm_hidden=8, n_step=3
)
FAST = TrainConfig(
    epochs=2,
    batch_size=4,
    tiles_per_epoch=8,
    loss_border=2,
    learning_rate=5e-3,
    prior_learning_rate=5e-3,
)
DIMS = ("time", "latitude", "longitude")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _truth(days: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """A smooth field (metres) of travelling waves, defined at any position (deg) and day."""
    t = ((days - days[0]) / np.timedelta64(1, "D")).astype(float)[:, None, None]
    y, x = lat[None, :, None] * 10.0, lon[None, None, :] * 10.0
    return (
        0.3
        + 0.2 * np.sin(2 * np.pi * (x - 0.5 * t) / 20) * np.cos(2 * np.pi * (y + 0.3 * t) / 24)
        + 0.1 * np.sin(2 * np.pi * y / 30)
    ).astype(np.float32)


def write_osse(folder: Path, n_days: int = 45, shape: tuple[int, int] = (35, 37), seed: int = 0):
    """A cube (2 random tracks a day, 1 cm noise) and its truth, at 1/10 deg; returns paths."""
    rng = np.random.default_rng(seed)
    days = np.arange(
        np.datetime64("2020-01-01"), np.datetime64("2020-01-01") + np.timedelta64(n_days, "D")
    )
    lat = 30.0 + 0.1 * (np.arange(shape[0]) + 0.5)
    lon = -60.0 + 0.1 * (np.arange(shape[1]) + 0.5)
    ssh = _truth(days, lat, lon)
    mask = np.zeros(ssh.shape, dtype=bool)
    rows = np.arange(shape[0])
    for day in range(n_days):
        for _ in range(2):
            cols = rng.integers(0, shape[1]) + rng.uniform(-0.5, 0.5) * rows
            mask[day, rows, np.clip(cols.astype(int), 0, shape[1] - 1)] = True
    obs = np.where(mask, ssh + 0.01 * rng.standard_normal(ssh.shape), np.nan).astype(np.float32)
    coords = {"time": days.astype("datetime64[ns]"), "latitude": lat, "longitude": lon}
    cube = xr.Dataset(
        {
            "ssh": (DIMS, obs, {"units": "m", "ssh_kind": "adt"}),
            "count": (DIMS, mask.astype(np.int32)),
            "mask": (DIMS, mask.astype(np.int8)),
            "sst": (DIMS, (290.0 + 5.0 * ssh).astype(np.float32)),
        },
        coords=coords,
        attrs={"ssh_kind": "adt", "resolution": 0.1},
    )
    # The truth on a finer (1/20 deg), larger grid, in 0..360 longitudes.
    t_lat = np.arange(29.5, 34.5, 0.05)
    t_lon = np.arange(299.5, 304.5, 0.05)
    truth = xr.Dataset(
        {"ssh": (DIMS, _truth(days, t_lat, t_lon - 360.0), {"units": "m"})},
        coords={"time": days.astype("datetime64[ns]"), "latitude": t_lat, "longitude": t_lon},
    )
    cube.to_netcdf(folder / "cube.nc")
    truth.to_netcdf(folder / "truth.nc")
    return folder / "cube.nc", folder / "truth.nc"


@pytest.fixture(scope="module")
def osse(tmp_path_factory) -> tuple[Path, Path]:
    return write_osse(tmp_path_factory.mktemp("osse"))


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(path).model.state_dict()


def _dates(train: str, val: str, test: str) -> dict[str, str]:
    """The [train] period dates from ``"first..last"`` spans of the three periods."""
    spans = {"train": train, "val": val, "test": test}
    return {
        f"{period}_{edge}": day
        for period, span in spans.items()
        for edge, day in zip(("start", "end"), span.split(".."), strict=True)
    }


def test_truth_is_brought_onto_the_cube_grid(osse) -> None:
    cube, truth = osse
    data = load_training_data(cube, truth, use_sst=True)
    expected = _truth(data.days, data.latitude, data.longitude)
    assert data.truth.shape == data.obs.shape == data.sst.shape == (45, 35, 37)
    assert np.abs(data.truth - expected).max() < 0.01  # linear interpolation of a 1/20 deg field
    observed = np.isfinite(data.obs)
    assert 0 < observed.mean() < 0.1
    assert np.abs(data.obs[observed] - data.truth[observed]).max() < 0.06
    assert data.ssh_kind == "adt" and data.resolution == 0.1


def test_refuses_truth_without_common_days_or_box(osse, tmp_path: Path) -> None:
    cube, truth = osse
    ds = xr.open_dataset(truth)
    later = ds.assign_coords(time=ds.time + np.timedelta64(400, "D"))
    later.to_netcdf(tmp_path / "later.nc")
    with pytest.raises(InputError, match="no day in common"):
        load_training_data(cube, tmp_path / "later.nc", use_sst=False)
    away = ds.assign_coords(latitude=ds.latitude - 40.0)
    away.to_netcdf(tmp_path / "away.nc")
    with pytest.raises(InputError, match="does not cover"):
        load_training_data(cube, tmp_path / "away.nc", use_sst=False)
    ds.drop_vars("ssh").to_netcdf(tmp_path / "nossh.nc")
    with pytest.raises(InputError, match="no SSH variable"):
        load_training_data(cube, tmp_path / "nossh.nc", use_sst=False)


def test_split_by_fractions_and_by_dates() -> None:
    days = np.arange(np.datetime64("2020-01-01"), np.datetime64("2020-03-11"))  # 70 days
    split = split_days(days, TrainConfig())
    assert [split[p].size for p in ("train", "val", "test")] == [50, 10, 10]
    assert split["train"][-1] + 1 == split["val"][0] and split["val"][-1] + 1 == split["test"][0]
    dated = TrainConfig(
        **_dates("2020-02-01..2020-03-10", "2020-01-01..2020-01-20", "2020-01-21..2020-01-31")
    )
    split = split_days(days, dated)
    assert str(days[split["val"][0]]) == "2020-01-01" and split["val"].size == 20
    assert split["train"].size == 39 and split["test"].size == 11
    assert list(tile_starts(np.r_[0:5, 10:20], 7)) == [10, 11, 12, 13]
    with pytest.raises(ConfigError, match="all six"):
        TrainConfig(train_start="2020-01-01")


def test_mask_swap_puts_truth_under_another_tiles_mask(osse) -> None:
    data = load_training_data(*osse, use_sst=False)
    origins = np.array([[0, 0, 0], [10, 3, 5], [20, 1, 1], [30, 2, 4]])
    plain = make_batch(data, origins, MODEL)
    swapped = make_batch(data, origins, MODEL, swap_fraction=1.0, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(swapped.truth, plain.truth)
    for i in range(4):
        seen = np.isfinite(swapped.obs[i])
        np.testing.assert_array_equal(swapped.obs[i][seen], plain.truth[i][seen])
        donors = [j for j in range(4) if j != i and np.array_equal(seen, np.isfinite(plain.obs[j]))]
        assert donors, "each swapped tile carries the mask of another tile"


def test_noise_augmentation_adds_noise_of_drawn_levels_and_recomputes_the_oi(osse) -> None:
    from oceaninterp.model import build_model
    from oceaninterp.model.data import observations_oi
    from oceaninterp.model.regions import draw_origins, load_regions, region_batch
    from oceaninterp.train import training_batches

    cfg = dataclasses.replace(MODEL, oi_input=True)
    regions, cfg = load_regions([(osse[0], osse[1], None)], FAST, cfg)
    origins = draw_origins(regions, cfg, 6, np.random.default_rng(1))
    clean = region_batch(regions, origins, cfg)
    same = region_batch(regions, origins, cfg, noise=0.0, rng=None)
    np.testing.assert_array_equal(same.obs, clean.obs)
    noisy = region_batch(regions, origins, cfg, noise=0.2, rng=np.random.default_rng(2))
    np.testing.assert_array_equal(noisy.truth, clean.truth)
    np.testing.assert_array_equal(np.isfinite(noisy.obs), np.isfinite(clean.obs))
    data = regions[0].data
    levels = []
    for k, (_, day, row, col) in enumerate(origins):
        seen = np.isfinite(clean.obs[k])
        levels.append(float(np.std(noisy.obs[k][seen] - clean.obs[k][seen])))
        expected = observations_oi(
            noisy.obs[k],
            data.days[day : day + cfg.tile_time],
            data.latitude[row : row + cfg.tile_latitude],
            data.longitude[col : col + cfg.tile_longitude],
        )
        np.testing.assert_allclose(noisy.oi[k], expected, atol=1e-6)
    assert max(levels) <= 0.2 * 1.2 and max(levels) - min(levels) > 0.02, levels
    assert not np.allclose(noisy.oi, clean.oi, atol=1e-3)
    with pytest.raises(ValueError, match="rng"):
        region_batch(regions, origins, cfg, noise=0.1)
    model = build_model(cfg)  # an epoch's batches: the same tiles and masks, noisier
    plain = next(training_batches(regions, model, FAST, 0))
    augmented = next(
        training_batches(regions, model, dataclasses.replace(FAST, noise_augment=0.2), 0)
    )
    np.testing.assert_array_equal(np.isfinite(augmented.obs), np.isfinite(plain.obs))
    assert not np.array_equal(augmented.obs, plain.obs)
    with pytest.raises(ConfigError, match="noise_augment"):
        TrainConfig(noise_augment=-0.1)


def test_window_is_a_time_triangle_with_a_zero_border() -> None:
    w = tile_window(MODEL, border=2)
    assert w.shape == (1, 7, 32, 32)
    assert float(w[0, 3, 16, 16]) == 1.0 and float(w[0, 0, 16, 16]) == pytest.approx(0.25)
    assert float(w[0, :, :2].abs().sum()) == 0.0 and float(w[0, :, :, -2:].abs().sum()) == 0.0


def test_tiny_training_lowers_the_loss_and_raises_mu(osse, tmp_path: Path) -> None:
    cfg = dataclasses.replace(FAST, epochs=4, tiles_per_epoch=16)
    result = train(*osse, tmp_path / "m.pt", cfg, MODEL, device="cpu")
    first, last = result.history[0], result.history[-1]
    assert last.train_loss < 0.8 * first.train_loss
    assert result.best_val_mu > first.val_mu
    assert result.best_epoch == max(result.history, key=lambda r: r.val_mu).epoch
    info = describe_checkpoint(result.checkpoint)
    assert info["validation"]["mu"] == pytest.approx(result.best_val_mu)
    assert info["training"]["train_dates"] == ["2020-01-01", "2020-01-31"]
    assert info["tile"] == {"time": 7, "latitude": 32, "longitude": 32}
    assert not resume_path(result.checkpoint).exists()  # removed once training is complete


def test_same_seed_same_checkpoint_and_resume_continues(osse, tmp_path: Path) -> None:
    straight = train(*osse, tmp_path / "a.pt", FAST, MODEL, device="cpu")

    class Stop(Exception):
        pass

    def interrupt(record) -> None:
        if record.epoch == 1:
            raise Stop

    with pytest.raises(Stop):
        train(*osse, tmp_path / "b.pt", FAST, MODEL, device="cpu", on_epoch=interrupt)
    assert resume_path(tmp_path / "b.pt").exists()
    steps: list[int] = []
    resumed = train(
        *osse,
        tmp_path / "b.pt",
        FAST,
        MODEL,
        device="cpu",
        resume=True,
        on_step=lambda done, total: steps.append(done),
    )
    assert steps[:2] == [2, 3]  # the bar starts at 2 of 4: epoch 1 (2 steps) was not run again
    assert [r.epoch for r in resumed.history] == [1, 2]
    assert [r.val_mu for r in resumed.history] == [r.val_mu for r in straight.history]
    a, b = _weights(tmp_path / "a.pt"), _weights(tmp_path / "b.pt")
    assert all(torch.equal(a[k], b[k]) for k in a)

    other = train(*osse, tmp_path / "c.pt", dataclasses.replace(FAST, seed=1), MODEL, device="cpu")
    c = _weights(other.checkpoint)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_init_starts_from_a_checkpoint_and_keeps_its_architecture(osse, tmp_path: Path) -> None:
    from oceaninterp.cli.info import checkpoint_summary

    first = train(*osse, tmp_path / "a.pt", FAST, MODEL, device="cpu")
    frozen = dataclasses.replace(FAST, epochs=1, learning_rate=1e-20, prior_learning_rate=1e-20)
    other = dataclasses.replace(MODEL, prior_width=4)  # not used: the checkpoint's is
    again = train(*osse, tmp_path / "b.pt", frozen, other, device="cpu", init=first.checkpoint)
    a, b = _weights(first.checkpoint), _weights(again.checkpoint)
    assert all(torch.equal(a[k], b[k]) for k in a)  # steps of 1e-20 leave the init as it was
    assert again.best_val_mu == pytest.approx(first.best_val_mu, abs=1e-6)
    described = describe_checkpoint(again.checkpoint)
    assert described["training"]["init"] == "a.pt"
    assert checkpoint_summary(described)["trained on"].endswith("starting from a.pt")
    assert described["normalisation"] == describe_checkpoint(first.checkpoint)["normalisation"]
    moved = train(*osse, tmp_path / "c.pt", FAST, MODEL, device="cpu", init=first.checkpoint)
    assert moved.best_val_mu >= first.best_val_mu - 0.05


def test_init_refuses_a_checkpoint_of_another_ssh_kind(osse, tmp_path: Path) -> None:
    cube, truth = osse
    first = train(cube, truth, tmp_path / "a.pt", FAST, MODEL, device="cpu")
    with xr.open_dataset(cube) as ds:
        ds.load().assign_attrs(ssh_kind="sla").to_netcdf(tmp_path / "sla.nc")
    with xr.open_dataset(truth) as ds:
        ds.load().rename(ssh="sla").to_netcdf(tmp_path / "sla_truth.nc")
    with pytest.raises(InputError, match="a.pt: it maps 'adt'.* as 'sla'"):
        train(
            tmp_path / "sla.nc",
            tmp_path / "sla_truth.nc",
            tmp_path / "b.pt",
            FAST,
            device="cpu",
            init=first.checkpoint,
        )


def test_oi_input_model_learns_from_and_maps_with_the_oi_of_its_observations(
    osse, tmp_path: Path, monkeypatch
) -> None:
    import oceaninterp.reconstruct as reconstruct_module
    from oceaninterp.cli.info import checkpoint_summary
    from oceaninterp.cube import NO_LAND
    from oceaninterp.finetune import finetune

    data = load_training_data(*osse, use_sst=False, oi_input=True)
    assert data.oi is not None and np.isfinite(data.oi).all()
    seen = np.isfinite(data.obs)
    near = np.sqrt(np.mean((data.oi[seen] - data.obs[seen]) ** 2))
    assert near < 0.02 < np.sqrt(np.mean((data.truth[seen] - data.truth.mean()) ** 2))

    result = train(*osse, tmp_path / "m.pt", FAST, dataclasses.replace(MODEL, oi_input=True))
    loaded = load_checkpoint(result.checkpoint)
    assert loaded.model.cfg.oi_input and loaded.description.oi_input
    summary = checkpoint_summary(describe_checkpoint(result.checkpoint))
    assert "OI map of its observations" in summary["architecture"]
    assert "starting from" not in summary["trained on"]
    calls = []

    def counted(cube, **kwargs):
        calls.append(cube.sizes["time"])
        return input_map(cube, **kwargs)

    input_map = reconstruct_module.input_map
    monkeypatch.setattr(reconstruct_module, "input_map", counted)
    maps = reconstruct_module.reconstruct(
        osse[0], tmp_path / "maps.nc", checkpoint=result.checkpoint, device="cpu", land=NO_LAND
    )
    assert calls == [45]  # the OI of the whole cube, once
    with xr.open_dataset(maps) as ds:
        assert np.isfinite(ds["adt"].values).all()
    tuned = finetune(osse[0], result.checkpoint, tmp_path / "t.pt", FAST, device="cpu")
    assert load_checkpoint(tuned.checkpoint).description.oi_input
    assert np.isfinite(tuned.best.val_mu)


def test_resume_refuses_other_settings_and_missing_state(osse, tmp_path: Path) -> None:
    def interrupt(record) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(*osse, tmp_path / "m.pt", FAST, MODEL, device="cpu", on_epoch=interrupt)
    with pytest.raises(InputError, match="other data or another configuration"):
        train(*osse, tmp_path / "m.pt", dataclasses.replace(FAST, seed=9), MODEL, resume=True)
    with pytest.raises(InputError, match="nothing to resume"):
        train(*osse, tmp_path / "none.pt", FAST, MODEL, resume=True)
    with pytest.raises(OutputExistsError):
        train(*osse, tmp_path / "m.pt", FAST, MODEL)


def test_shrinks_tiles_and_refuses_periods_too_small(osse, tmp_path: Path) -> None:
    big = dataclasses.replace(MODEL, tile_latitude=48, tile_longitude=48)
    fitted = fit_tile(big, 21, 30)  # a 10 x 10 deg box at 1/4 deg holds 40 x 40 cells
    assert (fitted.tile_latitude, fitted.tile_longitude) == (20, 28)
    assert fit_tile(MODEL, 100, 100) == MODEL
    no_train = dataclasses.replace(
        FAST, **_dates("2020-01-01..2020-01-04", "2020-01-05..2020-01-30", "2020-01-31..2020-02-14")
    )
    with pytest.raises(InputError, match="train period"):
        train(*osse, tmp_path / "m.pt", no_train, MODEL)


def test_a_short_record_adapts_the_split_to_hold_a_validation_tile(caplog) -> None:
    """A 40-day OSSE with 15-day tiles: 6 val days by fractions, grown to one tile."""
    days = np.arange(np.datetime64("2020-01-01"), np.datetime64("2020-02-10"))  # 40 days
    periods = split_days(days, TrainConfig())
    assert tile_starts(periods["val"], 15).size == 0  # what stopped `train` before
    adapted = adapt_periods(days, periods, TrainConfig(), 15)
    assert [adapted[p].size for p in ("train", "val", "test")] == [19, 15, 6]
    assert tile_starts(adapted["val"], 15).size and tile_starts(adapted["train"], 15).size
    assert "periods adapted" in caplog.text
    enough = np.arange(np.datetime64("2020-01-01"), np.datetime64("2020-05-01"))
    split = split_days(enough, TrainConfig())
    assert adapt_periods(enough, split, TrainConfig(), 15) is split  # long records unchanged


def test_too_short_for_two_tiles_trains_without_validation(caplog) -> None:
    days = np.arange(np.datetime64("2020-01-01"), np.datetime64("2020-01-26"))  # 25 days
    adapted = adapt_periods(days, split_days(days, TrainConfig()), TrainConfig(), 15)
    assert adapted["val"].size == 0 and adapted["train"].size >= 15
    assert "WITHOUT validation" in caplog.text


def test_training_without_validation_keeps_the_last_epoch(osse, tmp_path: Path) -> None:
    dated = dataclasses.replace(
        FAST,
        train_start="2020-01-01",
        train_end="2020-02-09",
        val_start="2020-02-10",
        val_end="2020-02-12",  # 3 days: no 7-day tile
        test_start="2020-02-13",
        test_end="2020-02-14",
    )
    steps: list[tuple[int, int]] = []
    result = train(
        *osse, tmp_path / "m.pt", dated, MODEL, device="cpu", on_step=lambda *a: steps.append(a)
    )
    assert steps[0] == (0, steps[-1][1]) and steps[-1][0] == steps[-1][1]  # total from the start
    assert result.best_epoch == len(result.history) == FAST.epochs
    assert np.isnan(result.best_val_mu)
    info = describe_checkpoint(result.checkpoint)
    assert info["validation"]["mu"] is None and "without validation" in info["validation"]["note"]
    assert info["training"]["cube"] == "cube.nc"  # a name, not the training machine's path


def test_read_config(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text("[model]\ntile_time = 7\n[train]\nepochs = 3\n")
    model, cfg = read_config(path)
    assert model.tile_time == 7 and cfg.epochs == 3 and cfg.batch_size == 4
    path.write_text("[train]\nepoch = 3\n")
    with pytest.raises(ConfigError, match="epoch"):
        read_config(path)
    path.write_text("[solver]\n")
    with pytest.raises(ConfigError, match="unknown table"):
        read_config(path)


def test_cli_trains_and_reports_errors(osse, tmp_path: Path) -> None:
    cube, truth = osse
    config = tmp_path / "tiny.toml"
    config.write_text(
        "[model]\ntile_time = 7\ntile_latitude = 32\ntile_longitude = 32\nprior_width = 8\n"
        "lstm_hidden = 8\nn_step = 3\n[train]\ntiles_per_epoch = 4\nloss_border = 2\n"
    )
    out = tmp_path / "cli.pt"
    args = ["train", str(cube), "--truth", str(truth), "-o", str(out), "--config", str(config)]
    result = CliRunner().invoke(app, [*args, "--epochs", "1", "--device", "cpu", "--seed", "4"])
    assert result.exit_code == 0, result.output
    assert "validation mu" in result.output
    assert describe_checkpoint(out)["training"]["config"]["seed"] == 4
    again = CliRunner().invoke(app, [*args, "--epochs", "1"])
    assert again.exit_code == 1 and "exists" in again.output
    bad = CliRunner().invoke(app, [*args, "--epochs", "0", "--overwrite"])
    assert bad.exit_code == 1 and "epochs" in bad.output


@pytest.mark.gpu
def test_cuda_training_with_bf16_matches_cpu_maps(osse, tmp_path: Path) -> None:
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    result = train(*osse, tmp_path / "g.pt", FAST, MODEL, device="cuda")
    assert result.device.startswith("cuda") and np.isfinite(result.best_val_mu)
    on_gpu = load_checkpoint(result.checkpoint, device="cuda").model
    on_cpu = load_checkpoint(result.checkpoint).model
    obs = torch.from_numpy(
        make_batch(
            load_training_data(*osse, use_sst=False), np.array([[0, 0, 0], [5, 3, 4]]), MODEL
        ).obs
    )
    torch.testing.assert_close(
        on_gpu.reconstruct(obs.cuda()).cpu(), on_cpu.reconstruct(obs), atol=1e-3, rtol=0
    )


# ------------------------------------------- progress of long stages (epochs and others)


def _stage(console, interval: float, steps: int = 4) -> None:
    from oceaninterp.cli.common import progress

    with progress("training", console=console, interval=interval) as bar:
        task = bar.add_task("epochs", total=steps)
        for done in range(1, steps + 1):
            bar.update(task, completed=done)


def test_progress_logs_plain_lines_when_not_a_terminal(caplog) -> None:
    import io
    import logging

    from rich.console import Console

    caplog.set_level(logging.INFO, logger="oceaninterp.progress")
    plain = Console(file=io.StringIO(), force_terminal=False)
    _stage(plain, interval=0.0)
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith("epochs: 1/4 (25%)") and "left" in lines[0]
    assert lines[-1].startswith("epochs: 4/4 (100%)") and lines.count(lines[-1]) == 1
    caplog.clear()
    _stage(plain, interval=3600.0)  # within the interval: only the end is logged
    assert [r.getMessage()[:16] for r in caplog.records] == ["epochs: 4/4 (100"]


def test_progress_draws_a_bar_with_total_and_time_left_on_a_terminal(caplog) -> None:
    import io

    from rich.console import Console

    out = io.StringIO()
    _stage(Console(file=out, force_terminal=True, width=120), interval=0.0)
    text = out.getvalue()
    assert "epochs" in text and "4/4" in text and "left" in text
    assert not caplog.records  # no log lines on a terminal
