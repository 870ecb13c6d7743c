"""One run at a time per output root: an advisory file lock naming its holder.

The lock is ``fcntl.flock`` on ``OUTPUT_ROOT/.lock``. The kernel drops it when
the holding process dies, SIGKILL included, so a lock left by a dead run is
never an obstacle: the next run takes it and logs that it recovered a stale
lock (the file still names the dead holder). While held, the file holds
``pid``, ``host`` and the start time of the holder, which the refusal message
quotes. ``flock`` is reliable on local file systems; on NFS run a given
output root from one host only.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import json
import logging
import os
import socket
import time
from pathlib import Path
from types import TracebackType

from oceaninterp.errors import OceanInterpError

logger = logging.getLogger(__name__)

LOCK_NAME = ".lock"


class PipelineLockedError(OceanInterpError):
    """Another live run holds the lock of this output root."""


class RunLock:
    """An exclusive lock on a pipeline's output root.

    Parameters
    ----------
    root
        The output root; the lock file is ``root/.lock``.
    wait
        Seconds to wait for a running holder to finish; 0 refuses at once.
    poll
        Seconds between attempts while waiting.

    Examples
    --------
    >>> with RunLock(root):  # doctest: +SKIP
    ...     ...  # nothing else runs on root here
    """

    def __init__(self, root: str | Path, *, wait: float = 0.0, poll: float = 0.5) -> None:
        self.path = Path(root) / LOCK_NAME
        self.wait = wait
        self.poll = poll
        self._fd: int | None = None
        #: What the lock file said when it was taken over from a dead run, else None.
        self.recovered: dict | None = None

    def holder(self) -> dict:
        """The holder recorded in the lock file (empty when none)."""
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return {}
        try:
            info = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError:
            return {"raw": text[:200]}
        return info if isinstance(info, dict) else {}

    def acquire(self) -> None:
        """Take the lock, waiting up to :attr:`wait` seconds.

        Raises
        ------
        PipelineLockedError
            When another live process still holds it after the wait.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    info = self.holder()
                    who = (
                        f"pid {info.get('pid', '?')} on {info.get('host', '?')} "
                        f"since {info.get('started', '?')}"
                    )
                    raise PipelineLockedError(
                        f"{self.path.parent}: another run is in progress ({who}); "
                        "use --wait SECONDS to wait for it"
                    ) from None
                time.sleep(self.poll)
        self._fd = fd
        previous = self.holder()
        if previous:
            self.recovered = previous
            logger.warning(
                "recovered a stale lock left by pid %s on %s (started %s), which is no "
                "longer running",
                previous.get("pid", "?"),
                previous.get("host", "?"),
                previous.get("started", "?"),
            )
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        os.fsync(fd)

    def release(self) -> None:
        """Empty the lock file (a clean exit) and release the lock."""
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
