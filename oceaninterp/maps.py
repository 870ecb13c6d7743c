"""Mapped SSH windows as DUACS-named maps on the output grid (:func:`maps_window`).

:class:`OutputGrid` says where the maps are written (the cube's grid, or
another resolution, ``--output-resolution``) and brings mapped fields there;
:func:`plausible` masks the few implausible ocean cells of a map and refuses
a broken one; :func:`maps_window` adds the other sea-level kind with an MDT and
the geostrophic velocities.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import xarray as xr

from oceaninterp.cube import DIMS
from oceaninterp.errors import InputError
from oceaninterp.geostrophy import add_geostrophic_velocity
from oceaninterp.mdt import GriddedMDT
from oceaninterp.products import duacs_l4

log = logging.getLogger(__name__)


def map_kinds(kind: str, mdt: GriddedMDT | None) -> tuple[str, ...]:
    """The sea-level variables of the maps: the kind mapped, and the other one with an MDT."""
    if mdt is None:
        return (kind,)
    return ("sla", "adt")


@dataclass(frozen=True)
class OutputGrid:
    """The grid the maps are written on, and how mapped fields get there.

    Attributes
    ----------
    latitude, longitude
        Cell centres of the maps, degrees_north / degrees_east.
    land
        Boolean ``(latitude, longitude)`` of the maps, True on land (masked).
    mdt
        The MDT on the maps' grid (added back to write both ``sla`` and
        ``adt``), or ``None``.
    source
        ``(latitude, longitude)`` cell centres of the mapped cube when they
        differ from the maps' (``--output-resolution``), else ``None``.
    """

    latitude: np.ndarray
    longitude: np.ndarray
    land: np.ndarray
    mdt: GriddedMDT | None = None
    source: tuple[np.ndarray, np.ndarray] | None = None

    def convert(self, values: np.ndarray) -> np.ndarray:
        """Days of a mapped field ``(days, lat, lon)`` of the cube onto the maps' grid.

        A coarser grid takes the mean of the finite cube cells whose centres
        it holds; a finer one interpolates bilinearly between finite cells.
        """
        if self.source is None:
            return values
        lat, lon = self.source
        coords = {"latitude": lat, "longitude": lon}
        field = xr.DataArray(values, dims=DIMS, coords=coords)
        if self.latitude.size <= lat.size:  # coarser: block means through cell sums
            from oceaninterp.cube import regrid

            step = float(np.median(np.diff(self.latitude))) if self.latitude.size > 1 else 1.0
            pseudo = xr.Dataset(
                {"ssh": field}, coords={"time": np.arange(values.shape[0])}
            ).assign_attrs(resolution=float(np.median(np.diff(lat))) if lat.size > 1 else step)
            return np.asarray(regrid(pseudo, step)["ssh"].values, dtype=np.float32)
        where = {"latitude": self.latitude, "longitude": self.longitude}
        finite = field.notnull().astype(np.float64)
        total = field.fillna(0.0).astype(np.float64).interp(where).values
        weight = finite.interp(where).values
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(weight > 0.5, total / weight, np.nan).astype(np.float32)


#: Largest |SSH| (m) a map may hold: far beyond any ocean, far within the int32 packing.
MAX_ABS_SSH = 10.0


#: Largest fraction of a window's ocean cells that may be implausible and masked.
MAX_BAD_FRACTION = 0.01


def plausible(ssh: np.ndarray, land: np.ndarray, days: np.ndarray) -> np.ndarray:
    """A mapped field with its implausible ocean cells masked, or refused when too many.

    Cells that are NaN or beyond :data:`MAX_ABS_SSH` metres over the ocean
    (e.g. a model applied far from where it was trained, ``--outside apply``)
    are set to NaN and counted in a warning; more than
    :data:`MAX_BAD_FRACTION` of them means a broken checkpoint or observations
    in the wrong units.

    Raises
    ------
    InputError
        Naming the first bad day and the count: nothing is written.
    """
    bad = ~(np.abs(ssh) <= MAX_ABS_SSH) & ~land[None]
    if not bad.any():
        return ssh
    day = str(days[int(np.argmax(bad.any(axis=(1, 2))))])[:10]
    text = (
        f"the mapped SSH is NaN or beyond {MAX_ABS_SSH:g} m on {int(bad.sum())} ocean "
        f"cell(s) (first on {day})"
    )
    if bad.sum() > MAX_BAD_FRACTION * max(1, int((~land).sum()) * ssh.shape[0]):
        raise InputError(
            None, f"{text}: the checkpoint or the observations are broken; nothing was written"
        )
    log.warning("%s: masked (written as _FillValue)", text)
    return np.where(bad, np.float32(np.nan), ssh)


def maps_window(
    days: np.ndarray,
    window_ssh: np.ndarray,
    kind: str,
    grid: OutputGrid,
    err: np.ndarray | None = None,
) -> xr.Dataset:
    """Days of SSH (metres) as DUACS-named maps with geostrophic velocities, land masked.

    ``window_ssh`` is of ``kind`` on the cube's grid; it is brought onto the
    maps' grid; with an MDT the other kind is added (``adt = sla + mdt``),
    each with its velocities.
    """
    ssh = np.where(grid.land, np.nan, grid.convert(window_ssh)).astype(np.float32)
    ssh = plausible(ssh, grid.land, days)
    coords = {"time": days, "latitude": grid.latitude, "longitude": grid.longitude}
    dims = ("time", "latitude", "longitude")
    maps = xr.Dataset({kind: (dims, ssh)}, coords=coords)
    if grid.mdt is not None:
        other = "adt" if kind == "sla" else "sla"
        sign = 1.0 if kind == "sla" else -1.0
        maps[other] = (dims, (ssh + sign * grid.mdt.values).astype(np.float32))
    for name in map_kinds(kind, grid.mdt):
        maps = add_geostrophic_velocity(maps, name, *duacs_l4.VELOCITY_NAMES[name])
    if err is not None:
        err_out = np.where(grid.land, np.nan, grid.convert(err))
        maps["err_sla"] = (dims, err_out.astype(np.float32))
    return maps
