"""The manifest: what a pipeline has finished, and from which inputs.

``OUTPUT_ROOT/manifest.json`` records, for every finished unit of work (one
day's cube, one day's map of a method, one method's scores), a *key* - a
SHA-256 over everything the unit was computed from: the input files' content
hashes, the grid, the method and checkpoint, the keys of the cubes it read -
and the size and modification time of each output. A unit is up to date when
its recorded key equals the key planned now and every recorded output is still
there unchanged; only the other units are computed.

The manifest also caches, per input file, its size, mtime and content hash and
the days it covers, so an unchanged file is neither re-hashed nor re-opened.

It is rewritten atomically (temporary file, fsync, rename) after each finished
unit, and only when something changed: a run killed at any moment leaves the
previous or the next complete manifest, never a torn one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from oceaninterp.io import atomic_path

logger = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1


def digest(payload: Any) -> str:
    """SHA-256 (hex) of a JSON-serialisable value, keys sorted."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def file_stat(path: Path) -> dict[str, int]:
    """Size (bytes) and modification time (ns) of a file, or the sum over a Zarr folder."""
    if path.is_dir():
        files = [p for p in sorted(path.rglob("*")) if p.is_file()]
        return {
            "size": sum(p.stat().st_size for p in files),
            "mtime_ns": max((p.stat().st_mtime_ns for p in files), default=0),
        }
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


class Manifest:
    """The record of finished work under an output root.

    Parameters
    ----------
    root
        The pipeline's output root; the manifest is ``root/manifest.json``.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.path = self.root / MANIFEST_NAME
        self.inputs: dict[str, dict[str, Any]] = {}
        self.units: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text())
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                # Never written so (saves are atomic): damaged by hand or by the disk.
                # Forgetting it only costs recomputation; the next save replaces it.
                logger.warning("%s is unreadable (%s): every unit is recomputed", self.path, exc)
                data = {}
            if isinstance(data, dict) and data.get("version") == MANIFEST_VERSION:
                self.inputs = data.get("inputs", {})
                self.units = data.get("units", {})
        self._saved = self._text()

    def _text(self) -> str:
        data = {"version": MANIFEST_VERSION, "inputs": self.inputs, "units": self.units}
        return json.dumps(data, sort_keys=True, indent=1)

    def save(self) -> bool:
        """Write the manifest atomically if it changed; return whether it was written."""
        text = self._text()
        if text == self._saved:
            return False
        with atomic_path(self.path) as tmp:
            with open(tmp, "w") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
        self._saved = text
        return True

    def is_current(self, unit: str, key: str) -> bool:
        """Whether ``unit`` finished with ``key`` and its outputs are still as written."""
        record = self.units.get(unit)
        if record is None or record.get("key") != key:
            return False
        for rel, stat in record.get("outputs", {}).items():
            path = self.root / rel
            if not path.exists() or file_stat(path) != stat:
                return False
        return True

    def record(
        self, unit: str, key: str, outputs: list[Path], *, save: bool = True, **info: Any
    ) -> None:
        """Record ``unit`` as finished with ``key`` and ``outputs``, and save.

        Parameters
        ----------
        unit
            The unit's id, e.g. ``"grid/2024-01-05"``.
        key
            The key it was computed with (:func:`digest` of its inputs).
        outputs
            Its output files (under the root), which must exist.
        save
            Write the manifest now; ``False`` to record several units in one
            write (then call :meth:`save`).
        **info
            Extra JSON values kept with the record (e.g. observation counts).
        """
        self.units[unit] = {
            "key": key,
            "outputs": {str(Path(p).relative_to(self.root)): file_stat(Path(p)) for p in outputs},
            **info,
        }
        if save:
            self.save()
