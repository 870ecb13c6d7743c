"""Training the SSH 4DVarNet on a gridded cube and its truth (``oceaninterp train``).

Each epoch draws ``tiles_per_epoch`` random tiles of the training period
(seeded by the run's seed and the epoch number), augments a share of them by
swapping observation masks, and takes Adam steps on the loss of
:mod:`oceaninterp.variational.losses` with named weights; the learning rates
follow a cosine schedule over the epochs. After each epoch the model maps the
validation tiles and is scored with mu = 1 - RMSE / RMS(truth) (weighted by the
tile window); the best model so far is written to the checkpoint and the
optimiser state to a resume file next to it (``CHECKPOINT.resume``), both
atomically, so an interrupted run continues with ``resume=True`` exactly
where it stopped.

With ``mdt=FILE`` the model learns the sea level anomaly (SLA), as DUACS maps
it: the truth minus the MDT, from an ``adt`` cube minus the MDT (an ``sla``
cube as it is). The checkpoint then says so (description key ``"mdt"``) and
``oceaninterp reconstruct`` refuses it without an MDT to add back.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import pickle
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch

from oceaninterp.config import ModelConfig, TrainConfig
from oceaninterp.errors import ConfigError, InputError, OceanInterpError
from oceaninterp.ingest import fingerprint
from oceaninterp.io import atomic_path, check_output
from oceaninterp.model import SSH4DVarNet, build_model
from oceaninterp.model.checkpoint import LoadedCheckpoint, load_checkpoint, save_checkpoint
from oceaninterp.model.data import TileBatch
from oceaninterp.model.inference import resolve_device
from oceaninterp.model.regions import (
    Region,
    all_validation_origins,
    draw_origins,
    load_regions,
    normalisation,
    pair_inputs,
    region_batch,
    regions_record,
)
from oceaninterp.variational import LossKind, LossWeights, training_loss

logger = logging.getLogger(__name__)

RESUME_FORMAT = "oceaninterp-train-resume"
#: What a checkpoint trained without validation says in its ``validation`` record.
NO_VALIDATION_NOTE = (
    "trained without validation (the val period held no tile): the last epoch is kept"
)


def _finite_or_none(value: float) -> float | None:
    """JSON-safe score: ``None`` for NaN (no validation)."""
    return float(value) if math.isfinite(value) else None


@dataclass(frozen=True)
class EpochRecord:
    """What one epoch gave.

    Attributes
    ----------
    epoch
        1-based epoch number.
    train_loss
        Mean training loss of the epoch's steps (dimensionless, normalised units).
    val_mu
        1 - RMSE / RMS(truth) over the validation tiles (1 is perfect); NaN when
        training without validation (:func:`adapt_periods`).
    val_rmse_m
        RMSE over the validation tiles, metres (NaN without validation).
    seconds
        Wall time of the epoch, validation included.
    improved
        The epoch beat every earlier one and was written to the checkpoint.
    """

    epoch: int
    train_loss: float
    val_mu: float
    val_rmse_m: float
    seconds: float
    improved: bool


@dataclass(frozen=True)
class TrainResult:
    """The outcome of :func:`train`.

    Attributes
    ----------
    checkpoint
        The best checkpoint written.
    device
        Where it trained (``"cpu"``, ``"cuda"``...).
    best_epoch, best_val_mu, best_val_rmse_m
        The epoch kept and its validation scores (mu, metres).
    history
        Every epoch so far, resumed ones included.
    wall_s
        Wall time of this call, seconds.
    n_parameters
        Trainable values of the model.
    periods
        ``[first, last]`` ISO dates of the train, val and test periods.
    """

    checkpoint: Path
    device: str
    best_epoch: int
    best_val_mu: float
    best_val_rmse_m: float
    history: tuple[EpochRecord, ...]
    wall_s: float
    n_parameters: int
    periods: dict[str, list[str] | None]


def resume_path(checkpoint: str | Path) -> Path:
    """The resume file kept next to a checkpoint while it trains."""
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(checkpoint.name + ".resume")


def tile_window(cfg: ModelConfig, border: int) -> torch.Tensor:
    """Weights ``(1, T, H, W)`` of the loss and of the validation score.

    A triangle in time (1 on the centre day, ``1 / (c + 1)`` on the first and
    last days with ``c = (T - 1) / 2``), times 0 on ``border`` pixels at the
    edges: the centre of a tile sees observations on both sides.
    """
    t = torch.arange(cfg.tile_time, dtype=torch.float32)
    centre = (cfg.tile_time - 1) / 2
    in_time = 1.0 - (t - centre).abs() / (centre + 1.0)
    in_space = torch.zeros(cfg.tile_latitude, cfg.tile_longitude)
    in_space[border : cfg.tile_latitude - border, border : cfg.tile_longitude - border] = 1.0
    if not in_space.any():
        raise ConfigError(
            f"loss_border: {border} pixels leave nothing of a {tuple(in_space.shape)} tile"
        )
    return (in_time[:, None, None] * in_space)[None]


class BatchTensors(NamedTuple):
    """A :class:`TileBatch` as tensors: ``sst`` and ``oi`` may be ``None``."""

    obs: torch.Tensor
    truth: torch.Tensor
    sst: torch.Tensor | None
    oi: torch.Tensor | None


def batch_tensors(batch: TileBatch, device: torch.device) -> BatchTensors:
    """The arrays of a batch as tensors on ``device``."""

    def tensor(values: np.ndarray | None) -> torch.Tensor | None:
        return None if values is None else torch.from_numpy(values).to(device)

    obs, truth = torch.from_numpy(batch.obs).to(device), torch.from_numpy(batch.truth).to(device)
    return BatchTensors(obs, truth, tensor(batch.sst), tensor(batch.oi))


def autocast(device: torch.device, cfg: TrainConfig) -> torch.autocast:
    """bf16 autocast on CUDA when ``cfg.bf16``; a no-op elsewhere."""
    return torch.autocast(
        device.type, dtype=torch.bfloat16, enabled=device.type == "cuda" and cfg.bf16
    )


@torch.no_grad()
def validation_scores(
    model: SSH4DVarNet,
    regions: Sequence[Region],
    origins: np.ndarray,
    window: torch.Tensor,
    batch_size: int,
    cfg: TrainConfig,
) -> tuple[float, float]:
    """``(mu, rmse_m)`` of the model's maps over the tiles at ``origins`` (region, day, row, col).

    mu = 1 - RMSE / RMS(truth), both weighted by ``window`` over the pixels
    where the truth is finite; RMSE in metres.
    """
    device = model.device
    window = window.to(device)
    sums = torch.zeros(3, dtype=torch.float64, device=device)
    for start in range(0, len(origins), batch_size):
        batch = region_batch(regions, origins[start : start + batch_size], model.cfg)
        obs, truth, sst, oi = batch_tensors(batch, device)
        with autocast(device, cfg):
            estimate = model.reconstruct(obs, sst, oi)
        finite = torch.isfinite(truth)
        w = torch.where(finite, window, torch.zeros((), device=device))
        truth = torch.nan_to_num(truth)
        sums += torch.stack(
            [(w * (estimate - truth).square()).sum(), (w * truth.square()).sum(), w.sum()]
        ).double()
    err2, truth2, weight = sums.tolist()
    rmse = math.sqrt(err2 / weight)
    return 1.0 - rmse / math.sqrt(truth2 / weight), rmse


def make_optimizer(model: SSH4DVarNet, cfg: TrainConfig) -> torch.optim.Adam:
    """Adam with the prior's learning rate for the prior, the solver's for the rest."""
    prior = list(model.cost.prior.parameters())
    prior_ids = {id(p) for p in prior}
    others = [p for p in model.parameters() if id(p) not in prior_ids]
    return torch.optim.Adam(
        [
            {"params": others, "lr": cfg.learning_rate},
            {"params": prior, "lr": cfg.prior_learning_rate},
        ]
    )


def training_batches(
    regions: Sequence[Region], model: SSH4DVarNet, cfg: TrainConfig, epoch: int
) -> Iterator[TileBatch]:
    """The batches of one epoch: ``cfg.tiles_per_epoch`` random tiles of the train periods.

    Draws, mask swaps and torch's generator (dropout) are seeded by
    ``(cfg.seed, epoch)``, so an epoch is the same whether or not the run was
    resumed before it. Puts the model in training mode.
    """
    rng = np.random.default_rng([cfg.seed, epoch])
    torch.manual_seed(int(rng.integers(2**62)))
    origins = draw_origins(regions, model.cfg, cfg.tiles_per_epoch, rng)
    model.train()
    for start in range(0, len(origins), cfg.batch_size):
        yield region_batch(
            regions,
            origins[start : start + cfg.batch_size],
            model.cfg,
            swap_fraction=cfg.mask_swap_fraction,
            noise=cfg.noise_augment,
            rng=rng,
        )


def training_step(
    model: SSH4DVarNet,
    optimizer: torch.optim.Optimizer,
    tiles: BatchTensors,
    window: torch.Tensor,
    cfg: TrainConfig,
) -> float:
    """One optimiser step on a batch of tiles; returns the loss (normalised units).

    Parameters
    ----------
    model, optimizer
        The model (in training mode) and its optimiser.
    tiles
        Tiles ``(B, T, H, W)`` on the model's device: observations (metres,
        NaN = unobserved), true SSH (metres, NaN = unknown), SST (kelvin) and
        the OI map (metres, ``oi_input`` models), each of the last two or ``None``.
    window
        Loss weights ``(1, T, H, W)`` (:func:`tile_window`).
    cfg
        Loss kind and weights, gradient clipping, bf16 autocast (CUDA only).
    """
    obs, truth, sst, oi = tiles
    with autocast(model.device, cfg):
        y, mask, aux = model.normalise(obs, sst, oi)
        estimate = model(y, mask, aux)
        terms = training_loss(
            LossKind(cfg.loss),
            loss_weights(cfg),
            estimate.float(),
            model.cost,
            truth=(truth - model.ssh_mean) / model.ssh_std,
            y=y,
            mask=mask,
            weight=window,
        )
    return descend(model, optimizer, terms.total, cfg)


def loss_weights(cfg: TrainConfig) -> LossWeights:
    """The named loss weights of a training configuration."""
    return LossWeights(
        state=cfg.state_weight,
        gradient=cfg.gradient_weight,
        prior=cfg.prior_weight,
        observation=cfg.observation_weight,
    )


def descend(
    model: SSH4DVarNet, optimizer: torch.optim.Optimizer, loss: torch.Tensor, cfg: TrainConfig
) -> float:
    """Back-propagate ``loss``, clip the gradients to ``cfg.grad_clip``, step; return the loss."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
    optimizer.step()
    return float(loss.detach())


