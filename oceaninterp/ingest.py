"""Which input files to read: expansion, fingerprints, latest production, de-duplication.

The first step of ``oceaninterp grid`` (and of any caller gridding a set of
files): turn what the user typed (files, folders, glob patterns) into the list
of files to read, each once.

- :func:`expand_inputs`: folders give their NetCDF files (recursively, broken
  links included so that they are reported), patterns their matches;
- :func:`fingerprint`: the SHA-256 of a file's bytes (equal for copies, changed
  by any edit), cached by size and modification time when asked (the
  pipeline's manifest);
- :func:`deduplicate`: drops copies (same content under another name) and the
  older NRT productions of a CMEMS day (:func:`~oceaninterp.products.cmems_l3.latest_production`);
- :func:`time_span`: the first and last observation day and the box of files, reading only
  their time and position variables (the default dates and box of ``oceaninterp grid``);
- :func:`scan_inputs`: reads every file once and reports what it is
  (observations, L4 SST, an MDT), whether it is used and why not
  (:class:`FileReport`): unusable files are errors or skipped (``on_error``);
  files with no point in the dates or the box, older productions and MDT
  files are left out and counted, not errors.
"""

from __future__ import annotations

import glob as _glob
import hashlib
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from oceaninterp.binning import CellGrid, flat_cell_index
from oceaninterp.config import GridSpec
from oceaninterp.errors import InputError, OceanInterpError
from oceaninterp.kinds import OnError
from oceaninterp.products._netcdf import READ_ERRORS
from oceaninterp.products.schema import PLAUSIBLE_SSH

log = logging.getLogger(__name__)

#: Suffixes of the files taken from a folder.
INPUT_SUFFIXES = (".nc", ".nc4", ".netcdf")

_HASH_BLOCK = 1 << 20

ProgressCallback = Callable[[str, int, int], None]


def expand_inputs(inputs: Iterable[str | Path]) -> list[Path]:
    """Files from paths, folders (their NetCDF files, recursively) and glob patterns.

    Order is kept; a path that matches nothing is returned as is, so that reading
    it reports "no such file". In folders, broken symbolic links with a NetCDF
    suffix are returned too (reading them reports the broken link).
    """
    out: list[Path] = []
    for item in inputs:
        text = str(item)
        path = Path(text)
        if path.is_dir() and path.suffix.lower() != ".zarr":
            out.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.suffix.lower() in INPUT_SUFFIXES and (p.is_file() or p.is_symlink())
                )
            )
        elif not path.exists() and _glob.has_magic(text):
            out.extend(sorted(Path(p) for p in _glob.glob(text, recursive=True)))
        else:
            out.append(path)
    return out


