"""Frozen, validated configuration dataclasses, loaded from TOML.

Each dataclass validates itself in ``__post_init__`` and raises
:class:`~oceaninterp.errors.ConfigError` naming the key and what was expected.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import numbers
import os
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from oceaninterp.errors import ConfigError

T = TypeVar("T")

#: Largest TOML file read (bytes): a configuration is a few kB; a bigger file is a wrong path.
MAX_TOML_BYTES = 4 * 2**20


def load_toml(path: str | Path, what: str = "TOML file") -> dict[str, Any]:
    """Read a TOML file into a dict; every failure is one :class:`ConfigError` line.

    Parameters
    ----------
    path
        The file.
    what
        What the file should be, for messages (e.g. ``"pipeline file"``).
    """
    import tomllib

    path = Path(path)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise ConfigError(f"{path}: a folder, not a {what}")
        if size > MAX_TOML_BYTES:
            raise ConfigError(f"{path}: {size} bytes is too large for a {what} (a wrong file?)")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such {what}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a {what}: not UTF-8 text (a binary file?)") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


def _typed(value: Any, hint: Any, key: str) -> Any:
    """``value`` checked against a field's annotation ``hint``; ``key`` names it in errors.

    ``bool``, ``int``, ``float`` and ``str`` (and their ``| None``) are checked
    here: a bool is not a number, an int is a float (returned as one), a float
    is finite, a TOML date is a ``str`` field's ISO date. Other annotations are
    left to the dataclass's own ``__post_init__``.
    """
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        if value is None and type(None) in args:
            return None
        simple = [a for a in args if a is not type(None)]
        return _typed(value, simple[0], key) if len(simple) == 1 else value
    shown = f"{value!r} ({type(value).__name__})"
    if hint is bool and not isinstance(value, bool):
        raise ConfigError(f"{key}: expected true or false, got {shown}")
    if hint is int and (not isinstance(value, int) or isinstance(value, bool)):
        raise ConfigError(f"{key}: expected an integer, got {shown}")
    if hint is float:
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise ConfigError(f"{key}: expected a number, got {shown}")
        if not math.isfinite(value):
            raise ConfigError(f"{key}: expected a finite number, got {value!r}")
        return float(value)
    if hint is str:
        if isinstance(value, datetime.date):
            return value.isoformat()
        if not isinstance(value, str):
            raise ConfigError(f"{key}: expected a string, got {shown}")
    return value


def from_mapping(cls: type[T], mapping: dict[str, Any], section: str) -> T:
    """Build dataclass ``cls`` from a TOML table, refusing unknown keys and wrong types.

    Each value is checked against its field's annotation first (:func:`_typed`:
    the message names ``[section] key``), then by the class's ``__post_init__``.

    Parameters
    ----------
    cls
        A dataclass type.
    mapping
        The TOML table.
    section
        The table's name, used in error messages (e.g. ``"grid"``).
    """
    if not isinstance(mapping, dict):
        raise ConfigError(f"[{section}]: expected a table, got {mapping!r}")
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(mapping) - names)
    if unknown:
        raise ConfigError(
            f"[{section}]: unknown key(s) {unknown}; expected some of {sorted(names)}"
        )
    hints = typing.get_type_hints(cls)
    values = {k: _typed(v, hints[k], f"[{section}] {k}") for k, v in mapping.items()}
    try:
        return cls(**values)
    except TypeError as exc:
        raise ConfigError(f"[{section}]: {exc}") from exc


def cpu_count() -> int:
    """CPUs this process may use (its affinity mask where the platform has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


@dataclass(frozen=True)
class GridSpec:
    """A daily regular longitude/latitude grid.

    Attributes
    ----------
    lon_min, lon_max
        Box edges in degrees_east. ``lon_min > lon_max`` means the box crosses
        the antimeridian (e.g. 170 .. -170). Either -180..180 or 0..360 values.
    lat_min, lat_max
        Box edges in degrees_north.
    resolution
        Cell size in degrees (same in longitude and latitude).
    start, end
        First and last day, ISO dates (inclusive).
    """

    lon_min: float
    lon_max: float
    lat_min: float
    lat_max: float
    resolution: float
    start: str
    end: str

    def __post_init__(self) -> None:
        for name in ("lon_min", "lon_max", "lat_min", "lat_max"):
            _check_number(getattr(self, name), name, positive=None)
        _check_number(self.resolution, "resolution")
        if not -90 <= self.lat_min < self.lat_max <= 90:
            raise ConfigError(
                f"lat_min/lat_max: expected -90 <= lat_min < lat_max <= 90, "
                f"got {self.lat_min}, {self.lat_max}"
            )
        for name in ("lon_min", "lon_max"):
            value = getattr(self, name)
            if not -180 <= value <= 360:
                raise ConfigError(f"{name}: expected degrees_east in -180..360, got {value!r}")
        if self.lon_min == self.lon_max:
            raise ConfigError("lon_min/lon_max: the box has zero width")
        try:
            start, end = np.datetime64(self.start, "D"), np.datetime64(self.end, "D")
        except ValueError as exc:
            raise ConfigError(f"start/end: expected ISO dates (YYYY-MM-DD): {exc}") from exc
        if end < start:
            raise ConfigError(f"start/end: empty date range {self.start} .. {self.end}")

    @property
    def lon_span(self) -> float:
        """Box width in degrees, handling the antimeridian."""
        return float((self.lon_max - self.lon_min) % 360.0) or 360.0

    def longitudes(self) -> np.ndarray:
        """Cell-centre longitudes in degrees_east, continuous across the box.

        Values stay monotonic: a box over the antimeridian gives e.g. 170 .. 190
        when given in 0..360 and is wrapped to [-180, 180) otherwise only if it
        does not cross; callers compare via :func:`~oceaninterp.products.schema.wrap_longitude`.
        """
        n = int(round(self.lon_span / self.resolution))
        return self.lon_min + self.resolution * (np.arange(n) + 0.5)

    def latitudes(self) -> np.ndarray:
        """Cell-centre latitudes in degrees_north."""
        n = int(round((self.lat_max - self.lat_min) / self.resolution))
        return self.lat_min + self.resolution * (np.arange(n) + 0.5)

    def days(self) -> np.ndarray:
        """The days of the grid as ``datetime64[ns]`` at 00:00 UTC."""
        start, end = np.datetime64(self.start, "D"), np.datetime64(self.end, "D")
        return np.arange(start, end + np.timedelta64(1, "D")).astype("datetime64[ns]")

    @property
    def shape(self) -> tuple[int, int, int]:
        """(time, latitude, longitude) sizes."""
        return (self.days().size, self.latitudes().size, self.longitudes().size)


#: Upper bounds of the integer sizes of a :class:`ModelConfig`: far above any useful
#: model (the reference: 15 days, 240 px, width 32, 48 hidden, 10 steps), low enough
#: that a wrong or hostile value (a checkpoint's description, a TOML) is refused
#: before it allocates tens of GB or loops for days.
MODEL_LIMITS = {
    "tile_time": 100,
    "tile_latitude": 1024,
    "tile_longitude": 1024,
    "prior_width": 512,
    "lstm_hidden": 512,
    "n_step": 100,
    "sst_features": 256,
}


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of the SSH 4DVarNet (:mod:`oceaninterp.model`).

    A tile is ``tile_time`` days x ``tile_latitude`` x ``tile_longitude``
    pixels; days are stacked as the channels of 2-D convolutions. The defaults
    are a model that trains on 2 CPU cores in minutes on a 1/10 deg grid: the
    sample OSSE is the Gulf Stream box at 1/10 deg (100 x 100 pixels), so a
    48-pixel training tile spans 4.8 deg (about 450 km: eddies of 100-200 km
    and most of a 500 km meander; the reference's tile spans 12 deg), and the
    ConvLSTM gradient modulator, 77 % of the reference's FLOPs, runs at half
    resolution with 32 channels. The convolutions apply to any tile size, so
    inference may use larger tiles than training. The reference base model
    (CIA-Oceanix 4dvarnet-starter, 1/20 deg) is ``ModelConfig(tile_latitude=240,
    tile_longitude=240, lstm_hidden=48, modulator_downsample=1, n_step=10,
    lr_grad=250, first_guess="zeros")``.

    Attributes
    ----------
    tile_time
        Days per tile (T). Default 15, the reference's window: an along-track
        pass is revisited within about 10 days, so 15 days see every track.
    tile_latitude, tile_longitude
        Training tile size in pixels; multiples of 4 (pooling by 2 in the prior
        and in the modulator). Default 48 (reference 240 at 1/20 deg).
    prior_width
        Channels of the bilinear auto-encoder prior. Default 32 (reference base).
    lstm_hidden
        Hidden channels of the ConvLSTM gradient modulator. Default 32
        (reference base 48): smaller tiles carry fewer scales.
    modulator_downsample
        The ConvLSTM runs on a grid coarser by this factor (1 or 2). Default 2:
        about 4x cheaper, and the gradient step is smooth at the pixel scale.
    n_step
        Unrolled solver iterations. Default 8 (reference base 10): 20 % less
        work per tile, to keep CPU training short.
    lr_grad
        Weight of the plain cost gradient in each solver update. Our cost sums
        per-tile means (a tile's map does not depend on its batch mates), so
        the step per observed value scales like lr_grad / (T H W). Default 10:
        on 15 x 48 x 48 tiles, the reference's step (1000 with a cost averaged
        over batches of 4 tiles of 15 x 240 x 240, i.e. 250 here at that size).
    first_guess
        The solver's initial state: ``"smooth"`` (default), a Gaussian
        normalised convolution of the observations (on the sample OSSE this
        alone maps the test period with mu 0.95, where an untuned 4DVarNet
        started from zeros reached 0.90 after 12 min of CPU training), or
        ``"zeros"`` (the reference: observations, 0 in the gaps).
    first_guess_sigma_days, first_guess_sigma_pixels
        Widths of that Gaussian: 2 days, 3 cells (0.3 deg at 1/10 deg).
    use_sst
        Add the multimodal observation term alpha * ||G x - F z||^2 with the
        SST field z of the cube (variable ``sst``). Default False.
    sst_features
        Channels of the trainable convolutions G and F of that term. Default 8.
    """

    tile_time: int = 15
    tile_latitude: int = 48
    tile_longitude: int = 48
    prior_width: int = 32
    lstm_hidden: int = 32
    modulator_downsample: int = 2
    n_step: int = 8
    lr_grad: float = 10.0
    first_guess: str = "smooth"
    first_guess_sigma_days: float = 2.0
    first_guess_sigma_pixels: float = 3.0
    use_sst: bool = False
    sst_features: int = 8

    def __post_init__(self) -> None:
        for name, limit in MODEL_LIMITS.items():
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= limit:
                raise ConfigError(f"{name}: expected an integer in 1..{limit}, got {value!r}")
        for name in ("tile_latitude", "tile_longitude"):
            if getattr(self, name) % 4:
                raise ConfigError(
                    f"{name}: expected a positive multiple of 4 pixels, got {getattr(self, name)!r}"
                )
        if self.modulator_downsample not in (1, 2) or isinstance(self.modulator_downsample, bool):
            raise ConfigError(
                f"modulator_downsample: expected 1 or 2, got {self.modulator_downsample!r}"
            )
        _check_number(self.lr_grad, "lr_grad", positive=False)
        if not isinstance(self.use_sst, bool):
            raise ConfigError(f"use_sst: expected true or false, got {self.use_sst!r}")
        if self.first_guess not in ("smooth", "zeros"):
            raise ConfigError(f"first_guess: expected smooth or zeros, got {self.first_guess!r}")
        for name in ("first_guess_sigma_days", "first_guess_sigma_pixels"):
            _check_number(getattr(self, name), name)


@dataclass(frozen=True)
class TrainConfig:
    """How ``oceaninterp train`` fits the SSH 4DVarNet (:func:`oceaninterp.train.train`).

    Loss = ``state_weight`` * MSE(x, x_true) + ``gradient_weight`` * MSE of the
    Sobel gradients + ``prior_weight`` * ||x - Phi(x)||^2, all in normalised
    units (SSH minus the training mean, over the training std), weighted by the
    tile window (a triangle in time, zero on ``loss_border`` pixels at the
    edges). Defaults of the weights, learning rates and clipping are the
    reference's (4dvarnet-starter).

    Attributes
    ----------
    epochs
        Passes over ``tiles_per_epoch`` random training tiles. Default 30.
    batch_size
        Tiles per optimiser step. Default 4 (reference).
    tiles_per_epoch
        Random training tiles drawn (seeded) per epoch. Default 64.
    learning_rate, prior_learning_rate
        Adam learning rates of the solver and of the prior (1e-3, 5e-4),
        decayed by a cosine schedule over the epochs.
    grad_clip
        Clip of the parameters' gradient norm. Default 0.5.
    loss
        ``"supervised"`` (default, the reference's), ``"regularised"`` (adds
        the prior cost of the truth) or ``"unsupervised"`` (observation misfit
        plus prior cost; the truth then serves only the validation score); see
        :mod:`oceaninterp.variational.losses`.
    state_weight, gradient_weight, prior_weight
        Loss weights (50, 1000, 1: reference).
    observation_weight
        Weight of the observation misfit of the unsupervised loss. Default 1.
    loss_border
        Pixels at each tile edge left out of the loss and the validation score.
        Default 4.
    mask_swap_fraction
        Fraction of training tiles whose observations are replaced by the truth
        seen through the observation mask of another tile (augmentation).
        Default 0.5.
    train_start, train_end, val_start, val_end, test_start, test_end
        ISO dates (inclusive) of the three periods. When none is given the days
        are split in time order: the first 70 % train, the next 15 %
        validation, the last 15 % test (kept unseen). Either give all six or none.
    val_fraction, test_fraction
        The shares used when no dates are given.
    seed
        Seeds the initial weights, the tile draws and the augmentation; a run
        on CPU with the same seed gives the same checkpoint.
    bf16
        Autocast to bfloat16 on CUDA (ignored on CPU).
    """

    epochs: int = 30
    batch_size: int = 4
    tiles_per_epoch: int = 64
    learning_rate: float = 1e-3
    prior_learning_rate: float = 5e-4
    grad_clip: float = 0.5
    loss: str = "supervised"
    state_weight: float = 50.0
    gradient_weight: float = 1000.0
    prior_weight: float = 1.0
    observation_weight: float = 1.0
    loss_border: int = 4
    mask_swap_fraction: float = 0.5
    train_start: str | None = None
    train_end: str | None = None
    val_start: str | None = None
    val_end: str | None = None
    test_start: str | None = None
    test_end: str | None = None
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    seed: int = 0
    bf16: bool = True

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "tiles_per_epoch"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"{name}: expected a positive integer, got {value!r}")
        for name in ("learning_rate", "prior_learning_rate", "grad_clip"):
            if not getattr(self, name) > 0:
                raise ConfigError(
                    f"{name}: expected a positive number, got {getattr(self, name)!r}"
                )
        if self.loss not in ("supervised", "regularised", "unsupervised"):
            raise ConfigError(
                f"loss: expected supervised, regularised or unsupervised, got {self.loss!r}"
            )
        for name in ("state_weight", "gradient_weight", "prior_weight", "observation_weight"):
            if not getattr(self, name) >= 0:
                raise ConfigError(f"{name}: expected a number >= 0, got {getattr(self, name)!r}")
        if not isinstance(self.loss_border, int) or self.loss_border < 0:
            raise ConfigError(f"loss_border: expected an integer >= 0, got {self.loss_border!r}")
        if not 0 <= self.mask_swap_fraction <= 1:
            raise ConfigError(
                f"mask_swap_fraction: expected a number in [0, 1], got {self.mask_swap_fraction!r}"
            )
        if not (
            0 < self.val_fraction
            and 0 <= self.test_fraction
            and self.val_fraction + self.test_fraction < 1
        ):
            raise ConfigError(
                "val_fraction/test_fraction: expected val_fraction > 0, test_fraction >= 0 "
                f"and a sum below 1, got {self.val_fraction!r}, {self.test_fraction!r}"
            )
        names = ("train_start", "train_end", "val_start", "val_end", "test_start", "test_end")
        given = [getattr(self, n) is not None for n in names]
        if any(given) and not all(given):
            raise ConfigError(f"{', '.join(names)}: give all six dates or none")
        if all(given):
            try:
                for name in names:
                    np.datetime64(getattr(self, name), "D")
            except ValueError as exc:
                raise ConfigError(f"{name}: expected an ISO date (YYYY-MM-DD): {exc}") from exc
            for period in ("train", "val", "test"):
                if getattr(self, f"{period}_end") < getattr(self, f"{period}_start"):
                    raise ConfigError(f"{period}_start/{period}_end: empty date range")


def read_train_config(path: str | Path) -> tuple[ModelConfig, TrainConfig]:
    """Read the ``[model]`` and ``[train]`` tables of a TOML file (both optional).

    Raises
    ------
    ConfigError
        The file is unreadable, not UTF-8 TOML, has another table, or a key is invalid.
    """
    tables = load_toml(path, "training configuration (TOML)")
    unknown = sorted(set(tables) - {"model", "train"})
    if unknown:
        raise ConfigError(f"{path}: unknown table(s) {unknown}; expected [model] and/or [train]")
    return (
        from_mapping(ModelConfig, tables.get("model", {}), "model"),
        from_mapping(TrainConfig, tables.get("train", {}), "train"),
    )


# --- oceaninterp run: the pipeline TOML (owned by the pipeline engineer) -----------------

#: Error policies of a pipeline: stop at the first failure, or report it and go on.
ON_ERROR_POLICIES = ("skip", "fail")
#: Reconstruction methods a pipeline can run (:func:`oceaninterp.reconstruct.reconstruct`).
RUN_METHODS = ("4dvarnet", "oi")


def _string_list(value: Any, key: str, *, allow_empty: bool) -> tuple[str, ...]:
    """A TOML list of strings (or one string) as a tuple; ``key`` names it in errors."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{key}: expected a list of paths or glob patterns, got {value!r}")
    if not value and not allow_empty:
        raise ConfigError(f"{key}: expected at least one path or glob pattern, got []")
    return tuple(value)


def _check_int(value: Any, key: str, *, minimum: int = 1) -> None:
    """Raise :class:`ConfigError` unless ``value`` is an integer (not a bool) >= ``minimum``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ConfigError(f"{key}: expected an integer >= {minimum}, got {value!r}")


def _check_number(value: Any, key: str, *, positive: bool | None = True) -> None:
    """Raise :class:`ConfigError` unless ``value`` is a finite real number (not a bool) > 0.

    With ``positive=False`` zero is accepted too; with ``None`` any finite number.
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if not (ok and (positive is None or (value > 0 if positive else value >= 0))):
        expected = {True: "a positive number", False: "a number >= 0", None: "a number"}
        raise ConfigError(f"{key}: expected {expected[positive]}, got {value!r}")


@dataclass(frozen=True)
class RunPipeline:
    """The ``[pipeline]`` table of a pipeline TOML.

    Attributes
    ----------
    name
        A short name, used in logs and the manifest.
    output_root
        Folder of every output (cubes, maps, scores, manifest, logs, lock);
        relative paths are relative to the TOML file's folder. The command
        line's ``-o`` overrides it.
    on_error
        ``"skip"`` (default): a failing input file or day is reported, the
        other days go on and the run exits non-zero; ``"fail"``: the run stops
        at the first failure (finished outputs stay valid).
    format
        ``"netcdf"`` (default): one NetCDF-4 file per day for cubes and maps;
        ``"zarr"``: one Zarr v3 store per day.
    """

    name: str
    output_root: str = "runs"
    on_error: str = "skip"
    format: str = "netcdf"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigError(f"[pipeline] name: expected a non-empty string, got {self.name!r}")
        if not isinstance(self.output_root, str) or not self.output_root:
            raise ConfigError(
                f"[pipeline] output_root: expected a folder path, got {self.output_root!r}"
            )
        if self.on_error not in ON_ERROR_POLICIES:
            raise ConfigError(
                f"[pipeline] on_error: expected one of {list(ON_ERROR_POLICIES)}, "
                f"got {self.on_error!r}"
            )
        if self.format not in ("netcdf", "zarr"):
            raise ConfigError(
                f"[pipeline] format: expected 'netcdf' or 'zarr', got {self.format!r}"
            )


#: ``[inputs] land_mask`` values that are not a file: the shipped coastline, no mask.
LAND_COASTLINE = "coastline"
LAND_NONE = "none"


@dataclass(frozen=True)
class RunInputs:
    """The ``[inputs]`` table: which product files feed the grid stage.

    Attributes
    ----------
    observations
        Paths or glob patterns (``**`` allowed) of along-track or swath files
        readable by :func:`oceaninterp.products.open_product`; relative to the
        TOML file's folder.
    variable
        The sea-level variable gridded (``"sla_filtered"``, ``"adt"``, ...), as
        for ``oceaninterp grid --variable``.
    sst
        Optional L4 SST files or patterns, gridded onto the cube as ``sst``.
    latest_production
        Of CMEMS files named ``..._<YYYYMMDD>_<production YYYYMMDD>.nc`` that
        differ only by production date, keep the latest (NRT archives hold
        several). Default true.
    mdt
        Optional mean dynamic topography file (``mdt`` in metres, see
        :mod:`oceaninterp.mdt`), given to every ``[[reconstruct]]`` method as
        ``reconstruct(mdt=...)``: the OI and MDT-trained 4DVarNets map the SLA
        and add it back; every map then holds ``sla`` and ``adt``. Required by
        a checkpoint trained with an MDT.
    land_mask
        Where land is, for the grid stage (land cells never observed, their
        observations dropped; ``grid_files(land_mask=...)``) and the maps stage
        (land masked in every map; ``reconstruct(land=...)``):
        ``"coastline"`` (default): the GSHHG coastline shipped with
        ``roaring-landmask``; ``"none"``: no land mask (every cell may be
        observed and mapped; an MDT's own land still counts); any other string:
        a land mask file (NetCDF/Zarr, 1-D latitude/longitude and a variable
        ``land``/``lsm`` = 1 on land or ``sea``/``mask`` = 1 at sea, see
        :mod:`oceaninterp.landmask`), relative to the TOML file's folder.
        Part of the keys of the cubes and maps: changing it (or the mask
        file's bytes) re-grids and re-maps every day.
    """

    observations: tuple[str, ...]
    variable: str = "sla_filtered"
    sst: tuple[str, ...] = ()
    latest_production: bool = True
    mdt: str | None = None
    land_mask: str = LAND_COASTLINE

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "observations",
            _string_list(self.observations, "[inputs] observations", allow_empty=False),
        )
        object.__setattr__(self, "sst", _string_list(self.sst, "[inputs] sst", allow_empty=True))
        if not isinstance(self.variable, str) or not self.variable:
            raise ConfigError(
                f"[inputs] variable: expected a variable name such as 'sla_filtered' "
                f"or 'adt', got {self.variable!r}"
            )
        if not isinstance(self.latest_production, bool):
            raise ConfigError(
                f"[inputs] latest_production: expected true or false, "
                f"got {self.latest_production!r}"
            )
        if self.mdt is not None and (not isinstance(self.mdt, str) or not self.mdt):
            raise ConfigError(f"[inputs] mdt: expected an MDT file path, got {self.mdt!r}")
        if not isinstance(self.land_mask, str) or not self.land_mask.strip():
            raise ConfigError(
                f"[inputs] land_mask: expected {LAND_COASTLINE!r} (the GSHHG coastline), "
                f"{LAND_NONE!r} (no land mask) or a land mask file path, got {self.land_mask!r}"
            )


