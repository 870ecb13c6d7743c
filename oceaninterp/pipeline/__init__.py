"""Batch pipelines (``oceaninterp run``): incremental, crash-safe, optionally distributed.

:func:`run_pipeline` is the entry point; see :mod:`oceaninterp.pipeline.plan`
for the layout of an output root and how a run decides what is stale.
"""

from __future__ import annotations

from oceaninterp.pipeline.lock import PipelineLockedError, RunLock
from oceaninterp.pipeline.runner import run_pipeline
from oceaninterp.pipeline.summary import RunSummary, StageResult

__all__ = ["PipelineLockedError", "RunLock", "RunSummary", "StageResult", "run_pipeline"]