def fingerprint(path: Path, cache: dict[str, dict[str, Any]] | None = None) -> str:
    """Hex SHA-256 of a file's bytes: equal for copies of one file, changed by any edit.

    Parameters
    ----------
    path
        The file.
    cache
        Records by path (``size``, ``mtime_ns``, ``sha256``; e.g. a pipeline
        manifest's ``inputs``): a file whose size and modification time are
        those recorded is not read again. Updated in place (other keys of a
        record are kept).

    Raises
    ------
    InputError
        When the file cannot be read (permissions, I/O error).
    """
    try:
        st = path.stat()
        stat = {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
        record = None if cache is None else cache.get(str(path))
        if record is not None and all(record.get(k) == v for k, v in stat.items()):
            return str(record["sha256"])
        digest = hashlib.sha256()
        with path.open("rb") as f:
            while block := f.read(_HASH_BLOCK):
                digest.update(block)
    except OSError as exc:
        raise InputError(path, f"cannot be read ({exc.strerror or exc})") from exc
    if cache is not None:
        cache.setdefault(str(path), {}).update(stat, sha256=digest.hexdigest())
    return digest.hexdigest()


@dataclass(frozen=True)
class LeftOut:
    """A file :func:`deduplicate` does not keep.

    Attributes
    ----------
    status
        ``"unreadable"`` (missing, a folder, no permission: an error),
        ``"duplicate"`` (a copy of a file kept: an error by default, the
        user listed one file twice under two names) or ``"superseded"``
        (an older production of a CMEMS day: not an error).
    problem
        What to tell the user.
    """

    status: str
    problem: str


def deduplicate(paths: Sequence[Path]) -> tuple[list[Path], dict[Path, LeftOut]]:
    """The files to read among ``paths``, each once, and why the others are left out.

    A path listed twice (the same file after resolving links) is kept once and
    silently; a copy under another name (the same bytes: files of one size are
    compared by :func:`fingerprint`, the others are not read whole) is a
    ``"duplicate"``; an older CMEMS NRT production of the same day is
    ``"superseded"``.

    Returns
    -------
    kept, left_out
        Files to read (input order kept) and, per file left out, why.
    """
    from oceaninterp.products import detect
    from oceaninterp.products.cmems_l3 import latest_production

    left_out: dict[Path, LeftOut] = {}
    seen_paths: set[Path] = set()
    files: list[Path] = []
    for path in paths:
        resolved = path.resolve()
        if resolved in seen_paths:
            continue
        seen_paths.add(resolved)
        if not path.is_file():
            problem = "no such file" if not path.exists() else "not a file"
            if path.is_symlink() and not path.exists():
                problem = "broken symbolic link"
            left_out[path] = LeftOut("unreadable", problem)
            continue
        files.append(path)
    # only files of one size can be copies: the others are not read whole here
    size = {p: p.stat().st_size for p in files}
    copies = Counter(size.values())
    seen: dict[str, Path] = {}
    candidates: list[Path] = []
    for path in files:
        try:
            if copies[size[path]] == 1:
                path.open("rb").close()
            elif (key := fingerprint(path)) in seen:
                left_out[path] = LeftOut("duplicate", f"duplicate of {seen[key]} (same content)")
                continue
            else:
                seen[key] = path
        except InputError as exc:
            left_out[path] = LeftOut("unreadable", exc.problem)
            continue
        except OSError as exc:
            left_out[path] = LeftOut("unreadable", f"cannot be read ({exc.strerror or exc})")
            continue
        candidates.append(path)
    cmems = []
    for path in candidates:
        try:
            if detect(path) == "cmems_l3":
                cmems.append(path)
        except InputError:
            continue  # reported when the file is read
    _, superseded = latest_production(cmems)
    for path, newer in superseded.items():
        left_out[path] = LeftOut("superseded", f"superseded by {newer.name}")
    return [p for p in candidates if p not in superseded], left_out


@dataclass(frozen=True)
class DataSpan:
    """What observation files cover: days and box.

    Attributes
    ----------
    first, last
        First and last day, ``datetime64[D]``.
    lat_min, lat_max
        Southernmost / northernmost point, degrees_north.
    lon_min, lon_max
        Westernmost / easternmost point, degrees_east in -180..180; ``lon_min >
        lon_max`` when the points straddle 180 (and not the Greenwich side).
    """

    first: np.datetime64
    last: np.datetime64
    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float


def _lon_range(lon: np.ndarray) -> tuple[float, float]:
    """West and east edges of longitudes (degrees_east): the tighter of the two conventions."""
    lon = (np.asarray(lon, dtype=np.float64) + 180.0) % 360.0 - 180.0
    if lon.size == 0:
        return -180.0, 180.0
    across = lon % 360.0  # 0..360: tighter when the points straddle 180
    if across.max() - across.min() < lon.max() - lon.min():
        return float((across.min() + 180.0) % 360.0 - 180.0), float(
            (across.max() + 180.0) % 360.0 - 180.0
        )
    return float(lon.min()), float(lon.max())


#: Sea-level variables whose finite values say where a file measures (first found).
_VALUE_NAMES = (
    "ssha_filtered",
    "ssha_noiseless",
    "ssha_unfiltered",
    "ssha",
    "sla_filtered",
    "sla_unfiltered",
    "adt",
    "ssh",
)


def time_span(paths: Iterable[Path]) -> DataSpan | None:
    """First and last day and the box of the observations in ``paths``.

    Only the time, position and one sea-level variable (:data:`_VALUE_NAMES`,
    so that a swath's empty pixels do not widen the box) of along-track and
    swath files are read; files of other kinds (SST, MDT, maps) and files that cannot
    be read are passed over (reading them later reports the problem).

    Returns
    -------
    DataSpan or None
        ``None`` when no observation file was found.

    Raises
    ------
    InputError
        The first file's problem when no observation file gives a time (e.g.
        the only file uses another calendar).
    """
    from oceaninterp.products import TRACK_PRODUCTS, detect
    from oceaninterp.products._netcdf import decoded_times, load

    days: list[np.datetime64] = []
    lats: list[float] = []
    lons: list[np.ndarray] = []
    problem: InputError | None = None
    for path in paths:
        try:
            if detect(path) not in TRACK_PRODUCTS:
                continue
            ds = load(path, ["time", "latitude", "longitude", *_VALUE_NAMES])
            times = decoded_times(path, ds["time"])
        except InputError as exc:
            problem = problem or exc
            continue
        except KeyError:
            problem = problem or InputError(path, "missing variable 'time'")
            continue
        times = times[~np.isnat(times)]
        if times.size == 0:
            continue
        days += [times.min().astype("datetime64[D]"), times.max().astype("datetime64[D]")]
        if "latitude" in ds and "longitude" in ds:
            lat = np.asarray(ds["latitude"].values, dtype=np.float64).ravel()
            lon = np.asarray(ds["longitude"].values, dtype=np.float64).ravel()
            ok = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90.0)
            values = [ds[v] for v in _VALUE_NAMES if v in ds and ds[v].size == lat.size]
            if values:  # positions of measurements only (a swath's empty pixels are not)
                ok &= np.isfinite(np.asarray(values[0].values, dtype=np.float64)).ravel()
            if ok.any():
                lats += [float(lat[ok].min()), float(lat[ok].max())]
                west, east = _lon_range(lon[ok])
                lons.append(np.array([west, east]))
    if not days:
        if problem is not None:
            raise problem
        return None
    west, east = _lon_range(np.concatenate(lons)) if lons else (-180.0, 180.0)
    return DataSpan(
        first=min(days),
        last=max(days),
        lat_min=min(lats) if lats else -90.0,
        lat_max=max(lats) if lats else 90.0,
        lon_min=west,
        lon_max=east,
    )


