"""Batch pipelines (``oceaninterp run``): incremental, crash-safe, optionally distributed.

:func:`run_pipeline` is the entry point; see :mod:`oceaninterp.pipeline.plan`
for the layout of an output root and how a run decides what is stale.

Modules: ``config`` (the pipeline TOML's tables), ``runner`` (the stages of a
run), ``plan`` (units, their keys, the output layout), ``catalogue`` (input
files), ``land`` (``[inputs] land_mask``), ``executor`` (in this process or on
dask), ``tasks`` (what one unit runs), ``manifest`` and ``lock`` (what is done,
who runs), ``runlog`` (log file, SIGTERM, scratch) and ``summary`` (what a run did).
"""

from __future__ import annotations

from oceaninterp.pipeline.lock import PipelineLockedError, RunLock
from oceaninterp.pipeline.runner import run_pipeline
from oceaninterp.pipeline.summary import RunSummary, StageResult

__all__ = ["PipelineLockedError", "RunLock", "RunSummary", "StageResult", "run_pipeline"]
