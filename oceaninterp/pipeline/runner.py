"""``oceaninterp run``: drive ingest -> grid -> reconstruct -> score from a pipeline TOML.

A run opens its own log file (``logs/run-<UTC time>-<pid>.log``; a run
refused by the lock logs that too), takes the output root's lock, removes what
a killed run left behind (temporary files of atomic writes, scratch folders),
then for each stage plans
its units (:mod:`oceaninterp.pipeline.plan`), runs the stale ones (in this
process or on a dask cluster) and records each finished one in the manifest at
once. It ends with a one-line summary; the run is OK only when every input file
was readable and every unit succeeded.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import logging
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from oceaninterp.config import LAND_COASTLINE, LAND_NONE, OIConfig, RunConfig, RunReconstruct
from oceaninterp.errors import ConfigError, InputError, OceanInterpError
from oceaninterp.io import SCRATCH_PREFIXES, ensure_folder, write_error
from oceaninterp.pipeline import plan, tasks
from oceaninterp.pipeline.catalogue import InputFile, catalogue, expand, fingerprint, near
from oceaninterp.pipeline.executor import Executor, Job, make_executor
from oceaninterp.pipeline.lock import RunLock
from oceaninterp.pipeline.manifest import Manifest

logger = logging.getLogger(__name__)

WORK_DIR = "work"
LOG_DIR = "logs"

#: ``progress(stage, done, total)``: ``stage`` is ``"grid"``, ``"maps/<name>"`` or
#: ``"score"``; ``done`` (units finished, fractional inside a block mapped in this
#: process) out of ``total`` units to compute in this run.
RunProgress = Callable[[str, float, int], None]
#: The most of a job's units its own progress (OI blocks, tile batches) reports.
INNER_MAX = 0.99


@dataclass
class StageResult:
    """What one stage did.

    Attributes
    ----------
    computed
        Ids of the units run (in a dry run: that would run).
    current
        Number of units already up to date.
    failed
        Unit id -> error message.
    waiting
        Why the stage did not run (e.g. maps it needs are missing), or ``None``.
    """

    computed: list[str] = field(default_factory=list)
    current: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    waiting: str | None = None

    def counts(self, dry_run: bool = False) -> str:
        """``"3 computed, 27 up to date"`` (``"to compute"`` in a dry run), and failures."""
        done = "to compute" if dry_run else "computed"
        text = f"{len(self.computed)} {done}, {self.current} up to date"
        text += f", {len(self.failed)} FAILED" if self.failed else ""
        return text + (f", waiting: {self.waiting}" if self.waiting else "")


@dataclass
class RunSummary:
    """The outcome of :func:`run_pipeline`.

    Attributes
    ----------
    name, output_root, days
        The pipeline, where it wrote, and the days it was asked to map.
    dry_run
        Whether nothing was computed (``--dry-run``).
    stages
        ``"grid"``, ``"maps/<name>"``... and ``"score"`` -> :class:`StageResult`.
    input_errors
        Unreadable input file -> why.
    superseded
        Input files skipped for a later production date of the same day.
    scores
        The score records (when the score stage ran).
    log_file
        This run's log.
    elapsed_s
        Wall-clock seconds.
    """

    name: str
    output_root: Path
    days: list[str]
    dry_run: bool = False
    stages: dict[str, StageResult] = field(default_factory=dict)
    input_errors: dict[str, str] = field(default_factory=dict)
    superseded: int = 0
    scores: list[dict[str, Any]] = field(default_factory=list)
    log_file: Path | None = None
    elapsed_s: float = 0.0
    stopped: str | None = None

    @property
    def ok(self) -> bool:
        """True when every input file was read and every unit succeeded."""
        return (
            not self.input_errors
            and self.stopped is None
            and not any(s.failed for s in self.stages.values())
        )

    @property
    def computed(self) -> int:
        """Units computed (or, in a dry run, to compute)."""
        return sum(len(s.computed) for s in self.stages.values())

    def line(self) -> str:
        """The one-line summary that ends the log."""
        status = "DRY RUN" if self.dry_run else ("OK" if self.ok else "FAILED")
        span = f"{self.days[0]}..{self.days[-1]}" if self.days else "no day"
        parts = [f"oceaninterp run {self.name}: {status}", f"{len(self.days)} days {span}"]
        parts += [f"{name} {stage.counts(self.dry_run)}" for name, stage in self.stages.items()]
        if self.input_errors:
            parts.append(f"{len(self.input_errors)} unreadable input file(s)")
        if self.stopped:
            parts.append(f"stopped: {self.stopped}")
        parts.append(f"{self.elapsed_s:.1f} s")
        return " | ".join(parts)


def target_days(cfg: RunConfig, start: str | None, end: str | None) -> list[str]:
    """The days to map: the grid's period, narrowed by ``start``/``end`` (ISO dates)."""
    first, last = str(np.datetime64(cfg.grid.start, "D")), str(np.datetime64(cfg.grid.end, "D"))
    for value, name in ((start, "--start"), (end, "--end")):
        if value is not None:
            try:
                np.datetime64(value, "D")
            except ValueError:
                raise ConfigError(
                    f"{name}: expected an ISO date (YYYY-MM-DD), got {value!r}"
                ) from None
    first = max(first, str(np.datetime64(start, "D"))) if start else first
    last = min(last, str(np.datetime64(end, "D"))) if end else last
    return plan.day_range(first, last) if first <= last else []


