"""What the benchmark experiments (``benchmarks/skill.py``, ``benchmarks/robustness.py``) share.

* :class:`Stages`: the steps the pipeline has not (simulate a truth, train a
  model, tune an OI...), each writing one file or folder, made again whenever
  a fingerprint of its inputs (:func:`oceaninterp.ingest.fingerprint`) or its
  recipe changes, skipped otherwise (an interrupted experiment resumes);
* :func:`run_pipeline_from`: an experiment's maps and scores made by
  :func:`oceaninterp.pipeline.run_pipeline` from a pipeline TOML template of
  ``pipelines/experiments/`` with some of its keys changed;
* the leaderboard: :func:`~oceaninterp.scores.mse_gain`, :func:`compare`, :func:`score_cells` and
  :func:`markdown_table`;
* the command line's ``--work`` and ``--results`` (:func:`experiment_parser`).

Nothing here imports torch or the pipeline until it is used.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import platform
import shutil
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w

from oceaninterp.errors import InputError
from oceaninterp.ingest import fingerprint
from oceaninterp.io import atomic_path
from oceaninterp.scores import mse_gain

logger = logging.getLogger(__name__)

#: Suffix of the record written beside each stage's output.
RECORD_SUFFIX = ".stage.json"
#: File of the SHA-256 of the stages' inputs, by size and mtime, in the work folder.
FINGERPRINTS = "fingerprints.json"
#: The figures of :func:`oceaninterp.report.score_maps` copied beside an experiment's results.
SCORE_FIGURES = ("spectral_scores.png", "snapshots.png")
#: A score record's columns in the leaderboards (header cells).
SCORE_HEADER = ("mu", "sigma", "lambda_x (deg)", "lambda_t (days)", "RMSE (cm)")

# ------------------------------------------------------------------------ stages


def write_json(path: Path, payload: Any) -> Path:
    """Write ``payload`` as indented JSON to ``path``, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    return path


def write_markdown(path: Path, text: str) -> str:
    """Write a results page ``text`` to ``path``, atomically; return the text."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return text


def record_path(out: Path) -> Path:
    """The record of the stage that makes ``out`` (``<out>.stage.json`` beside it)."""
    return out.with_name(out.name + RECORD_SUFFIX)


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


@dataclass
class Stages:
    """The stages of one experiment under ``work``, each made once per fingerprint.

    A stage's key is a SHA-256 over its recipe (JSON) and the content hashes
    of its input files (the files under an input folder, by relative name):
    the stage is skipped when its output exists and its record holds the same
    key; otherwise what an older recipe left is removed and the stage is made
    again. Content hashes are cached in ``work/fingerprints.json`` by size and
    modification time, so an unchanged input is not read twice.

    Attributes
    ----------
    work
        The experiment's folder (created).
    """

    work: Path
    cache: dict[str, dict[str, Any]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        path = self.work / FINGERPRINTS
        try:
            self.cache = json.loads(path.read_text()) if path.exists() else {}
        except (OSError, ValueError):
            logger.warning("%s unreadable: input files are hashed again", path)
            self.cache = {}

    def key(self, inputs: Sequence[Path], recipe: Mapping[str, Any]) -> str:
        """Hex SHA-256 of ``recipe`` and the content of the ``inputs`` (files or folders).

        Raises
        ------
        InputError
            When an input is missing or unreadable.
        """
        hashes: list[Any] = []
        for path in inputs:
            if path.is_dir():
                files = sorted(p for p in path.rglob("*") if p.is_file())
                hashes.append({str(p.relative_to(path)): fingerprint(p, self.cache) for p in files})
            elif path.exists():
                hashes.append(fingerprint(path, self.cache))
            else:
                raise InputError(path, "input of a stage: no such file or folder")
        write_json(self.work / FINGERPRINTS, self.cache)
        text = json.dumps({"recipe": recipe, "inputs": hashes}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def record(self, out: Path) -> dict[str, Any]:
        """The record of the stage that made ``out`` (``{}`` when there is none)."""
        path = record_path(out)
        try:
            return dict(json.loads(path.read_text())) if path.exists() else {}
        except (OSError, ValueError):
            return {}

    def interrupted(self, out: Path, inputs: Sequence[Path], recipe: Mapping[str, Any]) -> bool:
        """Whether an attempt of this very stage (same key) started and did not finish."""
        record = self.record(out)
        return record.get("key") == self.key(inputs, recipe) and "wall_s" not in record

    def make(
        self,
        out: Path,
        what: str,
        make: Callable[[], Mapping[str, Any] | Any],
        *,
        inputs: Sequence[Path] = (),
        recipe: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Make ``out`` by ``make()`` unless it is up to date; return its record.

        Parameters
        ----------
        out
            The file or folder the stage writes.
        what
            The stage, for the log.
        make
            Writes ``out``; what it returns, when a mapping, is kept in the record.
        inputs
            Files and folders the stage reads.
        recipe
            Everything else that decides the output (JSON-serialisable; paths
            and other values are written by ``str``).

        Returns
        -------
        dict
            ``key``, ``wall_s`` (seconds) and what ``make`` returned.
        """
        key = self.key(inputs, recipe or {})
        record = self.record(out)
        if out.exists() and record.get("key") == key and "wall_s" in record:
            logger.info("skip %s: %s is up to date", what, out)
            return record
        if record.get("key") != key:
            _remove(out)  # made from other inputs or by another recipe
        out.parent.mkdir(parents=True, exist_ok=True)
        write_json(record_path(out), {"key": key})  # started: see interrupted()
        logger.info("%s -> %s", what, out)
        started = time.perf_counter()
        extra = make()
        record = {"key": key, "wall_s": time.perf_counter() - started}
        record.update(extra if isinstance(extra, Mapping) else {})
        write_json(record_path(out), record)
        logger.info("%s done in %.0f s", what, record["wall_s"])
        return record