@dataclass(frozen=True)
class RunReconstruct:
    """One ``[[reconstruct]]`` table: a mapping method run on the daily cubes.

    Attributes
    ----------
    name
        Names the maps folder (``maps/<name>/``) and the scores; unique.
    method
        ``"4dvarnet"`` (needs ``checkpoint``) or ``"oi"``.
    checkpoint
        A checkpoint file (relative to the TOML file's folder) for 4dvarnet.
    device
        ``"auto"``, ``"cpu"`` or ``"cuda"``; on a dask cluster ``"auto"`` uses
        the worker's own GPU when it has one.
    halo_days
        Days of observations used on each side of the days mapped. Default:
        half the checkpoint's tile length for 4dvarnet; for OI the reach of
        its observation window, ``OIConfig.time_window * OIConfig.lt`` (14).
    block_days
        Days mapped by one reconstruction call (one dask task); blocks are
        aligned on the grid's first day, so a serial and a distributed run do
        the same calls. Default 30.
    oi
        For ``method = "oi"``: the :class:`OIConfig` fields to change, as an
        inline table (``oi = { lx = 1.5, lt = 10.0 }``); defaults otherwise.
    """

    name: str
    method: str = "4dvarnet"
    checkpoint: str | None = None
    device: str = "auto"
    halo_days: int | None = None
    block_days: int = 30
    oi: OIConfig | None = None

    def __post_init__(self) -> None:
        plain = self.name.replace("-", "").replace("_", "") if isinstance(self.name, str) else ""
        if not plain.isalnum():
            raise ConfigError(
                f"[[reconstruct]] name: expected letters, digits, '-' or '_', got {self.name!r}"
            )
        where = f"[[reconstruct]] {self.name}"
        if self.method not in RUN_METHODS:
            raise ConfigError(
                f"{where}: method: expected one of {list(RUN_METHODS)}, got {self.method!r}"
            )
        if self.method == "4dvarnet" and not self.checkpoint:
            raise ConfigError(f"{where}: checkpoint: expected a checkpoint file for 4dvarnet")
        if self.checkpoint is not None and not isinstance(self.checkpoint, str):
            raise ConfigError(f"{where}: checkpoint: expected a path, got {self.checkpoint!r}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ConfigError(
                f"{where}: device: expected 'auto', 'cpu' or 'cuda', got {self.device!r}"
            )
        if self.halo_days is not None:
            _check_int(self.halo_days, f"{where}: halo_days", minimum=0)
        _check_int(self.block_days, f"{where}: block_days")
        if self.oi is not None:
            if self.method != "oi" or not isinstance(self.oi, (dict, OIConfig)):
                raise ConfigError(f"{where}: oi: expected a table of OI settings for method 'oi'")
            if isinstance(self.oi, dict):
                try:
                    oi = from_mapping(OIConfig, self.oi, "oi")
                except ConfigError as exc:
                    raise ConfigError(f"{where}: {exc}") from None
                object.__setattr__(self, "oi", oi)


