"""Where units run: in this process, or on a dask.distributed cluster.

Both executors take plain functions and arguments and hand back results in
completion order, so the runner records each finished unit in the manifest
as soon as it is done, whichever executor ran it.

A cluster is either an existing scheduler (``[dask] scheduler``), whose
workers must see the output root and the input files at the same paths, or a
LocalCluster of ``workers`` single-threaded processes started for the run.
GPUs: see :func:`oceaninterp.pipeline.tasks.select_device`.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from oceaninterp.errors import ConfigError
from oceaninterp.pipeline.config import RunDask

logger = logging.getLogger(__name__)

#: Seconds to wait for a ``[dask] scheduler`` to answer before the run fails.
CONNECT_TIMEOUT_S = 10

#: A unit of work: (tag handed back with the outcome, function, args, kwargs).
Job = tuple[Any, Callable[..., Any], tuple, dict]


class Executor(Protocol):
    """Runs ``fn(*args, **kwargs)`` for each tag; yields ``(tag, future)`` as they finish.

    ``in_process`` says whether the jobs run in this process, one after the
    other (they may then be given callbacks, e.g. to report progress).
    """

    in_process: bool

    def map_unordered(self, jobs: list[Job]) -> Iterator[tuple[Any, concurrent.futures.Future]]: ...

    def close(self) -> None: ...


class SerialExecutor:
    """Runs every job in this process, one after the other."""

    in_process = True

    def map_unordered(self, jobs: list[Job]) -> Iterator[tuple[Any, concurrent.futures.Future]]:
        for tag, fn, args, kwargs in jobs:
            future: concurrent.futures.Future = concurrent.futures.Future()
            try:
                future.set_result(fn(*args, **kwargs))
            except Exception as exc:  # noqa: BLE001 - handed to the runner, which reports it
                future.set_exception(exc)
            yield tag, future

    def close(self) -> None:
        """Nothing to release."""


class DaskExecutor:
    """Runs jobs on a dask.distributed cluster.

    Parameters
    ----------
    settings
        The ``[dask]`` table: a scheduler address, or a number of local workers.
    """

    in_process = False

    def __init__(self, settings: RunDask) -> None:
        from distributed import Client, LocalCluster

        self._cluster = None
        # distributed's INFO chatter (scheduler, nanny, worker starts) is for --log-level debug.
        self._distributed_level = logging.getLogger("distributed").level
        if not logging.getLogger().isEnabledFor(logging.DEBUG):
            logging.getLogger("distributed").setLevel(logging.WARNING)
        if settings.scheduler is not None:
            try:
                self.client = Client(settings.scheduler, timeout=CONNECT_TIMEOUT_S)
            except (OSError, TimeoutError) as exc:
                logging.getLogger("distributed").setLevel(self._distributed_level)
                raise ConfigError(
                    f"[dask] scheduler {settings.scheduler}: no answer within "
                    f"{CONNECT_TIMEOUT_S} s ({' '.join(str(exc).split())})"
                ) from None
            logger.info("dask: connected to %s", settings.scheduler)
        else:
            self._cluster = LocalCluster(
                n_workers=settings.workers,
                processes=True,
                threads_per_worker=1,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            self.client = Client(self._cluster)
            logger.info("dask: started a LocalCluster of %d workers", settings.workers)

    def map_unordered(self, jobs: list[Job]) -> Iterator[tuple[Any, concurrent.futures.Future]]:
        from distributed import as_completed

        tags = {}
        futures = []
        for tag, fn, args, kwargs in jobs:
            future = self.client.submit(fn, *args, pure=False, **kwargs)
            tags[future.key] = tag
            futures.append(future)
        for future in as_completed(futures):
            yield tags[future.key], _Outcome(future)

    def close(self) -> None:
        """Close the client and the LocalCluster started for the run, quietly.

        Connections that break while the cluster shuts down (``CommClosedError``,
        logged with a traceback by distributed) are expected at that point: the
        results are in, so they are neither logged nor raised.
        """
        from distributed.comm.core import CommClosedError

        loggers = [logging.getLogger(name) for name in ("distributed", "tornado", "asyncio")]
        levels = [lg.level for lg in loggers]
        for lg in loggers:
            lg.setLevel(logging.CRITICAL)
        try:
            with contextlib.suppress(CommClosedError, OSError, TimeoutError):
                self.client.close()
            if self._cluster is not None:
                with contextlib.suppress(CommClosedError, OSError, TimeoutError):
                    self._cluster.close()
        finally:
            for lg, level in zip(loggers, levels, strict=True):
                lg.setLevel(level)
            logging.getLogger("distributed").setLevel(self._distributed_level)


class _Outcome(concurrent.futures.Future):
    """A finished dask future seen through the :class:`concurrent.futures.Future` API."""

    def __init__(self, future: Any) -> None:
        super().__init__()
        try:
            self.set_result(future.result())
        except Exception as exc:  # noqa: BLE001 - the task's own error, re-raised by result()
            self.set_exception(exc)


def make_executor(settings: RunDask) -> Executor:
    """A :class:`DaskExecutor` when ``[dask]`` asks for one, else a :class:`SerialExecutor`."""
    return DaskExecutor(settings) if settings.distributed else SerialExecutor()
