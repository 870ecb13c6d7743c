"""Cube -> SSH maps: a 4DVarNet on overlapping tiles, or the OI baseline.

``reconstruct(cube, output, checkpoint=...)`` is what ``oceaninterp
reconstruct`` runs. With ``method="4dvarnet"``:

1. the checkpoint is loaded safely (:func:`oceaninterp.model.checkpoint.load_checkpoint`)
   and the cube is checked against its description (grid resolution, ``sla``
   or ``adt``, SST when the model uses it); a mismatch is refused with both
   values named, or, with ``resample=True``, a finer cube is coarsened by an
   integer factor to the checkpoint's resolution;
2. the cube, framed by a margin of unobserved cells (so that no map edge lies
   on a tile edge), is covered by overlapping tiles (:mod:`oceaninterp.tiling`,
   :class:`~oceaninterp.config.TileSpec`): the checkpoint's tile length in
   time, every ``time_stride`` days, and a spatial tile as large as the domain
   (up to 256 px) with a cropped border; tiles go to the device in batches
   (bf16 autocast on CUDA only) and are merged there by one weighted sum;
3. tiles are streamed over time: the observations of at most
   ``TileSpec.time_window`` days are held at once (read in a background thread
   while the device works), and each day is written as soon as no later tile
   covers it, so memory does not grow with the number of days (about three
   windows of the grid: 60 days of a 200 x 200 box, 15 days, about 5 GB, of
   the global ocean at 1/20 deg);
4. maps are written with DUACS L4 names (``adt`` + ``ugos``/``vgos`` for an
   ADT cube, ``sla`` + ``ugosa``/``vgosa`` for an SLA cube) through
   :mod:`oceaninterp.products.duacs_l4`. A ``.zarr`` output is a Zarr v3 store
   written region by region; a ``.nc`` output is first written the same way to
   a temporary Zarr store beside it, then converted chunk by chunk to NetCDF-4.
   Either way the final name appears only when complete (atomic rename).

With ``method="oi"`` the cube goes to :func:`oceaninterp.oi.oi_map` and the
maps also carry its formal error ``err_sla``.

With an MDT (``mdt=FILE``, :mod:`oceaninterp.mdt`), as DUACS: the OI, and a
4DVarNet that maps the SLA (trained with an MDT, checkpoint key ``"mdt"``, or
on an SLA cube), map the SLA (an ``adt`` cube minus the MDT; an ``sla`` cube
as it is) and the maps carry
``sla`` + ``ugosa``/``vgosa`` and ``adt = sla + mdt`` + ``ugos``/``vgos``. A
4DVarNet trained without one maps the cube as trained and the MDT only adds the
other variable (``sla = adt - mdt`` for an ADT model). A checkpoint trained
with an MDT is refused without one.

Land rule: a cell is land (NaN in every map) when the cube never observed it
(``count == 0`` on every day) *and* its ``sst`` is NaN on every day. Without an
``sst`` variable the cube says nothing about land and every cell is mapped
(OSSE boxes are all ocean); a never-observed ocean cell between tracks is
interpolated, not masked.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from oceaninterp.config import OIConfig, TileSpec
from oceaninterp.errors import ConfigError, InputError
from oceaninterp.geostrophy import add_geostrophic_velocity
from oceaninterp.io import atomic_path, check_output, open_dataset, output_format, write_dataset
from oceaninterp.mdt import GriddedMDT, mdt_on_grid
from oceaninterp.oi import DEFAULT_CANDIDATES, ProgressCallback, oi_map, tune_oi
from oceaninterp.products import duacs_l4

log = logging.getLogger(__name__)

METHODS = ("4dvarnet", "oi")
DEVICES = ("auto", "cpu", "cuda")
#: Relative tolerance when comparing a cube's resolution with a checkpoint's.
RESOLUTION_RTOL = 1e-3


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


def resolve_device(device: str):
    """The torch device for ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``."""
    import torch

    if device not in DEVICES:
        raise ConfigError(f"device: expected one of {list(DEVICES)}, got {device!r}")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device: 'cuda' was asked but torch sees no CUDA device")
    return torch.device(device)


def cube_resolution(cube: xr.Dataset, path: str | Path | None = None) -> float:
    """The cube's cell size in degrees: its ``resolution`` attribute, else its latitudes."""
    if "resolution" in cube.attrs:
        return float(cube.attrs["resolution"])
    lat = np.asarray(cube["latitude"].values, dtype=np.float64)
    if lat.size < 2:
        raise InputError(path, "no 'resolution' attribute and a single latitude: cell size unknown")
    return float(np.median(np.diff(lat)))