# ------------------------------------------------------------------ reading each file

#: Statuses of files that were not used and are not errors (the summary counts them).
NOT_ERRORS = ("superseded", "outside period", "outside box", "on land", "mdt")


@dataclass
class FileReport:
    """What happened to one input file.

    Attributes
    ----------
    path
        The file.
    status
        ``"read"``; not errors: ``"superseded"`` (an older production of the same
        CMEMS day), ``"outside period"`` / ``"outside box"`` (no point in the
        dates / in the box), ``"on land"`` (every point in the box on a land
        cell), ``"mdt"`` (a mean dynamic topography file found among
        the inputs); errors, left out with ``--on-error skip``: ``"skipped"``
        (unusable) and ``"duplicate"``.
    product, mission
        Detected format and mission code.
    points
        Valid points read; ``in_grid`` how many fall in the box and dates.
    first_day, last_day
        Day indices (relative to the grid start) of the points in the grid.
    problem
        Why the file was not used, or what was dropped from it.
    role
        ``"obs"``, ``"sst"`` or ``"mdt"``.
    ssh_kind
        ``"sla"`` or ``"adt"`` for observation files read.
    implausible
        Values dropped as physically implausible (see
        :mod:`oceaninterp.products.schema`).
    on_land
        Points in the grid dropped because their cell is land.
    """

    path: Path
    status: str = "read"
    product: str = ""
    mission: str = ""
    points: int = 0
    in_grid: int = 0
    first_day: int = 0
    last_day: int = -1
    problem: str = ""
    role: str = "obs"
    ssh_kind: str = ""
    implausible: int = 0
    on_land: int = 0


