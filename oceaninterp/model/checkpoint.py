"""Safe, versioned, self-describing checkpoints of the SSH 4DVarNet.

A checkpoint is a file written by ``torch.save`` holding a dict of these
entries and nothing that needs pickled code to load:

- ``"format"``: the string ``"oceaninterp-4dvarnet"``;
- ``"meta_json"``: a JSON string, the description (architecture, tile shape,
  resolution, ssh_kind, uses_sst, normalisation, training data and dates,
  validation scores, oceaninterp version, ``format_version``; since format
  version 2 optionally ``mdt``, see :data:`MDT_KEY`);
- ``"state_dict"``: parameter and buffer names to tensors;
- ``"description_sha256"`` (written since oceaninterp 0.1 with issue 14;
  optional on reading, so older checkpoints still load): the SHA-256 of the
  description's semantic fields (:data:`SEMANTIC_META`), saved with the
  tensors, so a description edited afterwards (``ssh_kind`` sla -> adt, a
  normalisation) no longer matches and is refused.

:func:`load_checkpoint` reads the description into a typed
:class:`CheckpointDescription` (resolution, ``ssh_kind``, tile, SST use,
normalisation, MDT record, latitude bands) once, after validating the JSON;
the JSON itself is kept (``LoadedCheckpoint.meta``) for a checkpoint derived
from it (fine-tuning).

It is read with ``torch.load(weights_only=True)`` only: a file carrying any
other Python object is refused before the object is built, so a payload can
never run. Everything is checked before the model is built
(:func:`validate_description`, then the tensors' names and shapes against the
described architecture built on the ``meta`` device, which allocates nothing):
a hostile description cannot make ``info`` allocate 32 GB. The tensors must be
finite floating-point values and the normalisation positive and equal to the
model's buffers. Unknown extra description keys are accepted (a later version
may add informational keys without a format bump; they are shown by ``info``
but do not change the maps, and are not in the digest); every known key is
checked.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import pickle
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, cast

import numpy as np
import torch

from oceaninterp import __version__
from oceaninterp.config import ModelConfig, from_mapping
from oceaninterp.errors import ConfigError, InputError
from oceaninterp.io import atomic_path
from oceaninterp.kinds import SSH_KINDS, SshKind
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
#: Keys that every description holds and that say what the tensors mean.
_MEANING_META = ("model_config", "tile", "resolution", "ssh_kind", "uses_sst", "normalisation")
#: Keys every description holds (the caller of :func:`save_checkpoint` gives
#: ``resolution``, ``ssh_kind``, ``training`` and ``validation``).
REQUIRED_META = (
    "format_version",
    *_MEANING_META,
    "oceaninterp_version",
    "training",
    "validation",
)
#: Description keys that say what the tensors mean: their digest is saved with the tensors.
SEMANTIC_META = (*_MEANING_META, MDT_KEY)
#: Payload key of :func:`description_digest`.
DIGEST_KEY = "description_sha256"
#: Largest cell size of a description, degrees.
MAX_RESOLUTION_DEG = 10.0
_PAYLOAD_KEYS = {"format", "meta_json", "state_dict"}


#: Latitudes a checkpoint may be applied at: (south, north), degrees_north.
LatitudeBand = tuple[float, float]


@dataclass(frozen=True)
class Normalisation:
    """What the model subtracts and divides by: SSH in metres, SST in kelvin."""

    mean: float
    std: float
    sst_mean: float
    sst_std: float


@dataclass(frozen=True)
class MdtRecord:
    """The MDT a model of the SLA was trained with (:data:`MDT_KEY`)."""

    #: Its file name.
    file: str
    #: Its path as given to ``train``.
    path: str
    #: Digest of its values (:func:`oceaninterp.mdt.mdt_digest`).
    sha256: str
    #: What the training cube held (the model maps the SLA all the same).
    cube_ssh_kind: SshKind


@dataclass(frozen=True)
class CheckpointDescription:
    """What a checkpoint says of its model, typed (read from the validated JSON)."""

    #: Cell size of the cubes it maps, degrees.
    resolution: float
    #: What it maps: ``"sla"`` or ``"adt"``.
    ssh_kind: SshKind
    #: Tile size by dimension: ``{"time": days, "latitude": cells, "longitude": cells}``.
    tile: Mapping[str, int]
    #: Whether it reads the cube's ``sst``.
    uses_sst: bool
    #: Whether it takes the OI map of its observations (``ModelConfig.oi_input``).
    oi_input: bool
    #: The model's normalisation.
    normalisation: Normalisation
    #: The MDT it was trained with, or ``None``.
    mdt: MdtRecord | None
    #: Where it may be applied (:func:`latitude_bands`); empty when unknown.
    latitude_bands: tuple[LatitudeBand, ...]
    #: The training data and dates (a JSON record, shown by ``info``).
    training: Mapping[str, Any]
    #: The validation scores (a JSON record, shown by ``info``).
    validation: Mapping[str, Any]

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any]) -> CheckpointDescription:
        """The description held by ``meta``, the JSON of a checkpoint (validated before).

        ``training`` and ``validation`` may be absent (then empty), as in a
        description written by hand for a model built in memory.
        """
        mdt, norm = meta.get(MDT_KEY), meta["normalisation"]
        return cls(
            resolution=float(meta["resolution"]),
            ssh_kind=cast(SshKind, meta["ssh_kind"]),
            tile=MappingProxyType({d: int(n) for d, n in meta["tile"].items()}),
            uses_sst=bool(meta["uses_sst"]),
            oi_input=bool((meta.get("model_config") or {}).get("oi_input", False)),
            normalisation=Normalisation(
                mean=float(norm["mean"]),
                std=float(norm["std"]),
                sst_mean=float(norm["sst_mean"]),
                sst_std=float(norm["sst_std"]),
            ),
            mdt=None
            if mdt is None
            else MdtRecord(
                file=mdt["file"],
                path=mdt.get("path", ""),
                sha256=mdt["sha256"],
                cube_ssh_kind=mdt["cube_ssh_kind"],
            ),
            latitude_bands=latitude_bands(meta),
            training=MappingProxyType(dict(meta.get("training") or {})),
            validation=MappingProxyType(dict(meta.get("validation") or {})),
        )

    def outside(self, latitude: np.ndarray) -> np.ndarray:
        """Boolean: which ``latitude`` (degrees_north) lie outside every band.

        All ``False`` when the bands are unknown (the model is applied anywhere).
        """
        lat = np.asarray(latitude, dtype=np.float64)
        if not self.latitude_bands:
            return np.zeros(lat.shape, dtype=bool)
        inside = np.zeros(lat.shape, dtype=bool)
        for south, north in self.latitude_bands:
            inside |= (lat >= south) & (lat <= north)
        return ~inside


def as_description(value: CheckpointDescription | Mapping[str, Any]) -> CheckpointDescription:
    """``value`` itself, or the description read from a checkpoint's JSON mapping."""
    if isinstance(value, CheckpointDescription):
        return value
    return CheckpointDescription.from_meta(value)


