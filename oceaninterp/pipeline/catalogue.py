"""The ingest stage: find the input files, fingerprint them, learn their days.

Input patterns are expanded as ``oceaninterp grid`` expands its inputs
(:func:`oceaninterp.ingest.expand_inputs`: ``glob`` with ``**``, folders give
their NetCDF files), CMEMS files superseded by a later production date of the
same product and day are dropped
(:func:`oceaninterp.products.cmems_l3.latest_production`), and every remaining
file gets its fingerprint (:func:`oceaninterp.ingest.fingerprint`: the SHA-256
of its bytes, with its size and modification time) and the list of UTC days its
observations fall on, read through the product registry. Both are cached in the
manifest: an unchanged file (same size and mtime) is neither hashed nor opened
again; a touched file with the same bytes keeps its hash, so it causes no work
downstream. A file that cannot be read is recorded with its error and reported
on every run until it changes.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from oceaninterp.errors import InputError
from oceaninterp.ingest import expand_inputs, fingerprint

logger = logging.getLogger(__name__)

#: SWOT L3 names carry the pass's first and last times: ..._<YYYYMMDD>T<HHMMSS>_<...>T<...>_...
_SWOT_TIMES = re.compile(r"_(\d{8})T\d{6}_(\d{8})T\d{6}_")
#: GHRSST L4 names start with the analysis time: <YYYYMMDD>000000-...
_GHRSST_TIME = re.compile(r"^(\d{8})\d{6}-")


@dataclass(frozen=True)
class InputFile:
    """One input file as the pipeline sees it.

    Attributes
    ----------
    path
        Absolute path.
    sha256
        Hex SHA-256 of the file's bytes.
    days
        ISO days (UTC) holding at least one of its observations.
    error
        Why the file cannot be read, or ``None``.
    """

    path: str
    sha256: str
    days: tuple[str, ...]
    error: str | None = None


def expand(patterns: tuple[str, ...], base_dir: Path) -> list[Path]:
    """Files of ``patterns`` (relative to ``base_dir``), sorted, without duplicates.

    Each pattern is expanded by :func:`oceaninterp.ingest.expand_inputs`
    (a glob, ``**`` allowed, or a folder of NetCDF files); a pattern that gives
    no file is logged.
    """
    found: set[Path] = set()
    for pattern in patterns:
        full = base_dir / Path(pattern).expanduser()
        # absolute, but symlinks kept: file names carry the day and production date
        matches = [Path(os.path.abspath(m)) for m in expand_inputs([full]) if m.is_file()]
        if not matches:
            logger.warning("input pattern %s matches no file", full)
        found.update(matches)
    return sorted(found)


def name_days(path: Path) -> tuple[str, str] | None:
    """First and last ISO day of a product file's data, read from its name.

    Known conventions only: CMEMS/DUACS ``..._<day>_<production>.nc``, SWOT L3
    ``..._<start>_<end>_v*.nc``, GHRSST ``<day>000000-...nc``. ``None`` when
    the name follows none of them (the file is then opened to learn its days).
    """
    from oceaninterp.products.cmems_l3 import production_key

    def iso(compact: str) -> str:
        return f"{compact[:4]}-{compact[4:6]}-{compact[6:]}"

    cmems = production_key(path)
    if cmems is not None:
        return iso(cmems[1]), iso(cmems[1])
    for pattern in (_SWOT_TIMES, _GHRSST_TIME):
        match = pattern.search(path.name)
        if match:
            return iso(match.group(1)), iso(match.groups()[-1])
    return None


def near(paths: list[Path], first: str, last: str) -> list[Path]:
    """The files that may hold data from ``first`` to ``last`` (ISO days), by name.

    A file whose name dates it (:func:`name_days`) is kept when its days, widened
    by one day each side (passes across midnight), meet the range; a file not
    dated by its name is always kept. This spares opening a whole archive to
    map a few days of it.
    """
    lo = str(np.datetime64(first, "D") - np.timedelta64(1, "D"))
    hi = str(np.datetime64(last, "D") + np.timedelta64(1, "D"))
    kept = []
    for path in paths:
        days = name_days(path)
        if days is None or (days[0] <= hi and days[1] >= lo):
            kept.append(path)
    return kept


def product_days(path: Path, **options: Any) -> tuple[str, ...]:
    """ISO days (UTC) of the data in a product file (track points or map times).

    Parameters
    ----------
    path
        A file readable by :func:`oceaninterp.products.open_product`.
    **options
        Reader options (e.g. ``variable="adt"``).

    Raises
    ------
    InputError
        When the file is of no known format, lacks the variable, or has no time.
    """
    from oceaninterp.products import open_product

    with open_product(path, **options) as data:
        if "time" not in data.variables:
            raise InputError(path, "the product has no time variable")
        times = np.asarray(data["time"].values).astype("datetime64[D]")
    return tuple(str(d) for d in np.unique(times[~np.isnat(times)]))


def catalogue(
    paths: list[Path],
    *,
    options: dict[str, Any],
    cache: dict[str, dict[str, Any]],
) -> list[InputFile]:
    """Fingerprint ``paths`` and read the days they cover, reusing ``cache``.

    Parameters
    ----------
    paths
        Input files.
    options
        Reader options of the grid stage (e.g. ``{"variable": "adt"}``; a file
        that cannot be read with them is an error).
    cache
        Per-path records of a previous run (the manifest's ``inputs``); updated
        in place with the new records.

    Returns
    -------
    list of InputFile
        One per path, in the same order.
    """
    files = []
    for path in paths:
        record = cache.get(str(path)) or {}
        known = record.get("options") == options and "days" in record
        previous = record.get("sha256")
        digest = fingerprint(path, cache)  # read again only when its size or mtime changed
        if known and digest == previous:
            # unchanged, or touched with the same bytes: nothing downstream changes
            files.append(_from_record(path, cache[str(path)]))
            continue
        try:
            days, error = product_days(path, **options), None
        except InputError as exc:
            days, error = (), exc.problem
        except (OSError, ValueError) as exc:  # a damaged file that the reader did not catch
            days, error = (), f"cannot be read ({type(exc).__name__}: {exc})"
        cache[str(path)].update(options=options, days=list(days), error=error)
        files.append(_from_record(path, cache[str(path)]))
    return files


def _from_record(path: Path, record: dict[str, Any]) -> InputFile:
    return InputFile(
        path=str(path),
        sha256=record["sha256"],
        days=tuple(record["days"]),
        error=record.get("error"),
    )