def cube_ssh_kind(cube: xr.Dataset, path: str | Path | None = None) -> str:
    """``"sla"`` or ``"adt"``, from the cube's (or its ``ssh``'s) ``ssh_kind`` attribute."""
    kind = cube.attrs.get("ssh_kind", cube["ssh"].attrs.get("ssh_kind"))
    if kind not in duacs_l4.VELOCITY_NAMES:
        raise InputError(path, f"attribute ssh_kind is {kind!r}; expected 'sla' or 'adt'")
    return str(kind)


def check_cube(cube: xr.Dataset, path: str | Path | None = None) -> None:
    """Check the cube contract: dims, coordinates and an ``ssh`` variable in metres."""
    if "ssh" not in cube.data_vars:
        raise InputError(path, "missing variable 'ssh' (gridded observations in metres)")
    dims = tuple(cube["ssh"].dims)
    if dims != ("time", "latitude", "longitude"):
        raise InputError(
            path, f"variable 'ssh' has dims {dims}; expected (time, latitude, longitude)"
        )
    for name in ("latitude", "longitude"):
        values = cube[name].values
        if values.size > 1 and not np.all(np.diff(values) > 0):
            raise InputError(path, f"coordinate {name!r} is not ascending")


def check_compatible(
    cube: xr.Dataset,
    meta: Mapping[str, Any],
    *,
    cube_path: str | Path | None = None,
    checkpoint_path: str | Path | None = None,
) -> None:
    """Refuse a cube that does not match a checkpoint's description.

    Raises
    ------
    InputError
        Naming the cube and both values, when the resolution (degrees), the
        ``ssh_kind`` or the presence of ``sst`` (for a model using SST) differ.
    """
    ckpt = f"checkpoint {Path(checkpoint_path).name}" if checkpoint_path else "the checkpoint"
    res = cube_resolution(cube, cube_path)
    want = float(meta["resolution"])
    if not np.isclose(res, want, rtol=RESOLUTION_RTOL, atol=0.0):
        raise InputError(
            cube_path,
            f"grid resolution {res:g} deg does not match {ckpt} ({want:g} deg): grid the "
            f"observations at {want:g} deg, or resample (--resample) when {want:g} is a "
            f"multiple of {res:g}",
        )
    kind = cube_ssh_kind(cube, cube_path)
    if kind != meta["ssh_kind"]:
        raise InputError(
            cube_path,
            f"ssh_kind {kind!r} does not match {ckpt} (trained on {meta['ssh_kind']!r}): "
            f"grid the observations with the {meta['ssh_kind']} variable",
        )
    if meta.get("uses_sst") and "sst" not in cube.data_vars:
        raise InputError(
            cube_path, f"no 'sst' variable, but {ckpt} was trained with SST (uses_sst = true)"
        )


def resample_cube(
    cube: xr.Dataset, resolution: float, path: str | Path | None = None
) -> xr.Dataset:
    """Coarsen a cube to ``resolution`` degrees by an integer factor.

    ``ssh`` becomes the count-weighted mean of the observed cells of each block
    (the mean of all observations in the coarse cell), ``count`` their sum,
    ``mask`` ``count > 0``, ``sst`` the mean of its finite cells. Edge cells
    that do not fill a whole block are dropped.

    Raises
    ------
    InputError
        When ``resolution`` is not an integer multiple (>= 2) of the cube's.
    """
    res = cube_resolution(cube, path)
    factor = resolution / res
    k = int(round(factor))
    if k < 2 or not np.isclose(factor, k, rtol=RESOLUTION_RTOL):
        raise InputError(
            path,
            f"cannot resample {res:g} deg to {resolution:g} deg: only coarsening by an "
            "integer factor is supported",
        )

    def blocks(da: xr.DataArray) -> xr.DataArray:
        return da.coarsen(latitude=k, longitude=k, boundary="trim").sum()

    observed = cube["ssh"].notnull()
    count = cube["count"].where(observed, 0) if "count" in cube else observed.astype(np.int32)
    weighted = blocks((cube["ssh"] * count).fillna(0.0))
    total = blocks(count)
    out = xr.Dataset(
        {
            "ssh": (weighted / total.where(total > 0)).astype(np.float32),
            "count": total.astype(np.int32),
            "mask": (total > 0).astype(np.int8),
        }
    )
    if "sst" in cube:
        out["sst"] = (
            cube["sst"].coarsen(latitude=k, longitude=k, boundary="trim").mean().astype(np.float32)
        )
    out.attrs = {**cube.attrs, "resolution": float(resolution)}
    out["ssh"].attrs = dict(cube["ssh"].attrs)
    return out


