"""Score several SSH maps at once and write the tables and figures.

:func:`score_maps` reads maps (ours, the OI baseline, DUACS L4 files), puts
them on the reference (a gridded truth, or withheld along-track files), scores
them with :mod:`oceaninterp.scores` on the points where every map and the
reference are valid, and writes ``scores.json``, ``scores.csv`` and PNG
figures (:mod:`oceaninterp.report_figures`). The scores themselves stay pure in
:mod:`oceaninterp.scores`; only the report plots.
"""

from __future__ import annotations

import csv
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from oceaninterp import scores
from oceaninterp.cube import DIMS
from oceaninterp.errors import ConfigError, InputError
from oceaninterp.io import atomic_path, check_output, open_dataset
from oceaninterp.report_figures import (
    plot_alongtrack_spectra,
    plot_daily,
    plot_snapshots,
    plot_spectral,
    plot_track_snapshots,
    save_figure,
)

log = logging.getLogger(__name__)

#: Map variables tried for each reference kind, in order.
MAP_VARIABLES = {"adt": ("adt", "ssh", "sla"), "sla": ("sla", "ssh", "adt")}
#: Track variables tried for each kind when none is named, in order (unfiltered first,
#: as the 2021a data challenge; NASA-SSH's ``ssh`` is an anomaly).
TRACK_VARIABLES = {
    "sla": ("sla_unfiltered", "sla_filtered", "ssh"),
    "adt": ("adt_unfiltered", "adt_filtered", "adt"),
}
RECORD_KEYS = (
    "name",
    "mu",
    "sigma",
    "lambda_x_deg",
    "lambda_x_km",
    "lambda_t_days",
    "rmse_m",
    "mse_gain",
    "mse_gain_low",
    "mse_gain_high",
)
_RENAMES = {"lat": "latitude", "lon": "longitude"}


def _map_kind(name: str, da: xr.DataArray) -> str:
    if name in ("sla", "adt"):
        return name
    return str(da.attrs.get("ssh_kind", "adt"))


def open_map(path: str | Path, *, kind: str, variable: str | None = None) -> xr.DataArray:
    """A map's SSH (metres) on (time, latitude, longitude).

    Parameters
    ----------
    path
        A DUACS L4 file or one of our maps (read by
        :mod:`oceaninterp.products.duacs_l4`), or any NetCDF/Zarr with ``ssh``.
    kind
        ``"adt"`` or ``"sla"``: the reference's kind; the map variable is
        ``variable`` if given, else the first present of :data:`MAP_VARIABLES`.
    variable
        Force this variable.

    Raises
    ------
    InputError
        When no variable fits, or the chosen one is of another kind.
    """
    from oceaninterp.products import duacs_l4

    path = Path(path)
    if duacs_l4.can_open(path):
        ds = duacs_l4.open(path)
    else:
        ds = open_dataset(path)
        ds = ds.rename({k: v for k, v in _RENAMES.items() if k in ds.variables})
    names = (variable,) if variable else MAP_VARIABLES[kind]
    found = [n for n in names if n in ds.data_vars]
    if not found:
        raise InputError(path, f"no map variable among {list(names)}; found {list(ds.data_vars)}")
    name = found[0]
    da = ds[name]
    missing = [d for d in DIMS if d not in da.dims]
    if missing:
        raise InputError(path, f"variable {name!r} lacks the dimension(s) {missing}")
    if variable is None and _map_kind(name, da) != kind:
        raise InputError(
            path,
            f"variable {name!r} is {_map_kind(name, da)} but the reference is {kind}: "
            "pass --variable to compare anyway",
        )
    da = da.transpose(*DIMS).astype(np.float64)
    return da.sortby("latitude").sortby("longitude").sortby("time")


def _names(maps: Sequence[str | Path], names: Sequence[str] | None) -> list[str]:
    if names is not None:
        if len(names) != len(maps):
            raise ConfigError(f"score: {len(names)} names for {len(maps)} maps")
        return list(names)
    out: list[str] = []
    for path in maps:
        stem = Path(path).name.split(".")[0]
        out.append(stem if stem not in out else f"{stem}-{len(out)}")
    return out


