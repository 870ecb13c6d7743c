"""``oceaninterp run``: drive ingest -> grid -> reconstruct -> score from a pipeline TOML.

A run opens its own log file (``logs/run-<UTC time>-<pid>.log``; a run
refused by the lock logs that too), takes the output root's lock, removes what
a killed run left behind (:mod:`oceaninterp.pipeline.runlog`), then for each
stage plans its units (:mod:`oceaninterp.pipeline.plan`), runs the stale ones
(in this process or on a dask cluster) and records each finished one in the
manifest at once. It ends with a one-line summary; the run is OK only when every input file
was readable and every unit succeeded.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from oceaninterp.config import OIConfig
from oceaninterp.errors import ConfigError, InputError, OceanInterpError
from oceaninterp.io import ensure_folder
from oceaninterp.pipeline import plan, tasks
from oceaninterp.pipeline.catalogue import InputFile, catalogue, expand, fingerprint, near
from oceaninterp.pipeline.config import RunConfig, RunReconstruct
from oceaninterp.pipeline.executor import Executor, Job, make_executor
from oceaninterp.pipeline.land import LandMask, resolve_land_mask
from oceaninterp.pipeline.lock import RunLock
from oceaninterp.pipeline.manifest import Manifest
from oceaninterp.pipeline.runlog import (
    WORK_DIR,
    one_line,
    remove_scratch,
    run_log,
    terminate_as_exit,
)
from oceaninterp.pipeline.summary import RunSummary, StageResult

logger = logging.getLogger(__name__)

#: ``progress(stage, done, total)``: ``stage`` is ``"grid"``, ``"maps/<name>"`` or
#: ``"score"``; ``done`` (units finished, fractional inside a block mapped in this
#: process) out of ``total`` units to compute in this run.
RunProgress = Callable[[str, float, int], None]
#: The most of a job's units its own progress (OI blocks, tile batches) reports.
INNER_MAX = 0.99


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
        A pipeline TOML file or a loaded :class:`~oceaninterp.pipeline.config.RunConfig`.
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


class _StopRun(Exception):
    """A unit failed under ``on_error = "fail"``."""


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
        self._land: LandMask | None = None

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
        from oceaninterp.model.checkpoint import load_checkpoint

        checkpoint = self._checkpoint(method)
        assert checkpoint is not None  # RunReconstruct requires one for 4dvarnet
        return load_checkpoint(checkpoint).description.tile["time"] // 2

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

    def land_mask(self) -> LandMask:
        """The ``[inputs] land_mask`` (:func:`~oceaninterp.pipeline.land.resolve_land_mask`)."""
        if self._land is None:
            self._land = resolve_land_mask(self.cfg)
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
                    "normalise": method.normalise,
                    "oi_weight": method.oi_weight,
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