def land_mask(cube: xr.Dataset) -> np.ndarray:
    """Boolean ``(latitude, longitude)``: True where the cube says land / no data.

    A cell is land when it is never observed (``ssh`` NaN on every day) and its
    ``sst`` is NaN on every day; without ``sst`` nothing is land.
    """
    shape = (cube.sizes["latitude"], cube.sizes["longitude"])
    if "sst" not in cube.data_vars:
        return np.zeros(shape, dtype=bool)
    never_observed = cube["ssh"].isnull().all("time")
    no_sst = cube["sst"].isnull().all("time")
    return np.asarray((never_observed & no_sst).values, dtype=bool)


def _groups(starts: np.ndarray, tile_time: int, window: int) -> list[np.ndarray]:
    """Split sorted tile time starts into groups spanning at most ``window`` days."""
    groups: list[list[int]] = [[]]
    for s in starts.tolist():
        if groups[-1] and s + tile_time - groups[-1][0] > window:
            groups.append([])
        groups[-1].append(s)
    return [np.asarray(g, dtype=np.int64) for g in groups]


def _read_days(
    da: xr.DataArray, first: int, last: int, padded: tuple[int, ...], margin: tuple[int, int]
) -> np.ndarray:
    """Days ``[first, last)`` of a cube variable as float32 in a NaN frame.

    The frame has ``padded`` cells in latitude and longitude; the cube's cells
    start at ``margin`` (latitude, longitude); days past the cube are NaN.
    """
    n_days = da.sizes["time"]
    out = np.full((last - first, padded[1], padded[2]), np.nan, dtype=np.float32)
    stop = min(last, n_days)
    if stop > first:
        values = np.asarray(da.isel(time=slice(first, stop)).values, dtype=np.float32)
        i, j = margin
        out[: stop - first, i : i + values.shape[1], j : j + values.shape[2]] = values
    return out


