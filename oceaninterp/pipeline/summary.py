"""What a pipeline run did: one :class:`StageResult` per stage, one :class:`RunSummary`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


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