class OutsideGrid(InputError):
    """A readable file with no point in the dates or the box: left out, not an error.

    Attributes
    ----------
    status
        ``"outside period"``, ``"outside box"`` or ``"on land"``.
    """

    def __init__(self, path: Path, problem: str, status: str) -> None:
        super().__init__(path, problem)
        self.status = status


def open_observations(path: Path, variable: str, drop_nadir: bool) -> xr.Dataset:
    """Tidy tracks of an along-track or swath file (format detected by content)."""
    from oceaninterp.products import open_product

    return open_product(path, variable=variable, drop_nadir=drop_nadir)


def _scan_obs(
    path: Path,
    product: str,
    spec: GridSpec,
    variable: str,
    drop_nadir: bool,
    land: np.ndarray | None,
) -> FileReport:
    """Read one observation file fully and check it can contribute (raises InputError)."""
    tracks = open_observations(path, variable, drop_nadir)
    report = FileReport(
        path,
        product=product,
        mission=str(tracks.attrs.get("mission", "")),
        points=int(tracks.sizes["obs"]),
        ssh_kind=str(tracks.attrs.get("ssh_kind", "sla")),
        implausible=int(tracks.attrs.get("implausible", 0)),
    )
    if report.implausible:
        report.problem = (
            f"{report.implausible} implausible value(s) dropped "
            f"(|{variable}| > {PLAUSIBLE_SSH[report.ssh_kind]:g} m)"
        )
        log.warning("%s: %s", path, report.problem)
    if report.points == 0:
        raise InputError(path, f"no valid {variable!r} value (all NaN, fill or flagged)")
    grid = CellGrid.from_spec(spec)
    day = grid.day_index(tracks["time"].values)
    index = flat_cell_index(grid, day, tracks["latitude"].values, tracks["longitude"].values)
    inside = index >= 0
    if land is not None and inside.any():
        on_land = land.ravel()[index[inside] % land.size]
        report.on_land = int(on_land.sum())
        inside[np.flatnonzero(inside)[on_land]] = False
    report.in_grid = int(inside.sum())
    in_period = (day >= 0) & (day < grid.shape[0])
    if report.in_grid == 0 and not in_period.any():
        raise OutsideGrid(path, f"no point in the dates {spec.start}..{spec.end}", "outside period")
    if report.in_grid == 0 and report.on_land:
        raise OutsideGrid(
            path, f"its {report.on_land} point(s) in the box fall on land cells", "on land"
        )
    if report.in_grid == 0:
        raise OutsideGrid(
            path,
            f"no point inside the box lon {spec.lon_min}..{spec.lon_max}, "
            f"lat {spec.lat_min}..{spec.lat_max} in the dates {spec.start}..{spec.end}",
            "outside box",
        )
    report.first_day, report.last_day = int(day[inside].min()), int(day[inside].max())
    return report


def _scan_sst(path: Path, spec: GridSpec) -> FileReport:
    from oceaninterp.products import sst_l4

    sst = sst_l4.open(path)
    day = CellGrid.from_spec(spec).day_index(sst["time"].values)
    report = FileReport(
        path, product=sst_l4.NAME, role="sst", points=int(sst["sst"].notnull().sum())
    )
    inside = (day >= 0) & (day < spec.shape[0])
    if not inside.any():  # left out before its values are judged
        raise OutsideGrid(path, f"SST dates outside {spec.start}..{spec.end}", "outside period")
    if report.points == 0:
        raise InputError(path, "no valid 'analysed_sst' value (all fill or land)")
    report.first_day, report.last_day = int(day[inside].min()), int(day[inside].max())
    report.in_grid = report.points
    return report


def _handle(
    problem: OceanInterpError, report: FileReport, on_error: OnError, status: str = "skipped"
) -> None:
    """Raise ``problem`` (``on_error="fail"``) or mark ``report`` as not used."""
    if on_error == "fail":
        raise problem
    report.status = status
    report.problem = problem.problem if isinstance(problem, InputError) else str(problem)
    log.warning("skipped %s: %s", report.path, report.problem)


