"""Training regions: one or several cubes with their truths, trained on as one set.

``oceaninterp train CUBE [CUBE ...] --truth T [--truth T ...]`` pairs the i-th
cube with the i-th truth (and the i-th MDT when MDTs are given). Each region
keeps its own days and its own train, validation and test periods; all must
share the resolution (degrees) and the kind of SSH learnt (``sla`` with MDTs,
else the cubes' ``ssh_kind``). An epoch's random tiles are shared among the
regions in proportion to their numbers of possible tile origins; validation
covers every region; the normalisation (mean and std of the truth, and of the
SST) comes from the training periods of all regions together.

With a single region every draw is the one of a single-cube training, so a
checkpoint is the same as before for the same seed.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from oceaninterp.config import ModelConfig, TrainConfig
from oceaninterp.cube import RESOLUTION_RTOL
from oceaninterp.errors import ConfigError, InputError
from oceaninterp.model.data import (
    TileBatch,
    TrainingData,
    cut,
    load_training_data,
    period_dates,
    random_origins,
    split_days,
    swap_masks,
    tile_oi,
    tile_starts,
    validation_origins,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Region:
    """One cube and its truth in memory, with its periods.

    Attributes
    ----------
    cube, truth, mdt
        The files it was read from (``mdt`` is ``None`` without an MDT).
    data
        Observations and truth on the cube's grid (:class:`TrainingData`).
    periods
        Indices into ``data.days`` of the ``train``, ``val`` and ``test`` periods.
    """

    cube: Path
    truth: Path
    mdt: Path | None
    data: TrainingData
    periods: dict[str, np.ndarray]

    @property
    def kind(self) -> str:
        """What the model learns from this region: ``"sla"`` with an MDT, else the cube's kind."""
        return "sla" if self.data.mdt is not None else self.data.ssh_kind

    def dates(self) -> dict[str, list[str] | None]:
        """``[first, last]`` ISO dates of each period (``None`` when empty)."""
        return {p: period_dates(self.data.days, idx) for p, idx in self.periods.items()}


def pair_inputs(
    cubes: Sequence[str | Path],
    truths: Sequence[str | Path],
    mdts: Sequence[str | Path] | None = None,
) -> list[tuple[Path, Path, Path | None]]:
    """``(cube, truth, mdt)`` triples: the i-th cube with the i-th truth and MDT.

    Raises
    ------
    ConfigError
        No cube, or counts of truths (or of MDTs, when any) unlike the count of cubes.
    """
    if not cubes:
        raise ConfigError("train: no cube given")
    if len(truths) != len(cubes):
        raise ConfigError(
            f"train: {len(cubes)} cube(s) and {len(truths)} truth(s); give one --truth per "
            "cube, in the same order"
        )
    if mdts and len(mdts) != len(cubes):
        raise ConfigError(
            f"train: {len(cubes)} cube(s) and {len(mdts)} MDT(s); give one --mdt per cube, "
            "in the same order, or none"
        )
    paired = mdts if mdts else [None] * len(cubes)
    return [
        (Path(c), Path(t), None if m is None else Path(m))
        for c, t, m in zip(cubes, truths, paired, strict=True)
    ]


