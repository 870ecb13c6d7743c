"""The work of one unit, as plain functions of paths.

These run in the driving process or on a dask.distributed worker; they take
and return only paths and small values (workers share the file system), write
every output atomically, and raise on failure (the runner reports it).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from oceaninterp.config import OIConfig
from oceaninterp.errors import InputError
from oceaninterp.kinds import Device, Method, Normalisation

logger = logging.getLogger(__name__)

#: Global attributes of the window's maps kept in each day's map file.
MAP_ATTRS = ("method", "ssh_kind", "mdt", "mdt_sha256", "land_mask_source", "comment")


def grid_day(
    inputs: list[str],
    sst: list[str],
    output: str,
    spec: dict[str, Any],
    variable: str,
    history: str,
    land_mask: bool | str = False,
) -> dict[str, Any]:
    """Grid the observations of one day into the cube file ``output``.

    Parameters
    ----------
    inputs, sst
        Observation and SST files holding data of that day.
    output
        The cube file (NetCDF), replaced atomically.
    spec
        The fields of a one-day :class:`~oceaninterp.config.GridSpec`.
    variable
        The sea-level variable read (e.g. ``"adt"``).
    history
        The ``history`` line of the cube.
    land_mask
        As for :func:`oceaninterp.grid.grid_files`: True (the GSHHG coastline),
        a land mask file, or False (none).

    Returns
    -------
    dict
        ``{"n_obs": observations binned, "observed_cells": cells with one}``.
    """
    import dask

    from oceaninterp.config import GridSpec
    from oceaninterp.grid import grid_files

    # One day is one small chunk: compute it in this thread, also on a dask worker.
    with dask.config.set(scheduler="synchronous"):
        summary = grid_files(
            [Path(p) for p in inputs],
            Path(output),
            GridSpec(**spec),
            variable=variable,
            sst=[Path(p) for p in sst],
            on_error="fail",
            overwrite=True,
            history=history,
            land_mask=land_mask,
        )
    return {"n_obs": summary.points, "observed_cells": summary.observed_cells}


def _open_day(path: str) -> xr.Dataset:
    """One cube day in memory, without its time bounds (rebuilt for the window)."""
    from oceaninterp.io import open_dataset

    with open_dataset(path) as ds:
        return ds.drop_vars([v for v in ("time_bnds",) if v in ds.variables]).load()


def _empty_day(template: xr.Dataset, day: np.datetime64) -> xr.Dataset:
    """A cube day without observations, shaped like ``template`` (one day).

    Floating variables (``ssh``, ``sst``) are NaN, integer ones (``count``,
    ``mask``) zero; variables without time (``land``) are the template's.
    """
    empty = xr.zeros_like(template.isel(time=[0]))
    for name, var in empty.data_vars.items():
        if "time" not in var.dims:
            empty[name] = template[name]
        elif var.dtype.kind == "f":
            empty[name] = var.where(False)
    return empty.assign_coords(time=[day])


def assemble_window(cubes: list[tuple[str, str | None]]) -> xr.Dataset:
    """Concatenate one-day cube files into a window cube; days without a file are empty.

    Parameters
    ----------
    cubes
        ``(ISO day, cube file or None)`` for every day of the window, in order.

    Raises
    ------
    InputError
        When no day of the window has a cube (no observation at all).
    """
    present = {day: _open_day(path) for day, path in cubes if path is not None}
    if not present:
        raise InputError(None, f"no observations from {cubes[0][0]} to {cubes[-1][0]}")
    template = next(iter(present.values()))
    days = []
    for day, _ in cubes:
        ds = present.get(day)
        days.append(ds if ds is not None else _empty_day(template, np.datetime64(day, "ns")))
    window = xr.concat(
        days,
        dim="time",
        data_vars="minimal",
        coords="minimal",
        compat="override",
        combine_attrs="drop_conflicts",
    )
    sources = sorted(
        {
            name.strip()
            for ds in present.values()
            for name in str(ds.attrs.get("source_files", "")).split(",")
            if name.strip()
        }
    )
    window.attrs["source_files"] = ", ".join(sources)
    return window


def select_device(requested: Device) -> str:
    """The device a reconstruction uses here: on a dask worker, its own GPU.

    ``"auto"`` means a GPU when one is visible; on a dask.distributed worker
    named by an integer (a LocalCluster's workers are 0..N-1) with several
    GPUs visible, worker ``i`` makes GPU ``i % n`` its current CUDA device, so
    N workers on an N-GPU machine use one GPU each. Workers started one per GPU
    with ``CUDA_VISIBLE_DEVICES`` (``dask cuda-worker``, or ``dask worker``
    under a per-GPU environment) see one GPU and use it.
    """
    if requested != "auto":
        return requested
    import torch

    if not torch.cuda.is_available():
        return "cpu"
    try:
        from distributed import get_worker

        name = str(get_worker().name)
    except (ImportError, ValueError):
        return "cuda"
    if name.isdigit():
        torch.cuda.set_device(int(name) % torch.cuda.device_count())
    return "cuda"


def write_map_day(maps: xr.Dataset, day: str, output: Path, **attrs: Any) -> Path:
    """Write the maps of ``day`` (one time step of ``maps``) as a DUACS-L4-like file.

    Parameters
    ----------
    maps
        Maps over several days, with DUACS L4 variable names.
    day
        ISO day to write.
    output
        The day's file, replaced atomically.
    **attrs
        Global attributes for :func:`oceaninterp.products.duacs_l4.to_product`.
    """
    from oceaninterp.products import duacs_l4

    names = [v for v in maps.data_vars if v in duacs_l4.VARIABLES]
    one = maps[names].sel(time=[np.datetime64(day, "ns")]).load()
    return duacs_l4.write(one, output, overwrite=True, **attrs)


def reconstruct_block(
    cubes: list[tuple[str, str | None]],
    outputs: list[tuple[str, str]],
    *,
    method: Method,
    checkpoint: str | None,
    device: Device,
    oi: OIConfig | None,
    work_dir: str,
    history: str,
    mdt: str | None = None,
    land: str = "coastline",
    progress: Callable[[int, int], None] | None = None,
    normalise: Normalisation = "checkpoint",
    oi_weight: float = 0.0,
) -> list[str]:
    """Map the days of ``outputs`` from the window of ``cubes``.

    The window cube is mapped by :func:`oceaninterp.reconstruct.reconstruct`
    into ``work_dir`` (removed afterwards) and each day of ``outputs`` is
    written to its own DUACS-L4-like file.

    Parameters
    ----------
    cubes
        ``(ISO day, cube file or None)`` for every day of the window.
    outputs
        ``(ISO day, map file)`` for every day to write.
    method, checkpoint, device
        As for :func:`oceaninterp.reconstruct.reconstruct` (``device="auto"``:
        see :func:`select_device`).
    oi
        OI settings (``None``: the defaults).
    work_dir
        A scratch folder private to this call.
    history
        The ``history`` line of the maps (e.g. ``"oceaninterp run sample"``).
    mdt
        A mean dynamic topography file, as for
        :func:`oceaninterp.reconstruct.reconstruct`, or ``None``.
    land
        ``reconstruct(land=...)``: ``"coastline"`` (the cube's ``land``, else
        the GSHHG coastline), ``"none"`` or a land mask file.
    progress
        ``progress(done, total)`` of the reconstruction (OI blocks or tile
        batches), as for :func:`oceaninterp.reconstruct.reconstruct`.
    normalise
        ``reconstruct(normalise=...)``: the 4DVarNet's SSH mean and std,
        its checkpoint's or the window's observations'.
    oi_weight
        ``reconstruct(oi_weight=...)``: the OI's share in a 4DVarNet's maps.

    Returns
    -------
    list of str
        The map files written.
    """
    from oceaninterp.io import open_dataset
    from oceaninterp.reconstruct import reconstruct

    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    try:
        maps_path = reconstruct(
            assemble_window(cubes),
            work / "maps.nc",
            checkpoint=None if checkpoint is None else Path(checkpoint),
            method=method,
            device=select_device(device),
            oi_config=oi,
            overwrite=True,
            history=history,
            mdt=None if mdt is None else Path(mdt),
            land=land,
            progress=progress,
            normalise=normalise,
            oi_weight=oi_weight,
        )
        sources = [Path(p).name for _, p in cubes if p is not None]
        sources += [] if mdt is None else [Path(mdt).name]
        with open_dataset(maps_path) as maps:
            attrs = {k: maps.attrs[k] for k in MAP_ATTRS if k in maps.attrs}
            written = [
                str(
                    write_map_day(
                        maps, day, Path(out), history=history, source_files=sources, **attrs
                    )
                )
                for day, out in outputs
            ]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return written


def join_days(files: list[str], output: Path) -> Path:
    """Join one-day DUACS-L4-like map files (in time order) into one file."""
    from oceaninterp.io import open_dataset
    from oceaninterp.products import duacs_l4

    days = [open_dataset(p) for p in files]
    try:
        names = [v for v in days[0].data_vars if v in duacs_l4.VARIABLES]
        joined = xr.concat(
            [d[names] for d in days],
            dim="time",
            data_vars="minimal",
            coords="minimal",
            compat="override",
            combine_attrs="override",
        )
        return duacs_l4.write(
            joined,
            output,
            overwrite=True,
            **{k: days[0].attrs[k] for k in MAP_ATTRS if k in days[0].attrs},
        )
    finally:
        for d in days:
            d.close()


def score_all(
    maps: dict[str, list[str]],
    *,
    truth: str | None,
    tracks: list[str],
    output_dir: str,
    work_dir: str,
) -> list[dict[str, Any]]:
    """Score the daily maps of every method, side by side, against the truth or tracks.

    Parameters
    ----------
    maps
        Method name -> its daily map files, in time order.
    truth, tracks
        The reference (see :func:`oceaninterp.report.score_maps`).
    output_dir
        Where ``scores.json``, ``scores.csv`` and the figures go (replaced).
    work_dir
        A scratch folder private to this call (the joined maps, removed afterwards).

    Returns
    -------
    list of dict
        One score record per method (``name`` is the method's name).
    """
    from oceaninterp.report import score_maps

    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    try:
        joined = [join_days(files, work / f"{name}.nc") for name, files in maps.items()]
        return score_maps(
            joined,
            truth=truth,
            tracks=tracks,
            output_dir=output_dir,
            names=list(maps),
            overwrite=True,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
