"""Safe, versioned, self-describing checkpoints of the SSH 4DVarNet.

A checkpoint is a file written by ``torch.save`` holding a dict of exactly
three entries and nothing that needs pickled code to load:

- ``"format"``: the string ``"oceaninterp-4dvarnet"``;
- ``"meta_json"``: a JSON string, the description (architecture, tile shape,
  resolution, ssh_kind, uses_sst, normalisation, training data and dates,
  validation scores, oceaninterp version, ``format_version``; since format
  version 2 optionally ``mdt``, see :data:`MDT_KEY`);
- ``"state_dict"``: parameter and buffer names to tensors.

It is read with ``torch.load(weights_only=True)`` only: a file carrying any
other Python object is refused before the object is built, so a payload can
never run. The model is rebuilt from the description's ``model_config`` and the
state dict must match it exactly.
"""

from __future__ import annotations

import dataclasses
import json
import pickle
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from oceaninterp import __version__
from oceaninterp.config import ModelConfig
from oceaninterp.errors import ConfigError, InputError
from oceaninterp.io import atomic_path
from oceaninterp.model.ssh import SSH4DVarNet, build_model

FORMAT = "oceaninterp-4dvarnet"
#: Version of the layout of the description; bump it when a key changes meaning.
#: 2 added the optional :data:`MDT_KEY`; version 1 descriptions (no MDT) still load.
FORMAT_VERSION = 2
#: Description key of a model trained on the SLA with a mean dynamic topography:
#: ``{"file": name, "path": as given, "sha256": digest of the MDT values
#: (:func:`oceaninterp.mdt.mdt_digest`), "cube_ssh_kind": "adt" or "sla"}``. Its
#: maps are SLA (``ssh_kind`` is ``"sla"``) and need an MDT added back.
MDT_KEY = "mdt"
#: Keys every description holds (the caller of :func:`save_checkpoint` gives
#: ``resolution``, ``ssh_kind``, ``training`` and ``validation``).
REQUIRED_META = (
    "format_version",
    "model_config",
    "tile",
    "resolution",
    "ssh_kind",
    "uses_sst",
    "normalisation",
    "oceaninterp_version",
    "training",
    "validation",
)


@dataclass(frozen=True)
class LoadedCheckpoint:
    """A model rebuilt from a checkpoint, in eval mode, and its description."""

    model: SSH4DVarNet
    meta: dict[str, Any]


def model_meta(model: SSH4DVarNet) -> dict[str, Any]:
    """The part of the description that the model itself defines."""
    cfg = model.cfg
    return {
        "format_version": FORMAT_VERSION,
        "model_config": dataclasses.asdict(cfg),
        "tile": {
            "time": cfg.tile_time,
            "latitude": cfg.tile_latitude,
            "longitude": cfg.tile_longitude,
        },
        "uses_sst": cfg.use_sst,
        "normalisation": model.normalisation(),
        "oceaninterp_version": __version__,
    }


