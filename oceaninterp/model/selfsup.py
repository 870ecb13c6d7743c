"""Self-supervised tiles of real observations: track segments, some held out, some hidden.

Without a truth, a model can still learn from observations alone (the
lecture's unsupervised loss): map from part of them and compare the map with
the rest. The unit hidden is a *track segment*: the observed cells of one day
that touch each other (8-connected), cut into pieces by a grid of square
blocks of ``segment_deg`` degrees, so that a hidden cell has no visible
neighbour of its own pass for about half a block (it is not rebuilt from the
cell beside it) and a long pass is hidden in pieces.

- A fixed, seeded ``val_share`` of the segments is *held out*: never an
  input, never a training target; validation maps from the other
  observations and scores the map on them (mu = 1 - RMSE / RMS(held out)).
- At every step each remaining segment is *hidden* with probability
  ``hidden_share``: the model maps from the others, the loss compares the
  map with the hidden cells.

The cube's days are padded with ``tile_time // 2`` empty days at both ends,
as inference does at the edges of a record, so that a record shorter than a
tile (one 10-day altimeter cycle and 15-day tiles) still gives tiles.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

from oceaninterp.config import ModelConfig
from oceaninterp.cube import resolution as cube_resolution
from oceaninterp.cube import ssh_kind as cube_ssh_kind
from oceaninterp.errors import InputError
from oceaninterp.io import open_dataset
from oceaninterp.mdt import mdt_on_grid
from oceaninterp.model.data import (
    TileBatch,
    TrainingData,
    cut,
    grid_variable,
    observations_oi,
    tile_oi,
)
from oceaninterp.model.regions import Region


@dataclass(frozen=True)
class ObservedRegion:
    """A cube prepared for self-supervised training.

    Attributes
    ----------
    region
        The cube as a training region: ``data.obs`` are the observations
        (metres, NaN where unobserved) without the held-out segments,
        ``data.truth`` the held-out observations only (NaN elsewhere), on the
        padded days; every padded day is in the ``train`` and ``val`` periods.
    segments
        ``(days, latitude, longitude)`` segment number of every cell of
        ``data.obs`` (-1 where nothing is observed).
    n_segments
        Number of segments (held-out ones included).
    n_held
        Observed cells held out for validation.
    """

    region: Region
    segments: np.ndarray
    n_segments: int
    n_held: int


def track_segments(observed: np.ndarray, block: int) -> tuple[np.ndarray, int]:
    """Segment number of every observed cell of a ``(days, lat, lon)`` mask, -1 elsewhere.

    A segment is a set of 8-connected observed cells of one day inside one
    ``block`` x ``block`` cell square of a grid starting at cell (0, 0).
    """
    within_day = np.zeros((3, 3, 3), dtype=bool)
    within_day[1] = True
    labels, _ = ndimage.label(observed, structure=within_day)
    _, n_lat, n_lon = observed.shape
    per_row = (n_lon - 1) // block + 1
    blocks = (np.arange(n_lat) // block)[:, None] * per_row + (np.arange(n_lon) // block)[None]
    n_blocks = int(blocks.max()) + 1
    keys = labels.astype(np.int64) * n_blocks + blocks[None]
    unique, number = np.unique(keys[observed], return_inverse=True)
    segments = np.full(observed.shape, -1, dtype=np.int32)
    segments[observed] = number
    return segments, int(unique.size)


def load_observed_region(
    cube_path: str | Path,
    cfg: ModelConfig,
    *,
    segment_deg: float,
    val_share: float,
    seed: int,
    mdt: str | Path | None = None,
) -> ObservedRegion:
    """Read a cube's observations, cut them into segments and hold out ``val_share`` of them.

    Parameters
    ----------
    cube_path
        A cube (``oceaninterp grid`` output): ``ssh`` (metres), ``mask``, optional ``sst``.
    cfg
        The model's configuration (tile days; SST used or not).
    segment_deg
        Side of the blocks cutting the tracks into segments, degrees.
    val_share
        Share of the segments held out for validation (seeded by ``seed``).
    seed
        Seed of the held-out draw.
    mdt
        An MDT to subtract from the observations of an ``adt`` cube (a model
        mapping the SLA); an ``sla`` cube is used as it is.

    Raises
    ------
    InputError
        Naming the cube: a missing variable, no observation, or nothing
        left to hold out or to train on.
    """

    cube_path = Path(cube_path)
    ds = open_dataset(cube_path)
    ssh = grid_variable(ds, cube_path, "ssh")
    obs = ssh.values.astype(np.float32)
    obs[grid_variable(ds, cube_path, "mask").values == 0] = np.nan
    sst = grid_variable(ds, cube_path, "sst").values.astype(np.float32) if cfg.use_sst else None
    lat, lon = ds["latitude"].values, ds["longitude"].values
    kind = cube_ssh_kind(ds, cube_path)
    gridded = None
    if mdt is not None and kind == "adt":  # an SLA cube is already what the model maps
        gridded = mdt_on_grid(mdt, lat, lon, observed=np.asarray(np.isfinite(obs).any(axis=0)))
        obs -= gridded.values
    observed = np.isfinite(obs)
    if not observed.any():
        raise InputError(cube_path, "no observation to learn from")
    resolution = cube_resolution(ds, cube_path)
    block = max(1, int(round(segment_deg / resolution)))
    segments, n_segments = track_segments(observed, block)
    held_out = np.random.default_rng(seed).random(n_segments) < val_share
    held = observed & held_out[np.maximum(segments, 0)]
    if not held.any() or held.sum() == observed.sum():
        raise InputError(
            cube_path,
            f"{n_segments} track segment(s): too few to hold out {val_share:.0%} and train on "
            "the rest",
        )
    segments[held] = -1
    pad = cfg.tile_time // 2
    days = ds["time"].values.astype("datetime64[D]")
    padded_days = np.arange(days[0] - pad, days[-1] + pad + 1)

    def padded(values: np.ndarray) -> np.ndarray:
        return np.pad(values, ((pad, pad), (0, 0), (0, 0)), constant_values=np.nan)

    data = TrainingData(
        obs=padded(np.where(held, np.nan, obs)),
        truth=padded(np.where(held, obs, np.nan)),
        sst=None if sst is None else padded(sst),
        days=padded_days,
        latitude=lat,
        longitude=lon,
        resolution=resolution,
        ssh_kind="sla" if gridded is not None else kind,
        mdt=gridded,
    )
    if cfg.oi_input:  # the OI of what validation shows (the held-out segments left out)
        data = dataclasses.replace(data, oi=observations_oi(data.obs, padded_days, lat, lon))
    every_day = np.arange(padded_days.size)
    periods = {"train": every_day, "val": every_day, "test": np.empty(0, dtype=int)}
    region = Region(cube=cube_path, truth=cube_path, mdt=None, data=data, periods=periods)
    segments = np.pad(segments, ((pad, pad), (0, 0), (0, 0)), constant_values=-1)
    return ObservedRegion(region, segments, n_segments, int(held.sum()))


def hide_segments(
    batch: TileBatch,
    segments: np.ndarray,
    n_segments: int,
    share: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and targets of a self-supervised step: ``share`` of the segments hidden.

    Parameters
    ----------
    batch
        Tiles ``(n, T, H, W)`` of observations (``batch.obs``, metres).
    segments
        The segment numbers of the same tiles (-1 where nothing is observed).
    n_segments
        Number of segments of the cube.
    share
        Probability that a segment is hidden.
    rng
        Draws which segments are hidden.

    Returns
    -------
    inputs, targets
        The observations with the hidden segments removed, and the hidden
        observations alone (NaN elsewhere).
    """
    hidden_segment = rng.random(n_segments) < share
    hidden = (segments >= 0) & hidden_segment[np.maximum(segments, 0)]
    return np.where(hidden, np.nan, batch.obs), np.where(hidden, batch.obs, np.nan)


def segment_tiles(observed: ObservedRegion, origins: np.ndarray, cfg: ModelConfig) -> np.ndarray:
    """The segment numbers of the tiles at ``origins`` ``(n, 4)`` (region, day, row, column)."""
    return cut(observed.segments, origins[:, 1:], cfg)


def shown_oi(observed: ObservedRegion, origins: np.ndarray, inputs: np.ndarray) -> np.ndarray:
    """The OI of each tile's shown observations: an ``oi_input`` model's input in a step.

    Parameters
    ----------
    observed
        The region the tiles are cut from.
    origins
        ``(n, 4)`` tile origins (region, day, row, column).
    inputs
        ``(n, T, H, W)`` the observations shown (metres; the hidden segments NaN),
        so that the OI holds nothing of what the loss scores.
    """
    out = np.empty_like(inputs)
    for k, origin in enumerate(origins):
        out[k] = tile_oi(observed.region.data, origin[1:], inputs[k])
    return out