def _save_resume(path: Path, state: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def _load_resume(path: Path, identity: str, device: torch.device) -> dict[str, Any]:
    if not path.is_file():
        raise InputError(path, "no resume file: nothing to resume (train without --resume)")
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as exc:
        raise InputError(path, f"not a resume file of oceaninterp train ({exc})") from None
    if not isinstance(state, dict) or state.get("format") != RESUME_FORMAT:
        raise InputError(path, "not a resume file of oceaninterp train")
    if state["identity_json"] != identity:
        raise InputError(
            path,
            "was written for other data or another configuration; rerun with the same "
            "cube, truth and configuration, or train afresh with --overwrite",
        )
    return state


def train(
    cube: str | Path | Sequence[str | Path],
    truth: str | Path | Sequence[str | Path],
    output: str | Path,
    cfg: TrainConfig | None = None,
    model_cfg: ModelConfig | None = None,
    *,
    device: str = "auto",
    resume: bool = False,
    overwrite: bool = False,
    on_step: Callable[[int, int], None] | None = None,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    mdt: str | Path | Sequence[str | Path] | None = None,
    init: str | Path | None = None,
) -> TrainResult:
    """Train an SSH 4DVarNet; keep the best model (validation mu) in ``output``.

    Parameters
    ----------
    cube
        Gridded observations (``oceaninterp grid`` output; contract 3), or
        several cubes (regions, :mod:`oceaninterp.model.regions`) of one resolution.
    truth
        True SSH (``oceaninterp simulate truth`` output, or any gridded SSH
        :func:`oceaninterp.truth.open_truth` reads), brought onto the cube's
        grid and days by linear interpolation; one per cube, in order.
    output
        Checkpoint path (e.g. ``model.pt``), written each time validation improves.
    cfg, model_cfg
        Training settings and architecture (defaults when ``None``).
    device
        ``"auto"``, ``"cpu"`` or ``"cuda"``.
    resume
        Continue from ``output``'s resume file (same data and configuration).
    overwrite
        Replace an existing ``output``.
    on_step
        Called after each optimiser step with ``(steps done, total steps)``.
    on_epoch
        Called after each epoch with its :class:`EpochRecord`.
    mdt
        A mean dynamic topography file (:mod:`oceaninterp.mdt`): learn the SLA
        (truth - MDT; cube - MDT for an ``adt`` cube, an ``sla`` cube as is)
        and record the MDT in the checkpoint (``"mdt"``: file name, SHA-256,
        the cube's ``ssh_kind``); validation scores are then on the SLA.
        ``None``: learn the cube's own kind, as before. Several cubes take
        one MDT each, in order.
    init
        A checkpoint to start from (transfer to other observations or regions):
        its architecture and normalisation are kept, ``model_cfg`` is not
        used, and the description records it (``training.init``). ``None``:
        random initial weights.

    Raises
    ------
    InputError
        Unusable cube, truth or MDT, periods too short, bad resume file,
        regions of different resolutions or SSH kinds, an ``init`` whose SSH
        kind or tile does not fit them.
    ConfigError
        Counts of cubes, truths and MDTs that do not pair.
    OutputExistsError
        ``output`` exists and neither ``overwrite`` nor ``resume``.
    """
    started = time.perf_counter()
    cfg, model_cfg = cfg or TrainConfig(), model_cfg or ModelConfig()
    inputs = pair_inputs(_paths(cube), _paths(truth), _paths(mdt) if mdt is not None else None)
    output = Path(output)
    if not resume:
        check_output(output, overwrite)
    dev = resolve_device(device)
    init_path = None if init is None else Path(init)
    start = None if init_path is None else load_checkpoint(init_path, dev)
    regions, model_cfg = load_regions(inputs, cfg, start.model.cfg if start else model_cfg)
    if init_path is not None and start is not None:
        _check_init(init_path, start, regions, model_cfg)
    identity = json.dumps(
        {
            **_sources(regions),
            "init": None if init_path is None else fingerprint(init_path),
            "model": dataclasses.asdict(model_cfg),
            "train": dataclasses.asdict(cfg),
        },
        sort_keys=True,
    )

    torch.manual_seed(cfg.seed)
    if start is None:
        model = build_model(model_cfg)
        model.set_normalisation(**normalisation(regions))
        model.to(dev)
    else:
        model = start.model
    optimizer = make_optimizer(model, cfg)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.epochs)
    window = tile_window(model_cfg, cfg.loss_border).to(dev)
    val_origins = all_validation_origins(regions, model_cfg)
    steps_per_epoch = math.ceil(cfg.tiles_per_epoch / cfg.batch_size)

    first_epoch, best_epoch, best_mu, best_rmse = 0, 0, -math.inf, math.nan
    history: list[EpochRecord] = []
    state_file = resume_path(output)
    if resume:
        state = _load_resume(state_file, identity, dev)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        first_epoch, best_epoch = state["epoch"], state["best_epoch"]
        best_mu, best_rmse = state["best_mu"], state["best_rmse_m"]
        history = [EpochRecord(**r) for r in json.loads(state["history_json"])]
        logger.info("resuming %s after epoch %d of %d", output, first_epoch, cfg.epochs)

    total_steps = cfg.epochs * steps_per_epoch
    if on_step is not None:  # the total is known before the first step: no "0/?" bar
        on_step(first_epoch * steps_per_epoch, total_steps)
    for epoch in range(first_epoch, cfg.epochs):
        epoch_start = time.perf_counter()
        losses = []
        for step, batch in enumerate(training_batches(regions, model, cfg, epoch)):
            losses.append(training_step(model, optimizer, batch_tensors(batch, dev), window, cfg))
            if on_step is not None:
                on_step(epoch * steps_per_epoch + step + 1, total_steps)
        scheduler.step()
        if len(val_origins):
            mu, rmse = validation_scores(model, regions, val_origins, window, cfg.batch_size, cfg)
            improved = mu > best_mu
        else:  # no validation: keep the latest epoch whose loss is finite
            mu, rmse = math.nan, math.nan
            improved = bool(np.isfinite(np.mean(losses)))
        if improved:
            best_epoch, best_mu, best_rmse = epoch + 1, mu, rmse
        record = EpochRecord(
            epoch=epoch + 1,
            train_loss=float(np.mean(losses)),
            val_mu=mu,
            val_rmse_m=rmse,
            seconds=time.perf_counter() - epoch_start,
            improved=improved,
        )
        history.append(record)
        if improved:
            meta = _checkpoint_meta(regions, cfg, record, history, len(val_origins), init_path)
            save_checkpoint(output, model, meta)
        _save_resume(
            state_file,
            {
                "format": RESUME_FORMAT,
                "identity_json": identity,
                "epoch": epoch + 1,
                "best_epoch": best_epoch,
                "best_mu": best_mu,
                "best_rmse_m": best_rmse,
                "history_json": json.dumps([dataclasses.asdict(r) for r in history]),
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
            },
        )
        logger.info(
            "epoch %d/%d: loss %.4f, validation mu %.4f, rmse %.4f m%s",
            record.epoch,
            cfg.epochs,
            record.train_loss,
            mu,
            rmse,
            " (best, saved)" if improved else "",
        )
        if on_epoch is not None:
            on_epoch(record)
    if best_epoch == 0:
        raise OceanInterpError(
            "training diverged: the validation score (or, without validation, the loss) was "
            "never finite (try a lower learning_rate)"
        )
    state_file.unlink(missing_ok=True)
    return TrainResult(
        checkpoint=output,
        device=str(dev),
        best_epoch=best_epoch,
        best_val_mu=best_mu,
        best_val_rmse_m=best_rmse,
        history=tuple(history),
        wall_s=time.perf_counter() - started,
        n_parameters=sum(p.numel() for p in model.parameters()),
        periods=_span_dates(regions),
    )