def save_checkpoint(path: str | Path, model: SSH4DVarNet, meta: dict[str, Any]) -> Path:
    """Write ``model`` and its description to ``path`` atomically.

    Parameters
    ----------
    path
        Output file (conventionally ``.pt``); replaced if it exists.
    model
        The trained model.
    meta
        At least ``resolution`` (deg), ``ssh_kind``, ``training`` (data files,
        dates, config) and ``validation`` (scores); the architecture, tile,
        normalisation and versions are added from the model.
    """
    description = {**meta, **model_meta(model)}
    missing = [key for key in REQUIRED_META if key not in description]
    if missing:
        raise ValueError(f"save_checkpoint: meta lacks {missing}")
    state = {name: t.detach().cpu().contiguous() for name, t in model.state_dict().items()}
    payload = {"format": FORMAT, "meta_json": json.dumps(description), "state_dict": state}
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def _read(path: Path, device: str | torch.device = "cpu") -> tuple[dict[str, Any], dict[str, Any]]:
    """Load and validate the payload; return (description, state dict)."""
    if not path.is_file():
        raise InputError(path, "no such checkpoint file")
    try:
        payload = torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as exc:
        if not zipfile.is_zipfile(path):
            raise InputError(path, "not a checkpoint written by torch.save") from None
        # torch names the offending object on a line of its own, e.g. "... GLOBAL os.system ...".
        found = [
            line for line in str(exc).splitlines() if "GLOBAL" in line or "Unsupported" in line
        ]
        why = f" ({found[0].strip()})" if found else ""
        raise InputError(
            path, f"refused: the file holds objects other than tensors, not loaded{why}"
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise InputError(path, f"not a checkpoint written by torch.save ({exc})") from None
    if not isinstance(payload, dict) or set(payload) != {"format", "meta_json", "state_dict"}:
        keys = sorted(payload) if isinstance(payload, dict) else type(payload).__name__
        raise InputError(
            path,
            f"not an oceaninterp checkpoint (expected format, meta_json, state_dict; got {keys})",
        )
    if payload["format"] != FORMAT:
        raise InputError(path, f"format {payload['format']!r} is not {FORMAT!r}")
    try:
        meta = json.loads(payload["meta_json"])
    except (TypeError, json.JSONDecodeError) as exc:
        raise InputError(path, f"the description is not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise InputError(path, "the description is not a JSON object")
    version = meta.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise InputError(path, f"format_version {version!r} is not an integer")
    if version > FORMAT_VERSION:
        raise InputError(
            path,
            f"format version {version} is newer than this oceaninterp ({__version__}) reads "
            f"(<= {FORMAT_VERSION}); upgrade oceaninterp",
        )
    missing = [key for key in REQUIRED_META if key not in meta]
    if missing:
        raise InputError(path, f"the description lacks {missing}")
    state = payload["state_dict"]
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise InputError(path, "state_dict is not a mapping of names to tensors")
    return meta, state


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> LoadedCheckpoint:
    """Rebuild the model of a checkpoint on ``device``, in eval mode.

    Raises
    ------
    InputError
        The file is not an oceaninterp checkpoint, carries pickled objects, has
        a newer format version, lacks description keys, or its tensors do not
        match the architecture it describes.
    """
    path = Path(path)
    meta, state = _read(path, device)
    model_cfg = meta["model_config"]
    if not isinstance(model_cfg, dict):
        raise InputError(path, "model_config is not a JSON object")
    # Descriptions written before ModelConfig.first_guess existed were trained from zeros.
    model_cfg = {"first_guess": "zeros", **model_cfg}
    try:
        cfg = ModelConfig(**model_cfg)
    except (TypeError, ConfigError) as exc:
        raise InputError(path, f"model_config is not valid: {exc}") from None
    model = build_model(cfg)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise InputError(path, f"tensors do not match the described architecture: {exc}") from None
    return LoadedCheckpoint(model=model.to(device).eval(), meta=meta)


def required_mdt(meta: dict[str, Any]) -> dict[str, Any] | None:
    """The :data:`MDT_KEY` record of a description: what MDT its maps need, or ``None``."""
    record = meta.get(MDT_KEY)
    return record if isinstance(record, dict) else None


def describe_checkpoint(path: str | Path) -> dict[str, Any]:
    """The description of a checkpoint (validated as by :func:`load_checkpoint`).

    Adds ``parameters`` (number of trainable values), ``file_size_bytes`` and
    ``requires``: the MDT to give to ``reconstruct`` (``--mdt``), if any.
    """
    loaded = load_checkpoint(path)
    n_params = sum(p.numel() for p in loaded.model.parameters())
    mdt = required_mdt(loaded.meta)
    requires = (
        f"an MDT (--mdt; trained with {mdt['file']}, sha256 {str(mdt['sha256'])[:12]}): "
        "it maps the SLA and the MDT is added back"
        if mdt
        else "nothing more (no MDT)"
    )
    return {
        **loaded.meta,
        "requires": requires,
        "parameters": n_params,
        "file_size_bytes": Path(path).stat().st_size,
    }