@dataclass(frozen=True)
class RunScore:
    """The optional ``[score]`` table: score every method's maps.

    Attributes
    ----------
    truth
        A truth file (OSSE; contract: ``ssh`` in metres on a daily grid).
    tracks
        Withheld along-track files or patterns (OSE), used when no truth is given.
    """

    truth: str | None = None
    tracks: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        tracks = _string_list(self.tracks, "[score] tracks", allow_empty=True)
        object.__setattr__(self, "tracks", tracks)
        if self.truth is not None and (not isinstance(self.truth, str) or not self.truth):
            raise ConfigError(f"[score] truth: expected a file path, got {self.truth!r}")
        if self.truth is None and not self.tracks:
            raise ConfigError("[score]: expected 'truth' (a file) or 'tracks' (a list of files)")


@dataclass(frozen=True)
class RunDask:
    """The optional ``[dask]`` table: scale gridding and reconstruction out.

    Attributes
    ----------
    scheduler
        Address of a running dask.distributed scheduler (``"tcp://host:8786"``).
    workers
        With no scheduler: start a LocalCluster of this many single-threaded
        worker processes. 0 (default) runs everything in this process.
    """

    scheduler: str | None = None
    workers: int = 0

    def __post_init__(self) -> None:
        if self.scheduler is not None and (
            not isinstance(self.scheduler, str) or "://" not in self.scheduler
        ):
            raise ConfigError(
                f"[dask] scheduler: expected an address such as 'tcp://host:8786', "
                f"got {self.scheduler!r}"
            )
        _check_int(self.workers, "[dask] workers", minimum=0)
        if self.scheduler is None and self.workers > cpu_count():
            raise ConfigError(
                f"[dask] workers: expected at most {cpu_count()} (the CPUs of this machine) "
                f"for a local cluster, got {self.workers}"
            )

    @property
    def distributed(self) -> bool:
        """Whether work goes to a dask.distributed cluster."""
        return self.scheduler is not None or self.workers > 0


