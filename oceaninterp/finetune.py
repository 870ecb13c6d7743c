"""Self-supervised fine-tuning on real observations (``oceaninterp train --self-supervised``).

A model trained on a simulation meets real observations with its own
normalisation and its own idea of the ocean's scales. Without a truth it can
still learn from the observations (the lecture's unsupervised loss): starting
from a trained checkpoint (weights and normalisation), each step hides a share
of the track segments of each tile (:mod:`oceaninterp.model.selfsup`), maps
from the rest (tiles left nearly empty are skipped), and descends on

    observation * ||x - y||^2 over the hidden observations / n_hidden
    + prior * mse(x, Phi(x))

(:data:`oceaninterp.variational.LossKind.UNSUPERVISED`, weights of the
``[train]`` configuration, hidden cells inside the tile window only), at a
learning rate scaled down from the configuration's (``lr_scale``), with a
cosine schedule over few epochs. Validation maps the tiles from every
observation but a fixed, seeded share of segments held out from training
altogether, and scores the maps on them (mu = 1 - RMSE / RMS(held out)); the
best epoch is kept, the initial weights (epoch 0) included.

The checkpoint keeps the original description (training data, MDT,
normalisation) and adds ``finetuning`` (the cube's name, the initial
checkpoint's, the settings and the history); its ``validation`` becomes the
held-out score, and its ``valid_latitudes`` widen to the cube's.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from oceaninterp.config import ModelConfig, TrainConfig
from oceaninterp.cube import check_compatible
from oceaninterp.errors import ConfigError, InputError, OceanInterpError
from oceaninterp.io import check_output, open_dataset
from oceaninterp.model import SSH4DVarNet
from oceaninterp.model.checkpoint import load_checkpoint, save_checkpoint, valid_latitudes
from oceaninterp.model.data import cut, strided_origins
from oceaninterp.model.inference import resolve_device
from oceaninterp.model.regions import (
    absolute_band,
    band_record,
    draw_origins,
    region_batch,
    region_edges,
)
from oceaninterp.model.selfsup import (
    ObservedRegion,
    hide_segments,
    load_observed_region,
    segment_tiles,
    shown_oi,
)
from oceaninterp.train import (
    BatchTensors,
    EpochRecord,
    autocast,
    descend,
    loss_weights,
    make_optimizer,
    tile_window,
    validation_scores,
)
from oceaninterp.variational import LossKind, training_loss

logger = logging.getLogger(__name__)

#: Epochs of ``oceaninterp train --self-supervised`` when ``--epochs`` is not given.
DEFAULT_EPOCHS = 5


@dataclass(frozen=True)
class FinetuneSettings:
    """The choices of a self-supervised fine-tuning.

    Attributes
    ----------
    hidden_share
        Probability that a track segment is hidden at a step (0..1).
    val_share
        Share of the segments held out for validation (0..1).
    segment_deg
        Side of the blocks that cut tracks into segments, degrees.
    lr_scale
        Factor on the configuration's learning rates (> 0).
    min_shown
        Tiles showing fewer observed cells (after hiding) are left out of a
        step: a learned solver may diverge on a nearly empty tile (a pass
        across a 48-cell tile observes about 50 cells).
    renormalise
        Replace the checkpoint's SSH normalisation (mean, std) by the cube's
        observations' before fine-tuning (real data far from the simulation's
        statistics: e.g. an SLA offset by a sea-level rise since the mean
        sea surface's reference period); ``False`` keeps it.
    max_seconds
        No new epoch starts when the last one would end past this wall time
        (seconds since the start); ``None``: all epochs.
    """

    hidden_share: float = 0.25
    val_share: float = 0.1
    segment_deg: float = 2.0
    lr_scale: float = 0.1
    min_shown: int = 30
    renormalise: bool = False
    max_seconds: float | None = None

    def __post_init__(self) -> None:
        for name in ("hidden_share", "val_share"):
            if not 0.0 < getattr(self, name) < 1.0:
                raise ConfigError(f"{name}: expected a share in (0, 1), got {getattr(self, name)}")
        if not (self.segment_deg > 0 and self.lr_scale > 0):
            raise ConfigError(
                f"segment_deg and lr_scale must be positive, got {self.segment_deg}, "
                f"{self.lr_scale}"
            )


@dataclass(frozen=True)
class FinetuneResult:
    """The outcome of :func:`finetune`.

    Attributes
    ----------
    checkpoint, device
        The checkpoint written and where it trained.
    best_epoch
        The epoch kept (0: no epoch beat the initial weights, which were kept).
    history
        Epoch 0 (the initial weights, no training loss) and every epoch run;
        ``val_mu``/``val_rmse_m`` are the held-out scores (metres).
    wall_s
        Wall time, seconds.
    held_cells, val_tiles
        Observed cells held out for validation and the tiles scoring them.
    """

    checkpoint: Path
    device: str
    best_epoch: int
    history: tuple[EpochRecord, ...]
    wall_s: float
    held_cells: int
    val_tiles: int

    @property
    def best(self) -> EpochRecord:
        """The record of the epoch kept."""
        return self.history[self.best_epoch]


def selfsup_step(
    model: SSH4DVarNet,
    optimizer: torch.optim.Optimizer,
    tiles: BatchTensors,
    window: torch.Tensor,
    cfg: TrainConfig,
) -> float:
    """One optimiser step mapping the shown observations, scored on the hidden ones.

    As :func:`oceaninterp.train.training_step`, with ``tiles.obs`` the
    observations shown and ``tiles.truth`` the hidden ones (NaN elsewhere;
    hidden cells where ``window`` is 0 are not scored), ``tiles.oi`` the OI of
    the shown ones; the loss is the misfit on the hidden cells plus the prior term.
    """
    inputs, targets, sst, oi = tiles
    with autocast(model.device, cfg):
        y, mask, aux = model.normalise(inputs, sst, oi)
        estimate = model(y, mask, aux).float()
        hidden = torch.isfinite(targets) & (window > 0)
        target = torch.nan_to_num((targets - model.ssh_mean) / model.ssh_std)
        terms = training_loss(
            LossKind.UNSUPERVISED,
            loss_weights(cfg),
            estimate,
            model.cost,
            y=target,
            mask=hidden.to(estimate.dtype),
        )
    return descend(model, optimizer, terms.total, cfg)


def validation_tiles(observed: ObservedRegion, cfg: ModelConfig, window: np.ndarray) -> np.ndarray:
    """Origins ``(n, 4)`` of the fewest tiles covering the padded days and the grid that
    hold held-out cells where ``window`` ``(T, H, W)`` is positive."""
    data = observed.region.data
    grid = np.meshgrid(
        strided_origins(data.days.size, cfg.tile_time),
        strided_origins(data.latitude.size, cfg.tile_latitude),
        strided_origins(data.longitude.size, cfg.tile_longitude),
        indexing="ij",
    )
    origins = np.stack([g.ravel() for g in grid], axis=1)
    held = np.isfinite(cut(data.truth, origins, cfg)) & (window > 0)
    keep = held.reshape(len(origins), -1).any(axis=1)
    return np.concatenate([np.zeros((int(keep.sum()), 1), dtype=int), origins[keep]], axis=1)


def finetune(
    cube: str | Path,
    init: str | Path,
    output: str | Path,
    cfg: TrainConfig | None = None,
    settings: FinetuneSettings | None = None,
    *,
    device: str = "auto",
    overwrite: bool = False,
    mdt: str | Path | None = None,
    on_step: Callable[[int, int], None] | None = None,
    on_epoch: Callable[[EpochRecord], None] | None = None,
) -> FinetuneResult:
    """Fine-tune the model of ``init`` on the observations of ``cube``, without a truth.

    Parameters
    ----------
    cube
        Gridded observations (``oceaninterp grid`` output) at the checkpoint's
        resolution and SSH kind (an ``adt`` cube with ``mdt`` for an SLA model).
    init
        The checkpoint to start from (weights, normalisation, architecture).
    output
        The fine-tuned checkpoint.
    cfg
        Epochs, tiles per epoch, batch size, learning rates (times
        ``settings.lr_scale``), observation and prior weights, loss border, seed.
    settings
        Hidden and held-out shares, segment size, learning-rate scale, time limit.
    device, overwrite
        As for :func:`oceaninterp.train.train`.
    mdt
        An MDT subtracted from an ``adt`` cube's observations.
    on_step, on_epoch
        Progress callbacks: ``(steps done, total)``, and each epoch's record.

    Raises
    ------
    InputError
        A cube of another resolution or SSH kind than the checkpoint, smaller
        than its tile, or with too few observations.
    OutputExistsError
        ``output`` exists and not ``overwrite``.
    """
    started = time.perf_counter()
    cfg, settings = cfg or TrainConfig(), settings or FinetuneSettings()
    cube, init, output = Path(cube), Path(init), Path(output)
    check_output(output, overwrite)
    dev = resolve_device(device)
    loaded = load_checkpoint(init, dev)
    model, meta = loaded.model, loaded.meta
    observed = load_observed_region(
        cube,
        model.cfg,
        segment_deg=settings.segment_deg,
        val_share=settings.val_share,
        seed=cfg.seed,
        mdt=mdt,
    )
    data = observed.region.data
    if settings.renormalise:
        values = data.obs[np.isfinite(data.obs)]
        model.set_normalisation(
            float(values.mean()), float(values.std()), **_sst_normalisation(model)
        )
    with open_dataset(cube) as ds:
        check_compatible(
            ds.assign_attrs(ssh_kind=data.ssh_kind), meta, cube_path=cube, checkpoint_path=init
        )
    if (
        data.latitude.size < model.cfg.tile_latitude
        or data.longitude.size < model.cfg.tile_longitude
    ):
        raise InputError(
            cube,
            f"the grid ({data.latitude.size} x {data.longitude.size} cells) is smaller than "
            f"the model's tile ({model.cfg.tile_latitude} x {model.cfg.tile_longitude})",
        )
    scaled = dataclasses.replace(
        cfg,
        learning_rate=cfg.learning_rate * settings.lr_scale,
        prior_learning_rate=cfg.prior_learning_rate * settings.lr_scale,
    )
    optimizer = make_optimizer(model, scaled)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.epochs)
    window = tile_window(model.cfg, cfg.loss_border).to(dev)
    val_origins = validation_tiles(observed, model.cfg, window[0].cpu().numpy())
    regions = [observed.region]

    def score(epoch: int, loss: float, since: float, best: float) -> EpochRecord:
        mu, rmse = validation_scores(model, regions, val_origins, window, cfg.batch_size, scaled)
        return EpochRecord(epoch, loss, mu, rmse, time.perf_counter() - since, mu > best)

    history = [score(0, math.nan, started, -math.inf)]
    best = history[0]
    _save(output, model, meta, cube, init, observed, scaled, settings, best, history, val_origins)
    steps_per_epoch = math.ceil(cfg.tiles_per_epoch / cfg.batch_size)
    total = cfg.epochs * steps_per_epoch
    for epoch in range(cfg.epochs):
        elapsed = time.perf_counter() - started
        if (
            settings.max_seconds is not None
            and epoch
            and elapsed + history[-1].seconds > settings.max_seconds
        ):
            logger.warning(
                "time limit: %d of %d epochs in %.0f s (limit %.0f s)",
                epoch,
                cfg.epochs,
                elapsed,
                settings.max_seconds,
            )
            break
        epoch_start = time.perf_counter()
        rng = np.random.default_rng([cfg.seed, epoch])
        torch.manual_seed(int(rng.integers(2**62)))
        origins = draw_origins(regions, model.cfg, cfg.tiles_per_epoch, rng)
        model.train()
        losses = []
        for step, start in enumerate(range(0, len(origins), cfg.batch_size)):
            tiles = origins[start : start + cfg.batch_size]
            batch = region_batch(regions, tiles, model.cfg)
            segments = segment_tiles(observed, tiles, model.cfg)
            inputs, targets = hide_segments(
                batch, segments, observed.n_segments, settings.hidden_share, rng
            )
            keep = np.isfinite(inputs).reshape(len(tiles), -1).sum(axis=1) >= settings.min_shown
            if keep.any():
                sst = None if batch.sst is None else torch.from_numpy(batch.sst[keep]).to(dev)
                oi = None  # an oi_input model sees the OI of the shown observations only
                if model.cfg.oi_input:
                    oi = torch.from_numpy(shown_oi(observed, tiles[keep], inputs[keep])).to(dev)
                shown, hidden = (torch.from_numpy(a[keep]).to(dev) for a in (inputs, targets))
                held = BatchTensors(shown, hidden, sst, oi)
                losses.append(selfsup_step(model, optimizer, held, window, scaled))
            if on_step is not None:
                on_step(epoch * steps_per_epoch + step + 1, total)
        if losses:  # else no tile showed enough observations: nothing to schedule
            scheduler.step()
        loss = float(np.mean(losses)) if losses else math.nan
        record = score(epoch + 1, loss, epoch_start, best.val_mu)
        history.append(record)
        if record.improved:
            best = record
            _save(
                output,
                model,
                meta,
                cube,
                init,
                observed,
                scaled,
                settings,
                best,
                history,
                val_origins,
            )
        logger.info(
            "epoch %d/%d: loss %.4f, held-out mu %.4f, rmse %.4f m%s",
            record.epoch,
            cfg.epochs,
            record.train_loss,
            record.val_mu,
            record.val_rmse_m,
            " (best, saved)" if record.improved else "",
        )
        if on_epoch is not None:
            on_epoch(record)
    if not math.isfinite(best.val_mu):
        raise OceanInterpError("fine-tuning: the held-out score was never finite")
    return FinetuneResult(
        checkpoint=output,
        device=str(dev),
        best_epoch=best.epoch,
        history=tuple(history),
        wall_s=time.perf_counter() - started,
        held_cells=observed.n_held,
        val_tiles=len(val_origins),
    )


def _sst_normalisation(model: SSH4DVarNet) -> dict[str, float]:
    """The model's SST mean and std (kelvin), kept when the SSH is renormalised."""
    norm = model.normalisation()
    return {"sst_mean": norm["sst_mean"], "sst_std": norm["sst_std"]}