def _period(da: xr.DataArray, start: str | None, end: str | None) -> xr.DataArray:
    times = da["time"].values
    lo = np.datetime64(start, "ns") if start else times.min()
    hi = (
        np.datetime64(end, "ns") + np.timedelta64(1, "D") - np.timedelta64(1, "ns")
        if end
        else times.max()
    )
    return da.sel(time=(times >= lo) & (times <= hi))


def _finite(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def score_maps(
    maps: Sequence[str | Path],
    *,
    truth: str | Path | None = None,
    tracks: Sequence[str | Path] = (),
    output_dir: str | Path,
    names: Sequence[str] | None = None,
    start: str | None = None,
    end: str | None = None,
    variable: str | None = None,
    track_variable: str | None = None,
    overwrite: bool = False,
    observations: str | Path | None = None,
) -> list[dict[str, Any]]:
    """Score maps against a gridded truth (OSSE) or withheld tracks (OSE).

    Parameters
    ----------
    maps
        Map files: our reconstructions, OI maps, DUACS L4 files.
    truth
        A truth file (contract 4: ``ssh``, metres, ADT-like, daily). Exactly
        one of ``truth`` and ``tracks`` is given.
    tracks
        Withheld along-track product files (any format of
        :mod:`oceaninterp.products`), folders of them or glob patterns, read as
        ``track_variable``. With tracks, an along-track file given among
        ``maps`` (what a shell makes of ``--tracks out/*.nc``) is taken as a
        track, with a warning.
    output_dir
        Folder of ``scores.json``, ``scores.csv`` and the figures:
        ``snapshots.png`` (gridded truth: truth, maps, errors and their
        histograms on the middle day, observations drawn when given; tracks:
        the maps on the day with most withheld points, those points on top),
        ``spectral_scores.png`` (score curves with their 0.5 crossings, the 0.5
        contours with lambda_x and lambda_t at their vertices; for tracks only
        when a track is long enough for a 1000 km segment) and
        ``daily_scores.png``.
    names
        One name per map (default: the file names without suffix).
    start, end
        ISO dates restricting the period scored (inclusive).
    variable
        Map variable to compare (default: the one matching the reference kind).
    track_variable
        Variable read from the track files (e.g. ``adt_unfiltered``,
        ``sla_unfiltered``); its kind selects the map variable. Default: like
        with like, the SLA when every map holds one (``sla_unfiltered``, else
        ``sla_filtered``, else NASA-SSH's ``ssh``), else the ADT
        (:data:`TRACK_VARIABLES`).
    overwrite
        Replace existing score files.
    observations
        With ``truth``: a cube (``oceaninterp grid`` output, ``ssh`` NaN where
        unobserved) whose observed cells of the snapshot day are drawn on
        ``snapshots.png``. With tracks the withheld points are drawn anyway.

    Returns
    -------
    list of dict
        One record per map: ``name``, ``mu``, ``sigma``, ``lambda_x_deg``,
        ``lambda_x_km``, ``lambda_t_days`` (None where not defined, e.g. for
        tracks), ``rmse_m``, and against the first map (None for it):
        ``mse_gain`` (``1 - MSE / MSE_first``) with, for tracks, its 95 %
        interval ``mse_gain_low`` / ``mse_gain_high`` from a bootstrap over
        the withheld passes (:func:`oceaninterp.scores.paired_mse_gain`).
    """
    if (truth is None) == (not tracks):
        raise ConfigError("score: give exactly one reference: a truth file or withheld tracks")
    if tracks:
        maps, tracks = split_maps_and_tracks(maps, tracks)
    if not maps:
        raise ConfigError("score: give at least one map")
    output_dir = Path(output_dir)
    check_output(output_dir / "scores.json", overwrite)
    labels = _names(maps, names)
    if truth is not None:
        records, figures = _score_gridded(maps, labels, truth, start, end, variable, observations)
    else:
        records, figures = _score_tracks(maps, labels, tracks, start, end, variable, track_variable)
    output_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(output_dir / "scores.json") as tmp:
        tmp.write_text(json.dumps(records, indent=2) + "\n")
    with atomic_path(output_dir / "scores.csv") as tmp, tmp.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=RECORD_KEYS)
        writer.writeheader()
        writer.writerows({k: ("" if r[k] is None else r[k]) for k in RECORD_KEYS} for r in records)
    for name, draw in figures.items():
        save_figure(output_dir / name, draw)
    return records


