"""Which input files to read: expansion, fingerprints, latest production, de-duplication.

The first step of ``oceaninterp grid`` (and of any caller gridding a set of
files): turn what the user typed (files, folders, glob patterns) into the list
of files to read, each once.

- :func:`expand_inputs`: folders give their NetCDF files (recursively, broken
  links included so that they are reported), patterns their matches;
- :func:`fingerprint`: equal for byte-identical copies of one file;
- :func:`deduplicate`: drops copies (same content under another name) and the
  older NRT productions of a CMEMS day (:func:`~oceaninterp.products.cmems_l3.latest_production`);
- :func:`refuse_output_among_inputs`: an output that is one of its inputs;
- :func:`time_span`: the first and last observation day of files, reading only
  their time variable (the default dates of ``oceaninterp grid``).
"""

from __future__ import annotations

import glob as _glob
import hashlib
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from oceaninterp.errors import InputError

log = logging.getLogger(__name__)

#: Suffixes of the files taken from a folder.
INPUT_SUFFIXES = (".nc", ".nc4", ".netcdf")


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


def fingerprint(path: Path) -> str:
    """Size plus a hash of the first and last MiB: equal for copies of one file.

    Raises
    ------
    InputError
        When the file cannot be read (permissions, I/O error).
    """
    try:
        size = path.stat().st_size
        digest = hashlib.blake2b(str(size).encode(), digest_size=16)
        with path.open("rb") as f:
            digest.update(f.read(1 << 20))
            if size > 2 << 20:
                f.seek(-(1 << 20), os.SEEK_END)
                digest.update(f.read())
    except OSError as exc:
        raise InputError(path, f"cannot be read ({exc.strerror or exc})") from exc
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
    silently; a copy under another name is a ``"duplicate"``; an older CMEMS
    NRT production of the same day is ``"superseded"``.

    Returns
    -------
    kept, left_out
        Files to read (input order kept) and, per file left out, why.
    """
    from oceaninterp.products import detect
    from oceaninterp.products.cmems_l3 import latest_production

    left_out: dict[Path, LeftOut] = {}
    seen_paths: set[Path] = set()
    seen: dict[str, Path] = {}
    candidates: list[Path] = []
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
        try:
            key = fingerprint(path)
        except InputError as exc:
            left_out[path] = LeftOut("unreadable", exc.problem)
            continue
        if key in seen:
            left_out[path] = LeftOut("duplicate", f"duplicate of {seen[key]} (same content)")
            continue
        seen[key] = path
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


def refuse_output_among_inputs(output: Path, inputs: Iterable[Path]) -> None:
    """Raise when ``output`` is one of ``inputs`` (or, for a Zarr store, holds one).

    Paths are compared resolved (links, ``..``), so ``grid F -o ./F --overwrite``
    is caught.

    Raises
    ------
    InputError
        Naming the output.
    """
    target = output.resolve()
    for path in inputs:
        resolved = path.resolve()
        if resolved == target or target in resolved.parents:
            raise InputError(
                output,
                f"the output is also an input ({path}); write the cube under another name",
            )


def time_span(paths: Iterable[Path]) -> tuple[np.datetime64, np.datetime64] | None:
    """First and last day (``datetime64[D]``) of the observations in ``paths``.

    Only the time variable of along-track and swath files is read; files of
    other kinds (SST, MDT, maps) and files that cannot be read are passed over
    (reading them later reports the problem).

    Returns
    -------
    (first, last) or None
        ``None`` when no observation time was found.
    """
    from oceaninterp.products import TRACK_PRODUCTS, detect
    from oceaninterp.products._netcdf import decoded_times, load

    first: np.datetime64 | None = None
    last: np.datetime64 | None = None
    for path in paths:
        try:
            if detect(path) not in TRACK_PRODUCTS:
                continue
            times = decoded_times(path, load(path, ["time"])["time"])
        except (InputError, KeyError):
            continue
        times = times[~np.isnat(times)]
        if times.size == 0:
            continue
        lo, hi = times.min().astype("datetime64[D]"), times.max().astype("datetime64[D]")
        first = lo if first is None else min(first, lo)
        last = hi if last is None else max(last, hi)
    if first is None or last is None:
        return None
    return first, last