def predict(
    cube: xr.Dataset,
    model,
    meta: Mapping[str, Any],
    *,
    tiles: TileSpec | None = None,
    device: str = "auto",
    batch_size: int = 4,
    bf16: bool = True,
    progress: ProgressCallback | None = None,
) -> Iterator[MergedDays]:
    """Run a 4DVarNet over a cube on overlapping tiles, yielding merged days in order.

    Parameters
    ----------
    cube
        A cube (contract 3): ``ssh`` (metres, NaN where unobserved), optional ``sst`` (kelvin).
    model
        A module with ``reconstruct(obs, sst) -> Tensor`` (tiles ``(B, T, H, W)``,
        metres), e.g. :class:`oceaninterp.model.ssh.SSH4DVarNet`; moved to ``device``.
    meta
        The checkpoint description: ``tile`` and ``uses_sst`` are read.
    tiles
        Strides, borders and the streaming window (:class:`~oceaninterp.config.TileSpec`).
    device
        ``"auto"``, ``"cpu"`` or ``"cuda"``.
    batch_size
        Tiles per call of the model.
    bf16
        Run the model under bfloat16 autocast when the device is CUDA (never on CPU).
    progress
        Called as ``progress(done, total)`` after each batch of tiles.

    Yields
    ------
    MergedDays
        Consecutive blocks of days of merged SSH, float32 metres, shape
        ``(days, latitude, longitude)`` of the cube (land not yet masked).
    """
    import torch

    from oceaninterp.tiling import Merger, TileGrid, extract, flat_indices, separable

    if batch_size < 1:
        raise ConfigError(f"batch_size: expected a positive integer, got {batch_size!r}")
    dev = resolve_device(device)
    spec = tiles or TileSpec()
    shape = {d: cube.sizes[d] for d in ("time", "latitude", "longitude")}
    size, stride, border, margin = spec.resolve(dict(meta["tile"]), shape)
    framed = {d: shape[d] + 2 * margin[d] for d in shape}
    grid = TileGrid(framed, size, stride, border=border)
    offset = (margin["latitude"], margin["longitude"])
    padded = tuple(grid.padded.values())
    tile_shape = grid.tile_shape()
    n_time = shape["time"]
    use_sst = bool(meta.get("uses_sst")) and "sst" in cube.data_vars
    model = model.to(dev)
    autocast = (
        torch.autocast("cuda", dtype=torch.bfloat16)
        if bf16 and dev.type == "cuda"
        else contextlib.nullcontext()
    )
    window = spec.window_days(size["time"], padded[1] * padded[2])
    groups = _groups(grid.axis_starts["time"], size["time"], window)
    rows = [np.flatnonzero(np.isin(grid.starts[:, 0], g)) for g in groups]
    total = sum(-(-r.size // batch_size) for r in rows)
    done = 0

    def load(g: np.ndarray):
        first, last = int(g[0]), int(g[-1]) + size["time"]
        obs = _read_days(cube["ssh"], first, last, padded, offset)
        sst = _read_days(cube["sst"], first, last, padded, offset) if use_sst else None
        return obs, sst

    merger = Merger((0, padded[1], padded[2]), device=dev)
    origin = 0  # absolute day of the merger's first day
    with ThreadPoolExecutor(max_workers=1) as reader:
        pending = reader.submit(load, groups[0])
        for k, (group, group_rows) in enumerate(zip(groups, rows, strict=True)):
            obs_np, sst_np = pending.result()
            if k + 1 < len(groups):
                pending = reader.submit(load, groups[k + 1])
            obs = torch.from_numpy(obs_np).to(dev)
            sst = torch.from_numpy(sst_np).to(dev) if sst_np is not None else None
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
                        extract(obs, index), extract(sst, index) if sst is not None else None
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


def map_kinds(kind: str, mdt: GriddedMDT | None) -> tuple[str, ...]:
    """The sea-level variables of the maps: the kind mapped, and the other one with an MDT."""
    if mdt is None:
        return (kind,)
    return ("sla", "adt")


def _maps_window(
    cube: xr.Dataset,
    window_ssh: np.ndarray,
    start: int,
    kind: str,
    land: np.ndarray,
    err: np.ndarray | None = None,
    mdt: GriddedMDT | None = None,
) -> xr.Dataset:
    """Days of SSH (metres) as DUACS-named maps with geostrophic velocities, land masked.

    ``window_ssh`` is of ``kind``; with ``mdt`` the other kind is added
    (``adt = sla + mdt``), each with its velocities.
    """
    days = cube["time"].values[start : start + window_ssh.shape[0]]
    ssh = np.where(land, np.nan, window_ssh).astype(np.float32)
    coords = {
        "time": days,
        "latitude": cube["latitude"].values,
        "longitude": cube["longitude"].values,
    }
    dims = ("time", "latitude", "longitude")
    maps = xr.Dataset({kind: (dims, ssh)}, coords=coords)
    if mdt is not None:
        other = "adt" if kind == "sla" else "sla"
        sign = 1.0 if kind == "sla" else -1.0
        maps[other] = (dims, (ssh + sign * mdt.values).astype(np.float32))
    for name in map_kinds(kind, mdt):
        maps = add_geostrophic_velocity(maps, name, *duacs_l4.VELOCITY_NAMES[name])
    if err is not None:
        maps["err_sla"] = (dims, np.where(land, np.nan, err).astype(np.float32))
    return maps


def _template(cube: xr.Dataset, kinds: tuple[str, ...], with_error: bool) -> xr.Dataset:
    """An all-NaN lazy map of the whole cube, to lay out a Zarr store."""
    import dask.array as da

    shape = (cube.sizes["time"], cube.sizes["latitude"], cube.sizes["longitude"])
    chunks = (1, min(shape[1], 1024), min(shape[2], 1024))
    names = [n for k in kinds for n in (k, *duacs_l4.VELOCITY_NAMES[k])]
    names += ["err_sla"] if with_error else []
    dims = ("time", "latitude", "longitude")
    return xr.Dataset(
        {n: (dims, da.full(shape, np.nan, dtype=np.float32, chunks=chunks)) for n in names},
        coords={d: cube[d].values for d in dims},
    )


class _ZarrRegions:
    """Lay out a DUACS-L4 Zarr v3 store for the whole cube, then fill it by days."""

    def __init__(self, store: Path, template: xr.Dataset, attrs: Mapping[str, Any]) -> None:
        self.store = store
        self.attrs = dict(attrs)
        product = duacs_l4.to_product(template, **self.attrs)
        product.to_zarr(
            store,
            mode="w",
            compute=False,
            encoding=duacs_l4.encoding(product, "zarr"),
            zarr_format=3,
            consolidated=False,
        )

    def write(self, maps: xr.Dataset, start: int) -> None:
        product = duacs_l4.to_product(maps, **self.attrs)
        untimed = [v for v in product.variables if "time" not in product[v].dims]
        region = {"time": slice(start, start + maps.sizes["time"])}
        product.drop_vars(untimed).drop_encoding().to_zarr(
            self.store, mode="r+", region=region, zarr_format=3, consolidated=False
        )


def reconstruct(
    cube: str | Path | xr.Dataset,
    output: str | Path,
    *,
    checkpoint: str | Path | Any | None = None,
    method: str = "4dvarnet",
    device: str = "auto",
    batch_size: int = 4,
    tiles: TileSpec | None = None,
    oi_config: OIConfig | None = None,
    tune_days: int = 0,
    tune_truth: str | Path | None = None,
    resample: bool = False,
    bf16: bool = True,
    overwrite: bool = False,
    history: str = "oceaninterp reconstruct",
    progress: ProgressCallback | None = None,
    mdt: str | Path | None = None,
) -> Path:
    """Map SSH from a cube and write DUACS-L4-like maps (NetCDF or Zarr v3).

    Parameters
    ----------
    cube
        A cube file (NetCDF/Zarr, contract 3) or an opened cube dataset.
    output
        ``.nc`` or ``.zarr`` path of the maps.
    checkpoint
        For ``"4dvarnet"``: a checkpoint file, or an already loaded checkpoint
        (any object with ``model`` and ``meta``).
    method
        ``"4dvarnet"`` or ``"oi"``.
    device
        ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
    batch_size
        Tiles per model call.
    tiles
        Tile strides, borders and streaming window; default :class:`TileSpec()`.
    oi_config
        OI parameters for ``"oi"``; default :class:`OIConfig()`.
    tune_days
        For ``"oi"``: when positive, first pick Lx/Ly, Lt and noise by
        cross-validation on withheld observations of the first ``tune_days``
        days (:func:`oceaninterp.oi.tune_oi` over ``DEFAULT_CANDIDATES``).
    tune_truth
        With ``tune_days``, an OSSE truth file (``ssh``, metres, ADT): the
        candidates are scored by their RMSE against it over those days (the
        MDT removed with ``mdt``) instead of by withheld observations.
    resample
        Coarsen a finer cube to the checkpoint's resolution instead of refusing it.
    bf16
        bfloat16 autocast of the model on CUDA (ignored on CPU).
    overwrite
        Replace an existing output.
    history
        The command line, appended to the cube's ``history``.
    progress
        ``progress(done, total)`` after each batch of tiles.
    mdt
        A mean dynamic topography file (:func:`oceaninterp.mdt.mdt_on_grid`):
        map the SLA and add the MDT back, writing both ``sla`` and ``adt``
        (see the module docstring). Required by a checkpoint trained with one.

    Returns
    -------
    Path
        The written maps: ``sla`` or ``adt`` (as mapped; both with ``mdt``),
        geostrophic velocities of each (``ugosa``/``vgosa``, ``ugos``/``vgos``,
        m s-1), and ``err_sla`` for OI; NaN on land (see the module
        docstring). Global attributes ``ssh_kind`` (the kind mapped) and, with
        an MDT, ``mdt`` (its file name) and ``mdt_sha256``.

    Raises
    ------
    InputError
        Unusable cube or MDT, a cube that does not match the checkpoint, or a
        checkpoint trained with an MDT used without ``mdt``.
    """
    if method not in METHODS:
        raise ConfigError(f"method: expected one of {list(METHODS)}, got {method!r}")
    output = check_output(output, overwrite)
    fmt = output_format(output)
    if isinstance(cube, xr.Dataset):
        cube_path, ds = None, cube
    else:
        cube_path = Path(cube)
        ds = open_dataset(cube_path)
    check_cube(ds, cube_path)
    kind = cube_ssh_kind(ds, cube_path)
    attrs: dict[str, Any] = {
        "history": history,
        "parent_history": str(ds.attrs.get("history", "")),
        "source_files": [cube_path] if cube_path else [],
        "ssh_kind": kind,
        "method": method,
    }
    if tune_truth is not None and (method != "oi" or tune_days <= 0):
        raise ConfigError("tune_truth: only with the oi method and tune_days > 0 (--tune N)")
    if method == "oi":
        oi_device = str(resolve_device(device))
        gridded = _grid_mdt(mdt, ds)
        if gridded is not None:
            ds, kind = minus_mdt(ds, kind, gridded)
            attrs = _with_mdt(attrs, gridded, kind)
        cfg = oi_config or OIConfig()
        if tune_days > 0:
            first = ds.isel(time=slice(0, tune_days))
            truth = None if tune_truth is None else _tuning_truth(tune_truth, first, gridded)
            cfg = tune_oi(first, DEFAULT_CANDIDATES, base=cfg, device=oi_device, truth=truth)
            log.info("tuned OI on %d days: %s", min(tune_days, ds.sizes["time"]), cfg)
        attrs["oi_parameters"] = (
            f"lx={cfg.lx} deg, ly={cfg.ly} deg, lt={cfg.lt} days, noise={cfg.noise} m"
        )
        maps = _run_oi(ds, kind, cfg, oi_device, progress, gridded)
        return duacs_l4.write(
            maps,
            output,
            overwrite=overwrite,
            summary="Daily SSH maps by optimal interpolation (Gaussian space-time covariance).",
            **attrs,
        )

    if checkpoint is None:
        raise ConfigError("checkpoint: the 4dvarnet method needs a checkpoint (--checkpoint)")
    loaded = _load(checkpoint, device)
    ckpt_path = checkpoint if isinstance(checkpoint, str | Path) else None
    trained_with = loaded.meta.get("mdt")
    if trained_with and mdt is None:
        name = f"checkpoint {Path(ckpt_path).name}" if ckpt_path else "the checkpoint"
        raise InputError(
            ckpt_path,
            f"{name} was trained on the SLA with an MDT ({trained_with['file']}): give the "
            f"MDT to add back (--mdt FILE, e.g. {trained_with['file']})",
        )
    if resample and not np.isclose(
        cube_resolution(ds, cube_path), float(loaded.meta["resolution"]), rtol=RESOLUTION_RTOL
    ):
        ds = resample_cube(ds, float(loaded.meta["resolution"]), cube_path)
    gridded = _grid_mdt(mdt, ds)
    if trained_with and gridded is not None and gridded.sha256 != trained_with["sha256"]:
        log.warning(
            "%s differs from the MDT the checkpoint was trained with (%s)",
            gridded.path,
            trained_with["file"],
        )
    if gridded is not None and loaded.meta["ssh_kind"] == "sla":
        ds, kind = minus_mdt(ds, kind, gridded)  # the model maps the SLA
    if gridded is not None:
        attrs = _with_mdt(attrs, gridded, kind)
    check_compatible(ds, loaded.meta, cube_path=cube_path, checkpoint_path=ckpt_path)
    land = land_mask(ds)
    attrs["summary"] = "Daily SSH maps by a 4DVarNet (learned variational interpolation)."
    if ckpt_path is not None:
        attrs["checkpoint"] = Path(ckpt_path).name
    windows = predict(
        ds,
        loaded.model,
        loaded.meta,
        tiles=tiles,
        device=device,
        batch_size=batch_size,
        bf16=bf16,
        progress=progress,
    )
    with atomic_path(output) as tmp:
        store = tmp if fmt == "zarr" else Path(tempfile.mkdtemp(dir=output.parent, prefix=".zarr-"))
        try:
            template = _template(ds, map_kinds(kind, gridded), with_error=False)
            sink = _ZarrRegions(store, template, attrs)
            for window in windows:
                maps = _maps_window(ds, window.ssh, window.start, kind, land, mdt=gridded)
                sink.write(maps, window.start)
            if fmt == "netcdf":
                written = open_dataset(store).drop_encoding()
                write_dataset(
                    written, tmp, overwrite=True, encoding=duacs_l4.encoding(written, fmt)
                )
        finally:
            if fmt == "netcdf":
                shutil.rmtree(store, ignore_errors=True)
    return output


def _load(checkpoint: str | Path | Any, device: str):
    """A loaded checkpoint from a path (on ``device``) or as given."""
    if not isinstance(checkpoint, str | Path):
        return checkpoint
    from oceaninterp.model.checkpoint import load_checkpoint

    return load_checkpoint(checkpoint, device=str(resolve_device(device)))


def _run_oi(
    cube: xr.Dataset,
    kind: str,
    cfg: OIConfig,
    device: str,
    progress: ProgressCallback | None,
    mdt: GriddedMDT | None,
) -> xr.Dataset:
    """The OI baseline's maps with DUACS names, velocities and ``err_sla``."""
    result = oi_map(cube, cfg, device=device, progress=progress)
    return _maps_window(
        cube,
        np.asarray(result["ssh"].transpose("time", "latitude", "longitude").values),
        0,
        kind,
        land_mask(cube),
        err=np.asarray(result["err"].transpose("time", "latitude", "longitude").values),
        mdt=mdt,
    )


def _grid_mdt(mdt: str | Path | None, cube: xr.Dataset) -> GriddedMDT | None:
    """The MDT file on the cube's grid, checked over the cells the cube observes."""
    if mdt is None:
        return None
    observed = np.asarray(cube["ssh"].notnull().any("time").values, dtype=bool)
    return mdt_on_grid(mdt, cube["latitude"].values, cube["longitude"].values, observed)


def _tuning_truth(path: str | Path, window: xr.Dataset, mdt: GriddedMDT | None) -> xr.DataArray:
    """The truth of the days of ``window`` on its grid, of the kind the OI maps (metres)."""
    from oceaninterp.model.data import truth_on_grid

    path = Path(path)
    if window.attrs.get("ssh_kind") == "sla" and mdt is None:
        raise ConfigError(
            f"tune_truth: {path.name} is an ADT truth and the cube holds SLA: give the MDT (--mdt)"
        )
    ssh = open_dataset(path)["ssh"]
    days = window["time"].values
    missing = np.setdiff1d(days, ssh["time"].values)
    if missing.size:
        raise InputError(path, f"the truth lacks {missing.size} tuning day(s), e.g. {missing[0]}")
    values = truth_on_grid(ssh.sel(time=days), window, path)
    if mdt is not None:
        values = values - mdt.values
    return xr.DataArray(values, dims=("time", "latitude", "longitude"))


def minus_mdt(cube: xr.Dataset, kind: str, mdt: GriddedMDT) -> tuple[xr.Dataset, str]:
    """The cube's SLA: ``ssh - mdt`` for an ``adt`` cube, an ``sla`` cube as it is.

    Returns the cube (``ssh`` in metres, ``ssh_kind = "sla"``; lazy when the
    cube is) and ``"sla"``.
    """
    if kind == "sla":
        return cube, kind
    field = xr.DataArray(mdt.values, dims=("latitude", "longitude"))
    ssh = (cube["ssh"] - field).astype(np.float32)
    ssh.attrs = {**cube["ssh"].attrs, "ssh_kind": "sla"}
    return cube.assign(ssh=ssh).assign_attrs(ssh_kind="sla"), "sla"


def _with_mdt(attrs: dict[str, Any], mdt: GriddedMDT, kind: str) -> dict[str, Any]:
    """Global attributes of maps made with an MDT (``kind``: the variable mapped)."""
    return {
        **attrs,
        "source_files": [*attrs["source_files"], mdt.path],
        "ssh_kind": kind,
        "mdt": mdt.path.name,
        "mdt_sha256": mdt.sha256,
    }