# ---------------------------------------------------------------------------- gridded


def _observed_points(cube: str | Path, day: Any) -> tuple[np.ndarray, np.ndarray]:
    """Longitudes and latitudes (degrees) of the cells of ``cube`` observed on ``day``."""
    with open_dataset(cube) as ds:
        if "ssh" not in ds:
            raise InputError(cube, "no variable 'ssh': not an observation cube")
        days = ds["time"].values.astype("datetime64[D]")
        at = np.flatnonzero(days == np.asarray(day).astype("datetime64[D]"))
        if not at.size:
            return np.empty(0), np.empty(0)
        ssh = ds["ssh"].transpose(*DIMS).isel(time=int(at[0])).values
        rows, cols = np.nonzero(np.isfinite(ssh))
        return ds["longitude"].values[cols], ds["latitude"].values[rows]


def _score_gridded(maps, labels, truth_path, start, end, variable, observations=None):
    from oceaninterp.truth import open_truth

    ssh = open_truth(truth_path)  # ssh, adt, sla, zos, sossheig; lat/lon; 0..360
    kind = "sla" if ssh.name == "sla" else "adt"
    truth = _period(ssh.transpose(*DIMS), start, end)
    fields = [open_map(p, kind=kind, variable=variable) for p in maps]
    lo = max([truth["time"].values.min(), *(f["time"].values.min() for f in fields)])
    hi = min([truth["time"].values.max(), *(f["time"].values.max() for f in fields)])
    truth = truth.sel(time=slice(lo, hi)).load()
    if truth.sizes["time"] < 2:
        raise InputError(truth_path, "the maps and the truth share fewer than 2 days")
    on_truth = [
        f.interp(time=truth["time"], latitude=truth["latitude"], longitude=truth["longitude"])
        for f in fields
    ]
    valid = np.isfinite(truth)
    for f in on_truth:
        valid &= np.isfinite(f)
    truth = truth.where(valid)
    records, rmse_list, psd_list = [], [], []
    for label, f in zip(labels, on_truth, strict=True):
        f = f.where(valid)
        r, s = scores.rmse_scores(f, truth), scores.psd_scores(f, truth)
        rmse_list.append(r)
        psd_list.append(s)
        records.append(
            {
                "name": label,
                "mu": _finite(r.mu),
                "sigma": _finite(r.sigma),
                "lambda_x_deg": _finite(s.lambda_x_deg),
                "lambda_x_km": _finite(s.lambda_x_km),
                "lambda_t_days": _finite(s.lambda_t_days),
                "rmse_m": _finite(r.rmse_m),
                "mse_gain": _finite(scores.mse_gain(r.rmse_m, rmse_list[0].rmse_m))
                if records
                else None,
                "mse_gain_low": None,
                "mse_gain_high": None,
            }
        )
        log.info(
            "%s: mu %.3f, lambda_x %.2f deg, lambda_t %.1f d",
            label,
            r.mu,
            s.lambda_x_deg,
            s.lambda_t_days,
        )
    day = truth.sizes["time"] // 2
    points = (
        None if observations is None else _observed_points(observations, truth["time"].values[day])
    )
    figures = {
        "snapshots.png": lambda fig: plot_snapshots(
            fig,
            truth.isel(time=day),
            [f.where(valid).isel(time=day) for f in on_truth],
            labels,
            points,
        ),
        "spectral_scores.png": lambda fig: plot_spectral(fig, psd_list, labels),
        "daily_scores.png": lambda fig: plot_daily(fig, [r.daily for r in rmse_list], labels),
    }
    if min(psd_list[0].score.shape) < 2:  # a few days: no spectral score to draw
        log.warning("too few days for spectral scores: spectral_scores.png not drawn")
        del figures["spectral_scores.png"]
    return records, figures


# ----------------------------------------------------------------------------- tracks


def _is_along_track(path: Path) -> bool:
    """True for a product file of an along-track format (not a map, cube or truth)."""
    from oceaninterp.products import GRIDDED_PRODUCTS, detect

    if not path.is_file():
        return False
    try:
        return detect(path) not in GRIDDED_PRODUCTS
    except InputError:
        return False


