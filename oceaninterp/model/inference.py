"""Model inference: a 4DVarNet run over a cube on overlapping tiles, streamed over time.

:func:`predict` is the device half of ``oceaninterp reconstruct`` (the maps,
their grid and their writing stay in :mod:`oceaninterp.reconstruct`):

1. the cube, framed by a margin of unobserved cells (so that no map edge lies
   on a tile edge; on a global cube the margin holds the opposite side, so
   tiles wrap around in longitude), is covered by overlapping tiles
   (:mod:`oceaninterp.tiling`, :class:`~oceaninterp.tiling.TileSpec`);
   tiles wholly on land are skipped;
2. tiles go to the device in batches (bf16 autocast on CUDA only) and are
   merged there by one weighted sum;
3. tiles are streamed over time: the observations of at most
   ``TileSpec.time_window`` days are held at once (read in a background
   thread while the device works), and days are yielded (:class:`MergedDays`)
   as soon as no later tile covers them.

:func:`load_model` loads a checkpoint onto the device; :func:`resolve_device`
is the one reading of ``--device`` (``auto``, ``cpu``, ``cuda``) for
inference and training. Importing this module imports torch.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import dask
import numpy as np
import torch
import xarray as xr

from oceaninterp.cube import is_global
from oceaninterp.errors import ConfigError, InputError
from oceaninterp.kinds import DEVICES
from oceaninterp.model.checkpoint import CheckpointDescription, as_description
from oceaninterp.tiling import TileSpec

if TYPE_CHECKING:
    from oceaninterp.oi import ProgressCallback


class TileModel(Protocol):
    """What :func:`predict` needs of a model (e.g. :class:`~oceaninterp.model.ssh.SSH4DVarNet`)."""

    def to(self, device: torch.device) -> TileModel:
        """The model on ``device``."""
        ...

    def reconstruct(
        self, obs: torch.Tensor, sst: torch.Tensor | None = None, oi: torch.Tensor | None = None
    ) -> torch.Tensor:
        """SSH tiles ``(B, T, H, W)`` in metres from observation (SST, OI map) tiles."""
        ...


@dataclass(frozen=True)
class MergedDays:
    """Days ``[start, start + ssh.shape[0])`` of the cube, merged SSH in metres.

    Attributes
    ----------
    start
        Index of the first day in the cube's ``time``.
    ssh
        float32 ``(days, latitude, longitude)``, metres.
    """

    start: int
    ssh: np.ndarray


def observed_normalisation(model: Any, ssh: xr.DataArray, path: Path | None = None) -> Any:
    """A copy of ``model`` that normalises SSH by the mean and std of the observations ``ssh``.

    A model normalises its inputs and outputs by the SSH mean and std of its
    training truths (one ocean's energy: a Gulf Stream box's 25 cm of SLA
    std). Taken from the observations of the cube mapped instead, the model
    sees a quiet subtropical gyre or an energetic jet at the amplitude it
    was trained on, as the OI scales its prior by a variance estimated from
    the observations (:func:`oceaninterp.oi.signal_std_map`).

    Parameters
    ----------
    model
        A model with ``normalisation()`` and ``set_normalisation(...)``
        (:class:`~oceaninterp.model.ssh.SSH4DVarNet`); left unchanged.
    ssh
        The observations the model maps (metres, NaN where unobserved), of the
        kind it maps (SLA once an MDT is removed).
    path
        The cube, named in errors.

    Raises
    ------
    InputError
        Fewer than two observations, or no spread among them.
    """
    stats = dask.compute(ssh.notnull().sum(), ssh.mean(skipna=True), ssh.std(skipna=True))
    count, mean, std = (float(v) for v in stats)  # one pass over a dask-backed cube
    if count < 2 or not std > 0:
        raise InputError(path, "no spread in the observations to normalise the model by")
    renormalised = copy.deepcopy(model)
    norm = renormalised.normalisation()
    renormalised.set_normalisation(mean, std, norm["sst_mean"], norm["sst_std"])
    return renormalised


def resolve_device(device: str) -> torch.device:
    """The torch device for ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.

    Raises
    ------
    ConfigError
        For another name, or ``"cuda"`` when torch sees no CUDA device.
    """
    if device not in DEVICES:
        raise ConfigError(f"device: expected one of {list(DEVICES)}, got {device!r}")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device: 'cuda' was asked but torch sees no CUDA device")
    return torch.device(device)


def load_model(checkpoint: str | Path | Any, device: str = "auto") -> Any:
    """A checkpoint loaded safely onto ``device`` (:func:`resolve_device`), or as given.

    Parameters
    ----------
    checkpoint
        A checkpoint file (:func:`oceaninterp.model.checkpoint.load_checkpoint`),
        or an already loaded one (any object with ``model`` and ``meta``),
        returned as it is.
    device
        ``"auto"``, ``"cpu"`` or ``"cuda"``.
    """
    if not isinstance(checkpoint, str | Path):
        return checkpoint
    from oceaninterp.model.checkpoint import load_checkpoint

    return load_checkpoint(checkpoint, device=str(resolve_device(device)))


def _groups(starts: np.ndarray, tile_time: int, window: int) -> list[np.ndarray]:
    """Split sorted tile time starts into groups spanning at most ``window`` days."""
    groups: list[list[int]] = [[]]
    for s in starts.tolist():
        if groups[-1] and s + tile_time - groups[-1][0] > window:
            groups.append([])
        groups[-1].append(s)
    return [np.asarray(g, dtype=np.int64) for g in groups]


def _read_days(
    da: xr.DataArray,
    first: int,
    last: int,
    padded: tuple[int, ...],
    margin: tuple[int, int],
    wrap: bool = False,
) -> np.ndarray:
    """Days ``[first, last)`` of a cube variable as float32 in a NaN frame.

    The frame has ``padded`` cells in latitude and longitude; the cube's cells
    start at ``margin`` (latitude, longitude); days past the cube are NaN. With
    ``wrap`` (a global cube) the frame's longitude margins hold the cube's
    opposite side, so tiles see across the dateline.
    """
    n_days = da.sizes["time"]
    out = np.full((last - first, padded[1], padded[2]), np.nan, dtype=np.float32)
    stop = min(last, n_days)
    if stop > first:
        values = np.asarray(da.isel(time=slice(first, stop)).values, dtype=np.float32)
        i, j = margin
        h, w = values.shape[1], values.shape[2]
        out[: stop - first, i : i + h, j : j + w] = values
        if wrap:
            west = min(j, w)
            east = min(padded[2] - j - w, w)
            out[: stop - first, i : i + h, j - west : j] = values[:, :, w - west :]
            out[: stop - first, i : i + h, j + w : j + w + east] = values[:, :, :east]
    return out


def predict(
    cube: xr.Dataset,
    model: TileModel,
    checkpoint: CheckpointDescription | Mapping[str, Any],
    *,
    tiles: TileSpec | None = None,
    device: str = "auto",
    batch_size: int = 4,
    bf16: bool = True,
    progress: ProgressCallback | None = None,
    land: np.ndarray | None = None,
) -> Iterator[MergedDays]:
    """Run a 4DVarNet over a cube on overlapping tiles, yielding merged days in order.

    Parameters
    ----------
    cube
        A cube (contract 3): ``ssh`` (metres, NaN where unobserved), optional
        ``sst`` (kelvin) and, for a model with ``oi_input``, ``oi`` (the OI
        map of ``ssh``, :func:`oceaninterp.model.data.input_map`; metres).
    model
        A module with ``reconstruct(obs, sst, oi) -> Tensor`` (tiles ``(B, T, H, W)``,
        metres), e.g. :class:`oceaninterp.model.ssh.SSH4DVarNet`; moved to ``device``.
    checkpoint
        The checkpoint's description (its ``tile``, ``uses_sst`` and ``oi_input`` are read),
        or the JSON mapping it is read from
        (:func:`oceaninterp.model.checkpoint.as_description`).
    tiles
        Strides, borders and the streaming window (:class:`~oceaninterp.tiling.TileSpec`).
    device
        ``"auto"``, ``"cpu"`` or ``"cuda"``.
    batch_size
        Tiles per call of the model.
    bf16
        Run the model under bfloat16 autocast when the device is CUDA (never on CPU).
    progress
        Called as ``progress(done, total)`` after each batch of tiles.
    land
        Boolean ``(latitude, longitude)``: tiles wholly on land are skipped.
        On a global cube (:func:`oceaninterp.cube.is_global`) the tiles wrap
        around in longitude.

    Yields
    ------
    MergedDays
        Consecutive blocks of days of merged SSH, float32 metres, shape
        ``(days, latitude, longitude)`` of the cube (land not yet masked).
    """
    from oceaninterp.tiling import Merger, TileGrid, extract, flat_indices, separable

    if batch_size < 1:
        raise ConfigError(f"batch_size: expected a positive integer, got {batch_size!r}")
    dev = resolve_device(device)
    spec = tiles or TileSpec()
    shape = {d: cube.sizes[d] for d in ("time", "latitude", "longitude")}
    description = as_description(checkpoint)
    size, stride, border, margin = spec.resolve(dict(description.tile), shape)
    if is_global(cube["longitude"].values):  # a halo of a whole tile border at least
        margin["longitude"] = max(margin["longitude"], border["longitude"], 8)
    framed = {d: shape[d] + 2 * margin[d] for d in shape}
    grid = TileGrid(framed, size, stride, border=border)
    offset = (margin["latitude"], margin["longitude"])
    padded = tuple(grid.padded.values())
    tile_shape = grid.tile_shape()
    n_time = shape["time"]
    use_sst = description.uses_sst and "sst" in cube.data_vars
    if description.oi_input and "oi" not in cube.data_vars:
        raise ConfigError("predict: this checkpoint takes the OI map: give the cube an 'oi'")
    wrap = is_global(cube["longitude"].values)
    if land is not None and land.any():
        sea = np.zeros(padded[1:], dtype=bool)
        sea[offset[0] : offset[0] + land.shape[0], offset[1] : offset[1] + land.shape[1]] = ~land
        _, h, w = tile_shape
        wanted = np.array([sea[i : i + h, j : j + w].any() for _, i, j in grid.starts])
    else:
        wanted = np.ones(len(grid), dtype=bool)
    model = model.to(dev)
    autocast: contextlib.AbstractContextManager[Any] = (
        torch.autocast("cuda", dtype=torch.bfloat16)
        if bf16 and dev.type == "cuda"
        else contextlib.nullcontext()
    )
    window = spec.window_days(size["time"], padded[1] * padded[2])
    groups = _groups(grid.axis_starts["time"], size["time"], window)
    rows = [np.flatnonzero(np.isin(grid.starts[:, 0], g) & wanted) for g in groups]
    total = sum(-(-r.size // batch_size) for r in rows)
    done = 0
    if progress is not None:
        progress(0, total)

    def load(g: np.ndarray):
        first, last = int(g[0]), int(g[-1]) + size["time"]
        obs = _read_days(cube["ssh"], first, last, padded, offset, wrap)
        sst = _read_days(cube["sst"], first, last, padded, offset, wrap) if use_sst else None
        oi = (
            _read_days(cube["oi"], first, last, padded, offset, wrap)
            if description.oi_input
            else None
        )
        return obs, sst, oi

    merger = Merger((0, padded[1], padded[2]), device=dev)
    origin = 0  # absolute day of the merger's first day
    with ThreadPoolExecutor(max_workers=1) as reader:
        pending = reader.submit(load, groups[0])
        for k, (group, group_rows) in enumerate(zip(groups, rows, strict=True)):
            obs_np, sst_np, oi_np = pending.result()
            if k + 1 < len(groups):
                pending = reader.submit(load, groups[k + 1])
            obs = torch.from_numpy(obs_np).to(dev)
            sst = torch.from_numpy(sst_np).to(dev) if sst_np is not None else None
            oi = torch.from_numpy(oi_np).to(dev) if oi_np is not None else None
            merger.extend(0, int(group[-1]) + size["time"] - origin - merger.shape[0])
            for lo in range(0, group_rows.size, batch_size):
                starts_np = grid.starts[group_rows[lo : lo + batch_size]]
                starts = torch.from_numpy(starts_np).to(dev)
                # the observation window and the merger both begin on the
                # group's first day: the same flat indices read one, write the other
                window_starts = starts - torch.tensor([int(group[0]), 0, 0], device=dev)
                index = flat_indices(window_starts, tile_shape, tuple(obs.shape))
                with autocast:
                    pred = model.reconstruct(
                        extract(obs, index),
                        extract(sst, index) if sst is not None else None,
                        extract(oi, index) if oi is not None else None,
                    )
                weights = separable([torch.from_numpy(p).to(dev) for p in grid.profiles(starts_np)])
                merger.add(index, pred.detach().float(), weights)
                done += 1
                if progress is not None:
                    progress(done, total)
            final = int(groups[k + 1][0]) if k + 1 < len(groups) else padded[0]
            merged = merger.pop(0, final - origin)
            keep = max(0, min(final, n_time) - origin)
            if keep:
                i, j = offset
                ssh = merged[:keep, i : i + shape["latitude"], j : j + shape["longitude"]]
                yield MergedDays(origin, ssh.cpu().numpy().astype(np.float32))
            origin = final
