"""Cube -> SSH maps: a 4DVarNet on overlapping tiles, or the OI baseline.

``reconstruct(cube, output, checkpoint=...)`` is what ``oceaninterp
reconstruct`` runs. The cube is opened and validated by :mod:`oceaninterp.cube`,
which also says where land is (the cube's ``land``, else the GSHHG coastline
or a mask file, plus an SST's or an MDT's own land): observations on land are
dropped and land is masked in every map. With ``method="4dvarnet"``:

1. the checkpoint is loaded safely (:func:`oceaninterp.model.checkpoint.load_checkpoint`);
   with ``resample=True`` a cube finer or coarser than the checkpoint is
   re-gridded to its resolution from cell sums and counts
   (:func:`oceaninterp.cube.regrid`); then the cube is checked against the
   description (resolution, ``sla``/``adt``, SST when the model uses it).
   A model of the SLA maps an SLA cube as it is, and an ADT cube minus the
   MDT (``mdt=FILE``, required then); a model of the ADT the reverse.
2. latitude rows outside every band of the checkpoint's latitudes
   (:func:`oceaninterp.model.checkpoint.latitude_bands`) are not silently
   mapped by it: ``outside="oi"`` (default) maps them by the OI and says so,
   ``"refuse"`` stops, ``"apply"`` uses the model anyway;
3. :func:`oceaninterp.model.inference.predict` maps overlapping tiles on the
   device and yields blocks of days, streamed over time, each written as it
   comes (:func:`oceaninterp.products.duacs_l4.streaming_writer`) with DUACS
   L4 names (``adt`` + ``ugos``/``vgos``, ``sla`` + ``ugosa``/``vgosa``; both
   with an MDT, ``adt = sla + mdt``), on the cube's grid or on the grid of
   ``output_resolution`` degrees, atomically.

With ``method="oi"`` the cube (the SLA when an MDT is given) goes to
:func:`oceaninterp.oi.oi_map` and the maps also carry its formal error ``err_sla``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from oceaninterp.config import OIConfig
from oceaninterp.cube import (
    COASTLINE,
    DIMS,
    NO_LAND,
    RESOLUTION_RTOL,
    LandSource,
    check_compatible,
    drop_land,
    land_cells,
    land_source_name,
    regrid,
    resolution,
    ssh_kind,
    target_axis,
    to_kind,
    validate,
)
from oceaninterp.errors import ConfigError, InputError
from oceaninterp.io import check_output, open_dataset
from oceaninterp.kinds import METHODS, NORMALISATIONS, Normalisation
from oceaninterp.maps import OutputGrid, map_kinds, maps_window
from oceaninterp.mdt import GriddedMDT, mdt_on_grid
from oceaninterp.model.checkpoint import CheckpointDescription, as_description
from oceaninterp.model.data import input_map
from oceaninterp.model.inference import (
    load_model,
    observed_normalisation,
    predict,
    resolve_device,
)
from oceaninterp.oi import DEFAULT_CANDIDATES, ProgressCallback, oi_map, tune_oi
from oceaninterp.products import duacs_l4
from oceaninterp.tiling import TileSpec

log = logging.getLogger(__name__)

#: What ``reconstruct`` does with latitudes outside a checkpoint's (``--outside``).
OUTSIDE = ("oi", "refuse", "apply")


#: Cells (days x latitude x longitude) turned into maps at once: bounds the memory
#: of velocities and writing (about 1 GB) whatever the domain.
MAP_CELLS = 12_000_000


@dataclass(frozen=True)
class _Prepared:
    """A cube ready to map: of the kind mapped, its land dropped, and where maps go."""

    cube: xr.Dataset
    kind: str
    land: np.ndarray
    grid: OutputGrid
    attrs: dict[str, Any]
    mdt: GriddedMDT | None


def _prepare(
    ds: xr.Dataset,
    cube_path: Path | None,
    attrs: dict[str, Any],
    *,
    mapped_kind: str | None,
    mapper: str = "the method",
    mdt: str | Path | None,
    land: LandSource,
    output_resolution: float | None,
) -> _Prepared:
    """The MDT on the grid, the cube brought to ``mapped_kind``, land found and dropped.

    ``mapped_kind`` is the kind the method maps (``None``: the SLA with an
    MDT, else the cube's kind).
    """
    kind = ssh_kind(ds, cube_path)
    lat, lon = ds["latitude"].values, ds["longitude"].values
    gridded = None if mdt is None else mdt_on_grid(mdt, lat, lon)
    target = mapped_kind or ("sla" if gridded is not None else kind)
    if target != kind:
        if gridded is None:
            raise InputError(
                cube_path,
                f"the cube holds {kind} and {mapper} maps {target}: give the MDT (--mdt) to "
                f"go from one to the other, or grid the observations as {target}",
            )
        ds, kind = to_kind(ds, kind, target, gridded.values)
        attrs = {**attrs, "ssh_kind": kind}
    cells = land_cells(ds, land, None if gridded is None else gridded.values)
    observed = np.asarray(ds["ssh"].notnull().any("time").values, dtype=bool)
    if (cells & observed).any():
        log.warning(
            "%s: observations on %d land cell(s) dropped (land mask: %s)",
            cube_path or "cube",
            int((cells & observed).sum()),
            land_source_name(land),
        )
    if cells.all():
        raise InputError(cube_path, "the cube holds no ocean cell (all land)")
    ds = drop_land(ds, cells)
    if gridded is not None:
        attrs = {
            **attrs,
            "source_files": [*attrs["source_files"], gridded.path],
            "mdt": gridded.path.name,
            "mdt_sha256": gridded.sha256,
        }
    attrs["land_mask_source"] = land_source_name(land)
    grid = OutputGrid(lat, lon, cells, gridded)
    if output_resolution is not None and not np.isclose(
        output_resolution, resolution(ds, cube_path), rtol=RESOLUTION_RTOL
    ):
        grid = _output_grid(ds, cube_path, cells, output_resolution, land, mdt)
    return _Prepared(ds, kind, cells, grid, attrs, gridded)


def _output_grid(
    ds: xr.Dataset,
    cube_path: Path | None,
    cells: np.ndarray,
    new_resolution: float,
    land: LandSource,
    mdt: str | Path | None,
) -> OutputGrid:
    """The maps' grid at ``new_resolution`` degrees over the cube's extent."""
    from oceaninterp import landmask

    res = resolution(ds, cube_path)
    lat, lon = ds["latitude"].values, ds["longitude"].values
    out_lat = target_axis(lat, res, new_resolution)
    out_lon = target_axis(lon, res, new_resolution)
    gridded = None if mdt is None else mdt_on_grid(mdt, out_lat, out_lon)
    source = (np.asarray(lat), np.asarray(lon))
    probe = OutputGrid(out_lat, out_lon, np.zeros((out_lat.size, out_lon.size), bool), None, source)
    sea = probe.convert((~cells)[None].astype(np.float32))[0]
    out_land = ~(sea > 0.5)
    if str(land) not in (COASTLINE, NO_LAND) or (str(land) == COASTLINE and "land" not in ds):
        out_land |= landmask.land_mask(out_lat, out_lon, None if str(land) == COASTLINE else land)
    if gridded is not None:
        out_land |= ~np.isfinite(gridded.values)
    return OutputGrid(out_lat, out_lon, out_land, gridded, source)


def _latitude_rows(
    lat: np.ndarray, checkpoint: CheckpointDescription, outside: str, where: str
) -> np.ndarray:
    """Boolean rows of ``lat`` outside every latitude band of the checkpoint, after ``outside``.

    Raises
    ------
    InputError
        With ``outside="refuse"``, when some rows are outside.
    """
    rows = checkpoint.outside(lat)
    if not rows.any():
        return rows
    bands = ", ".join(f"{south:g}..{north:g} N" for south, north in checkpoint.latitude_bands)
    text = (
        f"{int(rows.sum())} of {lat.size} latitude rows ({lat[rows].min():g}..{lat[rows].max():g} "
        f"N) lie outside the latitudes {where} was trained on ({bands})"
    )
    if outside == "refuse":
        raise InputError(
            None,
            f"{text}: map them with the OI (--outside oi) or apply the model there anyway "
            "(--outside apply)",
        )
    if outside == "apply":
        log.warning("%s: the model is applied there anyway (--outside apply)", text)
        return np.zeros(lat.size, dtype=bool)
    log.warning("%s: the OI maps them (--outside oi)", text)
    return rows


def _oi_rows(
    cube: xr.Dataset,
    rows: np.ndarray,
    start: int,
    n_days: int,
    cfg: OIConfig,
    device: str,
    land: np.ndarray,
) -> np.ndarray:
    """The OI of days ``[start, start + n_days)`` on the latitude ``rows`` (metres; NaN elsewhere).

    The OI runs on the rows plus a halo of ``cfg.space_cutoff * ly`` degrees
    and ``cfg.time_window * lt`` days of observations around them.
    """
    lat = cube["latitude"].values
    res = resolution(cube)
    halo_rows = int(np.ceil(cfg.space_cutoff * cfg.ly / res))
    halo_days = int(np.ceil(cfg.time_window * cfg.lt))
    out = np.full((n_days, lat.size, cube.sizes["longitude"]), np.nan, dtype=np.float32)
    index = np.flatnonzero(rows)
    breaks = np.flatnonzero(np.diff(index) > 1)
    for part in np.split(index, breaks + 1):
        lo, hi = int(part[0]), int(part[-1]) + 1
        first = max(0, start - halo_days)
        lo_y, hi_y = max(0, lo - halo_rows), hi + halo_rows
        sub = cube.isel(time=slice(first, start + n_days + halo_days), latitude=slice(lo_y, hi_y))
        if not bool(sub["ssh"].notnull().any()):
            continue
        ssh = np.asarray(oi_map(sub, cfg, device=device, land=land[lo_y:hi_y])["ssh"].values)
        i0 = lo - max(0, lo - halo_rows)
        out[:, lo:hi] = ssh[start - first : start - first + n_days, i0 : i0 + hi - lo]
    return out


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
    land: LandSource = COASTLINE,
    outside: str = "oi",
    output_resolution: float | None = None,
    normalise: Normalisation = "checkpoint",
    oi_weight: float = 0.0,
) -> Path:
    """Map SSH from a cube and write DUACS-L4-like maps (NetCDF or Zarr v3).

    Parameters
    ----------
    cube
        A cube file (NetCDF/Zarr, :mod:`oceaninterp.cube`) or an opened cube dataset.
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
        OI parameters for ``"oi"`` (and for the OI outside a checkpoint's
        latitudes); default :class:`OIConfig()`.
    tune_days
        For ``"oi"``: when positive, first pick Lx/Ly, Lt and noise by
        cross-validation on withheld observations of the first ``tune_days``
        days (:func:`oceaninterp.oi.tune_oi` over ``DEFAULT_CANDIDATES``).
    tune_truth
        With ``tune_days``, a gridded truth (any file
        :func:`oceaninterp.truth.open_truth` reads: ``ssh``, ``adt``, ``sla``,
        ``zos``, ``sossheig``; metres): the candidates are scored by their
        RMSE against it over those days (the MDT removed from an ADT truth
        with ``mdt``) instead of by withheld observations.
    resample
        Re-grid a cube finer or coarser than the checkpoint onto its
        resolution (:func:`oceaninterp.cube.regrid`) instead of refusing it.
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
        map the SLA and add the MDT back, writing both ``sla`` and ``adt``.
        Needed to map an ADT cube with a model of the SLA; its NaN cells are land.
    land
        :data:`~oceaninterp.cube.COASTLINE` (default: the cube's ``land``, else
        the GSHHG coastline), :data:`~oceaninterp.cube.NO_LAND`, or a mask file.
    outside
        Latitude rows outside a checkpoint's latitudes: ``"oi"`` (mapped by
        the OI, with a warning), ``"refuse"`` or ``"apply"`` (the model anyway).
    output_resolution
        Write the maps on a grid of this many degrees over the cube's extent
        (e.g. 0.125 or 0.25 as DUACS), velocities computed on it.
    normalise
        The 4DVarNet's SSH mean and std: ``"checkpoint"`` (its training's) or
        ``"observations"`` (the cube's observations', as mapped:
        :func:`oceaninterp.model.inference.observed_normalisation`); recorded
        in the maps' ``comment``.
    oi_weight
        For ``"4dvarnet"``: the map is ``(1 - oi_weight) * 4DVarNet + oi_weight
        * OI``, the OI of the cube with default settings (the one an
        ``oi_input`` model takes as input): an equal-weight ensemble at 0.5,
        which shrinks the model's departures from the OI where they are not
        to be trusted (data unlike its training). 0 (default): the model alone.
        Recorded in the maps' ``comment``.

    Returns
    -------
    Path
        The written maps: ``sla`` or ``adt`` (as mapped; both with ``mdt``),
        geostrophic velocities of each (``ugosa``/``vgosa``, ``ugos``/``vgos``,
        m/s), and ``err_sla`` for OI; land masked. Global attributes
        ``ssh_kind`` (the kind mapped), ``land_mask_source`` and, with an MDT,
        ``mdt`` (its file name) and ``mdt_sha256``.

    Raises
    ------
    InputError
        Unusable cube, MDT or land mask, a cube of another kind than the model
        maps without an MDT, a cube with no ocean, rows outside the
        checkpoint's latitudes with ``outside="refuse"``.
    """
    if method not in METHODS:
        raise ConfigError(f"method: expected one of {list(METHODS)}, got {method!r}")
    if outside not in OUTSIDE:
        raise ConfigError(f"outside: expected one of {list(OUTSIDE)}, got {outside!r}")
    if normalise not in NORMALISATIONS:
        raise ConfigError(f"normalise: expected one of {list(NORMALISATIONS)}, got {normalise!r}")
    if not 0.0 <= oi_weight <= 1.0:
        raise ConfigError(f"oi_weight: expected a number in 0..1, got {oi_weight!r}")
    if oi_weight and method != "4dvarnet":
        raise ConfigError("oi_weight: only for the 4dvarnet method")
    inputs = [p for p in (cube, checkpoint, mdt, tune_truth, land) if isinstance(p, str | Path)]
    output = check_output(output, overwrite, inputs=inputs)
    if isinstance(cube, xr.Dataset):
        cube_path, ds = None, validate(cube)
    else:
        cube_path = Path(cube)
        ds = validate(open_dataset(cube_path), cube_path)
    attrs: dict[str, Any] = {
        "history": history,
        "parent_history": str(ds.attrs.get("history", "")),
        "source_files": [cube_path] if cube_path else [],
        "ssh_kind": ssh_kind(ds, cube_path),
        "method": method,
        "platform": str(ds.attrs.get("platform", "")),
    }
    if tune_truth is not None and (method != "oi" or tune_days <= 0):
        raise ConfigError("tune_truth: only with the oi method and tune_days > 0 (--tune N)")
    options: dict[str, Any] = {"mdt": mdt, "land": land, "output_resolution": output_resolution}
    if method == "oi":
        ready = _prepare(ds, cube_path, attrs, mapped_kind=None, **options)
        return _reconstruct_oi(
            ready, output, oi_config, tune_days, tune_truth, device, progress, overwrite
        )
    if checkpoint is None:
        raise ConfigError("checkpoint: the 4dvarnet method needs a checkpoint (--checkpoint)")
    loaded = load_model(checkpoint, device)
    ckpt_path = Path(checkpoint) if isinstance(checkpoint, str | Path) else None
    description = as_description(loaded.meta)  # a loaded checkpoint, or any object with meta
    want = description.resolution
    if resample and not np.isclose(resolution(ds, cube_path), want, rtol=RESOLUTION_RTOL):
        ds = regrid(ds, want, cube_path)
    where = f"checkpoint {ckpt_path.name}" if ckpt_path else "the checkpoint"
    ready = _prepare(
        ds, cube_path, attrs, mapped_kind=description.ssh_kind, mapper=where, **options
    )
    check_compatible(ready.cube, description, cube_path=cube_path, checkpoint_path=ckpt_path)
    oi_rows = _latitude_rows(ready.cube["latitude"].values, description, outside, where)
    ready.attrs["summary"] = "Daily SSH maps by a 4DVarNet (learned variational interpolation)."
    if ckpt_path is not None:
        ready.attrs["checkpoint"] = ckpt_path.name
    comments = []
    if oi_rows.any():
        comments.append(
            "Latitudes outside those the 4DVarNet was trained on are mapped by optimal "
            f"interpolation: {ready.cube['latitude'].values[oi_rows].min():g} .. "
            f"{ready.cube['latitude'].values[oi_rows].max():g} degrees_north rows."
        )
    model = loaded.model
    if normalise == "observations":
        model = observed_normalisation(model, ready.cube["ssh"], cube_path)
        used, trained = model.normalisation(), loaded.model.normalisation()
        comments.append(
            f"The 4DVarNet normalised SSH by the observations' mean {used['mean']:.4f} m and "
            f"std {used['std']:.4f} m (its training's std: {trained['std']:.4f} m)."
        )
        log.info("%s", comments[-1])
    if oi_weight:
        comments.append(
            f"The map is {1 - oi_weight:g} x the 4DVarNet + {oi_weight:g} x the optimal "
            "interpolation of its observations (default OI settings)."
        )
    if comments:
        ready.attrs["comment"] = " ".join(comments)
    if description.oi_input or oi_weight:  # the model's second input, as in training
        ready.cube["oi"] = (
            ("time", "latitude", "longitude"),
            input_map(ready.cube, device=str(resolve_device(device)), land=ready.land),
        )
    windows = predict(
        ready.cube,
        model,
        description,
        tiles=tiles,
        device=device,
        batch_size=batch_size,
        bf16=bf16,
        progress=progress,
        land=ready.land | oi_rows[:, None],
    )
    oi_cfg, oi_device = oi_config or OIConfig(), str(resolve_device(device))
    days = ready.cube["time"].values
    grid = ready.grid
    template = duacs_l4.template(
        days, grid.latitude, grid.longitude, map_kinds(ready.kind, grid.mdt)
    )
    with duacs_l4.streaming_writer(output, template, overwrite=overwrite, **ready.attrs) as sink:
        for window in windows:
            ssh = window.ssh
            n = ssh.shape[0]
            if oi_weight:
                blended = ready.cube["oi"].values[window.start : window.start + n]
                ssh = (1.0 - oi_weight) * ssh + oi_weight * blended
            if oi_rows.any():
                oi = _oi_rows(ready.cube, oi_rows, window.start, n, oi_cfg, oi_device, ready.land)
                ssh = np.where(oi_rows[None, :, None], oi, ssh)
            # maps (and their float64 velocity temporaries) a few days at a time
            step = max(1, MAP_CELLS // (grid.latitude.size * grid.longitude.size))
            for lo in range(0, n, step):
                start = window.start + lo
                span = days[start : start + min(step, n - lo)]
                maps = maps_window(span, ssh[lo : lo + step], ready.kind, grid)
                sink.write(maps, start)
    return output


def _reconstruct_oi(
    ready: _Prepared,
    output: Path,
    oi_config: OIConfig | None,
    tune_days: int,
    tune_truth: str | Path | None,
    device: str,
    progress: ProgressCallback | None,
    overwrite: bool,
) -> Path:
    """The OI path of :func:`reconstruct`: tune if asked, map, write."""
    oi_device = str(resolve_device(device))
    ds = ready.cube
    cfg = oi_config or OIConfig()
    if tune_days > 0:
        first = ds.isel(time=slice(0, tune_days))
        truth = None
        if tune_truth is not None:
            truth = _tuning_truth(tune_truth, first, ready.mdt)
        cfg = tune_oi(first, DEFAULT_CANDIDATES, base=cfg, device=oi_device, truth=truth)
        log.info("tuned OI on %d days: %s", min(tune_days, ds.sizes["time"]), cfg)
    result = oi_map(ds, cfg, device=oi_device, progress=progress, land=ready.land)
    attrs = {
        **ready.attrs,
        "oi_parameters": f"lx={cfg.lx} deg, ly={cfg.ly} deg, lt={cfg.lt} days, "
        f"noise={cfg.noise} m, signal_std={result.attrs['oi_signal_std']}",
    }
    maps = maps_window(
        ds["time"].values,
        np.asarray(result["ssh"].transpose(*DIMS).values),
        ready.kind,
        ready.grid,
        err=np.asarray(result["err"].transpose(*DIMS).values),
    )
    return duacs_l4.write(
        maps,
        output,
        overwrite=overwrite,
        summary="Daily SSH maps by optimal interpolation (Gaussian space-time covariance).",
        **attrs,
    )


def _tuning_truth(path: str | Path, window: xr.Dataset, mdt: GriddedMDT | None) -> xr.DataArray:
    """The truth of the days of ``window`` on its grid, of the kind the OI maps (metres)."""
    from oceaninterp.model.data import truth_on_grid
    from oceaninterp.truth import open_truth

    path = Path(path)
    ssh = open_truth(path)  # ssh, adt, sla, zos, sossheig; lat/lon; 0..360
    truth_sla, cube_sla = ssh.name == "sla", window.attrs.get("ssh_kind") == "sla"
    if mdt is None and truth_sla != cube_sla:
        raise ConfigError(
            f"tune_truth: {path.name} is an {'SLA' if truth_sla else 'ADT'} truth and the cube "
            f"holds {'SLA' if cube_sla else 'ADT'}: give the MDT (--mdt)"
        )
    days = window["time"].values
    missing = np.setdiff1d(days, ssh["time"].values)
    if missing.size:
        raise InputError(path, f"the truth lacks {missing.size} tuning day(s), e.g. {missing[0]}")
    values = truth_on_grid(ssh.sel(time=days), window, path)
    if mdt is not None and not truth_sla:
        values = values - mdt.values
    return xr.DataArray(values, dims=("time", "latitude", "longitude"))