def fit_tile(cfg: ModelConfig, n_lat: int, n_lon: int) -> ModelConfig:
    """The model configuration with its spatial tile shrunk to a grid smaller than it.

    Each side becomes the largest multiple of 4 that fits the grid (at least
    8 cells), with a warning; a grid as large as the tile keeps it.
    """
    lat = min(cfg.tile_latitude, max(8, n_lat // 4 * 4))
    lon = min(cfg.tile_longitude, max(8, n_lon // 4 * 4))
    if (lat, lon) == (cfg.tile_latitude, cfg.tile_longitude):
        return cfg
    logger.warning(
        "the grid (%d x %d cells) is smaller than the model's tile (%d x %d): tile %d x %d",
        n_lat,
        n_lon,
        cfg.tile_latitude,
        cfg.tile_longitude,
        lat,
        lon,
    )
    return dataclasses.replace(cfg, tile_latitude=lat, tile_longitude=lon)


def _check_sizes(region: Region, cfg: ModelConfig) -> None:
    _, n_lat, n_lon = region.data.truth.shape
    if n_lat < cfg.tile_latitude or n_lon < cfg.tile_longitude:
        raise InputError(
            region.cube,
            f"the grid ({n_lat} x {n_lon} cells) is smaller than the model's tile "
            f"({cfg.tile_latitude} x {cfg.tile_longitude}); "
            "set [model] tile_latitude/tile_longitude",
        )
    if tile_starts(region.periods["train"], cfg.tile_time).size == 0:
        dates = period_dates(region.data.days, region.periods["train"])
        raise InputError(
            region.cube,
            f"the train period ({dates}) holds no run of {cfg.tile_time} consecutive days "
            f"common to the cube and the truth; adjust the [train] dates or fractions",
        )


def adapt_periods(
    days: np.ndarray, periods: dict[str, np.ndarray], cfg: TrainConfig, tile_time: int
) -> dict[str, np.ndarray]:
    """Periods whose validation holds at least one tile, on short data; else no validation.

    The split by fractions of a short record (e.g. 15 % of 40 days) gives a
    validation period shorter than a tile of ``tile_time`` days. When the
    periods came from fractions (no dates in ``cfg``) and the record holds two
    tiles, the validation period grows to one tile, taking days from the test
    period first (it keeps ``tile_time`` days of training at least), and a
    warning names the new periods. Otherwise (dates given, or too few days),
    training goes on without validation, with a warning: every epoch is kept
    and the checkpoint records no validation score.

    Parameters
    ----------
    days
        The days common to the cube and the truth (``datetime64[D]``).
    periods
        Indices into ``days`` of the ``train``, ``val`` and ``test`` periods.
    cfg
        The training settings (dates or fractions).
    tile_time
        Days of a model tile.

    Returns
    -------
    dict
        The periods to use; ``val`` is empty when there is no validation.
    """
    if tile_starts(periods["val"], tile_time).size:
        return periods
    before = {p: period_dates(days, idx) for p, idx in periods.items()}
    n, n_test = days.size, periods["test"].size
    if cfg.train_start is None and n >= 2 * tile_time:
        n_test = max(0, min(n_test, n - 2 * tile_time))
        edges = [0, n - tile_time - n_test, n - n_test, n]
        adapted = {
            p: np.arange(edges[i], edges[i + 1]) for i, p in enumerate(("train", "val", "test"))
        }
        if (
            tile_starts(adapted["val"], tile_time).size
            and tile_starts(adapted["train"], tile_time).size
        ):
            after = {p: period_dates(days, idx) for p, idx in adapted.items()}
            logger.warning(
                "the val period %s is shorter than a tile of %d days: periods adapted to "
                "train %s, val %s, test %s",
                before["val"],
                tile_time,
                after["train"],
                after["val"],
                after["test"],
            )
            return adapted
    logger.warning(
        "the val period %s holds no run of %d consecutive days: training WITHOUT "
        "validation (every epoch is kept; the checkpoint records no validation score); "
        "give more days or [train] val dates to validate",
        before["val"],
        tile_time,
    )
    return {**periods, "val": np.empty(0, dtype=int)}


def load_regions(
    inputs: Sequence[tuple[Path, Path, Path | None]],
    cfg: TrainConfig,
    model_cfg: ModelConfig,
) -> tuple[list[Region], ModelConfig]:
    """Read every region; return them and the model configuration fitted to the smallest grid.

    Raises
    ------
    InputError
        A region's files are unusable (:func:`load_training_data`), its
        resolution or learnt SSH kind differs from the first region's, its grid
        is smaller than the tile or its train period holds no tile.
    """
    regions = []
    for cube, truth, mdt in inputs:
        data = load_training_data(
            cube, truth, use_sst=model_cfg.use_sst, mdt=mdt, oi_input=model_cfg.oi_input
        )
        periods = adapt_periods(data.days, split_days(data.days, cfg), cfg, model_cfg.tile_time)
        regions.append(Region(cube=cube, truth=truth, mdt=mdt, data=data, periods=periods))
    first = regions[0]
    for region in regions[1:]:
        if not np.isclose(
            region.data.resolution, first.data.resolution, rtol=RESOLUTION_RTOL, atol=0.0
        ):
            raise InputError(
                region.cube,
                f"resolution {region.data.resolution:g} deg differs from "
                f"{first.cube.name}'s ({first.data.resolution:g} deg): grid every region alike",
            )
        if region.kind != first.kind:
            raise InputError(
                region.cube,
                f"the model would learn {region.kind!r} here and {first.kind!r} from "
                f"{first.cube.name}: give an MDT for every region (--mdt) or none",
            )
    model_cfg = fit_tile(
        model_cfg,
        min(r.data.truth.shape[1] for r in regions),
        min(r.data.truth.shape[2] for r in regions),
    )
    for region in regions:
        _check_sizes(region, model_cfg)
    return regions, model_cfg


def normalisation(regions: Sequence[Region]) -> dict[str, float]:
    """Mean and std of the truth (metres) and of the SST (kelvin) over all training periods.

    Raises
    ------
    InputError
        No SST value in the training periods (a model using SST), or a constant truth or SST.
    """
    truths = [r.data.truth[r.periods["train"]] for r in regions]
    truth = truths[0] if len(truths) == 1 else np.concatenate([t.ravel() for t in truths])
    stats = {"ssh_mean": float(np.nanmean(truth)), "ssh_std": float(np.nanstd(truth))}
    if regions[0].data.sst is not None:
        ssts = [r.data.sst[r.periods["train"]] for r in regions if r.data.sst is not None]
        sst = ssts[0] if len(ssts) == 1 else np.concatenate([s.ravel() for s in ssts])
        if not np.isfinite(sst).any():
            raise InputError(None, "the cube's sst has no value in the training period")
        stats |= {"sst_mean": float(np.nanmean(sst)), "sst_std": float(np.nanstd(sst))}
    if not stats["ssh_std"] > 0 or not stats.get("sst_std", 1.0) > 0:
        raise InputError(None, "the truth (or sst) is constant over the training period")
    return stats


def origin_counts(regions: Sequence[Region], cfg: ModelConfig) -> np.ndarray:
    """Number of possible training tile origins (day, row, column) of each region."""
    counts = []
    for region in regions:
        _, n_lat, n_lon = region.data.truth.shape
        days = tile_starts(region.periods["train"], cfg.tile_time).size
        counts.append(days * (n_lat - cfg.tile_latitude + 1) * (n_lon - cfg.tile_longitude + 1))
    return np.asarray(counts, dtype=np.int64)


def shares(weights: np.ndarray, count: int) -> np.ndarray:
    """``count`` split in proportion to ``weights`` (largest remainders; sums to ``count``)."""
    exact = count * weights / weights.sum()
    whole = np.floor(exact).astype(int)
    left = count - int(whole.sum())
    whole[np.argsort(whole - exact, kind="stable")[:left]] += 1
    return whole


def draw_origins(
    regions: Sequence[Region], cfg: ModelConfig, count: int, rng: np.random.Generator
) -> np.ndarray:
    """``count`` random training tile origins ``(count, 4)``: region, day, row, column.

    Each region gets its share (:func:`shares` of :func:`origin_counts`); the
    tiles of all regions are then shuffled so that batches mix regions. One
    region draws exactly as :func:`oceaninterp.model.data.random_origins`.
    """
    if len(regions) == 1:
        only = regions[0]
        origins = random_origins(only.data, only.periods["train"], cfg, count, rng)
        return np.concatenate([np.zeros((count, 1), dtype=origins.dtype), origins], axis=1)
    counts = shares(origin_counts(regions, cfg), count)
    parts = [
        np.concatenate(
            [np.full((n, 1), i), random_origins(r.data, r.periods["train"], cfg, n, rng)], axis=1
        )
        for i, (r, n) in enumerate(zip(regions, counts, strict=True))
    ]
    return rng.permutation(np.concatenate(parts).astype(int))


def region_batch(
    regions: Sequence[Region],
    origins: np.ndarray,
    cfg: ModelConfig,
    *,
    swap_fraction: float = 0.0,
    noise: float = 0.0,
    rng: np.random.Generator | None = None,
) -> TileBatch:
    """The tiles at ``origins`` ``(n, 4)`` (region, day, row, column), augmented as asked.

    See :func:`oceaninterp.model.data.make_batch` for the mask swap and
    :func:`add_noise` for the extra noise (up to ``noise`` metres), added after it.
    """
    fields: dict[str, list[np.ndarray]] = {"obs": [], "truth": [], "sst": [], "oi": []}
    for region, *origin in origins:
        data = regions[region].data
        at = np.asarray([origin])
        for name in fields:
            values = getattr(data, name)
            if values is not None:
                fields[name].append(cut(values, at, cfg))

    def joined(name: str) -> np.ndarray | None:
        return np.concatenate(fields[name]) if fields[name] else None

    batch = TileBatch(
        obs=np.concatenate(fields["obs"]),
        truth=np.concatenate(fields["truth"]),
        sst=joined("sst"),
        oi=joined("oi"),
    )
    return add_noise(regions, origins, swap_masks(batch, swap_fraction, rng), noise, rng)


def add_noise(
    regions: Sequence[Region],
    origins: np.ndarray,
    batch: TileBatch,
    largest: float,
    rng: np.random.Generator | None,
) -> TileBatch:
    """The batch with white noise on each tile's observations (changed in place).

    Each tile draws its noise std uniformly in ``[0, largest]`` metres; the OI
    map of an ``oi_input`` model is recomputed from the noisy observations, as
    ``reconstruct`` computes it from the observations it is given.

    Parameters
    ----------
    regions, origins
        The regions the tiles were cut from, and the tiles' ``(n, 4)`` origins
        (region, day, row, column) in them.
    batch
        The tiles ``(n, T, H, W)``.
    largest
        The largest noise std, metres; 0 leaves the batch (and ``rng``) untouched.
    rng
        The draws; needed when ``largest > 0``.
    """
    if largest <= 0:
        return batch
    if rng is None:
        raise ValueError("add_noise: an rng is needed to add noise")
    stds = np.asarray(rng.uniform(0.0, largest, size=batch.obs.shape[0]))
    for k, std in enumerate(stds):
        observed = np.isfinite(batch.obs[k])
        noise = rng.standard_normal(int(observed.sum())).astype(batch.obs.dtype)
        batch.obs[k][observed] += std * noise
        if batch.oi is not None and observed.any():
            batch.oi[k] = tile_oi(regions[origins[k][0]].data, origins[k][1:], batch.obs[k])
    return batch


def all_validation_origins(regions: Sequence[Region], cfg: ModelConfig) -> np.ndarray:
    """Validation tile origins ``(n, 4)`` (region, day, row, column) of every region."""
    parts = []
    for i, region in enumerate(regions):
        origins = validation_origins(region.data, region.periods["val"], cfg)
        parts.append(np.concatenate([np.full((len(origins), 1), i), origins], axis=1))
    return np.concatenate(parts).astype(int)


def region_edges(region: Region) -> tuple[float, float]:
    """Southern and northern edges of a region's cells, degrees_north."""
    half = 0.5 * region.data.resolution
    lat = region.data.latitude
    return float(lat[0]) - half, float(lat[-1]) + half


def absolute_band(south: float, north: float) -> tuple[float, float]:
    """The span of ``|latitude|`` over ``[south, north]`` (degrees)."""
    low = 0.0 if south < 0.0 < north else min(abs(south), abs(north))
    return low, max(abs(south), abs(north))


def band_record(
    signed: Sequence[Sequence[float]], absolute: Sequence[Sequence[float]]
) -> dict[str, list[float]]:
    """The latitudes a model may be applied at, from the bands it learnt.

    ``valid_latitudes``: ``[south, north]`` spanning every ``signed`` band
    (degrees_north; what ``reconstruct`` checks); ``valid_abs_latitudes``: the
    span of the ``absolute`` bands of ``|latitude|``, for a model of both
    hemispheres (e.g. 20..30N, 33..43N and 45..35S give ``[-45, 43]`` and
    ``[20, 45]``).
    """
    return {
        "valid_latitudes": [min(b[0] for b in signed), max(b[1] for b in signed)],
        "valid_abs_latitudes": [min(b[0] for b in absolute), max(b[1] for b in absolute)],
    }


def regions_record(regions: Sequence[Region]) -> dict[str, Any]:
    """What a checkpoint records of several training regions (names, boxes, dates, band)."""
    edges = [region_edges(r) for r in regions]
    return {
        **band_record(edges, [absolute_band(*e) for e in edges]),
        "regions": [
            {
                "cube": r.cube.name,  # names only: no path of the training machine
                "truth": r.truth.name,
                **({} if r.mdt is None else {"mdt": r.mdt.name}),
                "days": [str(r.data.days[0]), str(r.data.days[-1])],
                **{f"{p}_dates": d for p, d in r.dates().items()},
                "latitude": [float(r.data.latitude[0]), float(r.data.latitude[-1])],
                "longitude": [float(r.data.longitude[0]), float(r.data.longitude[-1])],
            }
            for r in regions
        ],
    }