def split_maps_and_tracks(
    maps: Sequence[str | Path], tracks: Sequence[str | Path]
) -> tuple[list[Path], list[Path]]:
    """Maps and withheld track files, as the user meant them.

    ``tracks`` may hold files, folders (their NetCDF files) and glob patterns
    (:func:`oceaninterp.ingest.expand_inputs`). A shell expands
    ``--tracks out/*.nc`` to one option value and the other files as
    positional arguments: along-track files among ``maps`` are therefore moved
    to the tracks, with a warning naming how many.
    """
    from oceaninterp.ingest import expand_inputs

    track_files = expand_inputs(tracks)
    kept: list[Path] = []
    moved: list[Path] = []
    for path in map(Path, maps):
        (moved if _is_along_track(path) else kept).append(path)
    if moved:
        log.warning(
            "%d along-track file(s) given as maps taken as withheld tracks (%s%s); "
            "quote a glob (--tracks 'out/*.nc') or give a folder to say so",
            len(moved),
            moved[0].name,
            ", ..." if len(moved) > 1 else "",
        )
    tracks_out = list(dict.fromkeys([*track_files, *moved]))
    if not tracks_out:
        raise InputError(Path(str(tracks[0])), "no track file found (file, folder or pattern)")
    return kept, tracks_out


def _map_kinds(path: str | Path) -> set[str]:
    """The sea-level kinds (``sla``, ``adt``) a map file holds."""
    from oceaninterp.products import duacs_l4

    path = Path(path)
    if duacs_l4.can_open(path):
        with open_dataset(path) as ds:
            return {k for k in ("sla", "adt") if k in ds.data_vars} or {"adt"}
    with open_dataset(path) as ds:
        if "ssh" in ds.data_vars:
            return {str(ds["ssh"].attrs.get("ssh_kind", ds.attrs.get("ssh_kind", "adt")))}
        return {k for k in ("sla", "adt") if k in ds.data_vars}


def _open_tracks(path: Path, kinds: Sequence[str], track_variable: str | None) -> xr.Dataset:
    """A track file as tidy tracks: ``track_variable``, or the first of ``kinds`` it holds."""
    from oceaninterp.products import open_product

    if track_variable is not None:
        return open_product(path, variable=track_variable)
    tried = [v for k in kinds for v in TRACK_VARIABLES[k]]
    for name in tried:
        try:
            return open_product(path, variable=name)
        except InputError:
            continue
    raise InputError(path, f"no track variable among {tried} (the maps hold {list(kinds)})")


@dataclass(frozen=True)
class WithheldValues:
    """Withheld along-track points and the maps at them (:func:`withheld_values`).

    Attributes
    ----------
    kind
        ``"sla"`` or ``"adt"``: what the tracks and the maps were read as.
    time, latitude, longitude
        The points (datetime64, degrees).
    track
        The index of each point's track file.
    passes
        A label per point naming its pass (:func:`oceaninterp.scores.track_passes`).
    reference
        The withheld SSH, metres.
    values
        Each map at the points, metres.
    valid
        Points where the reference and every map are finite.
    fields
        The maps as read (:func:`open_map`).
    """

    kind: str
    time: np.ndarray
    latitude: np.ndarray
    longitude: np.ndarray
    track: np.ndarray
    passes: np.ndarray
    reference: np.ndarray
    values: list[np.ndarray]
    valid: np.ndarray
    fields: list[xr.DataArray]


