"""Product formats: one module per format behind a small registry.

Each module ``oceaninterp.products.<name>`` holds the reader and the writer of
its format and registers them as ``FORMAT``, a
:class:`~oceaninterp.products.format.ProductFormat`: a description, whether it
holds tracks or a grid, ``can_open(path)`` (judged by the file's content, not
its name), ``open(path, **options)`` with its options declared, and
``write(data, path)`` (atomic). ``open`` returns tidy tracks
(:mod:`oceaninterp.products.schema`) for along-track and swath products, a
gridded dataset for L4 products.

Adding a format is adding its module and its ``FORMAT`` to :data:`FORMATS`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import xarray as xr

from oceaninterp.errors import InputError
from oceaninterp.products import cmems_l3, duacs_l4, nasa_ssh, sst_l4, swot_l3
from oceaninterp.products.format import ProductFormat

#: Registered formats, in detection order (the more specific first).
FORMATS: tuple[ProductFormat, ...] = (
    nasa_ssh.FORMAT,
    swot_l3.FORMAT,
    cmems_l3.FORMAT,
    sst_l4.FORMAT,
    duacs_l4.FORMAT,
)

#: Names of the registered formats, in detection order.
PRODUCTS: tuple[str, ...] = tuple(f.name for f in FORMATS)

#: Formats read as observations (tidy tracks) by ``oceaninterp grid``.
TRACK_PRODUCTS: tuple[str, ...] = tuple(f.name for f in FORMATS if f.kind == "tracks")

#: Formats read as gridded fields.
GRIDDED_PRODUCTS: tuple[str, ...] = tuple(f.name for f in FORMATS if f.kind == "gridded")


def product_format(name: str) -> ProductFormat:
    """The registered format called ``name``.

    Raises
    ------
    ValueError
        For a name not in :data:`PRODUCTS`.
    """
    for fmt in FORMATS:
        if fmt.name == name:
            return fmt
    raise ValueError(f"unknown product {name!r}; expected one of {PRODUCTS}")


def detect(path: str | Path) -> str:
    """The name of the format of ``path``.

    Raises
    ------
    InputError
        When the file is missing, not NetCDF, or of no registered format.
    """
    from oceaninterp.products._netcdf import header

    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file")
    if path.is_dir():  # a Zarr store: only formats that read Zarr recognise it
        for fmt in FORMATS:
            try:
                if fmt.can_open(path):
                    return fmt.name
            except InputError:
                continue
    else:
        header(path)  # a non-NetCDF or truncated file fails here with its own message
        for fmt in FORMATS:
            if fmt.can_open(path):
                return fmt.name
    raise InputError(
        path,
        "not a recognised product (expected CMEMS L3, NASA-SSH, SWOT L3 LR SSH, "
        "GHRSST L4 SST or DUACS L4 variables)",
    )


def is_mdt(path: str | Path) -> bool:
    """True for a mean dynamic topography file: ``mdt`` over latitude/longitude.

    The layout read by :mod:`oceaninterp.mdt` (the CMEMS MDT product, the
    ``mdt.nc`` of ``oceaninterp simulate obs``): not observations, but found in
    the folders of an OSSE. Only NetCDF files are tested (a header read).
    """
    from oceaninterp.products._netcdf import header

    path = Path(path)
    if not path.is_file():
        return False
    try:
        dims = header(path).variables.get("mdt")
    except InputError:
        return False
    spatial = (("latitude", "longitude"), ("lat", "lon"))
    return dims is not None and tuple(dims[-2:]) in spatial and len(dims) <= 3


def open_product(path: str | Path, **options: Any) -> xr.Dataset:
    """Detect the format of ``path`` and read it.

    Parameters
    ----------
    path
        A product file.
    options
        Reader options the detected format declares
        (:attr:`~oceaninterp.products.format.ProductFormat.options`): ``variable``
        and ``drop_nadir`` for every track format, ``variables`` for DUACS L4.

    Raises
    ------
    InputError
        When the file is of no registered format, or its format takes no such
        option (naming the file, the format and the option).
    """
    return product_format(detect(path)).read(path, options)


#: File suffixes of model checkpoints (``torch.save`` archives).
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".ckpt")


def _is_checkpoint(path: Path) -> bool:
    import zipfile

    return path.suffix.lower() in CHECKPOINT_SUFFIXES or (
        path.is_file() and zipfile.is_zipfile(path)
    )


def _span(values: Any) -> str:
    import numpy as np

    values = np.asarray(values)
    if values.size == 0:
        return "empty"
    if values.dtype.kind == "M":
        lo, hi = np.nanmin(values), np.nanmax(values)
        return f"{np.datetime_as_string(lo, unit='s')} .. {np.datetime_as_string(hi, unit='s')}"
    return f"{float(np.nanmin(values)):.4g} .. {float(np.nanmax(values)):.4g}"


def _gridded_kind(ds: xr.Dataset) -> str:
    if {"ssh", "count", "mask"} <= set(ds.data_vars):
        return "cube (oceaninterp grid)"
    if "ssh" in ds.data_vars and {"latitude", "longitude", "time"} <= set(ds.dims):
        return "truth or SSH maps (time, latitude, longitude)"
    return "gridded dataset"


def describe(path: str | Path) -> dict[str, Any]:
    """What a file is, for ``oceaninterp info``: a flat mapping of labels to text.

    Handles every product format of :data:`PRODUCTS`, oceaninterp cubes, truth
    and maps (NetCDF or Zarr), and model checkpoints (described by
    :func:`oceaninterp.model.checkpoint.describe_checkpoint`).

    Raises
    ------
    InputError
        When the file is missing or none of these.
    """
    from oceaninterp.io import open_dataset
    from oceaninterp.products._netcdf import header

    path = Path(path)
    if not path.exists():
        raise InputError(path, "no such file")
    if _is_checkpoint(path):
        try:
            from oceaninterp.model.checkpoint import describe_checkpoint
        except ImportError as exc:
            raise InputError(
                path, f"looks like a model checkpoint, but the model package is unavailable ({exc})"
            ) from exc
        return {"kind": "model checkpoint", **describe_checkpoint(path)}
    try:
        product: str | None = detect(path)
    except InputError:
        if path.is_file():
            header(path)  # not NetCDF at all: let its error through
        product = None
    out: dict[str, Any] = {"file": str(path)}
    fmt = None if product is None else product_format(product)
    if fmt is not None and fmt.kind == "tracks":
        out["kind"] = f"{fmt.name}: {fmt.description}"
        hdr = header(path)
        out["dimensions"] = ", ".join(f"{k}={v}" for k, v in hdr.dims.items())
        out["variables"] = ", ".join(hdr.variables)
        readable = []
        problems: list[str] = []
        tracks = None
        for variable in fmt.variables:
            try:
                loaded = fmt.open(path, variable=variable)
            except InputError as exc:
                problems.append(exc.problem)
                continue
            readable.append(f"{variable} ({loaded.sizes['obs']} valid points)")
            tracks = tracks if tracks is not None else loaded
        why = problems[0] if problems else "no usable sea-level variable"
        out["readable as"] = ", ".join(readable) or f"none ({why})"
        if tracks is not None:
            out["mission"] = tracks.attrs["mission"]
            if tracks.attrs.get("implausible"):
                out["implausible values"] = (
                    f"{tracks.attrs['implausible']} dropped (outside the physical range)"
                )
            out["time"] = _span(tracks["time"].values)
            out["latitude"] = _span(tracks["latitude"].values)
            out["longitude"] = _span(tracks["longitude"].values)
        return out
    with open_dataset(path, chunks={}) as ds:
        if fmt is not None:
            out["kind"] = f"{fmt.name}: {fmt.description}"
        else:
            out["kind"] = _gridded_kind(ds)
        out["dimensions"] = ", ".join(f"{k}={v}" for k, v in ds.sizes.items())
        for name in ("time", "latitude", "longitude", "lat", "lon"):
            if name in ds.coords:
                out[name] = _span(ds[name].values)
        out["variables"] = ", ".join(
            f"{k} ({v.attrs['units']})" if "units" in v.attrs else str(k)
            for k, v in ds.data_vars.items()
            if not str(k).endswith("_bnds") and k != "crs"
        )
        if {"count", "mask"} <= set(ds.data_vars):
            count = ds["count"]
            out["observations"] = str(int(count.sum()))
            out["observed cells"] = f"{int((count > 0).sum())} of {count.size}"
        for key in ("title", "ssh_kind", "resolution", "platform", "source_files", "history"):
            if key in ds.attrs:
                out[key] = str(ds.attrs[key])
    return out