def run_pipeline(
    config: str | Path | RunConfig,
    *,
    output_root: str | Path | None = None,
    start: str | None = None,
    end: str | None = None,
    dry_run: bool = False,
    wait: float = 0.0,
    progress: RunProgress | None = None,
) -> RunSummary:
    """Run (or, with ``dry_run``, plan) a pipeline; compute only what is stale.

    Parameters
    ----------
    config
        A pipeline TOML file or a loaded :class:`~oceaninterp.config.RunConfig`.
    output_root
        Overrides ``[pipeline] output_root``.
    start, end
        Narrow the run to this ISO range of days (inclusive) within ``[grid]``'s:
        the map blocks holding them are mapped whole, and the cubes they read
        gridded.
    dry_run
        Compute nothing, write nothing: return the plan (units that would run).
    wait
        Seconds to wait for another run holding the lock (0: refuse at once).
    progress
        Called as ``progress(stage, done, total)`` (:data:`RunProgress`): with
        ``done = 0`` when a stage with units to compute starts, then as units
        finish (a map block run in this process also reports its OI blocks or
        tile batches, as a fraction of its days); ``total`` counts the units
        to compute (grid days, map days, the score). Not called in a dry run.

    Returns
    -------
    RunSummary
        Check :attr:`RunSummary.ok`; :meth:`RunSummary.line` is the summary.

    Raises
    ------
    ConfigError
        The TOML is invalid.
    PipelineLockedError
        Another run holds the output root.
    """
    t0 = time.perf_counter()
    cfg = config if isinstance(config, RunConfig) else RunConfig.from_toml(config)
    root = Path(output_root).resolve() if output_root else cfg.path(cfg.pipeline.output_root)
    what = "-o/--output" if output_root else "[pipeline] output_root"
    for folder in (root, *root.parents):
        if folder.exists() and not folder.is_dir():
            raise InputError(root, f"{what}: {folder} is a file, not a folder")
    summary = RunSummary(
        name=cfg.pipeline.name, output_root=root, days=target_days(cfg, start, end), dry_run=dry_run
    )
    if dry_run:
        _Run(cfg, Manifest(root), summary, executor=None).execute()
        summary.elapsed_s = time.perf_counter() - t0
        return summary
    ensure_folder(root, what)
    with run_log(root) as log_file:
        summary.log_file = log_file
        logger.info(
            "oceaninterp run %s: output root %s, days %s..%s",
            cfg.pipeline.name,
            root,
            summary.days[0] if summary.days else "-",
            summary.days[-1] if summary.days else "-",
        )
        try:
            with terminate_as_exit(), RunLock(root, wait=wait):
                remove_scratch(root)
                executor = make_executor(cfg.dask)
                try:
                    _Run(
                        cfg, Manifest(root), summary, executor=executor, progress=progress
                    ).execute()
                finally:
                    executor.close()
                shutil.rmtree(root / WORK_DIR, ignore_errors=True)  # every task is over
        except OceanInterpError as exc:  # logged for cron, then shown by the CLI
            logger.error("oceaninterp run %s: FAILED | %s", cfg.pipeline.name, exc)
            raise
        except Exception as exc:  # a bug: its traceback goes to the log file, then up
            logger.error(
                "oceaninterp run %s: FAILED | %s", cfg.pipeline.name, one_line(exc), exc_info=exc
            )
            raise
        except (KeyboardInterrupt, SystemExit):
            logger.error(
                "oceaninterp run %s: INTERRUPTED | finished units are kept; "
                "the next run does the rest",
                cfg.pipeline.name,
            )
            raise
        summary.elapsed_s = time.perf_counter() - t0
        log = logger.info if summary.ok else logger.error
        log("%s", summary.line())
    return summary


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