def _classify(path: Path, role: str) -> tuple[str, str]:
    """(role, product) of a file given as ``role`` (``"obs"`` or ``"sst"``).

    An L4 SST file among observations is used as SST, an MDT file is
    recognised (role ``"mdt"``); other gridded products are refused.
    """
    from oceaninterp.products import TRACK_PRODUCTS, detect, is_mdt

    if role == "obs" and is_mdt(path):
        return "mdt", "mdt"
    product = detect(path)
    if role == "sst":
        if product != "sst_l4":
            raise InputError(path, f"--sst expects an L4 SST file, this is {product}")
        return "sst", product
    if product == "sst_l4":
        log.debug("%s: L4 SST among the inputs, used as with --sst", path)
        return "sst", product
    if product not in TRACK_PRODUCTS:
        raise InputError(path, f"is a {product} gridded product, not observations")
    return "obs", product


def scan_inputs(
    obs_paths: list[Path],
    sst_paths: list[Path],
    spec: GridSpec,
    *,
    variable: str,
    drop_nadir: bool,
    on_error: OnError,
    progress: ProgressCallback | None,
    land: np.ndarray | None = None,
) -> list[FileReport]:
    """Reports for every input: what it is, whether it is used, and why not.

    Parameters
    ----------
    obs_paths, sst_paths
        Expanded inputs (:func:`expand_inputs`) given as observations and as SST.
    spec
        The grid: files with no point in its box or dates are left out.
    variable, drop_nadir
        What is read (see :func:`oceaninterp.grid.grid_files`).
    on_error
        ``"fail"``: raise the first problem; ``"skip"``: report it and go on.
    progress
        Called with (phase, done, total).
    land
        bool (latitude, longitude), True on land: points there are counted
        (``on_land``) and not in the grid.

    Raises
    ------
    InputError
        The first unusable file, with ``on_error="fail"``.
    """
    roles = {p: "sst" for p in sst_paths}
    for p in obs_paths:
        roles.setdefault(p, "obs")
    kept, left_out = deduplicate([*sst_paths, *obs_paths])
    reports: list[FileReport] = []
    for path, why in left_out.items():
        report = FileReport(path, role=roles[path], problem=why.problem)
        if why.status == "superseded":
            report.status, report.product = "superseded", "cmems_l3"
            log.info("%s %s (later production)", path, why.problem)
        else:
            status = "duplicate" if why.status == "duplicate" else "skipped"
            _handle(InputError(path, why.problem), report, on_error, status=status)
        reports.append(report)
    for done, path in enumerate(kept, start=1):
        role = roles[path]
        try:
            role, product = _classify(path, role)
            if role == "mdt":
                report = FileReport(path, status="mdt", product="mdt", role="mdt")
                report.problem = "mean dynamic topography, not observations (reconstruct --mdt)"
                log.info("%s: %s", path, report.problem)
            elif role == "obs":
                report = _scan_obs(path, product, spec, variable, drop_nadir, land)
            else:
                report = _scan_sst(path, spec)
        except OutsideGrid as exc:
            # Not an error: a folder of a whole archive, or of global files, gridded
            # over a few days and a region.
            report = FileReport(path, status=exc.status, role=role, problem=exc.problem)
            log.info("%s: %s", path, exc.problem)
        except InputError as exc:
            report = FileReport(path, role=role)
            _handle(exc, report, on_error)
        except READ_ERRORS as exc:
            report = FileReport(path, role=role)
            problem = InputError(path, f"cannot be read ({type(exc).__name__}: {exc})")
            _handle(problem, report, on_error)
        reports.append(report)
        if progress is not None:
            progress("reading files", done, len(kept))
    order = {p: i for i, p in enumerate([*obs_paths, *sst_paths])}
    return sorted(reports, key=lambda r: order.get(r.path, len(order)))