def _save(
    output: Path,
    model: SSH4DVarNet,
    meta: dict[str, Any],
    cube: Path,
    init: Path,
    observed: ObservedRegion,
    cfg: TrainConfig,
    settings: FinetuneSettings,
    best: EpochRecord,
    history: list[EpochRecord],
    val_origins: np.ndarray,
) -> None:
    """Write the checkpoint: the initial description, widened latitudes, the fine-tuning."""
    data = observed.region.data
    prior = valid_latitudes(meta)
    edges = region_edges(observed.region)
    signed = [edges] if prior is None else [prior, edges]
    absolute = [meta.get("valid_abs_latitudes") or absolute_band(*signed[0]), absolute_band(*edges)]
    pad = model.cfg.tile_time // 2  # the empty days around the cube's
    description = {
        **meta,
        **band_record(signed, absolute),
        "finetuning": {
            "method": "self-supervised: MSE on hidden track segments + prior",
            "cube": cube.name,  # names only: no path of the training machine
            "init": init.name,
            "days": [str(data.days[pad]), str(data.days[data.days.size - 1 - pad])],
            "latitude": [float(data.latitude[0]), float(data.latitude[-1])],
            "longitude": [float(data.longitude[0]), float(data.longitude[-1])],
            "settings": dataclasses.asdict(settings),
            "config": dataclasses.asdict(cfg),
            "epoch": best.epoch,
            "initial_validation": meta.get("validation"),
            "initial_normalisation": meta["normalisation"],
        },
        "validation": {
            "mu": best.val_mu,
            "rmse_m": best.val_rmse_m,
            "tiles": len(val_origins),
            "epoch": best.epoch,
            "note": f"self-supervised: {observed.n_held} observed cells of {cube.name} held out",
            "history": [
                {
                    "epoch": r.epoch,
                    "train_loss": r.train_loss if r.epoch else None,
                    "val_mu": r.val_mu,
                }
                for r in history
            ],
        },
    }
    save_checkpoint(output, model, description)