@dataclass(frozen=True)
class LoadedCheckpoint:
    """A model rebuilt from a checkpoint, in eval mode, and its description."""

    #: The model.
    model: SSH4DVarNet
    #: The description's JSON as saved (a derived checkpoint starts from it).
    meta: dict[str, Any]
    #: The same, typed (:class:`CheckpointDescription`), read once from ``meta``.
    description: CheckpointDescription = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "description", CheckpointDescription.from_meta(self.meta))


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
    payload = {
        "format": FORMAT,
        "meta_json": json.dumps(description),
        "state_dict": state,
        DIGEST_KEY: description_digest(description),
    }
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def description_digest(meta: dict[str, Any]) -> str:
    """SHA-256 (hex) of the semantic fields of a description (:data:`SEMANTIC_META`).

    Only the keys present are digested, so a key added to :data:`SEMANTIC_META`
    later leaves the digests of older checkpoints (which lack it) valid. Add a
    key there together with the code that first writes it: a checkpoint that
    already holds it as an informational key would then be refused.
    """
    semantic = {key: meta[key] for key in SEMANTIC_META if key in meta}
    text = json.dumps(semantic, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _read(
    path: Path, device: str | torch.device = "cpu"
) -> tuple[dict[str, Any], dict[str, Any], str | None]:
    """Load the payload and check its layout; return (description, state dict, digest)."""
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
    except Exception as exc:  # noqa: BLE001 - torch.load fails on other files in many ways
        why = f"{type(exc).__name__}: {exc}"[:200]
        raise InputError(path, f"not a checkpoint written by torch.save ({why})") from None
    if not isinstance(payload, dict) or not _PAYLOAD_KEYS <= set(payload) <= {
        *_PAYLOAD_KEYS,
        DIGEST_KEY,
    }:
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
    digest = payload.get(DIGEST_KEY)
    if digest is not None and not isinstance(digest, str):
        raise InputError(path, f"{DIGEST_KEY} is not a string")
    return meta, state, digest


def _number(value: Any) -> bool:
    """Whether ``value`` is a finite real number (not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def validate_description(meta: dict[str, Any]) -> ModelConfig:
    """Check every known key of a description; return its architecture.

    Nothing is allocated: the sizes are bounded by :data:`oceaninterp.config.MODEL_LIMITS`.

    Raises
    ------
    InputError
        With ``None`` as path (the caller names the file): the problem, naming the key.
    """
    model_cfg = meta["model_config"]
    if not isinstance(model_cfg, dict):
        raise InputError(None, "model_config is not a JSON object")
    # Descriptions written before ModelConfig.first_guess existed were trained from zeros.
    try:
        cfg = from_mapping(ModelConfig, {"first_guess": "zeros", **model_cfg}, "model_config")
    except ConfigError as exc:
        raise InputError(None, f"model_config is not valid: {exc}") from None
    tile = {"time": cfg.tile_time, "latitude": cfg.tile_latitude, "longitude": cfg.tile_longitude}
    if meta["tile"] != tile:
        raise InputError(None, f"tile {meta['tile']!r} is not the model_config's tile {tile}")
    resolution = meta["resolution"]
    if not (_number(resolution) and 0 < resolution <= MAX_RESOLUTION_DEG):
        raise InputError(
            None,
            f"resolution: expected a number of degrees in (0, {MAX_RESOLUTION_DEG}], "
            f"got {resolution!r}",
        )
    if meta["ssh_kind"] not in SSH_KINDS:
        raise InputError(None, f"ssh_kind: expected one of {SSH_KINDS}, got {meta['ssh_kind']!r}")
    if meta["uses_sst"] is not cfg.use_sst:
        raise InputError(
            None, f"uses_sst {meta['uses_sst']!r} is not the model_config's use_sst {cfg.use_sst}"
        )
    norm = meta["normalisation"]
    keys = ("mean", "std", "sst_mean", "sst_std")
    if not (isinstance(norm, dict) and all(_number(norm.get(k)) for k in keys)):
        raise InputError(None, f"normalisation: expected finite numbers {list(keys)}, got {norm!r}")
    if not (norm["std"] > 0 and norm["sst_std"] > 0):
        raise InputError(None, f"normalisation: the stds must be positive, got {norm!r}")
    for key in ("training", "validation"):
        if not isinstance(meta[key], dict):
            raise InputError(None, f"{key}: expected a JSON object, got {meta[key]!r}")
    if not isinstance(meta["oceaninterp_version"], str):
        raise InputError(
            None, f"oceaninterp_version: expected a string, got {meta['oceaninterp_version']!r}"
        )
    _check_latitudes(meta)
    mdt = meta.get(MDT_KEY)
    if mdt is not None:
        digest = mdt.get("sha256") if isinstance(mdt, dict) else None
        if not (
            isinstance(mdt, dict)
            and isinstance(mdt.get("file"), str)
            and isinstance(mdt.get("path", ""), str)
            and isinstance(digest, str)
            and len(digest) == 64
            and all(c in "0123456789abcdef" for c in digest)
            and mdt.get("cube_ssh_kind") in SSH_KINDS
        ):
            raise InputError(
                None,
                f"{MDT_KEY}: expected {{file, path, sha256 (64 hex digits), cube_ssh_kind "
                f"(sla or adt)}}, got {mdt!r}"[:300],
            )
        if meta["ssh_kind"] != "sla":
            raise InputError(
                None,
                f"{MDT_KEY}: a model trained with an MDT maps the SLA, not {meta['ssh_kind']!r}",
            )
    return cfg


def _check_latitudes(meta: Mapping[str, Any]) -> None:
    """Check the optional latitude keys read by :func:`latitude_bands`.

    Raises
    ------
    InputError
        With ``None`` as path, naming the key.
    """
    spans = {
        "valid_latitudes": (meta.get("valid_latitudes"), -90.0),
        "valid_abs_latitudes": (meta.get("valid_abs_latitudes"), 0.0),
        "training.latitude": (meta["training"].get("latitude"), -90.0),
    }
    for key, (span, lowest) in spans.items():
        if span is None:
            continue
        if not (
            isinstance(span, list)
            and len(span) == 2
            and all(_number(v) for v in span)
            and lowest <= span[0] <= span[1] <= 90.0
        ):
            raise InputError(
                None, f"{key}: expected [low, high] degrees in {lowest:g}..90, got {span!r}"[:300]
            )


def _check_tensors(cfg: ModelConfig, meta: dict[str, Any], state: dict[str, torch.Tensor]) -> None:
    """Check names, shapes and values of the tensors against the description, allocating nothing.

    Raises
    ------
    InputError
        With ``None`` as path: what does not match.
    """
    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in build_model(cfg).state_dict().items()}
    got = {k: tuple(v.shape) for k, v in state.items()}
    if got != expected:
        missing = sorted(set(expected) - set(got))[:5]
        unexpected = sorted(set(got) - set(expected))[:5]
        shapes = [k for k in set(got) & set(expected) if got[k] != expected[k]][:3]
        raise InputError(
            None,
            "tensors do not match the described architecture: "
            f"missing {missing}, unexpected {unexpected}, "
            f"other shapes {[(k, got[k], expected[k]) for k in shapes]}",
        )
    for name, tensor in state.items():
        if not tensor.is_floating_point():
            raise InputError(None, f"tensor {name!r} is {tensor.dtype}, not floating point")
        if not bool(torch.isfinite(tensor).all()):
            bad = int((~torch.isfinite(tensor)).sum())
            raise InputError(
                None, f"tensor {name!r} holds {bad} non-finite value(s) of {tensor.numel()}"
            )
    norm = meta["normalisation"]
    for key, buffer in (
        ("mean", "ssh_mean"),
        ("std", "ssh_std"),
        ("sst_mean", "sst_mean"),
        ("sst_std", "sst_std"),
    ):
        value = float(state[buffer])
        if key.endswith("std") and not value > 0:
            raise InputError(None, f"buffer {buffer} is {value}: a std must be positive")
        if value != float(torch.tensor(norm[key], dtype=state[buffer].dtype)):
            raise InputError(
                None,
                f"normalisation {key} {norm[key]!r} of the description is not the model's "
                f"{buffer} {value!r} (edited description?)",
            )


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
    meta, state, digest = _read(path, device)
    try:
        cfg = validate_description(meta)
        _check_tensors(cfg, meta, state)
    except InputError as exc:
        raise InputError(path, exc.problem) from None
    if digest is not None and digest != description_digest(meta):
        raise InputError(
            path,
            "the description does not match the digest saved with the weights (edited after "
            f"saving? its {', '.join(SEMANTIC_META)} must stay as trained): refused",
        )
    model = build_model(cfg)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise InputError(path, f"tensors do not match the described architecture: {exc}") from None
    return LoadedCheckpoint(model=model.to(device).eval(), meta=meta)


def valid_latitudes(meta: Mapping[str, Any]) -> tuple[float, float] | None:
    """The latitudes (degrees_north, lower and upper) a checkpoint may be applied at.

    Its ``valid_latitudes`` entry, else the latitudes of its training cube
    (``training.latitude``), widened by half a cell; ``None`` when it says neither.
    """
    band = meta.get("valid_latitudes")
    if band is None:
        band = (meta.get("training") or {}).get("latitude")
        if band is None:
            return None
        half = 0.5 * float(meta["resolution"])
        return float(band[0]) - half, float(band[1]) + half
    return float(band[0]), float(band[1])


def latitude_bands(meta: Mapping[str, Any]) -> tuple[LatitudeBand, ...]:
    """The bands of latitude (degrees_north, south to north) a checkpoint may be applied at.

    A checkpoint declaring ``valid_abs_latitudes: [low, high]`` (degrees of
    ``|latitude|``, as a model trained in both hemispheres does) may be applied
    at ``(-high, -low)`` and ``(low, high)``, whatever its signed span;
    otherwise in its :func:`valid_latitudes`. Empty when it says neither.
    """
    absolute = meta.get("valid_abs_latitudes")
    if absolute is not None:
        low, high = float(absolute[0]), float(absolute[1])
        return (-high, -low), (low, high)
    band = valid_latitudes(meta)
    return () if band is None else (band,)


def describe_checkpoint(path: str | Path) -> dict[str, Any]:
    """The description of a checkpoint (validated as by :func:`load_checkpoint`), for ``info``.

    Its JSON, plus ``parameters`` (number of trainable values),
    ``file_size_bytes``, ``requires`` (what ``reconstruct`` needs besides a
    cube at its resolution) and ``latitudes`` (the ``[south, north]`` bands,
    degrees_north, it may be applied at, :func:`latitude_bands`; ``None`` when
    unknown).
    """
    loaded = load_checkpoint(path)
    description = loaded.description
    n_params = sum(p.numel() for p in loaded.model.parameters())
    mdt = description.mdt
    kind = description.ssh_kind
    other = "adt" if kind == "sla" else "sla"
    trained = f"; trained with {mdt.file}, sha256 {mdt.sha256[:12]}" if mdt else ""
    requires = (
        f"an {kind} cube as it is; an {other} cube with an MDT (--mdt{trained}), "
        f"which also adds {other} to the maps"
    )
    return {
        **loaded.meta,
        "requires": requires,
        "latitudes": [list(band) for band in description.latitude_bands] or None,
        "parameters": n_params,
        "file_size_bytes": Path(path).stat().st_size,
    }