def _check_init(
    path: Path, start: LoadedCheckpoint, regions: Sequence[Region], fitted: ModelConfig
) -> None:
    """Refuse an initial checkpoint that cannot learn ``regions`` as they are."""
    kind = start.description.ssh_kind
    if kind != regions[0].kind:
        raise InputError(
            path,
            f"it maps {kind!r} and these cubes would be learnt as {regions[0].kind!r} "
            "(give --mdt as the checkpoint was trained, or none)",
        )
    if fitted != start.model.cfg:
        raise InputError(
            path,
            f"its tile ({start.model.cfg.tile_latitude} x {start.model.cfg.tile_longitude} "
            "cells) is larger than the smallest cube's grid",
        )


def _paths(value: str | Path | Sequence[str | Path]) -> list[str | Path]:
    """One path or several, as a list."""
    return [value] if isinstance(value, str | Path) else list(value)


def _sources(regions: Sequence[Region]) -> dict[str, Any]:
    """The files of the regions, for the resume file's identity (one region: as before)."""
    if len(regions) == 1:
        only = regions[0]
        sources = {"cube": str(only.cube.resolve()), "truth": str(only.truth.resolve())}
        if only.data.mdt is not None:
            sources["mdt"] = only.data.mdt.sha256
        return sources
    return {
        "cube": [str(r.cube.resolve()) for r in regions],
        "truth": [str(r.truth.resolve()) for r in regions],
        "mdt": [r.data.mdt.sha256 for r in regions if r.data.mdt is not None],
    }


