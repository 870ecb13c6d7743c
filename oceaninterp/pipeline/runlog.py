"""What surrounds a pipeline run: its log file, SIGTERM, a killed run's scratch, one-line errors.

A run copies the package's log records to ``logs/run-<UTC time>-<pid>.log``
under its output root (:func:`run_log`; tracebacks go to the file only unless
the console is at DEBUG), turns SIGTERM into :class:`SystemExit`
(:func:`terminate_as_exit`) so that it stops as on Ctrl-C, and first removes
what a killed run left behind (:func:`remove_scratch`).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import os
import shutil
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from oceaninterp.errors import OceanInterpError
from oceaninterp.io import SCRATCH_PREFIXES, ensure_folder, write_error

logger = logging.getLogger(__name__)

#: Folders of an output root: the tasks' scratch (removed after a run), the run logs.
WORK_DIR = "work"
LOG_DIR = "logs"


@contextlib.contextmanager
def run_log(root: Path) -> Iterator[Path]:
    """Copy the ``oceaninterp`` log records to ``root/logs/run-<UTC time>-<pid>.log``.

    The file gets INFO and above (DEBUG when the console is at DEBUG), whatever
    the console's level, which the console handlers keep. Tracebacks go to the
    file only; the console shows them at DEBUG (:class:`_NoTraceback`).
    """
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = root / LOG_DIR / f"run-{stamp}-{os.getpid()}.log"
    ensure_folder(path.parent)
    try:
        handler = _RunLogHandler(path)
    except OSError as exc:
        raise write_error(path, exc) from exc
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    top = logging.getLogger()
    console_level = top.getEffectiveLevel()
    file_level = min(console_level, logging.INFO)
    handler.setLevel(file_level)
    package = logging.getLogger("oceaninterp")
    previous = package.level
    quiet = [h for h in top.handlers if h.level == logging.NOTSET]
    for h in quiet:  # the console keeps its level while the package logs INFO to the file
        h.setLevel(console_level)
    formatters = {h: h.formatter for h in top.handlers}
    if console_level > logging.DEBUG:
        for h in top.handlers:
            h.setFormatter(_NoTraceback(h.formatter))
    package.setLevel(file_level)
    package.addHandler(handler)
    try:
        yield path
    finally:
        package.removeHandler(handler)
        package.setLevel(previous)
        for h in quiet:
            h.setLevel(logging.NOTSET)
        for h, formatter in formatters.items():
            h.setFormatter(formatter)
        handler.close()


class _RunLogHandler(logging.FileHandler):
    """The run's log file; a failing write (disk full) warns once instead of a traceback each."""

    _failed = False

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        if not self._failed:
            self._failed = True
            sys.stderr.write(f"warning: cannot write the run log {self.baseFilename}; going on\n")


class _NoTraceback(logging.Formatter):
    """Formats a record as ``formatter`` does, without its traceback (kept in the log file).

    Parameters
    ----------
    formatter
        The console handler's own formatter (``None``: logging's default).
    """

    def __init__(self, formatter: logging.Formatter | None) -> None:
        super().__init__()
        self.inner = formatter or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info = record.exc_text = record.stack_info = None
        try:
            return self.inner.format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved


@contextlib.contextmanager
def terminate_as_exit() -> Iterator[None]:
    """Turn SIGTERM (cron's or a batch system's time limit) into SystemExit while running.

    The run then stops like on Ctrl-C: the dask cluster it started is shut
    down, the lock released and the log closed. (SIGKILL cannot be caught; the
    outputs and manifest are safe either way.)
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def remove_scratch(root: Path) -> None:
    """Remove what an interrupted run left: temporary files of atomic writes, ``work/``."""
    shutil.rmtree(root / WORK_DIR, ignore_errors=True)
    for path in sorted(root.rglob("*"), reverse=True):
        if path.name.startswith(SCRATCH_PREFIXES) and path.exists():
            logger.info("removing %s, left by an interrupted run", path)
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()


def one_line(exc: BaseException) -> str:
    """``exc`` as one line: its message (with its type unless it is ours), whitespace folded."""
    text = " ".join(str(exc).split())
    if not isinstance(exc, OceanInterpError):
        text = f"{type(exc).__name__}: {text}"
    return text if len(text) <= 500 else text[:497] + "..."
