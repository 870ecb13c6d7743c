"""Atomic writing of NetCDF and Zarr outputs, and opening of gridded files.

Every output goes first to a temporary sibling path and is renamed into place
only once complete, so a crash never leaves a half-written file under its final
name (DESIGN habit 11). While it is written, an output is locked
(``.<name>.lock`` beside it, ``fcntl.flock``, holding the writer's pid): a second
writer of the same output fails at once instead of silently replacing the
first's. Temporaries are named after their writer (``.tmp-<pid>.<host>-...``),
so those left by a killed process are removed by the next write in their folder
(:func:`remove_stale`). A write the file system refuses (disk full, read-only,
no permission) is one :class:`~oceaninterp.errors.OutputWriteError` line;
nothing under the final name changed.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import logging
import os
import re
import shutil
import socket
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import xarray as xr

from oceaninterp.errors import InputError, OutputExistsError, OutputLockedError, OutputWriteError

logger = logging.getLogger(__name__)

NETCDF_SUFFIXES = (".nc", ".nc4", ".netcdf")
ZARR_SUFFIXES = (".zarr",)
#: Prefixes of temporaries: atomic writes (``.tmp-``), replaced stores moved aside
#: (``.old-``), scratch stores (``.zarr-``, :func:`scratch_dir`).
SCRATCH_PREFIXES = (".tmp-", ".old-", ".zarr-")
#: Errors of the file system refusing a write, whichever file they name.
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS})
#: Errors of a refused write when they name the output, its temporary or lock, or (but
#: ENOENT) another file of its folder; elsewhere they may be an input's.
_DENIED_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.ENOENT})
_HOST = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:6]
_LOCK = re.compile(r"^\..+\.lock$")
_OWNED = re.compile(r"^\.(?:tmp|old|zarr)-(?P<pid>\d+)\.(?P<host>[0-9a-f]{6})-[0-9a-f]{8}")


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


def _same(a: Path, b: Path) -> bool:
    """Whether two paths name the same file (or would: equal once resolved)."""
    if a.resolve() == b.resolve():
        return True
    with contextlib.suppress(OSError):
        return os.path.samefile(a, b)
    return False


def check_output(
    path: str | Path, overwrite: bool = False, *, inputs: Iterable[str | Path] = ()
) -> Path:
    """Refuse an unusable output path; return it.

    Called when a command starts, it also removes what killed writers left in
    the output's folder (:func:`remove_stale`).

    Parameters
    ----------
    path
        The output file or store.
    overwrite
        Whether an existing output may be replaced.
    inputs
        The files the command reads: an output that is one of them is refused,
        even with ``overwrite`` (the input would be destroyed while it is read).

    Raises
    ------
    InputError
        A folder of ``path`` is a file (e.g. ``score -o maps.nc``), or ``path``
        is one of ``inputs``.
    OutputExistsError
        ``path`` exists and ``overwrite`` is false.
    """
    path = Path(path)
    for folder in path.parents:
        if folder.exists() or folder.is_symlink():
            if not folder.is_dir():
                raise InputError(
                    path, f"cannot write here: {folder} is a file, not a folder (give a folder)"
                )
            break
    for source in inputs:
        if _same(path, Path(source)):
            raise InputError(
                path, "the output is also an input: write it elsewhere (the input would be lost)"
            )
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path}: output exists (use --overwrite to replace it)")
    if path.parent.is_dir():
        remove_stale(path.parent)
    return path


def ensure_folder(path: str | Path, what: str = "output folder") -> Path:
    """Create folder ``path`` (and its parents) if needed; refuse a file in the way.

    Raises
    ------
    InputError
        ``path`` or one of its parents exists and is not a folder.
    OutputWriteError
        The file system refuses to create it (read-only, no permission, full).
    """
    path = Path(path)
    for folder in (path, *path.parents):
        if folder.exists() and not folder.is_dir():
            raise InputError(path, f"{what}: {folder} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise write_error(path, exc) from exc
    return path


def write_error(path: Path, exc: OSError) -> OutputWriteError:
    """The one-line error of a write the file system refused (``exc``) at ``path``."""
    return OutputWriteError(f"cannot write {path}: {exc.strerror or exc}; nothing was lost")


def _is_write_error(exc: OSError, final: Path, tmp: Path) -> bool:
    """Whether ``exc`` is the file system refusing the write of ``final`` through ``tmp``."""
    if exc.errno in _FULL_ERRNOS:
        return True
    if exc.errno not in _DENIED_ERRNOS:
        return False
    if exc.filename is None:
        return exc.errno != errno.ENOENT
    named = Path(os.fsdecode(exc.filename)).resolve()
    final, tmp = final.resolve(), tmp.resolve()
    if named in (final, tmp, _lock_path(final)) or tmp in named.parents:
        return True
    return exc.errno != errno.ENOENT and named.parent == final.parent


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _owner() -> str:
    """``<pid>.<host>``: who writes a temporary (see :func:`remove_stale`)."""
    return f"{os.getpid()}.{_HOST}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def remove_stale(folder: str | Path) -> list[Path]:
    """Remove the temporaries and output locks in ``folder`` left by dead processes.

    A temporary's name holds its writer's pid and a digest of its host name;
    those of live processes and of other hosts (a shared file system) are kept.
    An output lock (:func:`output_lock`) is stale when nobody holds it.

    Returns
    -------
    list of Path
        What was removed.
    """
    removed = []
    with contextlib.suppress(OSError):
        for entry in list(Path(folder).iterdir()):
            if _LOCK.match(entry.name):
                if _remove_unheld_lock(entry):
                    removed.append(entry)
                continue
            match = _OWNED.match(entry.name)
            if match is None or match["host"] != _HOST or _alive(int(match["pid"])):
                continue
            with contextlib.suppress(OSError):
                _remove(entry)
                removed.append(entry)
                logger.info("removed %s, left by a killed process", entry)
    return removed


def _remove_unheld_lock(lock: Path) -> bool:
    """Remove an output lock file that holds a pid and that nobody holds; return whether."""
    try:
        fd = os.open(lock, os.O_RDWR)
    except OSError:
        return False
    try:
        if not os.pread(fd, 32, 0).decode(errors="replace").strip().isdigit():
            return False  # not one of ours
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # held: its writer is alive
        try:
            if os.stat(lock).st_ino != os.fstat(fd).st_ino:
                return False  # replaced meanwhile by a new writer's lock
            os.unlink(lock)  # under the flock: a new holder checks the inode (output_lock)
        except FileNotFoundError:
            return False
        logger.info("removed %s, left by a killed process", lock)
        return True
    finally:
        os.close(fd)


def scratch_dir(folder: str | Path, prefix: str = ".zarr-") -> Path:
    """Create and return an empty scratch folder in ``folder``, named after its writer.

    Remove it when done; if the process is killed first, the next write in
    ``folder`` removes it (:func:`remove_stale`).
    """
    path = Path(folder) / f"{prefix}{_owner()}-{uuid.uuid4().hex[:8]}"
    path.mkdir()
    return path


def _lock_path(final: Path) -> Path:
    return final.with_name(f".{final.name}.lock")


@contextlib.contextmanager
def output_lock(final: str | Path) -> Iterator[Path]:
    """Hold ``.<name>.lock`` beside ``final`` while it is written; yield the lock file.

    The lock is ``fcntl.flock`` (the kernel drops it when its holder dies, even
    by SIGKILL); the file holds the holder's pid and is removed on release.

    Raises
    ------
    OutputLockedError
        Another process is writing ``final`` now.
    """
    final = Path(final)
    lock = _lock_path(final)
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise OutputLockedError(
                f"{final}: another process (pid {holder}) is writing this output now; "
                "wait for it to finish or choose another output"
            ) from None
        try:  # the holder may have removed the file between our open and flock: retry
            current = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            current = False
        if current:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield lock
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)
        os.close(fd)  # releases the flock


@contextlib.contextmanager
def atomic_path(final: str | Path, *, overwrite: bool = True) -> Iterator[Path]:
    """Yield a temporary sibling of ``final``; rename it onto ``final`` on success.

    On any exception the temporary path is removed and ``final`` is untouched.
    Works for files and for directories (Zarr stores). While the body runs,
    ``final`` is locked (:func:`output_lock`); temporaries of ``final`` and
    those of dead processes in its folder are removed first.

    Parameters
    ----------
    final
        The output path.
    overwrite
        Whether an existing ``final`` may be replaced; ``False`` re-checks under
        the lock, so a concurrent writer's output is never silently replaced.

    Raises
    ------
    OutputLockedError
        Another process is writing ``final``.
    OutputExistsError
        ``final`` appeared meanwhile and ``overwrite`` is false.
    OutputWriteError
        The file system refused the write (no space, read-only, no permission).
    """
    final = Path(final)
    tmp = final.with_name(f".tmp-{_owner()}-{uuid.uuid4().hex[:8]}-{final.name}")
    try:
        ensure_folder(final.parent)
        with output_lock(final):
            _remove_leftovers(final)
            try:
                yield tmp
                if final.exists() and not overwrite:
                    raise OutputExistsError(
                        f"{final}: output exists (written meanwhile by another process?)"
                    )
                if final.exists() and final.is_dir():
                    # os.replace cannot replace a non-empty directory: move the old one aside.
                    old = final.with_name(f".old-{_owner()}-{uuid.uuid4().hex[:8]}-{final.name}")
                    os.replace(final, old)
                    os.replace(tmp, final)
                    _remove(old)
                else:
                    os.replace(tmp, final)
            finally:
                if tmp.exists() or tmp.is_symlink():
                    _remove(tmp)
    except OSError as exc:
        if _is_write_error(exc, final, tmp):
            raise write_error(final, exc) from exc
        raise


def _remove_leftovers(final: Path) -> None:
    """Remove the temporaries of ``final`` (its lock is held) and stale ones beside it."""
    mine = re.compile(
        rf"^\.(?:tmp|old)-(?:\d+\.[0-9a-f]{{6}}-)?[0-9a-f]{{8}}-{re.escape(final.name)}$"
    )
    for entry in list(final.parent.iterdir()):
        if mine.match(entry.name):
            logger.info("removing %s, left by an interrupted write", entry)
            _remove(entry)
    remove_stale(final.parent)


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
    with atomic_path(path, overwrite=overwrite) as tmp:
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