class _StopRun(Exception):
    """A unit failed under ``on_error = "fail"``."""


@dataclass(frozen=True)
class _LandMask:
    """``[inputs] land_mask`` as each stage takes it.

    Attributes
    ----------
    grid
        ``grid_files(land_mask=...)``: True (coastline), False (none) or a file.
    reconstruct
        ``reconstruct(land=...)``: ``"coastline"``, ``"none"`` or a file.
    key
        What identifies the mask in the units' keys: its kind and a digest of
        its cells on the run's grid (so a mask file rewritten with the same
        values, or a Zarr copy of it, changes nothing).
    """

    grid: bool | str
    reconstruct: str
    key: Any


class _Run:
    """One execution (or dry run) of the stages over a manifest."""

    def __init__(
        self,
        cfg: RunConfig,
        manifest: Manifest,
        summary: RunSummary,
        executor: Executor | None,
        progress: RunProgress | None = None,
    ) -> None:
        self.cfg = cfg
        self.manifest = manifest
        self.summary = summary
        self.executor = executor
        self.dry_run = executor is None
        self.progress = progress
        self._mdt_digest: tuple[Path, str] | None = None
        self._land: _LandMask | None = None

    # -- stages ------------------------------------------------------------------------------

    def execute(self) -> None:
        """Ingest, grid the cubes every map block needs, map the stale blocks, score."""
        try:
            period = (
                str(np.datetime64(self.cfg.grid.start, "D")),
                str(np.datetime64(self.cfg.grid.end, "D")),
            )
            halos = {m.name: self.halo(m) for m in self.cfg.reconstruct}
            blocks = {
                m.name: plan.map_blocks(self.summary.days, m.block_days, period)
                for m in self.cfg.reconstruct
            }
            cube_days = set(self.summary.days)
            for name, method_blocks in blocks.items():
                if method_blocks:
                    span = [method_blocks[0][0], method_blocks[-1][-1]]
                    cube_days.update(plan.grid_days(span, halos[name]))
            days = sorted(cube_days)
            self.land_mask()  # a bad [inputs] land_mask stops the run before any work
            observations, sst = self.ingest(days)
            cube_keys, cube_files = self.grid(observations, sst, days)
            maps = {
                m.name: self.maps(m, halos[m.name], blocks[m.name], cube_keys, cube_files)
                for m in self.cfg.reconstruct
            }
            if self.cfg.score is not None and maps:
                self.score(maps)
        except _StopRun as stop:
            self.summary.stopped = str(stop)
            logger.error('stopping (on_error = "fail"): %s', stop)

    def ingest(self, days: list[str]) -> tuple[list[InputFile], list[InputFile]]:
        """Find, de-duplicate and fingerprint the input files that may hold ``days``."""
        from oceaninterp.products.cmems_l3 import latest_production

        base = Path(self.cfg.base_dir)
        root = self.manifest.root
        paths = [p for p in expand(self.cfg.inputs.observations, base) if root not in p.parents]
        if self.cfg.inputs.latest_production:
            paths, superseded = latest_production(paths)
            for old, new in superseded.items():
                logger.debug("%s superseded by %s (later production date)", old.name, new.name)
            self.summary.superseded = len(superseded)
        sst_paths = expand(self.cfg.inputs.sst, base) if self.cfg.inputs.sst else []
        if days:  # files dated by their names outside the days are not even opened
            paths, sst_paths = near(paths, days[0], days[-1]), near(sst_paths, days[0], days[-1])
        cache = dict(self.manifest.inputs)
        observations = catalogue(paths, options={"variable": self.cfg.inputs.variable}, cache=cache)
        sst = catalogue(sst_paths, options={}, cache=cache)
        logger.info(
            "ingest: %d observation file(s) (%d superseded), %d SST file(s)",
            len(observations),
            self.summary.superseded,
            len(sst),
        )
        for f in observations + sst:
            if f.error is not None:
                self.summary.input_errors[f.path] = f.error
                logger.error("input file %s: %s", f.path, f.error)
        seen = {f.path for f in observations + sst} | {str(p) for p in self._references()}
        self.manifest.inputs = {p: r for p, r in cache.items() if p in seen}  # forget files gone
        if not self.dry_run:
            self.manifest.save()
        if self.summary.input_errors and self.cfg.pipeline.on_error == "fail":
            raise _StopRun(f"{len(self.summary.input_errors)} unreadable input file(s)")
        return observations, sst

    def halo(self, method: RunReconstruct) -> int:
        """Days of cubes read each side of a mapped day by ``method``."""
        if method.halo_days is not None:
            return method.halo_days
        if method.method == "oi":
            oi = method.oi or OIConfig()
            return int(np.ceil(oi.time_window * oi.lt))
        from oceaninterp.model.checkpoint import describe_checkpoint

        checkpoint = self._checkpoint(method)
        assert checkpoint is not None  # RunReconstruct requires one for 4dvarnet
        meta = describe_checkpoint(checkpoint)
        return int(meta["tile"]["time"]) // 2

    def _references(self) -> list[Path]:
        """Checkpoints, truth and withheld tracks named by the pipeline."""
        paths = [self.cfg.path(m.checkpoint) for m in self.cfg.reconstruct if m.checkpoint]
        if self.cfg.score is not None:
            if self.cfg.score.truth is not None:
                paths.append(self.cfg.path(self.cfg.score.truth))
            paths += expand(self.cfg.score.tracks, Path(self.cfg.base_dir))
        return paths

    def _fingerprint(self, path: Path) -> str:
        """SHA-256 of a checkpoint or reference file, cached in the manifest by size and mtime."""
        digest = fingerprint(path, self.manifest.inputs)
        if not self.dry_run:
            self.manifest.save()  # a no-op unless the file is new or changed
        return digest

    def _mdt(self) -> tuple[Path, str] | None:
        """The ``[inputs] mdt`` file and the digest of its values, or ``None``.

        The digest (:func:`oceaninterp.mdt.mdt_digest`) is of the MDT as read,
        so a file rewritten with the same values (or a Zarr copy) changes no key.
        """
        if self.cfg.inputs.mdt is None:
            return None
        if self._mdt_digest is None:
            from oceaninterp.mdt import mdt_digest, read_mdt

            path = self.cfg.path(self.cfg.inputs.mdt)
            self._mdt_digest = (path, mdt_digest(read_mdt(path)))
        return self._mdt_digest

    def land_mask(self) -> _LandMask:
        """The ``[inputs] land_mask`` for each stage, checked against the run's grid.

        Raises
        ------
        InputError
            Naming the key and the file: no such file, not a land mask, or not
            covering the grid.
        """
        if self._land is not None:
            return self._land
        from oceaninterp import cube, landmask

        if self.cfg.inputs.land_mask == LAND_NONE:
            self._land = _LandMask(grid=False, reconstruct=cube.NO_LAND, key=LAND_NONE)
            return self._land
        path = self.cfg.land_mask_file()
        if path is not None and not path.exists():
            raise InputError(
                path,
                f"[inputs] land_mask: no such file (expected {LAND_COASTLINE!r}, "
                f"{LAND_NONE!r} or a land mask file)",
            )
        spec = self.cfg.grid
        try:
            cells = landmask.land_mask(spec.latitudes(), spec.longitudes(), path)
        except InputError as exc:
            raise InputError(exc.path, f"[inputs] land_mask: {exc.problem}") from None
        digest = hashlib.sha256(np.packbits(np.asarray(cells, dtype=bool)).tobytes()).hexdigest()
        if path is None:
            self._land = _LandMask(
                grid=True,
                reconstruct=cube.COASTLINE,
                key={"mask": LAND_COASTLINE, "cells": digest},
            )
        else:
            self._land = _LandMask(
                grid=str(path), reconstruct=str(path), key={"mask": "file", "cells": digest}
            )
        logger.info(
            "land mask: %s, %d of %d cells land",
            landmask.source_name(path),
            int(np.count_nonzero(cells)),
            int(np.size(cells)),
        )
        return self._land

    def _checkpoint(self, method: RunReconstruct) -> Path | None:
        if method.checkpoint is None:
            return None
        path = self.cfg.path(method.checkpoint)
        if not path.is_file():
            raise InputError(path, f"checkpoint of [[reconstruct]] {method.name!r}: no such file")
        return path

    def grid(
        self, observations: list[InputFile], sst: list[InputFile], days: list[str]
    ) -> tuple[dict[str, str | None], dict[str, Path | None]]:
        """Grid the stale ``days``; return each day's cube key and file (None when missing)."""
        land = self.land_mask()
        units = plan.plan_grid(self.cfg, days, observations, sst, self.manifest, land_mask=land.key)
        stage = self.summary.stages.setdefault("grid", StageResult())
        stale = [u for u in units if not u.current]
        stage.current = len(units) - len(stale)
        stage.computed = [u.id for u in stale]
        keys: dict[str, str | None] = {u.day: u.key for u in units}
        if self.dry_run:
            files = {u.day: u.output if u.inputs else None for u in units}
            return keys, files
        spec = self.cfg.grid
        box = {
            "lon_min": spec.lon_min,
            "lon_max": spec.lon_max,
            "lat_min": spec.lat_min,
            "lat_max": spec.lat_max,
            "resolution": spec.resolution,
        }
        jobs: list[Job] = []
        for u in stale:
            if not u.inputs:  # no observation that day: an empty day, no file
                if u.output.is_dir():
                    shutil.rmtree(u.output)
                elif u.output.exists():
                    u.output.unlink()
                self.manifest.record(u.id, u.key, [], n_obs=0)
                continue
            jobs.append(
                (
                    u,
                    tasks.grid_day,
                    (
                        list(u.inputs),
                        list(u.sst),
                        str(u.output),
                        {**box, "start": u.day, "end": u.day},
                        self.cfg.inputs.variable,
                        f"oceaninterp run {self.cfg.pipeline.name}",
                        land.grid,
                    ),
                    {},
                )
            )
        empty = len(stale) - len(jobs)  # days without observations: done at once
        for u, outcome in self._run_jobs(jobs, stage, "grid", done=empty):
            self.manifest.record(u.id, u.key, [u.output], **outcome)
        for u in units:
            if u.id in stage.failed:
                keys[u.day] = None
        files = {u.day: u.output if u.output.exists() and keys[u.day] else None for u in units}
        return keys, files

    def maps(
        self,
        method: RunReconstruct,
        halo: int,
        blocks: list[list[str]],
        cube_keys: dict[str, str | None],
        cube_files: dict[str, Path | None],
    ) -> list[plan.MapDay | None]:
        """Map the stale blocks of ``method``; return its map days (None: failed)."""
        checkpoint = self._checkpoint(method)
        mdt = self._mdt()
        land = self.land_mask()
        map_days, stale = plan.plan_maps(
            method,
            halo,
            None if checkpoint is None else self._fingerprint(checkpoint),
            blocks,
            cube_keys,
            self.manifest,
            self.cfg.pipeline.format,
            mdt_sha256=None if mdt is None else mdt[1],
            land_mask=land.key,
        )
        stage = self.summary.stages.setdefault(f"maps/{method.name}", StageResult())
        stage.computed = [m.id for b in stale for m in b.days]
        stage.current = len(map_days) - len(stage.computed)
        if self.dry_run:
            return list(map_days)
        work = self.manifest.root / WORK_DIR
        jobs = [
            (
                block,
                tasks.reconstruct_block,
                (
                    [
                        (d, None if cube_files.get(d) is None else str(cube_files[d]))
                        for d in block.window
                    ],
                    [(m.day, str(m.output)) for m in block.days],
                ),
                {
                    "method": method.method,
                    "checkpoint": None if checkpoint is None else str(checkpoint),
                    "device": method.device,
                    "oi": method.oi,
                    "work_dir": str(work / f"{method.name}-{block.days[0].day}"),
                    "history": f"oceaninterp run {self.cfg.pipeline.name}",
                    "mdt": None if mdt is None else str(mdt[0]),
                    "land": land.reconstruct,
                },
            )
            for block in stale
        ]
        for block, _ in self._run_jobs(jobs, stage, f"maps/{method.name}", inner=True):
            for m in block.days:  # a block is recorded whole, in one manifest write
                self.manifest.record(m.id, m.key, [m.output], save=False)
            self.manifest.save()
        return [m if m.id not in stage.failed else None for m in map_days]

    def score(self, maps: dict[str, list[plan.MapDay | None]]) -> None:
        """Score every method's maps of the run's days once they are all up to date."""
        stage = self.summary.stages.setdefault("score", StageResult())
        wanted = set(self.summary.days)
        maps = {
            name: [m for m in days if m is None or m.day in wanted] for name, days in maps.items()
        }
        missing = sum(m is None for days in maps.values() for m in days)
        if missing:
            stage.waiting = f"{missing} map day(s) missing"
            logger.warning("score: not run, %s", stage.waiting)
            return
        complete = {name: [m for m in days if m is not None] for name, days in maps.items()}
        assert self.cfg.score is not None
        truth = None if self.cfg.score.truth is None else self.cfg.path(self.cfg.score.truth)
        tracks = expand(self.cfg.score.tracks, Path(self.cfg.base_dir))
        for path in [truth] if truth is not None else []:
            if not path.is_file():
                raise InputError(path, "[score] truth: no such file")
        reference = [self._fingerprint(p) for p in ([truth] if truth else []) + tracks]
        unit = plan.plan_score(reference, complete, self.manifest)
        if unit.current:
            stage.current = 1
            return
        stage.computed = [unit.id]
        if self.dry_run:
            return
        jobs = [
            (
                unit,
                tasks.score_all,
                ({name: [str(m.output) for m in days] for name, days in complete.items()},),
                {
                    "truth": None if truth is None else str(truth),
                    "tracks": [str(p) for p in tracks],
                    "output_dir": str(unit.output_dir),
                    "work_dir": str(self.manifest.root / WORK_DIR / "score"),
                },
            )
        ]
        for unit_done, records in self._run_jobs(jobs, stage, "score"):
            self.summary.scores = records
            outputs = sorted(p for p in unit_done.output_dir.rglob("*") if p.is_file())
            self.manifest.record(unit_done.id, unit_done.key, outputs)
            for record in records:
                logger.info("score %s", record)

    # -- execution ---------------------------------------------------------------------------

    def _run_jobs(
        self, jobs: list[Job], stage: StageResult, name: str, *, done: int = 0, inner: bool = False
    ) -> Iterator[tuple[Any, Any]]:
        """Run ``jobs``; yield ``(unit, result)`` for each success, record each failure.

        Progress (``self.progress``) is reported for stage ``name`` in units
        (a map block counts its days): ``done`` units already finished without
        a job, then each job's units as it ends. With ``inner``, a job run in
        this process also gets a ``progress(done, total)`` keyword argument
        (:func:`oceaninterp.reconstruct.reconstruct`'s) reported as a
        fraction of its units.
        """
        assert self.executor is not None
        if not jobs:
            return
        total = done + sum(len(job[0].unit_ids) for job in jobs)
        state = {"finished": done}  # units of the jobs ended (the jobs in process run in order)
        report = self.progress
        if report is not None:
            report(name, done, total)
            if inner and getattr(self.executor, "in_process", False):
                jobs = [
                    (unit, fn, args, {**kwargs, "progress": self._inner(name, unit, state, total)})
                    for unit, fn, args, kwargs in jobs
                ]
        for unit, future in self.executor.map_unordered(jobs):
            state["finished"] += len(unit.unit_ids)
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - a unit's failure is reported, not fatal
                message = one_line(exc)
                for uid in unit.unit_ids:
                    stage.failed[uid] = message
                stage.computed = [c for c in stage.computed if c not in stage.failed]
                logger.error("%s failed: %s", unit.id, message, exc_info=exc)
                if self.cfg.pipeline.on_error == "fail":
                    raise _StopRun(f"{unit.id} failed: {message}") from exc
                if report is not None:
                    report(name, state["finished"], total)
                continue
            logger.info("%s done", unit.id)
            if report is not None:
                report(name, state["finished"], total)
            yield unit, result

    def _inner(
        self, name: str, unit: Any, state: dict[str, int], total: int
    ) -> Callable[[int, int], None]:
        """A ``progress(done, total)`` of one job run in this process, reported for ``name``."""
        report = self.progress
        assert report is not None
        weight = len(unit.unit_ids)

        def inner(step: int, steps: int) -> None:
            # A job is done only once its files are written: its own steps stop short of it.
            fraction = min(INNER_MAX, max(0.0, step / steps)) if steps else 0.0
            report(name, state["finished"] + weight * fraction, total)

        return inner