# -------------------------------------------------------------------- pipeline


def toml_text(tables: Mapping[str, Mapping[str, Any] | Sequence[Mapping[str, Any]]]) -> str:
    """A pipeline TOML (:func:`tomli_w.dumps`): tables of values, lists of tables as ``[[name]]``.

    ``None`` values are left out and paths written as strings.
    """

    def plain(value: Any) -> Any:
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, Mapping):
            return {k: plain(v) for k, v in value.items() if v is not None}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value

    return tomli_w.dumps(plain(tables))


def pipeline_from_template(
    template: Path,
    out: Path,
    changes: Mapping[str, Mapping[str, Any]],
    reconstruct: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """Write to ``out`` the pipeline TOML ``template`` with some keys changed.

    Parameters
    ----------
    template
        A pipeline TOML (``pipelines/experiments/*.toml``).
    out
        The TOML written. Relative paths in it are relative to its folder, so
        ``changes`` should give every path the template holds, absolute.
    changes
        Table -> keys to set (``{"grid": {"start": "2022-10-01"}}``); a table
        absent from the template is added, a ``None`` value removes a key.
    reconstruct
        ``[[reconstruct]]`` name -> keys to set in that method's table; a name
        absent from the template is an error (KeyError).
    """
    with template.open("rb") as fh:
        tables: dict[str, Any] = tomllib.load(fh)
    for name, keys in changes.items():
        tables[name] = {**tables.get(name, {}), **keys}
    methods = {m["name"]: m for m in tables.get("reconstruct", [])}
    for name, keys in (reconstruct or {}).items():
        methods[name].update(keys)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        tmp.write_text(f"# made from {template} by oceaninterp.experiment\n\n{toml_text(tables)}")
    return out


def oi_table(cfg: Any) -> dict[str, Any]:
    """An :class:`~oceaninterp.config.OIConfig` as a pipeline's ``oi`` table (no ``None``)."""
    from dataclasses import asdict

    return {k: v for k, v in asdict(cfg).items() if v is not None}


@dataclass(frozen=True)
class PipelineRun:
    """What :func:`run_pipeline_from` gives back.

    Attributes
    ----------
    scores
        Method name -> its score record (``scores/scores.json`` of the output root).
    scores_dir
        The folder of ``scores.json`` and the figures.
    wall_s
        Stage (``"grid"``, ``"maps/<name>"``, ``"score"``) -> seconds its units
        took when last computed (kept in ``wall_s.json`` of the output root).
    input_errors
        Input files the run could not read (left out with ``on_error = "skip"``).
    """

    scores: dict[str, dict[str, Any]]
    scores_dir: Path
    wall_s: dict[str, float]
    input_errors: dict[str, str]


def run_pipeline_from(
    config: Path,
    start: str,
    end: str,
    *,
    allow_input_errors: bool = False,
) -> PipelineRun:
    """Run the pipeline ``config`` (computing only what is stale); score ``start`` .. ``end``.

    Parameters
    ----------
    config
        A pipeline TOML with a ``[score]`` table.
    start, end
        ISO days scored (``oceaninterp run --start/--end``): the map blocks
        holding them are mapped whole.
    allow_input_errors
        Accept unreadable input files left out (``on_error = "skip"``).

    Raises
    ------
    InputError
        When a unit failed, an input file was unreadable (unless allowed) or
        the scores are missing; the run's summary line says which.
    """
    from oceaninterp.pipeline import run_pipeline

    seen: dict[str, tuple[float, float]] = {}

    def progress(stage: str, done: float, total: int) -> None:
        now = time.perf_counter()
        seen[stage] = (seen.get(stage, (now, now))[0], now)

    summary = run_pipeline(config, start=start, end=end, progress=progress)
    failed = any(s.failed for s in summary.stages.values()) or summary.stopped
    if failed or (summary.input_errors and not allow_input_errors):
        raise InputError(config, f"pipeline failed: {summary.line()}")
    scores_dir = summary.output_root / "scores"
    if not (scores_dir / "scores.json").exists():
        raise InputError(config, f"no scores: {summary.line()}")
    walls_path = summary.output_root / "wall_s.json"
    walls = json.loads(walls_path.read_text()) if walls_path.exists() else {}
    walls.update({stage: last - first for stage, (first, last) in seen.items()})
    write_json(walls_path, walls)
    records = json.loads((scores_dir / "scores.json").read_text())
    return PipelineRun(
        scores={r["name"]: r for r in records},
        scores_dir=scores_dir,
        wall_s=walls,
        input_errors=dict(summary.input_errors),
    )


# ------------------------------------------------------------------ leaderboard


def compare(record: Mapping[str, Any], baseline: Mapping[str, Any]) -> dict[str, Any]:
    """How a method's score record compares with a baseline's (records of ``score_maps``).

    Returns
    -------
    dict
        ``mse_gain`` (:func:`~oceaninterp.scores.mse_gain`), ``worse`` (the method's MSE is
        higher) and ``worse_on``: the scores among MSE, lambda_x and lambda_t
        (smaller is better) where the method is worse.
    """
    gain = mse_gain(record["rmse_m"], baseline["rmse_m"])
    worse_on = ["MSE"] if gain < 0 else []
    for key, name in (("lambda_x_deg", "lambda_x"), ("lambda_t_days", "lambda_t")):
        if record[key] is not None and baseline[key] is not None and record[key] > baseline[key]:
            worse_on.append(name)
    return {"mse_gain": gain, "worse": gain < 0, "worse_on": worse_on}


def without_spectral(record: Mapping[str, Any]) -> dict[str, Any]:
    """A score record with its spectral scores (lambda_x, lambda_t) set to None.

    :func:`oceaninterp.scores.psd_scores` sets land cells to zero in the error
    and in the reference alike: with much of a box on land the coastline's own
    spectrum dominates, and the wavelengths and periods it gives do not
    measure the maps.
    """
    return {**record, "lambda_x_deg": None, "lambda_x_km": None, "lambda_t_days": None}


def cell(value: float | None, spec: str) -> str:
    """``value`` formatted by ``spec``, or ``"n/a"`` for None."""
    return "n/a" if value is None else format(value, spec)


def score_cells(record: Mapping[str, Any]) -> list[str]:
    """The cells of :data:`SCORE_HEADER` for a score record (RMSE in cm)."""
    rmse = record["rmse_m"]
    return [
        cell(record["mu"], ".3f"),
        cell(record["sigma"], ".3f"),
        cell(record["lambda_x_deg"], ".2f"),
        cell(record["lambda_t_days"], ".1f"),
        cell(None if rmse is None else rmse * 100, ".2f"),
    ]


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A markdown table of ``header`` and ``rows`` (cells as text)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def copy_figures(source: Path, results: Path, prefix: str, names: Sequence[str]) -> None:
    """Copy the figures ``names`` of ``source`` (when present) to ``results/<prefix><name>``."""
    results.mkdir(parents=True, exist_ok=True)
    for name in names:
        if (source / name).exists():
            shutil.copyfile(source / name, results / f"{prefix}{name}")


def shift(day: str, days: int) -> str:
    """ISO date ``day`` moved by ``days`` days."""
    return str(np.datetime64(day, "D") + np.timedelta64(days, "D"))


def host() -> dict[str, Any]:
    """The hardware and software an experiment ran on (imports torch)."""
    import torch

    return {
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0],
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.is_available(),
        "python": platform.python_version(),
    }


# ------------------------------------------------------------------ command line


def experiment_parser(doc: str, name: str, quick: str) -> argparse.ArgumentParser:
    """An experiment's command line: described by ``doc``'s first paragraph, with
    ``--work`` and ``--results`` (see :func:`experiment_folders`) and ``--quick``
    (its smoke run, described by ``quick``)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=quick)
    parser.add_argument(
        "--work",
        type=Path,
        default=None,
        help=f"intermediate files, kept while up to date (default runs/{name}, "
        f"runs/{name}-quick with --quick)",
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=None,
        help=f"where {name}.md, {name}.json and the figures go (default "
        "benchmarks/results, WORK/results with --quick)",
    )
    return parser


def experiment_folders(args: argparse.Namespace, name: str, root: Path) -> tuple[Path, Path]:
    """The work and results folders of parsed ``args`` (with ``quick``) under project ``root``."""
    work = args.work or root / "runs" / (f"{name}-quick" if args.quick else name)
    results = args.results or (work / "results" if args.quick else root / "benchmarks" / "results")
    return Path(work), Path(results)
