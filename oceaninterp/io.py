"""Atomic writing of NetCDF and Zarr outputs, and opening of gridded files.

Every output goes first to a temporary sibling path and is renamed into place
only once complete, so a crash never leaves a half-written file under its final
name (DESIGN habit 11).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import xarray as xr

from oceaninterp.errors import InputError, OutputExistsError

NETCDF_SUFFIXES = (".nc", ".nc4", ".netcdf")
ZARR_SUFFIXES = (".zarr",)


def output_format(path: str | Path) -> str:
    """Return ``"netcdf"`` or ``"zarr"`` from a path's suffix.

    Raises
    ------
    InputError
        When the suffix is neither a NetCDF nor a Zarr one.
    """
    suffix = Path(path).suffix.lower()
    if suffix in NETCDF_SUFFIXES:
        return "netcdf"
    if suffix in ZARR_SUFFIXES:
        return "zarr"
    raise InputError(path, f"unknown output suffix {suffix!r}: use .nc or .zarr")


def check_output(path: str | Path, overwrite: bool = False) -> Path:
    """Refuse an existing output unless ``overwrite``; return the path."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path}: output exists (use --overwrite to replace it)")
    return path


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


@contextlib.contextmanager
def atomic_path(final: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``final``; rename it onto ``final`` on success.

    On any exception the temporary path is removed and ``final`` is untouched.
    Works for files and for directories (Zarr stores).
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".tmp-{uuid.uuid4().hex[:8]}-{final.name}")
    try:
        yield tmp
        if final.exists() and final.is_dir():
            # os.replace cannot replace a non-empty directory: move the old one aside first.
            old = final.with_name(f".old-{uuid.uuid4().hex[:8]}-{final.name}")
            os.replace(final, old)
            os.replace(tmp, final)
            _remove(old)
        else:
            os.replace(tmp, final)
    finally:
        if tmp.exists() or tmp.is_symlink():
            _remove(tmp)


def write_dataset(
    ds: xr.Dataset,
    path: str | Path,
    *,
    overwrite: bool = False,
    encoding: dict | None = None,
) -> Path:
    """Write ``ds`` to NetCDF-4 or Zarr v3 (by suffix) atomically.

    Parameters
    ----------
    ds
        Dataset to write (may be dask-backed; it is computed while writing).
    path
        Final path; ``.nc`` gives NetCDF-4, ``.zarr`` a Zarr v3 store.
    overwrite
        Replace an existing output; otherwise an existing path is an error.
    encoding
        Per-variable encoding passed to xarray.
    """
    path = check_output(path, overwrite)
    fmt = output_format(path)
    with atomic_path(path) as tmp:
        if fmt == "netcdf":
            ds.to_netcdf(tmp, format="NETCDF4", engine="netcdf4", encoding=encoding)
        else:
            ds.to_zarr(tmp, mode="w", encoding=encoding, zarr_format=3, consolidated=False)
    return path


def open_dataset(path: str | Path, **kwargs) -> xr.Dataset:
    """Open a NetCDF file or Zarr store, turning failures into :class:`InputError`."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file")
    try:
        if path.suffix.lower() in ZARR_SUFFIXES or path.is_dir():
            return xr.open_zarr(path, consolidated=False, **kwargs)
        return xr.open_dataset(path, **kwargs)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(path, f"cannot be opened as NetCDF or Zarr ({exc})") from exc