def _span_dates(regions: Sequence[Region]) -> dict[str, list[str] | None]:
    """``[first, last]`` ISO dates of each period over all regions (``None`` when empty)."""
    spans: dict[str, list[str] | None] = {}
    for period in ("train", "val", "test"):
        dates = [d for r in regions if (d := r.dates()[period]) is not None]
        spans[period] = [min(d[0] for d in dates), max(d[1] for d in dates)] if dates else None
    return spans


def _checkpoint_meta(
    regions: Sequence[Region],
    cfg: TrainConfig,
    record: EpochRecord,
    history: list[EpochRecord],
    n_val_tiles: int,
    init: Path | None,
) -> dict[str, Any]:
    """The description written with the checkpoint (see :mod:`oceaninterp.model.checkpoint`).

    Several regions add :func:`oceaninterp.model.regions.regions_record` (the
    latitudes the model may be applied at, each region's files and dates); a
    training started from a checkpoint names it (``training.init``).
    """
    data = regions[0].data
    mdt: dict[str, Any] = {}
    if data.mdt is not None:
        mdt["mdt"] = {
            "file": data.mdt.path.name,
            "path": str(data.mdt.path),  # as given (required by the checkpoint format)
            "sha256": data.mdt.sha256,
            "cube_ssh_kind": data.ssh_kind,
        }
    dates = _span_dates(regions)
    return {
        "resolution": data.resolution,
        "ssh_kind": regions[0].kind,
        **mdt,
        **(regions_record(regions) if len(regions) > 1 else {}),
        "training": {
            "cube": ", ".join(r.cube.name for r in regions),  # names only: no training paths
            "truth": ", ".join(r.truth.name for r in regions),
            "days": [
                str(min(r.data.days[0] for r in regions)),
                str(max(r.data.days[-1] for r in regions)),
            ],
            "train_dates": dates["train"],
            "val_dates": dates["val"],
            "test_dates": dates["test"],
            "latitude": [
                min(float(r.data.latitude[0]) for r in regions),
                max(float(r.data.latitude[-1]) for r in regions),
            ],
            "longitude": [
                min(float(r.data.longitude[0]) for r in regions),
                max(float(r.data.longitude[-1]) for r in regions),
            ],
            "epoch": record.epoch,
            "config": dataclasses.asdict(cfg),
            **({} if init is None else {"init": init.name}),
        },
        "validation": {
            "mu": _finite_or_none(record.val_mu),
            "rmse_m": _finite_or_none(record.val_rmse_m),
            "tiles": n_val_tiles,
            "epoch": record.epoch,
            **({} if n_val_tiles else {"note": NO_VALIDATION_NOTE}),
            "history": [
                {
                    "epoch": r.epoch,
                    "train_loss": r.train_loss,
                    "val_mu": _finite_or_none(r.val_mu),
                }
                for r in history
            ],
        },
    }