def withheld_values(
    maps: Sequence[str | Path],
    track_paths: Sequence[str | Path],
    *,
    start: str | None = None,
    end: str | None = None,
    variable: str | None = None,
    track_variable: str | None = None,
) -> WithheldValues:
    """The withheld points of ``track_paths`` and every map of ``maps`` at them.

    Parameters as :func:`score_maps` (``track_paths`` already expanded into
    files). Raises :class:`~oceaninterp.errors.InputError` naming the first
    track file when no point falls in the period or inside every map.
    """
    common = set.intersection(*(_map_kinds(p) for p in maps))
    kinds: list[str] = [k for k in ("sla", "adt") if k in common] or ["sla", "adt"]
    parts = []
    for i, path in enumerate(track_paths):
        ds = _open_tracks(Path(path), kinds, track_variable)
        if "obs" not in ds.dims:
            raise InputError(path, "not an along-track product (no tidy tracks)")
        kind = str(ds.attrs.get("ssh_kind", "sla"))
        kinds = [kind]  # every file read as the kind of the first
        parts.append(
            ds[["time", "latitude", "longitude", "ssh"]].assign(
                track=("obs", np.full(ds.sizes["obs"], i))
            )
        )
    kind = str(parts[0].attrs.get("ssh_kind", "sla"))
    log.info("comparing the maps' %s with %d track file(s)", kind, len(parts))
    points = xr.concat(parts, dim="obs")
    times = points["time"].values
    lo = np.datetime64(start, "ns") if start else times.min()
    hi = (
        np.datetime64(end, "ns") + np.timedelta64(1, "D")
        if end
        else times.max() + np.timedelta64(1, "ns")
    )
    points = points.isel(obs=(times >= lo) & (times < hi))
    if points.sizes["obs"] == 0:
        raise InputError(track_paths[0], "no withheld point in the period scored")
    args = (points["time"].values, points["latitude"].values, points["longitude"].values)
    fields = [open_map(p, kind=kind, variable=variable) for p in maps]
    at_tracks = [scores.interpolate_to_points(f, *args) for f in fields]
    ref = points["ssh"].values.astype(np.float64)
    valid = np.isfinite(ref)
    for values in at_tracks:
        valid &= np.isfinite(values)
    if not valid.any():
        raise InputError(track_paths[0], "no withheld point falls inside every map")
    track = points["track"].values
    return WithheldValues(
        kind=kind,
        time=args[0],
        latitude=args[1],
        longitude=args[2],
        track=track,
        passes=scores.track_passes(args[0], track),
        reference=ref,
        values=at_tracks,
        valid=valid,
        fields=fields,
    )


def _score_tracks(maps, labels, track_paths, start, end, variable, track_variable):
    points = withheld_values(
        maps, track_paths, start=start, end=end, variable=variable, track_variable=track_variable
    )
    kind, ref, valid, at_tracks = points.kind, points.reference, points.valid, points.values
    args = (points.time, points.latitude, points.longitude)
    records, results = [], []
    for i, (label, values) in enumerate(zip(labels, at_tracks, strict=True)):
        a = scores.alongtrack_scores(
            np.where(valid, ref, np.nan),
            np.where(valid, values, np.nan),
            *args,
            track=points.track,
        )
        results.append(a)
        versus = None
        if i > 0:
            versus = scores.paired_mse_gain(
                ref[valid], values[valid], at_tracks[0][valid], points.passes[valid]
            )
        records.append(
            {
                "name": label,
                "mu": _finite(a.mu),
                "sigma": _finite(a.sigma),
                "lambda_x_deg": None,
                "lambda_x_km": _finite(a.lambda_x_km),
                "lambda_t_days": None,
                "rmse_m": _finite(a.rmse_m),
                "mse_gain": None if versus is None else _finite(versus.gain),
                "mse_gain_low": None if versus is None else _finite(versus.low),
                "mse_gain_high": None if versus is None else _finite(versus.high),
            }
        )
        log.info(
            "%s: mu %.3f, lambda_x %.0f km (%d points)", label, a.mu, a.lambda_x_km, a.n_points
        )
    figures = {
        "snapshots.png": _track_snapshot(points.fields, labels, kind, args, ref, valid),
        "spectral_scores.png": lambda fig: plot_alongtrack_spectra(fig, results, labels),
        "daily_scores.png": lambda fig: plot_daily(fig, [a.daily for a in results], labels),
    }
    if not any(a.n_segments for a in results):
        log.info("no track long enough for a 1000 km segment: no spectral_scores.png")
        del figures["spectral_scores.png"]
    return records, figures


def _track_snapshot(fields, labels, kind, args, ref, valid):  # noqa: ANN001, ANN202
    """The drawing of the maps on the day with the most valid withheld points."""
    time, lat, lon = args
    days = time.astype("datetime64[D]")
    candidates, counts = np.unique(days[valid], return_counts=True)
    day = candidates[np.argmax(counts)]
    on_day = valid & (days == day)
    maps_of_day = [f.sel(time=np.datetime64(day, "ns"), method="nearest") for f in fields]
    return lambda fig: plot_track_snapshots(
        fig, maps_of_day, labels, kind, (lon[on_day], lat[on_day], ref[on_day])
    )
