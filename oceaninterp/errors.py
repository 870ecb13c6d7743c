"""Exceptions that the command line turns into one clear line and a non-zero exit."""

from __future__ import annotations

from pathlib import Path


class OceanInterpError(Exception):
    """Base class of every error meant for the user (no traceback is shown)."""


class InputError(OceanInterpError):
    """A file or value given by the user is unusable.

    Parameters
    ----------
    path
        The offending file, or ``None`` when the problem is not tied to a file.
    problem
        What is wrong, phrased for the user (e.g. "missing variable 'sla_filtered'").
    """

    def __init__(self, path: str | Path | None, problem: str) -> None:
        self.path = None if path is None else Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path is not None else problem)


class ConfigError(OceanInterpError):
    """A configuration (TOML) key is missing or has a bad value; the message names the key."""


class OutputExistsError(OceanInterpError):
    """The output path exists and neither --overwrite nor --skip-existing was given."""


class OutputWriteError(OceanInterpError):
    """The file system refused to write an output (disk full, read-only, no permission).

    Raised by :func:`oceaninterp.io.atomic_path` once the temporary is removed,
    so nothing under the output's final name changed.
    """


class OutputLockedError(OceanInterpError):
    """Another process is writing the same output now (:func:`oceaninterp.io.output_lock`)."""