def resolve_day(value: Any, key: str, today: np.datetime64) -> str:
    """An ISO date, or ``"today"``/``"today-N"``/``"today+N"`` (days, UTC), as ``YYYY-MM-DD``."""
    import re

    if isinstance(value, str):
        match = re.fullmatch(r"today(?:\s*([+-])\s*(\d+))?", value.strip())
        if match:
            offset = int(match.group(2) or 0) * (-1 if match.group(1) == "-" else 1)
            return str(today.astype("datetime64[D]") + np.timedelta64(offset, "D"))
    if hasattr(value, "isoformat"):  # a TOML date
        value = value.isoformat()
    try:
        return str(np.datetime64(str(value), "D"))
    except ValueError:
        raise ConfigError(
            f"{key}: expected an ISO date (YYYY-MM-DD), 'today' or 'today-N', got {value!r}"
        ) from None


@dataclass(frozen=True)
class RunConfig:
    """A whole pipeline TOML (``oceaninterp run``): ingest -> grid -> reconstruct -> score.

    Attributes
    ----------
    pipeline, inputs, reconstruct, score, dask
        The tables of the same names (``[[reconstruct]]`` is a list).
    grid
        The ``[grid]`` table: the daily grid of the cubes and maps, with
        ``start``/``end`` resolved to dates (they may be written ``"today-N"``).
    base_dir
        The TOML file's folder: relative paths in the file are relative to it.
    """

    pipeline: RunPipeline
    inputs: RunInputs
    grid: GridSpec
    reconstruct: tuple[RunReconstruct, ...]
    score: RunScore | None
    dask: RunDask
    base_dir: str

    @classmethod
    def from_toml(cls, path: str | Any, *, today: np.datetime64 | None = None) -> RunConfig:
        """Load and validate a pipeline TOML file.

        Parameters
        ----------
        path
            The TOML file.
        today
            The day ``"today"`` means in ``[grid] start/end`` (default: the
            current UTC day).
        """
        path = Path(path)
        data = load_toml(path, "pipeline file")
        return cls.from_mapping(data, base_dir=path.resolve().parent, today=today)

    @classmethod
    def from_mapping(
        cls, data: dict[str, Any], *, base_dir: Any, today: np.datetime64 | None = None
    ) -> RunConfig:
        """Validate a parsed pipeline TOML (see :meth:`from_toml`)."""
        known = {"pipeline", "inputs", "grid", "reconstruct", "score", "dask"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown table(s) {unknown}; expected some of {sorted(known)}")
        for table in ("pipeline", "inputs", "grid"):
            if not isinstance(data.get(table), dict):
                raise ConfigError(f"[{table}]: missing table")
        today = np.datetime64("today", "D") if today is None else today.astype("datetime64[D]")
        grid = dict(data["grid"])
        for key in ("start", "end"):
            if key in grid:
                grid[key] = resolve_day(grid[key], f"[grid] {key}", today)
        try:
            grid_spec = from_mapping(GridSpec, grid, "grid")
        except ConfigError as exc:
            message = str(exc)
            raise ConfigError(message if message.startswith("[") else f"[grid] {message}") from None
        tables = data.get("reconstruct", [])
        if isinstance(tables, dict):
            tables = [tables]
        if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
            raise ConfigError("[[reconstruct]]: expected an array of tables")
        reconstruct = tuple(from_mapping(RunReconstruct, t, "[reconstruct]") for t in tables)
        names = [r.name for r in reconstruct]
        if len(set(names)) != len(names):
            raise ConfigError(f"[[reconstruct]] name: expected unique names, got {names}")
        score = data.get("score")
        land_mask = data["inputs"].get("land_mask", LAND_COASTLINE)
        if not isinstance(land_mask, str):  # e.g. `land_mask = false`: say what is expected
            raise ConfigError(
                f"[inputs] land_mask: expected {LAND_COASTLINE!r} (the GSHHG coastline), "
                f"{LAND_NONE!r} (no land mask) or a land mask file path, got {land_mask!r}"
            )
        return cls(
            pipeline=from_mapping(RunPipeline, data["pipeline"], "pipeline"),
            inputs=from_mapping(RunInputs, data["inputs"], "inputs"),
            grid=grid_spec,
            reconstruct=reconstruct,
            score=None if score is None else from_mapping(RunScore, score, "score"),
            dask=from_mapping(RunDask, data.get("dask", {}), "dask"),
            base_dir=str(base_dir),
        )

    def path(self, value: str) -> Any:
        """``value`` as an absolute :class:`~pathlib.Path`, relative to :attr:`base_dir`."""
        from pathlib import Path

        return (Path(self.base_dir) / Path(value).expanduser()).resolve()

    def land_mask_file(self) -> Any:
        """The ``[inputs] land_mask`` file as an absolute path; ``None`` for coastline/none."""
        if self.inputs.land_mask in (LAND_COASTLINE, LAND_NONE):
            return None
        return self.path(self.inputs.land_mask)


@dataclass(frozen=True)
class TileSpec:
    """How ``oceaninterp reconstruct`` covers a cube with overlapping tiles.

    The tile length in time is the checkpoint's (days are the channels of the
    network). The network is convolutional, so its spatial tile at inference
    may be larger than the training tile: by default it is the whole domain
    (rounded up to a multiple of 4), up to ``max_space_tile`` pixels, and never
    smaller than the training tile. Tiles are merged by ``sum(w * pred) /
    sum(w)`` with a triangle weight in time (1 on the centre day) and zero
    weight on ``border`` pixels of each tile side inside the domain
    (:mod:`oceaninterp.tiling`).

    Measured (mu over the last 55 days of a synthetic Gulf Stream year at
    1/10 deg, 100 x 100 px, with a model trained on 48-px tiles of its first
    255 days; the synthetic OSSE of ``benchmarks/reconstruct_bench.py``):
    the reference's tiling (48-px tiles every day, no margin) 0.812; 48-px
    tiles every 3 days with the margin 0.860; the defaults (one 120-px tile
    every 3 days, 10-px margin) 0.880, with a margin of 0 / 4 / 20 px 0.823 /
    0.876 / 0.879, every 1 / 5 days 0.881 / 0.875.

    Attributes
    ----------
    time_stride
        Days between consecutive tile starts. The reference runs one tile per
        output day (1); each output day is then computed ``tile_time`` times.
        Default 3: a third of the tiles for 0.001 less mu than 1.
    latitude, longitude
        Spatial tile size in pixels (multiples of 4); ``None``: automatic (see
        above).
    max_space_tile
        Largest automatic spatial tile, pixels (a multiple of 4). Default 256.
    space_stride
        Pixels between tile starts in latitude and longitude; ``None``: tile
        size minus twice the border (the crops just meet).
    border
        Pixels of zero merge weight at tile sides inside the domain; ``None``:
        a twelfth of the tile size (the reference's 20 of 240).
    margin
        Unobserved pixels added around the domain in latitude and longitude,
        so that no map edge lies on a tile edge, where the network's
        convolutions see zero padding; ``None``: the border.
    time_window
        Days of observations held in memory at once (tiles are streamed over
        time and merged days are written as soon as no later tile touches
        them); at least the tile length. ``None``: 60 days, fewer on large
        grids so that one window of the grid is at most 2**28 cells (1 GiB of
        float32; memory is about three such windows: observations, weighted
        sum, weights), never fewer than the tile length.
    """

    time_stride: int = 3
    latitude: int | None = None
    longitude: int | None = None
    max_space_tile: int = 256
    space_stride: int | None = None
    border: int | None = None
    margin: int | None = None
    time_window: int | None = None

    def __post_init__(self) -> None:
        optional = ("latitude", "longitude", "space_stride", "time_window")
        for name in ("time_stride", "max_space_tile", *optional):
            value = getattr(self, name)
            if value is not None or name not in optional:
                _check_int(value, name)
        for name in ("latitude", "longitude", "max_space_tile"):
            value = getattr(self, name)
            if value is not None and value % 4:
                raise ConfigError(f"{name}: expected a multiple of 4 pixels, got {value!r}")
        for name in ("border", "margin"):
            if getattr(self, name) is not None:
                _check_int(getattr(self, name), name, minimum=0)

    def resolve(
        self, tile: dict[str, int], shape: dict[str, int] | None = None
    ) -> tuple[dict[str, int], dict[str, int], dict[str, int], dict[str, int]]:
        """Tile sizes, strides, borders and domain margins by dimension.

        Parameters
        ----------
        tile
            The checkpoint's training tile, ``{"time": T, "latitude": H, "longitude": W}``.
        shape
            The domain's sizes by dimension (cells), for the automatic spatial
            tile; ``None``: the training tile is used.

        Returns
        -------
        (size, stride, border, margin)
            Dicts keyed by ``time``, ``latitude``, ``longitude`` (cells); the
            margin is 0 in time.
        """
        if self.time_window is not None and self.time_window < int(tile["time"]):
            raise ConfigError(
                f"time_window: expected at least the tile length {tile['time']} days, "
                f"got {self.time_window}"
            )
        if self.time_stride > int(tile["time"]):
            raise ConfigError(
                f"time_stride: {self.time_stride} days would skip days between "
                f"{tile['time']}-day tiles"
            )
        size, stride = {"time": int(tile["time"])}, {"time": self.time_stride}
        border, margin = {"time": 0}, {"time": 0}
        for dim in ("latitude", "longitude"):
            explicit = getattr(self, dim)
            if explicit is not None:
                size[dim] = explicit
            elif shape is None:
                size[dim] = int(tile[dim])
            else:  # the smallest multiple of 4 holding the domain and its margins
                size[dim] = max(int(tile[dim]), -(-int(shape[dim]) // 4) * 4)
                while size[dim] < self.max_space_tile and size[dim] < int(shape[dim]) + 2 * (
                    self._border(size[dim]) if self.margin is None else self.margin
                ):
                    size[dim] += 4
                size[dim] = min(size[dim], max(self.max_space_tile, int(tile[dim])))
            border[dim] = self._border(size[dim])
            margin[dim] = border[dim] if self.margin is None else self.margin
            core = size[dim] - 2 * border[dim]
            if core < 1:
                raise ConfigError(
                    f"border: {border[dim]} pixels leave nothing of a {size[dim]}-pixel tile"
                )
            stride[dim] = core if self.space_stride is None else self.space_stride
            if stride[dim] > core:
                raise ConfigError(
                    f"space_stride: {stride[dim]} pixels leave gaps between tiles of "
                    f"{size[dim]} pixels with a {border[dim]}-pixel border (at most {core})"
                )
        return size, stride, border, margin

    def window_days(self, tile_time: int, cells_per_day: int) -> int:
        """Days held in memory at once for a grid of ``cells_per_day`` cells (``time_window``)."""
        if self.time_window is not None:
            return self.time_window
        return max(tile_time, min(60, 2**28 // max(1, cells_per_day)))

    def _border(self, size: int) -> int:
        return size // 12 if self.border is None else self.border


@dataclass(frozen=True)
class OIConfig:
    """Parameters of the DUACS-like optimal interpolation (:mod:`oceaninterp.oi`).

    The prior covariance between two points is
    ``signal_std**2 * exp(-(dt/lt)**2 - (dlon/lx)**2 - (dlat/ly)**2)``
    (the baseline OI of the SSH-mapping data challenges, whose covariance has
    unit amplitude: ``signal_std = 1`` m reproduces it).

    Attributes
    ----------
    lx, ly
        Correlation lengths in degrees of longitude / latitude (plain degree
        differences, as in the data challenge).
    lt
        Correlation time in days.
    noise
        Standard deviation of the noise of one raw observation, metres; a cube
        cell averaging ``count`` observations gets variance ``noise**2 / count``.
    signal_std
        Prior standard deviation of the SSH anomaly, metres. ``None`` (the
        default) estimates a smoothed map of it from the observations
        (:func:`oceaninterp.oi.signal_std_map`), as DUACS; a number keeps it
        uniform (1 m is the data challenge's unit covariance). Only the ratio
        ``noise / signal_std`` changes the map; the formal error scales with it.
    time_window
        Observations are used within ``+/- time_window * lt`` days of the output
        days (strict inequality, as in the data challenge).
    space_cutoff
        Observations farther than ``space_cutoff * lx`` (longitude) or
        ``space_cutoff * ly`` (latitude) from an output block are ignored.
    block_days
        Output days solved together (one Cholesky factorisation per block).
    block_deg
        Edge of the spatial output blocks, degrees; ``None`` picks the block
        count per axis that minimises the estimated factorisation cost.
    superobs
        Observations of one day are averaged (count-weighted) in boxes of about
        ``superobs * min(lx, ly)`` degrees before the analysis; boxes smaller
        than two cube cells leave the cube untouched; 0 disables.
    error_step
        The formal error is computed exactly on a sub-lattice spaced by about
        ``error_step * (lt, ly, lx)`` and linearly interpolated to every cell;
        0 computes it at every cell (slow).
    dtype
        ``"float64"`` or ``"float32"`` for the linear algebra.
    batch_bytes
        Memory budget, bytes, for one batch of covariance matrices.
    """

    lx: float = 1.0
    ly: float = 1.0
    lt: float = 7.0
    noise: float = 0.05
    signal_std: float | None = None
    time_window: float = 2.0
    space_cutoff: float = 3.0
    block_days: int = 14
    block_deg: float | None = None
    superobs: float = 0.2
    error_step: float = 0.5
    dtype: str = "float64"
    batch_bytes: int = 512 * 2**20

    def __post_init__(self) -> None:
        for name in ("lx", "ly", "lt", "noise", "time_window", "space_cutoff"):
            _check_number(getattr(self, name), f"oi.{name}")
        if self.signal_std is not None:
            _check_number(self.signal_std, "oi.signal_std")
        _check_int(self.block_days, "oi.block_days")
        if self.block_deg is not None:
            _check_number(self.block_deg, "oi.block_deg")
        for name in ("superobs", "error_step"):
            _check_number(getattr(self, name), f"oi.{name}", positive=False)
        if self.dtype not in ("float64", "float32"):
            raise ConfigError(f"oi.dtype: expected 'float64' or 'float32', got {self.dtype!r}")
        _check_number(self.batch_bytes, "oi.batch_bytes")
